/* The elementwise-layer driver; see neuron.h. */
#include "neuron.h"

#include <stdlib.h>
#include <string.h>

int cliff_neuron_setup(CliffLayer *l, const NeuronState *init, CliffError *err)
{
    NeuronState *s = malloc(sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    *s = *init;
    cliff_tensor_init(&s->saved);
    cliff_tensor_init(&s->aux);
    l->priv = s;
    return 0;
}

static int in_place(CliffTensor *const *bottom, CliffTensor *const *top)
{
    return top[0] == bottom[0] || (top[0]->data && top[0]->data == bottom[0]->data);
}

int cliff_neuron_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb;
    (void)nt;
    NeuronState *s = l->priv;
    if (top[0] != bottom[0] && cliff_tensor_reshape_like(top[0], bottom[0], err)) return -1;
    if (s->needs_x && in_place(bottom, top) &&
        cliff_tensor_reshape_like(&s->saved, bottom[0], err))
        return -1;
    if (s->needs_aux && cliff_tensor_reshape_like(&s->aux, bottom[0], err)) return -1;
    return 0;
}

void cliff_neuron_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt)
{
    (void)nb;
    (void)nt;
    NeuronState *s = l->priv;
    size_t n = bottom[0]->count;
    if (s->needs_x && in_place(bottom, top))
        memcpy(s->saved.data, bottom[0]->data, n * sizeof(float));
    s->kind->forward(s, bottom[0]->data, top[0]->data, n);
}

void cliff_neuron_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                           const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    (void)nb;
    NeuronState *s = l->priv;
    if (!propagate_down[0] || !s->kind->backward) return;
    const float *x = s->needs_x && in_place(bottom, top) ? s->saved.data : bottom[0]->data;
    s->kind->backward(s, x, top[0]->data, top[0]->diff, bottom[0]->diff, bottom[0]->count);
}

void cliff_neuron_destroy(CliffLayer *l)
{
    NeuronState *s = l->priv;
    if (!s) return;
    cliff_tensor_free(&s->saved);
    cliff_tensor_free(&s->aux);
    free(s);
    l->priv = NULL;
}
