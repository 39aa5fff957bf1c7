/* The processes of one training run: data parallelism over MPI.
 *
 * A run is `size` processes (ranks) that each hold the whole net. Each rank
 * reads its own share of the data (layers/net: rank r takes batch r of every
 * `size` consecutive batches), and after backward the solver sums the
 * gradient slab over the ranks in place and divides it by `size` (dist.c), so
 * every rank updates the same weights with the same reduced gradient.
 *
 * Two implementations behind one table: single (rank 0 of 1: every collective
 * is the identity, no MPI call is made) and MPI (comm_mpi.c, OpenMPI). The
 * binary always links libmpi, but MPI is started only when a launcher
 * (mpirun / mpiexec) started the process; `train SOLVER` alone never
 * initializes MPI and behaves as before.
 *
 * Reduction order: the float sum of element e over ranks is done by OpenMPI's
 * allreduce algorithm (recursive doubling for small slabs, ring or
 * Rabenseifner for large ones: its choice, by size and rank count). Its order
 * differs from one process reading N x b rows, whose gradient is a sum in
 * batch order, so N ranks at batch b match one rank at batch N x b only
 * within float tolerance. Among the ranks the result is the same bits: each
 * element's sum is computed once and copied, or combined pairwise with a
 * commutative float add; cliff checks it (cliff_comm_agree on a hash of the
 * weights at every snapshot) instead of trusting it.
 *
 * Errors: calls return 0 or -1 with err filled (MPI errors return, they do not
 * abort). Nothing here ends a process: a tool that must end every rank of a
 * run (tools/train.c: MPI_Abort) does it itself. */
#ifndef CLIFF_COMM_H
#define CLIFF_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "proto/error.h"

typedef struct CliffComm CliffComm;

typedef struct CliffCommOps {
    const char *name; /* "single", "mpi" */
    int (*sum_floats)(CliffComm *c, float *x, size_t n, CliffError *err);
    int (*sum_doubles)(CliffComm *c, double *x, int n, CliffError *err);
    int (*minmax_u64)(CliffComm *c, uint64_t *min, uint64_t *max, CliffError *err);
    int (*bcast)(CliffComm *c, void *buf, size_t bytes, int root, CliffError *err);
    int (*barrier)(CliffComm *c, CliffError *err);
    void (*finalize)(CliffComm *c);
} CliffCommOps;

struct CliffComm {
    const CliffCommOps *ops;
    int rank, size;
    /* Time spent in sum_floats (the gradient allreduce) and its calls. */
    double sum_seconds;
    long long sum_calls;
};

/* Rank 0 of 1, no MPI. */
void cliff_comm_single(CliffComm *c);
/* 1 when a launcher started this process (OpenMPI's OMPI_COMM_WORLD_SIZE,
 * PMIx's PMIX_RANK or PMI's PMI_RANK in the environment). */
int cliff_comm_launched(void);
/* MPI when launched, else single. MPI errors return to the caller. */
int cliff_comm_init(CliffComm *c, int *argc, char ***argv, CliffError *err);
void cliff_comm_finalize(CliffComm *c);

/* x[0..n) = sum over ranks of x[0..n), in place (any n: split into calls of
 * at most INT_MAX elements). Timed into sum_seconds. */
int cliff_comm_sum_floats(CliffComm *c, float *x, size_t n, CliffError *err);
/* x[0..n) = sum over ranks, in double. */
int cliff_comm_sum_doubles(CliffComm *c, double *x, int n, CliffError *err);
/* *same = 1 when v is the same on every rank. */
int cliff_comm_agree(CliffComm *c, uint64_t v, int *same, CliffError *err);
/* Root's bytes to every rank. */
int cliff_comm_bcast(CliffComm *c, void *buf, size_t bytes, int root, CliffError *err);
int cliff_comm_barrier(CliffComm *c, CliffError *err);
/* The MPI implementation (comm_mpi.c): starts MPI and fills c. */
int cliff_comm_mpi_init(CliffComm *c, int *argc, char ***argv, CliffError *err);

#endif
