/* One test pass of every test net (Caffe's Solver::Test, and `caffe test`
 * through train --test): forward test_iter batches, average every output
 * element, log the means. */
#include <stdlib.h>
#include <string.h>

#include "solver_impl.h"

void cliff_test_totals_free(CliffTestTotals *t)
{
    if (!t) return;
    free(t->means);
    free(t->iters);
    memset(t, 0, sizeof *t);
}

/* Runs test net t for n batches; scores[k] gets the sum of output element k,
 * *loss the summed loss. */
static int run_batches(CliffSolver *s, int t, int n, double *scores, double *loss,
                       CliffError *err)
{
    CliffNet *net = s->test_nets[t];
    for (int i = 0; i < n; i++) {
        *loss += cliff_net_forward(net);
        if (net->data_error) {
            char where[64];
            snprintf(where, sizeof where, "test net #%d, test iteration %d", t, i);
            return cliff_solver_data_error(s, net, where, err);
        }
        size_t k = 0;
        for (int o = 0; o < net->noutputs; o++) {
            const CliffTensor *b = net->blobs[net->output_ids[o]];
            for (size_t e = 0; e < b->count; e++) scores[k++] += b->data[e];
        }
    }
    return 0;
}

int cliff_solver_test_pass(CliffSolver *s, int iters, CliffTestTotals *totals, CliffError *err)
{
    const Cliff__SolverParameter *sp = s->sp;
    size_t total = 0;
    for (int t = 0; t < s->ntest; t++)
        for (int o = 0; o < s->test_nets[t]->noutputs; o++)
            total += s->test_nets[t]->blobs[s->test_nets[t]->output_ids[o]]->count;
    if (totals) {
        memset(totals, 0, sizeof *totals);
        totals->means = calloc(total + 1, sizeof *totals->means);
        totals->iters = calloc((size_t)s->ntest + 1, sizeof *totals->iters);
        totals->nnets = s->ntest;
        if (!totals->means || !totals->iters) {
            cliff_test_totals_free(totals);
            return cliff_error_set(err, "out of memory");
        }
    }
    for (int t = 0; t < s->ntest; t++) {
        CliffNet *net = s->test_nets[t];
        size_t nscores = 0;
        for (int o = 0; o < net->noutputs; o++) nscores += net->blobs[net->output_ids[o]]->count;
        double *scores = calloc(nscores + 1, sizeof *scores);
        if (!scores) return cliff_error_set(err, "out of memory");
        const int batches = iters > 0 ? iters : s->test_iter[t];
        double loss = 0;
        if (run_batches(s, t, batches, scores, &loss, err)) {
            free(scores);
            return -1;
        }
        if (totals) totals->iters[t] = batches;
        cliff_log_event(s->fmt, s->log, s->iter, "test", "Testing net (#%d)", t);
        double n = batches > 0 ? batches : 1;
        if (sp->test_compute_loss)
            cliff_log_event(s->fmt, s->log, s->iter, "test", "Test loss: %.6g", loss / n);
        size_t k = 0;
        double secs = cliff_clock_seconds() - s->t0;
        for (int o = 0; o < net->noutputs; o++) {
            const CliffTensor *b = net->blobs[net->output_ids[o]];
            const char *name = net->blob_names[net->output_ids[o]];
            for (size_t e = 0; e < b->count; e++, k++) {
                double mean = scores[k] / n;
                if (s->log)
                    s->fmt->output(s->log, "Test", t, s->iter, (int)k, name, mean,
                                   net->output_loss_weight[o]);
                cliff_metrics_test(s, t, name, mean, secs);
                if (totals)
                    totals->means[totals->n++] =
                        (CliffTestMean){t, (int)k, name, mean, net->output_loss_weight[o]};
            }
        }
        free(scores);
    }
    return 0;
}

int cliff_solver_test_all(CliffSolver *s, CliffError *err)
{
    return cliff_solver_test_pass(s, 0, NULL, err);
}
