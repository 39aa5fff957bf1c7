/* Recovery (solver/recovery.h): the median and the spike rule worked out by
 * hand, the dead-run rule by hand and end to end, the last good state saved on
 * a stop (its first forward is finite), rollbacks that recover a diverging
 * run, and the ring restoring bit for bit what a snapshot restores. */
#include "solver_fixture.h"
#include "solver/solver_impl.h"

/* ---- closed forms ---- */

static void test_median_and_spike(void)
{
    double x[5] = {5, 1, 4, 2, 3};
    CHECK(cliff_median(x, 5) == 3);
    CHECK(cliff_median(x, 4) == 3); /* 1 2 4 5: (2 + 4) / 2 */
    CHECK(x[0] == 5 && x[1] == 1);  /* not reordered */
    CliffRecovery r;
    memset(&r, 0, sizeof r);
    r.spike_factor = 2;
    /* 1..50: median (25 + 26) / 2 = 25.5, threshold 51 */
    for (int i = 1; i < CLIFF_SPIKE_WINDOW; i++) cliff_spike_push(&r, i);
    CHECK(!cliff_spike_check(&r, 1e9)); /* 49 losses: the window is not full */
    cliff_spike_push(&r, CLIFF_SPIKE_WINDOW);
    CHECK(!cliff_spike_check(&r, 51.0));
    CHECK(cliff_spike_check(&r, 51.0001));
    /* the window slides: 50 more losses of 1 put the median at 1 */
    for (int i = 0; i < CLIFF_SPIKE_WINDOW; i++) cliff_spike_push(&r, 1);
    CHECK(cliff_spike_check(&r, 2.0001) && !cliff_spike_check(&r, 2.0));
    r.spike_factor = 0; /* off */
    CHECK(!cliff_spike_check(&r, 1e30));
}

static void test_dead_rule(void)
{
    CliffRecovery r;
    memset(&r, 0, sizeof r);
    r.ref_loss = r.ref_grad = NAN;
    r.softmax_loss = log(10.0);
    r.dead_windows = 3;
    r.dead_eps = 0.02;
    r.dead_grad_ratio = 0.1;
    r.dead_since = -1;
    /* iteration 0 sets the references (loss 2.28, grad norm 2.5) and is a
     * window of its own: not dead (its gradient is the reference) */
    CHECK(!cliff_dead_update(&r, 0, 2.28, 2.5, NAN, 1));
    CHECK(r.ref_loss == 2.28 && r.ref_grad == 2.5);
    int it = 1, events = 0;
    /* windows of 10: loss ln 10 + 0.04 (within 2% of ln 10 = 2.3026, not of
     * 2.28 + 2% = 2.3256 either way), grad 0.2 < 0.25 */
    for (int w = 0; w < 3; w++)
        for (int k = 0; k < 10; k++, it++)
            events += cliff_dead_update(&r, it, log(10.0) + 0.04, 0.2, NAN, it % 10 == 0);
    CHECK(events == 1);
    CHECK(r.dead_since == 1 && r.ended_dead);
    /* a window with the gradient back (0.3 >= 0.25) resets the count */
    for (int k = 0; k < 10; k++, it++) events += cliff_dead_update(&r, it, 2.3, 0.3, NAN, it % 10 == 0);
    CHECK(events == 1 && !r.ended_dead && r.dead_in_row == 0);
    /* a loss away from both references (2.4: 4.2% from ln 10) is alive */
    for (int k = 0; k < 30; k++, it++) events += cliff_dead_update(&r, it, 2.4, 0.01, NAN, it % 10 == 0);
    CHECK(events == 1);
    /* non-finite iterations are left out of the window's means */
    for (int k = 0; k < 30; k++, it++)
        events += cliff_dead_update(&r, it, k % 2 ? NAN : 2.3, 0.01, NAN, it % 10 == 0);
    CHECK(events == 2);
    r.dead_windows = 0; /* off */
    for (int k = 0; k < 50; k++, it++) events += cliff_dead_update(&r, it, 2.3, 0.01, NAN, it % 10 == 0);
    CHECK(events == 2);
}

/* A regression net stuck at the targets' mean: its first loss (8.4) and ln C
 * (no softmax) are far off, the mean predictor's loss is the reference. */
static void test_dead_rule_mean_predictor(void)
{
    CliffRecovery r;
    memset(&r, 0, sizeof r);
    r.ref_loss = r.ref_grad = NAN;
    r.softmax_loss = NAN;
    r.dead_windows = 2;
    r.dead_eps = 0.05;
    r.dead_grad_ratio = 0.1;
    r.dead_since = -1;
    CHECK(!cliff_dead_update(&r, 0, 8.4, 4.0, 0.2, 1));
    int it = 1, events = 0;
    /* windows of 10 whose reference averages 0.2 (0.15 / 0.25 alternating):
     * loss 0.205 is within 5%, grad 0.3 < 0.4 */
    for (int k = 0; k < 20; k++, it++)
        events += cliff_dead_update(&r, it, 0.205, 0.3, k % 2 ? 0.15 : 0.25, it % 10 == 0);
    CHECK(events == 1 && r.dead_since == 1);
    /* 0.22 is 10% above the reference: alive */
    for (int k = 0; k < 20; k++, it++)
        events += cliff_dead_update(&r, it, 0.22, 0.3, 0.2, it % 10 == 0);
    CHECK(events == 1 && !r.ended_dead);
    /* without a reference (NAN) the same losses are alive */
    for (int k = 0; k < 20; k++, it++)
        events += cliff_dead_update(&r, it, 0.2, 0.3, NAN, it % 10 == 0);
    CHECK(events == 1 && !r.ended_dead);
}

/* ---- end to end ---- */

/* A linear regression (4 inputs, EuclideanLoss against a linear target): SGD
 * diverges geometrically when base_lr is past 2 / (the largest eigenvalue of
 * the inputs' second moment). */
static float reg_target(int r)
{
    return fx_value(r, 0) - 0.5f * fx_value(r, 1) + 0.25f * fx_value(r, 3);
}

static char *reg_net(const char *list)
{
    char *s = NULL;
    if (asprintf(&s,
                 "net_param { name: \"reg\"\n"
                 "  layer { name: \"data\" type: \"HDF5Data\" top: \"data\" top: \"label\"\n"
                 "          hdf5_data_param { source: \"%s\" batch_size: 8 } }\n"
                 "  layer { name: \"ip\" type: \"InnerProduct\" bottom: \"data\" top: \"ip\"\n"
                 "          inner_product_param { num_output: 1\n"
                 "            weight_filler { type: \"gaussian\" std: 0.1 } } }\n"
                 "  layer { name: \"re\" type: \"Reshape\" bottom: \"label\" top: \"t2\"\n"
                 "          reshape_param { shape { dim: -1 dim: 1 } } }\n"
                 "  layer { name: \"loss\" type: \"EuclideanLoss\" bottom: \"ip\" bottom: \"t2\"\n"
                 "          top: \"loss\" }\n"
                 "}\n",
                 list) < 0)
        s = NULL;
    return s;
}

static CliffSolver *reg_solver(const char *dir, const char *extra, Cliff__SolverParameter **out)
{
    const char *list = fx_h5data(dir, "r", 64, 4, fx_value, reg_target);
    char *net = reg_net(list);
    Cliff__SolverParameter *sp = fx_sp("%s lr_policy: \"fixed\" random_seed: 3 "
                                       "snapshot_after_train: false snapshot_prefix: \"%s/s\" %s",
                                       net, dir, extra);
    free(net);
    *out = sp;
    return fx_solver(sp, NULL);
}

/* A run whose weights blow up stops with the last good state saved; resuming
 * from that state, the first forward is finite (before the fix the state saved
 * was the one whose forward had already overflowed). */
static void test_last_good_state_resumes_finite(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp;
    CliffSolver *s = reg_solver(dir, "base_lr: 20 max_iter: 500 max_bad_steps: 2", &sp);
    if (!s) return;
    CliffError err;
    CHECK(cliff_solver_solve(s, &err) == -1);
    CHECK(strstr(err.msg, "Last good state saved in") != NULL);
    char state[1024];
    snprintf(state, sizeof state, "%s", cliff_solver_stats(s)->last_snapshot);
    /* two bad steps (the counters are the last good state's, the events are not) */
    CHECK(cliff_solver_stats(s)->nonfinite_events == 2);
    CHECK(cliff_solver_stats(s)->skipped == 0);
    cliff_solver_free(s);
    fx_free_sp(sp);

    s = reg_solver(dir, "base_lr: 20 max_iter: 500 max_bad_steps: 2", &sp);
    if (!s) return;
    if (cliff_solver_restore(s, state, &err)) CHECK_FAILF("restore: %s", err.msg);
    CHECK(cliff_solver_step(s, 1, &err) == 0);
    CHECK(isfinite(cliff_solver_stats(s)->loss));
    CHECK(!cliff_solver_stats(s)->last_skipped);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* recovery stop: the first bad step stops the run (max_bad_steps is not waited for). */
static void test_stop_at_first_event(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp;
    CliffSolver *s = reg_solver(dir, "base_lr: 20 max_iter: 500 recovery: \"stop\" "
                                     "spike_factor: 0", &sp);
    if (!s) return;
    CliffError err;
    CHECK(cliff_solver_solve(s, &err) == -1);
    CHECK(strstr(err.msg, "non-finite step") && strstr(err.msg, "Last good state saved in"));
    CHECK(cliff_solver_stats(s)->nonfinite_events == 1);
    CHECK(err.kind == CLIFF_ERR_NONFINITE);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* recovery rollback: a diverging run goes back, scales its lr down and
 * finishes. At base_lr 2 the loss spike is found (iteration 50, when the
 * spike window is full) before anything overflows: one rollback, and the run
 * converges. At base_lr 8 the loss overflows first (non-finite steps): the
 * newest good states are already far out, so the run finishes with finite
 * weights but far from the optimum (what rollback can and cannot do). */
static void check_rollback(const char *lr, int converges)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp;
    char extra[200];
    snprintf(extra, sizeof extra, "base_lr: %s max_iter: 400 recovery: \"rollback\"", lr);
    CliffSolver *s = reg_solver(dir, extra, &sp);
    if (!s) return;
    CliffError err;
    int rc = cliff_solver_solve(s, &err);
    if (rc) CHECK_FAILF("solve: %s", err.msg);
    const CliffSolverStats *st = cliff_solver_stats(s);
    CHECK(st->iter == 400);
    CHECK(st->rollbacks >= 1 && st->rollbacks <= 5);
    CHECK(st->lr_scale == pow(0.5, st->rollbacks));
    if (converges) {
        CHECK(st->rollbacks == 1 && st->spikes == 1 && st->nonfinite_events == 0);
        CHECK(st->loss < 1e-6);
    } else {
        CHECK(st->nonfinite_events >= 1);
    }
    CliffNet *n = cliff_solver_train_net(s);
    CHECK(fx_all_finite(n->param_slab, n->param_count));
    /* the lr scale and the counts are saved with a snapshot */
    CHECK(cliff_solver_snapshot(s, &err) == 0);
    char state[1024];
    snprintf(state, sizeof state, "%s", st->last_snapshot);
    int rollbacks = st->rollbacks;
    double scale = st->lr_scale;
    cliff_solver_free(s);
    fx_free_sp(sp);
    s = reg_solver(dir, extra, &sp);
    if (!s) return;
    if (cliff_solver_restore(s, state, &err)) CHECK_FAILF("restore: %s", err.msg);
    CHECK(cliff_solver_stats(s)->rollbacks == rollbacks);
    CHECK(cliff_solver_stats(s)->lr_scale == scale);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void test_rollback_recovers(void) { check_rollback("2", 1); }
static void test_rollback_after_overflow_finishes(void) { check_rollback("8", 0); }

/* Rolling back to a ring state S and running on gives the same bits as
 * resuming from a snapshot taken at S and running on. */
static void test_ring_restores_bit_exactly(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 30, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 1, 1); /* shuffled, with dropout: cursors and RNG matter */
    const char *fmt = "%s base_lr: 0.2 momentum: 0.9 type: \"Adam\" lr_policy: \"fixed\" "
                      "max_iter: 100 random_seed: 5 recovery_interval: 5 snapshot: 10 "
                      "snapshot_after_train: false snapshot_prefix: \"%s/s\"";
    Cliff__SolverParameter *sp = fx_sp(fmt, net, dir);
    CliffSolver *s = fx_solver(sp, NULL);
    if (!s) return;
    CliffError err;
    CHECK(cliff_solver_step(s, 17, &err) == 0); /* ring: 5, 10, 15; snapshot at 10 */
    CHECK(cliff_ring_restore_before(s, 11, &err) == 10);
    CHECK(cliff_solver_iter(s) == 10);
    CHECK(cliff_solver_step(s, 9, &err) == 0);
    CliffNet *n = cliff_solver_train_net(s);
    size_t count = n->param_count;
    float *a = malloc(count * sizeof *a);
    memcpy(a, n->param_slab, count * sizeof *a);
    cliff_solver_free(s);
    fx_free_sp(sp);

    sp = fx_sp(fmt, net, dir);
    s = fx_solver(sp, NULL);
    if (!s) return;
    char state[300];
    snprintf(state, sizeof state, "%s/s_iter_10.solverstate.h5", dir);
    if (cliff_solver_restore(s, state, &err)) CHECK_FAILF("restore: %s", err.msg);
    CHECK(cliff_solver_step(s, 9, &err) == 0);
    n = cliff_solver_train_net(s);
    CHECK(cliff_solver_iter(s) == 19);
    CHECK(memcmp(a, n->param_slab, count * sizeof *a) == 0);
    free(a);
    free(net);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* Rows 0-5 carry the signal; the rest are zeros with balanced labels: after
 * the first batch the classifier sees nothing, its loss settles at ln 3 and
 * its gradient vanishes (a run gone dead, as one whose ReLUs all died). */
static float dead_value(int r, int c) { return r < 6 ? 3 * fx_value(r, c) : 0.0f; }

static void check_dead_run(const char *recovery)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 606, 4, dead_value, fx_label);
    char *net = fx_net(list, 6, 0, 0);
    Cliff__SolverParameter *sp =
        fx_sp("%s base_lr: 0.5 lr_policy: \"fixed\" max_iter: 80 random_seed: 1 display: 10 "
              "dead_windows: 3 recovery: \"%s\" snapshot_after_train: false "
              "snapshot_prefix: \"%s/s\"", net, recovery, dir);
    free(net);
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    CliffSolver *s = fx_solver(sp, log);
    if (!s) return;
    CliffError err;
    int rc = cliff_solver_solve(s, &err);
    fflush(log);
    const CliffSolverStats *st = cliff_solver_stats(s);
    CHECK(st->dead_events >= 1);
    CHECK(strstr(logbuf, "dead run: 3 display windows in a row") != NULL);
    if (!strcmp(recovery, "skip")) {
        CHECK(rc == 0);
        CHECK(st->ended_dead);
        CHECK(strstr(logbuf, "The run ended DEAD") != NULL);
    } else {
        CHECK(rc == -1);
        CHECK(strstr(err.msg, "dead run") != NULL);
        CHECK(err.kind == CLIFF_ERR_DEAD_RUN); /* train exits 5 (tools/exit_codes.h) */
    }
    /* a metrics row for the event */
    char path[300], line[512];
    snprintf(path, sizeof path, "%s/s_metrics.csv", dir);
    FILE *f = fopen(path, "r");
    int rows = 0;
    while (f && fgets(line, sizeof line, f)) rows += !strncmp(line, "event,", 6) && strstr(line, ",dead,");
    if (f) fclose(f);
    CHECK(rows == (int)st->dead_events);
    fclose(log);
    free(logbuf);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void test_dead_run_detected_skip(void) { check_dead_run("skip"); }
static void test_dead_run_stops(void) { check_dead_run("stop"); }

/* A regression net whose hidden ReLUs are all dead from the start (bias
 * -10): only the output bias learns, it settles at the targets' mean (5 +
 * a small signal) and the gradient collapses to the batch noise. Neither the
 * first loss (~13) nor ln C matches the loss it sits at; the mean predictor's
 * does: a dead event. Control: the same net with live ReLUs learns the linear
 * target below the mean predictor's loss and raises none. */
static float mean_target(int r) { return 5.0f + reg_target(r); }

static void check_regression_dead(float hidden_bias, int want_dead)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "m", 256, 4, fx_value, mean_target);
    Cliff__SolverParameter *sp = fx_sp(
        "net_param { name: \"stuck\"\n"
        "  layer { name: \"data\" type: \"HDF5Data\" top: \"data\" top: \"label\"\n"
        "          hdf5_data_param { source: \"%s\" batch_size: 16 } }\n"
        "  layer { name: \"h\" type: \"InnerProduct\" bottom: \"data\" top: \"h\"\n"
        "          inner_product_param { num_output: 16\n"
        "            weight_filler { type: \"gaussian\" std: 0.5 }\n"
        "            bias_filler { type: \"constant\" value: %g } } }\n"
        "  layer { name: \"relu\" type: \"ReLU\" bottom: \"h\" top: \"h\" }\n"
        "  layer { name: \"out\" type: \"InnerProduct\" bottom: \"h\" top: \"y\"\n"
        "          inner_product_param { num_output: 1\n"
        "            weight_filler { type: \"gaussian\" std: 0.1 } } }\n"
        "  layer { name: \"re\" type: \"Reshape\" bottom: \"label\" top: \"t\"\n"
        "          reshape_param { shape { dim: -1 dim: 1 } } }\n"
        "  layer { name: \"loss\" type: \"EuclideanLoss\" bottom: \"y\" bottom: \"t\"\n"
        "          top: \"loss\" }\n"
        "}\n"
        "base_lr: 0.05 momentum: 0.9 lr_policy: \"fixed\" max_iter: 400 random_seed: 1 "
        "display: 20 dead_windows: 3 snapshot_after_train: false snapshot_prefix: \"%s/s\"",
        list, (double)hidden_bias, dir);
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    CliffSolver *s = fx_solver(sp, log);
    if (!s) return;
    CliffError err;
    CHECK(cliff_solver_solve(s, &err) == 0);
    fflush(log);
    const CliffSolverStats *st = cliff_solver_stats(s);
    if (want_dead) {
        CHECK(st->dead_events >= 1 && st->ended_dead);
        CHECK(strstr(logbuf, "dead run: 3 display windows in a row") != NULL);
    } else {
        CHECK(st->dead_events == 0 && !st->ended_dead);
        CHECK(st->loss < 0.05); /* it learned: the mean predictor scores ~0.2 */
    }
    if (check_failures_in_test && getenv("CLIFF_TEST_VERBOSE")) fprintf(stderr, "%s", logbuf);
    fclose(log);
    free(logbuf);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void test_regression_stuck_at_mean_is_dead(void) { check_regression_dead(-10, 1); }
static void test_regression_learning_is_alive(void) { check_regression_dead(0.5f, 0); }

/* clip_policy auto resolves to global_norm at clip_gradients (1 when not set)
 * and brings recovery rollback unless the solver names a recovery; the
 * mean-predictor reference is on for EuclideanLoss nets only. */
static void test_auto_and_references(void)
{
    static const struct {
        const char *extra;
        double C;
        CliffRecoveryMode mode;
    } cases[] = {
        {"", -1, CLIFF_RECOVERY_SKIP},
        {"clip_policy: \"auto\"", 1, CLIFF_RECOVERY_ROLLBACK},
        {"clip_policy: \"auto\" clip_gradients: 3", 3, CLIFF_RECOVERY_ROLLBACK},
        {"clip_policy: \"auto\" recovery: \"skip\"", 1, CLIFF_RECOVERY_SKIP},
        {"clip_policy: \"auto\" recovery: \"stop\"", 1, CLIFF_RECOVERY_STOP},
    };
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 0, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Cliff__SolverParameter *sp = fx_sp("%s base_lr: 0.1 %s", net, cases[i].extra);
        CliffSolver *s = fx_solver(sp, NULL);
        if (!s) continue;
        if (cases[i].C < 0)
            CHECK(s->clip == NULL);
        else if (!s->clip || s->clip->threshold != cases[i].C || !s->clip->is_auto ||
                 s->clip->policy != &cliff_clip_global_norm)
            CHECK_FAILF("%s: clip %s at %g", cases[i].extra,
                        s->clip ? s->clip->policy->name : "off", s->clip ? s->clip->threshold : -1);
        if (s->rec.mode != cases[i].mode)
            CHECK_FAILF("%s: recovery mode %d, want %d", cases[i].extra, (int)s->rec.mode,
                        (int)cases[i].mode);
        CHECK(!s->rec.euclidean); /* a softmax net */
        cliff_solver_free(s);
        fx_free_sp(sp);
    }
    free(net);
    Cliff__SolverParameter *sp;
    CliffSolver *s = reg_solver(dir, "base_lr: 0.01 max_iter: 1", &sp);
    if (s) {
        CHECK(s->rec.euclidean);
        /* the first batch is rows 0-7: sum (t - tbar)^2 / (2 x 7) */
        cliff_net_forward(s->net);
        double mean = 0, ss = 0;
        for (int r = 0; r < 8; r++) mean += reg_target(r) / 8.0;
        for (int r = 0; r < 8; r++) ss += (reg_target(r) - mean) * (reg_target(r) - mean);
        CHECK_NEAR(cliff_mean_predictor_loss(&s->rec, s->net), ss / 14, 1e-6);
        cliff_solver_free(s);
        fx_free_sp(sp);
    }
    fx_rmdir(dir);
}

static void test_recovery_config(void)
{
    const char *bad[][2] = {
        {"recovery: \"undo\"", "unknown recovery 'undo'"},
        {"rollback_lr_factor: 1.5", "rollback_lr_factor must be in (0, 1]"},
        {"rollback_lr_factor: 0", "rollback_lr_factor"},
        {"recovery_interval: 0", "recovery_interval"},
        {"spike_factor: -1", "spike_factor"},
    };
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 0, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Cliff__SolverParameter *sp = fx_sp("%s base_lr: 0.1 %s", net, bad[i][0]);
        CliffError err;
        CliffSolver *s = sp ? cliff_solver_create(sp, NULL, NULL, &err) : NULL;
        CHECK(!s);
        if (!s && !strstr(err.msg, bad[i][1])) CHECK_FAILF("%s: got '%s'", bad[i][0], err.msg);
        cliff_solver_free(s);
        fx_free_sp(sp);
    }
    free(net);
    fx_rmdir(dir);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(test_median_and_spike);
    RUN(test_dead_rule);
    RUN(test_last_good_state_resumes_finite);
    RUN(test_stop_at_first_event);
    RUN(test_rollback_recovers);
    RUN(test_rollback_after_overflow_finishes);
    RUN(test_ring_restores_bit_exactly);
    RUN(test_dead_run_detected_skip);
    RUN(test_dead_run_stops);
    RUN(test_dead_rule_mean_predictor);
    RUN(test_regression_stuck_at_mean_is_dead);
    RUN(test_regression_learning_is_alive);
    RUN(test_auto_and_references);
    RUN(test_recovery_config);
    return test_main_end();
}
