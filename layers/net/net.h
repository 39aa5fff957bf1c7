/* A Net: the graph of one phase of a NetParameter, built as Caffe builds it.
 *
 * Build: NetStateRule filtering (include/exclude by phase, stage, level),
 * in-place tops, automatic Split layers where one top feeds several bottoms
 * (their gradients summed), loss weights (default 1 on a loss layer's first
 * top), propagate_down, force_backward, the "needs backward" analysis, and
 * parameters: every learnable blob lives in one contiguous parameter slab and
 * its gradient in one gradient slab; layer parameter tensors are views into them.
 * Parameters shared by ParamSpec.name are one slab region, so the gradients of
 * all sharers accumulate into it.
 *
 * Errors from build name the layer, its type and the position of its `layer {`
 * (from the CliffSrcMap the readers filled):
 *   "net.prototxt:23:1: error: layer 'ip1' (InnerProduct): ..." */
#ifndef CLIFF_NET_H
#define CLIFF_NET_H

#include "layers/layer.h"

typedef struct CliffNetLayer {
    CliffLayer layer;
    int nb, nt;
    int *bottom_ids, *top_ids;  /* indices into net->blobs */
    CliffTensor **bottom, **top; /* the same, as tensor pointers */
    int *propagate_down;         /* per bottom: compute this bottom's gradient */
    float *loss_weight;          /* per top (0 when not a loss) */
    int need_backward;           /* run backward for this layer */
    int is_split;                /* inserted automatically */
    double fwd_seconds, bwd_seconds; /* accumulated when net->timing is on */
} CliffNetLayer;

/* One learnable parameter blob (an owner; sharers point at the owner's region). */
typedef struct CliffNetParam {
    char *name;         /* "<layer>/<i>", or the ParamSpec name when given */
    int layer, index;   /* owning layer and its parameter index */
    float lr_mult, decay_mult;
    size_t offset;      /* in the slabs */
    size_t count;
    CliffTensor *tensor; /* the owner's view */
} CliffNetParam;

typedef struct CliffNet {
    char *name;
    int phase; /* CLIFF__PHASE__TRAIN / TEST */
    int nlayers;
    CliffNetLayer *layers;
    int nblobs;
    CliffTensor **blobs;
    char **blob_names;
    int *blob_loss_weighted; /* per blob: 1 if some top has a loss weight on it */
    int noutputs;            /* blobs produced and consumed by nobody (Caffe's net outputs) */
    int *output_ids;
    float *output_loss_weight;

    int nparams; /* learnable parameter blobs (owners), in Caffe's learnable_params order */
    CliffNetParam *params;
    float *param_slab, *grad_slab; /* param_count floats each */
    size_t param_count;

    Cliff__LayerParameter **owned_layer_params; /* synthesized (splits); freed with the net */
    int nowned;
    CliffRng *rng;
    int timing; /* accumulate per-layer seconds */
    int reshape_from; /* first layer whose shapes can change between forwards
                         (nlayers when none can) */
    CliffError runtime_error; /* why the last forward returned NaN, if it did */
    int shard_rank, shard_size; /* data sharding (cliff_net_shard); size 0 or 1: none */
    int data_error; /* the last forward stopped at bottom values a layer refused
                       (check_bottoms: a label out of range, a NaN index): the
                       data is broken, so the run must stop, not skip a step */
} CliffNet;

/* Builds the net of param for a phase. The state is Caffe's merge: phase, then
 * the net's own `state`, then extra_state (the solver's train_state /
 * test_state[i]; may be NULL). param must outlive the net. map (may be NULL)
 * gives layer positions. rng is used for fillers now and by layers (dropout,
 * shuffling) later. */
CliffNet *cliff_net_build(const Cliff__NetParameter *param, int phase,
                          const Cliff__NetState *extra_state, CliffRng *rng,
                          const CliffSrcMap *map, CliffError *err);
void cliff_net_free(CliffNet *net);

/* Forward through all layers; returns the total weighted loss. When a layer
 * with value-dependent shapes (Filter) cannot be reshaped, returns NaN and
 * leaves the reason in net->runtime_error (the solver counts a bad step).
 * Before each layer's forward its check_bottoms (if any) validates the values
 * it reads as labels or indices; a refusal stops the forward there: NaN,
 * net->data_error set, and runtime_error "layer 'NAME' (TYPE): <what, which
 * bottom, batch row, value>". No layer after it runs. */
double cliff_net_forward(CliffNet *net);
/* Backward through the layers that need it; parameter gradients accumulate
 * into the gradient slab (zero it first with cliff_net_zero_grads). */
void cliff_net_backward(CliffNet *net);
void cliff_net_zero_grads(CliffNet *net);

/* Data-parallel runs: this net is rank `rank` of `size` readers of the same
 * data. Every forward, each data layer with a skip op passes over `rank`
 * batches, reads one, and passes over size - 1 - rank: rank r takes batch r
 * of every `size` consecutive batches, and after each forward every rank's
 * cursors are the same (the one reader's position after size batches), so a
 * snapshot of any rank's cursors resumes every rank, with any size. A data
 * layer (no bottoms) with a cursor (state_save) but no skip is an error
 * naming it; data layers without state (Input, DummyData) give every rank
 * the same data. */
int cliff_net_shard(CliffNet *net, int rank, int size, CliffError *err);

/* Points every parameter of `net` whose layer name also exists in `from` at
 * from's storage (Caffe's ShareTrainedLayersWith: test nets see the weights
 * being trained without copying). Shapes must agree. When that covers every
 * parameter of net (a solver's test net), net's own slabs are freed and its
 * param_slab and grad_slab become NULL: such a net is for forward passes, its
 * slab-wide operations (zeroing gradients, snapshots) are from's. */
int cliff_net_share_params_from(CliffNet *net, const CliffNet *from, CliffError *err);

/* Finds a layer / blob by name; -1 when absent. */
int cliff_net_layer_index(const CliffNet *net, const char *name);
int cliff_net_blob_index(const CliffNet *net, const char *name);

/* Caffe's StateMeetsRule / layer inclusion. */
int cliff_net_state_meets_rule(const Cliff__NetState *state, const Cliff__NetStateRule *rule);
int cliff_net_layer_included(const Cliff__NetState *state, const Cliff__LayerParameter *lp);

#endif
