/* Every field of a restored solver state checked against its meaning before
 * anything is committed (cliff_solver_restore): the solver type that wrote
 * the history, the iteration and lr step, the weights file's iteration, the
 * loss window, the counters, the RNG, and the sign of second moments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solver/formats/snapshot.h"
#include "solver_impl.h"

/* The N of ".../<prefix>_iter_<N>.caffemodel[.h5]" (Caffe's and cliff's
 * name; also the last good state's <N>.lastgood.caffemodel[.h5]), -1 when the
 * name does not have that form. */
static long name_iter(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *at = NULL;
    for (const char *p = strstr(base, "_iter_"); p; p = strstr(p + 1, "_iter_")) at = p;
    if (!at) return -1;
    char *end;
    long n = strtol(at + 6, &end, 10);
    if (end == at + 6) return -1;
    if (strncmp(end, CLIFF_LASTGOOD_TAG, strlen(CLIFF_LASTGOOD_TAG)) == 0)
        end += strlen(CLIFF_LASTGOOD_TAG);
    if (strncmp(end, ".caffemodel", 11) != 0) return -1;
    return n;
}

int cliff_restore_check(const CliffSolver *s, const CliffStateData *d, const char *path,
                        CliffError *err)
{
    const Cliff__SolverParameter *sp = s->sp;
    const CliffNet *net = s->net;
    if (d->has_cliff && d->type && d->type[0] && strcmp(d->type, s->rule->name))
        return cliff_error_set(err, "'%s' was written by solver type %s, this run is %s: the "
                               "history means something else in each (resume with type: "
                               "\"%s\", or start from its weights with --weights)", path,
                               d->type, s->rule->name, d->type);
    if (d->iter < 0) return cliff_error_set(err, "'%s': negative iteration %d", path, d->iter);
    if (d->current_step < 0)
        return cliff_error_set(err, "'%s': negative lr step (current_step %d)", path,
                               d->current_step);
    if (sp->lr_policy && !strcmp(sp->lr_policy, "multistep") &&
        (size_t)d->current_step > sp->n_stepvalue)
        return cliff_error_set(err, "'%s': current_step %d but the multistep policy has %zu "
                               "stepvalues", path, d->current_step, sp->n_stepvalue);
    long wi = d->learned_net ? name_iter(d->learned_net) : -1;
    if (wi >= 0 && wi != d->iter)
        return cliff_error_set(err, "'%s' is at iteration %d but its weights file '%s' was "
                               "written at iteration %ld", path, d->iter, d->learned_net, wi);
    unsigned sq = s->rule->squares;
    for (int k = 0; k < s->nhist; k++) {
        if (!(sq >> k & 1)) continue;
        for (int i = 0; i < net->nparams; i++) {
            size_t j = (size_t)k * (size_t)net->nparams + (size_t)i;
            for (size_t e = 0; e < d->hist_count[j]; e++)
                if (d->hist[j][e] < 0)
                    return cliff_error_set(err, "'%s': history blob %zu (%s's squares for "
                                           "'%s') holds %g at %zu: squares are never "
                                           "negative", path, j, s->rule->name,
                                           net->params[i].name, d->hist[j][e], e);
        }
    }
    if (!d->has_cliff) return 0;
    if (!(d->rng[0] | d->rng[1] | d->rng[2] | d->rng[3]))
        return cliff_error_set(err, "'%s': the RNG state is all zero (a generator stuck at "
                               "zero forever)", path);
    if (d->clipped < 0 || d->skipped < 0 || d->consecutive_bad < 0 ||
        d->clipped > d->iter || d->skipped > d->iter || d->consecutive_bad > d->iter)
        return cliff_error_set(err, "'%s': counters out of range for iteration %d (clipped "
                               "%lld, skipped %lld, consecutive bad %d)", path, d->iter,
                               d->clipped, d->skipped, d->consecutive_bad);
    if (!isfinite(d->smoothed_loss))
        return cliff_error_set(err, "'%s': smoothed loss is %g", path, d->smoothed_loss);
    for (int i = 0; i < d->nlosses; i++)
        if (!isfinite(d->losses[i]))
            return cliff_error_set(err, "'%s': loss window entry %d is %g", path, i,
                                   d->losses[i]);
    if (d->nlosses < 0 || d->loss_pos < 0 || (d->nlosses && d->loss_pos >= d->nlosses) ||
        d->nlosses > d->iter)
        return cliff_error_set(err, "'%s': loss window position %d of %d entries is out of "
                               "range at iteration %d", path, d->loss_pos, d->nlosses, d->iter);
    return 0;
}
