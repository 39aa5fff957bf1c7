/* HDF5 snapshots in Caffe's layout (see snapshot.h): weights writer, the
 * HDF5 weights source, state writer and reader. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot.h"
#include "weights_src.h"

static void quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* ---- writing helpers ---- */

/* A dataset of `type` with the given dims (rank 0: scalar). */
static int write_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                         const void *data)
{
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    if (space < 0) return -1;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1); /* layer names may contain '/' */
    hid_t ds = H5Dcreate2(loc, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    H5Sclose(space);
    if (ds < 0) return -1;
    herr_t st = H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(ds);
    return st < 0 ? -1 : 0;
}

static int write_int1(hid_t loc, const char *name, int v)
{
    hsize_t one = 1;
    return write_dataset(loc, name, H5T_NATIVE_INT, 1, &one, &v);
}

static int write_i64(hid_t loc, const char *name, const int64_t *v, size_t n)
{
    hsize_t d = n;
    return write_dataset(loc, name, H5T_NATIVE_INT64, 1, &d, v);
}

static int write_f64(hid_t loc, const char *name, const double *v, size_t n)
{
    hsize_t d = n;
    return write_dataset(loc, name, H5T_NATIVE_DOUBLE, 1, &d, v);
}

/* Caffe's hdf5_save_string: scalar, fixed length strlen + 1, null-terminated. */
static int write_string(hid_t loc, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(s) + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    int rc = write_dataset(loc, name, t, 0, NULL, s);
    H5Tclose(t);
    return rc;
}

static hid_t make_group(hid_t loc, const char *name)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(loc, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return g;
}

static char *tmp_name(const char *path)
{
    size_t n = strlen(path) + 8;
    char *t = malloc(n);
    if (t) snprintf(t, n, "%s.tmp", path);
    return t;
}

/* Creates tmp, runs body, flushes, closes, commits. */
static int h5_atomic(const char *path, int (*body)(hid_t f, const void *arg), const void *arg,
                     CliffError *err)
{
    quiet();
    char *tmp = tmp_name(path);
    if (!tmp) return cliff_error_set(err, "out of memory");
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        cliff_error_set(err, "cannot create '%s' (does the folder exist and is it writable?)",
                        tmp);
        free(tmp);
        return -1;
    }
    int rc = body(f, arg);
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) rc = -1;
    if (H5Fclose(f) < 0) rc = -1;
    if (rc) {
        unlink(tmp);
        cliff_error_set(err, "cannot write '%s' (disk full?)", tmp);
        free(tmp);
        return -1;
    }
    rc = cliff_commit_file(tmp, path, err);
    free(tmp);
    return rc;
}

/* ---- weights ---- */

typedef struct WArgs {
    const CliffNet *net;
    int write_diff;
} WArgs;

static int owns(const CliffNet *net, int l, int p)
{
    for (int i = 0; i < net->nparams; i++)
        if (net->params[i].layer == l && net->params[i].index == p) return 1;
    return 0;
}

static int write_blobs(hid_t f, const CliffNet *net, const char *group, int diff)
{
    hid_t g = make_group(f, group);
    if (g < 0) return -1;
    int rc = 0;
    for (int l = 0; l < net->nlayers && !rc; l++) {
        const CliffNetLayer *nl = &net->layers[l];
        if (nl->is_split) continue;
        const CliffLayer *L = &nl->layer;
        hid_t lg = make_group(g, L->name);
        if (lg < 0) {
            rc = -1;
            break;
        }
        for (int p = 0; p < L->nparams && !rc; p++) {
            if (!owns(net, l, p)) continue; /* Caffe stores shared blobs once */
            const CliffTensor *t = &L->params[p];
            hsize_t dims[CLIFF_MAX_AXES];
            for (int a = 0; a < t->num_axes; a++) dims[a] = (hsize_t)t->shape[a];
            char name[16];
            snprintf(name, sizeof name, "%d", p);
            rc = write_dataset(lg, name, H5T_NATIVE_FLOAT, t->num_axes, dims,
                               diff ? t->diff : t->data);
        }
        H5Gclose(lg);
    }
    H5Gclose(g);
    return rc;
}

static int weights_body(hid_t f, const void *arg)
{
    const WArgs *a = arg;
    if (write_blobs(f, a->net, "data", 0)) return -1;
    if (a->write_diff && write_blobs(f, a->net, "diff", 1)) return -1;
    return 0;
}

int cliff_weights_save_h5(const CliffNet *net, const char *path, int write_diff,
                          CliffError *err)
{
    WArgs a = {net, write_diff};
    return h5_atomic(path, weights_body, &a, err);
}

/* ---- the HDF5 weights source ---- */

static void h5_close(void *ctx);

typedef struct H5Src {
    hid_t f, data;
} H5Src;

static int link_exists(hid_t loc, const char *path)
{
    /* H5Lexists needs every intermediate link to exist: check prefix by prefix. */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (buf[0] && H5Lexists(loc, buf, H5P_DEFAULT) <= 0) return 0;
        *s = '/';
    }
    return H5Lexists(loc, buf, H5P_DEFAULT) > 0;
}

static int h5_nblobs(void *ctx, const char *layer)
{
    H5Src *s = ctx;
    if (!link_exists(s->data, layer)) return -1;
    hid_t g = H5Gopen2(s->data, layer, H5P_DEFAULT);
    if (g < 0) return -1;
    H5G_info_t info;
    int n = H5Gget_info(g, &info) < 0 ? -1 : (int)info.nlinks;
    H5Gclose(g);
    return n;
}

static int h5_has_blob(void *ctx, const char *layer, int i)
{
    H5Src *s = ctx;
    char path[1024];
    snprintf(path, sizeof path, "%s/%d", layer, i);
    return link_exists(s->data, path);
}

static hid_t open_blob(H5Src *s, const char *layer, int i)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%d", layer, i);
    return H5Dopen2(s->data, path, H5P_DEFAULT);
}

static int h5_shape_matches(void *ctx, const char *layer, int i, const CliffTensor *t,
                            char *shape, size_t len)
{
    hid_t ds = open_blob(ctx, layer, i);
    snprintf(shape, len, "(unreadable)");
    if (ds < 0) return 0;
    hid_t sp = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[CLIFF_MAX_AXES];
    int ok = rank >= 0 && rank <= CLIFF_MAX_AXES;
    if (ok) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(ds);
    if (!ok) return 0;
    size_t used = 0;
    shape[0] = 0;
    if (rank == 0) snprintf(shape, len, "scalar");
    for (int a = 0; a < rank && used < len; a++)
        used += (size_t)snprintf(shape + used, len - used, "%s%llu", a ? "x" : "",
                                 (unsigned long long)dims[a]);
    if (rank != t->num_axes) return 0;
    for (int a = 0; a < rank; a++)
        if (dims[a] != (hsize_t)t->shape[a]) return 0;
    return 1;
}

static int h5_read(void *ctx, const char *layer, int i, float *out, size_t count,
                   CliffError *err)
{
    H5Src *s = ctx;
    (void)count; /* shape already checked */
    hid_t ds = open_blob(s, layer, i);
    herr_t st = ds < 0 ? -1 : H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    if (ds >= 0) H5Dclose(ds);
    if (st < 0)
        return cliff_error_set(err, "cannot read dataset /data/%s/%d (truncated or corrupted "
                               "file?)", layer, i);
    return 0;
}

typedef struct IterArg {
    int (*fn)(void *, const char *);
    void *arg;
} IterArg;

static herr_t each_cb(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    (void)info;
    IterArg *a = op;
    hid_t lg = H5Gopen2(g, name, H5P_DEFAULT);
    if (lg < 0) return 0;
    H5G_info_t gi;
    int n = H5Gget_info(lg, &gi) < 0 ? 0 : (int)gi.nlinks;
    H5Gclose(lg);
    return n > 0 ? a->fn(a->arg, name) : 0;
}

static int h5_each_layer(void *ctx, int (*fn)(void *, const char *), void *arg)
{
    H5Src *s = ctx;
    IterArg a = {fn, arg};
    hsize_t idx = 0;
    return H5Literate(s->data, H5_INDEX_NAME, H5_ITER_INC, &idx, each_cb, &a) > 0;
}

int cliff_weights_src_h5(CliffWeightsSrc *src, const char *path, CliffError *err)
{
    quiet();
    memset(src, 0, sizeof *src);
    H5Src *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    s->f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (s->f < 0) {
        free(s);
        return cliff_error_set(err, "cannot open '%s' as HDF5 (truncated or corrupted?)", path);
    }
    s->data = H5Gopen2(s->f, "data", H5P_DEFAULT);
    if (s->data < 0) {
        H5Fclose(s->f);
        free(s);
        return cliff_error_set(err, "'%s' has no /data group: not a Caffe/cliff weights file",
                               path);
    }
    src->ctx = s;
    src->path = path;
    src->nblobs = h5_nblobs;
    src->has_blob = h5_has_blob;
    src->shape_matches = h5_shape_matches;
    src->read = h5_read;
    src->each_layer = h5_each_layer;
    src->close = h5_close;
    return 0;
}

static void h5_close(void *ctx)
{
    H5Src *s = ctx;
    H5Gclose(s->data);
    H5Fclose(s->f);
    free(s);
}

/* ---- state ---- */

static int state_body(hid_t f, const void *arg)
{
    const CliffStateData *d = arg;
    if (write_int1(f, "iter", d->iter)) return -1;
    if (write_string(f, "learned_net", d->learned_net ? d->learned_net : "")) return -1;
    if (write_int1(f, "current_step", d->current_step)) return -1;
    hid_t h = make_group(f, "history");
    if (h < 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < d->nhist && !rc; i++) {
        char name[24];
        snprintf(name, sizeof name, "%zu", i);
        hsize_t dims[CLIFF_MAX_AXES];
        int rank = 1;
        dims[0] = d->hist_count[i];
        if (d->hist_naxes) {
            rank = d->hist_naxes[i];
            for (int a = 0; a < rank; a++)
                dims[a] = (hsize_t)d->hist_dims[i * CLIFF_MAX_AXES + (size_t)a];
        }
        rc = write_dataset(h, name, H5T_NATIVE_FLOAT, rank, dims, d->hist[i]);
    }
    H5Gclose(h);
    if (rc || !d->has_cliff) return rc;
    hid_t c = make_group(f, "cliff");
    if (c < 0) return -1;
    hsize_t four = 4, one = 1;
    int64_t counts[2] = {d->clipped, d->skipped};
    rc = write_int1(c, "version", 1) ||
         write_dataset(c, "rng", H5T_NATIVE_UINT64, 1, &four, d->rng) ||
         write_dataset(c, "seed", H5T_NATIVE_UINT64, 1, &one, &d->seed) ||
         write_i64(c, "clipped", &counts[0], 1) || write_i64(c, "skipped", &counts[1], 1) ||
         write_int1(c, "consecutive_bad", d->consecutive_bad) ||
         write_f64(c, "smoothed_loss", &d->smoothed_loss, 1) ||
         write_f64(c, "losses", d->losses, (size_t)d->nlosses) ||
         write_int1(c, "loss_pos", d->loss_pos) ||
         write_string(c, "type", d->type ? d->type : "");
    for (int i = 0; i < d->nlayers && !rc; i++) {
        const CliffLayerStateRec *L = &d->layers[i];
        size_t n = strlen(L->net) + strlen(L->layer) + 32;
        char *name = malloc(n);
        if (!name) {
            rc = -1;
            break;
        }
        snprintf(name, n, "layer_state/%s/%s", L->net, L->layer);
        rc = write_i64(c, name, L->words, L->n);
        free(name);
    }
    H5Gclose(c);
    return rc ? -1 : 0;
}

int cliff_state_write_h5(const CliffStateData *d, const char *path, CliffError *err)
{
    return h5_atomic(path, state_body, d, err);
}

/* ---- state reader ---- */

/* Reads a 1-D (or scalar) numeric dataset of at most max elements as mem_type;
 * returns the element count or -1. */
static long read_vec(hid_t loc, const char *name, hid_t mem_type, void *out, size_t max)
{
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t sp = H5Dget_space(ds);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    long rc = -1;
    if (n >= 0 && (size_t)n <= max &&
        (n == 0 || H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0))
        rc = (long)n;
    H5Dclose(ds);
    return rc;
}

static long read_len(hid_t loc, const char *name)
{
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return -1;
    hid_t sp = H5Dget_space(ds);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    H5Dclose(ds);
    return (long)n;
}

static int read_int1(hid_t loc, const char *name, int *v)
{
    return read_vec(loc, name, H5T_NATIVE_INT, v, 1) == 1 ? 0 : -1;
}

/* Fixed-length (Caffe) or variable-length (h5py) string. */
static char *read_string(hid_t loc, const char *name)
{
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return NULL;
    hid_t ft = H5Dget_type(ds);
    char *out = NULL;
    if (H5Tget_class(ft) == H5T_STRING) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            char *v = NULL;
            if (H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0 && v) {
                out = strdup(v);
                H5free_memory(v);
            }
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(ft);
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, n + 1);
            H5Tset_strpad(mt, H5T_STR_NULLTERM);
            out = calloc(n + 2, 1);
            if (out && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
                free(out);
                out = NULL;
            }
            H5Tclose(mt);
        }
    }
    H5Tclose(ft);
    H5Dclose(ds);
    return out;
}

typedef struct LayerIter {
    CliffStateData *d;
    hid_t root;
    int bad;
} LayerIter;

/* Visits layer_state/<net>/<layer...> datasets. */
static herr_t visit_cb(hid_t root, const char *name, const H5O_info_t *info, void *op)
{
    LayerIter *it = op;
    if (info->type != H5O_TYPE_DATASET) return 0;
    const char *slash = strchr(name, '/');
    if (!slash) return 0;
    long n = read_len(root, name);
    if (n < 0) {
        it->bad = 1;
        return 1;
    }
    CliffStateData *d = it->d;
    CliffLayerStateRec *L = realloc(d->layers, (size_t)(d->nlayers + 1) * sizeof *L);
    if (!L) {
        it->bad = 1;
        return 1;
    }
    d->layers = L;
    L = &d->layers[d->nlayers++];
    memset(L, 0, sizeof *L);
    L->net = strndup(name, (size_t)(slash - name));
    L->layer = strdup(slash + 1);
    L->words = calloc((size_t)n + 1, sizeof *L->words);
    L->n = (size_t)n;
    if (!L->net || !L->layer || !L->words ||
        read_vec(root, name, H5T_NATIVE_INT64, L->words, (size_t)n) != n) {
        it->bad = 1;
        return 1;
    }
    return 0;
}

static int read_cliff(hid_t f, CliffStateData *d, const char *path, CliffError *err)
{
    if (H5Lexists(f, "cliff", H5P_DEFAULT) <= 0) return 0;
    hid_t c = H5Gopen2(f, "cliff", H5P_DEFAULT);
    if (c < 0) return cliff_error_set(err, "'%s': cannot open /cliff", path);
    int rc = -1;
    int64_t counts[2];
    long nl = read_len(c, "losses");
    if (read_vec(c, "rng", H5T_NATIVE_UINT64, d->rng, 4) != 4 ||
        read_vec(c, "seed", H5T_NATIVE_UINT64, &d->seed, 1) != 1 ||
        read_vec(c, "clipped", H5T_NATIVE_INT64, &counts[0], 1) != 1 ||
        read_vec(c, "skipped", H5T_NATIVE_INT64, &counts[1], 1) != 1 ||
        read_int1(c, "consecutive_bad", &d->consecutive_bad) ||
        read_vec(c, "smoothed_loss", H5T_NATIVE_DOUBLE, &d->smoothed_loss, 1) != 1 ||
        read_int1(c, "loss_pos", &d->loss_pos) || nl < 0) {
        cliff_error_set(err, "'%s': /cliff is incomplete or corrupted", path);
        goto out;
    }
    d->clipped = counts[0];
    d->skipped = counts[1];
    d->losses = calloc((size_t)nl + 1, sizeof *d->losses);
    if (!d->losses || read_vec(c, "losses", H5T_NATIVE_DOUBLE, d->losses, (size_t)nl) != nl) {
        cliff_error_set(err, "'%s': cannot read /cliff/losses", path);
        goto out;
    }
    d->nlosses = (int)nl;
    d->type = read_string(c, "type");
    if (H5Lexists(c, "layer_state", H5P_DEFAULT) > 0) {
        hid_t ls = H5Gopen2(c, "layer_state", H5P_DEFAULT);
        LayerIter it = {d, ls, 0};
        H5Ovisit2(ls, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &it, H5O_INFO_BASIC);
        H5Gclose(ls);
        if (it.bad) {
            cliff_error_set(err, "'%s': cannot read /cliff/layer_state", path);
            goto out;
        }
    }
    d->has_cliff = 1;
    rc = 0;
out:
    H5Gclose(c);
    return rc;
}

int cliff_state_read_h5(const char *path, CliffStateData *d, CliffError *err)
{
    quiet();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return cliff_error_set(err, "cannot open solver state '%s' as HDF5 (truncated or "
                               "corrupted?)", path);
    int rc = -1;
    hid_t h = -1;
    if (read_int1(f, "iter", &d->iter)) {
        cliff_error_set(err, "'%s' has no readable /iter: not a solver state", path);
        goto out;
    }
    if (H5Lexists(f, "current_step", H5P_DEFAULT) > 0 &&
        read_int1(f, "current_step", &d->current_step)) {
        cliff_error_set(err, "'%s': cannot read /current_step", path);
        goto out;
    }
    if (H5Lexists(f, "learned_net", H5P_DEFAULT) > 0) {
        d->learned_net = read_string(f, "learned_net");
        if (!d->learned_net) {
            cliff_error_set(err, "'%s': cannot read /learned_net", path);
            goto out;
        }
    }
    h = H5Gopen2(f, "history", H5P_DEFAULT);
    if (h < 0) {
        cliff_error_set(err, "'%s' has no /history group", path);
        goto out;
    }
    H5G_info_t gi;
    if (H5Gget_info(h, &gi) < 0) {
        cliff_error_set(err, "'%s': cannot read /history", path);
        goto out;
    }
    d->nhist = (size_t)gi.nlinks;
    d->hist = calloc(d->nhist + 1, sizeof *d->hist);
    d->hist_count = calloc(d->nhist + 1, sizeof *d->hist_count);
    if (!d->hist || !d->hist_count) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < d->nhist; i++) {
        char name[24];
        snprintf(name, sizeof name, "%zu", i);
        long n = read_len(h, name);
        if (n < 0) {
            cliff_error_set(err, "'%s': /history/%zu is missing or unreadable", path, i);
            goto out;
        }
        d->hist[i] = malloc(((size_t)n + 1) * sizeof(float));
        d->hist_count[i] = (size_t)n;
        if (!d->hist[i] || read_vec(h, name, H5T_NATIVE_FLOAT, d->hist[i], (size_t)n) != n) {
            cliff_error_set(err, "'%s': cannot read /history/%zu (truncated or corrupted?)",
                            path, i);
            goto out;
        }
    }
    if (read_cliff(f, d, path, err)) goto out;
    rc = 0;
out:
    if (h >= 0) H5Gclose(h);
    H5Fclose(f);
    return rc;
}
