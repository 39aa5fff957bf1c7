/* Caffe's own example nets build in cliff: tests/caffe/lenet_train_test and
 * cifar10_quick_train_test with their Data layers switched to HDF5Data
 * (tests/nets/caffe_*_hdf5.prototxt), read by cliff_net_load, built for TRAIN
 * and TEST on a tiny fixture written to a temporary folder (8 rows of 1x28x28
 * and of 3x32x32 images). Asserted: the layers of each phase, every blob's
 * shape (worked out by hand from Caffe's conv/pool output formulas, pooling
 * rounding up), parameter counts, net outputs; a forward/backward pass runs
 * and gives what the fillers imply. Run from the repository root. */
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "h5_fixture.h"
#include "proto/config.h"
#include "net_fixture.h"

/* Writes dir/<name>.h5 ("data" n x c x h x w in [0, 1), "label" n with values
 * 0..9) and dir/<name>.txt listing it; -1 when that failed (the test has). */
static int write_fixture(const char *dir, const char *name, int n, int c, int h, int w)
{
    char h5[512], list[512];
    snprintf(h5, sizeof h5, "%s/%s.h5", dir, name);
    snprintf(list, sizeof list, "%s/%s.txt", dir, name);
    size_t count = (size_t)n * c * h * w;
    float *data = malloc(count * sizeof *data), *label = malloc((size_t)n * sizeof *label);
    if (!data || !label) {
        free(data);
        free(label);
        CHECK_FAILF("out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++) data[i] = (float)(0.5 + 0.5 * sin(0.37 * (double)i));
    for (int i = 0; i < n; i++) label[i] = (float)(i % 10);
    hsize_t d4[4] = {(hsize_t)n, (hsize_t)c, (hsize_t)h, (hsize_t)w}, d1[1] = {(hsize_t)n};
    H5Fx fx;
    h5fx_create(&fx, h5);
    h5fx_write(&fx, fx.file, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, d4, data);
    h5fx_write(&fx, fx.file, "label", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d1, label);
    int rc = h5fx_close(&fx);
    free(data);
    free(label);
    return rc ? rc : h5fx_text(list, "%s\n", h5);
}

static char fixture_dir[64];

/* Loads a net file and points every HDF5Data source (a bare file name in the
 * committed file) into the fixture folder. */
static Cliff__NetParameter *load_net(const char *path, CliffSrcMap *map)
{
    Cliff__NetParameter *np = NULL;
    CliffError err;
    if (cliff_net_load(path, NULL, &np, map, &err)) {
        CHECK_FAILF("%s", err.msg);
        return NULL;
    }
    int switched = 0;
    for (size_t i = 0; i < np->n_layer; i++) {
        Cliff__LayerParameter *lp = np->layer[i];
        CHECK(strcmp(lp->type, "Data") != 0);
        if (strcmp(lp->type, "HDF5Data") != 0 || !lp->hdf5_data_param) continue;
        char *src = NULL;
        if (asprintf(&src, "%s/%s", fixture_dir, lp->hdf5_data_param->source) < 0) continue;
        free(lp->hdf5_data_param->source);
        lp->hdf5_data_param->source = src;
        switched++;
    }
    CHECK(switched == 2);
    return np;
}

/* Expected: "name=AxBxC" per blob ("scalar" for a scalar). */
static void check_shapes(CliffNet *net, const char *const *want, int n)
{
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(want[i], '=');
        char name[64], shape[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - want[i]), want[i]);
        int b = cliff_net_blob_index(net, name);
        if (b < 0) {
            CHECK_FAILF("no blob '%s'", name);
            continue;
        }
        cliff_tensor_shape_str(net->blobs[b], shape, sizeof shape);
        if (strcmp(shape, eq + 1) != 0)
            CHECK_FAILF("blob '%s' is %s, expected %s", name, shape, eq + 1);
    }
}

/* The non-split layer names of net, space-separated. */
static void check_layers(CliffNet *net, const char *want)
{
    char got[1024] = "";
    size_t used = 0;
    for (int i = 0; i < net->nlayers && used < sizeof got; i++)
        if (!net->layers[i].is_split)
            used += (size_t)snprintf(got + used, sizeof got - used, "%s%s", used ? " " : "",
                                     net->layers[i].layer.name);
    if (strcmp(got, want) != 0) CHECK_FAILF("layers '%s', expected '%s'", got, want);
}

static void check_outputs(CliffNet *net, const char *want)
{
    char got[256] = "";
    size_t used = 0;
    for (int o = 0; o < net->noutputs && used < sizeof got; o++)
        used += (size_t)snprintf(got + used, sizeof got - used, "%s%s%s", o ? " " : "",
                                 net->blob_names[net->output_ids[o]],
                                 net->output_loss_weight[o] != 0 ? "(loss)" : "");
    if (strcmp(got, want) != 0) CHECK_FAILF("outputs '%s', expected '%s'", got, want);
}

static const char *lenet_train_shapes[] = {
    "data=64x1x28x28",   "label=64",        "conv1=64x20x24x24", "pool1=64x20x12x12",
    "conv2=64x50x8x8",   "pool2=64x50x4x4", "ip1=64x500",        "ip2=64x10",
    "loss=scalar",
};
static const char *lenet_test_shapes[] = {
    "data=100x1x28x28", "label=100",   "conv1=100x20x24x24", "pool1=100x20x12x12",
    "conv2=100x50x8x8", "pool2=100x50x4x4", "ip1=100x500",   "ip2=100x10",
    "accuracy=scalar",  "loss=scalar",
};

static void test_caffe_lenet(void)
{
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    Cliff__NetParameter *np = load_net("tests/nets/caffe_lenet_hdf5.prototxt", &map);
    CliffRng rng;
    cliff_rng_seed(&rng, 3);
    CliffError err;
    CliffNet *train = np ? cliff_net_build(np, CLIFF__PHASE__TRAIN, NULL, &rng, &map, &err) : NULL;
    if (np && !train) CHECK_FAILF("TRAIN: %s", err.msg);
    CliffNet *test = np ? cliff_net_build(np, CLIFF__PHASE__TEST, NULL, &rng, &map, &err) : NULL;
    if (np && !test) CHECK_FAILF("TEST: %s", err.msg);
    if (train) {
        check_layers(train, "mnist conv1 pool1 conv2 pool2 ip1 relu1 ip2 loss");
        check_shapes(train, lenet_train_shapes, 9);
        check_outputs(train, "loss(loss)");
        /* 20*25+20 + 50*20*25+50 + 500*800+500 + 10*500+10 */
        CHECK(train->nparams == 8 && train->param_count == 431080);
        CHECK(train->params[0].lr_mult == 1 && train->params[1].lr_mult == 2);
        /* One pass: a finite loss (xavier weights, zero biases) and nonzero
         * finite gradients for every parameter blob. */
        cliff_net_zero_grads(train);
        double loss = cliff_net_forward(train);
        CHECK(isfinite(loss) && loss > 0.5 && loss < 10);
        cliff_net_backward(train);
        for (int p = 0; p < train->nparams; p++) {
            const CliffTensor *t = train->params[p].tensor;
            double norm = 0;
            for (size_t e = 0; e < t->count; e++) norm += (double)t->diff[e] * t->diff[e];
            if (!(isfinite(norm) && norm > 0))
                CHECK_FAILF("parameter %s has gradient norm^2 %g", train->params[p].name, norm);
        }
    }
    if (test) {
        check_layers(test, "mnist conv1 pool1 conv2 pool2 ip1 relu1 ip2 accuracy loss");
        check_shapes(test, lenet_test_shapes, 10);
        check_outputs(test, "accuracy loss(loss)");
        CHECK(test->param_count == 431080);
        cliff_net_forward(test);
        float acc = nfx_blob(test, "accuracy")->data[0];
        CHECK(acc >= 0 && acc <= 1);
    }
    cliff_net_free(train);
    cliff_net_free(test);
    if (np) protobuf_c_message_free_unpacked(&np->base, NULL);
    cliff_srcmap_free(&map);
}

/* Pooling rounds up: (16 - 3) / 2 -> 7, + 1 = 8; (8 - 3) / 2 -> 3, + 1 = 4. */
static const char *cifar_shapes[] = {
    "data=100x3x32x32",  "label=100",         "conv1=100x32x32x32", "pool1=100x32x16x16",
    "conv2=100x32x16x16", "pool2=100x32x8x8", "conv3=100x64x8x8",   "pool3=100x64x4x4",
    "ip1=100x64",        "ip2=100x10",        "loss=scalar",
};

static void test_caffe_cifar10_quick(void)
{
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    Cliff__NetParameter *np = load_net("tests/nets/caffe_cifar10_quick_hdf5.prototxt", &map);
    CliffRng rng;
    cliff_rng_seed(&rng, 4);
    CliffError err;
    for (int phase = CLIFF__PHASE__TRAIN; np && phase <= CLIFF__PHASE__TEST; phase++) {
        CliffNet *net = cliff_net_build(np, phase, NULL, &rng, &map, &err);
        if (!net) {
            CHECK_FAILF("%s: %s", phase == CLIFF__PHASE__TRAIN ? "TRAIN" : "TEST", err.msg);
            continue;
        }
        if (phase == CLIFF__PHASE__TRAIN) {
            check_layers(net, "cifar conv1 pool1 relu1 conv2 relu2 pool2 conv3 relu3 pool3 ip1 "
                              "ip2 loss");
            check_outputs(net, "loss(loss)");
        } else {
            check_layers(net, "cifar conv1 pool1 relu1 conv2 relu2 pool2 conv3 relu3 pool3 ip1 "
                              "ip2 accuracy loss");
            check_outputs(net, "accuracy loss(loss)");
            CHECK(nfx_blob(net, "accuracy") && nfx_blob(net, "accuracy")->num_axes == 0);
        }
        check_shapes(net, cifar_shapes, 11);
        /* 32*3*25+32 + 32*32*25+32 + 64*32*25+64 + 64*1024+64 + 10*64+10 */
        CHECK(net->nparams == 10 && net->param_count == 145578);
        if (phase == CLIFF__PHASE__TEST) {
            /* conv1's gaussian std 1e-4 (and 0.01 after) on inputs in [0, 1)
             * leave logits ~1e-5: the loss is ln 10 to ~1e-5. */
            double loss = cliff_net_forward(net);
            CHECK(fabs(loss - log(10.0)) < 1e-3);
        }
        cliff_net_free(net);
    }
    if (np) protobuf_c_message_free_unpacked(&np->base, NULL);
    cliff_srcmap_free(&map);
}

/* The four data sets the nets read (a failure fails this test, naming the call). */
static void write_fixtures(void)
{
    if (!mkdtemp(fixture_dir)) {
        CHECK_FAILF("cannot make %s", fixture_dir);
        return;
    }
    if (write_fixture(fixture_dir, "mnist_train", 8, 1, 28, 28) == 0 &&
        write_fixture(fixture_dir, "mnist_test", 8, 1, 28, 28) == 0 &&
        write_fixture(fixture_dir, "cifar10_train", 8, 3, 32, 32) == 0)
        write_fixture(fixture_dir, "cifar10_test", 8, 3, 32, 32);
}

int main(void)
{
    snprintf(fixture_dir, sizeof fixture_dir, "/tmp/cliff_net_caffe_XXXXXX");
    RUN(write_fixtures);
    if (check_tests_failed) return 1;
    RUN(test_caffe_lenet);
    RUN(test_caffe_cifar10_quick);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fixture_dir);
    if (system(cmd)) printf("note: could not remove %s\n", fixture_dir);
    return test_main_end();
}
