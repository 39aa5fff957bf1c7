/* Neuron, normalization and loss layers beyond the gradient checks:
 *  - in place (top[0] is bottom[0]) gives the same tops and gradients as
 *    separate tensors, for every layer that allows it;
 *  - BatchNorm's backward survives a later in-place layer rewriting its top;
 *  - BatchNorm's running averages over several forwards, Dropout's masks;
 *  - setup/reshape errors for bad configurations and mismatched bottoms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layers/filler.h"
#include "layers/layer.h"
#include "proto/textformat.h"

#define MAXB 3

/* One layer with owned bottoms, tops and parameters. */
typedef struct Rig {
    Cliff__LayerParameter *param;
    CliffLayer l;
    CliffTensor bs[MAXB], ts[MAXB];
    CliffTensor *b[MAXB], *t[MAXB];
    int nb, nt, set_up;
    CliffRng rng;
} Rig;

/* A bottom's shape: number of axes, dims. */
typedef struct Shape {
    int n, d[4];
} Shape;

static void rig_free(Rig *r)
{
    if (r->set_up && r->l.ops->destroy) r->l.ops->destroy(&r->l);
    for (int i = 0; i < r->l.nparams; i++) cliff_tensor_free(&r->l.params[i]);
    for (int i = 0; i < MAXB; i++) {
        cliff_tensor_free(&r->bs[i]);
        cliff_tensor_free(&r->ts[i]);
    }
    if (r->param) protobuf_c_message_free_unpacked(&r->param->base, NULL);
    memset(r, 0, sizeof *r);
}

/* Builds the layer through setup, parameter fill and reshape; returns 0, or
 * -1 with err (the rig is then freed). Bottom data: N(0, 1) from seed 7;
 * tests overwrite labels themselves. */
static int rig_build(Rig *r, const char *text, int nb, const Shape *shapes, int nt, int in_place,
                     int phase, CliffError *err)
{
    memset(r, 0, sizeof *r);
    r->param = (Cliff__LayerParameter *)cliff_text_parse(&cliff__layer_parameter__descriptor,
                                                         "test", text, strlen(text), NULL, err);
    if (!r->param) return -1;
    cliff_rng_seed(&r->rng, 7);
    r->nb = nb;
    r->nt = nt;
    for (int i = 0; i < MAXB; i++) {
        cliff_tensor_init(&r->bs[i]);
        cliff_tensor_init(&r->ts[i]);
        r->b[i] = &r->bs[i];
        r->t[i] = &r->ts[i];
    }
    if (in_place) r->t[0] = r->b[0];
    for (int i = 0; i < nb; i++) {
        if (cliff_tensor_reshape(r->b[i], shapes[i].n, shapes[i].d, err)) goto fail;
        for (size_t k = 0; k < r->b[i]->count; k++)
            r->b[i]->data[k] = cliff_rng_gaussian(&r->rng, 0, 1);
    }
    r->l.ops = cliff_layer_find(r->param->type);
    if (!r->l.ops) {
        cliff_error_set(err, "unknown type %s", r->param->type);
        goto fail;
    }
    r->l.param = r->param;
    r->l.name = "test";
    r->l.phase = phase;
    r->l.rng = &r->rng;
    if (r->l.ops->setup(&r->l, r->b, nb, r->t, nt, err)) goto fail;
    r->set_up = 1;
    for (int i = 0; i < r->l.nparams; i++) {
        CliffParamDecl *d = &r->l.decl[i];
        cliff_tensor_init(&r->l.params[i]);
        if (cliff_tensor_reshape(&r->l.params[i], d->num_axes, d->shape, err) ||
            cliff_filler_fill(d->filler, d->default_value, r->l.params[i].data, d->num_axes,
                              d->shape, &r->rng, err))
            goto fail;
        r->l.param_need_grad[i] = d->learnable;
    }
    if (r->l.ops->reshape(&r->l, r->b, nb, r->t, nt, err)) goto fail;
    return 0;
fail:
    rig_free(r);
    return -1;
}

static void rig_forward(Rig *r) { r->l.ops->forward(&r->l, r->b, r->nb, r->t, r->nt); }

/* Top diff = fixed pattern; bottom diffs start as garbage; backward. */
static void rig_backward(Rig *r)
{
    int prop[MAXB] = {1, 1, 1};
    for (size_t k = 0; k < r->t[0]->count; k++) r->t[0]->diff[k] = (float)sin(0.7 * k + 0.3);
    for (int i = 0; i < r->nb; i++)
        if (r->b[i] != r->t[0])
            for (size_t k = 0; k < r->b[i]->count; k++) r->b[i]->diff[k] = 1e30f;
    for (int p = 0; p < r->l.nparams; p++)
        memset(r->l.params[p].diff, 0, r->l.params[p].count * sizeof(float));
    r->l.ops->backward(&r->l, r->t, r->nt, prop, r->b, r->nb);
}

static void same(const char *what, const float *a, const float *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!(fabsf(a[k] - b[k]) <= 1e-6f * fmaxf(1.0f, fabsf(a[k])))) {
            CHECK_FAILF("%s[%zu]: %.9g separate, %.9g in place", what, k, a[k], b[k]);
            return;
        }
}

/* Forward and backward with separate tensors and in place must agree. */
static void in_place_case(const char *text, int nb, const Shape *shapes, int phase)
{
    Rig a, b;
    CliffError err;
    if (rig_build(&a, text, nb, shapes, 1, 0, phase, &err)) {
        CHECK_FAILF("%s: %s", text, err.msg);
        return;
    }
    if (rig_build(&b, text, nb, shapes, 1, 1, phase, &err)) {
        CHECK_FAILF("%s (in place): %s", text, err.msg);
        rig_free(&a);
        return;
    }
    CHECK(a.l.ops->allow_in_place);
    rig_forward(&a);
    rig_forward(&b);
    same("top", a.t[0]->data, b.t[0]->data, a.t[0]->count);
    rig_backward(&a);
    rig_backward(&b);
    for (int i = 0; i < nb; i++) same("bottom diff", a.b[i]->diff, b.b[i]->diff, a.b[i]->count);
    for (int p = 0; p < a.l.nparams; p++)
        if (a.l.param_need_grad[p])
            same("param diff", a.l.params[p].diff, b.l.params[p].diff, a.l.params[p].count);
    rig_free(&a);
    rig_free(&b);
}

static const Shape X4 = {4, {2, 3, 2, 3}};

static void in_place_neurons(void)
{
    static const char *const texts[] = {
        "type: 'ReLU'",
        "type: 'ReLU' relu_param { negative_slope: 0.2 }",
        "type: 'ReLU' relu_param { negative_slope: -0.5 }",
        "type: 'PReLU' prelu_param { filler { type: 'uniform' min: 0.1 max: 0.6 } }",
        "type: 'PReLU' prelu_param { channel_shared: true }",
        "type: 'ELU' elu_param { alpha: 0.7 }",
        "type: 'ELU' elu_param { alpha: -0.7 }",
        "type: 'Sigmoid'",
        "type: 'TanH'",
        "type: 'AbsVal'",
        "type: 'BNLL'",
        "type: 'Power' power_param { power: 3 scale: 0.5 shift: 0.1 }",
        "type: 'Power' power_param { power: 2 shift: 1 }",
        "type: 'Exp' exp_param { base: 2 scale: 0.5 }",
        "type: 'Log' log_param { scale: 0.1 shift: 2 }",
        "type: 'Clip' clip_param { min: -0.3 max: 0.5 }",
        "type: 'Swish' swish_param { beta: 1.5 }",
        "type: 'Threshold'",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (strstr(texts[i], "Threshold")) {
            /* No gradient: forward only. */
            Rig a, b;
            CliffError err;
            if (rig_build(&a, texts[i], 1, &X4, 1, 0, 0, &err) ||
                rig_build(&b, texts[i], 1, &X4, 1, 1, 0, &err)) {
                CHECK_FAILF("%s", err.msg);
                return;
            }
            rig_forward(&a);
            rig_forward(&b);
            same("top", a.t[0]->data, b.t[0]->data, a.t[0]->count);
            rig_free(&a);
            rig_free(&b);
            continue;
        }
        in_place_case(texts[i], 1, &X4, 0);
    }
}

static void in_place_norm_and_affine(void)
{
    in_place_case("type: 'Dropout' dropout_param { dropout_ratio: 0.4 }", 1, &X4, 0);
    in_place_case("type: 'Dropout' dropout_param { scale_train: false }", 1, &X4, 1);
    in_place_case("type: 'BatchNorm'", 1, &X4, 0);
    in_place_case("type: 'BatchNorm' batch_norm_param { use_global_stats: true }", 1, &X4, 0);
    in_place_case("type: 'Scale' scale_param { filler { type: 'gaussian' } bias_term: true }",
                  1, &X4, 0);
    const Shape two[2] = {{4, {2, 3, 2, 3}}, {1, {3}}};
    in_place_case("type: 'Scale'", 2, two, 0);
    in_place_case("type: 'Bias' bias_param { filler { type: 'gaussian' } }", 1, &X4, 0);
    in_place_case("type: 'Bias'", 2, two, 0);
    in_place_case("type: 'MVN'", 1, &X4, 0);
    in_place_case("type: 'MVN' mvn_param { across_channels: true normalize_variance: false }", 1,
                  &X4, 0);
}

/* In a ResNet-style chain BatchNorm -> Scale -> ReLU, all in place, the later
 * layers rewrite BatchNorm's top before its backward runs; BatchNorm must use
 * its own copy of the normalized values. */
static void batch_norm_survives_top_rewrite(void)
{
    Rig a, b;
    CliffError err;
    if (rig_build(&a, "type: 'BatchNorm'", 1, &X4, 1, 1, 0, &err) ||
        rig_build(&b, "type: 'BatchNorm'", 1, &X4, 1, 1, 0, &err)) {
        CHECK_FAILF("%s", err.msg);
        return;
    }
    rig_forward(&a);
    rig_forward(&b);
    for (size_t k = 0; k < b.t[0]->count; k++) b.t[0]->data[k] = 42.0f; /* a later layer */
    rig_backward(&a);
    rig_backward(&b);
    same("bottom diff", a.b[0]->diff, b.b[0]->diff, a.b[0]->count);
    rig_free(&a);
    rig_free(&b);
}

/* Two TRAIN forwards with moving_average_fraction 0.5, then the stored
 * estimates: factor = 0.5 * 1 + 1 = 1.5; mean sum = 0.5 m1 + m2 where both
 * batches have the same mean m, so the estimate (1.5 m) / 1.5 = m. */
static void batch_norm_running_average(void)
{
    Rig r;
    CliffError err;
    const Shape s = {2, {4, 2}};
    if (rig_build(&r, "type: 'BatchNorm' batch_norm_param { moving_average_fraction: 0.5 }", 1,
                  &s, 1, 0, 0, &err)) {
        CHECK_FAILF("%s", err.msg);
        return;
    }
    /* channel 0: 1 2 3 4 (mean 2.5, biased var 1.25); channel 1: all 5. */
    const float x[8] = {1, 5, 2, 5, 3, 5, 4, 5};
    memcpy(r.b[0]->data, x, sizeof x);
    rig_forward(&r);
    rig_forward(&r);
    CHECK_NEAR(r.l.params[2].data[0], 1.5, 1e-6);
    CHECK_NEAR(r.l.params[0].data[0], 2.5 * 1.5, 1e-6);
    CHECK_NEAR(r.l.params[0].data[1], 5.0 * 1.5, 1e-6);
    /* unbiased variance 1.25 * 4 / 3 */
    CHECK_NEAR(r.l.params[1].data[0], 1.25 * 4 / 3 * 1.5, 1e-6);
    CHECK_NEAR(r.l.params[1].data[1], 0.0, 1e-6);
    /* normalized: (1 - 2.5) / sqrt(1.25 + 1e-5) */
    CHECK_NEAR(r.t[0]->data[0], -1.5 / sqrt(1.25 + 1e-5), 1e-5);
    CHECK_NEAR(r.t[0]->data[1], 0.0, 1e-6);
    rig_free(&r);
}

static void dropout_masks(void)
{
    const Shape s = {1, {1000}};
    Rig a, b, c;
    CliffError err;
    if (rig_build(&a, "type: 'Dropout' dropout_param { dropout_ratio: 0.2 }", 1, &s, 1, 0, 0,
                  &err) ||
        rig_build(&b, "type: 'Dropout' dropout_param { dropout_ratio: 0.2 }", 1, &s, 1, 0, 0,
                  &err) ||
        rig_build(&c, "type: 'Dropout' dropout_param { dropout_ratio: 0.2 }", 1, &s, 1, 0, 0,
                  &err)) {
        CHECK_FAILF("%s", err.msg);
        return;
    }
    for (size_t k = 0; k < 1000; k++) a.b[0]->data[k] = b.b[0]->data[k] = c.b[0]->data[k] = 1;
    cliff_rng_seed(&c.rng, 8);
    rig_forward(&a);
    rig_forward(&b);
    rig_forward(&c);
    size_t kept = 0, differ = 0;
    for (size_t k = 0; k < 1000; k++) {
        float y = a.t[0]->data[k];
        CHECK(y == 0.0f || y == 1.25f); /* 1 / (1 - 0.2) */
        kept += y != 0;
        CHECK(y == b.t[0]->data[k]); /* same seed, same mask */
        differ += y != c.t[0]->data[k];
    }
    CHECK(kept > 740 && kept < 860); /* binomial(1000, 0.8): sd 12.6 */
    CHECK(differ > 100);             /* another seed, another mask */
    /* Backward applies the same mask and scale. */
    rig_backward(&a);
    for (size_t k = 0; k < 1000; k++)
        CHECK_NEAR(a.b[0]->diff[k], a.t[0]->data[k] * a.t[0]->diff[k], 1e-6);
    rig_free(&a);
    rig_free(&b);
    rig_free(&c);
}

/* Builds and expects failure with a message containing want. */
static void expect_error(const char *text, int nb, const Shape *shapes, int nt, const char *want)
{
    Rig r;
    CliffError err = {0};
    if (rig_build(&r, text, nb, shapes, nt, 0, 0, &err) == 0) {
        CHECK_FAILF("%s: built, expected an error about '%s'", text, want);
        rig_free(&r);
        return;
    }
    if (!strstr(err.msg, want)) CHECK_FAILF("%s: error '%s' lacks '%s'", text, err.msg, want);
}

static void bad_configs_and_shapes(void)
{
    const Shape scores_labels_bad[2] = {{2, {4, 5}}, {1, {3}}};
    expect_error("type: 'SoftmaxWithLoss'", 2, scores_labels_bad, 1, "same first dimension");
    const Shape spatial_bad[2] = {{4, {2, 5, 2, 2}}, {2, {2, 3}}};
    expect_error("type: 'SoftmaxWithLoss'", 2, spatial_bad, 1, "number of labels");
    const Shape axis_bad[2] = {{2, {4, 5}}, {1, {4}}};
    expect_error("type: 'SoftmaxWithLoss' softmax_param { axis: 2 }", 2, axis_bad, 1, "axis");
    const Shape acc[2] = {{2, {4, 3}}, {1, {4}}};
    expect_error("type: 'Accuracy' accuracy_param { top_k: 4 }", 2, acc, 1, "top_k");
    const Shape acc_bad[2] = {{2, {4, 3}}, {1, {5}}};
    expect_error("type: 'Accuracy'", 2, acc_bad, 1, "number of labels");
    const Shape eu_bad[2] = {{2, {4, 3}}, {2, {4, 2}}};
    expect_error("type: 'EuclideanLoss'", 2, eu_bad, 1, "same dimension");
    const Shape sce_bad[2] = {{2, {4, 3}}, {2, {4, 2}}};
    expect_error("type: 'SigmoidCrossEntropyLoss'", 2, sce_bad, 1, "same count");
    const Shape hinge_bad[2] = {{2, {4, 3}}, {2, {4, 3}}};
    expect_error("type: 'HingeLoss'", 2, hinge_bad, 1, "one label per item");
    const Shape ig[2] = {{2, {4, 3}}, {1, {4}}};
    expect_error("type: 'InfogainLoss'", 2, ig, 1, "infogain_loss_param.source");
    expect_error("type: 'InfogainLoss' infogain_loss_param { source: '/nonexistent/h.bin' }", 2,
                 ig, 1, "cannot open");
    const Shape ig3[3] = {{2, {4, 3}}, {1, {4}}, {2, {4, 4}}};
    expect_error("type: 'InfogainLoss'", 3, ig3, 1, "infogain matrix has 16 elements");
    const Shape cl_bad[3] = {{2, {4, 3}}, {2, {4, 3}}, {1, {3}}};
    expect_error("type: 'ContrastiveLoss'", 3, cl_bad, 1, "one label per pair");
    const Shape scale_bad[2] = {{4, {2, 3, 2, 2}}, {1, {4}}};
    expect_error("type: 'Scale'", 2, scale_bad, 1, "does not match");
    expect_error("type: 'Bias' bias_param { axis: 4 }", 1, &X4, 1, "axis");
    expect_error("type: 'Scale' scale_param { axis: 2 num_axes: 3 }", 1, &X4, 1, "extends past");
    expect_error("type: 'Clip'", 1, &X4, 1, "clip_param");
    expect_error("type: 'Clip' clip_param { min: 1 max: 0 }", 1, &X4, 1, "must not exceed");
    expect_error("type: 'Exp' exp_param { base: -2 }", 1, &X4, 1, "strictly positive");
    expect_error("type: 'Log' log_param { base: 0 }", 1, &X4, 1, "strictly positive");
    expect_error("type: 'Dropout' dropout_param { dropout_ratio: 1 }", 1, &X4, 1, "[0, 1)");
    const Shape one_axis = {1, {5}};
    expect_error("type: 'PReLU'", 1, &one_axis, 1, "at least 2 axes");
}

/* Labels outside [0, C) must never be read out of bounds (this runs under
 * ASan in `make check`): Hinge, MultinomialLogistic, Infogain, Accuracy and
 * SigmoidCE with such labels give finite values. */
static void out_of_range_labels(void)
{
    static const char *const texts[] = {
        "type: 'HingeLoss'", "type: 'MultinomialLogisticLoss'", "type: 'Accuracy'",
        "type: 'SoftmaxWithLoss' loss_param { normalization: FULL }",
    };
    const Shape s[2] = {{2, {4, 3}}, {1, {4}}};
    const float bad[4] = {3.0f, -1.0f, NAN, 1e20f};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        Rig r;
        CliffError err;
        if (rig_build(&r, texts[i], 2, s, 1, 0, 0, &err)) {
            CHECK_FAILF("%s: %s", texts[i], err.msg);
            continue;
        }
        for (size_t k = 0; k < r.b[0]->count; k++) r.b[0]->data[k] = fabsf(r.b[0]->data[k]) + 0.1f;
        memcpy(r.b[1]->data, bad, sizeof bad);
        rig_forward(&r);
        if (!isfinite(r.t[0]->data[0])) CHECK_FAILF("%s: loss %g", texts[i], r.t[0]->data[0]);
        if (r.l.ops->backward) {
            rig_backward(&r);
            for (size_t k = 0; k < r.b[0]->count; k++)
                if (!isfinite(r.b[0]->diff[k])) {
                    CHECK_FAILF("%s: gradient[%zu] = %g", texts[i], k, r.b[0]->diff[k]);
                    break;
                }
        }
        rig_free(&r);
    }
}

int main(void)
{
    RUN(in_place_neurons);
    RUN(in_place_norm_and_affine);
    RUN(batch_norm_survives_top_rewrite);
    RUN(batch_norm_running_average);
    RUN(dropout_masks);
    RUN(bad_configs_and_shapes);
    RUN(out_of_range_labels);
    return test_main_end();
}
