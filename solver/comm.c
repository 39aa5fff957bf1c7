/* The communicator's dispatch and its single-process implementation (rank 0
 * of 1: sums and broadcasts are the identity). */
#include <limits.h>
#include <stdlib.h>

#include "layers/kernels/clock.h"
#include "comm.h"

static int single_sum_floats(CliffComm *c, float *x, size_t n, CliffError *err)
{
    (void)c, (void)x, (void)n, (void)err;
    return 0;
}

static int single_sum_doubles(CliffComm *c, double *x, int n, CliffError *err)
{
    (void)c, (void)x, (void)n, (void)err;
    return 0;
}

static int single_minmax(CliffComm *c, uint64_t *min, uint64_t *max, CliffError *err)
{
    (void)c, (void)min, (void)max, (void)err;
    return 0;
}

static int single_bcast(CliffComm *c, void *buf, size_t bytes, int root, CliffError *err)
{
    (void)c, (void)buf, (void)bytes;
    if (root != 0) return cliff_error_set(err, "broadcast from rank %d of a single process", root);
    return 0;
}

static int single_barrier(CliffComm *c, CliffError *err)
{
    (void)c, (void)err;
    return 0;
}

static void single_finalize(CliffComm *c) { (void)c; }

static const CliffCommOps single_ops = {
    "single",     single_sum_floats, single_sum_doubles, single_minmax,
    single_bcast, single_barrier,    single_finalize,
};

void cliff_comm_single(CliffComm *c)
{
    c->ops = &single_ops;
    c->rank = 0;
    c->size = 1;
    c->sum_seconds = 0;
    c->sum_calls = 0;
}

int cliff_comm_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

int cliff_comm_init(CliffComm *c, int *argc, char ***argv, CliffError *err)
{
    cliff_comm_single(c);
    if (!cliff_comm_launched()) return 0;
    return cliff_comm_mpi_init(c, argc, argv, err);
}

void cliff_comm_finalize(CliffComm *c)
{
    if (c->ops) c->ops->finalize(c);
    cliff_comm_single(c);
}

int cliff_comm_sum_floats(CliffComm *c, float *x, size_t n, CliffError *err)
{
    if (c->size == 1) return 0;
    double t0 = cliff_clock_seconds();
    for (size_t off = 0; off < n; off += INT_MAX) {
        size_t k = n - off < INT_MAX ? n - off : INT_MAX;
        if (c->ops->sum_floats(c, x + off, k, err)) return -1;
    }
    c->sum_seconds += cliff_clock_seconds() - t0;
    c->sum_calls++;
    return 0;
}

int cliff_comm_sum_doubles(CliffComm *c, double *x, int n, CliffError *err)
{
    return c->ops->sum_doubles(c, x, n, err);
}

int cliff_comm_agree(CliffComm *c, uint64_t v, int *same, CliffError *err)
{
    uint64_t lo = v, hi = v;
    if (c->ops->minmax_u64(c, &lo, &hi, err)) return -1;
    *same = lo == hi;
    return 0;
}

int cliff_comm_bcast(CliffComm *c, void *buf, size_t bytes, int root, CliffError *err)
{
    return c->ops->bcast(c, buf, bytes, root, err);
}

int cliff_comm_barrier(CliffComm *c, CliffError *err) { return c->ops->barrier(c, err); }
