/* Prefetch queue (contract in prefetch.h): a ring of slots, one producer
 * thread, one consumer. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layers/kernels/clock.h"
#include "prefetch.h"

/* CPU seconds of the calling thread. */
static double thread_cpu_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) return 0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cliff_prefetch_init(CliffPrefetch *q, int depth, size_t data_count, size_t label_count,
                        CliffPrefetchFill fill, void *ctx, CliffError *err)
{
    memset(q, 0, sizeof *q);
    if (depth < 0 || depth > 1024)
        return cliff_error_set(err, "prefetch %d is out of range (0 to 1024)", depth);
    q->depth = depth;
    q->nslots = depth ? depth : 1;
    q->data_count = data_count;
    q->label_count = label_count;
    q->fill = fill;
    q->ctx = ctx;
    q->stats.depth = depth;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->filled, NULL);
    pthread_cond_init(&q->freed, NULL);
    q->slots = calloc((size_t)q->nslots, sizeof *q->slots);
    if (!q->slots) {
        cliff_prefetch_free(q);
        return cliff_error_set(err, "out of memory");
    }
    for (int i = 0; i < q->nslots; i++) {
        q->slots[i].data = malloc(data_count * sizeof(float) + 1);
        q->slots[i].label = label_count ? malloc(label_count * sizeof(float)) : NULL;
        if (!q->slots[i].data || (label_count && !q->slots[i].label)) {
            cliff_prefetch_free(q);
            return cliff_error_set(err, "out of memory for %d prefetch batches of %zu values",
                                   q->nslots, data_count);
        }
    }
    return 0;
}

/* Fills slot s (called without mu) and counts its times (under mu). */
static void fill_slot(CliffPrefetch *q, CliffPrefetchSlot *s)
{
    double t0 = cliff_clock_seconds(), c0 = thread_cpu_seconds();
    s->failed = q->fill(q->ctx, s, &s->err) != 0;
    double wall = cliff_clock_seconds() - t0, cpu = thread_cpu_seconds() - c0;
    pthread_mutex_lock(&q->mu);
    q->stats.made++;
    q->stats.fill_seconds += wall;
    q->stats.fill_cpu_seconds += cpu;
    pthread_mutex_unlock(&q->mu);
}

static void *producer(void *arg)
{
    CliffPrefetch *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->stop && q->count == q->nslots) pthread_cond_wait(&q->freed, &q->mu);
        if (q->stop) break;
        CliffPrefetchSlot *s = &q->slots[(q->head + q->count) % q->nslots];
        pthread_mutex_unlock(&q->mu); /* the slot is the producer's until counted */
        fill_slot(q, s);
        pthread_mutex_lock(&q->mu);
        q->count++;
        pthread_cond_signal(&q->filled);
        if (s->failed) break; /* nothing after a failed batch */
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

const CliffPrefetchSlot *cliff_prefetch_take(CliffPrefetch *q, CliffError *err)
{
    CliffPrefetchSlot *s;
    const int again = q->taken; /* the held batch again: no wait to count */
    double t0 = cliff_clock_seconds();
    if (!q->depth) {
        s = &q->slots[0];
        if (!q->taken) fill_slot(q, s);
        q->taken = 1;
    } else {
        pthread_mutex_lock(&q->mu);
        if (!q->running) {
            q->stop = 0;
            if (pthread_create(&q->thread, NULL, producer, q) != 0) {
                pthread_mutex_unlock(&q->mu);
                return cliff_error_set(err, "cannot start the prefetch thread"), NULL;
            }
            q->running = 1;
        }
        while (q->count == 0) pthread_cond_wait(&q->filled, &q->mu);
        s = &q->slots[q->head];
        q->taken = 1;
        pthread_mutex_unlock(&q->mu);
    }
    if (!again && !s->failed) {
        double waited = cliff_clock_seconds() - t0;
        pthread_mutex_lock(&q->mu);
        q->stats.taken++;
        q->stats.wait_seconds += waited;
        pthread_mutex_unlock(&q->mu);
    }
    if (s->failed) {
        if (err && err != &s->err) *err = s->err;
        return NULL;
    }
    return s;
}

void cliff_prefetch_release(CliffPrefetch *q)
{
    if (!q->taken) return;
    q->taken = 0;
    if (!q->depth) return;
    pthread_mutex_lock(&q->mu);
    q->head = (q->head + 1) % q->nslots;
    q->count--;
    pthread_cond_signal(&q->freed);
    pthread_mutex_unlock(&q->mu);
}

void cliff_prefetch_reset(CliffPrefetch *q)
{
    if (q->depth && q->running) {
        pthread_mutex_lock(&q->mu);
        q->stop = 1;
        pthread_cond_broadcast(&q->freed);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->thread, NULL);
        q->running = 0;
    }
    q->head = q->count = q->taken = 0;
}

void cliff_prefetch_free(CliffPrefetch *q)
{
    if (!q->nslots) return; /* never initialized, or freed */
    cliff_prefetch_reset(q);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->filled);
    pthread_cond_destroy(&q->freed);
    for (int i = 0; q->slots && i < q->nslots; i++) {
        free(q->slots[i].data);
        free(q->slots[i].label);
    }
    free(q->slots);
    q->slots = NULL;
    q->nslots = 0;
}

size_t cliff_prefetch_bytes(const CliffPrefetch *q)
{
    return (size_t)q->nslots * (q->data_count + q->label_count) * sizeof(float);
}

void cliff_prefetch_stats(CliffPrefetch *q, CliffPrefetchStats *out)
{
    memset(out, 0, sizeof *out);
    if (!q->nslots) return; /* never initialized */
    pthread_mutex_lock(&q->mu);
    *out = q->stats;
    pthread_mutex_unlock(&q->mu);
    out->bytes = cliff_prefetch_bytes(q);
}
