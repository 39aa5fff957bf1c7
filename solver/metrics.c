/* The metrics CSV (columns in solver.h). A fresh run truncates the file; a
 * resumed run (iter > 0) appends, writing the header only into an empty file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "solver_impl.h"

#define METRICS_HEADER \
    "kind,iter,loss,smoothed_loss,lr,grad_norm,clip_scale,skipped,seconds,output,value\n"

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

int cliff_metrics_open(CliffSolver *s, CliffError *err)
{
    if (s->metrics) return 0;
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
    s->metrics = fopen(s->metrics_path, s->iter > 0 ? "a" : "w");
    if (!s->metrics)
        return cliff_error_set(err, "cannot open metrics file '%s' for writing",
                               s->metrics_path);
    if (ftell(s->metrics) == 0) fputs(METRICS_HEADER, s->metrics);
    fflush(s->metrics);
    return 0;
}

void cliff_metrics_train(CliffSolver *s, double seconds)
{
    if (!s->metrics) return;
    const CliffSolverStats *st = &s->stats;
    fprintf(s->metrics, "train,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%.6f,,\n", s->iter, st->loss,
            s->smoothed_loss, st->lr, st->grad_norm, st->clip_scale, st->last_skipped, seconds);
    fflush(s->metrics);
}

void cliff_metrics_test(CliffSolver *s, int net_id, const char *name, double value,
                        double seconds)
{
    if (!s->metrics) return;
    fprintf(s->metrics, "test,%d,,,,,,,%.6f,test%d/%s,%.9g\n", s->iter, seconds, net_id, name,
            value);
    fflush(s->metrics);
}

void cliff_metrics_close(CliffSolver *s)
{
    if (s->metrics) fclose(s->metrics);
    s->metrics = NULL;
}
