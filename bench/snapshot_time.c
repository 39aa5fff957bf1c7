/* snapshot_time: how long cliff takes to write and to read back a snapshot.
 *
 *   snapshot_time SOLVER REPS [FIELD=VALUE ...]
 *
 * Loads SOLVER with the overrides (as `train --set`), builds the solver, runs
 * two training iterations (so the weights and the momentum history are not
 * the fillers' values), then calls cliff_solver_snapshot REPS times (each
 * rewrites the same <prefix>_iter_2 files, through the page cache, no fsync)
 * and cliff_solver_restore of that state REPS times. Prints, for bench/run.sh:
 *   state FILE
 *   write_ms MEDIAN MIN MAX
 *   read_ms MEDIAN MIN MAX
 * Exit status 0, or 1 with the error on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/kernels/clock.h"
#include "proto/config.h"
#include "solver/solver.h"
#include "tools/report/timing.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts ms[0..n) and prints "label median min max". */
static void report(const char *label, double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    double median = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
    printf("%s %.3f %.3f %.3f\n", label, median, ms[0], ms[n - 1]);
}

int main(int argc, char **argv)
{
    if (argc < 3 || atoi(argv[2]) <= 0) {
        fprintf(stderr, "usage: snapshot_time SOLVER REPS [FIELD=VALUE ...]\n");
        return 2;
    }
    int reps = atoi(argv[2]);
    CliffError err;
    CliffSrcMap map;
    Cliff__SolverParameter *sp = NULL;
    CliffSolver *s = NULL;
    double *ms = calloc((size_t)reps, sizeof *ms);
    int rc = 1;
    cliff_srcmap_init(&map);
    /* The command line's FIELD=VALUE, then no tests, display, periodic snapshots
     * or metrics: only what is timed here. */
    char timing[CLIFF_TIME_NOVERRIDES][64];
    const char **sets = calloc((size_t)argc + CLIFF_TIME_NOVERRIDES, sizeof *sets);
    size_t nsets = 0;
    if (!ms || !sets) {
        free(sets);
        goto done;
    }
    for (int i = 3; i < argc; i++) sets[nsets++] = argv[i];
    for (size_t i = 0, n = cliff_time_overrides(2, timing); i < n; i++) sets[nsets++] = timing[i];
    int loaded = cliff_solver_load(argv[1], NULL, sets, nsets, &sp, &map, &err);
    free(sets);
    if (loaded) goto fail;
    if (!(s = cliff_solver_create(sp, &map, NULL, &err))) goto fail;
    if (cliff_solver_step(s, 2, &err)) goto fail;

    for (int r = 0; r < reps; r++) {
        double t0 = cliff_clock_seconds();
        if (cliff_solver_snapshot(s, &err)) goto fail;
        ms[r] = 1e3 * (cliff_clock_seconds() - t0);
    }
    char state[sizeof cliff_solver_stats(s)->last_snapshot];
    snprintf(state, sizeof state, "%s", cliff_solver_stats(s)->last_snapshot);
    printf("state %s\n", state);
    report("write_ms", ms, reps);

    for (int r = 0; r < reps; r++) {
        double t0 = cliff_clock_seconds();
        if (cliff_solver_restore(s, state, &err)) goto fail;
        ms[r] = 1e3 * (cliff_clock_seconds() - t0);
    }
    report("read_ms", ms, reps);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "snapshot_time: %s\n", err.msg);
done:
    cliff_solver_free(s);
    if (sp) protobuf_c_message_free_unpacked(&sp->base, NULL);
    cliff_srcmap_free(&map);
    free(ms);
    return rc;
}
