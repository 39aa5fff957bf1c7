/* For the tests that compare one thread with two: wakes the fork-join's
 * helper so that the next job really is shared. A helper asleep on a busy
 * machine can take longer to get a core than a short job lasts, and the caller
 * then runs every chunk alone: the two runs would agree whatever the code.
 * fx_fj_wake runs a job of two chunks that each wait (up to a second) until
 * both have started; afterwards the helper polls for the next job for a while
 * (fork_join.c) and takes part in it. Returns 1 when the helper came. */
#ifndef CLIFF_FJ_FIXTURE_H
#define CLIFF_FJ_FIXTURE_H

#include <sched.h>

#include "layers/kernels/clock.h"
#include "layers/kernels/fork_join.h"

static void fx_fj_meet(void *arg, int chunk, int thread)
{
    (void)chunk, (void)thread;
    int *started = arg;
    __atomic_fetch_add(started, 1, __ATOMIC_SEQ_CST);
    const double t0 = cliff_clock_seconds();
    while (__atomic_load_n(started, __ATOMIC_SEQ_CST) < 2 && cliff_clock_seconds() - t0 < 1.0)
        sched_yield();
}

static inline int fx_fj_wake(void)
{
    int started = 0;
    const double t0 = cliff_clock_seconds();
    cliff_fj_for(2, fx_fj_meet, &started);
    return cliff_clock_seconds() - t0 < 1.0;
}

#endif
