/* Forward checks for tests/grad_cases_neuron.c; see neuron_checks.h. */
#include "neuron_checks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int nc_near(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* Compares top[t] with want[0..n); tolerance relative as in CHECK_NEAR. */
int nc_compare(const char *what, const float *got, const double *want, size_t n, double tol,
               char *why, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (!nc_near(got[i], want[i], tol))
            return grad_fail(why, len, "%s[%zu] = %.7g, expected %.7g", what, i, got[i], want[i]);
    return 0;
}

static int compare_scalar(const char *what, float got, double want, char *why, size_t len)
{
    return nc_compare(what, &got, &want, 1, 1e-5, why, len);
}

size_t nc_prod(const CliffTensor *t, int from, int to)
{
    size_t p = 1;
    for (int i = from; i < to; i++) p *= (size_t)t->shape[i];
    return p;
}

/* ---- elementwise ---------------------------------------------------------- */

NEURON_CHECK(check_elementwise)
{
    (void)nb, (void)nt;
    const Cliff__LayerParameter *p = l->param;
    const char *type = p->type;
    const CliffTensor *x = bottom[0];
    double *want = malloc(x->count * sizeof *want);
    size_t dim = x->num_axes > 2 ? nc_prod(x, 2, x->num_axes) : 1;
    int C = x->num_axes > 1 ? x->shape[1] : 1;
    for (size_t i = 0; i < x->count; i++) {
        double v = x->data[i], y;
        if (!strcmp(type, "ReLU")) {
            double s = p->relu_param ? p->relu_param->negative_slope : 0;
            y = v > 0 ? v : s * v;
        } else if (!strcmp(type, "PReLU")) {
            const float *a = l->params[0].data;
            double s = l->params[0].count == 1 ? a[0] : a[(i / dim) % (size_t)C];
            y = v > 0 ? v : s * v;
        } else if (!strcmp(type, "ELU")) {
            double alpha = p->elu_param ? p->elu_param->alpha : 1;
            y = v > 0 ? v : alpha * (exp(v) - 1);
        } else if (!strcmp(type, "Sigmoid")) {
            y = 1 / (1 + exp(-v));
        } else if (!strcmp(type, "TanH")) {
            y = tanh(v);
        } else if (!strcmp(type, "AbsVal")) {
            y = fabs(v);
        } else if (!strcmp(type, "BNLL")) {
            y = log(1 + exp(v));
        } else if (!strcmp(type, "Power")) {
            const Cliff__PowerParameter *q = p->power_param;
            double power = q ? q->power : 1, scale = q ? q->scale : 1, shift = q ? q->shift : 0;
            y = pow(shift + scale * v, power);
        } else if (!strcmp(type, "Exp")) {
            const Cliff__ExpParameter *q = p->exp_param;
            double base = q ? q->base : -1, scale = q ? q->scale : 1, shift = q ? q->shift : 0;
            double e = shift + scale * v;
            y = base == -1 ? exp(e) : pow(base, e);
        } else if (!strcmp(type, "Log")) {
            const Cliff__LogParameter *q = p->log_param;
            double base = q ? q->base : -1, scale = q ? q->scale : 1, shift = q ? q->shift : 0;
            y = log(shift + scale * v) / (base == -1 ? 1 : log(base));
        } else if (!strcmp(type, "Threshold")) {
            y = v > p->threshold_param->threshold ? 1 : 0;
        } else if (!strcmp(type, "Clip")) {
            y = fmin(fmax(v, p->clip_param->min), p->clip_param->max);
        } else if (!strcmp(type, "Swish")) {
            double beta = p->swish_param ? p->swish_param->beta : 1;
            y = v / (1 + exp(-beta * v));
        } else {
            free(want);
            return grad_fail(why, len, "check_elementwise does not know type %s", type);
        }
        want[i] = y;
    }
    int rc = nc_compare("top", top[0]->data, want, x->count, 1e-5, why, len);
    free(want);
    return rc;
}

/* ---- SoftmaxWithLoss -------------------------------------------------------- */

typedef enum { REF_FULL, REF_VALID, REF_BATCH, REF_NONE } RefNorm;

static double ref_normalizer(RefNorm norm, size_t outer, size_t inner, long valid)
{
    double n = norm == REF_FULL    ? (double)(outer * inner)
               : norm == REF_VALID ? (double)valid
               : norm == REF_BATCH ? (double)outer
                                   : 1.0;
    return n < 1 ? 1 : n;
}

/* -log softmax over the labelled class, in double; labels clamped to [0, C). */
static int sml_ref(CliffTensor *const *bottom, CliffTensor *const *top, int nt, int axis,
                   RefNorm norm, int ignore, char *why, size_t len)
{
    const CliffTensor *x = bottom[0];
    size_t outer = nc_prod(x, 0, axis), C = (size_t)x->shape[axis];
    size_t inner = nc_prod(x, axis + 1, x->num_axes);
    double loss = 0;
    long valid = 0;
    for (size_t i = 0; i < outer; i++)
        for (size_t j = 0; j < inner; j++) {
            float lv = bottom[1]->data[i * inner + j];
            int lab = lv != lv ? 0 : lv < 0 ? 0 : lv >= (float)C ? (int)C - 1 : (int)lv;
            if (ignore >= 0 && (int)lv == ignore) continue;
            const float *xi = x->data + i * C * inner + j;
            double m = xi[0], s = 0;
            for (size_t c = 0; c < C; c++) m = fmax(m, xi[c * inner]);
            for (size_t c = 0; c < C; c++) s += exp(xi[c * inner] - m);
            loss -= xi[(size_t)lab * inner] - m - log(s);
            valid++;
            if (nt >= 2)
                for (size_t c = 0; c < C; c++) {
                    double pc = exp(xi[c * inner] - m) / s;
                    float got = top[1]->data[i * C * inner + c * inner + j];
                    if (!nc_near(got, pc, 1e-5))
                        return grad_fail(why, len, "probability (%zu, %zu, %zu) = %.7g, expected %.7g",
                                    i, c, j, got, pc);
                }
        }
    return compare_scalar("loss", top[0]->data[0],
                          loss / ref_normalizer(norm, outer, inner, valid), why, len);
}

NEURON_CHECK(check_sml_valid)
{
    (void)l, (void)nb;
    return sml_ref(bottom, top, nt, 1, REF_VALID, -1, why, len);
}
NEURON_CHECK(check_sml_full)
{
    (void)l, (void)nb;
    return sml_ref(bottom, top, nt, 1, REF_FULL, -1, why, len);
}
NEURON_CHECK(check_sml_batch)
{
    (void)l, (void)nb;
    return sml_ref(bottom, top, nt, 1, REF_BATCH, -1, why, len);
}
NEURON_CHECK(check_sml_none)
{
    (void)l, (void)nb;
    return sml_ref(bottom, top, nt, 1, REF_NONE, -1, why, len);
}
NEURON_CHECK(check_sml_ignore2)
{
    (void)l, (void)nb;
    return sml_ref(bottom, top, nt, 1, REF_VALID, 2, why, len);
}
NEURON_CHECK(check_sml_axis2)
{
    (void)l, (void)nb;
    return sml_ref(bottom, top, nt, 2, REF_VALID, -1, why, len);
}

/* Labels overwritten with 7, -3, NaN, 1e30 (for 4 classes): the layer must
 * read class 3, 0, 0, 3 and give a finite loss equal to that reference. */
NEURON_CHECK(check_sml_bad_labels)
{
    const float bad[4] = {7.0f, -3.0f, NAN, 1e30f};
    for (size_t i = 0; i < bottom[1]->count; i++) bottom[1]->data[i] = bad[i % 4];
    l->ops->forward(l, bottom, nb, top, nt);
    if (!isfinite(top[0]->data[0])) return grad_fail(why, len, "loss %g", top[0]->data[0]);
    return sml_ref(bottom, top, nt, 1, REF_VALID, -1, why, len);
}

/* ---- SigmoidCrossEntropyLoss ------------------------------------------------- */

static int sce_ref(CliffTensor *const *bottom, CliffTensor *const *top, RefNorm norm, int ignore,
                   char *why, size_t len)
{
    const CliffTensor *x = bottom[0];
    double loss = 0;
    long valid = 0;
    for (size_t i = 0; i < x->count; i++) {
        double v = x->data[i], t = bottom[1]->data[i];
        if (ignore >= 0 && (int)t == ignore) continue;
        double s = 1 / (1 + exp(-v));
        loss -= t * log(s) + (1 - t) * log(1 - s);
        valid++;
    }
    size_t outer = (size_t)x->shape[0], inner = x->count / outer;
    return compare_scalar("loss", top[0]->data[0],
                          loss / ref_normalizer(norm, outer, inner, valid), why, len);
}

NEURON_CHECK(check_sce_batch)
{
    (void)l, (void)nb, (void)nt;
    return sce_ref(bottom, top, REF_BATCH, -1, why, len);
}
NEURON_CHECK(check_sce_valid_ignore2)
{
    (void)l, (void)nb, (void)nt;
    return sce_ref(bottom, top, REF_VALID, 2, why, len);
}
NEURON_CHECK(check_sce_full)
{
    (void)l, (void)nb, (void)nt;
    return sce_ref(bottom, top, REF_FULL, -1, why, len);
}

/* ---- other losses ------------------------------------------------------------ */

NEURON_CHECK(check_euclidean)
{
    (void)l, (void)nb, (void)nt;
    double s = 0;
    for (size_t i = 0; i < bottom[0]->count; i++) {
        double d = (double)bottom[0]->data[i] - bottom[1]->data[i];
        s += d * d;
    }
    return compare_scalar("loss", top[0]->data[0], s / bottom[0]->shape[0] / 2, why, len);
}

static int hinge_ref(CliffTensor *const *bottom, CliffTensor *const *top, int power, char *why,
                     size_t len)
{
    size_t N = (size_t)bottom[0]->shape[0], D = bottom[0]->count / N;
    double loss = 0;
    for (size_t n = 0; n < N; n++)
        for (size_t d = 0; d < D; d++) {
            double v = bottom[0]->data[n * D + d];
            double m = fmax(0, d == (size_t)bottom[1]->data[n] ? 1 - v : 1 + v);
            loss += power == 2 ? m * m : m;
        }
    return compare_scalar("loss", top[0]->data[0], loss / N, why, len);
}

NEURON_CHECK(check_hinge_l1)
{
    (void)l, (void)nb, (void)nt;
    return hinge_ref(bottom, top, 1, why, len);
}
NEURON_CHECK(check_hinge_l2)
{
    (void)l, (void)nb, (void)nt;
    return hinge_ref(bottom, top, 2, why, len);
}

NEURON_CHECK(check_multinomial)
{
    (void)l, (void)nb, (void)nt;
    size_t N = (size_t)bottom[0]->shape[0], D = bottom[0]->count / N;
    double loss = 0;
    for (size_t n = 0; n < N; n++)
        loss -= log(bottom[0]->data[n * D + (size_t)bottom[1]->data[n]]);
    return compare_scalar("loss", top[0]->data[0], loss / N, why, len);
}

/* Sets the similarity labels to 1, 0, 1, 0, ... (random ones may all agree),
 * reruns forward and compares with the formula. At least one dissimilar pair
 * must lie inside the margin, or the case would not test that branch. */
static int contrastive_ref(CliffLayer *l, CliffTensor *const *bottom, int nb,
                           CliffTensor *const *top, int nt, double margin, int legacy,
                           char *why, size_t len)
{
    size_t N = (size_t)bottom[0]->shape[0], D = bottom[0]->count / N;
    for (size_t n = 0; n < N; n++) bottom[2]->data[n] = (float)((n + 1) % 2);
    l->ops->forward(l, bottom, nb, top, nt);
    double loss = 0;
    int inside = 0;
    for (size_t n = 0; n < N; n++) {
        double d2 = 0;
        for (size_t k = 0; k < D; k++) {
            double d = (double)bottom[0]->data[n * D + k] - bottom[1]->data[n * D + k];
            d2 += d * d;
        }
        if (bottom[2]->data[n] != 0) {
            loss += d2;
        } else if (legacy) {
            loss += fmax(margin - d2, 0);
            inside += d2 < margin;
        } else {
            loss += pow(fmax(margin - sqrt(d2), 0), 2);
            inside += sqrt(d2) < margin;
        }
    }
    if (!inside) return grad_fail(why, len, "no dissimilar pair inside the margin: choose other inputs");
    return compare_scalar("loss", top[0]->data[0], loss / N / 2, why, len);
}

NEURON_CHECK(check_contrastive)
{
    return contrastive_ref(l, bottom, nb, top, nt, 1.0, 0, why, len);
}
NEURON_CHECK(check_contrastive_legacy)
{
    return contrastive_ref(l, bottom, nb, top, nt, 1.0, 1, why, len);
}

/* -sum_l H[label, l] log softmax_l over positions, / valid count. */
static int infogain_ref(CliffTensor *const *bottom, CliffTensor *const *top, const float *H,
                        char *why, size_t len)
{
    const CliffTensor *x = bottom[0];
    size_t outer = (size_t)x->shape[0], C = (size_t)x->shape[1], inner = x->count / (outer * C);
    double loss = 0;
    for (size_t i = 0; i < outer; i++)
        for (size_t j = 0; j < inner; j++) {
            size_t lab = (size_t)bottom[1]->data[i * inner + j];
            const float *xi = x->data + i * C * inner + j;
            double m = xi[0], s = 0;
            for (size_t c = 0; c < C; c++) m = fmax(m, xi[c * inner]);
            for (size_t c = 0; c < C; c++) s += exp(xi[c * inner] - m);
            for (size_t c = 0; c < C; c++) loss -= H[lab * C + c] * (xi[c * inner] - m - log(s));
        }
    return compare_scalar("loss", top[0]->data[0], loss / (double)(outer * inner), why, len);
}

NEURON_CHECK(check_infogain)
{
    (void)l, (void)nb, (void)nt;
    return infogain_ref(bottom, top, bottom[2]->data, why, len);
}

/* The fixture: H[i][j] = 1 on the diagonal, 0.1 (i + j) elsewhere, 4 x 4. */
static void fixture_matrix(float *H)
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) H[i * 4 + j] = i == j ? 1.0f : 0.1f * (float)(i + j);
}

void write_infogain_fixture(void)
{
    float H[16];
    fixture_matrix(H);
    Cliff__BlobShape shape = CLIFF__BLOB_SHAPE__INIT;
    int64_t dims[4] = {1, 1, 4, 4};
    shape.n_dim = 4;
    shape.dim = dims;
    Cliff__BlobProto bp = CLIFF__BLOB_PROTO__INIT;
    bp.shape = &shape;
    bp.n_data = 16;
    bp.data = H;
    size_t n = cliff__blob_proto__get_packed_size(&bp);
    uint8_t *buf = malloc(n);
    cliff__blob_proto__pack(&bp, buf);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s.%ld", NEURON_INFOGAIN_FILE, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f) {
        fwrite(buf, 1, n, f);
        fclose(f);
        rename(tmp, NEURON_INFOGAIN_FILE); /* atomic: parallel test runs share the name */
    }
    free(buf);
}

NEURON_CHECK(check_infogain_file)
{
    (void)l, (void)nb, (void)nt;
    float H[16];
    fixture_matrix(H);
    return infogain_ref(bottom, top, H, why, len);
}

/* ---- Accuracy ------------------------------------------------------------------ */

/* Scores of 4 items over 3 classes, and their labels:
 *   item 0: 0.1 0.7 0.2  label 1  top-1 hit
 *   item 1: 0.5 0.3 0.2  label 2  miss even in top 2 (two classes above)
 *   item 2: 0.3 0.3 0.4  label 0  miss in top 2: a tie counts against the label
 *   item 3: 0.2 0.5 0.3  label 2  top-2 hit only
 * top-1: 1/4; top-2: 2/4; ignoring label 2: items 0, 2 -> 1/2.
 * per class, top-1: class 0: 0/1, class 1: 1/1, class 2: 0/2. */
static void accuracy_inputs(CliffTensor *const *bottom)
{
    static const float scores[12] = {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f,
                                     0.3f, 0.3f, 0.4f, 0.2f, 0.5f, 0.3f};
    static const float labels[4] = {1, 2, 0, 2};
    memcpy(bottom[0]->data, scores, sizeof scores);
    memcpy(bottom[1]->data, labels, sizeof labels);
}

static int accuracy_run(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, double want, char *why, size_t len)
{
    if (bottom[0]->count != 12 || bottom[1]->count != 4)
        return grad_fail(why, len, "case must use 4x3 scores and 4 labels");
    accuracy_inputs(bottom);
    l->ops->forward(l, bottom, nb, top, nt);
    return compare_scalar("accuracy", top[0]->data[0], want, why, len);
}

NEURON_CHECK(check_accuracy_top1)
{
    return accuracy_run(l, bottom, nb, top, nt, 0.25, why, len);
}
NEURON_CHECK(check_accuracy_top2)
{
    return accuracy_run(l, bottom, nb, top, nt, 0.5, why, len);
}
NEURON_CHECK(check_accuracy_ignore2)
{
    return accuracy_run(l, bottom, nb, top, nt, 0.5, why, len);
}
NEURON_CHECK(check_accuracy_per_class)
{
    if (accuracy_run(l, bottom, nb, top, nt, 0.25, why, len)) return -1;
    if (nt != 2 || top[1]->count != 3) return grad_fail(why, len, "per-class top should have 3 values");
    const double want[3] = {0, 1, 0};
    return nc_compare("per_class", top[1]->data, want, 3, 1e-6, why, len);
}

/* Scores 1 x 3 x 2 (two positions along the last axis), labels 1 x 2:
 * position 0 scores (0.1, 0.9, 0.0), label 1: hit; position 1 scores
 * (0.6, 0.2, 0.2), label 2: miss. Accuracy 1/2. */
NEURON_CHECK(check_accuracy_spatial)
{
    static const float scores[6] = {0.1f, 0.6f, 0.9f, 0.2f, 0.0f, 0.2f};
    static const float labels[2] = {1, 2};
    if (bottom[0]->count != 6 || bottom[1]->count != 2)
        return grad_fail(why, len, "case must use 1x3x2 scores and 1x2 labels");
    memcpy(bottom[0]->data, scores, sizeof scores);
    memcpy(bottom[1]->data, labels, sizeof labels);
    l->ops->forward(l, bottom, nb, top, nt);
    return compare_scalar("accuracy", top[0]->data[0], 0.5, why, len);
}
