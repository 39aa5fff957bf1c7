/* Shared machinery of the elementwise ("neuron") layers: one bottom, one top
 * of the same shape, y[i] = f(x[i]) with a few constants per layer.
 *
 * A type supplies a NeuronKind (forward and backward loops over n elements)
 * and a setup that reads its parameters into a NeuronState; setup, reshape,
 * forward, backward and destroy below do the rest.
 *
 * In place (top[0] is bottom[0]): forward overwrites x with y. A kind whose
 * backward needs x itself (not recoverable from y) sets needs_x, and then
 * forward keeps a copy of x in a buffer sized in reshape (only when in place).
 * Kinds that can use y instead (Sigmoid, TanH, Exp, ReLU with slope >= 0...)
 * leave needs_x at 0 and cost nothing extra.
 */
#ifndef CLIFF_NEURON_H
#define CLIFF_NEURON_H

#include <stddef.h>

#include "layer.h"

typedef struct NeuronState NeuronState;

typedef struct NeuronKind {
    /* y = f(x) over n elements; y may alias x. May write s->aux. */
    void (*forward)(NeuronState *s, const float *x, float *y, size_t n);
    /* dx = dy * f'(x) over n elements. x is the forward input (a saved copy
     * when in place and needs_x; otherwise, in place, it is y), y the forward
     * output; dx may alias dy. NULL: the type has no gradient. */
    void (*backward)(const NeuronState *s, const float *x, const float *y, const float *dy,
                     float *dx, size_t n);
} NeuronKind;

struct NeuronState {
    const NeuronKind *kind;
    float a, b, c, d;  /* the type's constants; meaning documented per type */
    int needs_x;       /* backward reads x: copy it in forward when in place */
    int needs_aux;     /* forward fills aux (count floats) for backward */
    CliffTensor saved; /* x when in place and needs_x */
    CliffTensor aux;   /* per-element forward state (Swish: sigmoid(beta x)) */
};

/* Allocates l->priv as a copy of *init (kind, constants, flags). */
int cliff_neuron_setup(CliffLayer *l, const NeuronState *init, CliffError *err);
int cliff_neuron_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err);
void cliff_neuron_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt);
void cliff_neuron_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                           const int *propagate_down, CliffTensor *const *bottom, int nb);
void cliff_neuron_destroy(CliffLayer *l);

/* Fields common to every neuron ops table. */
#define CLIFF_NEURON_OPS_COMMON                                                      \
    .min_bottoms = 1, .max_bottoms = 1, .min_tops = 1, .max_tops = 1,                \
    .allow_in_place = 1, .reshape = cliff_neuron_reshape,                            \
    .forward = cliff_neuron_forward, .destroy = cliff_neuron_destroy

#endif
