/* Helpers for the solver tests: a temporary folder, tiny HDF5 data sets laid
 * out for HDF5Data, and solvers built from prototxt text. Header-only (static
 * inline) so that each test program takes what it uses. */
#ifndef CLIFF_SOLVER_FIXTURE_H
#define CLIFF_SOLVER_FIXTURE_H

#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "h5_fixture.h"
#include "solver/solver.h"
#include "proto/textformat.h"

/* A fresh folder under /tmp (removed by fx_rmdir). */
static inline char *fx_tmpdir(void)
{
    static char buf[8][64];
    static int next;
    char *d = buf[next++ % 8];
    snprintf(d, 64, "/tmp/cliff_solver_XXXXXX");
    return mkdtemp(d);
}

static inline void fx_rmdir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* Writes dir/name.h5 with "data" n x dim (value(row, col)) and "label" n
 * (label(row)), and dir/name.txt listing it; returns the list path (static).
 * A failure to write fails the running test. */
static inline const char *fx_h5data(const char *dir, const char *name, int n, int dim,
                                    float (*value)(int row, int col), float (*label)(int row))
{
    static char list[8][256];
    static int next;
    char *lp = list[next++ % 8];
    char h5[256];
    snprintf(h5, sizeof h5, "%s/%s.h5", dir, name);
    snprintf(lp, 256, "%s/%s.txt", dir, name);
    float *data = malloc((size_t)n * (size_t)dim * sizeof *data);
    float *lab = malloc((size_t)n * sizeof *lab);
    if (!data || !lab) {
        CHECK_FAILF("out of memory");
        free(data);
        free(lab);
        return lp;
    }
    for (int r = 0; r < n; r++) {
        for (int c = 0; c < dim; c++) data[r * dim + c] = value(r, c);
        lab[r] = label(r);
    }
    hsize_t d2[2] = {(hsize_t)n, (hsize_t)dim}, d1[1] = {(hsize_t)n};
    H5Fx w;
    h5fx_create(&w, h5);
    h5fx_write(&w, w.file, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2, data);
    h5fx_write(&w, w.file, "label", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, d1, lab);
    if (h5fx_close(&w) == 0) h5fx_text(lp, "%s\n", h5);
    free(data);
    free(lab);
    return lp;
}

/* Parses printf-formatted solver text. Free with fx_free_sp. */
static inline Cliff__SolverParameter *fx_sp(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static inline Cliff__SolverParameter *fx_sp(const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0) text = NULL;
    va_end(ap);
    CliffError err;
    Cliff__SolverParameter *sp = (Cliff__SolverParameter *)cliff_text_parse(
        &cliff__solver_parameter__descriptor, "test.prototxt", text, strlen(text), NULL, &err);
    if (!sp) CHECK_FAILF("solver text: %s", err.msg);
    free(text);
    return sp;
}

static inline void fx_free_sp(Cliff__SolverParameter *sp)
{
    if (sp) protobuf_c_message_free_unpacked(&sp->base, NULL);
}

/* cliff_solver_create(sp) for a test (log may be NULL). NULL when sp is NULL
 * (its text did not parse: fx_sp reported that) or creation fails (reported
 * here as a failed check); sp is then freed. */
static inline CliffSolver *fx_solver(Cliff__SolverParameter *sp, FILE *log)
{
    if (!sp) return NULL;
    CliffError err;
    CliffSolver *s = cliff_solver_create(sp, NULL, log, &err);
    if (!s) {
        CHECK_FAILF("create: %s", err.msg);
        fx_free_sp(sp);
    }
    return s;
}

/* A linear classifier net over HDF5Data (dim inputs, 3 classes), with an
 * optional Dropout and a TEST-phase Accuracy. */
static inline char *fx_net_n(const char *list, int batch, int shuffle, int dropout,
                             int num_output)
{
    char *s = NULL;
    if (asprintf(&s,
                 "net_param {\n"
                 "  name: \"tiny\"\n"
                 "  layer { name: \"data\" type: \"HDF5Data\" top: \"data\" top: \"label\"\n"
                 "          hdf5_data_param { source: \"%s\" batch_size: %d shuffle: %s } }\n"
                 "  layer { name: \"ip\" type: \"InnerProduct\" bottom: \"data\" top: \"ip\"\n"
                 "          inner_product_param { num_output: %d\n"
                 "            weight_filler { type: \"gaussian\" std: 0.5 }\n"
                 "            bias_filler { type: \"constant\" value: 0.1 } } }\n"
                 "%s"
                 "  layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"ip\"\n"
                 "          bottom: \"label\" top: \"loss\" }\n"
                 "  layer { name: \"acc\" type: \"Accuracy\" bottom: \"ip\" bottom: \"label\"\n"
                 "          top: \"accuracy\" include { phase: TEST } }\n"
                 "}\n",
                 list, batch, shuffle ? "true" : "false", num_output,
                 dropout ? "  layer { name: \"drop\" type: \"Dropout\" bottom: \"ip\" top: \"ip\"\n"
                           "          dropout_param { dropout_ratio: 0.3 } }\n"
                         : "") < 0)
        s = NULL;
    return s;
}

static inline char *fx_net(const char *list, int batch, int shuffle, int dropout)
{
    return fx_net_n(list, batch, shuffle, dropout, 3);
}

static inline float fx_value(int r, int c) { return (float)sin(0.7 * r + 1.3 * c) + 0.1f * c; }
static inline float fx_label(int r) { return (float)(r % 3); }

static inline int fx_all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static inline int fx_exists(const char *path) { return access(path, F_OK) == 0; }

static inline int fx_count_files(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

#endif
