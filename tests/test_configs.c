/* The shipped configs (configs/): every file reads; each YAML twin loads to
 * exactly the message its prototxt loads to; the example solvers carry the
 * values configs/README.md promises; Caffe's own files read unmodified.
 * Paths are relative to the repository root (tests/run.sh runs from there). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/config.h"
#include "proto/textformat.h"

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static Cliff__SolverParameter *load_solver(const char *path)
{
    Cliff__SolverParameter *s = NULL;
    CliffError err = {0};
    if (cliff_solver_load(path, NULL, NULL, 0, &s, NULL, &err) != 0) {
        CHECK_FAILF("%s", err.msg);
        return NULL;
    }
    return s;
}

/* Loads both solvers (nets resolved and inlined) and compares them printed. */
static void twins(const char *prototxt, const char *yaml)
{
    Cliff__SolverParameter *a = load_solver(prototxt), *b = load_solver(yaml);
    if (a && b) {
        char *ta = cliff_text_print(&a->base), *tb = cliff_text_print(&b->base);
        CHECK(ta && tb);
        if (ta && tb && strcmp(ta, tb) != 0) CHECK_FAILF("%s and %s differ", prototxt, yaml);
        free(ta);
        free(tb);
    }
    if (a) protobuf_c_message_free_unpacked(&a->base, NULL);
    if (b) protobuf_c_message_free_unpacked(&b->base, NULL);
}

static void test_lenet_twins(void) { twins("configs/lenet_solver.prototxt", "configs/lenet_solver.yaml"); }
static void test_mlp_twins(void) { twins("configs/mlp_solver.prototxt", "configs/mlp_solver.yaml"); }

static void test_lenet_solver_values(void)
{
    Cliff__SolverParameter *s = load_solver("configs/lenet_solver.prototxt");
    if (!s) return;
    CHECK(s->n_test_iter == 1 && s->test_iter[0] == 100 && s->test_interval == 500);
    CHECK(s->base_lr == 0.01f && s->momentum == 0.9f && s->weight_decay == 0.0005f);
    CHECK(streq(s->lr_policy, "inv") && s->gamma == 0.0001f && s->power == 0.75f);
    CHECK(s->display == 100 && s->max_iter == 10000 && s->snapshot == 5000);
    CHECK(streq(s->snapshot_prefix, "build/lenet/lenet"));
    CHECK(s->has_clip_gradients && s->clip_gradients == 1.0f);
    CHECK(s->has_random_seed && s->random_seed == 1);
    CHECK(streq(s->type, "SGD") && s->solver_mode == CLIFF__SOLVER_PARAMETER__SOLVER_MODE__CPU);
    /* cliff's own fields keep their defaults */
    CHECK(streq(s->clip_policy, "global_norm") && s->max_bad_steps == 5 &&
          streq(s->log_format, "human") && (s->metrics_file == NULL || s->metrics_file[0] == 0));
    const Cliff__NetParameter *n = s->net_param;
    CHECK(n && n->n_layer == 11);
    if (n && n->n_layer == 11) {
        const Cliff__LayerParameter *d = n->layer[0], *c1 = n->layer[2], *ip2 = n->layer[8];
        CHECK(streq(d->type, "HDF5Data") && d->hdf5_data_param &&
              streq(d->hdf5_data_param->source, "build/data/fashion-mnist/train.txt") &&
              d->hdf5_data_param->batch_size == 64 && d->transform_param == NULL);
        CHECK(n->layer[1]->hdf5_data_param && n->layer[1]->hdf5_data_param->batch_size == 100);
        CHECK(streq(c1->type, "Convolution") && c1->convolution_param->num_output == 20 &&
              c1->convolution_param->kernel_size[0] == 5 &&
              streq(c1->convolution_param->weight_filler->type, "xavier"));
        CHECK(c1->n_param == 2 && c1->param[1]->lr_mult == 2.0f);
        CHECK(streq(ip2->name, "ip2") && ip2->inner_product_param->num_output == 10);
        CHECK(streq(n->layer[10]->type, "SoftmaxWithLoss"));
    }
    protobuf_c_message_free_unpacked(&s->base, NULL);
}

static void test_mlp_solver_values(void)
{
    Cliff__SolverParameter *s = load_solver("configs/mlp_solver.prototxt");
    if (!s) return;
    CHECK(streq(s->lr_policy, "step") && s->gamma == 0.1f && s->stepsize == 4000);
    CHECK(s->momentum == 0.9f && streq(s->type, "SGD"));
    const Cliff__NetParameter *n = s->net_param;
    CHECK(n && n->n_layer == 7);
    if (n && n->n_layer == 7) {
        CHECK(n->layer[2]->inner_product_param->num_output == 256);
        CHECK(streq(n->layer[3]->type, "ReLU"));
        CHECK(n->layer[4]->inner_product_param->num_output == 10);
    }
    protobuf_c_message_free_unpacked(&s->base, NULL);
}

/* Caffe's files: read as they stand (their nets name LMDB paths cliff does
 * not have, so the solvers are read without resolving nets). */
static void test_caffe_files_read(void)
{
    static const char *nets[] = {"tests/caffe/lenet_train_test.prototxt",
                                 "tests/caffe/cifar10_quick_train_test.prototxt",
                                 "tests/caffe/lenet_v1.prototxt"};
    static const size_t nlayers[] = {11, 15, 11};
    for (int i = 0; i < 3; i++) {
        Cliff__NetParameter *n = NULL;
        CliffError err = {0};
        if (cliff_net_load(nets[i], NULL, &n, NULL, &err) != 0) {
            CHECK_FAILF("%s", err.msg);
            continue;
        }
        CHECK(n->n_layer == nlayers[i] && n->n_layers == 0);
        protobuf_c_message_free_unpacked(&n->base, NULL);
    }
    static const char *solvers[] = {"tests/caffe/lenet_solver.prototxt",
                                    "tests/caffe/cifar10_quick_solver.prototxt"};
    for (int i = 0; i < 2; i++) {
        ProtobufCMessage *m = NULL;
        CliffError err = {0};
        if (cliff_config_read_file(solvers[i], NULL, &cliff__solver_parameter__descriptor, &m, NULL,
                                   &err) != 0) {
            CHECK_FAILF("%s", err.msg);
            continue;
        }
        Cliff__SolverParameter *s = (Cliff__SolverParameter *)m;
        CHECK(s->solver_mode == CLIFF__SOLVER_PARAMETER__SOLVER_MODE__GPU && s->n_test_iter == 1);
        if (i == 1) CHECK(s->snapshot_format == CLIFF__SOLVER_PARAMETER__SNAPSHOT_FORMAT__HDF5 &&
                          streq(s->lr_policy, "fixed") && s->max_iter == 4000);
        protobuf_c_message_free_unpacked(m, NULL);
    }
}

int main(void)
{
    RUN(test_lenet_twins);
    RUN(test_mlp_twins);
    RUN(test_lenet_solver_values);
    RUN(test_mlp_solver_values);
    RUN(test_caffe_files_read);
    return test_main_end();
}
