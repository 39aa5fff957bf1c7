/* Numerical gradient checking for layers (Caffe's GradientChecker, reshaped).
 *
 * A case builds one layer from a LayerParameter in text format, fills its
 * bottoms, and compares the analytic gradient of the objective
 *     L = sum over tops t, elements j of  w[t][j] * top[t][j]
 * (w fixed random weights, so backward gets top diff = w) against the central
 * difference (L(x + h1) - L(x - h2)) / (h1 + h2) for every bottom element with
 * propagate_down and every parameter element (sampled when there are more than
 * max_checks); h1, h2 are the steps actually taken (x +- step rounded to
 * float), L is summed in double.
 * Pass: |analytic - numeric| <= tol * max(1, |analytic|, |numeric|), with tol
 * GRAD_TOL (1e-3, Caffe's default) unless the case loosens it and says why.
 *
 * Precision in float32: every top value carries a rounding error of ~6e-8 of
 * its size, so L(x +- h) is off by ~6e-8 * sum |w top| over the tops that x
 * reaches, and the quotient by that over 2h = 2e-2: ~3e-6 * sum |w top|. The
 * truncation error of the central difference is h^2/6 |f'''| ~ 2e-5 |f'''|.
 * Both stay well below 1e-3 on the shapes here.
 *
 * Kinks: only a case marked `kinks` (piecewise layers: ReLU at 0, max pooling
 * ties, |x|, hinges) skips points: those where the one-sided differences
 * disagree in a way curvature cannot explain (gradcheck.c, numeric), i.e. the
 * central difference straddles a kink. Skips are counted (GradStats) and the
 * driver reports them; more than half of a blob skipped fails. A smooth layer
 * skips nothing: every point is compared.
 *
 * Layers with state (state_save: data cursors, a recurrent layer's carried
 * hidden state) would see each forward of the check start from the state the
 * previous one left: the harness saves the state once, after the case's
 * warm_forwards, and restores it before every forward, so every evaluation of
 * L starts from the same state (the state is an input without a gradient, as
 * truncated BPTT treats it).
 *
 * Each case also checks the gradient contract: a second backward doubles the
 * parameter gradients and leaves the bottom gradients unchanged.
 */
#ifndef CLIFF_GRADCHECK_H
#define CLIFF_GRADCHECK_H

#include "layers/layer.h"

#define GRAD_MAX_BOTTOMS 6

/* How a bottom is filled. */
typedef enum {
    FILL_GAUSSIAN = 0, /* N(0, 1) */
    FILL_UNIFORM,      /* U(a, b) */
    FILL_LABELS,       /* integers in [0, a) stored as float; never propagated */
    FILL_POSITIVE,     /* U(0.5, 2): for Log, Power with fractional exponents... */
    FILL_BINARY,       /* 0 or 1 with probability 1/2 */
    FILL_CONSTANT,     /* every element = a */
} GradFill;

typedef struct GradBottom {
    int num_axes;
    int shape[8];
    GradFill fill;
    float a, b;
    int no_propagate; /* 1: labels, indices, sequence indicators (FILL_LABELS implies 1) */
    const float *values; /* when set: the bottom's values (count of them), not `fill` */
} GradBottom;

typedef struct GradCase {
    const char *name;         /* unique, e.g. "Convolution/group2_pad1_stride2" */
    const char *layer;        /* LayerParameter text, e.g. "type: 'ReLU' relu_param { negative_slope: 0.1 }" */
    int nbottom;
    GradBottom bottom[GRAD_MAX_BOTTOMS];
    int ntop;                 /* number of tops to create */
    int phase;                /* 0: TRAIN (default), 1: TEST */
    double step;              /* default GRAD_STEP */
    double tol;               /* default GRAD_TOL; a looser one needs `loose` */
    const char *loose;        /* why this layer's numerics need tol > GRAD_TOL */
    int kinks;                /* piecewise layer: points at kinks are skipped (counted) */
    int max_checks;           /* per blob; default 400 */
    int forward_only;         /* layers that have no gradient (ArgMax, Accuracy...):
                                 runs setup/reshape/forward under the sanitizers only */
    int warm_forwards;        /* forwards run before the check (layers with state, e.g. a
                                 recurrent layer's carried hidden state): the check then
                                 starts from the state they left */
    /* Optional: run before the layer is built (e.g. write a fixture file). */
    void (*before)(void);
    /* Optional forward check: returns 0 when top values are right. */
    int (*check_forward)(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, char *why, size_t whylen);
} GradCase;

/* The case tables, each terminated by an entry with name == NULL. */
extern const GradCase grad_cases_core[];   /* tests/grad_cases_core.c: data layers */
extern const GradCase grad_cases_vision[]; /* tests/grad_cases_vision.c: conv, pool, ip, shape layers */
extern const GradCase grad_cases_neuron[]; /* tests/grad_cases_neuron.c: neurons, norm, losses */
extern const GradCase grad_cases_fast[];   /* tests/grad_cases_fast.c: AVX-512 fast paths */
extern const GradCase grad_cases_engine[]; /* tests/grad_cases_engine.c: conv on the engine */
extern const GradCase grad_cases_recurrent[]; /* tests/grad_cases_recurrent.c: RNN, LSTM */

#define GRAD_STEP 1e-2
#define GRAD_TOL 1e-3

/* Points of one case: compared, and skipped at kinks (kinks cases only). */
typedef struct GradStats {
    size_t checked, skipped;
} GradStats;

/* How a check says why it failed: writes the formatted reason into why[0..len)
 * and returns -1 (for `return grad_fail(why, len, ...);`). */
int grad_fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Runs one case; returns 0 on pass, otherwise fills why. stats may be NULL. */
int gradcheck_run(const GradCase *c, GradStats *stats, char *why, size_t whylen);

#endif
