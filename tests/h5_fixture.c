/* HDF5 fixture files for the tests; see h5_fixture.h. */
#include "h5_fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

/* Records the first failure of w: fails the running test naming the call,
 * the object and the file. Returns -1. */
static int fixture_failed(H5Fx *w, const char *call, const char *name)
{
    if (!w->failed) CHECK_FAILF("fixture %s: %s failed for '%s'", w->path, call, name);
    w->failed = 1;
    return -1;
}

void h5fx_create(H5Fx *w, const char *path)
{
    memset(w, 0, sizeof *w);
    w->file = H5I_INVALID_HID;
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", path);
    if (strlen(path) >= sizeof w->path) {
        fixture_failed(w, "path length", path);
        return;
    }
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->file < 0) fixture_failed(w, "H5Fcreate", w->tmp);
}

hid_t h5fx_group(H5Fx *w, hid_t loc, const char *name)
{
    if (w->failed) return H5I_INVALID_HID;
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) fixture_failed(w, "H5Gcreate2", name);
    return g;
}

void h5fx_end_group(H5Fx *w, hid_t group)
{
    if (group >= 0 && H5Gclose(group) < 0) fixture_failed(w, "H5Gclose", "group");
}

/* Creates dataset name of type and space in loc, writes data as mem_type,
 * closes it. */
static void write_dataset(H5Fx *w, hid_t loc, const char *name, hid_t type, hid_t space,
                          hid_t mem_type, const void *data)
{
    hid_t ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0) {
        fixture_failed(w, "H5Dcreate2", name);
        return;
    }
    if (H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        fixture_failed(w, "H5Dwrite", name);
    if (H5Dclose(ds) < 0) fixture_failed(w, "H5Dclose", name);
}

void h5fx_write(H5Fx *w, hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                const hsize_t *dims, const void *data)
{
    if (w->failed) return;
    hid_t space = H5Screate_simple(rank, dims, NULL);
    if (space < 0) {
        fixture_failed(w, "H5Screate_simple", name);
        return;
    }
    write_dataset(w, loc, name, file_type, space, mem_type, data);
    if (H5Sclose(space) < 0) fixture_failed(w, "H5Sclose", name);
}

void h5fx_string(H5Fx *w, hid_t loc, const char *name, const char *s)
{
    if (w->failed) return;
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0 || H5Tset_size(type, strlen(s) + 1) < 0) {
        if (type >= 0) H5Tclose(type);
        fixture_failed(w, "H5Tcopy/H5Tset_size", name);
        return;
    }
    hid_t space = H5Screate(H5S_SCALAR);
    if (space < 0)
        fixture_failed(w, "H5Screate", name);
    else {
        write_dataset(w, loc, name, type, space, type, s);
        if (H5Sclose(space) < 0) fixture_failed(w, "H5Sclose", name);
    }
    if (H5Tclose(type) < 0) fixture_failed(w, "H5Tclose", name);
}

int h5fx_close(H5Fx *w)
{
    if (w->file >= 0 && H5Fclose(w->file) < 0) fixture_failed(w, "H5Fclose", w->tmp);
    w->file = H5I_INVALID_HID;
    if (!w->failed && rename(w->tmp, w->path) != 0) fixture_failed(w, "rename", w->tmp);
    if (w->failed) remove(w->tmp);
    return w->failed ? -1 : 0;
}

int h5fx_text(const char *path, const char *fmt, ...)
{
    H5Fx w = {.file = H5I_INVALID_HID};
    snprintf(w.path, sizeof w.path, "%s", path);
    snprintf(w.tmp, sizeof w.tmp, "%s.tmp", path);
    FILE *f = fopen(w.tmp, "w");
    if (!f) return fixture_failed(&w, "fopen", w.tmp);
    va_list ap;
    va_start(ap, fmt);
    int wrote = vfprintf(f, fmt, ap);
    va_end(ap);
    if (wrote < 0) fixture_failed(&w, "vfprintf", w.tmp);
    if (fclose(f) != 0) fixture_failed(&w, "fclose", w.tmp);
    if (!w.failed && rename(w.tmp, w.path) != 0) fixture_failed(&w, "rename", w.tmp);
    if (w.failed) remove(w.tmp);
    return w.failed ? -1 : 0;
}
