/* Recovery settings, the spike and dead-run detectors, and the recovery's
 * saved progress (see recovery.h; the ring is in state_ring.c, the event
 * handling in recovery_event.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solver_impl.h"

static const char *const mode_names[] = {"skip", "stop", "rollback"};

/* Sum of loss_weight x ln(C) over the train net's loss tops when every one of
 * them is a SoftmaxWithLoss (C = the scores' extent along softmax_param.axis);
 * NAN otherwise. */
static double softmax_reference(const CliffNet *net)
{
    double sum = 0;
    int any = 0;
    for (int l = 0; l < net->nlayers; l++) {
        const CliffNetLayer *nl = &net->layers[l];
        for (int t = 0; t < nl->nt; t++) {
            if (nl->loss_weight[t] == 0) continue;
            if (strcmp(nl->layer.ops->type, "SoftmaxWithLoss") || t > 0 || nl->nb < 1)
                return NAN;
            const Cliff__SoftmaxParameter *p = nl->layer.param->softmax_param;
            int axis = cliff_tensor_axis(nl->bottom[0], p ? p->axis : 1, NULL);
            if (axis < 0) return NAN;
            sum += nl->loss_weight[t] * log((double)nl->bottom[0]->shape[axis]);
            any = 1;
        }
    }
    return any ? sum : NAN;
}

/* 1 when the train net has loss tops and every one is an EuclideanLoss's
 * (two bottoms, one top). */
static int euclidean_only(const CliffNet *net)
{
    int any = 0;
    for (int l = 0; l < net->nlayers; l++) {
        const CliffNetLayer *nl = &net->layers[l];
        for (int t = 0; t < nl->nt; t++) {
            if (nl->loss_weight[t] == 0) continue;
            if (strcmp(nl->layer.ops->type, "EuclideanLoss") || t > 0 || nl->nb < 2) return 0;
            any = 1;
        }
    }
    return any;
}

double cliff_mean_predictor_loss(const CliffRecovery *r, const CliffNet *net)
{
    if (!r->euclidean) return NAN;
    double sum = 0;
    for (int l = 0; l < net->nlayers; l++) {
        const CliffNetLayer *nl = &net->layers[l];
        if (nl->nt < 1 || nl->loss_weight[0] == 0) continue;
        const CliffTensor *t = nl->bottom[1];
        const size_t N = nl->bottom[0]->num_axes ? (size_t)nl->bottom[0]->shape[0] : 0;
        if (N < 2 || t->count % N) return NAN;
        const size_t D = t->count / N;
        double ss = 0;
        for (size_t d = 0; d < D; d++) {
            double mean = 0, dev = 0;
            for (size_t n = 0; n < N; n++) mean += t->data[n * D + d];
            mean /= (double)N;
            for (size_t n = 0; n < N; n++) {
                const double e = t->data[n * D + d] - mean;
                dev += e * e;
            }
            ss += dev;
        }
        /* ss / (N - 1): the unbiased estimate of what predicting the mean of
         * all targets scores on a batch (ss / N, the batch's own mean, is
         * (N - 1) / N of it on average: 12% low at N = 8) */
        sum += nl->loss_weight[0] * ss / (double)(N - 1) / 2;
    }
    return sum;
}

int cliff_recovery_init(CliffSolver *s, const char **field, CliffError *err)
{
    const Cliff__SolverParameter *sp = s->sp;
    CliffRecovery *r = &s->rec;
    memset(r, 0, sizeof *r);
    /* clip_policy "auto" may bring its recovery (clip.h). */
    const char *name = cliff_clip_resolve(sp).recovery;
    int found = 0;
    *field = "recovery";
    for (int m = 0; m < 3; m++)
        if (!strcmp(name, mode_names[m])) {
            r->mode = (CliffRecoveryMode)m;
            found = 1;
        }
    if (!found)
        return cliff_error_set(err, "unknown recovery '%s' (known: skip, stop, rollback)", name);
    *field = "rollback_lr_factor";
    if (sp->rollback_lr_factor > 1)
        return cliff_error_set(err, "rollback_lr_factor must be in (0, 1] (got %g)",
                               (double)sp->rollback_lr_factor);
    *field = NULL;
    r->interval = sp->recovery_interval;
    r->max_rollbacks = sp->max_rollbacks;
    r->dead_windows = sp->dead_windows;
    r->spike_factor = sp->spike_factor;
    r->lr_factor = sp->rollback_lr_factor;
    r->dead_eps = sp->dead_epsilon;
    r->dead_grad_ratio = sp->dead_grad_ratio;
    r->nslots = r->mode == CLIFF_RECOVERY_ROLLBACK ? (int)sp->recovery_ring + 1 : 2;
    r->slots = calloc((size_t)r->nslots, sizeof *r->slots);
    if (!r->slots) return cliff_error_set(err, "out of memory");
    r->lr_scale = 1.0;
    r->ref_loss = r->ref_grad = NAN;
    r->softmax_loss = softmax_reference(s->net);
    r->euclidean = euclidean_only(s->net);
    r->dead_since = -1;
    s->stats.lr_scale = 1.0;
    return 0;
}

void cliff_recovery_free(CliffRecovery *r)
{
    for (int i = 0; i < r->nslots && r->slots; i++) {
        free(r->slots[i].weights);
        cliff_state_data_free(&r->slots[i].d);
    }
    free(r->slots);
    r->slots = NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double cliff_median(const double *x, int n)
{
    double v[CLIFF_SPIKE_WINDOW];
    if (n > CLIFF_SPIKE_WINDOW) n = CLIFF_SPIKE_WINDOW;
    memcpy(v, x, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int cliff_spike_check(const CliffRecovery *r, double loss)
{
    if (r->spike_factor <= 0 || r->spike_n < CLIFF_SPIKE_WINDOW) return 0;
    return loss > r->spike_factor * cliff_median(r->spike_win, r->spike_n);
}

void cliff_spike_push(CliffRecovery *r, double loss)
{
    r->spike_win[r->spike_pos] = loss;
    r->spike_pos = (r->spike_pos + 1) % CLIFF_SPIKE_WINDOW;
    if (r->spike_n < CLIFF_SPIKE_WINDOW) r->spike_n++;
}

/* |loss - ref| <= eps |ref| for a finite reference. */
static int near(double loss, double ref, double eps)
{
    return isfinite(ref) && fabs(loss - ref) <= eps * fabs(ref);
}

int cliff_dead_update(CliffRecovery *r, int iter, double loss, double grad_norm,
                      double mean_ref, int end_of_window)
{
    if (isfinite(loss) && isfinite(grad_norm)) {
        if (isnan(r->ref_loss)) {
            r->ref_loss = loss;
            r->ref_grad = grad_norm;
        }
        if (!r->win_n) r->win_first = iter;
        r->win_loss += loss;
        r->win_grad += grad_norm;
        r->win_n++;
        if (isfinite(mean_ref)) {
            r->win_mean_ref += mean_ref;
            r->win_mean_n++;
        }
    }
    if (!end_of_window || !r->win_n) return 0;
    double mloss = r->win_loss / r->win_n, mgrad = r->win_grad / r->win_n;
    /* the mean predictor's loss over the window (NAN: none seen) */
    double mref = r->win_mean_n ? r->win_mean_ref / r->win_mean_n : NAN;
    int first = r->win_first;
    r->win_loss = r->win_grad = r->win_mean_ref = 0;
    r->win_n = r->win_mean_n = 0;
    int dead = r->dead_windows > 0 &&
               (near(mloss, r->ref_loss, r->dead_eps) || near(mloss, r->softmax_loss, r->dead_eps) ||
                near(mloss, mref, r->dead_eps)) &&
               mgrad < r->dead_grad_ratio * r->ref_grad;
    r->ended_dead = dead;
    if (!dead) {
        r->dead_in_row = 0;
        r->dead_since = -1;
        return 0;
    }
    if (!r->dead_in_row++) r->dead_since = first;
    if (r->dead_in_row < r->dead_windows) return 0;
    r->dead_in_row = 0; /* the next event needs dead_windows more */
    return 1;
}

/* Words: lr_scale (bits), rollbacks, nonfinite, spikes, dead events,
 * ref_loss (bits), ref_grad (bits), ended_dead. */
static int64_t bits(double x)
{
    int64_t w;
    memcpy(&w, &x, sizeof w);
    return w;
}

static double from_bits(int64_t w)
{
    double x;
    memcpy(&x, &w, sizeof x);
    return x;
}

void cliff_recovery_save(const CliffRecovery *r, int64_t *w)
{
    w[0] = bits(r->lr_scale);
    w[1] = r->rollbacks;
    w[2] = r->nonfinite_events;
    w[3] = r->spikes;
    w[4] = r->dead_events;
    w[5] = bits(r->ref_loss);
    w[6] = bits(r->ref_grad);
    w[7] = r->ended_dead;
}

int cliff_recovery_load(CliffRecovery *r, const int64_t *w, size_t n, CliffError *err)
{
    if (n != CLIFF_RECOVERY_WORDS)
        return cliff_error_set(err, "%zu words, expected %d", n, CLIFF_RECOVERY_WORDS);
    double scale = from_bits(w[0]);
    if (!(scale > 0 && scale <= 1) || w[1] < 0 || w[2] < 0 || w[3] < 0 || w[4] < 0 ||
        (w[7] != 0 && w[7] != 1))
        return cliff_error_set(err, "out of range (lr scale %g, counts %lld %lld %lld %lld)",
                               scale, (long long)w[1], (long long)w[2], (long long)w[3],
                               (long long)w[4]);
    r->lr_scale = scale;
    r->rollbacks = (int)w[1];
    r->nonfinite_events = w[2];
    r->spikes = w[3];
    r->dead_events = w[4];
    r->ref_loss = from_bits(w[5]);
    r->ref_grad = from_bits(w[6]);
    r->ended_dead = (int)w[7];
    return 0;
}
