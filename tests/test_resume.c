/* Resume exactness: a run of 2N iterations and a run of N resumed for N more
 * give bit-identical weights and history (shuffling HDF5Data, Dropout drawing
 * from the RNG, Adam, test nets in between), from HDF5 and binary snapshots;
 * and a state written in Caffe's exact HDF5 layout (no /cliff) resumes. */
#include "solver_fixture.h"

/* 4 iterations of batch 4 over 10 rows: the snapshot falls mid-epoch, so the
 * saved permutation (not a fresh draw) decides the rows read after resume. */
#define N 4

/* The clipping of the resume cases: Caffe's global norm, and the policies
 * whose statistics must come back from the snapshot (their warm-up ends
 * before the snapshot, so a fresh start would clip differently after it). */
static const char *clip_setting = "clip_gradients: 0.3";

static Cliff__SolverParameter *config(const char *dir, const char *list, int max_iter,
                                      const char *format)
{
    char *net = fx_net(list, 4, 1, 1);
    Cliff__SolverParameter *sp = fx_sp(
        "%s type: \"Adam\" base_lr: 0.05 momentum: 0.9 momentum2: 0.999 weight_decay: 0.001 "
        "lr_policy: \"multistep\" gamma: 0.5 stepvalue: 1 stepvalue: 3 stepvalue: 7 %s "
        "average_loss: 3 display: 0 test_iter: 2 test_interval: 3 random_seed: 42 "
        "max_iter: %d snapshot_format: %s snapshot_prefix: \"%s/run\"",
        net, clip_setting, max_iter, format, dir);
    free(net);
    return sp;
}

typedef struct Result {
    float *w, *h;
    size_t nw, nh;
    int current_step;
    double smoothed;
    long long clipped;
    double smoothed_at[2 * N]; /* smoothed loss after each iteration */
} Result;

/* Steps s one iteration at a time up to `until`, recording the smoothed loss
 * after each (the loss window's position shows only in these). */
static void step_to(CliffSolver *s, int until, Result *r)
{
    CliffError err;
    while (cliff_solver_iter(s) < until) {
        if (cliff_solver_step(s, 1, &err)) {
            CHECK_FAILF("step: %s", err.msg);
            return;
        }
        r->smoothed_at[cliff_solver_iter(s) - 1] = cliff_solver_stats(s)->smoothed_loss;
    }
}

static void capture(CliffSolver *s, Result *r)
{
    CliffNet *n = cliff_solver_train_net(s);
    int nhist;
    float *h = cliff_solver_history(s, &nhist);
    r->nw = n->param_count;
    r->nh = (size_t)nhist * n->param_count;
    r->w = malloc(r->nw * sizeof(float));
    r->h = malloc(r->nh * sizeof(float));
    memcpy(r->w, n->param_slab, r->nw * sizeof(float));
    memcpy(r->h, h, r->nh * sizeof(float));
    r->smoothed = cliff_solver_stats(s)->smoothed_loss;
    r->clipped = cliff_solver_stats(s)->clipped;
}

static void resume_case(const char *format, const char *state_ext)
{
    char *dir = fx_tmpdir();
    /* 10 rows, batch 4: epochs end mid-run, so reshuffles happen in both halves */
    const char *list = fx_h5data(dir, "d", 10, 4, fx_value, fx_label);
    CliffError err;
    Result full = {0}, resumed = {0};

    Cliff__SolverParameter *sp = config(dir, list, 2 * N, format);
    sp->snapshot_after_train = 0;
    sp->has_snapshot_after_train = 1;
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    if (!s) {
        CHECK_FAILF("create: %s", err.msg);
        return;
    }
    step_to(s, 2 * N, &full);
    capture(s, &full);
    cliff_solver_free(s);
    fx_free_sp(sp);

    sp = config(dir, list, N, format); /* snapshot_after_train: writes run_iter_N */
    s = cliff_solver_create(sp, NULL, NULL, &err);
    CHECK(cliff_solver_solve(s, &err) == 0);
    cliff_solver_free(s);
    fx_free_sp(sp);

    sp = config(dir, list, 2 * N, format);
    sp->snapshot_after_train = 0;
    sp->has_snapshot_after_train = 1;
    s = cliff_solver_create(sp, NULL, NULL, &err);
    char state[300];
    snprintf(state, sizeof state, "%s/run_iter_%d%s", dir, N, state_ext);
    if (cliff_solver_restore(s, state, &err)) CHECK_FAILF("restore: %s", err.msg);
    CHECK(cliff_solver_iter(s) == N);
    step_to(s, 2 * N, &resumed);
    capture(s, &resumed);
    cliff_solver_free(s);
    fx_free_sp(sp);

    CHECK(full.nw == resumed.nw && full.nh == resumed.nh && full.nw == 15);
    if (full.nw == resumed.nw) CHECK(memcmp(full.w, resumed.w, full.nw * sizeof(float)) == 0);
    if (full.nh == resumed.nh) CHECK(memcmp(full.h, resumed.h, full.nh * sizeof(float)) == 0);
    CHECK(full.smoothed == resumed.smoothed);
    for (int i = N; i < 2 * N; i++) CHECK(full.smoothed_at[i] == resumed.smoothed_at[i]);
    CHECK(full.clipped == resumed.clipped && full.clipped > 0);
    free(full.w);
    free(full.h);
    free(resumed.w);
    free(resumed.h);
    fx_rmdir(dir);
}

static void test_resume_exact_hdf5(void) { resume_case("HDF5", ".solverstate.h5"); }
static void test_resume_exact_binaryproto(void) { resume_case("BINARYPROTO", ".solverstate"); }

static void clip_resume_cases(const char *setting)
{
    clip_setting = setting;
    resume_case("HDF5", ".solverstate.h5");
    resume_case("BINARYPROTO", ".solverstate");
    clip_setting = "clip_gradients: 0.3";
}

static void test_resume_exact_zscore(void)
{
    clip_resume_cases("clip_policy: \"zscore\" clip_param { warmup: 2 z_thresh: 0.2 alpha: 0.6 }");
}

static void test_resume_exact_percentile(void)
{
    clip_resume_cases("clip_policy: \"percentile\" clip_param { warmup: 1 history: 3 percentile: 30 }");
}

/* Same seed, same run: two fresh solvers give identical weights. */
static void test_same_seed_same_run(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 10, 4, fx_value, fx_label);
    CliffError err;
    Result r[3] = {{0}};
    for (int k = 0; k < 3; k++) {
        Cliff__SolverParameter *sp = config(dir, list, N, "HDF5");
        sp->snapshot_after_train = 0;
        sp->has_snapshot_after_train = 1;
        if (k == 2) sp->random_seed = 43;
        CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
        CHECK(cliff_solver_solve(s, &err) == 0);
        capture(s, &r[k]);
        cliff_solver_free(s);
        fx_free_sp(sp);
    }
    CHECK(memcmp(r[0].w, r[1].w, r[0].nw * sizeof(float)) == 0);
    CHECK(memcmp(r[0].w, r[2].w, r[0].nw * sizeof(float)) != 0); /* another seed differs */
    for (int k = 0; k < 3; k++) free(r[k].w), free(r[k].h);
    fx_rmdir(dir);
}

/* ---- Caffe-written state ---- */

/* Writes what Caffe's SGDSolver (momentum) writes at iteration 7: the weights
 * file with /data/<layer> for every layer (empty groups for data and loss),
 * the state with /iter, /learned_net (fixed-length, null-terminated, scalar),
 * /current_step, /history/0..1 shaped like the parameters. -1 when writing
 * failed (the test has). */
static int write_caffe_snapshot(const char *dir, float *w, float *b, float *hw, float *hb)
{
    char path[300];
    const hsize_t dw[2] = {3, 4}, db[1] = {3}, one[1] = {1};
    const int iter = 7, step = 0;
    H5Fx fx;
    snprintf(path, sizeof path, "%s/caffe_iter_7.caffemodel.h5", dir);
    h5fx_create(&fx, path);
    hid_t data = h5fx_group(&fx, fx.file, "data");
    const char *layers[] = {"data", "ip", "loss"};
    for (int i = 0; i < 3; i++) {
        hid_t g = h5fx_group(&fx, data, layers[i]);
        if (i == 1) {
            h5fx_write(&fx, g, "0", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dw, w);
            h5fx_write(&fx, g, "1", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, db, b);
        }
        h5fx_end_group(&fx, g);
    }
    h5fx_end_group(&fx, data);
    if (h5fx_close(&fx)) return -1;

    snprintf(path, sizeof path, "%s/caffe_iter_7.solverstate.h5", dir);
    h5fx_create(&fx, path);
    h5fx_write(&fx, fx.file, "iter", H5T_STD_I32LE, H5T_NATIVE_INT, 1, one, &iter);
    /* as written by Caffe: the prefix as given in the solver (relative),
     * so it is found beside the state file */
    h5fx_string(&fx, fx.file, "learned_net", "snapshots/caffe_iter_7.caffemodel.h5");
    h5fx_write(&fx, fx.file, "current_step", H5T_STD_I32LE, H5T_NATIVE_INT, 1, one, &step);
    hid_t h = h5fx_group(&fx, fx.file, "history");
    h5fx_write(&fx, h, "0", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dw, hw);
    h5fx_write(&fx, h, "1", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, db, hb);
    h5fx_end_group(&fx, h);
    return h5fx_close(&fx);
}

static void test_resume_from_caffe_layout(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    float w[12], b[3], hw[12], hb[3];
    for (int i = 0; i < 12; i++) w[i] = 0.01f * (float)i - 0.05f, hw[i] = 0.001f * (float)i;
    for (int i = 0; i < 3; i++) b[i] = 0.5f - 0.25f * (float)i, hb[i] = -0.002f * (float)i;
    if (write_caffe_snapshot(dir, w, b, hw, hb)) {
        fx_rmdir(dir);
        return;
    }
    char *net = fx_net(list, 4, 0, 0);
    Cliff__SolverParameter *sp = fx_sp(
        "%s base_lr: 0.1 momentum: 0.9 lr_policy: \"fixed\" max_iter: 8 random_seed: 5 "
        "snapshot_after_train: false snapshot_prefix: \"%s/s\"", net, dir);
    free(net);
    CliffError err;
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    CliffSolver *s = cliff_solver_create(sp, NULL, log, &err);
    char state[300];
    snprintf(state, sizeof state, "%s/caffe_iter_7.solverstate.h5", dir);
    if (cliff_solver_restore(s, state, &err)) CHECK_FAILF("restore: %s", err.msg);
    CHECK(cliff_solver_iter(s) == 7);
    CliffNet *n = cliff_solver_train_net(s);
    CHECK(memcmp(n->params[0].tensor->data, w, sizeof w) == 0);
    CHECK(memcmp(n->params[1].tensor->data, b, sizeof b) == 0);
    int nhist;
    float *h = cliff_solver_history(s, &nhist);
    CHECK(nhist == 1);
    CHECK(memcmp(h + n->params[0].offset, hw, sizeof hw) == 0);
    CHECK(memcmp(h + n->params[1].offset, hb, sizeof hb) == 0);
    /* one more SGD step from there: w' = w - (lr * g + 0.9 * h) */
    CHECK(cliff_solver_solve(s, &err) == 0);
    CHECK(cliff_solver_iter(s) == 8);
    CHECK(fx_all_finite(n->param_slab, n->param_count));
    fclose(log);
    CHECK(strstr(logbuf, "without cliff's extras") != NULL);
    free(logbuf);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* ---- restored fields checked against their meaning ---- */

static Cliff__SolverParameter *small_config(const char *dir, const char *type, int rows)
{
    const char *list = fx_h5data(dir, "d", rows, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 0, 0);
    Cliff__SolverParameter *sp = fx_sp("%s type: \"%s\" base_lr: 0.1 momentum: %g max_iter: 2 "
                                       "average_loss: 2 random_seed: 9 snapshot_prefix: "
                                       "\"%s/snap\"", net, type,
                                       strcmp(type, "SGD") ? 0.0 : 0.9, dir);
    free(net);
    return sp;
}

static void copy_file(const char *from, const char *to)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    if (system(cmd)) CHECK_FAILF("cannot copy %s", from);
}

static void put(const char *state, const char *name, hid_t type, const void *v)
{
    hid_t f = H5Fopen(state, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        CHECK_FAILF("cannot tamper with %s", name);
    H5Dclose(ds);
    H5Fclose(f);
}

static void put_learned_net(const char *state, const char *value)
{
    hid_t f = H5Fopen(state, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "learned_net", H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, strlen(value) + 1);
    hid_t ds = H5Dcreate2(f, "learned_net", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, value);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(t);
    H5Fclose(f);
}

/* Restores path into s: must fail with every needle in the message and
 * change nothing. */
static void refused(CliffSolver *s, const char *path, const char *case_name, const char *n1,
                    const char *n2)
{
    CliffError err = {0};
    if (!s) {
        CHECK_FAILF("%s: no solver", case_name);
        return;
    }
    float before = cliff_solver_train_net(s)->param_slab[0];
    if (cliff_solver_restore(s, path, &err) != -1) {
        CHECK_FAILF("%s: restore accepted", case_name);
        return;
    }
    if (!strstr(err.msg, n1) || (n2 && !strstr(err.msg, n2)))
        CHECK_FAILF("%s: error '%s' lacks '%s' / '%s'", case_name, err.msg, n1, n2 ? n2 : "");
    CHECK(cliff_solver_iter(s) == 0);
    CHECK(cliff_solver_train_net(s)->param_slab[0] == before);
}

static CliffSolver *run_to_snapshot(Cliff__SolverParameter *sp)
{
    CliffError err;
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    if (!s || cliff_solver_solve(s, &err)) CHECK_FAILF("setup: %s", err.msg);
    fflush(stdout);
    return s;
}

/* The run's counters come back from the state: a state of iteration 2 saying
 * one step was skipped, the last one, restores exactly those counts (the run
 * itself skipped none). */
static void test_restore_keeps_counters(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp = small_config(dir, "AdaGrad", 12);
    cliff_solver_free(run_to_snapshot(sp));
    char state[300];
    snprintf(state, sizeof state, "%s/snap_iter_2.solverstate.h5", dir);
    int64_t skipped = 1;
    int bad = 1;
    put(state, "cliff/skipped", H5T_NATIVE_INT64, &skipped);
    put(state, "cliff/consecutive_bad", H5T_NATIVE_INT, &bad);
    CliffError err = {0};
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    if (!s || cliff_solver_restore(s, state, &err)) {
        CHECK_FAILF("restore: %s", err.msg);
    } else {
        const CliffSolverStats *st = cliff_solver_stats(s);
        CHECK(st->iter == 2);
        CHECK(st->skipped == 1);
        CHECK(st->consecutive_bad == 1);
    }
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* A run resumed with a smaller average_loss cannot keep the saved window: it
 * says so in the log and the smoothed loss restarts. */
static void test_restore_says_when_loss_window_dropped(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp = small_config(dir, "AdaGrad", 12); /* average_loss 2 */
    cliff_solver_free(run_to_snapshot(sp));
    char state[300];
    snprintf(state, sizeof state, "%s/snap_iter_2.solverstate.h5", dir);
    sp->average_loss = 1;
    char *text = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&text, &len);
    CliffError err = {0};
    CliffSolver *s = cliff_solver_create(sp, NULL, log, &err);
    if (!s || cliff_solver_restore(s, state, &err)) CHECK_FAILF("restore: %s", err.msg);
    else CHECK(cliff_solver_stats(s)->smoothed_loss == 0.0);
    cliff_solver_free(s);
    fclose(log);
    if (!text || !strstr(text, "the saved loss window (2 losses) does not fit average_loss 1"))
        CHECK_FAILF("log lacks the dropped window: %s", text ? text : "(none)");
    free(text);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void test_restore_validates_fields(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp = small_config(dir, "AdaGrad", 12);
    cliff_solver_free(run_to_snapshot(sp));
    char state[300], keep[320], bad[320];
    snprintf(state, sizeof state, "%s/snap_iter_2.solverstate.h5", dir);
    snprintf(keep, sizeof keep, "%s.keep", state);
    snprintf(bad, sizeof bad, "%s/bad.solverstate.h5", dir);
    copy_file(state, keep);
    CliffError err;
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);

    int neg = -1;
    copy_file(keep, bad);
    put(bad, "current_step", H5T_NATIVE_INT, &neg);
    refused(s, bad, "negative current_step", "negative lr step", NULL);

    double nan = NAN;
    copy_file(keep, bad);
    put(bad, "cliff/smoothed_loss", H5T_NATIVE_DOUBLE, &nan);
    refused(s, bad, "NaN smoothed loss", "smoothed loss is nan", NULL);

    uint64_t zero[4] = {0, 0, 0, 0};
    copy_file(keep, bad);
    put(bad, "cliff/rng", H5T_NATIVE_UINT64, zero);
    refused(s, bad, "zero RNG", "RNG state is all zero", NULL);

    float sq[12] = {0.5f, -0.25f};
    copy_file(keep, bad);
    put(bad, "history/0", H5T_NATIVE_FLOAT, sq);
    refused(s, bad, "negative AdaGrad square", "history blob 0", "never negative");

    /* the weights file of another iteration (it exists: written at iteration 1) */
    char other[300];
    snprintf(other, sizeof other, "%s/snap_iter_1.caffemodel.h5", dir);
    copy_file(keep, bad);
    char model[300];
    snprintf(model, sizeof model, "%s/snap_iter_2.caffemodel.h5", dir);
    copy_file(model, other);
    put_learned_net(bad, other);
    refused(s, bad, "learned_net of iteration 1", "at iteration 2", "at iteration 1");

    /* the intact state still resumes */
    CHECK(cliff_solver_restore(s, keep, &err) == 0);
    CHECK(cliff_solver_iter(s) == 2);
    cliff_solver_free(s);
    fx_free_sp(sp);

    /* SGD (momentum) history reused as AdaGrad's squares: both keep one slab */
    sp = small_config(dir, "SGD", 12);
    cliff_solver_free(run_to_snapshot(sp));
    fx_free_sp(sp);
    sp = small_config(dir, "AdaGrad", 12);
    s = cliff_solver_create(sp, NULL, NULL, &err);
    refused(s, state, "SGD state into AdaGrad", "written by solver type SGD", "this run is AdaGrad");
    cliff_solver_free(s);
    fx_free_sp(sp);

    /* the data set changed under the snapshot: the message says which net,
     * which layer and what changed */
    sp = small_config(dir, "AdaGrad", 12);
    cliff_solver_free(run_to_snapshot(sp));
    fx_free_sp(sp);
    sp = small_config(dir, "AdaGrad", 9);
    s = cliff_solver_create(sp, NULL, NULL, &err);
    refused(s, state, "data set of 9 rows", "train net, layer 'data'", "(12 rows");
    CliffError e2 = {0};
    cliff_solver_restore(s, state, &e2);
    if (!strstr(e2.msg, "(9 rows")) CHECK_FAILF("'%s' lacks the new row count", e2.msg);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(test_resume_exact_hdf5);
    RUN(test_resume_exact_binaryproto);
    RUN(test_resume_exact_zscore);
    RUN(test_resume_exact_percentile);
    RUN(test_same_seed_same_run);
    RUN(test_resume_from_caffe_layout);
    RUN(test_restore_validates_fields);
    RUN(test_restore_keeps_counters);
    RUN(test_restore_says_when_loss_window_dropped);
    return test_main_end();
}
