/* The solver's update checked against Caffe's SGD formula written out by hand
 * (in double) on a net small enough to differentiate by hand:
 *
 *   data x: n x 3 (HDF5Data), label y: n;  a = W x + b  (InnerProduct, 1 output)
 *   loss = sum_r (a_r - y_r)^2 / (2 n)      (EuclideanLoss)
 *   dW_j = sum_r (a_r - y_r) x_rj / n,  db = sum_r (a_r - y_r) / n
 *
 * and one iteration of SGD with momentum mu, per parameter blob p:
 *   g   = grad / iter_size   (the net sums iter_size batches of n / iter_size)
 *   s_p = clip factor: global_norm: C / |g| when |g| > C (|g| over all blobs);
 *         per_param_norm: C / |g_p| when |g_p| > C; else 1
 *   (value: each g clamped to [-C, C]; lr_adjusted: to +-C / (base_lr * lr_mult_p))
 *   g'  = s_p g + weight_decay * decay_mult_p * w
 *   v   = mu v + base_lr * lr_mult_p * g';   w -= v
 * The weights carry lr_mult 2, decay_mult 0.5; the bias lr_mult 0.5,
 * decay_mult 3, so that each multiplier and each term shows in the result.
 *
 * Also the guards no training run reaches: a step w - v that overflows while
 * the history stays finite is a bad step, and the snapshot writer refuses
 * non-finite weights or history. */
#include <float.h>

#include "solver_fixture.h"

#define ROWS 8
#define DIM 3

static const double kLr = 0.1, kMomentum = 0.9, kDecay = 0.1;
static const double kLrMult[2] = {2, 0.5}, kDecayMult[2] = {0.5, 3};

static float reg_label(int r) { return (float)(r % 3) - 0.5f; }

static char *linear_net(const char *list, int batch)
{
    char *s = NULL;
    if (asprintf(&s,
                 "net_param {\n"
                 "  layer { name: \"data\" type: \"HDF5Data\" top: \"data\" top: \"label\"\n"
                 "          hdf5_data_param { source: \"%s\" batch_size: %d } }\n"
                 "  layer { name: \"ip\" type: \"InnerProduct\" bottom: \"data\" top: \"ip\"\n"
                 "          param { lr_mult: %g decay_mult: %g } param { lr_mult: %g decay_mult: %g }\n"
                 "          inner_product_param { num_output: 1\n"
                 "            weight_filler { type: \"gaussian\" std: 0.5 }\n"
                 "            bias_filler { type: \"constant\" value: 0.2 } } }\n"
                 "  layer { name: \"loss\" type: \"EuclideanLoss\" bottom: \"ip\" bottom: \"label\"\n"
                 "          top: \"loss\" }\n"
                 "}\n",
                 list, batch, kLrMult[0], kDecayMult[0], kLrMult[1], kDecayMult[1]) < 0)
        s = NULL;
    return s;
}

/* The model by hand: p[0..DIM) = W, p[DIM] = b; v the momentum history. */
typedef struct Hand {
    double p[DIM + 1], v[DIM + 1];
    double norm, scale; /* of the last step: global gradient norm, smallest clip factor */
} Hand;

static void hand_grad(const double *p, double *g)
{
    for (int j = 0; j <= DIM; j++) g[j] = 0;
    for (int r = 0; r < ROWS; r++) {
        double a = p[DIM];
        for (int j = 0; j < DIM; j++) a += p[j] * fx_value(r, j);
        double d = a - reg_label(r);
        for (int j = 0; j < DIM; j++) g[j] += d * fx_value(r, j) / ROWS;
        g[DIM] += d / ROWS;
    }
}

enum { GLOBAL, PER_PARAM, VALUE, LR_ADJUSTED };
static const char *const mode_name[] = {"global_norm", "per_param_norm", "value", "lr_adjusted"};

static void hand_step(Hand *h, double clip, int mode)
{
    double g[DIM + 1], sq[2] = {0, 0};
    hand_grad(h->p, g);
    for (int j = 0; j <= DIM; j++) sq[j == DIM] += g[j] * g[j];
    h->norm = sqrt(sq[0] + sq[1]);
    double s[2] = {1, 1};
    for (int b = 0; b < 2 && mode <= PER_PARAM; b++) {
        double norm = mode == PER_PARAM ? sqrt(sq[b]) : h->norm;
        if (clip >= 0 && norm > clip) s[b] = clip / norm;
    }
    h->scale = fmin(s[0], s[1]);
    for (int j = 0; j <= DIM && mode >= VALUE; j++) { /* element clamps */
        const double bound = mode == VALUE ? clip : clip / (kLr * kLrMult[j == DIM]);
        if (fabs(g[j]) <= bound) continue;
        h->scale = fmin(h->scale, bound / fabs(g[j]));
        g[j] = g[j] > 0 ? bound : -bound;
    }
    for (int j = 0; j <= DIM; j++) {
        int b = j == DIM;
        double gj = s[b] * g[j] + kDecay * kDecayMult[b] * h->p[j];
        h->v[j] = kMomentum * h->v[j] + kLr * kLrMult[b] * gj;
        h->p[j] -= h->v[j];
    }
}

/* Two iterations of the solver against two by hand. clip < 0: off. */
static void check_against_hand(double clip, int mode, int iter_size)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", ROWS, DIM, fx_value, reg_label);
    char *net = linear_net(list, ROWS / iter_size);
    Cliff__SolverParameter *sp = fx_sp(
        "%s base_lr: %g momentum: %g weight_decay: %g lr_policy: \"fixed\" max_iter: 2 "
        "iter_size: %d random_seed: 5 clip_gradients: %g clip_policy: \"%s\" "
        "snapshot_after_train: false snapshot_prefix: \"%s/s\"",
        net, kLr, kMomentum, kDecay, iter_size, clip, mode_name[mode], dir);
    free(net);
    CliffError err;
    CliffSolver *s = fx_solver(sp, NULL);
    if (!s) return;
    CliffNet *n = cliff_solver_train_net(s);
    CHECK(n->nparams == 2 && n->params[0].count == DIM && n->params[1].count == 1);
    Hand h = {{0}, {0}, 0, 0};
    for (int j = 0; j <= DIM; j++) h.p[j] = n->param_slab[j];
    for (int it = 0; it < 2; it++) {
        hand_step(&h, clip, mode);
        if (cliff_solver_step(s, 1, &err)) CHECK_FAILF("step: %s", err.msg);
        const CliffSolverStats *st = cliff_solver_stats(s);
        CHECK(st->last_skipped == 0);
        CHECK_NEAR(st->grad_norm, h.norm, 1e-5);
        CHECK_NEAR(st->clip_scale, h.scale, 1e-5);
        /* clipping really is on (or off) in both iterations of the comparison */
        CHECK(clip < 0 ? h.scale == 1.0 : h.scale < 0.9);
        for (int j = 0; j <= DIM; j++) {
            const float *w = j < DIM ? &n->param_slab[n->params[0].offset + j]
                                     : &n->param_slab[n->params[1].offset];
            if (!(fabs(*w - h.p[j]) <= 2e-6 * fmax(1.0, fabs(h.p[j]))))
                CHECK_FAILF("clip %g %s, iter_size %d: iteration %d, parameter %d: solver %.9g, "
                            "by hand %.9g", clip, mode_name[mode], iter_size,
                            it, j, *w, h.p[j]);
        }
    }
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void test_sgd_step_by_hand_clipped(void) { check_against_hand(0.2, GLOBAL, 1); }
static void test_sgd_step_by_hand_per_param_clip(void) { check_against_hand(0.15, PER_PARAM, 1); }
static void test_sgd_step_by_hand_value_clip(void) { check_against_hand(0.05, VALUE, 1); }
static void test_sgd_step_by_hand_lr_adjusted(void) { check_against_hand(0.005, LR_ADJUSTED, 1); }
static void test_sgd_step_by_hand_unclipped(void) { check_against_hand(-1, GLOBAL, 1); }
static void test_sgd_step_by_hand_iter_size_clipped(void) { check_against_hand(0.2, GLOBAL, 2); }
static void test_sgd_step_by_hand_iter_size_unclipped(void) { check_against_hand(-1, GLOBAL, 2); }

/* AdaGrad's step is about lr_mult * base_lr * sign(g) while its history (sum of
 * g^2) stays small: with base_lr 3e38 and lr_mult 2 the weights' step is
 * infinite, the history finite. The step must be refused, nothing applied. */
static void test_overflowing_step_with_finite_history_is_bad(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", ROWS, DIM, fx_value, reg_label);
    char *net = linear_net(list, ROWS);
    Cliff__SolverParameter *sp =
        fx_sp("%s base_lr: 3e38 type: \"AdaGrad\" lr_policy: \"fixed\" max_iter: 1 "
              "random_seed: 5 max_bad_steps: 5 snapshot_after_train: false "
              "snapshot_prefix: \"%s/s\"", net, dir);
    free(net);
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    CliffError err;
    CliffSolver *s = fx_solver(sp, log);
    if (!s) {
        fclose(log);
        free(logbuf);
        return;
    }
    CliffNet *n = cliff_solver_train_net(s);
    float before[DIM + 1];
    memcpy(before, n->param_slab, sizeof before);
    CHECK(cliff_solver_step(s, 1, &err) == 0);
    fflush(log);
    CHECK(cliff_solver_stats(s)->skipped == 1);
    CHECK(memcmp(before, n->param_slab, sizeof before) == 0);
    int nh;
    const float *hist = cliff_solver_history(s, &nh);
    CHECK(fx_all_finite(hist, (size_t)nh * n->param_count));
    if (!strstr(logbuf, "update would make weights or history non-finite") ||
        !strstr(logbuf, "in parameter 'ip/0'"))
        CHECK_FAILF("no bad-step line for ip/0 in the log:\n%s", logbuf);
    cliff_solver_free(s);
    fclose(log);
    free(logbuf);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* Writes NaN into the weights (then the history) by hand: the snapshot is
 * refused with an error and no file is written. */
static void test_snapshot_refuses_non_finite(void)
{
    for (int where = 0; where < 2; where++) {
        char *dir = fx_tmpdir();
        const char *list = fx_h5data(dir, "d", ROWS, DIM, fx_value, reg_label);
        char *net = linear_net(list, ROWS);
        Cliff__SolverParameter *sp =
            fx_sp("%s base_lr: 0.1 momentum: 0.9 lr_policy: \"fixed\" max_iter: 1 "
                  "random_seed: 5 snapshot_prefix: \"%s/s\"", net, dir);
        free(net);
        CliffError err;
        CliffSolver *s = fx_solver(sp, NULL);
        if (!s) return;
        CHECK(cliff_solver_step(s, 1, &err) == 0);
        int nh;
        float *target = where == 0 ? cliff_solver_train_net(s)->param_slab
                                   : cliff_solver_history(s, &nh);
        target[1] = NAN;
        int files = fx_count_files(dir);
        err.msg[0] = 0;
        CHECK(cliff_solver_snapshot(s, &err) == -1);
        if (!strstr(err.msg, "refusing to snapshot non-finite"))
            CHECK_FAILF("%s: error '%s'", where ? "history" : "weights", err.msg);
        CHECK(fx_count_files(dir) == files); /* nothing written */
        cliff_solver_free(s);
        fx_free_sp(sp);
        fx_rmdir(dir);
    }
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(test_sgd_step_by_hand_clipped);
    RUN(test_sgd_step_by_hand_per_param_clip);
    RUN(test_sgd_step_by_hand_value_clip);
    RUN(test_sgd_step_by_hand_lr_adjusted);
    RUN(test_sgd_step_by_hand_unclipped);
    RUN(test_sgd_step_by_hand_iter_size_clipped);
    RUN(test_sgd_step_by_hand_iter_size_unclipped);
    RUN(test_overflowing_step_with_finite_history_is_bad);
    RUN(test_snapshot_refuses_non_finite);
    return test_main_end();
}
