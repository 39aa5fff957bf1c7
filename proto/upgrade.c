/* Caffe's upgrade-on-read of legacy nets and solvers (see upgrade.h).
 *
 * Every upgrade runs in two phases: "prepare" checks the input and makes all
 * allocations (nothing in the message changes, so an error leaves it intact),
 * then "commit" only moves pointers between the old and the new messages and
 * frees what became empty. Sub-messages are moved, never copied, so positions
 * recorded for them in a CliffSrcMap stay valid. */
#include "upgrade.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---- */

#define V1T(x) CLIFF__V1_LAYER_PARAMETER__LAYER_TYPE__##x
static const struct {
    int value;
    const char *name;
} v1_type_names[] = {
    {V1T(NONE), ""},
    {V1T(ABSVAL), "AbsVal"},
    {V1T(ACCURACY), "Accuracy"},
    {V1T(ARGMAX), "ArgMax"},
    {V1T(BNLL), "BNLL"},
    {V1T(CONCAT), "Concat"},
    {V1T(CONTRASTIVE_LOSS), "ContrastiveLoss"},
    {V1T(CONVOLUTION), "Convolution"},
    {V1T(DECONVOLUTION), "Deconvolution"},
    {V1T(DATA), "Data"},
    {V1T(DROPOUT), "Dropout"},
    {V1T(DUMMY_DATA), "DummyData"},
    {V1T(EUCLIDEAN_LOSS), "EuclideanLoss"},
    {V1T(ELTWISE), "Eltwise"},
    {V1T(EXP), "Exp"},
    {V1T(FLATTEN), "Flatten"},
    {V1T(HDF5_DATA), "HDF5Data"},
    {V1T(HDF5_OUTPUT), "HDF5Output"},
    {V1T(HINGE_LOSS), "HingeLoss"},
    {V1T(IM2COL), "Im2col"},
    {V1T(IMAGE_DATA), "ImageData"},
    {V1T(INFOGAIN_LOSS), "InfogainLoss"},
    {V1T(INNER_PRODUCT), "InnerProduct"},
    {V1T(LRN), "LRN"},
    {V1T(MEMORY_DATA), "MemoryData"},
    {V1T(MULTINOMIAL_LOGISTIC_LOSS), "MultinomialLogisticLoss"},
    {V1T(MVN), "MVN"},
    {V1T(POOLING), "Pooling"},
    {V1T(POWER), "Power"},
    {V1T(RELU), "ReLU"},
    {V1T(SIGMOID), "Sigmoid"},
    {V1T(SIGMOID_CROSS_ENTROPY_LOSS), "SigmoidCrossEntropyLoss"},
    {V1T(SILENCE), "Silence"},
    {V1T(SOFTMAX), "Softmax"},
    {V1T(SOFTMAX_LOSS), "SoftmaxWithLoss"},
    {V1T(SPLIT), "Split"},
    {V1T(SLICE), "Slice"},
    {V1T(TANH), "TanH"},
    {V1T(WINDOW_DATA), "WindowData"},
    {V1T(THRESHOLD), "Threshold"},
};

const char *cliff_v1_layer_type_name(int v1_type)
{
    for (size_t i = 0; i < sizeof v1_type_names / sizeof v1_type_names[0]; i++)
        if (v1_type_names[i].value == v1_type) return v1_type_names[i].name;
    return NULL;
}

const char *cliff_solver_type_name(int solver_type)
{
    switch (solver_type) {
    case CLIFF__SOLVER_PARAMETER__SOLVER_TYPE__SGD: return "SGD";
    case CLIFF__SOLVER_PARAMETER__SOLVER_TYPE__NESTEROV: return "Nesterov";
    case CLIFF__SOLVER_PARAMETER__SOLVER_TYPE__ADAGRAD: return "AdaGrad";
    case CLIFF__SOLVER_PARAMETER__SOLVER_TYPE__RMSPROP: return "RMSProp";
    case CLIFF__SOLVER_PARAMETER__SOLVER_TYPE__ADADELTA: return "AdaDelta";
    case CLIFF__SOLVER_PARAMETER__SOLVER_TYPE__ADAM: return "Adam";
    default: return NULL;
    }
}

/* ---- helpers ---- */

/* Fills err, prefixed with msg's position when map knows it. Returns -1. */
static int pos_error(const CliffSrcMap *map, const void *msg, CliffError *err, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static int pos_error(const CliffSrcMap *map, const void *msg, CliffError *err, const char *fmt,
                     ...)
{
    char text[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    CliffSrcPos pos;
    if (msg && cliff_srcmap_find(map, msg, &pos) == 0)
        return cliff_error_set(err, "%s:%d:%d: error: %s", pos.file, pos.line, pos.col, text);
    return cliff_error_set(err, "%s", text);
}

static void *new_msg(const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = malloc(desc->sizeof_message);
    if (m) protobuf_c_message_init(desc, m);
    return m;
}

static void free_msg(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

/* Moves a repeated field (count + array) from src to dst, leaving src empty. */
#define MOVE_REP(dst, src, f)                                                        \
    do {                                                                             \
        (dst)->n_##f = (src)->n_##f;                                                 \
        (dst)->f = (src)->f;                                                         \
        (src)->n_##f = 0;                                                            \
        (src)->f = NULL;                                                             \
    } while (0)

static const char *v1_label(const Cliff__V1LayerParameter *v1)
{
    return v1->name ? v1->name : "";
}

/* ---- data transformation (Caffe's UpgradeNetDataTransformation) ---- */

/* Does V1 layer v1 carry deprecated preprocessing fields in its data param? */
static int v1_needs_transform(const Cliff__V1LayerParameter *v1)
{
#define HAS_OLD_TRANSFORM(p) ((p) && ((p)->has_scale || (p)->mean_file || (p)->has_crop_size || (p)->has_mirror))
    if (!v1->has_type) return 0;
    switch (v1->type) {
    case V1T(DATA): return HAS_OLD_TRANSFORM(v1->data_param);
    case V1T(IMAGE_DATA): return HAS_OLD_TRANSFORM(v1->image_data_param);
    case V1T(WINDOW_DATA): return HAS_OLD_TRANSFORM(v1->window_data_param);
    default: return 0;
    }
#undef HAS_OLD_TRANSFORM
}

/* Moves the deprecated fields of data param p into transform param t (values in
 * p override those already in t, as in Caffe) and resets them in p. */
#define MOVE_OLD_TRANSFORM(p, t)                                                     \
    do {                                                                             \
        if ((p)->has_scale) {                                                        \
            (t)->has_scale = 1, (t)->scale = (p)->scale;                             \
            (p)->has_scale = 0, (p)->scale = 1;                                      \
        }                                                                            \
        if ((p)->mean_file) {                                                        \
            free((t)->mean_file);                                                    \
            (t)->mean_file = (p)->mean_file;                                         \
            (p)->mean_file = NULL;                                                   \
        }                                                                            \
        if ((p)->has_crop_size) {                                                    \
            (t)->has_crop_size = 1, (t)->crop_size = (p)->crop_size;                 \
            (p)->has_crop_size = 0, (p)->crop_size = 0;                              \
        }                                                                            \
        if ((p)->has_mirror) {                                                       \
            (t)->has_mirror = 1, (t)->mirror = (p)->mirror;                          \
            (p)->has_mirror = 0, (p)->mirror = 0;                                    \
        }                                                                            \
    } while (0)

/* Commit step; v1->transform_param must exist when v1_needs_transform(v1). */
static void v1_move_transform(Cliff__V1LayerParameter *v1)
{
    if (!v1_needs_transform(v1)) return;
    Cliff__TransformationParameter *t = v1->transform_param;
    switch (v1->type) {
    case V1T(DATA): MOVE_OLD_TRANSFORM(v1->data_param, t); break;
    case V1T(IMAGE_DATA): MOVE_OLD_TRANSFORM(v1->image_data_param, t); break;
    case V1T(WINDOW_DATA): MOVE_OLD_TRANSFORM(v1->window_data_param, t); break;
    default: break;
    }
}

/* ---- V1 -> LayerParameter (Caffe's UpgradeV1Net / UpgradeV1LayerParameter) ---- */

static size_t v1_param_count(const Cliff__V1LayerParameter *v1)
{
    size_t n = v1->n_param;
    if (v1->n_blob_share_mode > n) n = v1->n_blob_share_mode;
    if (v1->n_blobs_lr > n) n = v1->n_blobs_lr;
    if (v1->n_weight_decay > n) n = v1->n_weight_decay;
    return n;
}

/* Every optional message field of V1LayerParameter except the V0 `layer` has a
 * field of the same name and type in LayerParameter (the *_param messages);
 * these are moved by descriptor so no field can be forgotten. Returns -1 if
 * the schema ever breaks that rule. */
static int for_each_moved_submsg(Cliff__V1LayerParameter *v1, Cliff__LayerParameter *lp,
                                 int commit)
{
    const ProtobufCMessageDescriptor *vd = &cliff__v1_layer_parameter__descriptor;
    const ProtobufCMessageDescriptor *ld = &cliff__layer_parameter__descriptor;
    for (unsigned i = 0; i < vd->n_fields; i++) {
        const ProtobufCFieldDescriptor *vf = &vd->fields[i];
        if (vf->type != PROTOBUF_C_TYPE_MESSAGE || vf->label == PROTOBUF_C_LABEL_REPEATED)
            continue;
        if (strcmp(vf->name, "layer") == 0) continue; /* V0: rejected earlier */
        const ProtobufCFieldDescriptor *lf = protobuf_c_message_descriptor_get_field_by_name(ld, vf->name);
        if (!lf || lf->type != PROTOBUF_C_TYPE_MESSAGE || lf->descriptor != vf->descriptor ||
            lf->label == PROTOBUF_C_LABEL_REPEATED)
            return -1;
        if (commit) {
            void **from = (void **)((char *)v1 + vf->offset);
            void **to = (void **)((char *)lp + lf->offset);
            if (*from) {
                free_msg(*to);
                *to = *from;
                *from = NULL;
            }
        }
    }
    return 0;
}

/* Fills the prepared lp from v1 and empties v1 (pure moves, no allocation).
 * lp->type and lp->param[0..v1_param_count) were allocated by the caller. */
static void v1_commit_layer(Cliff__V1LayerParameter *v1, Cliff__LayerParameter *lp)
{
    v1_move_transform(v1);
    lp->name = v1->name;
    v1->name = NULL;
    MOVE_REP(lp, v1, bottom);
    MOVE_REP(lp, v1, top);
    MOVE_REP(lp, v1, include);
    MOVE_REP(lp, v1, exclude);
    MOVE_REP(lp, v1, blobs);
    MOVE_REP(lp, v1, loss_weight);
    for (size_t i = 0; i < v1->n_param; i++) {
        lp->param[i]->name = v1->param[i];
        v1->param[i] = NULL;
    }
    for (size_t i = 0; i < v1->n_blob_share_mode; i++) {
        lp->param[i]->has_share_mode = 1;
        lp->param[i]->share_mode = v1->blob_share_mode[i] == CLIFF__V1_LAYER_PARAMETER__DIM_CHECK_MODE__PERMISSIVE
                                       ? CLIFF__PARAM_SPEC__DIM_CHECK_MODE__PERMISSIVE
                                       : CLIFF__PARAM_SPEC__DIM_CHECK_MODE__STRICT;
    }
    for (size_t i = 0; i < v1->n_blobs_lr; i++) {
        lp->param[i]->has_lr_mult = 1;
        lp->param[i]->lr_mult = v1->blobs_lr[i];
    }
    for (size_t i = 0; i < v1->n_weight_decay; i++) {
        lp->param[i]->has_decay_mult = 1;
        lp->param[i]->decay_mult = v1->weight_decay[i];
    }
    for_each_moved_submsg(v1, lp, 1);
}

/* Allocates the replacement of v1: type string, param specs, and (into *tp)
 * the transform_param the data-transformation upgrade needs. */
static Cliff__LayerParameter *v1_prepare_layer(const Cliff__V1LayerParameter *v1,
                                               Cliff__TransformationParameter **tp)
{
    *tp = NULL;
    Cliff__LayerParameter *lp = new_msg(&cliff__layer_parameter__descriptor);
    if (!lp) return NULL;
    if (v1->has_type && !(lp->type = strdup(cliff_v1_layer_type_name(v1->type)))) goto oom;
    size_t np = v1_param_count(v1);
    if (np) {
        if (!(lp->param = calloc(np, sizeof *lp->param))) goto oom;
        for (size_t i = 0; i < np; i++, lp->n_param++)
            if (!(lp->param[i] = new_msg(&cliff__param_spec__descriptor))) goto oom;
    }
    if (v1_needs_transform(v1) && !v1->transform_param &&
        !(*tp = new_msg(&cliff__transformation_parameter__descriptor)))
        goto oom;
    return lp;
oom:
    free_msg(lp); /* frees the type and the ParamSpecs made so far */
    return NULL;
}

static int upgrade_v1(Cliff__NetParameter *net, CliffSrcMap *map, CliffError *err)
{
    size_t n = net->n_layers;
    if (n == 0) return 0;
    if (net->n_layer > 0)
        return pos_error(map, net->layers[0], err,
                         "net mixes `layer` entries with legacy V1 `layers` entries; "
                         "write all layers in one form (`layer { type: \"...\" }`)");
    for (size_t i = 0; i < n; i++) {
        const Cliff__V1LayerParameter *v1 = net->layers[i];
        if (v1->layer)
            return pos_error(map, v1, err,
                             "V0 layer definitions (`layers { layer { ... } }`) are not "
                             "supported; convert the net with Caffe's upgrade_net_proto_text");
        if (v1->has_type && !cliff_v1_layer_type_name(v1->type))
            return pos_error(map, v1, err, "layers '%s': unknown V1 layer type value %d",
                             v1_label(v1), (int)v1->type);
        for (size_t j = 0; j < v1->n_blob_share_mode; j++)
            if (v1->blob_share_mode[j] != CLIFF__V1_LAYER_PARAMETER__DIM_CHECK_MODE__STRICT &&
                v1->blob_share_mode[j] != CLIFF__V1_LAYER_PARAMETER__DIM_CHECK_MODE__PERMISSIVE)
                return pos_error(map, v1, err, "layers '%s': unknown blob_share_mode value %d",
                                 v1_label(v1), (int)v1->blob_share_mode[j]);
    }
    if (for_each_moved_submsg(net->layers[0], NULL, 0) != 0)
        return cliff_error_set(err, "internal: V1LayerParameter has a *_param field that "
                                    "LayerParameter lacks");

    /* prepare */
    Cliff__LayerParameter **arr = calloc(n, sizeof *arr);
    Cliff__TransformationParameter **tps = calloc(n, sizeof *tps);
    if (!arr || !tps) goto oom;
    for (size_t i = 0; i < n; i++)
        if (!(arr[i] = v1_prepare_layer(net->layers[i], &tps[i]))) goto oom;

    /* commit */
    for (size_t i = 0; i < n; i++) {
        Cliff__V1LayerParameter *v1 = net->layers[i];
        if (tps[i]) v1->transform_param = tps[i];
        v1_commit_layer(v1, arr[i]);
        cliff_srcmap_rekey(map, v1, arr[i]);
        free_msg(v1);
    }
    free(tps);
    free(net->layers);
    net->layers = NULL;
    net->n_layers = 0;
    net->layer = arr;
    net->n_layer = n;
    return 0;

oom:
    if (arr)
        for (size_t i = 0; i < n; i++) free_msg(arr[i]);
    if (tps)
        for (size_t i = 0; i < n; i++) free_msg(tps[i]);
    free(arr);
    free(tps);
    return cliff_error_set(err, "out of memory upgrading V1 layers");
}

/* ---- net-level inputs (Caffe's UpgradeNetInput) ---- */

static int upgrade_input(Cliff__NetParameter *net, CliffSrcMap *map, CliffError *err)
{
    size_t n = net->n_input;
    if (n == 0) {
        if (net->n_input_shape || net->n_input_dim)
            return pos_error(map, net, err, "net has input_shape/input_dim but no `input` names");
        return 0;
    }
    int has_shape = net->n_input_shape > 0, has_dim = net->n_input_dim > 0;
    if (has_shape && has_dim)
        return pos_error(map, net, err,
                         "net gives both input_shape and input_dim for its inputs; use one");
    if (has_shape && net->n_input_shape != n)
        return pos_error(map, net, err, "net has %zu inputs but %zu input_shape entries", n,
                         net->n_input_shape);
    if (has_dim && net->n_input_dim != 4 * n)
        return pos_error(map, net, err,
                         "net has %zu inputs but %zu input_dim values (4 per input expected)", n,
                         net->n_input_dim);

    if (!has_shape && !has_dim) {
        /* A legacy .caffemodel names its inputs without shapes: just drop them. */
        for (size_t i = 0; i < n; i++) free(net->input[i]);
        free(net->input);
        net->input = NULL;
        net->n_input = 0;
        return 0;
    }

    /* prepare */
    Cliff__LayerParameter *lp = new_msg(&cliff__layer_parameter__descriptor);
    Cliff__InputParameter *ip = new_msg(&cliff__input_parameter__descriptor);
    Cliff__LayerParameter **arr = calloc(net->n_layer + 1, sizeof *arr);
    Cliff__BlobShape **shapes = NULL;
    if (!lp || !ip || !arr || !(lp->name = strdup("input")) || !(lp->type = strdup("Input")))
        goto oom;
    if (has_dim) {
        if (!(shapes = calloc(n, sizeof *shapes))) goto oom;
        for (size_t i = 0; i < n; i++) {
            if (!(shapes[i] = new_msg(&cliff__blob_shape__descriptor))) goto oom;
            if (!(shapes[i]->dim = malloc(4 * sizeof *shapes[i]->dim))) goto oom;
            shapes[i]->n_dim = 4;
            for (int j = 0; j < 4; j++) shapes[i]->dim[j] = net->input_dim[4 * i + j];
        }
    }

    /* commit */
    CliffSrcPos pos;
    const void *where = has_shape ? (const void *)net->input_shape[0] : (const void *)net;
    int have_pos = cliff_srcmap_find(map, where, &pos) == 0;
    lp->n_top = n;
    lp->top = net->input;
    net->n_input = 0;
    net->input = NULL;
    ip->n_shape = n;
    if (has_shape) {
        ip->shape = net->input_shape; /* moved: their positions stay valid */
        net->n_input_shape = 0;
        net->input_shape = NULL;
    } else {
        ip->shape = shapes;
        free(net->input_dim);
        net->n_input_dim = 0;
        net->input_dim = NULL;
    }
    lp->input_param = ip;
    arr[0] = lp; /* in front, so every layer can read the inputs */
    for (size_t i = 0; i < net->n_layer; i++) arr[i + 1] = net->layer[i];
    free(net->layer);
    net->layer = arr;
    net->n_layer++;
    /* Best effort: a missing position only makes a later message less precise. */
    if (have_pos) (void)cliff_srcmap_add(map, lp, pos.file, pos.line, pos.col);
    return 0;

oom:
    if (shapes)
        for (size_t i = 0; i < n; i++) free_msg(shapes[i]);
    free(shapes);
    free(arr);
    free_msg(ip);
    free_msg(lp);
    return cliff_error_set(err, "out of memory upgrading net inputs");
}

/* ---- BatchNorm (Caffe's UpgradeNetBatchNorm) ---- */

/* Old BatchNorm definitions declared three param specs for the layer's
 * statistics blobs; those must never be learned. */
static void upgrade_batchnorm(Cliff__NetParameter *net)
{
    for (size_t i = 0; i < net->n_layer; i++) {
        Cliff__LayerParameter *lp = net->layer[i];
        if (!lp->type || strcmp(lp->type, "BatchNorm") != 0 || lp->n_param != 3) continue;
        for (size_t j = 0; j < 3; j++) {
            lp->param[j]->has_lr_mult = 1;
            lp->param[j]->lr_mult = 0.0f;
            lp->param[j]->has_decay_mult = 1;
            lp->param[j]->decay_mult = 0.0f;
        }
    }
}

int cliff_upgrade_net(Cliff__NetParameter *net, CliffSrcMap *map, CliffError *err)
{
    /* Data transformation happens inside upgrade_v1 (it only concerns V1 layers). */
    if (upgrade_v1(net, map, err) != 0) return -1;
    if (upgrade_input(net, map, err) != 0) return -1;
    upgrade_batchnorm(net);
    return 0;
}

/* ---- solver (Caffe's UpgradeSolverType) ---- */

int cliff_upgrade_solver(Cliff__SolverParameter *s, CliffError *err)
{
    if (!s->has_solver_type) return 0;
    const char *name = cliff_solver_type_name(s->solver_type);
    if (!name) return cliff_error_set(err, "unknown solver_type value %d", (int)s->solver_type);
    /* protobuf-c marks an unset string with a default by pointing at the default. */
    int type_set = s->type && s->type != cliff__solver_parameter__type__default_value;
    if (type_set && strcmp(s->type, name) != 0) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &cliff__solver_parameter__solver_type__descriptor, s->solver_type);
        return cliff_error_set(err,
                               "solver sets both the deprecated solver_type: %s and type: \"%s\", "
                               "which disagree; keep only type",
                               v ? v->name : "?", s->type);
    }
    if (!type_set) {
        char *t = strdup(name);
        if (!t) return cliff_error_set(err, "out of memory upgrading solver_type");
        s->type = t;
    }
    s->has_solver_type = 0;
    s->solver_type = CLIFF__SOLVER_PARAMETER__SOLVER_TYPE__SGD;
    return 0;
}
