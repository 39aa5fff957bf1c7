/* Checked reads of HDF5 datasets from files cliff did not necessarily write
 * (HDF5Data inputs, weights and solver states from Caffe, h5py or a hostile
 * hand). Every read goes through cliff_h5_shape first: the object must be a
 * dataset of the expected class, its rank within bounds, its element count
 * and byte size must fit size_t (no wrapped malloc), and a numeric dataset may
 * not declare more than 1100 times its file's size (+1 MiB: beyond any HDF5
 * filter's packing, so values the file does not hold); reads then copy
 * exactly the counted elements into a buffer the caller sized from that count.
 *
 * Errors name the dataset (as given); callers prefix the file. Nothing here
 * prints: HDF5's own error printing is silenced by cliff_h5_quiet(). */
#ifndef CLIFF_H5_READ_H
#define CLIFF_H5_READ_H

#include <hdf5.h>
#include <stddef.h>

#include "proto/error.h"
#include "layers/kernels/tensor.h"

/* What a dataset may hold. */
typedef enum {
    CLIFF_H5_NUMERIC, /* integer or floating point, converted by HDF5 on read */
    CLIFF_H5_STRING   /* fixed- or variable-length string */
} CliffH5Kind;

/* A dataset's extent: rank 0 for a scalar; count = product of dims. */
typedef struct CliffH5Shape {
    int rank;
    hsize_t dims[CLIFF_MAX_AXES];
    size_t count;
} CliffH5Shape;

void cliff_h5_quiet(void);

/* 1 when the link `name` (a path with '/') exists under loc. H5Lexists needs
 * every intermediate link to exist, so this checks prefix by prefix. */
int cliff_h5_path_exists(hid_t loc, const char *name);

/* Checks dataset `name` under loc: present, a dataset, of `kind`, rank in
 * [min_rank, max_rank] (max_rank <= CLIFF_MAX_AXES), and count * elem_size
 * representable in size_t. Fills shape. */
int cliff_h5_shape(hid_t loc, const char *name, CliffH5Kind kind, int min_rank, int max_rank,
                   size_t elem_size, CliffH5Shape *shape, CliffError *err);

/* Reads numeric dataset `name`, which must hold exactly `count` elements of
 * rank min_rank..max_rank, into out (count elements of mem_type). */
int cliff_h5_read_exact(hid_t loc, const char *name, hid_t mem_type, int min_rank,
                        int max_rank, void *out, size_t count, CliffError *err);

/* Reads a numeric dataset of rank 0..max_rank and at most max_count elements
 * into a fresh buffer (*out, free()d by the caller; one spare element). */
int cliff_h5_read_alloc(hid_t loc, const char *name, hid_t mem_type, int max_rank,
                        size_t max_count, void **out, size_t *count, CliffError *err);

/* Reads a string dataset holding exactly one string (scalar, or 1-D of one
 * element) of at most max_len bytes; returns a fresh NUL-terminated copy. */
char *cliff_h5_read_string(hid_t loc, const char *name, size_t max_len, CliffError *err);

/* a * b into *out; 0 on success, -1 when the product does not fit size_t. */
int cliff_size_mul(size_t a, size_t b, size_t *out);

#endif
