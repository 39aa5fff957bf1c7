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
 * Run from the repository root. */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "net.h"

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

/* Builds the net and loads the golden weights and batch into it. */
static int golden_open(Golden *g)
{
    memset(g, 0, sizeof *g);
    CliffError err;
    cliff_srcmap_init(&g->map);
    cliff_rng_seed(&g->rng, 1);
    g->file = -1;
    if (cliff_net_load(GOLDEN_NET, NULL, &g->param, &g->map, &err)) {
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
    for (int i = 0; i < net->nlayers; i++) {
        CliffLayer *l = &net->layers[i].layer;
        for (int p = 0; p < l->nparams; p++) {
            char name[128];
            snprintf(name, sizeof name, "params/%s/%d", l->name, p);
            if (read_ds(g->file, name, &l->params[p], H5T_NATIVE_FLOAT, l->params[p].data))
                return -1;
            loaded++;
        }
    }
    CHECK(loaded == 8 && net->nparams == 8);
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

int main(void)
{
    RUN(test_lenet_golden_forward_backward);
    RUN(test_lenet_golden_grads_accumulate);
    RUN(test_lenet_golden_detects_a_change);
    return test_main_end();
}
