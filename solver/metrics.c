/* The metrics CSV (columns in solver.h). A fresh run truncates the file; a
 * resumed run (iter > 0) keeps the rows before its iteration, drops the rows
 * the interrupted run wrote after its snapshot (they are about to be redone),
 * and appends; the header is written only into an empty file. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "solver_impl.h"

#define METRICS_HEADER \
    "kind,iter,loss,smoothed_loss,lr,grad_norm,clip_scale,skipped,seconds,output,value," \
    "clip_threshold,clip_fraction\n"

/* mkdir -p of the folder part of path (nothing when it has none). */
static int make_parent_dirs(const char *path, CliffError *err)
{
    char *p = strdup(path);
    if (!p) return cliff_error_set(err, "out of memory");
    char *slash = strrchr(p, '/');
    int rc = 0;
    if (slash && slash != p) {
        *slash = 0;
        for (char *c = p + 1; *c && !rc; c++) {
            if (*c != '/') continue;
            *c = 0;
            if (mkdir(p, 0777) && errno != EEXIST) rc = -1;
            *c = '/';
        }
        if (!rc && mkdir(p, 0777) && errno != EEXIST) rc = -1;
        if (rc) cliff_error_set(err, "cannot create folder '%s': %s", p, strerror(errno));
    }
    free(p);
    return rc;
}

/* Rewrites path keeping the header and the rows whose iteration (column 2) is
 * below iter; the rewrite goes to a temporary file renamed over the original.
 * A missing file is fine. */
static int drop_rows_from(const char *path, int iter, CliffError *err)
{
    FILE *in = fopen(path, "r");
    if (!in) return 0;
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    FILE *out = tmp ? (snprintf(tmp, n, "%s.tmp", path), fopen(tmp, "w")) : NULL;
    if (!out) {
        fclose(in);
        free(tmp);
        return cliff_error_set(err, "cannot rewrite metrics file '%s'", path);
    }
    char line[4096];
    int first = 1, ok = 1;
    while (fgets(line, sizeof line, in)) {
        const char *comma = strchr(line, ',');
        int keep = first || !comma || atoi(comma + 1) < iter;
        first = 0;
        if (keep && fputs(line, out) < 0) ok = 0;
    }
    fclose(in);
    if (fclose(out) || !ok || rename(tmp, path)) {
        remove(tmp);
        free(tmp);
        return cliff_error_set(err, "cannot rewrite metrics file '%s'", path);
    }
    free(tmp);
    return 0;
}

/* Flushes the row just printed (printf_rc: fprintf's result) and keeps the
 * first failure's errno. */
static void written(CliffSolver *s, int printf_rc)
{
    int e = printf_rc < 0 ? (errno ? errno : -1) : 0;
    errno = 0;
    if (!e && fflush(s->metrics) != 0) e = errno ? errno : -1;
    if (!e && ferror(s->metrics)) e = -1;
    if (e && !s->metrics_errno) s->metrics_errno = e;
}

int cliff_metrics_check(const CliffSolver *s, CliffError *err)
{
    if (!s->metrics_errno) return 0;
    cliff_error_set(err, "cannot write metrics file '%s': %s", s->metrics_path,
                    s->metrics_errno > 0 ? strerror(s->metrics_errno) : "write error");
    return cliff_error_mark(err, CLIFF_ERR_IO);
}

/* Every failure here is the disk's or the file system's (folder, rewrite, open). */
static int metrics_open(CliffSolver *s, CliffError *err);
int cliff_metrics_open(CliffSolver *s, CliffError *err)
{
    if (metrics_open(s, err)) return cliff_error_mark(err, CLIFF_ERR_IO);
    return 0;
}

static int metrics_open(CliffSolver *s, CliffError *err)
{
    if (s->metrics || !cliff_dist_lead(s)) return 0;
    /* The snapshot folder is created here, when the run starts writing. */
    if (s->prefix[0] && make_parent_dirs(s->prefix, err)) return -1;
    const char *mf = s->sp->metrics_file;
    if (mf && mf[0]) {
        s->metrics_path = strdup(mf);
    } else {
        size_t n = strlen(s->prefix) + 16;
        s->metrics_path = malloc(n);
        if (s->metrics_path) snprintf(s->metrics_path, n, "%s_metrics.csv", s->prefix);
    }
    if (!s->metrics_path) return cliff_error_set(err, "out of memory");
    if (make_parent_dirs(s->metrics_path, err)) return -1;
    if (s->iter > 0 && strcmp(s->metrics_path, "/dev/null") &&
        drop_rows_from(s->metrics_path, s->iter, err))
        return -1;
    s->metrics = fopen(s->metrics_path, s->iter > 0 ? "a" : "w");
    if (!s->metrics)
        return cliff_error_set(err, "cannot open metrics file '%s' for writing: %s",
                               s->metrics_path, strerror(errno));
    if (ftell(s->metrics) == 0) fputs(METRICS_HEADER, s->metrics);
    written(s, 0);
    return cliff_metrics_check(s, err);
}

void cliff_metrics_train(CliffSolver *s, double seconds)
{
    if (!s->metrics) return;
    const CliffSolverStats *st = &s->stats;
    /* The clip policy's threshold in force and the fraction of its units
     * clipped this step (empty when clipping is off or the step was skipped). */
    char clip[64] = ",";
    if (s->clip && !st->last_skipped) {
        const CliffClipReport *c = &s->clip->last;
        snprintf(clip, sizeof clip, "%.9g,%.9g", isnan(c->threshold) ? -1.0 : c->threshold,
                 c->units > 0 ? c->clipped / c->units : 0.0);
    }
    int rc = fprintf(s->metrics, "train,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%.6f,,,%s\n", s->iter,
                     st->loss, s->smoothed_loss, st->lr, st->grad_norm, st->clip_scale,
                     st->last_skipped, seconds, clip);
    written(s, rc);
}

void cliff_metrics_test(CliffSolver *s, int net_id, const char *name, double value,
                        double seconds)
{
    if (!s->metrics) return;
    written(s, fprintf(s->metrics, "test,%d,,,,,,,%.6f,test%d/%s,%.9g,,\n", s->iter, seconds,
                       net_id, name, value));
}

void cliff_metrics_event(CliffSolver *s, const char *name, double value, double seconds)
{
    if (!s->metrics) return;
    const CliffSolverStats *st = &s->stats;
    written(s, fprintf(s->metrics, "event,%d,%.9g,,%.9g,%.9g,,,%.6f,%s,%.9g,,\n", s->iter,
                       st->loss, st->lr, st->grad_norm, seconds, name, value));
}

void cliff_metrics_blob(CliffSolver *s, const char *kind, const char *blob, double value,
                        double seconds)
{
    if (!s->metrics) return;
    written(s, fprintf(s->metrics, "%s,%d,,,,,,,%.6f,%s,%.9g,,\n", kind, s->iter, seconds, blob,
                       value));
}

void cliff_metrics_close(CliffSolver *s)
{
    if (s->metrics) fclose(s->metrics);
    s->metrics = NULL;
}
