/* The data layers' prefetch queue: a background thread fills up to `depth`
 * batches ahead (Caffe's data_param.prefetch) while the net computes, so that
 * taking a batch costs the training loop a copy.
 *
 * The producer is a callback, fill(ctx, slot, err), that writes one batch into
 * the slot from the producer's state (cursor, RNG) held in ctx, advances that
 * state, and records the state AFTER the batch in slot->state. Only the
 * producer thread touches ctx while the thread runs. The consumer keeps the
 * state of the last batch it took: that, not the producer's, is the layer's
 * resumable state, so batches produced but not yet taken are never counted.
 *
 * To change the producer's state (a snapshot being restored) call
 * cliff_prefetch_reset first: it stops the thread and drops the queued
 * batches; the thread restarts on the next take and reproduces them from the
 * new state. With depth 0 there is no thread: the next batch is filled in the
 * caller's thread when it is taken (same batches, same order).
 *
 * A fill that fails leaves its error in the slot; the consumer gets it when it
 * reaches that batch, and the producer stops there.
 *
 * The queue counts its own costs (cliff_prefetch_stats, for --time): the wall
 * and CPU time of every fill, on whichever thread made it, and the wall time
 * the consumer spent in take before its batch was ready (with depth 0 that is
 * the fill itself; with a thread, the time the training loop waited for the
 * producer). */
#ifndef CLIFF_DATA_PREFETCH_H
#define CLIFF_DATA_PREFETCH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/error.h"

#define CLIFF_PREFETCH_STATE_WORDS 8

typedef struct CliffPrefetchSlot {
    float *data;  /* data_count floats */
    float *label; /* label_count floats (NULL when 0) */
    int64_t state[CLIFF_PREFETCH_STATE_WORDS]; /* the producer's state after this batch */
    int failed;
    CliffError err;
} CliffPrefetchSlot;

/* The queue's figures (cumulative since init; reset does not clear them). */
typedef struct CliffPrefetchStats {
    int depth;               /* batches queued ahead (0: filled on take) */
    size_t bytes;            /* the queue's batch buffers (cliff_prefetch_bytes) */
    int64_t made;            /* fills that ended, failed or not */
    double fill_seconds;     /* their wall time */
    double fill_cpu_seconds; /* the filling thread's CPU time during them */
    int64_t taken;           /* takes that returned a batch */
    double wait_seconds;     /* consumer's wall time in take until the batch was ready */
} CliffPrefetchStats;

typedef int (*CliffPrefetchFill)(void *ctx, CliffPrefetchSlot *slot, CliffError *err);

typedef struct CliffPrefetch {
    int depth;  /* batches queued ahead; 0: fill on take, no thread */
    int nslots; /* max(depth, 1) */
    CliffPrefetchSlot *slots;
    size_t data_count, label_count;
    CliffPrefetchFill fill;
    void *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t filled, freed;
    int running, stop;
    int head, count; /* ring: next slot to take, slots filled and not released */
    int taken;       /* the head slot is held by the consumer (take .. release) */
    CliffPrefetchStats stats; /* fill figures under mu; take figures the consumer's */
} CliffPrefetch;

int cliff_prefetch_init(CliffPrefetch *q, int depth, size_t data_count, size_t label_count,
                        CliffPrefetchFill fill, void *ctx, CliffError *err);
/* Waits for the next batch (starting the thread if needed) and holds it until
 * cliff_prefetch_release. Returns NULL with err filled when that batch failed.
 * Calling it again before release returns the same slot. */
const CliffPrefetchSlot *cliff_prefetch_take(CliffPrefetch *q, CliffError *err);
void cliff_prefetch_release(CliffPrefetch *q);
/* Stops the thread and drops every queued batch (see above). */
void cliff_prefetch_reset(CliffPrefetch *q);
void cliff_prefetch_free(CliffPrefetch *q);
/* Bytes of the queue's batches (the prefetch memory of --dry-run). */
size_t cliff_prefetch_bytes(const CliffPrefetch *q);
/* A consistent copy of the queue's figures (locks the queue; any thread). */
void cliff_prefetch_stats(CliffPrefetch *q, CliffPrefetchStats *out);

#endif
