/* InfogainLoss (Caffe master's InfogainLossLayer): SoftmaxWithLoss weighted by
 * an "information gain" matrix H (C x C); H = identity gives SoftmaxWithLoss.
 *
 * bottom 0: scores, outer x C x inner (C = shape[infogain_loss_param.axis],
 *           axis default 1); the softmax is taken inside, as in Caffe master;
 * bottom 1: outer * inner float-coded labels in [0, C) or ignore_label, checked
 *           before each forward (labels.h);
 * bottom 2: (optional) H with C * C elements, row = true label; without it H is
 *           read at setup from infogain_loss_param.source, a binary BlobProto;
 * top 0: loss = -sum_{positions} sum_l H[label, l] log max(p_l, FLT_MIN) / normalizer;
 * top 1: (optional) the probabilities (no gradient flows back from it).
 * loss_param: ignore_label, normalization (default VALID) / legacy normalize.
 * Gradient: dx_l = (p_l sum_k H[label, k] - H[label, l]) * loss_weight / normalizer.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "loss_common.h"

typedef struct InfogainState {
    CliffClassLoss cl;    /* layout, normalization, ignore_label, softmax */
    CliffTensor H;        /* from source, when there is no third bottom */
} InfogainState;

/* Reads a binary BlobProto file into t (flattened). */
static int load_blob_proto(const char *path, CliffTensor *t, CliffError *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return cliff_error_set(err, "infogain_loss_param.source: cannot open '%s'", path);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? 2 * cap : 65536;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return cliff_error_set(err, "out of memory reading '%s'", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    Cliff__BlobProto *bp = bad ? NULL : cliff__blob_proto__unpack(NULL, len, buf);
    free(buf);
    if (!bp) return cliff_error_set(err, "infogain_loss_param.source: '%s' is not a binary "
                                    "BlobProto", path);
    size_t n = bp->n_data ? bp->n_data : bp->n_double_data;
    int rc = 0;
    int shape[1] = {(int)n};
    if (n > (size_t)INT32_MAX || cliff_tensor_reshape(t, 1, shape, err)) {
        rc = n > (size_t)INT32_MAX ? cliff_error_set(err, "'%s': blob too large", path) : -1;
    } else {
        for (size_t i = 0; i < n; i++)
            t->data[i] = bp->n_data ? bp->data[i] : (float)bp->double_data[i];
    }
    cliff__blob_proto__free_unpacked(bp, NULL);
    return rc;
}

static void ig_destroy(CliffLayer *l)
{
    InfogainState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->H);
    cliff_class_loss_free(&s->cl);
    free(s);
    l->priv = NULL;
}

static int ig_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                    int nt, CliffError *err)
{
    (void)bottom, (void)top, (void)nt;
    const Cliff__InfogainLossParameter *p = l->param->infogain_loss_param;
    InfogainState *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    cliff_class_loss_init(&s->cl, l->param);
    cliff_tensor_init(&s->H);
    l->priv = s;
    if (nb < 3) {
        int rc = (!p || !p->source)
                     ? cliff_error_set(err, "the infogain matrix needs a third bottom or "
                                       "infogain_loss_param.source")
                     : load_blob_proto(p->source, &s->H, err);
        if (rc) {
            ig_destroy(l);
            return -1;
        }
    }
    return 0;
}

static int ig_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    InfogainState *s = l->priv;
    const Cliff__InfogainLossParameter *p = l->param->infogain_loss_param;
    if (cliff_class_loss_reshape(&s->cl, bottom, top, nt, p ? p->axis : 1,
                                 "infogain_loss_param.axis", err))
        return -1;
    const size_t C = s->cl.C;
    const CliffTensor *H = nb >= 3 ? bottom[2] : &s->H;
    if (H->count != C * C)
        return cliff_error_set(err, "the infogain matrix has %zu elements; %zu classes need "
                               "%zu x %zu", H->count, C, C, C);
    return 0;
}

static int ig_check(const CliffLayer *l, CliffTensor *const *bottom, int nb, CliffError *err)
{
    (void)nb;
    const InfogainState *s = l->priv;
    return cliff_class_loss_check(l, &s->cl, bottom, err);
}

static void ig_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt)
{
    InfogainState *s = l->priv;
    CliffClassLoss *cl = &s->cl;
    const size_t C = cl->C, inner = cl->inner, dim = C * inner;
    const float *label = bottom[1]->data, *p = cl->prob.data;
    const float *H = nb >= 3 ? bottom[2]->data : s->H.data;
    double loss = 0;
    long valid = 0;
    cliff_class_loss_softmax(cl, bottom[0]->data);
    for (size_t i = 0; i < cl->outer; i++)
        for (size_t j = 0; j < inner; j++) {
            int lab = cliff_label_int(label[i * inner + j]);
            if (cliff_class_loss_ignores(cl, lab)) continue;
            const float *h = H + (size_t)cliff_label_clamp(lab, (int)C) * C;
            for (size_t c = 0; c < C; c++)
                loss -= h[c] * log(fmax(p[i * dim + c * inner + j], FLT_MIN));
            valid++;
        }
    cliff_class_loss_output(cl, loss, valid, top, nt);
}

static void ig_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                        const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    InfogainState *s = l->priv;
    const CliffClassLoss *cl = &s->cl;
    cliff_loss_zero_diffs(bottom, nb, propagate_down, 1);
    if (!propagate_down[0]) return;
    const size_t C = cl->C, inner = cl->inner, dim = C * inner;
    const float *label = bottom[1]->data, *p = cl->prob.data;
    const float *H = nb >= 3 ? bottom[2]->data : s->H.data;
    float *dx = bottom[0]->diff;
    const long valid = cliff_class_loss_valid(cl, label);
    const float w = (float)(top[0]->diff[0] / cliff_loss_normalizer(cl->mode, cl->outer, inner,
                                                                     valid));
    for (size_t i = 0; i < cl->outer; i++)
        for (size_t j = 0; j < inner; j++) {
            int lab = cliff_label_int(label[i * inner + j]);
            if (cliff_class_loss_ignores(cl, lab)) {
                for (size_t c = 0; c < C; c++) dx[i * dim + c * inner + j] = 0.0f;
                continue;
            }
            const float *h = H + (size_t)cliff_label_clamp(lab, (int)C) * C;
            double row = 0;
            for (size_t c = 0; c < C; c++) row += h[c];
            for (size_t c = 0; c < C; c++) {
                const size_t k = i * dim + c * inner + j;
                dx[k] = (p[k] * (float)row - h[c]) * w;
            }
        }
}

const CliffLayerOps cliff_ops_InfogainLoss = {
    .type = "InfogainLoss",
    .min_bottoms = 2, .max_bottoms = 3, .min_tops = 1, .max_tops = 2,
    .is_loss = 1,
    .label_bottoms = (1u << 1) | (1u << 2),
    .setup = ig_setup,
    .reshape = ig_reshape,
    .check_bottoms = ig_check,
    .forward = ig_forward,
    .backward = ig_backward,
    .destroy = ig_destroy,
};
