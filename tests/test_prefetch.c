/* The prefetch queue's own figures (layers/data/prefetch.h, cliff_prefetch_stats),
 * which `train --time` prints per data layer: with a fill that spends a known
 * minimum of CPU, the counts are exact and the times have lower bounds that
 * hold on any machine, loaded or not. */
#include <string.h>
#include <time.h>

#include "check.h"
#include "layers/data/prefetch.h"

#define SPIN_S 0.002 /* CPU seconds each fill spends at least */

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One batch: value k in every float of batch k; spins SPIN_S of CPU first. */
static int spin_fill(void *ctx, CliffPrefetchSlot *slot, CliffError *err)
{
    (void)err;
    int *next = ctx;
    double t0 = thread_cpu();
    while (thread_cpu() - t0 < SPIN_S) {
    }
    slot->data[0] = (float)(*next)++;
    return 0;
}

/* Takes n batches (each taken twice before release, as the Data layer does in
 * check_bottoms and forward), checks their order, returns the figures. */
static void take_n(int depth, int n, CliffPrefetchStats *st)
{
    CliffPrefetch q;
    CliffError err;
    int next = 0;
    memset(st, 0, sizeof *st);
    if (cliff_prefetch_init(&q, depth, 4, 1, spin_fill, &next, &err)) {
        CHECK_FAILF("init: %s", err.msg);
        return;
    }
    for (int i = 0; i < n; i++) {
        const CliffPrefetchSlot *s = cliff_prefetch_take(&q, &err);
        const CliffPrefetchSlot *again = cliff_prefetch_take(&q, &err);
        CHECK(s && s == again && s->data[0] == (float)i);
        cliff_prefetch_release(&q);
    }
    cliff_prefetch_stats(&q, st);
    CHECK(st->bytes == cliff_prefetch_bytes(&q));
    cliff_prefetch_free(&q);
}

/* depth 0: every batch is made inside the take, so the wait covers the fill. */
static void stats_without_thread(void)
{
    CliffPrefetchStats st;
    take_n(0, 5, &st);
    CHECK(st.depth == 0 && st.taken == 5 && st.made == 5);
    CHECK(st.bytes == 1 * (4 + 1) * sizeof(float));
    CHECK(st.fill_cpu_seconds >= 5 * SPIN_S);
    CHECK(st.fill_seconds >= st.fill_cpu_seconds * 0.99);
    CHECK(st.wait_seconds >= st.fill_seconds);
}

/* depth 3: the producer makes the batches (5 taken, up to 3 more queued). */
static void stats_with_thread(void)
{
    CliffPrefetchStats st;
    take_n(3, 5, &st);
    CHECK(st.depth == 3 && st.taken == 5 && st.made >= 5 && st.made <= 8);
    CHECK(st.bytes == 3 * (4 + 1) * sizeof(float));
    CHECK(st.fill_cpu_seconds >= (double)st.made * SPIN_S);
    CHECK(st.fill_seconds >= st.fill_cpu_seconds * 0.99);
    CHECK(st.wait_seconds >= 0);
}

int main(void)
{
    RUN(stats_without_thread);
    RUN(stats_with_thread);
    return test_main_end();
}
