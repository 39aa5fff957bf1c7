/* Silence (Caffe's SilenceLayer): consumes bottoms so they are not net
 * outputs; no tops. backward writes zero gradients (the bottoms influence
 * nothing). */
#include <string.h>

#include "layer.h"

static int silence_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt, CliffError *err)
{
    (void)l, (void)bottom, (void)nb, (void)top, (void)nt, (void)err;
    return 0;
}

static void silence_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                            CliffTensor *const *top, int nt)
{
    (void)l, (void)bottom, (void)nb, (void)top, (void)nt;
}

static void silence_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                             const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)l, (void)top, (void)nt;
    for (int i = 0; i < nb; i++)
        if (propagate_down[i]) memset(bottom[i]->diff, 0, bottom[i]->count * sizeof(float));
}

const CliffLayerOps cliff_ops_Silence = {
    .type = "Silence",
    .min_bottoms = 1,
    .max_bottoms = CLIFF_ANY,
    .min_tops = 0,
    .max_tops = 0,
    .setup = silence_setup,
    .forward = silence_forward,
    .backward = silence_backward,
};
