/* Upgrade of Caffe's legacy forms (proto/upgrade.h), checked field by field on
 * messages built in C: a V1 LeNet as Caffe's old examples wrote it, net-level
 * inputs, BatchNorm param specs, solver_type. Expected values follow Caffe's
 * upgrade_proto.cpp (UpgradeV1LayerParameter, UpgradeNetInput, ...). Every
 * result is freed with protobuf_c_message_free_unpacked, so ASan checks that
 * the upgrade left a well-formed, singly-owned message. The last tests read
 * prototxt with the text reader: Caffe's own V1 LeNet must upgrade to exactly
 * Caffe's current LeNet (tests/caffe/), and errors must point at the text. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/textformat.h"
#include "proto/upgrade.h"

/* ---- builders (default allocator, as the readers produce) ---- */

static void *msg(const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = malloc(d->sizeof_message);
    protobuf_c_message_init(d, m);
    return m;
}

static void push_str(char ***arr, size_t *n, const char *s)
{
    *arr = realloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = strdup(s);
}

static void push_f(float **arr, size_t *n, float v)
{
    *arr = realloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = v;
}

static void push_u(uint32_t **arr, size_t *n, uint32_t v)
{
    *arr = realloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = v;
}

static void push_i(int32_t **arr, size_t *n, int32_t v)
{
    *arr = realloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = v;
}

static void push_ptr(void ***arr, size_t *n, void *p)
{
    *arr = realloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = p;
}

static Cliff__FillerParameter *filler(const char *type)
{
    Cliff__FillerParameter *f = msg(&cliff__filler_parameter__descriptor);
    f->type = strdup(type);
    return f;
}

static Cliff__NetStateRule *phase_rule(Cliff__Phase ph)
{
    Cliff__NetStateRule *r = msg(&cliff__net_state_rule__descriptor);
    r->has_phase = 1;
    r->phase = ph;
    return r;
}

/* layers { name type bottom... top... } ; bottoms/tops are "a,b" lists or NULL */
static Cliff__V1LayerParameter *v1(const char *name, int type, const char *bottoms,
                                   const char *tops)
{
    Cliff__V1LayerParameter *l = msg(&cliff__v1_layer_parameter__descriptor);
    l->name = strdup(name);
    l->has_type = 1;
    l->type = type;
    const char *lists[2] = {bottoms, tops};
    for (int k = 0; k < 2; k++) {
        if (!lists[k]) continue;
        char *copy = strdup(lists[k]), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            push_str(k ? &l->top : &l->bottom, k ? &l->n_top : &l->n_bottom, t);
        free(copy);
    }
    return l;
}

static Cliff__ConvolutionParameter *conv(uint32_t nout, uint32_t k)
{
    Cliff__ConvolutionParameter *c = msg(&cliff__convolution_parameter__descriptor);
    c->has_num_output = 1;
    c->num_output = nout;
    push_u(&c->kernel_size, &c->n_kernel_size, k);
    push_u(&c->stride, &c->n_stride, 1);
    c->weight_filler = filler("xavier");
    c->bias_filler = filler("constant");
    return c;
}

static Cliff__PoolingParameter *maxpool(void)
{
    Cliff__PoolingParameter *p = msg(&cliff__pooling_parameter__descriptor);
    p->has_pool = 1;
    p->pool = CLIFF__POOLING_PARAMETER__POOL_METHOD__MAX;
    p->has_kernel_size = 1, p->kernel_size = 2;
    p->has_stride = 1, p->stride = 2;
    return p;
}

static Cliff__InnerProductParameter *ip(uint32_t nout)
{
    Cliff__InnerProductParameter *p = msg(&cliff__inner_product_parameter__descriptor);
    p->has_num_output = 1;
    p->num_output = nout;
    p->weight_filler = filler("xavier");
    p->bias_filler = filler("constant");
    return p;
}

static Cliff__DataParameter *lmdb(const char *source, uint32_t batch)
{
    Cliff__DataParameter *d = msg(&cliff__data_parameter__descriptor);
    d->source = strdup(source);
    d->has_backend = 1;
    d->backend = CLIFF__DATA_PARAMETER__DB__LMDB;
    d->has_batch_size = 1;
    d->batch_size = batch;
    return d;
}

static void lr_decay(Cliff__V1LayerParameter *l, float lr0, float lr1, int with_decay)
{
    push_f(&l->blobs_lr, &l->n_blobs_lr, lr0);
    push_f(&l->blobs_lr, &l->n_blobs_lr, lr1);
    if (with_decay) {
        push_f(&l->weight_decay, &l->n_weight_decay, 1);
        push_f(&l->weight_decay, &l->n_weight_decay, 0);
    }
}

static void add_v1(Cliff__NetParameter *net, Cliff__V1LayerParameter *l)
{
    push_ptr((void ***)&net->layers, &net->n_layers, l);
}

static void add_layer(Cliff__NetParameter *net, const char *name, const char *type)
{
    Cliff__LayerParameter *l = msg(&cliff__layer_parameter__descriptor);
    l->name = strdup(name);
    l->type = strdup(type);
    push_ptr((void ***)&net->layer, &net->n_layer, l);
}

#define T(x) CLIFF__V1_LAYER_PARAMETER__LAYER_TYPE__##x

/* Caffe's examples/mnist/lenet_train_test.prototxt in its V1 form (2014), with
 * weight_decay 1/0 on conv1 and ip1, and the TEST data layer still using the
 * pre-transform_param `data_param { scale }`. */
static Cliff__NetParameter *v1_lenet(void)
{
    Cliff__NetParameter *net = msg(&cliff__net_parameter__descriptor);
    net->name = strdup("LeNet");
    Cliff__V1LayerParameter *l;

    l = v1("mnist", T(DATA), NULL, "data,label");
    l->data_param = lmdb("examples/mnist/mnist_train_lmdb", 64);
    l->transform_param = msg(&cliff__transformation_parameter__descriptor);
    l->transform_param->has_scale = 1;
    l->transform_param->scale = 0.00390625f;
    push_ptr((void ***)&l->include, &l->n_include, phase_rule(CLIFF__PHASE__TRAIN));
    add_v1(net, l);

    l = v1("mnist", T(DATA), NULL, "data,label");
    l->data_param = lmdb("examples/mnist/mnist_test_lmdb", 100);
    l->data_param->has_scale = 1;
    l->data_param->scale = 0.00390625f;
    l->data_param->mean_file = strdup("mean.binaryproto");
    push_ptr((void ***)&l->include, &l->n_include, phase_rule(CLIFF__PHASE__TEST));
    add_v1(net, l);

    l = v1("conv1", T(CONVOLUTION), "data", "conv1");
    lr_decay(l, 1, 2, 1);
    l->convolution_param = conv(20, 5);
    add_v1(net, l);

    l = v1("pool1", T(POOLING), "conv1", "pool1");
    l->pooling_param = maxpool();
    add_v1(net, l);

    l = v1("conv2", T(CONVOLUTION), "pool1", "conv2");
    lr_decay(l, 1, 2, 0);
    l->convolution_param = conv(50, 5);
    add_v1(net, l);

    l = v1("pool2", T(POOLING), "conv2", "pool2");
    l->pooling_param = maxpool();
    add_v1(net, l);

    l = v1("ip1", T(INNER_PRODUCT), "pool2", "ip1");
    lr_decay(l, 1, 2, 1);
    l->inner_product_param = ip(500);
    add_v1(net, l);

    add_v1(net, v1("relu1", T(RELU), "ip1", "ip1"));

    l = v1("ip2", T(INNER_PRODUCT), "ip1", "ip2");
    lr_decay(l, 1, 2, 0);
    l->inner_product_param = ip(10);
    add_v1(net, l);

    l = v1("accuracy", T(ACCURACY), "ip2,label", "accuracy");
    push_ptr((void ***)&l->include, &l->n_include, phase_rule(CLIFF__PHASE__TEST));
    add_v1(net, l);

    add_v1(net, v1("loss", T(SOFTMAX_LOSS), "ip2,label", "loss"));
    return net;
}

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static void test_v1_lenet(void)
{
    Cliff__NetParameter *net = v1_lenet();
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    /* Pretend layers[i] opened at line 10*(i+1); remember sub-message addresses. */
    for (size_t i = 0; i < net->n_layers; i++)
        CHECK(cliff_srcmap_add(&map, net->layers[i], "lenet_v1.prototxt", 10 * (int)(i + 1), 1) == 0);
    const void *conv1_param = net->layers[2]->convolution_param;
    const void *train_include = net->layers[0]->include[0];

    CliffError err = {0};
    CHECK(cliff_upgrade_net(net, &map, &err) == 0);
    CHECK(net->n_layers == 0 && net->layers == NULL);
    CHECK(net->n_layer == 11);
    if (net->n_layer != 11) goto done;

    static const char *names[] = {"mnist", "mnist", "conv1", "pool1", "conv2", "pool2",
                                  "ip1",   "relu1", "ip2",   "accuracy", "loss"};
    static const char *types[] = {"Data",         "Data", "Convolution",  "Pooling",
                                  "Convolution",  "Pooling", "InnerProduct", "ReLU",
                                  "InnerProduct", "Accuracy", "SoftmaxWithLoss"};
    for (size_t i = 0; i < 11; i++) {
        const Cliff__LayerParameter *l = net->layer[i];
        CHECK(streq(l->name, names[i]));
        CHECK(streq(l->type, types[i]));
        CliffSrcPos pos;
        CHECK(cliff_srcmap_find(&map, l, &pos) == 0 && pos.line == 10 * (int)(i + 1) &&
              streq(pos.file, "lenet_v1.prototxt"));
    }

    Cliff__LayerParameter **L = net->layer;
    /* data layers: tops, include phases, backend, batch */
    CHECK(L[0]->n_top == 2 && streq(L[0]->top[0], "data") && streq(L[0]->top[1], "label"));
    CHECK(L[0]->n_bottom == 0);
    CHECK(L[0]->n_include == 1 && L[0]->include[0] == train_include &&
          L[0]->include[0]->phase == CLIFF__PHASE__TRAIN);
    CHECK(L[1]->n_include == 1 && L[1]->include[0]->phase == CLIFF__PHASE__TEST);
    CHECK(L[0]->n_exclude == 0);
    CHECK(L[0]->data_param && L[0]->data_param->batch_size == 64 &&
          L[0]->data_param->backend == CLIFF__DATA_PARAMETER__DB__LMDB &&
          streq(L[0]->data_param->source, "examples/mnist/mnist_train_lmdb"));
    CHECK(L[0]->transform_param && L[0]->transform_param->has_scale &&
          L[0]->transform_param->scale == 0.00390625f);
    /* UpgradeNetDataTransformation: data_param.scale/mean_file moved */
    CHECK(L[1]->data_param && L[1]->data_param->batch_size == 100);
    CHECK(!L[1]->data_param->has_scale && L[1]->data_param->scale == 1.0f);
    CHECK(L[1]->data_param->mean_file == NULL);
    CHECK(L[1]->transform_param && L[1]->transform_param->has_scale &&
          L[1]->transform_param->scale == 0.00390625f &&
          streq(L[1]->transform_param->mean_file, "mean.binaryproto"));
    CHECK(!L[1]->transform_param->has_mirror && !L[1]->transform_param->has_crop_size);

    /* conv1: blobs_lr 1/2 + weight_decay 1/0 -> param { lr_mult decay_mult } x2 */
    CHECK(L[2]->n_bottom == 1 && streq(L[2]->bottom[0], "data"));
    CHECK(L[2]->n_top == 1 && streq(L[2]->top[0], "conv1"));
    CHECK(L[2]->n_param == 2);
    if (L[2]->n_param == 2) {
        CHECK(L[2]->param[0]->has_lr_mult && L[2]->param[0]->lr_mult == 1.0f);
        CHECK(L[2]->param[1]->has_lr_mult && L[2]->param[1]->lr_mult == 2.0f);
        CHECK(L[2]->param[0]->has_decay_mult && L[2]->param[0]->decay_mult == 1.0f);
        CHECK(L[2]->param[1]->has_decay_mult && L[2]->param[1]->decay_mult == 0.0f);
        CHECK(L[2]->param[0]->name == NULL && !L[2]->param[0]->has_share_mode);
    }
    CHECK(L[2]->convolution_param == conv1_param); /* moved, not copied */
    CHECK(L[2]->convolution_param->num_output == 20 && L[2]->convolution_param->n_kernel_size == 1 &&
          L[2]->convolution_param->kernel_size[0] == 5 &&
          streq(L[2]->convolution_param->weight_filler->type, "xavier"));
    /* conv2: blobs_lr only -> decay_mult left unset (default 1) */
    CHECK(L[4]->n_param == 2);
    if (L[4]->n_param == 2) {
        CHECK(L[4]->param[1]->lr_mult == 2.0f && !L[4]->param[1]->has_decay_mult &&
              L[4]->param[1]->decay_mult == 1.0f);
    }
    CHECK(L[4]->convolution_param && L[4]->convolution_param->num_output == 50);
    CHECK(L[3]->pooling_param && L[3]->pooling_param->pool == CLIFF__POOLING_PARAMETER__POOL_METHOD__MAX &&
          L[3]->pooling_param->kernel_size == 2 && L[3]->pooling_param->stride == 2);
    CHECK(L[3]->n_param == 0 && L[3]->param == NULL);
    CHECK(L[6]->inner_product_param && L[6]->inner_product_param->num_output == 500);
    CHECK(L[6]->n_param == 2 && L[6]->param[1]->decay_mult == 0.0f);
    /* in-place relu keeps bottom == top */
    CHECK(L[7]->n_bottom == 1 && L[7]->n_top == 1 && streq(L[7]->bottom[0], "ip1") &&
          streq(L[7]->top[0], "ip1"));
    CHECK(L[8]->inner_product_param && L[8]->inner_product_param->num_output == 10);
    CHECK(L[9]->n_bottom == 2 && streq(L[9]->bottom[1], "label") && L[9]->n_include == 1 &&
          L[9]->include[0]->phase == CLIFF__PHASE__TEST);
    CHECK(L[10]->n_bottom == 2 && L[10]->n_top == 1 && streq(L[10]->top[0], "loss") &&
          L[10]->n_include == 0);
    CHECK(streq(net->name, "LeNet"));

    /* a second upgrade is a no-op */
    CHECK(cliff_upgrade_net(net, &map, &err) == 0 && net->n_layer == 11);
done:
    protobuf_c_message_free_unpacked(&net->base, NULL);
    cliff_srcmap_free(&map);
}

/* param names, blob_share_mode, loss_weight, blobs, NONE, missing type, other params */
static void test_v1_misc_fields(void)
{
    Cliff__NetParameter *net = msg(&cliff__net_parameter__descriptor);
    Cliff__V1LayerParameter *l = v1("shared", T(INNER_PRODUCT), "x", "y");
    push_str(&l->param, &l->n_param, "w_shared");
    push_str(&l->param, &l->n_param, "b_shared");
    l->blob_share_mode = malloc(sizeof *l->blob_share_mode);
    l->n_blob_share_mode = 1;
    l->blob_share_mode[0] = CLIFF__V1_LAYER_PARAMETER__DIM_CHECK_MODE__PERMISSIVE;
    push_f(&l->blobs_lr, &l->n_blobs_lr, 3); /* only the first blob */
    Cliff__BlobProto *b = msg(&cliff__blob_proto__descriptor);
    push_f(&b->data, &b->n_data, 0.5f);
    push_ptr((void ***)&l->blobs, &l->n_blobs, b);
    add_v1(net, l);

    l = v1("lossy", T(EUCLIDEAN_LOSS), "y,t", "l");
    push_f(&l->loss_weight, &l->n_loss_weight, 0.25f);
    l->loss_param = msg(&cliff__loss_parameter__descriptor);
    l->loss_param->has_ignore_label = 1;
    l->loss_param->ignore_label = 7;
    push_ptr((void ***)&l->exclude, &l->n_exclude, phase_rule(CLIFF__PHASE__TEST));
    add_v1(net, l);

    l = v1("none", T(NONE), NULL, NULL);
    add_v1(net, l);
    l = v1("untyped", 0, NULL, NULL);
    l->has_type = 0;
    l->dropout_param = msg(&cliff__dropout_parameter__descriptor);
    l->dropout_param->has_dropout_ratio = 1;
    l->dropout_param->dropout_ratio = 0.3f;
    add_v1(net, l);
    Cliff__V1LayerParameter *img = v1("img", T(IMAGE_DATA), NULL, "d,l");
    img->image_data_param = msg(&cliff__image_data_parameter__descriptor);
    img->image_data_param->has_crop_size = 1, img->image_data_param->crop_size = 28;
    img->image_data_param->has_mirror = 1, img->image_data_param->mirror = 1;
    img->transform_param = msg(&cliff__transformation_parameter__descriptor);
    img->transform_param->has_scale = 1, img->transform_param->scale = 2.0f; /* kept */
    add_v1(net, img);

    CliffError err = {0};
    CHECK(cliff_upgrade_net(net, NULL, &err) == 0);
    CHECK(net->n_layer == 5);
    if (net->n_layer == 5) {
        Cliff__LayerParameter **L = net->layer;
        CHECK(L[0]->n_param == 2);
        if (L[0]->n_param == 2) {
            CHECK(streq(L[0]->param[0]->name, "w_shared") && streq(L[0]->param[1]->name, "b_shared"));
            CHECK(L[0]->param[0]->has_share_mode &&
                  L[0]->param[0]->share_mode == CLIFF__PARAM_SPEC__DIM_CHECK_MODE__PERMISSIVE);
            CHECK(!L[0]->param[1]->has_share_mode);
            CHECK(L[0]->param[0]->has_lr_mult && L[0]->param[0]->lr_mult == 3.0f);
            CHECK(!L[0]->param[1]->has_lr_mult && L[0]->param[1]->lr_mult == 1.0f);
        }
        CHECK(L[0]->n_blobs == 1 && L[0]->blobs[0]->n_data == 1 && L[0]->blobs[0]->data[0] == 0.5f);
        CHECK(streq(L[1]->type, "EuclideanLoss"));
        CHECK(L[1]->n_loss_weight == 1 && L[1]->loss_weight[0] == 0.25f);
        CHECK(L[1]->loss_param && L[1]->loss_param->ignore_label == 7);
        CHECK(L[1]->n_exclude == 1 && L[1]->exclude[0]->phase == CLIFF__PHASE__TEST &&
              L[1]->n_include == 0);
        CHECK(streq(L[2]->type, "")); /* NONE -> "" as in Caffe */
        CHECK(L[3]->type == NULL);    /* no type given -> none set */
        CHECK(L[3]->dropout_param && L[3]->dropout_param->dropout_ratio == 0.3f);
        CHECK(streq(L[4]->type, "ImageData"));
        CHECK(L[4]->image_data_param && !L[4]->image_data_param->has_crop_size &&
              !L[4]->image_data_param->has_mirror);
        CHECK(L[4]->transform_param && L[4]->transform_param->crop_size == 28 &&
              L[4]->transform_param->has_mirror && L[4]->transform_param->mirror &&
              L[4]->transform_param->scale == 2.0f);
    }
    protobuf_c_message_free_unpacked(&net->base, NULL);
}

/* Every *_param a V1 layer may hold lands in the LayerParameter field of the same name. */
static void test_v1_every_param_moved(void)
{
    const ProtobufCMessageDescriptor *vd = &cliff__v1_layer_parameter__descriptor;
    const ProtobufCMessageDescriptor *ld = &cliff__layer_parameter__descriptor;
    Cliff__NetParameter *net = msg(&cliff__net_parameter__descriptor);
    Cliff__V1LayerParameter *l = v1("all", T(CONVOLUTION), "a", "b");
    int nsub = 0;
    const void *ptrs[64];
    const char *fnames[64];
    for (unsigned i = 0; i < vd->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &vd->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED ||
            strcmp(f->name, "layer") == 0)
            continue;
        void *sub = msg(f->descriptor);
        *(void **)((char *)l + f->offset) = sub;
        ptrs[nsub] = sub;
        fnames[nsub++] = f->name;
    }
    CHECK(nsub == 30); /* Caffe's V1 layer has 30 such params (28 layer + transform + loss) */
    add_v1(net, l);
    CliffError err = {0};
    CHECK(cliff_upgrade_net(net, NULL, &err) == 0);
    if (net->n_layer == 1) {
        for (int k = 0; k < nsub; k++) {
            const ProtobufCFieldDescriptor *lf = protobuf_c_message_descriptor_get_field_by_name(ld, fnames[k]);
            CHECK(lf != NULL);
            if (lf && *(void **)((char *)net->layer[0] + lf->offset) != ptrs[k])
                CHECK_FAILF("%s not moved", fnames[k]);
        }
    }
    protobuf_c_message_free_unpacked(&net->base, NULL);
}

static void test_v1_type_names(void)
{
    /* Hand-copied pairs from Caffe's UpgradeV1LayerType. */
    static const struct { int t; const char *n; } cases[] = {
        {T(ABSVAL), "AbsVal"}, {T(BNLL), "BNLL"}, {T(CONTRASTIVE_LOSS), "ContrastiveLoss"},
        {T(DECONVOLUTION), "Deconvolution"}, {T(DUMMY_DATA), "DummyData"},
        {T(HDF5_DATA), "HDF5Data"}, {T(HDF5_OUTPUT), "HDF5Output"}, {T(IM2COL), "Im2col"},
        {T(MULTINOMIAL_LOGISTIC_LOSS), "MultinomialLogisticLoss"},
        {T(SIGMOID_CROSS_ENTROPY_LOSS), "SigmoidCrossEntropyLoss"}, {T(SILENCE), "Silence"},
        {T(SOFTMAX_LOSS), "SoftmaxWithLoss"}, {T(TANH), "TanH"}, {T(WINDOW_DATA), "WindowData"},
        {T(THRESHOLD), "Threshold"}, {T(MVN), "MVN"}, {T(LRN), "LRN"}, {T(NONE), ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(streq(cliff_v1_layer_type_name(cases[i].t), cases[i].n));
    /* every value of the enum has a name, and names (but NONE's) are distinct */
    const ProtobufCEnumDescriptor *ed = &cliff__v1_layer_parameter__layer_type__descriptor;
    CHECK(ed->n_values == 40);
    for (unsigned i = 0; i < ed->n_values; i++) {
        const char *a = cliff_v1_layer_type_name(ed->values[i].value);
        CHECK(a != NULL);
        for (unsigned j = 0; j < i && a; j++) CHECK(!streq(a, cliff_v1_layer_type_name(ed->values[j].value)));
    }
    CHECK(cliff_v1_layer_type_name(99) == NULL);
}

static void test_mixed_layer_forms_is_error(void)
{
    Cliff__NetParameter *net = msg(&cliff__net_parameter__descriptor);
    add_layer(net, "new", "ReLU");
    add_v1(net, v1("old", T(RELU), "x", "x"));
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    cliff_srcmap_add(&map, net->layers[0], "net.prototxt", 7, 1);
    CliffError err = {0};
    CHECK(cliff_upgrade_net(net, &map, &err) == -1);
    CHECK(strncmp(err.msg, "net.prototxt:7:1: error: ", 25) == 0);
    CHECK(strstr(err.msg, "layers") != NULL);
    CHECK(net->n_layer == 1 && net->n_layers == 1 && streq(net->layers[0]->name, "old"));
    protobuf_c_message_free_unpacked(&net->base, NULL);
    cliff_srcmap_free(&map);
}

static void test_v0_and_bad_values_are_errors(void)
{
    /* V0 nested layer */
    Cliff__NetParameter *net = msg(&cliff__net_parameter__descriptor);
    add_v1(net, v1("ok", T(RELU), "x", "x"));
    Cliff__V1LayerParameter *l = msg(&cliff__v1_layer_parameter__descriptor);
    l->layer = msg(&cliff__v0_layer_parameter__descriptor);
    l->layer->name = strdup("conv1");
    l->layer->type = strdup("conv");
    add_v1(net, l);
    CliffError err = {0};
    CHECK(cliff_upgrade_net(net, NULL, &err) == -1);
    CHECK(strstr(err.msg, "V0") != NULL);
    CHECK(net->n_layers == 2 && net->n_layer == 0 && streq(net->layers[0]->name, "ok"));
    protobuf_c_message_free_unpacked(&net->base, NULL);

    /* a type value outside the enum (possible in a binary file) */
    net = msg(&cliff__net_parameter__descriptor);
    add_v1(net, v1("weird", 99, "x", "y"));
    memset(&err, 0, sizeof err);
    CHECK(cliff_upgrade_net(net, NULL, &err) == -1);
    CHECK(strstr(err.msg, "weird") != NULL && strstr(err.msg, "99") != NULL);
    CHECK(net->n_layers == 1 && net->layers[0]->n_bottom == 1);
    protobuf_c_message_free_unpacked(&net->base, NULL);
}

/* input: "data" input_dim: 64 1 28 28 in front of new-style layers */
static void test_input_dim(void)
{
    Cliff__NetParameter *net = msg(&cliff__net_parameter__descriptor);
    push_str(&net->input, &net->n_input, "data");
    int32_t dims[] = {64, 1, 28, 28};
    for (int i = 0; i < 4; i++) push_i(&net->input_dim, &net->n_input_dim, dims[i]);
    add_layer(net, "conv1", "Convolution");
    add_layer(net, "relu1", "ReLU");
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    cliff_srcmap_add(&map, net, "deploy.prototxt", 1, 1);
    CliffError err = {0};
    CHECK(cliff_upgrade_net(net, &map, &err) == 0);
    CHECK(net->n_input == 0 && net->input == NULL && net->n_input_dim == 0 && net->input_dim == NULL);
    CHECK(net->n_layer == 3);
    if (net->n_layer == 3) {
        const Cliff__LayerParameter *in = net->layer[0];
        CHECK(streq(in->name, "input") && streq(in->type, "Input"));
        CHECK(in->n_top == 1 && streq(in->top[0], "data") && in->n_bottom == 0);
        CHECK(in->input_param && in->input_param->n_shape == 1);
        if (in->input_param && in->input_param->n_shape == 1) {
            const Cliff__BlobShape *s = in->input_param->shape[0];
            CHECK(s->n_dim == 4 && s->dim[0] == 64 && s->dim[1] == 1 && s->dim[2] == 28 && s->dim[3] == 28);
        }
        CHECK(streq(net->layer[1]->name, "conv1") && streq(net->layer[2]->name, "relu1"));
        CliffSrcPos pos;
        CHECK(cliff_srcmap_find(&map, in, &pos) == 0 && pos.line == 1);
    }
    protobuf_c_message_free_unpacked(&net->base, NULL);
    cliff_srcmap_free(&map);
}

/* two inputs by input_dim (8 values), on a V1 net: both upgrades apply */
static void test_two_inputs_v1(void)
{
    Cliff__NetParameter *net = msg(&cliff__net_parameter__descriptor);
    push_str(&net->input, &net->n_input, "a");
    push_str(&net->input, &net->n_input, "b");
    int32_t dims[] = {2, 3, 4, 5, 2, 1, 1, 1};
    for (int i = 0; i < 8; i++) push_i(&net->input_dim, &net->n_input_dim, dims[i]);
    add_v1(net, v1("sum", T(ELTWISE), "a,b", "c"));
    CliffError err = {0};
    CHECK(cliff_upgrade_net(net, NULL, &err) == 0);
    CHECK(net->n_layer == 2 && net->n_layers == 0);
    if (net->n_layer == 2) {
        const Cliff__LayerParameter *in = net->layer[0];
        CHECK(in->n_top == 2 && streq(in->top[0], "a") && streq(in->top[1], "b"));
        CHECK(in->input_param && in->input_param->n_shape == 2);
        if (in->input_param && in->input_param->n_shape == 2) {
            CHECK(in->input_param->shape[0]->dim[3] == 5 && in->input_param->shape[1]->dim[0] == 2 &&
                  in->input_param->shape[1]->dim[1] == 1);
        }
        CHECK(streq(net->layer[1]->type, "Eltwise") && net->layer[1]->n_bottom == 2);
    }
    protobuf_c_message_free_unpacked(&net->base, NULL);
}

static void test_input_shape_and_errors(void)
{
    /* input_shape: the BlobShape messages move into the Input layer */
    Cliff__NetParameter *net = msg(&cliff__net_parameter__descriptor);
    push_str(&net->input, &net->n_input, "x");
    Cliff__BlobShape *s = msg(&cliff__blob_shape__descriptor);
    s->dim = malloc(2 * sizeof *s->dim);
    s->n_dim = 2, s->dim[0] = 10, s->dim[1] = 3;
    push_ptr((void ***)&net->input_shape, &net->n_input_shape, s);
    CliffError err = {0};
    CHECK(cliff_upgrade_net(net, NULL, &err) == 0);
    CHECK(net->n_input_shape == 0 && net->n_layer == 1);
    if (net->n_layer == 1)
        CHECK(net->layer[0]->input_param && net->layer[0]->input_param->shape[0] == s &&
              s->dim[0] == 10);
    protobuf_c_message_free_unpacked(&net->base, NULL);

    /* input_dim count mismatch: error, net unchanged */
    net = msg(&cliff__net_parameter__descriptor);
    push_str(&net->input, &net->n_input, "x");
    for (int i = 0; i < 3; i++) push_i(&net->input_dim, &net->n_input_dim, 1);
    CHECK(cliff_upgrade_net(net, NULL, &err) == -1);
    CHECK(strstr(err.msg, "input_dim") != NULL);
    CHECK(net->n_input == 1 && net->n_input_dim == 3 && net->n_layer == 0);
    protobuf_c_message_free_unpacked(&net->base, NULL);

    /* input without any shape (a legacy .caffemodel): dropped, no layer added */
    net = msg(&cliff__net_parameter__descriptor);
    push_str(&net->input, &net->n_input, "data");
    add_layer(net, "ip", "InnerProduct");
    CHECK(cliff_upgrade_net(net, NULL, &err) == 0);
    CHECK(net->n_input == 0 && net->n_layer == 1 && streq(net->layer[0]->name, "ip"));
    protobuf_c_message_free_unpacked(&net->base, NULL);
}

static void test_batchnorm_params(void)
{
    Cliff__NetParameter *net = msg(&cliff__net_parameter__descriptor);
    add_layer(net, "bn", "BatchNorm");
    add_layer(net, "ip", "InnerProduct");
    for (int k = 0; k < 2; k++) {
        Cliff__LayerParameter *l = net->layer[k];
        int np = k == 0 ? 3 : 2;
        for (int i = 0; i < np; i++) {
            Cliff__ParamSpec *p = msg(&cliff__param_spec__descriptor);
            p->has_lr_mult = 1, p->lr_mult = 1.0f;
            push_ptr((void ***)&l->param, &l->n_param, p);
        }
    }
    CliffError err = {0};
    CHECK(cliff_upgrade_net(net, NULL, &err) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(net->layer[0]->param[i]->lr_mult == 0.0f && net->layer[0]->param[i]->has_decay_mult &&
              net->layer[0]->param[i]->decay_mult == 0.0f);
    CHECK(net->layer[1]->param[0]->lr_mult == 1.0f && !net->layer[1]->param[0]->has_decay_mult);
    protobuf_c_message_free_unpacked(&net->base, NULL);
}

static void test_solver_type(void)
{
    static const char *expect[] = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"};
    for (int t = 0; t < 6; t++) {
        Cliff__SolverParameter *s = msg(&cliff__solver_parameter__descriptor);
        s->has_solver_type = 1;
        s->solver_type = t;
        CliffError err = {0};
        CHECK(cliff_upgrade_solver(s, &err) == 0);
        CHECK(streq(s->type, expect[t]) && s->type != cliff__solver_parameter__type__default_value);
        CHECK(!s->has_solver_type);
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }

    /* solver_type: NESTEROV alone */
    Cliff__SolverParameter *s = msg(&cliff__solver_parameter__descriptor);
    CHECK(streq(s->type, "SGD")); /* the default before upgrade */
    s->has_solver_type = 1;
    s->solver_type = CLIFF__SOLVER_PARAMETER__SOLVER_TYPE__NESTEROV;
    CliffError err = {0};
    CHECK(cliff_upgrade_solver(s, &err) == 0 && streq(s->type, "Nesterov"));
    protobuf_c_message_free_unpacked(&s->base, NULL);

    /* both given and agreeing: fine */
    s = msg(&cliff__solver_parameter__descriptor);
    s->type = strdup("Nesterov");
    s->has_solver_type = 1;
    s->solver_type = CLIFF__SOLVER_PARAMETER__SOLVER_TYPE__NESTEROV;
    CHECK(cliff_upgrade_solver(s, &err) == 0 && streq(s->type, "Nesterov") && !s->has_solver_type);
    protobuf_c_message_free_unpacked(&s->base, NULL);

    /* both given and disagreeing: error, unchanged */
    s = msg(&cliff__solver_parameter__descriptor);
    s->type = strdup("Adam");
    s->has_solver_type = 1;
    s->solver_type = CLIFF__SOLVER_PARAMETER__SOLVER_TYPE__NESTEROV;
    CHECK(cliff_upgrade_solver(s, &err) == -1);
    CHECK(strstr(err.msg, "NESTEROV") != NULL && strstr(err.msg, "Adam") != NULL);
    CHECK(streq(s->type, "Adam") && s->has_solver_type);
    protobuf_c_message_free_unpacked(&s->base, NULL);

    /* no solver_type: untouched, type stays the shared default */
    s = msg(&cliff__solver_parameter__descriptor);
    CHECK(cliff_upgrade_solver(s, &err) == 0 && s->type == cliff__solver_parameter__type__default_value);
    protobuf_c_message_free_unpacked(&s->base, NULL);
}

/* ---- from text ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

static Cliff__NetParameter *parse_net_file(const char *path, CliffSrcMap *map, char **text)
{
    size_t len = 0;
    char *src = slurp(path, &len);
    if (!src) {
        CHECK_FAILF("cannot read %s (run from the repository root)", path);
        return NULL;
    }
    CliffError err = {0};
    Cliff__NetParameter *net =
        (Cliff__NetParameter *)cliff_text_parse(&cliff__net_parameter__descriptor, path, src, len, map, &err);
    if (!net) CHECK_FAILF("%s", err.msg);
    if (text) *text = src;
    else free(src);
    return net;
}

/* 1-based line of the k-th (0-based) line starting with prefix. */
static int nth_line_starting(const char *text, const char *prefix, int k)
{
    int line = 1;
    for (const char *p = text; *p; line++) {
        if (strncmp(p, prefix, strlen(prefix)) == 0 && k-- == 0) return line;
        p = strchr(p, '\n');
        if (!p) break;
        p++;
    }
    return -1;
}

static void test_caffe_v1_lenet_file_upgrades_to_current_lenet(void)
{
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    char *v1text = NULL;
    Cliff__NetParameter *v1 = parse_net_file("tests/caffe/lenet_v1.prototxt", &map, &v1text);
    Cliff__NetParameter *v2 = parse_net_file("tests/caffe/lenet_train_test.prototxt", NULL, NULL);
    if (!v1 || !v2) goto done;
    CHECK(v1->n_layers == 11 && v1->n_layer == 0);
    CliffError err = {0};
    CHECK(cliff_upgrade_net(v1, &map, &err) == 0);
    /* Caffe upgraded its own examples the same way: same fields, same values. */
    char *a = cliff_text_print(&v1->base), *b = cliff_text_print(&v2->base);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
    /* each upgraded layer points at its `layers {` line in the V1 file */
    for (size_t i = 0; i < v1->n_layer; i++) {
        CliffSrcPos pos;
        int want = nth_line_starting(v1text, "layers {", (int)i);
        if (cliff_srcmap_find(&map, v1->layer[i], &pos) != 0 || pos.line != want || pos.col != 1)
            CHECK_FAILF("layer %zu: position %d:%d, want %d:1", i, pos.line, pos.col, want);
    }
done:
    if (v1) protobuf_c_message_free_unpacked(&v1->base, NULL);
    if (v2) protobuf_c_message_free_unpacked(&v2->base, NULL);
    free(v1text);
    cliff_srcmap_free(&map);
}

static void test_text_errors_and_inputs(void)
{
    /* mixing: the error points at the first `layers {` (line 3, column 1) */
    const char *mixed = "name: \"m\"\nlayer { name: \"a\" type: \"ReLU\" }\nlayers { name: \"b\" type: RELU }\n";
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    CliffError err = {0};
    Cliff__NetParameter *net = (Cliff__NetParameter *)cliff_text_parse(
        &cliff__net_parameter__descriptor, "mixed.prototxt", mixed, strlen(mixed), &map, &err);
    CHECK(net != NULL);
    if (net) {
        CHECK(cliff_upgrade_net(net, &map, &err) == -1);
        CHECK(strncmp(err.msg, "mixed.prototxt:3:1: error: ", 27) == 0);
        protobuf_c_message_free_unpacked(&net->base, NULL);
    }
    cliff_srcmap_free(&map);

    /* Caffe's old deploy style: input + input_dim */
    const char *deploy = "name: \"d\"\ninput: \"data\"\ninput_dim: 10\ninput_dim: 3\ninput_dim: 227\n"
                         "input_dim: 227\nlayer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"data\" }\n";
    net = (Cliff__NetParameter *)cliff_text_parse(&cliff__net_parameter__descriptor, "deploy.prototxt",
                                                  deploy, strlen(deploy), NULL, &err);
    CHECK(net != NULL);
    if (net) {
        CHECK(cliff_upgrade_net(net, NULL, &err) == 0);
        char *txt = cliff_text_print(&net->base);
        const char *want_shape = "input_param {\n    shape {\n      dim: 10\n      dim: 3\n      dim: 227\n      dim: 227\n";
        CHECK(txt && strstr(txt, "name: \"input\"\n  type: \"Input\"\n  top: \"data\"\n") != NULL);
        CHECK(txt && strstr(txt, want_shape) != NULL);
        CHECK(txt && strstr(txt, "input_dim") == NULL);
        free(txt);
        protobuf_c_message_free_unpacked(&net->base, NULL);
    }

    /* solver_type: NESTEROV in a Caffe solver file */
    const char *solver = "base_lr: 0.01\nsolver_type: NESTEROV\nmomentum: 0.95\n";
    Cliff__SolverParameter *s = (Cliff__SolverParameter *)cliff_text_parse(
        &cliff__solver_parameter__descriptor, "s.prototxt", solver, strlen(solver), NULL, &err);
    CHECK(s != NULL);
    if (s) {
        CHECK(cliff_upgrade_solver(s, &err) == 0 && streq(s->type, "Nesterov") && !s->has_solver_type);
        char *txt = cliff_text_print(&s->base);
        CHECK(txt && strstr(txt, "type: \"Nesterov\"") && !strstr(txt, "solver_type"));
        free(txt);
        protobuf_c_message_free_unpacked(&s->base, NULL);
    }
}

int main(void)
{
    RUN(test_v1_lenet);
    RUN(test_v1_misc_fields);
    RUN(test_v1_every_param_moved);
    RUN(test_v1_type_names);
    RUN(test_mixed_layer_forms_is_error);
    RUN(test_v0_and_bad_values_are_errors);
    RUN(test_input_dim);
    RUN(test_two_inputs_v1);
    RUN(test_input_shape_and_errors);
    RUN(test_batchnorm_params);
    RUN(test_solver_type);
    RUN(test_caffe_v1_lenet_file_upgrades_to_current_lenet);
    RUN(test_text_errors_and_inputs);
    return test_main_end();
}
