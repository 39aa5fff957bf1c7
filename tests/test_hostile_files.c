/* Hostile HDF5 files: solver states and HDF5Data inputs crafted with the HDF5
 * API to hold arrays where Caffe's layout has scalars, or to declare datasets
 * whose byte size overflows size_t (chunked and never written, so the file
 * stays tiny). Each must be refused with an error naming the dataset, never
 * read past a buffer. Every case runs in a child process, so a crash is a
 * failing case and not the end of the program. */
#include <sys/wait.h>

#include "solver/formats/snapshot.h"
#include "solver_fixture.h"

/* Runs fn(arg) in a child; the child's exit code 0 means the case held. */
static void in_child(int (*fn)(const char *dir), const char *dir, const char *what)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int rc = fn(dir);
        fflush(stdout);
        _exit(rc);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        CHECK_FAILF("%s: crashed with signal %d", what, WTERMSIG(st));
    else if (WEXITSTATUS(st))
        CHECK_FAILF("%s: wrong behaviour (child status %d)", what, WEXITSTATUS(st));
}

static Cliff__SolverParameter *config(const char *dir)
{
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, fx_label);
    char *net = fx_net(list, 4, 0, 0);
    Cliff__SolverParameter *sp = fx_sp("%s type: \"Adam\" base_lr: 0.1 max_iter: 2 "
                                       "random_seed: 9 snapshot_prefix: \"%s/snap\"", net, dir);
    free(net);
    return sp;
}

/* Writes dir/snap_iter_2.{caffemodel,solverstate}.h5 from a 2-iteration run;
 * returns the state's path (static). */
static const char *make_snapshot(const char *dir)
{
    static char state[300];
    Cliff__SolverParameter *sp = config(dir);
    CliffError err;
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    if (!s || cliff_solver_solve(s, &err)) CHECK_FAILF("setup: %s", err.msg);
    cliff_solver_free(s);
    fx_free_sp(sp);
    snprintf(state, sizeof state, "%s/snap_iter_2.solverstate.h5", dir);
    return state;
}

/* Replaces dataset `name` of the state file with an n-element 1-D array of
 * fixed-length strings (each `len` bytes). */
static void replace_with_string_array(const char *path, const char *name, hsize_t n, size_t len)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, name, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len);
    hid_t sp = H5Screate_simple(1, &n, NULL);
    char *buf = calloc(n, len);
    for (hsize_t i = 0; i < n; i++) memset(buf + i * len, 'x', len - 1);
    hid_t ds = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(t);
    H5Fclose(f);
    free(buf);
}

/* Replaces dataset `name` with a chunked, never-written int8 dataset of the
 * given dims: its declared size is whatever the dims say, its storage nothing. */
static void replace_with_huge(const char *path, const char *name, int rank, const hsize_t *dims)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (H5Lexists(f, name, H5P_DEFAULT) > 0) H5Ldelete(f, name, H5P_DEFAULT);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk[2] = {1, 16};
    H5Pset_chunk(dcpl, rank, rank == 1 ? chunk + 1 : chunk);
    hid_t ds = H5Dcreate2(f, name, H5T_STD_I8LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) printf("note: could not create %s\n", name);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Fclose(f);
}

/* Restores dir/snap_iter_2.solverstate.h5 into a fresh solver: 0 when it is
 * refused with an error containing both needles. */
static int expect_state_refused(const char *dir, const char *n1, const char *n2)
{
    Cliff__SolverParameter *sp = config(dir);
    CliffError err = {0};
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    if (!s) return 10;
    char state[300];
    snprintf(state, sizeof state, "%s/snap_iter_2.solverstate.h5", dir);
    int rc = cliff_solver_restore(s, state, &err);
    printf("  restore: %s\n", rc ? err.msg : "accepted");
    cliff_solver_free(s);
    fx_free_sp(sp);
    if (rc != -1) return 1;
    if (!strstr(err.msg, n1) || !strstr(err.msg, n2)) return 2;
    return 0;
}

static const char *needle1, *needle2;
static int refused(const char *dir) { return expect_state_refused(dir, needle1, needle2); }

/* learned_net and /cliff/type as arrays of 1000 strings (Caffe writes one
 * scalar string): the old reader sized its buffer for one. */
static void test_state_string_arrays(void)
{
    char *dir = fx_tmpdir();
    const char *state = make_snapshot(dir);
    replace_with_string_array(state, "learned_net", 1000, 64);
    needle1 = "learned_net", needle2 = "holds 1000 strings, expected one";
    in_child(refused, dir, "learned_net array");
    make_snapshot(dir);
    replace_with_string_array(state, "cliff/type", 1000, 8);
    needle1 = "'cliff/type'", needle2 = "holds 1000 strings";
    in_child(refused, dir, "/cliff/type array");
    fx_rmdir(dir);
}

/* A history blob declaring 2^62 int8 values: as floats 2^64 bytes, which
 * wrapped to a 4-byte malloc. Likewise a layer-state dataset. */
static void test_state_size_overflow(void)
{
    char *dir = fx_tmpdir();
    const char *state = make_snapshot(dir);
    hsize_t huge[1] = {(hsize_t)1 << 62};
    replace_with_huge(state, "history/1", 1, huge);
    needle1 = "'history/1'", needle2 = "too large";
    in_child(refused, dir, "history 2^62");
    make_snapshot(dir);
    hsize_t gib[1] = {(hsize_t)1 << 30}; /* fits memory, but no file of a few KB holds it */
    replace_with_huge(state, "history/0", 1, gib);
    needle1 = "'history/0'", needle2 = "more than a file of";
    in_child(refused, dir, "history 2^30 in a small file");
    make_snapshot(dir);
    replace_with_huge(state, "cliff/losses", 1, huge);
    needle1 = "'cliff/losses'", needle2 = "too large";
    in_child(refused, dir, "losses 2^62");
    fx_rmdir(dir);
}

/* An HDF5Data file whose "data" is 2^31 x 2^31 int8: rows * row_size * 4
 * bytes is 2^64, which wrapped to malloc(1). Net creation must fail. */
static int build_refused(const char *dir)
{
    Cliff__SolverParameter *sp = config(dir);
    char h5[300];
    snprintf(h5, sizeof h5, "%s/d.h5", dir);
    hsize_t dims[2] = {(hsize_t)1 << 31, (hsize_t)1 << 31};
    replace_with_huge(h5, "data", 2, dims);
    hsize_t rows[1] = {(hsize_t)1 << 31};
    replace_with_huge(h5, "label", 1, rows);
    CliffError err = {0};
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    printf("  create: %s\n", s ? "accepted" : err.msg);
    int rc = s ? 1 : !strstr(err.msg, "'data'") || !strstr(err.msg, "too large") ? 2 : 0;
    cliff_solver_free(s);
    fx_free_sp(sp);
    return rc;
}

static void test_hdf5_data_size_overflow(void)
{
    char *dir = fx_tmpdir();
    in_child(build_refused, dir, "HDF5Data 2^31 x 2^31");
    fx_rmdir(dir);
}

/* Flips one bit inside the stored bytes of `want` (n bytes) in file path;
 * 0 when the bytes were not found. */
static int flip_bit_in(const char *path, const void *want, size_t n)
{
    FILE *f = fopen(path, "r+b");
    static unsigned char buf[1 << 20];
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    unsigned char *at = len ? memmem(buf, len, want, n) : NULL;
    if (at) {
        at[n / 2] ^= 0x10;
        fseek(f, (long)(at - buf) + (long)(n / 2), SEEK_SET);
        fputc(at[n / 2], f);
    }
    if (f) fclose(f);
    return at != NULL;
}

/* A flipped bit inside the weights of a snapshot is an error on load (the
 * Fletcher-32 checksum of every dataset cliff writes), naming file and blob. */
static void test_flipped_bit_is_detected(void)
{
    char *dir = fx_tmpdir();
    Cliff__SolverParameter *sp = config(dir);
    CliffError err = {0};
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    if (!s) {
        CHECK_FAILF("create: %s", err.msg);
        return;
    }
    CHECK(cliff_solver_snapshot(s, &err) == 0);
    char model[300];
    snprintf(model, sizeof model, "%s/snap_iter_0.caffemodel.h5", dir);
    CHECK(cliff_solver_load_weights(s, model, &err) == 0); /* intact: loads */
    float w[12];
    memcpy(w, cliff_solver_train_net(s)->param_slab, sizeof w);
    CHECK(flip_bit_in(model, w, sizeof w));
    int rc = cliff_solver_load_weights(s, model, &err);
    CHECK(rc == -1);
    if (rc == -1 && (!strstr(err.msg, model) || !strstr(err.msg, "data/ip/0") ||
                     !strstr(err.msg, "checksum")))
        CHECK_FAILF("error '%s' names no file, blob or checksum", err.msg);
    CHECK(memcmp(w, cliff_solver_train_net(s)->param_slab, sizeof w) == 0); /* untouched */
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    RUN(test_state_string_arrays);
    RUN(test_state_size_overflow);
    RUN(test_hdf5_data_size_overflow);
    RUN(test_flipped_bit_is_detected);
    return test_main_end();
}
