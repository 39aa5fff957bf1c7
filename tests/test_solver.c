/* The solver loop on tiny nets: iter_size equivalence, the non-finite guard,
 * max_bad_steps, test nets and their log lines, log formats, the metrics CSV,
 * requests (the signal API), and config errors. */
#include <signal.h>

#include "solver_fixture.h"

static CliffSolver *make(Cliff__SolverParameter *sp, FILE *log)
{
    CliffError err;
    if (!sp) return NULL;
    CliffSolver *s = cliff_solver_create(sp, NULL, log, &err);
    if (!s) CHECK_FAILF("create: %s", err.msg);
    return s;
}

static int solve(CliffSolver *s)
{
    CliffError err;
    int rc = cliff_solver_solve(s, &err);
    if (rc) CHECK_FAILF("solve: %s", err.msg);
    return rc;
}

/* ---- iter_size ---- */

/* iter_size 2 over batches of 4 == iter_size 1 over batches of 8, with the
 * gradient clipped (clip >= 0, checked active) or not (clip < 0: the 1/iter_size
 * normalization is not hidden behind the clip factor). */
static void check_iter_size_equivalence(double clip)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 24, 4, fx_value, fx_label);
    float *w[2];
    size_t count = 0;
    for (int k = 0; k < 2; k++) {
        char *net = fx_net(list, k == 0 ? 4 : 8, 0, 0);
        Cliff__SolverParameter *sp = fx_sp(
            "%s base_lr: 0.5 momentum: 0.9 weight_decay: 0.01 lr_policy: \"fixed\" "
            "max_iter: 3 iter_size: %d random_seed: 7 clip_gradients: %g "
            "snapshot_after_train: false snapshot_prefix: \"%s/s%d\"",
            net, k == 0 ? 2 : 1, clip, dir, k);
        free(net);
        CliffSolver *s = make(sp, NULL);
        if (!s) return;
        solve(s);
        CliffNet *n = cliff_solver_train_net(s);
        count = n->param_count;
        w[k] = malloc(count * sizeof(float));
        memcpy(w[k], n->param_slab, count * sizeof(float));
        /* clipping must have been active (or not) for the comparison to cover it */
        CHECK(clip < 0 ? cliff_solver_stats(s)->clipped == 0 : cliff_solver_stats(s)->clipped > 0);
        cliff_solver_free(s);
        fx_free_sp(sp);
    }
    double maxdiff = 0;
    for (size_t i = 0; i < count; i++) maxdiff = fmax(maxdiff, fabs(w[0][i] - w[1][i]));
    CHECK(maxdiff < 2e-6);
    /* and the weights did move */
    CHECK(count == 15);
    free(w[0]);
    free(w[1]);
    fx_rmdir(dir);
}

static void test_iter_size_equivalence(void) { check_iter_size_equivalence(0.05); }
static void test_iter_size_equivalence_unclipped(void) { check_iter_size_equivalence(-1); }

/* ---- non-finite guard ---- */

static float nan_rows_value(int r, int c)
{
    /* rows 4..5 (batch 2 of size 2) hold a NaN */
    return (r == 4 || r == 5) && c == 1 ? NAN : fx_value(r, c);
}

static void test_nan_batch_skipped(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, nan_rows_value, fx_label);
    char *net = fx_net(list, 2, 0, 0);
    Cliff__SolverParameter *sp =
        fx_sp("%s base_lr: 0.1 momentum: 0.9 lr_policy: \"fixed\" max_iter: 5 random_seed: 1 "
              "display: 1 max_bad_steps: 2 snapshot_after_train: false "
              "snapshot_prefix: \"%s/s\"", net, dir);
    free(net);
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    CliffSolver *s = make(sp, log);
    if (!s) return;
    CHECK(solve(s) == 0);
    fflush(log);
    const CliffSolverStats *st = cliff_solver_stats(s);
    CHECK(st->iter == 5);
    CHECK(st->skipped == 1);
    CHECK(st->consecutive_bad == 0);
    CliffNet *n = cliff_solver_train_net(s);
    CHECK(fx_all_finite(n->param_slab, n->param_count));
    int nh;
    float *h = cliff_solver_history(s, &nh);
    CHECK(fx_all_finite(h, (size_t)nh * n->param_count));
    /* logged with the iteration and the first parameter blob holding it */
    if (!strstr(logbuf, "Iteration 2: skipped update: non-finite loss") &&
        !strstr(logbuf, "Iteration 2: skipped update: non-finite gradient"))
        CHECK_FAILF("no skip line in log:\n%s", logbuf);
    CHECK(strstr(logbuf, "in parameter 'ip/0'") || strstr(logbuf, "(loss)"));
    CHECK(strstr(logbuf, "skipped (non-finite)") != NULL); /* the display line */
    CHECK(strstr(logbuf, "last 1: 0 clipped, 1 skipped") != NULL);
    fclose(log);
    free(logbuf);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static float nan_tail_value(int r, int c) { return r >= 4 ? NAN : fx_value(r, c); }

static void test_max_bad_steps_stops_with_finite_snapshot(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, nan_tail_value, fx_label);
    char *net = fx_net(list, 2, 0, 0);
    Cliff__SolverParameter *sp =
        fx_sp("%s base_lr: 0.1 momentum: 0.9 type: \"Adam\" lr_policy: \"fixed\" max_iter: 20 "
              "random_seed: 1 max_bad_steps: 3 recovery_interval: 1 snapshot_prefix: \"%s/s\"",
              net, dir);
    free(net);
    CliffSolver *s = make(sp, NULL);
    if (!s) return;
    CliffNet *n = cliff_solver_train_net(s);
    CliffError err;
    CHECK(cliff_solver_solve(s, &err) == -1);
    CHECK(strstr(err.msg, "3 consecutive bad steps") != NULL);
    CHECK(strstr(err.msg, "Last good state saved in") != NULL);
    const CliffSolverStats *st = cliff_solver_stats(s);
    /* iterations 0, 1 good; 2, 3, 4 bad: the last good state is iteration 1's
     * (a good state every iteration), which the solver is left at */
    CHECK(st->iter == 1);
    /* the weights after iteration 0 are in the snapshot, all finite */
    char path[300];
    snprintf(path, sizeof path, "%s/s_iter_1.lastgood.caffemodel.h5", dir);
    CHECK(fx_exists(path));
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    float w[12];
    hid_t ds = H5Dopen2(f, "/data/ip/0", H5P_DEFAULT);
    CHECK(H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) >= 0);
    H5Dclose(ds);
    H5Fclose(f);
    CHECK(fx_all_finite(w, 12));
    CHECK(memcmp(w, n->param_slab, sizeof w) == 0);
    snprintf(path, sizeof path, "%s/s_iter_1.lastgood.solverstate.h5", dir);
    CHECK(strcmp(st->last_snapshot, path) == 0);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    float hist[12];
    ds = H5Dopen2(f, "/history/2", H5P_DEFAULT); /* Adam: second moment of ip/0 */
    CHECK(H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, hist) >= 0);
    H5Dclose(ds);
    H5Fclose(f);
    CHECK(fx_all_finite(hist, 12));
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static float huge_value(int r, int c) { return 1e20f * fx_value(r, c); }

static void test_overflowing_update_is_bad_step(void)
{
    /* Inputs of 1e20: loss and gradients (~1e20) are finite, but AdaGrad's
     * history g^2 (~1e40) would overflow: a bad step, never applied. */
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, huge_value, fx_label);
    char *net = fx_net(list, 2, 0, 0);
    Cliff__SolverParameter *sp =
        fx_sp("%s base_lr: 0.1 type: \"AdaGrad\" lr_policy: \"fixed\" max_iter: 4 random_seed: 1 "
              "max_bad_steps: 10 snapshot_after_train: false snapshot_prefix: \"%s/s\"",
              net, dir);
    free(net);
    CliffSolver *s = make(sp, NULL);
    if (!s) return;
    CliffNet *n = cliff_solver_train_net(s);
    float *before = malloc(n->param_count * sizeof(float));
    memcpy(before, n->param_slab, n->param_count * sizeof(float));
    CHECK(solve(s) == 0);
    CHECK(cliff_solver_stats(s)->skipped == 4);
    CHECK(memcmp(before, n->param_slab, n->param_count * sizeof(float)) == 0);
    CHECK(fx_all_finite(n->param_slab, n->param_count));
    int nh;
    CHECK(fx_all_finite(cliff_solver_history(s, &nh), n->param_count));
    free(before);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* ---- tests, logs, metrics ---- */

static char *run_logged(const char *dir, const char *extra, CliffSolver **out)
{
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 0, 0);
    Cliff__SolverParameter *sp =
        fx_sp("%s base_lr: 0.1 lr_policy: \"fixed\" max_iter: 4 random_seed: 3 display: 2 "
              "test_iter: 3 test_interval: 2 snapshot_after_train: false "
              "snapshot_prefix: \"%s/s\" %s", net, dir, extra);
    free(net);
    char *buf = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&buf, &len);
    CliffSolver *s = make(sp, log);
    if (s) solve(s);
    fclose(log);
    if (out)
        *out = s;
    else
        cliff_solver_free(s);
    /* sp must outlive s: leaked deliberately only when the caller keeps s */
    if (!out) fx_free_sp(sp);
    return buf;
}

static void test_human_log_and_test_outputs(void)
{
    char *dir = fx_tmpdir();
    char *log = run_logged(dir, "clip_gradients: 0.01", NULL);
    /* display at 0 and 2, tests at 0, 2 and the end (4) */
    CHECK(strstr(log, "Iteration 0/4: loss = ") != NULL);
    CHECK(strstr(log, "Iteration 2/4: loss = ") != NULL);
    CHECK(strstr(log, "clip scale = ") != NULL);
    CHECK(strstr(log, "last 2: 2 clipped, 0 skipped") != NULL);
    CHECK(strstr(log, "it/s, ETA ") != NULL);
    CHECK(strstr(log, "Train net output #0: loss = ") != NULL);
    CHECK(strstr(log, "(* 1 = ") != NULL);
    int tests = 0;
    for (const char *p = log; (p = strstr(p, "Test net output #")); p++)
        if (!strncmp(strchr(p, ':'), ": accuracy = ", 13)) tests++;
    CHECK(tests == 3);
    CHECK(strstr(log, ": loss = ") != NULL);
    CHECK(strstr(log, "Optimization Done") != NULL);
    /* the metrics file: header, 4 train rows, 2 outputs x 3 tests */
    char path[300], line[512];
    snprintf(path, sizeof path, "%s/s_metrics.csv", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    int train = 0, test = 0, header = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "kind,iter,loss,smoothed_loss,lr,grad_norm,clip_scale,skipped,"
                           "seconds,output,value", 70))
            header++;
        if (!strncmp(line, "train,", 6)) {
            train++;
            int it, skipped;
            double loss, sm, lr, norm, scale, secs;
            CHECK(sscanf(line, "train,%d,%lf,%lf,%lf,%lf,%lf,%d,%lf", &it, &loss, &sm, &lr,
                         &norm, &scale, &skipped, &secs) == 8);
            CHECK(fabs(lr - 0.1) < 1e-8 && skipped == 0 && scale < 1 && norm > 0.01);
            CHECK_NEAR(scale * norm, 0.01, 1e-6);
        }
        if (!strncmp(line, "test,", 5)) {
            test++;
            CHECK(strstr(line, "test0/accuracy") || strstr(line, "test0/loss"));
        }
    }
    if (f) fclose(f);
    CHECK(header == 1 && train == 4 && test == 6);
    free(log);
    fx_rmdir(dir);
}

static void test_kv_and_json_logs(void)
{
    char *dir = fx_tmpdir();
    char *log = run_logged(dir, "clip_gradients: 0.01 log_format: \"kv\"", NULL);
    CHECK(strstr(log, "event=iter iter=0 max_iter=4 loss=") != NULL);
    CHECK(strstr(log, " grad_norm=") && strstr(log, " clip_scale=") && strstr(log, " lr=0.1 "));
    CHECK(strstr(log, "iter=2 output=1 name=\"accuracy\" value=") != NULL);
    free(log);
    log = run_logged(dir, "clip_gradients: 0.01 log_format: \"json\"", NULL);
    CHECK(strstr(log, "{\"event\":\"iter\",\"iter\":0,\"max_iter\":4,\"loss\":") != NULL);
    CHECK(strstr(log, "{\"event\":\"test\",\"net\":0,\"iter\":4,\"output\":1,"
                      "\"name\":\"accuracy\",\"value\":") != NULL);
    /* every line is one object */
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
        CHECK(line[0] == '{' && line[strlen(line) - 1] == '}');
    free(log);
    fx_rmdir(dir);
}

/* ---- requests ---- */

static CliffSolver *signal_target;
static void on_sigint(int sig)
{
    (void)sig;
    cliff_solver_request(signal_target, CLIFF_REQUEST_SNAPSHOT_STOP);
}

static void test_signal_snapshot_and_stop(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 0, 0);
    Cliff__SolverParameter *sp = fx_sp("%s base_lr: 0.1 lr_policy: \"fixed\" max_iter: 10 "
                                       "random_seed: 3 snapshot_prefix: \"%s/s\"", net, dir);
    free(net);
    CliffSolver *s = make(sp, NULL);
    if (!s) return;
    signal_target = s;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    raise(SIGINT); /* pending before the run: acted on after iteration 0 */
    CHECK(solve(s) == 0);
    sigaction(SIGINT, &old, NULL);
    const CliffSolverStats *st = cliff_solver_stats(s);
    CHECK(st->iter == 1 && st->stopped_early);
    char path[300];
    snprintf(path, sizeof path, "%s/s_iter_1.solverstate.h5", dir);
    CHECK(fx_exists(path));
    snprintf(path, sizeof path, "%s/s_iter_10.solverstate.h5", dir);
    CHECK(!fx_exists(path));
    cliff_solver_free(s);

    /* SNAPSHOT alone: snapshot at 1 and continue to the end (snapshot_after_train). */
    s = make(sp, NULL);
    cliff_solver_request(s, CLIFF_REQUEST_SNAPSHOT);
    CHECK(solve(s) == 0);
    CHECK(cliff_solver_stats(s)->iter == 10 && !cliff_solver_stats(s)->stopped_early);
    CHECK(fx_exists(path));
    cliff_solver_free(s);
    /* STOP alone: no snapshot */
    fx_rmdir(dir);
    dir = fx_tmpdir();
    list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    net = fx_net(list, 4, 0, 0);
    fx_free_sp(sp);
    sp = fx_sp("%s base_lr: 0.1 lr_policy: \"fixed\" max_iter: 10 random_seed: 3 "
               "snapshot_prefix: \"%s/s\"", net, dir);
    free(net);
    s = make(sp, NULL);
    cliff_solver_request(s, CLIFF_REQUEST_STOP);
    CHECK(solve(s) == 0);
    CHECK(cliff_solver_stats(s)->iter == 1);
    CHECK(cliff_solver_stats(s)->last_snapshot[0] == 0);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* ---- config errors ---- */

static void expect_create_error(const char *extra, const char *needle)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 0, 0);
    Cliff__SolverParameter *sp = fx_sp("%s max_iter: 1 snapshot_prefix: \"%s/s\" %s", net, dir,
                                       extra);
    free(net);
    CliffError err;
    err.msg[0] = 0;
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    CHECK(s == NULL);
    if (!strstr(err.msg, needle)) CHECK_FAILF("error '%s' lacks '%s'", err.msg, needle);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void test_config_errors(void)
{
    expect_create_error("base_lr: 0.1 lr_policy: \"step\" gamma: 0.1",
                        "lr_policy 'step' needs stepsize");
    expect_create_error("base_lr: 0.1 lr_policy: \"warmup\"", "unknown lr_policy 'warmup'");
    expect_create_error("base_lr: 0.1 type: \"Adamax\"", "unknown solver type 'Adamax'");
    expect_create_error("base_lr: 0.1 clip_policy: \"norm\" clip_gradients: 1",
                        "unknown clip_policy 'norm' (known: global_norm, per_param_norm, value, adaptive, percentile, zscore, lr_adjusted, auto)");
    expect_create_error("base_lr: 0.1 log_format: \"xml\"", "unknown log_format 'xml'");
    expect_create_error("base_lr: 0.1 regularization_type: \"L3\"", "regularization_type");
    expect_create_error("base_lr: 0.1 type: \"AdaGrad\" momentum: 0.9", "momentum cannot");
    expect_create_error("lr_policy: \"fixed\"", "base_lr is not set");
    expect_create_error("base_lr: 0.1 max_bad_steps: 0", "max_bad_steps");
    expect_create_error("base_lr: 0.1 test_iter: 1", "test_interval must be > 0");
    expect_create_error("base_lr: 0.1 test_iter: 1 test_iter: 2 test_interval: 5 "
                        "test_net_param { name: \"x\" } test_net_param { name: \"y\" } "
                        "test_net_param { name: \"z\" }",
                        "test_iter must be given once per test net");
}

static void test_no_clip_means_bit_identical_gradients_path(void)
{
    /* clip_gradients < 0: stats report scale 1 and no clipped steps. */
    char *dir = fx_tmpdir();
    CliffSolver *s;
    char *log = run_logged(dir, "clip_gradients: -1", &s);
    if (!s) return;
    CHECK(strstr(log, "not clipped") != NULL);
    CHECK(cliff_solver_stats(s)->clipped == 0);
    CHECK(cliff_solver_stats(s)->clip_scale == 1.0);
    const Cliff__SolverParameter *sp = cliff_solver_param(s);
    cliff_solver_free(s);
    fx_free_sp((Cliff__SolverParameter *)sp);
    free(log);
    fx_rmdir(dir);
}

/* A test net shares every weight of the train net, and its own slabs are
 * freed (for CaffeNet 233 MiB of filled weights no one reads); it still tests:
 * the log shows its outputs, tested at 0, 2 and 4 (test_human_log...). */
static void test_test_net_shares_and_frees_its_slabs(void)
{
    char *dir = fx_tmpdir();
    CliffSolver *s;
    char *log = run_logged(dir, "", &s);
    if (!s) return;
    CliffNet *train = cliff_solver_train_net(s), *test = cliff_solver_test_net(s, 0);
    CHECK(test && test->param_slab == NULL && test->grad_slab == NULL);
    int ti = cliff_net_layer_index(train, "ip"), si = test ? cliff_net_layer_index(test, "ip") : -1;
    CHECK(ti >= 0 && si >= 0);
    if (ti >= 0 && si >= 0)
        CHECK(test->layers[si].layer.params[0].data == train->layers[ti].layer.params[0].data &&
              test->layers[si].layer.params[1].data == train->layers[ti].layer.params[1].data);
    CHECK(strstr(log, "Test net output #") && strstr(log, ": accuracy = "));
    const Cliff__SolverParameter *sp = cliff_solver_param(s);
    cliff_solver_free(s);
    fx_free_sp((Cliff__SolverParameter *)sp);
    free(log);
    fx_rmdir(dir);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(test_iter_size_equivalence);
    RUN(test_iter_size_equivalence_unclipped);
    RUN(test_nan_batch_skipped);
    RUN(test_max_bad_steps_stops_with_finite_snapshot);
    RUN(test_overflowing_update_is_bad_step);
    RUN(test_human_log_and_test_outputs);
    RUN(test_kv_and_json_logs);
    RUN(test_signal_snapshot_and_stop);
    RUN(test_config_errors);
    RUN(test_no_clip_means_bit_identical_gradients_path);
    RUN(test_test_net_shares_and_frees_its_slabs);
    return test_main_end();
}
