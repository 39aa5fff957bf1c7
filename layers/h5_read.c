/* Checked HDF5 dataset reads (see h5_read.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h5_read.h"

void cliff_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

int cliff_size_mul(size_t a, size_t b, size_t *out)
{
    if (a && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

int cliff_h5_path_exists(hid_t loc, const char *name)
{
    char *buf = strdup(name);
    if (!buf) return 0;
    int ok = 1;
    for (char *s = buf; *s && ok; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (buf[0] && H5Lexists(loc, buf, H5P_DEFAULT) <= 0) ok = 0;
        *s = '/';
    }
    ok = ok && H5Lexists(loc, buf, H5P_DEFAULT) > 0;
    free(buf);
    return ok;
}

/* Opens name as a dataset; -1 with err when absent or something else. */
static hid_t open_dataset(hid_t loc, const char *name, CliffError *err)
{
    if (!cliff_h5_path_exists(loc, name)) {
        cliff_error_set(err, "dataset '%s' is missing", name);
        return -1;
    }
    hid_t obj = H5Oopen(loc, name, H5P_DEFAULT);
    if (obj < 0) {
        cliff_error_set(err, "cannot open '%s'", name);
        return -1;
    }
    if (H5Iget_type(obj) != H5I_DATASET) {
        H5Oclose(obj);
        cliff_error_set(err, "'%s' is not a dataset", name);
        return -1;
    }
    return obj; /* a dataset id, closed with H5Dclose */
}

/* The checks of cliff_h5_shape on an open dataset. */
static int shape_of(hid_t ds, const char *name, CliffH5Kind kind, int min_rank, int max_rank,
                    size_t elem_size, CliffH5Shape *shape, CliffError *err)
{
    hid_t type = H5Dget_type(ds), space = H5Dget_space(ds);
    int rc = -1;
    if (type < 0 || space < 0) {
        cliff_error_set(err, "dataset '%s': unreadable type or extent", name);
        goto out;
    }
    H5T_class_t cls = H5Tget_class(type);
    int want = kind == CLIFF_H5_STRING ? cls == H5T_STRING : cls == H5T_INTEGER || cls == H5T_FLOAT;
    if (!want) {
        cliff_error_set(err, "dataset '%s' is not %s", name,
                        kind == CLIFF_H5_STRING ? "a string" : "numeric");
        goto out;
    }
    H5S_class_t sc = H5Sget_simple_extent_type(space);
    int rank = sc == H5S_SCALAR ? 0 : H5Sget_simple_extent_ndims(space);
    if (sc == H5S_NULL || rank < 0 || rank < min_rank || rank > max_rank ||
        rank > CLIFF_MAX_AXES) {
        cliff_error_set(err, "dataset '%s' has %s %d (expected %d to %d axes)", name,
                        sc == H5S_NULL ? "no extent, rank" : "rank", rank, min_rank, max_rank);
        goto out;
    }
    shape->rank = rank;
    if (rank && H5Sget_simple_extent_dims(space, shape->dims, NULL) < 0) {
        cliff_error_set(err, "dataset '%s': unreadable extent", name);
        goto out;
    }
    size_t count = 1, bytes;
    for (int a = 0; a < rank; a++)
        if (shape->dims[a] > SIZE_MAX || cliff_size_mul(count, (size_t)shape->dims[a], &count)) {
            cliff_error_set(err, "dataset '%s' declares more elements than memory can address",
                            name);
            goto out;
        }
    if (cliff_size_mul(count, elem_size ? elem_size : 1, &bytes) || bytes > SIZE_MAX / 2) {
        cliff_error_set(err, "dataset '%s' declares %zu elements: too large to read", name,
                        count);
        goto out;
    }
    /* Values the file cannot hold: no HDF5 filter packs more than about 1032
     * bytes into one (deflate's limit), so a dataset declaring more than 1100x
     * its file's size (+1 MiB), stored or as read, asks the reader to invent
     * data (memory exhausted by a file of a few KB). */
    hsize_t fsize = 0;
    hid_t file = H5Iget_file_id(ds);
    size_t stored;
    if (file >= 0) {
        H5Fget_filesize(file, &fsize);
        H5Fclose(file);
    }
    if (kind == CLIFF_H5_NUMERIC && fsize &&
        (cliff_size_mul(count, H5Tget_size(type) > elem_size ? H5Tget_size(type) : elem_size,
                        &stored) ||
         stored / 1100 > (size_t)fsize + (1u << 20))) {
        cliff_error_set(err, "dataset '%s' declares %zu values, more than a file of %llu bytes "
                        "can hold: too large to read", name, count, (unsigned long long)fsize);
        goto out;
    }
    shape->count = count;
    rc = 0;
out:
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    return rc;
}

int cliff_h5_shape(hid_t loc, const char *name, CliffH5Kind kind, int min_rank, int max_rank,
                   size_t elem_size, CliffH5Shape *shape, CliffError *err)
{
    hid_t ds = open_dataset(loc, name, err);
    if (ds < 0) return -1;
    int rc = shape_of(ds, name, kind, min_rank, max_rank, elem_size, shape, err);
    H5Dclose(ds);
    return rc;
}

/* Reads all of an open dataset whose shape was checked to hold `count`. */
static int read_all(hid_t ds, const char *name, hid_t mem_type, void *out, size_t count,
                    CliffError *err)
{
    if (count == 0) return 0;
    if (H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        return cliff_error_set(err, "cannot read dataset '%s' (truncated or corrupted file, "
                               "failed checksum, or values that do not convert)", name);
    return 0;
}

int cliff_h5_read_exact(hid_t loc, const char *name, hid_t mem_type, int min_rank,
                        int max_rank, void *out, size_t count, CliffError *err)
{
    hid_t ds = open_dataset(loc, name, err);
    if (ds < 0) return -1;
    CliffH5Shape sh;
    int rc = shape_of(ds, name, CLIFF_H5_NUMERIC, min_rank, max_rank, H5Tget_size(mem_type), &sh,
                      err);
    if (!rc && sh.count != count)
        rc = cliff_error_set(err, "dataset '%s' holds %zu values, expected %zu", name, sh.count,
                             count);
    if (!rc) rc = read_all(ds, name, mem_type, out, count, err);
    H5Dclose(ds);
    return rc;
}

int cliff_h5_read_alloc(hid_t loc, const char *name, hid_t mem_type, int max_rank,
                        size_t max_count, void **out, size_t *count, CliffError *err)
{
    *out = NULL;
    hid_t ds = open_dataset(loc, name, err);
    if (ds < 0) return -1;
    size_t esize = H5Tget_size(mem_type);
    CliffH5Shape sh;
    int rc = shape_of(ds, name, CLIFF_H5_NUMERIC, 0, max_rank, esize, &sh, err);
    if (!rc && sh.count > max_count)
        rc = cliff_error_set(err, "dataset '%s' holds %zu values, at most %zu expected", name,
                             sh.count, max_count);
    if (!rc) {
        /* shape_of checked count * esize; one spare element keeps malloc(0) away */
        *out = calloc(sh.count + 1, esize);
        if (!*out) rc = cliff_error_set(err, "out of memory reading dataset '%s'", name);
    }
    if (!rc) rc = read_all(ds, name, mem_type, *out, sh.count, err);
    if (rc) {
        free(*out);
        *out = NULL;
    } else {
        *count = sh.count;
    }
    H5Dclose(ds);
    return rc;
}

char *cliff_h5_read_string(hid_t loc, const char *name, size_t max_len, CliffError *err)
{
    hid_t ds = open_dataset(loc, name, err);
    if (ds < 0) return NULL;
    CliffH5Shape sh;
    char *out = NULL;
    hid_t ft = -1, mt = -1;
    if (shape_of(ds, name, CLIFF_H5_STRING, 0, 1, 1, &sh, err)) goto done;
    if (sh.count != 1) {
        cliff_error_set(err, "dataset '%s' holds %zu strings, expected one", name, sh.count);
        goto done;
    }
    ft = H5Dget_type(ds);
    mt = H5Tcopy(H5T_C_S1);
    if (ft < 0 || mt < 0) {
        cliff_error_set(err, "dataset '%s': unreadable string type", name);
        goto done;
    }
    if (H5Tis_variable_str(ft) > 0) {
        char *v = NULL;
        if (H5Tset_size(mt, H5T_VARIABLE) < 0 ||
            H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0 || !v) {
            cliff_error_set(err, "cannot read string dataset '%s'", name);
            goto done;
        }
        if (strlen(v) > max_len)
            cliff_error_set(err, "string dataset '%s' is longer than %zu bytes", name, max_len);
        else if (!(out = strdup(v)))
            cliff_error_set(err, "out of memory");
        H5free_memory(v);
    } else {
        size_t n = H5Tget_size(ft);
        if (n == 0 || n > max_len + 1) {
            cliff_error_set(err, "string dataset '%s' is %zu bytes, at most %zu expected", name,
                            n, max_len + 1);
            goto done;
        }
        /* Memory type one byte longer, NUL-terminated: one element of n + 1 bytes. */
        H5Tset_size(mt, n + 1);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        out = calloc(n + 2, 1);
        if (!out) {
            cliff_error_set(err, "out of memory");
        } else if (H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
            cliff_error_set(err, "cannot read string dataset '%s'", name);
            free(out);
            out = NULL;
        }
    }
done:
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    H5Dclose(ds);
    return out;
}
