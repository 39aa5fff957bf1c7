/* Snapshot files: Caffe's HDF5 layout checked with the HDF5 API (names,
 * types, shapes), the binary .caffemodel read back with protobuf-c, weights
 * loading by layer name, and bad inputs (missing, truncated, corrupted, a
 * different net, a state without its weights) failing before anything is
 * written. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "solver/formats/snapshot.h"
#include "solver_fixture.h"

static CliffSolver *tiny(const char *dir, const char *extra, Cliff__SolverParameter **out,
                         int num_output)
{
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    char *net = fx_net_n(list, 4, 0, 0, num_output);
    *out = fx_sp("%s type: \"Adam\" base_lr: 0.1 lr_policy: \"fixed\" max_iter: 2 "
                 "random_seed: 9 snapshot_prefix: \"%s/snap\" %s", net, dir, extra);
    free(net);
    CliffError err;
    CliffSolver *s = cliff_solver_create(*out, NULL, NULL, &err);
    if (!s) CHECK_FAILF("create: %s", err.msg);
    return s;
}

static void check_dataset(hid_t f, const char *name, H5T_class_t cls, size_t size, int rank,
                          const hsize_t *dims)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) {
        CHECK_FAILF("missing dataset %s", name);
        return;
    }
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    CHECK(H5Tget_class(t) == cls);
    CHECK(H5Tget_size(t) == size);
    int r = H5Sget_simple_extent_ndims(sp);
    if (r != rank) CHECK_FAILF("%s has rank %d, expected %d", name, r, rank);
    hsize_t got[8];
    H5Sget_simple_extent_dims(sp, got, NULL);
    for (int i = 0; i < r && i < rank; i++) CHECK(got[i] == dims[i]);
    H5Tclose(t);
    H5Sclose(sp);
    H5Dclose(ds);
}

static int nlinks(hid_t f, const char *group)
{
    hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
    if (g < 0) return -1;
    H5G_info_t info;
    H5Gget_info(g, &info);
    H5Gclose(g);
    return (int)info.nlinks;
}

static void test_hdf5_layout(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp;
    CliffSolver *s = tiny(dir, "", &sp, 3);
    if (!s) return;
    CliffError err;
    CHECK(cliff_solver_solve(s, &err) == 0);
    char path[300];
    snprintf(path, sizeof path, "%s/snap_iter_2.caffemodel.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0);
    /* one group per train layer (data, ip, loss; the TEST-only accuracy is not
     * in the train net), split layers skipped */
    CHECK(nlinks(f, "/data") == 3);
    CHECK(nlinks(f, "/data/data") == 0);
    CHECK(nlinks(f, "/data/loss") == 0);
    CHECK(nlinks(f, "/data/ip") == 2);
    hsize_t w[2] = {3, 4}, b[1] = {3}, one[1] = {1};
    check_dataset(f, "/data/ip/0", H5T_FLOAT, 4, 2, w);
    check_dataset(f, "/data/ip/1", H5T_FLOAT, 4, 1, b);
    CHECK(H5Lexists(f, "/diff", H5P_DEFAULT) == 0);
    float wv[12];
    hid_t ds = H5Dopen2(f, "/data/ip/0", H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, wv);
    H5Dclose(ds);
    CHECK(memcmp(wv, cliff_solver_train_net(s)->param_slab, sizeof wv) == 0);
    H5Fclose(f);

    snprintf(path, sizeof path, "%s/snap_iter_2.solverstate.h5", dir);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0);
    check_dataset(f, "/iter", H5T_INTEGER, 4, 1, one);
    check_dataset(f, "/current_step", H5T_INTEGER, 4, 1, one);
    int iter = -1;
    ds = H5Dopen2(f, "/iter", H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &iter);
    H5Dclose(ds);
    CHECK(iter == 2);
    /* learned_net: scalar, fixed-length, null-terminated ASCII */
    ds = H5Dopen2(f, "/learned_net", H5P_DEFAULT);
    hid_t t = H5Dget_type(ds), spc = H5Dget_space(ds);
    CHECK(H5Tget_class(t) == H5T_STRING);
    CHECK(H5Tis_variable_str(t) == 0);
    CHECK(H5Tget_strpad(t) == H5T_STR_NULLTERM);
    CHECK(H5Tget_cset(t) == H5T_CSET_ASCII);
    CHECK(H5Sget_simple_extent_type(spc) == H5S_SCALAR);
    char want[300], got[300] = {0};
    snprintf(want, sizeof want, "%s/snap_iter_2.caffemodel.h5", dir);
    CHECK(H5Tget_size(t) == strlen(want) + 1);
    H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, got);
    CHECK(strcmp(got, want) == 0);
    H5Tclose(t);
    H5Sclose(spc);
    H5Dclose(ds);
    /* Adam: m(ip/0), m(ip/1), v(ip/0), v(ip/1), shaped like the parameters */
    CHECK(nlinks(f, "/history") == 4);
    check_dataset(f, "/history/0", H5T_FLOAT, 4, 2, w);
    check_dataset(f, "/history/1", H5T_FLOAT, 4, 1, b);
    check_dataset(f, "/history/2", H5T_FLOAT, 4, 2, w);
    check_dataset(f, "/history/3", H5T_FLOAT, 4, 1, b);
    hsize_t four[1] = {4};
    check_dataset(f, "/cliff/rng", H5T_INTEGER, 8, 1, four);
    CHECK(H5Lexists(f, "/cliff/layer_state", H5P_DEFAULT) > 0);
    H5Fclose(f);
    /* no temporary left behind */
    snprintf(path, sizeof path, "%s/snap_iter_2.solverstate.h5.tmp", dir);
    CHECK(!fx_exists(path));
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void test_binary_caffemodel(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp;
    CliffSolver *s = tiny(dir, "snapshot_format: BINARYPROTO", &sp, 3);
    if (!s) return;
    CliffError err;
    CHECK(cliff_solver_solve(s, &err) == 0);
    char path[300];
    snprintf(path, sizeof path, "%s/snap_iter_2.caffemodel", dir);
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    Cliff__NetParameter *np = cliff__net_parameter__unpack(NULL, n, buf);
    CHECK(np != NULL);
    if (np) {
        CHECK(np->n_layer == 3);
        CHECK(strcmp(np->name, "tiny") == 0);
        const Cliff__LayerParameter *ip = np->layer[1];
        CHECK(strcmp(ip->name, "ip") == 0 && strcmp(ip->type, "InnerProduct") == 0);
        CHECK(ip->has_phase && ip->phase == CLIFF__PHASE__TRAIN);
        CHECK(ip->n_blobs == 2 && ip->blobs[0]->shape->n_dim == 2);
        CHECK(ip->blobs[0]->shape->dim[0] == 3 && ip->blobs[0]->shape->dim[1] == 4);
        CHECK(ip->blobs[0]->n_data == 12);
        CHECK(memcmp(ip->blobs[0]->data, cliff_solver_train_net(s)->param_slab, 48) == 0);
        CHECK(ip->inner_product_param && ip->inner_product_param->num_output == 3);
        protobuf_c_message_free_unpacked(&np->base, NULL);
    }
    snprintf(path, sizeof path, "%s/snap_iter_2.solverstate", dir);
    CliffStateData d;
    CHECK(cliff_state_read(path, &d, &err) == 0);
    CHECK(d.iter == 2 && d.nhist == 4 && d.hist_count[0] == 12 && d.has_cliff);
    cliff_state_data_free(&d);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* --weights: matched by name, absent layers listed, shape mismatch named. */
static void test_load_weights(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp;
    CliffSolver *s = tiny(dir, "", &sp, 3);
    if (!s) return;
    CliffError err;
    CHECK(cliff_solver_snapshot(s, &err) == 0); /* snap_iter_0 */
    char model[300];
    snprintf(model, sizeof model, "%s/snap_iter_0.caffemodel.h5", dir);
    float w0[15];
    memcpy(w0, cliff_solver_train_net(s)->param_slab, sizeof w0);
    cliff_solver_free(s);
    fx_free_sp(sp);

    /* a net with one more layer "ip2": ip loads, ip2 keeps its filler */
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    sp = fx_sp(
        "net_param { name: \"two\"\n"
        " layer { name: \"data\" type: \"HDF5Data\" top: \"data\" top: \"label\"\n"
        "   hdf5_data_param { source: \"%s\" batch_size: 4 } }\n"
        " layer { name: \"ip\" type: \"InnerProduct\" bottom: \"data\" top: \"ip\"\n"
        "   inner_product_param { num_output: 3 } }\n"
        " layer { name: \"ip2\" type: \"InnerProduct\" bottom: \"ip\" top: \"ip2\"\n"
        "   inner_product_param { num_output: 3 bias_filler { type: \"constant\" value: 7 } } }\n"
        " layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"ip2\" bottom: \"label\" "
        "top: \"loss\" } }\n"
        "base_lr: 0.1 max_iter: 1 random_seed: 2 snapshot_prefix: \"%s/x\"", list, dir);
    s = cliff_solver_create(sp, NULL, NULL, &err);
    if (!s) {
        CHECK_FAILF("create: %s", err.msg);
        return;
    }
    CHECK(cliff_solver_load_weights(s, model, &err) == 0);
    CliffNet *n = cliff_solver_train_net(s);
    CHECK(memcmp(n->param_slab, w0, sizeof w0) == 0);
    CHECK(n->params[3].tensor->data[0] == 7.0f);
    const char *const *missing;
    CHECK(cliff_solver_missing_layers(s, &missing) == 1);
    CHECK(strcmp(missing[0], "ip2") == 0);
    cliff_solver_free(s);
    fx_free_sp(sp);

    /* shape mismatch: num_output 5 */
    s = tiny(dir, "", &sp, 5);
    float before[4 * 5 + 5];
    memcpy(before, cliff_solver_train_net(s)->param_slab, sizeof before);
    CHECK(cliff_solver_load_weights(s, model, &err) == -1);
    CHECK(strstr(err.msg, "layer 'ip'") && strstr(err.msg, "3x4") && strstr(err.msg, "5x4"));
    CHECK(memcmp(before, cliff_solver_train_net(s)->param_slab, sizeof before) == 0);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void copy_prefix(const char *from, const char *to, long bytes)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    for (long i = 0; i < bytes; i++) {
        int c = fgetc(a);
        if (c == EOF) break;
        fputc(c, b);
    }
    fclose(a);
    fclose(b);
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) ? -1 : (long)st.st_size;
}

static void expect_restore_error(CliffSolver *s, const char *dir, const char *path,
                                 const char *needle)
{
    CliffError err;
    err.msg[0] = 0;
    int before = fx_count_files(dir);
    int iter = cliff_solver_iter(s);
    CHECK(cliff_solver_restore(s, path, &err) == -1);
    if (!strstr(err.msg, needle)) CHECK_FAILF("error '%s' lacks '%s'", err.msg, needle);
    CHECK(fx_count_files(dir) == before); /* nothing written */
    CHECK(cliff_solver_iter(s) == iter);  /* nothing changed */
}

static void test_bad_snapshot_inputs(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp;
    CliffSolver *s = tiny(dir, "", &sp, 3);
    if (!s) return;
    CliffError err;
    CHECK(cliff_solver_solve(s, &err) == 0); /* writes snap_iter_2.* */
    cliff_solver_free(s);
    s = cliff_solver_create(sp, NULL, NULL, &err);
    char state[300], model[300], bad[300];
    snprintf(state, sizeof state, "%s/snap_iter_2.solverstate.h5", dir);
    snprintf(model, sizeof model, "%s/snap_iter_2.caffemodel.h5", dir);

    snprintf(bad, sizeof bad, "%s/nope.solverstate.h5", dir);
    expect_restore_error(s, dir, bad, "missing");

    snprintf(bad, sizeof bad, "%s/trunc.solverstate.h5", dir);
    copy_prefix(state, bad, file_size(state) / 2);
    expect_restore_error(s, dir, bad, "trunc.solverstate.h5");

    snprintf(bad, sizeof bad, "%s/garbage.solverstate", dir);
    FILE *g = fopen(bad, "wb");
    fputs("this is not a snapshot at all\n", g);
    fclose(g);
    expect_restore_error(s, dir, bad, "corrupted");

    /* truncated weights file next to an intact state */
    char keep[320];
    snprintf(keep, sizeof keep, "%s.keep", model);
    rename(model, keep);
    copy_prefix(keep, model, file_size(keep) / 2);
    expect_restore_error(s, dir, state, "snap_iter_2.caffemodel.h5");
    /* state without its weights file */
    unlink(model);
    expect_restore_error(s, dir, state, "was not found");
    rename(keep, model);
    cliff_solver_free(s);

    /* a snapshot of a different net (num_output 5) */
    Cliff__SolverParameter *sp5;
    s = tiny(dir, "", &sp5, 5);
    expect_restore_error(s, dir, state, "history blob 0 has 12 values");
    cliff_solver_free(s);
    fx_free_sp(sp5);
    /* a different solver type: SGD needs 2 history blobs, the file has 4 */
    Cliff__SolverParameter *sgd;
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 0, 0);
    sgd = fx_sp("%s base_lr: 0.1 max_iter: 2 snapshot_prefix: \"%s/snap\"", net, dir);
    free(net);
    s = cliff_solver_create(sgd, NULL, NULL, &err);
    expect_restore_error(s, dir, state, "holds 4 history blobs");
    cliff_solver_free(s);
    fx_free_sp(sgd);

    /* the good one still works */
    s = cliff_solver_create(sp, NULL, NULL, &err);
    CHECK(cliff_solver_restore(s, state, &err) == 0);
    CHECK(cliff_solver_iter(s) == 2);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void test_unwritable_prefix(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp;
    CliffSolver *s = tiny(dir, "", &sp, 3);
    if (!s) return;
    /* point the prefix at a folder that does not exist */
    char *old = sp->snapshot_prefix;
    char p[300];
    snprintf(p, sizeof p, "%s/no/such/folder/snap", dir);
    cliff_solver_free(s);
    sp->snapshot_prefix = p;
    sp->metrics_file = (char *)"/dev/null";
    CliffError err;
    s = cliff_solver_create(sp, NULL, NULL, &err);
    CHECK(cliff_solver_snapshot(s, &err) == -1);
    CHECK(strstr(err.msg, "cannot create") != NULL);
    cliff_solver_free(s);
    sp->snapshot_prefix = old;
    sp->metrics_file = NULL;
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void test_solve_creates_snapshot_folder(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 0, 0);
    Cliff__SolverParameter *sp = fx_sp("%s base_lr: 0.1 max_iter: 1 snapshot_prefix: "
                                       "\"%s/a/b/snap\"", net, dir);
    free(net);
    CliffError err;
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    CHECK(s && cliff_solver_solve(s, &err) == 0);
    char path[300];
    snprintf(path, sizeof path, "%s/a/b/snap_iter_1.caffemodel.h5", dir);
    CHECK(fx_exists(path));
    snprintf(path, sizeof path, "%s/a/b/snap_metrics.csv", dir);
    CHECK(fx_exists(path));
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

static void touch(const char *dir, const char *name)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) fclose(f);
}

static int exists_in(const char *dir, const char *name)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return fx_exists(p);
}

/* The stale-.tmp cleanup matches names literally: the prefix "run[12]" is not
 * a pattern for run1's in-progress files, and final names are never touched. */
static void test_stale_cleanup_is_literal(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 0, 0);
    Cliff__SolverParameter *sp = fx_sp("%s base_lr: 0.1 max_iter: 1 snapshot_after_train: false "
                                       "snapshot_prefix: \"%s/run[12]\"", net, dir);
    free(net);
    touch(dir, "run1_iter_3.caffemodel.h5.tmp");        /* another run's, in progress */
    touch(dir, "run2_iter_3.solverstate.h5.tmp");       /* another run's */
    touch(dir, "run[12]_iter_3.caffemodel.h5.tmp");     /* ours, left by a kill */
    touch(dir, "run[12]_iter_3.caffemodel.h5");         /* ours, final */
    touch(dir, "run[12]_iterx_3.caffemodel.h5.tmp");    /* not a snapshot name */
    CliffError err;
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    CHECK(s && cliff_solver_solve(s, &err) == 0);
    CHECK(exists_in(dir, "run1_iter_3.caffemodel.h5.tmp"));
    CHECK(exists_in(dir, "run2_iter_3.solverstate.h5.tmp"));
    CHECK(!exists_in(dir, "run[12]_iter_3.caffemodel.h5.tmp"));
    CHECK(exists_in(dir, "run[12]_iter_3.caffemodel.h5"));
    CHECK(exists_in(dir, "run[12]_iterx_3.caffemodel.h5.tmp"));
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* Loads /dev/zero as weights with the address space capped at 1 GiB (the old
 * reader grew its buffer until memory ran out); exits 0 when refused by name. */
static void load_dev_zero(CliffSolver *s)
{
#ifndef __SANITIZE_ADDRESS__ /* ASan reserves far more than 1 GiB up front */
    struct rlimit lim = {1u << 30, 1u << 30};
    setrlimit(RLIMIT_AS, &lim);
#endif
    CliffError err = {0};
    int rc = cliff_solver_load_weights(s, "/dev/zero", &err);
    printf("  /dev/zero: %s\n", rc ? err.msg : "accepted");
    fflush(stdout);
    _exit(rc == -1 && strstr(err.msg, "'/dev/zero'") && strstr(err.msg, "not a regular file")
              ? 0 : 1);
}

/* --weights: NaN in a file is refused naming the file, layer and blob; a
 * device is refused before anything is read. */
static void test_weights_rejected(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp;
    CliffSolver *s = tiny(dir, "", &sp, 3);
    if (!s) return;
    CliffError err;
    CHECK(cliff_solver_snapshot(s, &err) == 0);
    char model[300];
    snprintf(model, sizeof model, "%s/snap_iter_0.caffemodel.h5", dir);
    float w[12];
    memcpy(w, cliff_solver_train_net(s)->param_slab, sizeof w);
    w[5] = NAN;
    hid_t f = H5Fopen(model, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "/data/ip/0", H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w);
    H5Dclose(ds);
    H5Fclose(f);
    float before[15];
    memcpy(before, cliff_solver_train_net(s)->param_slab, sizeof before);
    int rc = cliff_solver_load_weights(s, model, &err);
    CHECK(rc == -1);
    if (rc == -1 && (!strstr(err.msg, model) || !strstr(err.msg, "layer 'ip' parameter 0") ||
                     !strstr(err.msg, "NaN")))
        CHECK_FAILF("error '%s' names no file, layer or NaN", err.msg);
    CHECK(memcmp(before, cliff_solver_train_net(s)->param_slab, sizeof before) == 0);

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) load_dev_zero(s);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) CHECK_FAILF("/dev/zero: child status %d", st);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* A net whose layers are named by `names` (InnerProducts chained after the
 * data layer); the solver, or NULL with err filled. */
static CliffSolver *named_net(const char *dir, const char *const *names, int n,
                              Cliff__SolverParameter **out, CliffError *err)
{
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    size_t cap = 4096 + (size_t)n * 3000;
    char *layers = calloc(cap, 1), *bottom = "data";
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        used += (size_t)snprintf(layers + used, cap - used,
                                 " layer { name: \"%s\" type: \"InnerProduct\" bottom: \"%s\" "
                                 "top: \"t%d\" inner_product_param { num_output: 3 "
                                 "weight_filler { type: \"gaussian\" std: 0.3 } } }\n",
                                 names[i], bottom, i);
        static char top[8][16];
        snprintf(top[i % 8], sizeof top[0], "t%d", i);
        bottom = top[i % 8];
    }
    *out = fx_sp("net_param { name: \"named\"\n"
                 " layer { name: \"data\" type: \"HDF5Data\" top: \"data\" top: \"label\"\n"
                 "   hdf5_data_param { source: \"%s\" batch_size: 4 } }\n%s"
                 " layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"%s\" "
                 "bottom: \"label\" top: \"loss\" } }\n"
                 "type: \"Adam\" base_lr: 0.1 max_iter: 2 random_seed: 3 "
                 "snapshot_prefix: \"%s/n\"", list, layers, bottom, dir);
    free(layers);
    return cliff_solver_create(*out, NULL, NULL, err);
}

/* Caffe accepts "conv1" beside "conv1/bn" (and long names): they round-trip
 * through an HDF5 snapshot, --weights and resume. */
static void test_nested_layer_names_round_trip(void)
{
    char *dir = fx_tmpdir();
    static char longname[1501];
    memset(longname, 'L', 1500);
    const char *names[] = {"ip/bn", "ip", longname};
    Cliff__SolverParameter *sp;
    CliffError err;
    CliffSolver *s = named_net(dir, names, 3, &sp, &err);
    if (!s) {
        CHECK_FAILF("create: %s", err.msg);
        return;
    }
    if (cliff_solver_solve(s, &err)) CHECK_FAILF("solve: %s", err.msg);
    CliffNet *n = cliff_solver_train_net(s);
    size_t count = n->param_count;
    float *w = malloc(count * sizeof *w);
    memcpy(w, n->param_slab, count * sizeof *w);
    cliff_solver_free(s);
    char path[300];
    snprintf(path, sizeof path, "%s/n_iter_2.caffemodel.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(H5Lexists(f, "/data/ip/bn/0", H5P_DEFAULT) > 0); /* Caffe's nesting */
    CHECK(H5Lexists(f, "/data/ip/0", H5P_DEFAULT) > 0);
    H5Fclose(f);

    s = cliff_solver_create(sp, NULL, NULL, &err);
    snprintf(path, sizeof path, "%s/n_iter_2.solverstate.h5", dir);
    if (cliff_solver_restore(s, path, &err)) CHECK_FAILF("restore: %s", err.msg);
    CHECK(memcmp(cliff_solver_train_net(s)->param_slab, w, count * sizeof *w) == 0);
    cliff_solver_free(s);
    s = cliff_solver_create(sp, NULL, NULL, &err);
    snprintf(path, sizeof path, "%s/n_iter_2.caffemodel.h5", dir);
    if (cliff_solver_load_weights(s, path, &err)) CHECK_FAILF("weights: %s", err.msg);
    CHECK(memcmp(cliff_solver_train_net(s)->param_slab, w, count * sizeof *w) == 0);
    cliff_solver_free(s);
    fx_free_sp(sp);
    free(w);
    fx_rmdir(dir);
}

/* Names a snapshot cannot hold are refused when the net is built, naming
 * the layer. */
static void test_unstorable_layer_names(void)
{
    static const struct {
        const char *a, *b, *needle;
    } cases[] = {
        {"", "ip", "empty name"},     {".", "ip", "'.' or '..'"},
        {"/", "ip", "start or end"},  {"a//b", "ip", "between two '/'"},
        {"ip/", "x", "start or end"}, {"/ip", "x", "start or end"},
        {"a/../b", "ip", "'.' or '..'"}, {"ip", "ip", "second layer of that name"},
        {"ip", "ip/1", "parameter blob"},
    };
    char *dir = fx_tmpdir();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *names[] = {cases[i].a, cases[i].b};
        Cliff__SolverParameter *sp;
        CliffError err = {0};
        CliffSolver *s = named_net(dir, names, 2, &sp, &err);
        if (s)
            CHECK_FAILF("names '%s', '%s' accepted", cases[i].a, cases[i].b);
        else if (!strstr(err.msg, cases[i].needle) || !strstr(err.msg, "layer '"))
            CHECK_FAILF("names '%s', '%s': '%s' lacks '%s'", cases[i].a, cases[i].b, err.msg,
                        cases[i].needle);
        cliff_solver_free(s);
        fx_free_sp(sp);
    }
    fx_rmdir(dir);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(test_hdf5_layout);
    RUN(test_binary_caffemodel);
    RUN(test_load_weights);
    RUN(test_bad_snapshot_inputs);
    RUN(test_unwritable_prefix);
    RUN(test_solve_creates_snapshot_folder);
    RUN(test_stale_cleanup_is_literal);
    RUN(test_weights_rejected);
    RUN(test_nested_layer_names_round_trip);
    RUN(test_unstorable_layer_names);
    return test_main_end();
}
