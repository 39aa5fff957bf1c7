/* Tile (Caffe's TileLayer): repeats the blob `tiles` times along `axis`.
 * View bottom as outer x inner (inner = product of axes from `axis` on); each
 * top row o is bottom row o written tiles times. backward sums the copies. */
#include <string.h>

#include "vision_util.h"

typedef struct Tile {
    int axis, tiles;
    size_t outer, inner;
} Tile;

static const Cliff__TileParameter tile_defaults = CLIFF__TILE_PARAMETER__INIT;

static int tile_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)bottom, (void)nb, (void)nt;
    const Cliff__TileParameter *tp =
        l->param && l->param->tile_param ? l->param->tile_param : &tile_defaults;
    Tile *p = cliff_priv_alloc(l, sizeof(Tile), err);
    if (!p) return -1;
    if (!tp->has_tiles || tp->tiles <= 0)
        return cliff_error_set(err, "tile_param.tiles must be set and positive (got %d)",
                               tp->tiles);
    if (top[0] == bottom[0]) return cliff_error_set(err, "Tile cannot run in place");
    p->tiles = tp->tiles;
    return 0;
}

static int tile_reshape(CliffLayer *l, CliffTensor *const *bottom, int nb,
                        CliffTensor *const *top, int nt, CliffError *err)
{
    (void)nb, (void)nt;
    const Cliff__TileParameter *tp =
        l->param && l->param->tile_param ? l->param->tile_param : &tile_defaults;
    Tile *p = l->priv;
    const CliffTensor *b = bottom[0];
    p->axis = cliff_canon_axis(l, b, 0, tp->axis, "tile axis", err);
    if (p->axis < 0) return -1;
    if ((long)b->shape[p->axis] * p->tiles > INT32_MAX)
        return cliff_error_set(err, "tiled axis too large");
    int shape[CLIFF_MAX_AXES];
    memcpy(shape, b->shape, sizeof(int) * (size_t)b->num_axes);
    shape[p->axis] *= p->tiles;
    p->outer = cliff_tensor_count_range(b, 0, p->axis);
    p->inner = cliff_tensor_count_range(b, p->axis, b->num_axes);
    return cliff_tensor_reshape(top[0], b->num_axes, shape, err);
}

static void tile_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt)
{
    (void)nb, (void)nt;
    const Tile *p = l->priv;
    const float *x = bottom[0]->data;
    float *y = top[0]->data;
    for (size_t o = 0; o < p->outer; o++)
        for (int t = 0; t < p->tiles; t++)
            memcpy(y + (o * p->tiles + t) * p->inner, x + o * p->inner, p->inner * sizeof *y);
}

static void tile_backward(CliffLayer *l, CliffTensor *const *top, int nt,
                          const int *propagate_down, CliffTensor *const *bottom, int nb)
{
    (void)nt, (void)nb;
    if (!propagate_down[0]) return;
    const Tile *p = l->priv;
    const float *dy = top[0]->diff;
    float *dx = bottom[0]->diff;
    for (size_t o = 0; o < p->outer; o++) {
        float *d = dx + o * p->inner;
        memcpy(d, dy + o * p->tiles * p->inner, p->inner * sizeof *d);
        for (int t = 1; t < p->tiles; t++) {
            const float *s = dy + (o * p->tiles + t) * p->inner;
            for (size_t i = 0; i < p->inner; i++) d[i] += s[i];
        }
    }
}

static void tile_destroy(CliffLayer *l)
{
    free(l->priv);
    l->priv = NULL;
}

const CliffLayerOps cliff_ops_Tile = {
    .type = "Tile",
    .min_bottoms = 1,
    .max_bottoms = 1,
    .min_tops = 1,
    .max_tops = 1,
    .setup = tile_setup,
    .reshape = tile_reshape,
    .forward = tile_forward,
    .backward = tile_backward,
    .destroy = tile_destroy,
};
