/* What the recovery setting does with an event (see recovery.h): counted,
 * logged, a metrics row, then nothing (skip), a stop with a snapshot of the
 * last good state, or a rollback. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "solver_impl.h"

static const char *event_name(CliffEvent ev)
{
    switch (ev) {
    case CLIFF_EVENT_NONFINITE: return "nonfinite";
    case CLIFF_EVENT_SPIKE: return "spike";
    case CLIFF_EVENT_DEAD: return "dead";
    default: return "none";
    }
}

void cliff_recovery_sync_stats(CliffSolver *s)
{
    const CliffRecovery *r = &s->rec;
    s->stats.rollbacks = r->rollbacks;
    s->stats.nonfinite_events = r->nonfinite_events;
    s->stats.spikes = r->spikes;
    s->stats.dead_events = r->dead_events;
    s->stats.ended_dead = r->ended_dead;
    s->stats.lr_scale = r->lr_scale;
}

int cliff_recovery_stop(CliffSolver *s, const char *why, int dead, CliffError *err)
{
    int at = s->iter;
    /* The solver goes back to its last good state, which is what is saved. */
    CliffError rerr;
    int good = cliff_ring_restore_before(s, s->iter + 1, &rerr);
    CliffError serr;
    int snap = good >= 0 ? cliff_solver_snapshot_last_good(s, &serr) : -1;
    if (good < 0) snprintf(serr.msg, sizeof serr.msg, "%s", rerr.msg);
    cliff_metrics_event(s, "stop", good, cliff_clock_seconds() - s->t0);
    cliff_error_set(err, "iteration %d: %s; stopping. %s%s", at - 1, why,
                    snap ? "No snapshot of a last good state: " : "Last good state saved in ",
                    snap ? serr.msg : s->stats.last_snapshot);
    cliff_log_event(s->fmt, s->log, at, "error", "%s", err->msg);
    cliff_recovery_sync_stats(s);
    /* several ranks: decided on the reduced loss and gradient, so on every rank */
    s->stats.failed_together = 1;
    return cliff_error_mark(err, dead ? CLIFF_ERR_DEAD_RUN : CLIFF_ERR_NONFINITE);
}

int cliff_recovery_handle(CliffSolver *s, CliffEvent ev, int trouble, CliffError *err)
{
    CliffRecovery *r = &s->rec;
    double secs = cliff_clock_seconds() - s->t0;
    if (ev == CLIFF_EVENT_NONFINITE) r->nonfinite_events++;
    if (ev == CLIFF_EVENT_SPIKE) r->spikes++;
    if (ev == CLIFF_EVENT_DEAD) {
        r->dead_events++;
        cliff_log_event(s->fmt, s->log, s->iter - 1, "event",
                        "dead run: %d display windows in a row since iteration %d with the "
                        "loss at its initial value and the gradient norm below %g x the "
                        "first iteration's (%g); recovery %s",
                        r->dead_windows, trouble, r->dead_grad_ratio, r->ref_grad,
                        r->mode == CLIFF_RECOVERY_SKIP ? "skip: logged only"
                        : r->mode == CLIFF_RECOVERY_STOP ? "stop" : "rollback");
    }
    cliff_recovery_sync_stats(s);
    cliff_metrics_event(s, event_name(ev), ev == CLIFF_EVENT_SPIKE ? r->spike_median : s->stats.loss,
                        secs);
    char why[160];
    snprintf(why, sizeof why, "%s",
             ev == CLIFF_EVENT_NONFINITE ? "non-finite step"
             : ev == CLIFF_EVENT_SPIKE   ? "loss spike"
                                         : "dead run (loss at its initial value, gradient "
                                           "collapsed)");
    switch (r->mode) {
    case CLIFF_RECOVERY_SKIP: return 0;
    case CLIFF_RECOVERY_STOP:
        return cliff_recovery_stop(s, why, ev == CLIFF_EVENT_DEAD, err);
    case CLIFF_RECOVERY_ROLLBACK: break;
    }
    if (r->rollbacks >= r->max_rollbacks) {
        char m[256];
        snprintf(m, sizeof m, "%s after %d rollback(s) (max_rollbacks %d)", why, r->rollbacks,
                 r->max_rollbacks);
        return cliff_recovery_stop(s, m, ev == CLIFF_EVENT_DEAD, err);
    }
    CliffError rerr;
    int from = s->iter;
    int to = cliff_ring_restore_before(s, trouble, &rerr);
    if (to < 0) {
        char m[CLIFF_ERROR_MAX / 2];
        snprintf(m, sizeof m, "%s and %.300s to roll back to", why, rerr.msg);
        return cliff_recovery_stop(s, m, ev == CLIFF_EVENT_DEAD, err);
    }
    r->rollbacks++;
    r->lr_scale *= r->lr_factor;
    r->win_n = 0;
    r->win_loss = r->win_grad = 0;
    r->dead_in_row = 0;
    r->dead_since = -1;
    r->ended_dead = 0;
    r->spike_n = r->spike_pos = 0; /* the losses of the abandoned future are no baseline */
    cliff_recovery_sync_stats(s);
    cliff_log_event(s->fmt, s->log, to, "event",
                    "rollback %d of %d: %s at iteration %d; back to the good state of "
                    "iteration %d, lr scale now %g",
                    r->rollbacks, r->max_rollbacks, why, from - 1, to, r->lr_scale);
    cliff_metrics_event(s, "rollback", from - 1, secs);
    return 0;
}

void cliff_recovery_summary(const CliffSolver *s, char *buf, size_t len)
{
    const CliffRecovery *r = &s->rec;
    buf[0] = 0;
    if (r->nonfinite_events || r->spikes || r->dead_events || r->rollbacks)
        snprintf(buf, len, " Events: %lld non-finite, %lld spike(s), %lld dead-run, "
                 "%d rollback(s) (recovery %s).", r->nonfinite_events, r->spikes,
                 r->dead_events, r->rollbacks,
                 r->mode == CLIFF_RECOVERY_SKIP ? "skip"
                 : r->mode == CLIFF_RECOVERY_STOP ? "stop" : "rollback");
    if (r->ended_dead) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, " The run ended DEAD (loss at its initial value, gradient "
                 "collapsed).");
    }
}
