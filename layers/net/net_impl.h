/* Internals shared by the files of layers/net/ (not part of the public API).
 *
 * cliff_net_build (net_build.c) runs these steps in order:
 *   plan    net_plan.c: check the included layers, connect bottoms to tops by
 *           name (in place, dangling bottoms, multiple producers), count the
 *           readers of every top and insert Split layers where a top has several;
 *   setup   net_build.c: create blobs, set up and reshape each layer;
 *   params  net_params.c: allocate the parameter and gradient slabs, point views
 *           into them (shared parameters into their owner's region), run fillers;
 *   flow    net_flow.c: the net's outputs and loss-weighted blobs, then which
 *           layers and bottoms need backward.
 * net_run.c runs a built net; net_rules.c holds Caffe's NetState logic.
 * Every step allocates through net_alloc.h and reports running out of memory
 * as an error; cliff_net_free frees a net left half-built by a failed step. */
#ifndef CLIFF_NET_IMPL_H
#define CLIFF_NET_IMPL_H

#include "net.h"
#include "net_alloc.h"

/* One layer of the plan: the LayerParameter plus the blob names it reads and
 * writes after split renaming. */
typedef struct PlanLayer {
    const Cliff__LayerParameter *lp;
    const CliffLayerOps *ops;
    int is_split;
    int split_top; /* for splits: index of the split top in its producer */
    int nb, nt;
    char **bottom; /* owned strings */
    char **top;
    float *loss_weight;
} PlanLayer;

typedef struct Plan {
    PlanLayer *layers;
    int n, cap;
} Plan;

/* Pass 1: fills plan (empty on entry) from the layers of param included by
 * state. On failure the plan holds what was built so far: free it either way. */
int cliff_net_plan_make(Plan *plan, const Cliff__NetParameter *param,
                        const Cliff__NetState *state, const CliffSrcMap *map, CliffError *err);
void cliff_net_plan_free(Plan *plan);

/* Pass 3a: parameter slabs, sharing by ParamSpec.name, fillers (net_params.c). */
int cliff_net_setup_params(CliffNet *net, const CliffSrcMap *map, CliffError *err);
/* Pass 3b (net_flow.c): the net outputs and blob_loss_weighted, then which layers
 * and bottoms need backward (Caffe's Net::Init logic). */
int cliff_net_find_outputs(CliffNet *net, CliffError *err);
int cliff_net_decide_backward(CliffNet *net, const Cliff__NetParameter *param,
                              CliffError *err);

/* Merged NetState: phase, then the net's own state, then extra (net_rules.c).
 * stages is owned (free it); st.stage points into it. */
typedef struct CliffMergedState {
    Cliff__NetState st;
    char **stages;
} CliffMergedState;
int cliff_net_state_merge(CliffMergedState *s, int phase, const Cliff__NetState *own,
                          const Cliff__NetState *extra);

/* Prefixes err with the position, name and type of lp's `layer {`:
 * "net.prototxt:12:1: error: layer 'conv1' (Convolution): ". Returns -1. */
int cliff_net_layer_error(CliffError *err, const CliffSrcMap *map,
                          const Cliff__LayerParameter *lp);

#endif
