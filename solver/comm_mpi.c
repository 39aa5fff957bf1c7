/* The communicator over MPI (OpenMPI): MPI_COMM_WORLD, errors returned
 * (MPI_ERRORS_RETURN) and turned into CliffError messages. */
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>

#include "comm.h"

static int mpi_failed(int rc, const char *what, CliffError *err)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
    msg[len] = 0;
    return cliff_error_set(err, "MPI %s failed: %s", what, len ? msg : "(no message)");
}

static int mpi_sum_floats(CliffComm *c, float *x, size_t n, CliffError *err)
{
    (void)c;
    int rc = MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "allreduce of the gradient", err);
}

static int mpi_sum_doubles(CliffComm *c, double *x, int n, CliffError *err)
{
    (void)c;
    int rc = MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "allreduce of the loss", err);
}

static int mpi_minmax(CliffComm *c, uint64_t *min, uint64_t *max, CliffError *err)
{
    (void)c;
    int rc = MPI_Allreduce(MPI_IN_PLACE, min, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    if (rc == MPI_SUCCESS)
        rc = MPI_Allreduce(MPI_IN_PLACE, max, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "allreduce (min/max)", err);
}

static int mpi_bcast(CliffComm *c, void *buf, size_t bytes, int root, CliffError *err)
{
    (void)c;
    for (size_t off = 0; off < bytes; off += INT_MAX) {
        size_t k = bytes - off < INT_MAX ? bytes - off : INT_MAX;
        int rc = MPI_Bcast((char *)buf + off, (int)k, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_failed(rc, "broadcast", err);
    }
    return 0;
}

static int mpi_barrier(CliffComm *c, CliffError *err)
{
    (void)c;
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_failed(rc, "barrier", err);
}

static void mpi_finalize(CliffComm *c)
{
    (void)c;
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
}

static const CliffCommOps mpi_ops = {
    "mpi",     mpi_sum_floats, mpi_sum_doubles, mpi_minmax,
    mpi_bcast, mpi_barrier,    mpi_finalize,
};

int cliff_comm_mpi_init(CliffComm *c, int *argc, char ***argv, CliffError *err)
{
    int rc = MPI_Init(argc, argv);
    if (rc != MPI_SUCCESS) return mpi_failed(rc, "initialization", err);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    c->ops = &mpi_ops;
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    return 0;
}
