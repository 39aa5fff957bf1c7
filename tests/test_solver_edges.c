/* The solver step where the hand-derived test (test_solver_update.c) does not
 * reach:
 *   - a parameter blob larger than one chunk of the fused update pass: every
 *     element moves by exactly -lr * g, the gradient the net computes;
 *   - the reported loss of iter_size k batches of n/k is their mean, the loss
 *     of one batch of n;
 *   - a loss that overflows to inf while the gradient stays finite is a bad
 *     step: the weights stay as they were and the step is counted skipped. */
#include <float.h>

#include "solver_fixture.h"

/* data n x dim, an InnerProduct of `outputs` (1: the label's shape),
 * EuclideanLoss against the label. */
static char *wide_net(const char *list, int batch, int outputs)
{
    char *s = NULL;
    if (asprintf(&s,
                 "net_param {\n"
                 "  layer { name: \"data\" type: \"HDF5Data\" top: \"data\" top: \"label\"\n"
                 "          hdf5_data_param { source: \"%s\" batch_size: %d } }\n"
                 "  layer { name: \"ip\" type: \"InnerProduct\" bottom: \"data\" top: \"ip\"\n"
                 "          inner_product_param { num_output: %d\n"
                 "            weight_filler { type: \"gaussian\" std: 0.05 } } }\n"
                 "  layer { name: \"loss\" type: \"EuclideanLoss\" bottom: \"ip\" bottom: \"label\"\n"
                 "          top: \"loss\" }\n"
                 "}\n",
                 list, batch, outputs) < 0)
        s = NULL;
    return s;
}

/* The solver keeps *sp: free it (fx_free_sp) after cliff_solver_free. Files
 * (the metrics CSV) go to dir. */
/* The solver for net with `extra` settings; NULL (reported, *sp freed and
 * NULL) when it cannot be made. */
static CliffSolver *make(const char *dir, const char *net, const char *extra,
                         Cliff__SolverParameter **sp)
{
    *sp = fx_sp("%s type: \"SGD\" lr_policy: \"fixed\" max_iter: 10 display: 0 "
                "random_seed: 3 snapshot_after_train: false snapshot_prefix: \"%s/run\" %s",
                net, dir, extra);
    CliffSolver *s = fx_solver(*sp, NULL);
    if (!s) *sp = NULL;
    return s;
}

static float one_label(int r) { (void)r; return 1.0f; }

/* 4 rows x 3000 inputs into 1 output: 3,000 weights, more than one chunk. */
static void test_blob_wider_than_a_chunk(void)
{
    enum { ROWS = 4, DIM = 3000, OUT = 1 };
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", ROWS, DIM, fx_value, one_label);
    char *net = wide_net(list, ROWS, OUT);
    CliffError err;
    Cliff__SolverParameter *sp;
    CliffSolver *s = make(dir, net, "base_lr: 0.1", &sp);
    free(net);
    if (!s) {
        fx_rmdir(dir);
        return;
    }
    CliffNet *n = cliff_solver_train_net(s);
    CHECK(n->param_count == (size_t)DIM * OUT + OUT);
    /* The gradient of this batch (every batch is the whole data set). */
    float *w0 = malloc(n->param_count * sizeof *w0), *g = malloc(n->param_count * sizeof *g);
    memcpy(w0, n->param_slab, n->param_count * sizeof *w0);
    cliff_net_zero_grads(n);
    cliff_net_forward(n);
    cliff_net_backward(n);
    memcpy(g, n->grad_slab, n->param_count * sizeof *g);
    CHECK(cliff_solver_step(s, 1, &err) == 0);
    size_t wrong = 0, moved = 0;
    for (size_t e = 0; e < n->param_count; e++) {
        float want = w0[e] - 0.1f * g[e];
        wrong += fabsf(n->param_slab[e] - want) > 1e-6f * fmaxf(1.0f, fabsf(want));
        moved += n->param_slab[e] != w0[e];
    }
    CHECK(wrong == 0);
    CHECK(moved > n->param_count / 2);
    free(w0);
    free(g);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static double first_loss(const char *dir, const char *list, int batch, int iter_size)
{
    char *net = wide_net(list, batch, 1);
    char extra[64];
    snprintf(extra, sizeof extra, "base_lr: 0.01 iter_size: %d", iter_size);
    CliffError err;
    Cliff__SolverParameter *sp;
    CliffSolver *s = make(dir, net, extra, &sp);
    free(net);
    if (!s) return NAN;
    CHECK(cliff_solver_step(s, 1, &err) == 0);
    double loss = cliff_solver_stats(s)->loss;
    cliff_solver_free(s);
    fx_free_sp(sp);
    return loss;
}

static void test_iter_size_loss_is_the_mean(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 8, 3, fx_value, fx_label);
    double whole = first_loss(dir, list, 8, 1), halves = first_loss(dir, list, 4, 2);
    CHECK(whole > 0.1);
    CHECK_NEAR(halves, whole, 1e-6);
    fx_rmdir(dir);
}

static float huge_label(int r) { return (float)(r + 1) * 1e19f; }

static void test_infinite_loss_with_finite_gradient_is_skipped(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 8, 3, fx_value, huge_label);
    char *net = wide_net(list, 8, 1);
    CliffError err;
    /* Clipping keeps the update itself finite: only the loss is not. */
    Cliff__SolverParameter *sp;
    CliffSolver *s = make(dir, net, "base_lr: 0.01 clip_gradients: 1", &sp);
    free(net);
    if (!s) {
        fx_rmdir(dir);
        return;
    }
    CliffNet *n = cliff_solver_train_net(s);
    float *w0 = malloc(n->param_count * sizeof *w0);
    memcpy(w0, n->param_slab, n->param_count * sizeof *w0);
    CHECK(cliff_solver_step(s, 1, &err) == 0);
    const CliffSolverStats *st = cliff_solver_stats(s);
    CHECK(isinf(st->loss));
    CHECK(isfinite(st->grad_norm));
    CHECK(st->skipped == 1 && st->last_skipped);
    CHECK(memcmp(w0, n->param_slab, n->param_count * sizeof *w0) == 0);
    free(w0);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

int main(void)
{
    RUN(test_blob_wider_than_a_chunk);
    RUN(test_iter_size_loss_is_the_mean);
    RUN(test_infinite_loss_with_finite_gradient_is_skipped);
    return test_main_end();
}
