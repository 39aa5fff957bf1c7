/* The elementwise-layer driver; see neuron.h. */
#include "neuron.h"

#include <stdlib.h>
#include <string.h>

#include "layers/kernels/fork_join.h"

/* Elements a fork-join chunk (256 KB of floats), and the size below which
 * the loop stays on the calling thread. Kinds are elementwise, so a range
 * split changes no bit; a kind with an aux buffer (indexed from 0) is not
 * split. */
#define NEURON_CHUNK 65536
#define NEURON_SPLIT (4 * NEURON_CHUNK)

typedef struct NeuronJob {
    NeuronState *s;
    const float *x, *y, *dy;
    float *out;
    size_t n;
    int backward;
} NeuronJob;

static void neuron_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    const NeuronJob *j = arg;
    const size_t o = (size_t)chunk * NEURON_CHUNK;
    const size_t n = j->n - o < NEURON_CHUNK ? j->n - o : NEURON_CHUNK;
    if (j->backward)
        j->s->kind->backward(j->s, j->x + o, j->y + o, j->dy + o, j->out + o, n);
    else
        j->s->kind->forward(j->s, j->x + o, j->out + o, n);
}

/* Runs the job over the fork-join when large and splittable, else in one call. */
static void neuron_run(NeuronJob *j)
{
    if (j->n < NEURON_SPLIT || j->s->needs_aux || j->n / NEURON_CHUNK > (1u << 30)) {
        if (j->backward)
            j->s->kind->backward(j->s, j->x, j->y, j->dy, j->out, j->n);
        else
            j->s->kind->forward(j->s, j->x, j->out, j->n);
        return;
    }
    cliff_fj_for((int)((j->n + NEURON_CHUNK - 1) / NEURON_CHUNK), neuron_chunk, j);
}

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
    NeuronJob j = {s, bottom[0]->data, NULL, NULL, top[0]->data, n, 0};
    neuron_run(&j);
}

void cliff_neuron_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                           const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt;
    (void)nb;
    NeuronState *s = l->priv;
    if (!propagate_down[0] || !s->kind->backward) return;
    const float *x = s->needs_x && in_place(bottom, top) ? s->saved.data : bottom[0]->data;
    NeuronJob j = {s, x, top[0]->data, top[0]->diff, bottom[0]->diff, bottom[0]->count, 1};
    neuron_run(&j);
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
