/* The solver step gives the same bits on one thread and on two: a run from
 * inside a fork-join chunk runs every job serially on its caller (fork_join.h),
 * so the same training, once from the main thread (its passes over the
 * parameter slab, the gaussian DummyData fill and the layers shared out) and
 * once from inside a chunk, must leave identical weights and identical
 * gradient norms. The blobs span several slab blocks (slab_blocks.h), so a
 * norm summed per thread, or blocks summed in the order they finish, shows. */
#include <cblas.h>

#include "layers/kernels/fork_join.h"
#include "solver_fixture.h"

#define ITERS 3

/* DummyData (gaussian data 32 x 96 and target 32 x 10) -> ip1 (1500 outputs:
 * 144000 weights, 5 blocks) -> ReLU -> Dropout -> ip2 (10) -> EuclideanLoss. */
static const char *net_text =
    "net_param {\n"
    "  layer { name: \"data\" type: \"DummyData\" top: \"data\" top: \"target\"\n"
    "          dummy_data_param { shape { dim: 32 dim: 96 } shape { dim: 32 dim: 10 }\n"
    "            data_filler { type: \"gaussian\" std: 1 } } }\n"
    "  layer { name: \"ip1\" type: \"InnerProduct\" bottom: \"data\" top: \"ip1\"\n"
    "          inner_product_param { num_output: 1500\n"
    "            weight_filler { type: \"gaussian\" std: 0.05 } } }\n"
    "  layer { name: \"relu\" type: \"ReLU\" bottom: \"ip1\" top: \"ip1\" }\n"
    "  layer { name: \"drop\" type: \"Dropout\" bottom: \"ip1\" top: \"ip1\" }\n"
    "  layer { name: \"ip2\" type: \"InnerProduct\" bottom: \"ip1\" top: \"ip2\"\n"
    "          inner_product_param { num_output: 10\n"
    "            weight_filler { type: \"gaussian\" std: 0.05 } } }\n"
    "  layer { name: \"loss\" type: \"EuclideanLoss\" bottom: \"ip2\" bottom: \"target\"\n"
    "          top: \"loss\" }\n"
    "}\n";

typedef struct Run {
    const char *solver_fields;
    float *weights; /* param_count, after ITERS steps */
    size_t count;
    double norms[ITERS];
} Run;

static void train(Run *r)
{
    Cliff__SolverParameter *sp =
        fx_sp("%s %s lr_policy: \"fixed\" max_iter: %d random_seed: 11 "
              "snapshot_after_train: false metrics_file: \"/dev/null\"",
              net_text, r->solver_fields, ITERS);
    CliffSolver *s = fx_solver(sp, NULL);
    if (!s) {
        fx_free_sp(sp);
        return;
    }
    CliffError err;
    for (int it = 0; it < ITERS; it++) {
        if (cliff_solver_step(s, 1, &err)) CHECK_FAILF("step: %s", err.msg);
        r->norms[it] = cliff_solver_stats(s)->grad_norm;
    }
    const CliffNet *n = cliff_solver_train_net(s);
    r->count = n->param_count;
    r->weights = malloc(r->count * sizeof *r->weights);
    if (r->weights) memcpy(r->weights, n->param_slab, r->count * sizeof *r->weights);
    cliff_solver_free(s);
    fx_free_sp(sp);
}

static void train_in_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    if (chunk == 0) train(arg);
}

static void check_rule(const char *fields)
{
    Run serial = {fields, NULL, 0, {0}};
    cliff_fj_for(2, train_in_chunk, &serial);
    for (int rep = 0; rep < 2; rep++) { /* a busy machine may leave the helper idle once */
        Run par = {fields, NULL, 0, {0}};
        train(&par);
        CHECK(par.weights && serial.weights && par.count == serial.count);
        if (par.weights && serial.weights && par.count == serial.count) {
            CHECK(memcmp(par.weights, serial.weights, par.count * sizeof(float)) == 0);
            CHECK(memcmp(par.norms, serial.norms, sizeof par.norms) == 0);
        }
        free(par.weights);
    }
    free(serial.weights);
}

static void test_sgd_clipped_threads_bit_identical(void)
{
    check_rule("base_lr: 0.01 momentum: 0.9 weight_decay: 0.0005 clip_gradients: 0.5");
}

static void test_adam_threads_bit_identical(void)
{
    check_rule("type: \"Adam\" base_lr: 0.001 momentum: 0.9 momentum2: 0.999 "
               "weight_decay: 0.0005 regularization_type: \"L1\"");
}

int main(void)
{
    openblas_set_num_threads(2); /* the fork-join's threads follow OpenBLAS's count */
    if (cliff_fj_threads() < 2) {
        printf("# one thread only: thread-count checks skipped\n");
        return test_main_end();
    }
    RUN(test_sgd_clipped_threads_bit_identical);
    RUN(test_adam_threads_bit_identical);
    return test_main_end();
}
