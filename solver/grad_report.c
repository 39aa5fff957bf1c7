/* The per-blob gradient report (debug_info, train --grad-report): at every
 * display iteration, for each parameter blob,
 *   weight   ||w||, the weights before this step's update;
 *   grad     ||g||, the gradient before clipping (the norms the clip policy saw);
 *   share    ||g||^2 / sum over blobs of ||g||^2, its part of the squared global
 *            norm (the shares add up to 1);
 *   update   ||step|| / ||w||, the update-to-weight ratio of this step (the
 *            step the update rule made: clipped, decayed, with lr and momentum);
 * one log line per blob and one metrics row per blob and quantity (kinds
 * grad_norm, weight_norm, update_ratio; output = the blob's name). When the
 * step was clipped, one more line names the three blobs holding most of the
 * norm. */
#include <math.h>
#include <stdio.h>

#include "solver_impl.h"

int cliff_grad_report_due(const CliffSolver *s)
{
    const Cliff__SolverParameter *sp = s->sp;
    return sp->debug_info && sp->display > 0 && s->iter % sp->display == 0;
}

/* Between the update rule and the apply: the gradient slab holds the steps. */
void cliff_grad_report_measure(CliffSolver *s)
{
    const CliffNet *net = s->net;
    cliff_slab_norms(net->param_slab, net->params, net->nparams, s->weight_norms, NULL);
    cliff_slab_norms(net->grad_slab, net->params, net->nparams, s->step_norms, NULL);
    s->report_measured = 1;
}

void cliff_grad_report_log(CliffSolver *s)
{
    const CliffNet *net = s->net;
    const double g2 = s->stats.grad_norm * s->stats.grad_norm;
    const double secs = cliff_clock_seconds() - s->t0;
    for (int i = 0; i < net->nparams; i++) {
        const double g = s->param_norms[i], share = g2 > 0 ? g * g / g2 : 0;
        if (!s->report_measured) {
            cliff_log_event(s->fmt, s->log, s->iter, "debug",
                            "    %s: grad %.4g (%.1f%% of the norm^2), step skipped",
                            net->params[i].name, g, 100 * share);
            cliff_metrics_blob(s, "grad_norm", net->params[i].name, g, secs);
            continue;
        }
        const double w = s->weight_norms[i];
        const double ratio = w > 0 ? s->step_norms[i] / w : INFINITY;
        cliff_log_event(s->fmt, s->log, s->iter, "debug",
                        "    %s: weight %.4g, grad %.4g (%.1f%% of the norm^2), update/weight "
                        "%.3g", net->params[i].name, w, g, 100 * share, ratio);
        cliff_metrics_blob(s, "grad_norm", net->params[i].name, g, secs);
        cliff_metrics_blob(s, "weight_norm", net->params[i].name, w, secs);
        cliff_metrics_blob(s, "update_ratio", net->params[i].name, ratio, secs);
    }
    if (s->stats.clip_scale < 1.0 && !s->stats.last_skipped && g2 > 0) {
        /* the three largest gradient norms, largest first (ties: the earlier blob) */
        int top[3] = {-1, -1, -1};
        for (int i = 0; i < net->nparams; i++)
            for (int k = 0; k < 3; k++)
                if (top[k] < 0 || s->param_norms[i] > s->param_norms[top[k]]) {
                    for (int m = 2; m > k; m--) top[m] = top[m - 1];
                    top[k] = i;
                    break;
                }
        char line[512];
        int n = snprintf(line, sizeof line, "    clipped: most of the norm^2 in");
        for (int k = 0; k < 3 && top[k] >= 0 && n > 0 && (size_t)n < sizeof line; k++) {
            const double g = s->param_norms[top[k]];
            n += snprintf(line + n, sizeof line - (size_t)n, "%s %s (%.1f%%)", k ? "," : "",
                          net->params[top[k]].name, 100 * g * g / g2);
        }
        cliff_log_event(s->fmt, s->log, s->iter, "debug", "%s", line);
    }
    s->report_measured = 0;
}
