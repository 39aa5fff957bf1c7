/* The layer interface: one const ops table per layer type, one small instance
 * struct per layer in a net, with an opaque private part.
 *
 * Life cycle (driven by layers/net/, see net_impl.h):
 *   setup    read l->param, check bottom shapes, declare learnable parameters
 *            with cliff_layer_declare_param(), allocate private state;
 *   (net allocates the parameter and gradient slabs, points l->params[i] into
 *    them and runs the declared fillers, or loads weights)
 *   reshape  set top shapes from bottom shapes, size internal buffers;
 *   check_bottoms (optional) before every forward: validate bottom VALUES the
 *            layer reads as integers (labels, indices). Data files can hold
 *            anything; a bad value is an error naming the bottom, batch row
 *            and value, and the net stops the forward there (labels.h).
 *            Data layers (no bottoms) take their next batch here, so that a
 *            record that cannot be read stops the forward the same way;
 *   forward  top = f(bottom); never allocates, never fails: it may trust
 *            what check_bottoms accepted;
 *   backward parameter gradients ACCUMULATE (+=) into l->params[i].diff when
 *            l->param_need_grad[i]; bottom gradients OVERWRITE bottom[i]->diff
 *            when propagate_down[i]; never allocates;
 *   destroy  free private state (not the tensors: the net owns them).
 *
 * In-place layers (top[0] == bottom[0]) must be correct when the pointers are
 * equal. Loss layers read the loss weight from top[0]->diff[0] in backward
 * (the net fills it), as in Caffe. Errors from setup/reshape name the problem
 * and the blobs; the net prefixes the layer's name, type and source position.
 */
#ifndef CLIFF_LAYER_H
#define CLIFF_LAYER_H

#include <limits.h>
#include <stdint.h>

#include "cliff.pb-c.h"
#include "proto/names.h"
#include "layers/kernels/rng.h"
#include "layers/kernels/tensor.h"

#define CLIFF_MAX_PARAMS 8
#define CLIFF_ANY (-1) /* in bottom/top count bounds: no bound */

typedef struct CliffLayer CliffLayer;
struct CliffPrefetchStats; /* layers/data/prefetch.h */

typedef struct CliffLayerOps {
    const char *type; /* Caffe's type string, e.g. "Convolution" */
    int min_bottoms, max_bottoms; /* CLIFF_ANY for no upper bound */
    int min_tops, max_tops;
    int is_loss;          /* top[0] gets loss_weight 1 unless the config says otherwise */
    int allow_in_place;   /* top[0] may be bottom[0] */
    int reshape_every_forward; /* top shapes depend on bottom values (Filter): the net
                                  reshapes this layer and every later one before each
                                  forward, as Caffe reshapes before every forward */
    unsigned label_bottoms; /* bit i: bottom i holds labels/targets that force_backward
                               never propagates to (Caffe's AllowForceBackward) */
    int (*setup)(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top, int nt,
              CliffError *err);
    int (*reshape)(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                   int nt, CliffError *err);
    /* NULL for layers that accept any bottom values. Reads only; never allocates. */
    int (*check_bottoms)(const CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffError *err);
    void (*forward)(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                    int nt);
    /* NULL for layers that never propagate (data layers, Accuracy, ArgMax...). */
    void (*backward)(CliffLayer *l, CliffTensor *const *top, int nt, const int *propagate_down,
                     CliffTensor *const *bottom, int nb);
    void (*destroy)(CliffLayer *l); /* may be NULL */
    /* Optional resumable state (data cursors, shuffle order) as int64 words,
     * saved in snapshots so a resumed run reads the same batches. */
    size_t (*state_size)(const CliffLayer *l);
    void (*state_save)(const CliffLayer *l, int64_t *out);
    int (*state_load)(CliffLayer *l, const int64_t *in, size_t n, CliffError *err);
    /* Optional, data layers (no bottoms) with a cursor: advance past one batch
     * exactly as forward would, without producing it (same wraps, same
     * reshuffles and RNG draws). A data-parallel run (layers/net/net_shard.c)
     * calls it for the batches other ranks read; a data layer with state but
     * no skip cannot be sharded. */
    void (*skip)(CliffLayer *l);
    /* Optional, instead of skip: the layer shards itself. Told its rank and
     * the rank count once (cliff_net_shard, before the first forward), each
     * forward then gives this rank's batch of every `size` and passes over
     * the others' batches without producing them (the Data layer moves its
     * cursor and makes the transform's draws, decoding nothing); its saved
     * state is as of the end of the group of `size` batches, as with skip.
     * The net calls no skip for it. */
    int (*shard)(CliffLayer *l, int rank, int size, CliffError *err);
    /* Optional: multiply-adds of one forward pass (for train --time GFLOP/s). */
    double (*forward_flops)(const CliffLayer *l);
    /* Optional: the name of parameter blob i in messages, where the index
     * alone says little (a recurrent layer's "W_hc"); NULL for none. */
    const char *(*param_name)(const CliffLayer *l, int i);
    /* Optional: bytes of scratch the layer holds beyond its tops and params
     * (after reshape), for train --dry-run's workspace figures. */
    size_t (*workspace_bytes)(const CliffLayer *l);
    /* Optional, data layers with a prefetch queue (layers/data/prefetch.h):
     * the queue's figures, for --dry-run's memory bound (its bytes are not in
     * workspace_bytes) and --time's data line. */
    void (*prefetch_stats)(const CliffLayer *l, struct CliffPrefetchStats *out);
} CliffLayerOps;

/* A declared learnable parameter, before the net gives it storage. */
typedef struct CliffParamDecl {
    int num_axes;
    int shape[CLIFF_MAX_AXES];
    const Cliff__FillerParameter *filler; /* NULL: constant default_value */
    float default_value;
    int learnable; /* 0: statistics such as BatchNorm's (lr_mult and decay_mult forced 0) */
} CliffParamDecl;

struct CliffLayer {
    const CliffLayerOps *ops;
    const Cliff__LayerParameter *param; /* owned by the net's NetParameter */
    const char *name;
    int phase;     /* CLIFF__PHASE__TRAIN or CLIFF__PHASE__TEST */
    CliffRng *rng; /* the run's RNG (dropout masks, shuffling) */

    int nparams;
    CliffParamDecl decl[CLIFF_MAX_PARAMS];
    CliffTensor params[CLIFF_MAX_PARAMS]; /* views into the net's slabs */
    int param_need_grad[CLIFF_MAX_PARAMS];

    void *priv; /* the layer type's private state */
};

/* Declares the next learnable parameter (in Caffe's blob order). */
int cliff_layer_declare_param(CliffLayer *l, int num_axes, const int *shape,
                              const Cliff__FillerParameter *filler, float default_value,
                              int learnable, CliffError *err);

/* A uint32 config field (pad, kernel_size, num_output...) as the int the
 * layer computes with: a value above INT_MAX, which a cast would turn
 * negative, is an error naming the field ("pooling_param.pad 4294967295 is
 * too large (at most 2147483647)"). Call from setup only. */
static inline int cliff_param_int(uint32_t v, const char *field, int *out, CliffError *err)
{
    if (v > (uint32_t)INT_MAX)
        return cliff_error_set(err, "%s %u is too large (at most %d)", field, (unsigned)v,
                               INT_MAX);
    *out = (int)v;
    return 0;
}

/* The registry: every layer type, in a static table (rows: CliffLayerOps,
 * named by type; "unknown layer type" errors use it, see proto/names.h). */
extern const CliffNameTable cliff_layer_table;
const CliffLayerOps *cliff_layer_find(const char *type);
size_t cliff_layer_count(void);
const CliffLayerOps *cliff_layer_at(size_t i);

#endif
