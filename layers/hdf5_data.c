/* HDF5Data: mini-batches from HDF5 files, Caffe's layout.
 *
 * hdf5_data_param.source is a text file listing .h5 paths, one per line
 * (source_list.h: any length; each must name a regular file, checked before
 * HDF5 opens it). Each top reads the dataset named like the top (e.g. "data",
 * "label"); dataset dimension 0 is the row (example) index, the rest is the
 * example shape, so a top is batch_size x dims[1..]. float32, float64 and
 * integer datasets are converted to float by HDF5. All files are loaded at
 * setup, rows concatenated in list order; forward copies the next batch_size
 * rows (wrapping around at the end of an epoch). With shuffle, rows are visited in a random permutation
 * drawn from the run's RNG, redrawn every epoch (Caffe permutes files and rows
 * within a file; cliff permutes all rows).
 *
 * Sequences: datasets of S steps x N streams x ... read with batch_size T give
 * time-major T x N x ... batches in which stream n continues from one batch to
 * the next (README "Sequence data"; the wrap to row 0 falls inside a batch
 * unless T divides the rows).
 *
 * Resumable state: cursor, epoch, and the permutation when shuffling.
 * Data-parallel runs: skip passes over a batch as forward would. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5_read.h"
#include "layer.h"
#include "layers/kernels/fork_join.h"
#include "source_list.h"

#define HDF5_MAX_TOPS 8

typedef struct Hdf5Data {
    int ntops;
    float *rows[HDF5_MAX_TOPS];     /* per top: nrows x row_size */
    size_t row_size[HDF5_MAX_TOPS]; /* floats per row, per top */
    int row_axes[HDF5_MAX_TOPS], row_dims[HDF5_MAX_TOPS][CLIFF_MAX_AXES];
    size_t nrows;
    size_t cursor;  /* next row (position in order) */
    int64_t epoch;
    size_t *order;  /* permutation when shuffling, else NULL */
    int batch;
    size_t *batch_rows; /* the rows of the batch being copied (batch of them) */
} Hdf5Data;

/* Bytes of rows a chunk of the batch copy takes (fork_join.h): LeNet's batch,
 * 64 rows of 3,140 bytes, goes out in 4 chunks; a small batch stays one. */
#define COPY_CHUNK_BYTES (64 * 1024)

static void shuffle_order(Hdf5Data *d, CliffRng *rng)
{
    for (size_t i = 0; i < d->nrows; i++) d->order[i] = i;
    for (size_t i = d->nrows; i > 1; i--) {
        size_t j = (size_t)cliff_rng_below(rng, i);
        size_t tmp = d->order[i - 1];
        d->order[i - 1] = d->order[j];
        d->order[j] = tmp;
    }
}

/* Shape of dataset `name` in file: rows and per-row dims, each per-row dim
 * within int (tensor dims). Reads go through layers/h5_read.h. */
static int dataset_shape(hid_t file, const char *path, const char *name, hsize_t *dims, int *rank,
                         CliffError *err)
{
    CliffH5Shape sh;
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
        return cliff_error_set(err, "file '%s' has no dataset '%s'", path, name);
    if (cliff_h5_shape(file, name, CLIFF_H5_NUMERIC, 1, CLIFF_MAX_AXES, sizeof(float), &sh, err))
        return cliff_error_prefix(err, "file '%s': ", path);
    for (int a = 1; a < sh.rank; a++)
        if (sh.dims[a] == 0 || sh.dims[a] > INT32_MAX)
            return cliff_error_set(err, "file '%s': dataset '%s' axis %d has size %llu (must be "
                                   "1 to 2^31-1)", path, name, a, (unsigned long long)sh.dims[a]);
    *rank = sh.rank;
    memcpy(dims, sh.dims, (size_t)sh.rank * sizeof *dims);
    return 0;
}

static int load_all(Hdf5Data *d, const Cliff__LayerParameter *lp, char **paths, int npaths,
                    CliffError *err)
{
    /* First pass: shapes and row counts; second: read. */
    size_t *file_rows = calloc((size_t)npaths, sizeof *file_rows);
    if (!file_rows) return cliff_error_set(err, "out of memory");
    int rc = -1;
    for (int pass = 0; pass < 2; pass++) {
        size_t row0 = 0;
        for (int f = 0; f < npaths; f++) {
            hid_t file = H5Fopen(paths[f], H5F_ACC_RDONLY, H5P_DEFAULT);
            if (file < 0) {
                cliff_error_set(err, "cannot open HDF5 file '%s' (missing or not HDF5)", paths[f]);
                goto out;
            }
            for (int t = 0; t < d->ntops; t++) {
                const char *name = lp->top[t];
                hsize_t dims[CLIFF_MAX_AXES];
                int rank = 0;
                if (dataset_shape(file, paths[f], name, dims, &rank, err)) {
                    H5Fclose(file);
                    goto out;
                }
                if (pass == 0) {
                    if (t == 0) file_rows[f] = dims[0];
                    if (dims[0] != file_rows[f]) {
                        cliff_error_set(err, "file '%s': dataset '%s' has %llu rows but '%s' has "
                                        "%zu", paths[f], name, (unsigned long long)dims[0],
                                        lp->top[0], file_rows[f]);
                        H5Fclose(file);
                        goto out;
                    }
                    if (f == 0) {
                        d->row_axes[t] = rank - 1;
                        d->row_size[t] = 1;
                        for (int a = 1; a < rank; a++) {
                            d->row_dims[t][a - 1] = (int)dims[a];
                            /* dataset_shape checked the whole product */
                            d->row_size[t] *= (size_t)dims[a];
                        }
                    } else {
                        int same = rank - 1 == d->row_axes[t];
                        for (int a = 1; same && a < rank; a++)
                            same = (int)dims[a] == d->row_dims[t][a - 1];
                        if (!same) {
                            cliff_error_set(err, "file '%s': dataset '%s' rows have a different "
                                            "shape than in '%s'", paths[f], name, paths[0]);
                            H5Fclose(file);
                            goto out;
                        }
                    }
                } else if (file_rows[f]) {
                    /* in bounds: row0 + file_rows[f] <= nrows, sized in pass 0 */
                    if (cliff_h5_read_exact(file, name, H5T_NATIVE_FLOAT, 1, CLIFF_MAX_AXES,
                                            d->rows[t] + row0 * d->row_size[t],
                                            file_rows[f] * d->row_size[t], err)) {
                        cliff_error_prefix(err, "file '%s': ", paths[f]);
                        H5Fclose(file);
                        goto out;
                    }
                }
            }
            H5Fclose(file);
            if (row0 + file_rows[f] < row0) {
                cliff_error_set(err, "the files of '%s' hold more rows than memory can address",
                                lp->hdf5_data_param->source);
                goto out;
            }
            row0 += file_rows[f];
        }
        if (pass == 0) {
            d->nrows = row0;
            if (d->nrows == 0) {
                cliff_error_set(err, "the files of '%s' hold no rows", lp->hdf5_data_param->source);
                goto out;
            }
            for (int t = 0; t < d->ntops; t++) {
                size_t count, bytes;
                if (cliff_size_mul(d->nrows, d->row_size[t], &count) ||
                    cliff_size_mul(count, sizeof(float), &bytes) || bytes == SIZE_MAX) {
                    cliff_error_set(err, "top '%s': %zu rows of %zu values do not fit in memory",
                                    lp->top[t], d->nrows, d->row_size[t]);
                    goto out;
                }
                d->rows[t] = malloc(bytes + 1);
                if (!d->rows[t]) {
                    cliff_error_set(err, "out of memory loading %zu rows", d->nrows);
                    goto out;
                }
                /* Touched here first, at setup: on the benchmark VM every
                 * page costs ~7 us of user time at its first touch from user
                 * space, and HDF5's read() fills the pages without paying it,
                 * so the first epoch's copies paid it (LeNet's batch, 50 new
                 * pages: 0.3-0.4 ms of a 0.01 ms copy). The cost moves, it is
                 * not saved: 188 MB took 0.92-0.97 s of CPU both ways; the
                 * iterations then cost what they cost after epoch 1. */
                memset(d->rows[t], 0, bytes);
            }
        }
    }
    rc = 0;
out:
    free(file_rows);
    return rc;
}

static void hdf5_destroy(CliffLayer *l)
{
    Hdf5Data *d = l->priv;
    if (!d) return;
    for (int t = 0; t < HDF5_MAX_TOPS; t++) free(d->rows[t]);
    free(d->order);
    free(d->batch_rows);
    free(d);
    l->priv = NULL;
}

static int hdf5_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)bottom;
    (void)nb;
    const Cliff__HDF5DataParameter *p = l->param->hdf5_data_param;
    if (!p || !p->source || !p->source[0])
        return cliff_error_set(err, "hdf5_data_param.source is required");
    if (l->param->transform_param)
        return cliff_error_set(err, "HDF5Data does not transform data: remove transform_param "
                                    "and store the data already scaled (as Caffe requires)");
    if (!p->has_batch_size || p->batch_size == 0)
        return cliff_error_set(err, "hdf5_data_param.batch_size must be > 0");
    if (nt > HDF5_MAX_TOPS) return cliff_error_set(err, "at most %d tops", HDF5_MAX_TOPS);
    if (p->batch_size > (1u << 30)) return cliff_error_set(err, "batch_size too large");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are ours to report */
    Hdf5Data *d = calloc(1, sizeof *d);
    if (!d) return cliff_error_set(err, "out of memory");
    l->priv = d;
    d->ntops = nt;
    d->batch = (int)p->batch_size;
    d->batch_rows = malloc((size_t)d->batch * sizeof *d->batch_rows);
    if (!d->batch_rows)
        return cliff_error_set(err, "out of memory for a batch of %d rows", d->batch);
    CliffSourceList list;
    if (cliff_source_list_read("hdf5_data_param.source", "HDF5", p->source, &list, err))
        return -1;
    int rc = load_all(d, l->param, list.paths, list.n, err);
    cliff_source_list_free(&list);
    if (rc) return cliff_error_mark(err, CLIFF_ERR_DATA);
    if (p->shuffle) {
        d->order = malloc(d->nrows * sizeof *d->order);
        if (!d->order) return cliff_error_set(err, "out of memory");
        shuffle_order(d, l->rng);
    }
    for (int t = 0; t < nt; t++) {
        int dims[CLIFF_MAX_AXES + 1];
        dims[0] = d->batch;
        for (int a = 0; a < d->row_axes[t]; a++) dims[a + 1] = d->row_dims[t][a];
        if (cliff_tensor_reshape(top[t], d->row_axes[t] + 1, dims, err)) return -1;
    }
    return 0;
}

/* The next row to read, wrapping (and reshuffling) at the end of an epoch. */
static size_t next_row(Hdf5Data *d, CliffRng *rng)
{
    if (d->cursor == d->nrows) {
        d->cursor = 0;
        d->epoch++;
        if (d->order) shuffle_order(d, rng);
    }
    size_t row = d->order ? d->order[d->cursor] : d->cursor;
    d->cursor++;
    return row;
}

typedef struct CopyJob {
    const Hdf5Data *d;
    CliffTensor *const *top;
    int nt;
    int per; /* rows a chunk */
} CopyJob;

/* Batch rows [chunk*per, +per) of every top. */
static void copy_chunk(void *arg, int chunk, int thread)
{
    (void)thread;
    const CopyJob *j = arg;
    const Hdf5Data *d = j->d;
    const int b0 = chunk * j->per, b1 = b0 + j->per < d->batch ? b0 + j->per : d->batch;
    for (int b = b0; b < b1; b++)
        for (int t = 0; t < j->nt; t++)
            memcpy(j->top[t]->data + (size_t)b * d->row_size[t],
                   d->rows[t] + d->batch_rows[b] * d->row_size[t], d->row_size[t] * sizeof(float));
}

static void hdf5_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt)
{
    (void)bottom;
    (void)nb;
    Hdf5Data *d = l->priv;
    /* the rows first, in order (a reshuffle draws from the RNG), then the copy
     * in chunks of rows over the fork-join: a copy, the same bits on any
     * thread count */
    for (int b = 0; b < d->batch; b++) d->batch_rows[b] = next_row(d, l->rng);
    size_t row_bytes = 0;
    for (int t = 0; t < nt; t++) row_bytes += d->row_size[t] * sizeof(float);
    const size_t fit = row_bytes ? COPY_CHUNK_BYTES / row_bytes : 0;
    CopyJob j = {d, top, nt, fit < 1 ? 1 : fit < (size_t)d->batch ? (int)fit : d->batch};
    cliff_fj_for((d->batch + j.per - 1) / j.per, copy_chunk, &j);
}

/* One batch of rows passed over (another rank reads it). */
static void hdf5_skip(CliffLayer *l)
{
    Hdf5Data *d = l->priv;
    for (int b = 0; b < d->batch; b++) (void)next_row(d, l->rng);
}

/* State words: cursor, epoch, nrows, shuffled?, then the permutation. */
static size_t hdf5_state_size(const CliffLayer *l)
{
    const Hdf5Data *d = l->priv;
    return 4 + (d->order ? d->nrows : 0);
}

static void hdf5_state_save(const CliffLayer *l, int64_t *out)
{
    const Hdf5Data *d = l->priv;
    out[0] = (int64_t)d->cursor;
    out[1] = d->epoch;
    out[2] = (int64_t)d->nrows;
    out[3] = d->order != NULL;
    if (d->order)
        for (size_t i = 0; i < d->nrows; i++) out[4 + i] = (int64_t)d->order[i];
}

static int hdf5_state_load(CliffLayer *l, const int64_t *in, size_t n, CliffError *err)
{
    Hdf5Data *d = l->priv;
    if (n < 4 || in[2] != (int64_t)d->nrows || in[3] != (d->order != NULL) ||
        n != 4 + (d->order ? d->nrows : 0) || in[0] < 0 || in[0] > (int64_t)d->nrows)
        return cliff_error_set(err, "the saved data state (%lld rows, %s, cursor %lld, %zu "
                               "words) does not match this data set (%zu rows, %s): the "
                               "source files or hdf5_data_param.shuffle changed",
                               n >= 4 ? (long long)in[2] : -1LL,
                               n >= 4 ? (in[3] ? "shuffled" : "in order") : "?",
                               n >= 4 ? (long long)in[0] : -1LL, n, d->nrows,
                               d->order ? "shuffled" : "in order");
    if (d->order)
        for (size_t i = 0; i < d->nrows; i++) {
            if (in[4 + i] < 0 || in[4 + i] >= (int64_t)d->nrows)
                return cliff_error_set(err, "saved shuffle order is corrupt");
            d->order[i] = (size_t)in[4 + i];
        }
    d->cursor = (size_t)in[0];
    d->epoch = in[1];
    return 0;
}

const CliffLayerOps cliff_ops_HDF5Data = {
    .type = "HDF5Data",
    .min_bottoms = 0, .max_bottoms = 0,
    .min_tops = 1, .max_tops = HDF5_MAX_TOPS,
    .setup = hdf5_setup,
    .forward = hdf5_forward,
    .skip = hdf5_skip,
    .destroy = hdf5_destroy,
    .state_size = hdf5_state_size,
    .state_save = hdf5_state_save,
    .state_load = hdf5_state_load,
};
