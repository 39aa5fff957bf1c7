/* Forward checks of the vision and shape layer cases (tests/grad_cases_vision.c),
 * each usable as GradCase.check_forward (0 when the top values are right), and
 * the helpers they share. vision_checks.c: pooling and ArgMax literals, value
 * layers by definition; vision_checks_shape.c: shape layers by definition. */
#ifndef CLIFF_VISION_CHECKS_H
#define CLIFF_VISION_CHECKS_H

#include <stddef.h>

#include "gradcheck.h"

/* helpers: fill why and return -1 on a mismatch */
int vc_close(float a, float b);
int vc_expect_shape(const CliffTensor *t, const char *what, int n, const int *shape, char *why,
                    size_t len);
int vc_expect_values(const CliffTensor *t, const char *what, const float *v, size_t n, char *why,
                     size_t len);
/* sets bottom[0] to x[i] = ((i * mul) % mod) + add and runs forward again */
void vc_reforward_pattern(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt, int mul, int mod, int add);
int vc_expect_elem(const CliffTensor *t, size_t i, double want, char *why, size_t len);

/* The checks, with GradCase.check_forward's signature. */
#define VCHECK(name)                                                                       \
    int name(CliffLayer *l, CliffTensor *const *b, int nb, CliffTensor *const *t, int nt,  \
             char *why, size_t len)
VCHECK(vcheck_argmax_axis0);
VCHECK(vcheck_argmax_axis1_val);
VCHECK(vcheck_argmax_top1);
VCHECK(vcheck_argmax_top3_val);
VCHECK(vcheck_concat_axis0);
VCHECK(vcheck_concat_axis1);
VCHECK(vcheck_concat_axis2);
VCHECK(vcheck_crop_axis1);
VCHECK(vcheck_crop_axis2);
VCHECK(vcheck_eltwise_max);
VCHECK(vcheck_eltwise_prod);
VCHECK(vcheck_eltwise_sum_coeff);
VCHECK(vcheck_embed);
VCHECK(vcheck_filter);
VCHECK(vcheck_flatten_default);
VCHECK(vcheck_flatten_range);
VCHECK(vcheck_im2col);
VCHECK(vcheck_lrn_across);
VCHECK(vcheck_lrn_defaults);
VCHECK(vcheck_lrn_within);
VCHECK(vcheck_pool_ave_k3s2_ceil);
VCHECK(vcheck_pool_ave_k3s2p1);
VCHECK(vcheck_pool_floor);
VCHECK(vcheck_pool_global_ave);
VCHECK(vcheck_pool_global_max);
VCHECK(vcheck_pool_max_k2s2);
VCHECK(vcheck_pool_max_k3s2_ceil);
VCHECK(vcheck_pool_max_k3s2p1);
VCHECK(vcheck_red_asum);
VCHECK(vcheck_red_mean);
VCHECK(vcheck_red_sum);
VCHECK(vcheck_red_sumsq);
VCHECK(vcheck_reindex);
VCHECK(vcheck_reshape_axis);
VCHECK(vcheck_reshape_inferred);
VCHECK(vcheck_reshape_scalar_axes);
VCHECK(vcheck_slice_equal);
VCHECK(vcheck_slice_points);
VCHECK(vcheck_softmax0);
VCHECK(vcheck_softmax1);
VCHECK(vcheck_softmax_last);
VCHECK(vcheck_split);
VCHECK(vcheck_tile_axis1);
VCHECK(vcheck_tile_last);

#endif
