/* Crop (Caffe's CropLayer): bottom[0] cut to the shape of bottom[1] on the axes
 * from `axis` on; axes before `axis` are kept. offset: none (0), one value for
 * every cropped axis, or one value per cropped axis. bottom[1] only gives the
 * shape: its gradient is zero (written when asked for); bottom[0]'s gradient is the top's, placed at the
 * offsets, zero elsewhere. */
#include <string.h>

#include "vision_util.h"

typedef struct Crop {
    int num_axes;
    int offsets[CLIFF_MAX_AXES];
} Crop;

static const Cliff__CropParameter crop_defaults = CLIFF__CROP_PARAMETER__INIT;

static int crop_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)nt;
    if (top[0] == bottom[0]) return cliff_error_set(err, "Crop cannot run in place");
    return cliff_priv_alloc(l, sizeof(Crop), err) ? 0 : -1;
}

static int crop_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    const Cliff__CropParameter *cp =
        l->param && l->param->crop_param ? l->param->crop_param : &crop_defaults;
    Crop *p = l->priv;
    const CliffTensor *b = bottom[0], *ref = bottom[1];
    char s0[128], s1[128];
    if (b->num_axes != ref->num_axes)
        return cliff_error_set(err, "bottom '%s' (%s) and the reference '%s' (%s) must have the "
                                    "same number of axes",
                               cliff_bname(l, 0), cliff_tensor_shape_str(b, s0, sizeof s0),
                               cliff_bname(l, 1), cliff_tensor_shape_str(ref, s1, sizeof s1));
    int axis = cliff_canon_axis(l, b, 0, cp->axis, "crop axis", err);
    if (axis < 0) return -1;
    const int ncrop = b->num_axes - axis;
    if (cp->n_offset > 1 && cp->n_offset != (size_t)ncrop)
        return cliff_error_set(err, "%zu crop offsets for %d cropped axes (from axis %d): give one "
                                    "offset or one per cropped axis",
                               cp->n_offset, ncrop, axis);
    int shape[CLIFF_MAX_AXES];
    p->num_axes = b->num_axes;
    for (int i = 0; i < b->num_axes; i++) {
        int off = 0, size = b->shape[i];
        if (i >= axis) {
            if (cp->n_offset &&
                cliff_param_int(cp->offset[cp->n_offset == 1 ? 0 : i - axis],
                                "crop_param.offset", &off, err))
                return -1;
            size = ref->shape[i];
            if (off < 0 || (long)b->shape[i] - off < size)
                return cliff_error_set(err, "cannot crop axis %d of bottom '%s' (%s) at offset %d "
                                            "to size %d (the reference '%s' is %s)",
                                       i, cliff_bname(l, 0), cliff_tensor_shape_str(b, s0, sizeof s0),
                                       off, size, cliff_bname(l, 1),
                                       cliff_tensor_shape_str(ref, s1, sizeof s1));
        }
        p->offsets[i] = off;
        shape[i] = size;
    }
    return cliff_tensor_reshape(top[0], b->num_axes, shape, err);
}

/* Copies every contiguous last-axis run between the cropped view of big and
 * small (forward: big -> small; backward: small -> big). */
static void crop_copy(const Crop *p, const CliffTensor *big, const CliffTensor *small,
                      const float *src, float *dst, int forward)
{
    const int na = p->num_axes;
    if (small->count == 0) return;
    if (na == 0) {
        dst[0] = src[0];
        return;
    }
    int idx[CLIFF_MAX_AXES] = {0};
    const int run = small->shape[na - 1];
    for (;;) {
        size_t sb = 0, ss = 0;
        for (int a = 0; a < na; a++) {
            int i = a == na - 1 ? 0 : idx[a];
            sb = sb * (size_t)big->shape[a] + (size_t)(i + p->offsets[a]);
            ss = ss * (size_t)small->shape[a] + (size_t)i;
        }
        if (forward)
            memcpy(dst + ss, src + sb, (size_t)run * sizeof *dst);
        else
            memcpy(dst + sb, src + ss, (size_t)run * sizeof *dst);
        int a = na - 2;
        while (a >= 0 && ++idx[a] == small->shape[a]) idx[a--] = 0;
        if (a < 0) break;
    }
}

static void crop_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    crop_copy(l->priv, bottom[0], top[0], bottom[0]->data, top[0]->data, 1);
}

static void crop_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                          const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    if (propagate_down[1]) /* the reference only gives a shape: zero gradient */
        memset(bottom[1]->diff, 0, bottom[1]->count * sizeof(float));
    if (!propagate_down[0]) return;
    memset(bottom[0]->diff, 0, bottom[0]->count * sizeof(float));
    crop_copy(l->priv, bottom[0], top[0], top[0]->diff, bottom[0]->diff, 0);
}

static void crop_destroy(CliffLayer *l)
{
    free(l->priv);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Crop = {
    .type = "Crop",
    .min_bottoms = 2,
    .max_bottoms = 2,
    .min_tops = 1,
    .max_tops = 1,
    .label_bottoms = 1u << 1, /* the reference blob */
    .setup = crop_setup,
    .reshape = crop_reshape,
    .forward = crop_forward,
    .backward = crop_backward,
    .destroy = crop_destroy,
};
