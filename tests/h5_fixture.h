/* HDF5 fixture files for the tests, every HDF5 and stdio call checked.
 *
 * A writer remembers its first failure and ignores the calls after it, so a
 * fixture is a straight list of calls checked once, at the close:
 *     H5Fx w;
 *     h5fx_create(&w, "/tmp/x/a.h5");
 *     hsize_t dims[2] = {5, 3};
 *     h5fx_write(&w, w.file, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, rows);
 *     if (h5fx_close(&w)) return;   (the running test has failed, naming the call)
 * The file is written under a temporary name and renamed by a successful
 * close, so a reader never sees half a fixture. A failure fails the running
 * test (CHECK_FAILF): call these inside RUN. */
#ifndef CLIFF_H5_FIXTURE_H
#define CLIFF_H5_FIXTURE_H

#include <hdf5.h>

typedef struct H5Fx {
    hid_t file;     /* the root group: loc of top-level datasets and groups */
    char path[512]; /* the final name */
    char tmp[520];  /* written here until h5fx_close */
    int failed;
} H5Fx;

/* Creates (truncates) the file. */
void h5fx_create(H5Fx *w, const char *path);
/* A group `name` in loc; close it with h5fx_end_group. Negative after a failure. */
hid_t h5fx_group(H5Fx *w, hid_t loc, const char *name);
void h5fx_end_group(H5Fx *w, hid_t group);
/* Dataset `name` in loc of `rank` dims, stored as file_type, from data laid
 * out as mem_type (e.g. H5T_IEEE_F64LE from H5T_NATIVE_DOUBLE). */
void h5fx_write(H5Fx *w, hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                const hsize_t *dims, const void *data);
/* A scalar fixed-length null-terminated string, as Caffe writes learned_net. */
void h5fx_string(H5Fx *w, hid_t loc, const char *name, const char *s);
/* Closes and renames the file into place; 0 when every call succeeded, else
 * -1 (the test has failed) and no file at path. */
int h5fx_close(H5Fx *w);

/* Writes a text file (an HDF5Data source list) the same way; 0 on success,
 * else -1 and the running test has failed. */
int h5fx_text(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
