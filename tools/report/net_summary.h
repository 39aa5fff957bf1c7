/* Human-readable table of a built net: layer, type, bottoms -> tops with
 * shapes, parameter count, activation memory, workspace, prefetch queue;
 * totals and outputs. Then, over every net of a run, the memory bound:
 * the bytes the run holds by construction, term by term. */
#ifndef CLIFF_NET_SUMMARY_H
#define CLIFF_NET_SUMMARY_H

#include <stdio.h>

#include "layers/net/net.h"

/* Bytes of the nets printed so far (cliff_net_summary adds each net's). */
typedef struct CliffNetMemory {
    size_t activations; /* tops' data + diff (in-place tops once) */
    size_t workspace;   /* layers' scratch beyond tops and params (workspace_bytes) */
    size_t prefetch;    /* data layers' prefetch queues (prefetch_stats) */
} CliffNetMemory;

/* Prints net's table; adds its bytes to *sum when sum is not NULL. */
void cliff_net_summary(FILE *out, const CliffNet *net, const char *title, CliffNetMemory *sum);

/* The memory bound of a run: parameters and gradients (nparams floats each),
 * the solver history (nhist slabs of nparams floats, held twice: the step
 * writes the next one apart), the recovery ring (ring_slots copies of the
 * weights and the history), and the nets' activations, workspace and prefetch
 * queues from sum; each term on its own line, then the total. Code, libraries
 * and memory-mapped database pages (the kernel's page cache) are not part of
 * it. */
void cliff_memory_bound(FILE *out, const CliffNetMemory *sum, size_t nparams, int nhist,
                        int ring_slots);

#endif
