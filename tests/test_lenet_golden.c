/* Forward/backward golden test: LeNet (tests/nets/lenet_golden.prototxt) on
 * the fixed weights and batch of tests/golden/lenet_golden.h5 must give the
 * loss and the gradient of every parameter blob that an independent NumPy
 * float64 implementation computed (tests/golden/make_lenet_golden.py; the .h5
 * file is committed, so no python runs at test time).
 *
 * Comparison, per element of a parameter gradient g with reference r:
 *     |g - r| <= 1e-4 * max(|r|, 1e-2 * max_j |r_j|)
 * i.e. 1e-4 relative, except for elements that are tiny compared with the
 * blob's largest gradient: those come out of sums (over batch and space) whose
 * terms are as large as the big elements, so float32 rounding leaves them an
 * absolute error proportional to the blob's scale, not to their own value. The
 * floor (an absolute 1e-6 of the blob's largest element) leaves the observed
 * float32 errors below a quarter of the tolerance (GOLDEN_VERBOSE=1 prints the
 * margins) and stays far below any real mistake: a wrong index or a missing
 * term changes elements by O(their size), and changing one weight by 1% is
 * caught (test_lenet_golden_detects_a_change). The loss is compared at 1e-5
 * relative. The reference's pooling windows and ReLU inputs are kept away from
 * ties by the generator, so both sides take the same branches.
 *
 * That net is LeNet narrowed (6/12/40 outputs) so that its weights and full
 * gradients fit the file. test_lenet_full_width_golden runs LeNet at its real
 * widths (20/50/500) on the same batch, with weights from a hash formula both
 * sides evaluate exactly, against per-blob gradient statistics and ~1080
 * sampled elements. Run from the repository root. */
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/config.h"
#include "layers/net/net.h"

#define GOLDEN_H5 "tests/golden/lenet_golden.h5"
#define GOLDEN_NET "tests/nets/lenet_golden.prototxt"

/* Reads dataset `name` of file f into out (n elements of the given memory
 * type) after checking that its shape is exactly the tensor's shape (rank 0 for
 * a scalar when t is NULL). Returns 0 on success; fails the test otherwise. */
static int read_ds(hid_t f, const char *name, const CliffTensor *t, hid_t mtype, void *out)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) {
        CHECK_FAILF("%s: no dataset %s", GOLDEN_H5, name);
        return -1;
    }
    hid_t sp = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[CLIFF_MAX_AXES];
    int ok = rank >= 0 && rank <= CLIFF_MAX_AXES && rank == (t ? t->num_axes : 0);
    if (ok) H5Sget_simple_extent_dims(sp, dims, NULL);
    for (int a = 0; ok && a < rank; a++) ok = dims[a] == (hsize_t)t->shape[a];
    H5Sclose(sp);
    if (!ok) {
        CHECK_FAILF("%s: dataset %s has rank %d, not the net's shape", GOLDEN_H5, name, rank);
        H5Dclose(ds);
        return -1;
    }
    herr_t rc = H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Dclose(ds);
    if (rc < 0) CHECK_FAILF("%s: cannot read %s", GOLDEN_H5, name);
    return rc < 0 ? -1 : 0;
}

typedef struct Golden {
    Cliff__NetParameter *param;
    CliffSrcMap map;
    CliffRng rng;
    CliffNet *net;
    hid_t file;
} Golden;

/* Builds the net at net_path and loads the golden batch into it, and with
 * load_params the golden weights (/params) too. */
static int golden_open_net(Golden *g, const char *net_path, int load_params)
{
    memset(g, 0, sizeof *g);
    CliffError err;
    cliff_srcmap_init(&g->map);
    cliff_rng_seed(&g->rng, 1);
    g->file = -1;
    if (cliff_net_load(net_path, NULL, &g->param, &g->map, &err)) {
        CHECK_FAILF("%s", err.msg);
        return -1;
    }
    g->net = cliff_net_build(g->param, CLIFF__PHASE__TRAIN, NULL, &g->rng, &g->map, &err);
    if (!g->net) {
        CHECK_FAILF("%s", err.msg);
        return -1;
    }
    g->file = H5Fopen(GOLDEN_H5, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (g->file < 0) {
        CHECK_FAILF("cannot open %s (run from the repository root)", GOLDEN_H5);
        return -1;
    }
    CliffNet *net = g->net;
    /* Every parameter blob of the net comes from the file (8 of them: conv1,
     * conv2, ip1, ip2 weights and biases). */
    int loaded = 0;
    for (int i = 0; load_params && i < net->nlayers; i++) {
        CliffLayer *l = &net->layers[i].layer;
        for (int p = 0; p < l->nparams; p++) {
            char name[128];
            snprintf(name, sizeof name, "params/%s/%d", l->name, p);
            if (read_ds(g->file, name, &l->params[p], H5T_NATIVE_FLOAT, l->params[p].data))
                return -1;
            loaded++;
        }
    }
    CHECK((!load_params || loaded == 8) && net->nparams == 8);
    int data = cliff_net_blob_index(net, "data"), label = cliff_net_blob_index(net, "label");
    if (data < 0 || label < 0) {
        CHECK_FAILF("the net has no data/label blobs");
        return -1;
    }
    if (read_ds(g->file, "data", net->blobs[data], H5T_NATIVE_FLOAT, net->blobs[data]->data) ||
        read_ds(g->file, "label", net->blobs[label], H5T_NATIVE_FLOAT, net->blobs[label]->data))
        return -1;
    return 0;
}

static int golden_open(Golden *g) { return golden_open_net(g, GOLDEN_NET, 1); }

static void golden_close(Golden *g)
{
    if (g->file >= 0) H5Fclose(g->file);
    cliff_net_free(g->net);
    if (g->param) protobuf_c_message_free_unpacked(&g->param->base, NULL);
    cliff_srcmap_free(&g->map);
}

/* Compares every parameter gradient with scale * the reference (criterion at
 * the top of the file). Returns the number of elements compared (0 when a
 * reference could not be read) and the largest error as a multiple of its
 * tolerance in *worst (> 1: a mismatch, described in why). */
static size_t compare_grads(Golden *g, double scale, double *worst, char *why, size_t whylen)
{
    CliffNet *net = g->net;
    size_t compared = 0;
    *worst = 0;
    why[0] = 0;
    for (int i = 0; i < net->nlayers; i++) {
        CliffLayer *l = &net->layers[i].layer;
        for (int p = 0; p < l->nparams; p++) {
            const CliffTensor *t = &l->params[p];
            double *ref = malloc(t->count * sizeof *ref);
            char name[128];
            snprintf(name, sizeof name, "expected/grad/%s/%d", l->name, p);
            if (!ref || read_ds(g->file, name, t, H5T_NATIVE_DOUBLE, ref)) {
                free(ref);
                return 0;
            }
            double big = 0, blob_worst = 0;
            for (size_t e = 0; e < t->count; e++) big = fmax(big, fabs(scale * ref[e]));
            for (size_t e = 0; e < t->count; e++) {
                double r = scale * ref[e];
                double excess = fabs(t->diff[e] - r) / (1e-4 * fmax(fabs(r), 1e-2 * big));
                if (!(excess <= blob_worst)) blob_worst = excess; /* NaN sticks */
                if (!(excess <= *worst)) {
                    *worst = excess;
                    snprintf(why, whylen, "gradient of %s/%d element %zu: cliff %.9g, "
                             "reference %.9g (%.3g x the tolerance)", l->name, p, e,
                             t->diff[e], r, excess);
                }
            }
            if (getenv("GOLDEN_VERBOSE"))
                printf("  %s/%d: %zu elements, max |ref| %.3g, worst error %.3g of tolerance\n",
                       l->name, p, t->count, big, blob_worst);
            compared += t->count;
            free(ref);
        }
    }
    return compared;
}

/* Fails the running test unless all gradients match scale * the reference. */
static void check_grads(Golden *g, double scale)
{
    double worst;
    char why[512];
    size_t n = compare_grads(g, scale, &worst, why, sizeof why);
    if (n != 10098) CHECK_FAILF("compared %zu gradient elements, expected 10098", n);
    else if (!(worst <= 1.0)) CHECK_FAILF("%s", why);
}

static double expected_loss(Golden *g)
{
    double loss = NAN;
    read_ds(g->file, "expected/loss", NULL, H5T_NATIVE_DOUBLE, &loss);
    return loss;
}

/* The loss and all 10098 parameter gradient elements match the reference. */
static void test_lenet_golden_forward_backward(void)
{
    Golden g;
    if (golden_open(&g) == 0) {
        double want = expected_loss(&g);
        double loss = cliff_net_forward(g.net);
        if (!(fabs(loss - want) <= 1e-5 * fabs(want)))
            CHECK_FAILF("loss %.9g, reference %.9g", loss, want);
        /* The loss blob holds the same value the net returned. */
        int lb = cliff_net_blob_index(g.net, "loss");
        CHECK(lb >= 0 && fabs(g.net->blobs[lb]->data[0] - loss) <= 1e-6 * fabs(loss));
        /* Fill the gradient slab with garbage: zero_grads must clear it. */
        for (size_t e = 0; e < g.net->param_count; e++) g.net->grad_slab[e] = 1e3f;
        cliff_net_zero_grads(g.net);
        cliff_net_backward(g.net);
        check_grads(&g, 1.0);
    }
    golden_close(&g);
}

/* Parameter gradients accumulate: two forward/backward passes without zeroing
 * give twice the reference (and the second forward gives the same loss). */
static void test_lenet_golden_grads_accumulate(void)
{
    Golden g;
    if (golden_open(&g) == 0) {
        cliff_net_zero_grads(g.net);
        double l1 = cliff_net_forward(g.net);
        cliff_net_backward(g.net);
        double l2 = cliff_net_forward(g.net);
        cliff_net_backward(g.net);
        CHECK(l1 == l2);
        check_grads(&g, 2.0);
    }
    golden_close(&g);
}

/* The comparison can fail: a weight changed by 1% changes the gradients
 * beyond the tolerance (guards against a criterion that accepts anything). */
static void test_lenet_golden_detects_a_change(void)
{
    Golden g;
    if (golden_open(&g) == 0) {
        int ip2 = cliff_net_layer_index(g.net, "ip2");
        CHECK(ip2 >= 0);
        if (ip2 >= 0) g.net->layers[ip2].layer.params[0].data[7] *= 1.01f;
        cliff_net_forward(g.net);
        cliff_net_zero_grads(g.net);
        cliff_net_backward(g.net);
        double worst;
        char why[512];
        CHECK(compare_grads(&g, 1.0, &worst, why, sizeof why) == 10098);
        int detected = worst > 1.0;
        CHECK(detected);
    }
    golden_close(&g);
}

/* ---- the full-width LeNet (/full in the golden file) ----------------------
 * configs/lenet_train_test.prototxt's widths (tests/nets/lenet_full_golden.
 * prototxt, 431080 parameters): weights from the formula of
 * make_lenet_golden.py (hash_u01: bit-identical float32 values on both sides),
 * gradients checked through per-blob statistics and ~1080 sampled elements. */

/* Chris Wellons' lowbias32; uint32 arithmetic wraps mod 2^32 as the script's
 * masks do. */
static uint32_t lowbias32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

/* Parameter blobs in Caffe's order, with fan_in (0: a bias, scale 0.1). */
static const struct {
    const char *layer;
    int index, fan_in;
} full_blobs[8] = {
    {"conv1", 0, 25}, {"conv1", 1, 0}, {"conv2", 0, 500}, {"conv2", 1, 0},
    {"ip1", 0, 800},  {"ip1", 1, 0},   {"ip2", 0, 500},   {"ip2", 1, 0},
};

/* Fills every parameter from the formula; returns the blob tensors in order. */
static int full_fill(Golden *g, int64_t seed, CliffTensor **blob)
{
    for (int b = 0; b < 8; b++) {
        int li = cliff_net_layer_index(g->net, full_blobs[b].layer);
        if (li < 0 || g->net->layers[li].layer.nparams <= full_blobs[b].index) {
            CHECK_FAILF("no parameter %s/%d", full_blobs[b].layer, full_blobs[b].index);
            return -1;
        }
        CliffTensor *t = blob[b] = &g->net->layers[li].layer.params[full_blobs[b].index];
        double scale = full_blobs[b].fan_in ? sqrt(3.0 / full_blobs[b].fan_in) : 0.1;
        uint32_t offset = (uint32_t)seed * 0x9E3779B9u + (uint32_t)b * 0x85EBCA6Bu;
        for (size_t i = 0; i < t->count; i++) {
            double u = (double)lowbias32((uint32_t)i + offset) / 4294967296.0;
            t->data[i] = (float)((2 * u - 1) * scale);
        }
    }
    return 0;
}

/* max |g|, sum |g|, sqrt(sum g^2), sum s_i g_i (s_i = +-1 as sign_of in the
 * script) and the sum of the weights, in double. */
static void full_stats(const CliffTensor *t, int b, double st[5])
{
    double mx = 0, l1 = 0, l2 = 0, proj = 0, wsum = 0;
    uint32_t offset = 0x68E31DA4u * (uint32_t)(b + 1);
    for (size_t i = 0; i < t->count; i++) {
        double v = t->diff[i];
        mx = fmax(mx, fabs(v));
        l1 += fabs(v);
        l2 += v * v;
        proj += (lowbias32((uint32_t)i + offset) >> 31) ? v : -v;
        wsum += t->data[i];
    }
    st[0] = mx, st[1] = l1, st[2] = sqrt(l2), st[3] = proj, st[4] = wsum;
}

/* Reads the 8 x 5 /full/expected/stats; 0 on success. */
static int read_full_stats(hid_t f, double stats[8][5])
{
    CliffTensor shape = {.num_axes = 2, .shape = {8, 5}, .count = 40};
    return read_ds(f, "full/expected/stats", &shape, H5T_NATIVE_DOUBLE, stats);
}

static void test_lenet_full_width_golden(void)
{
    Golden g;
    CliffTensor *blob[8];
    int64_t seed = 0;
    double want_loss = NAN, stats[8][5];
    double *sample = NULL;
    if (golden_open_net(&g, "tests/nets/lenet_full_golden.prototxt", 0)) goto out;
    CHECK(g.net->param_count == 431080);
    hid_t ds = H5Dopen2(g.file, "full/expected/sample", H5P_DEFAULT);
    hsize_t dims[2] = {0, 0};
    if (ds >= 0) {
        hid_t sp = H5Dget_space(ds);
        if (H5Sget_simple_extent_ndims(sp) == 2) H5Sget_simple_extent_dims(sp, dims, NULL);
        H5Sclose(sp);
        sample = dims[1] == 3 ? malloc(dims[0] * 3 * sizeof *sample) : NULL;
    }
    if (ds < 0 || !sample ||
        H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, sample) < 0 ||
        read_ds(g.file, "full/seed", NULL, H5T_NATIVE_INT64, &seed) ||
        read_ds(g.file, "full/expected/loss", NULL, H5T_NATIVE_DOUBLE, &want_loss) ||
        read_full_stats(g.file, stats) || full_fill(&g, seed, blob)) {
        if (ds >= 0) H5Dclose(ds);
        CHECK_FAILF("cannot read /full of %s", GOLDEN_H5);
        goto out;
    }
    H5Dclose(ds);
    double loss = cliff_net_forward(g.net);
    if (!(fabs(loss - want_loss) <= 1e-5 * fabs(want_loss)))
        CHECK_FAILF("loss %.9g, reference %.9g", loss, want_loss);
    cliff_net_zero_grads(g.net);
    cliff_net_backward(g.net);
    static const char *what[5] = {"max |g|", "sum |g|", "|g|_2", "sum s g", "sum w"};
    for (int b = 0; b < 8; b++) {
        double st[5];
        full_stats(blob[b], b, st);
        /* Weights: the formula gave the script's values (sums agree up to the
         * summation order). Gradients: 1e-4 relative for the norms. The signed
         * sum sees every element: with independent signs, per-element errors
         * within 1e-4 add up like a random walk to ~1e-4 |g|_2, so that is its
         * tolerance; one element off by more than that shows. */
        double tol[5] = {1e-4 * stats[b][0], 1e-4 * stats[b][1], 1e-4 * stats[b][2],
                         1e-4 * stats[b][2], 1e-9 * blob[b]->count};
        for (int k = 0; k < 5; k++) {
            if (!(fabs(st[k] - stats[b][k]) <= tol[k]))
                CHECK_FAILF("%s/%d: %s = %.9g, reference %.9g", full_blobs[b].layer,
                            full_blobs[b].index, what[k], st[k], stats[b][k]);
            if (getenv("GOLDEN_VERBOSE"))
                printf("  %s/%d %s: error %.3g of tolerance\n", full_blobs[b].layer,
                       full_blobs[b].index, what[k], fabs(st[k] - stats[b][k]) / tol[k]);
        }
    }
    /* Sampled elements, with the criterion at the top of the file. */
    double worst = 0;
    size_t nsampled[8] = {0};
    for (hsize_t r = 0; r < dims[0]; r++) {
        int b = (int)sample[3 * r];
        size_t i = (size_t)sample[3 * r + 1];
        if (b < 0 || b >= 8 || i >= blob[b]->count) {
            CHECK_FAILF("sample row %llu out of range", (unsigned long long)r);
            break;
        }
        double ref = sample[3 * r + 2], got = blob[b]->diff[i];
        double excess = fabs(got - ref) / (1e-4 * fmax(fabs(ref), 1e-2 * stats[b][0]));
        if (!(excess <= 1.0))
            CHECK_FAILF("gradient of %s/%d element %zu: cliff %.9g, reference %.9g",
                        full_blobs[b].layer, full_blobs[b].index, i, got, ref);
        worst = fmax(worst, excess);
        nsampled[b]++;
    }
    /* Small blobs are compared whole; every blob has samples. */
    CHECK(nsampled[1] == 20 && nsampled[3] == 50 && nsampled[7] == 10);
    for (int b = 0; b < 8; b++) CHECK(nsampled[b] >= 10);
    if (getenv("GOLDEN_VERBOSE"))
        printf("  %llu sampled elements: worst error %.3g of tolerance\n",
               (unsigned long long)dims[0], worst);
out:
    free(sample);
    golden_close(&g);
}

int main(void)
{
    RUN(test_lenet_golden_forward_backward);
    RUN(test_lenet_golden_grads_accumulate);
    RUN(test_lenet_golden_detects_a_change);
    RUN(test_lenet_full_width_golden);
    return test_main_end();
}
