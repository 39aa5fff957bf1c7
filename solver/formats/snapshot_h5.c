/* HDF5 snapshots in Caffe's layout (see snapshot.h): weights writer, the
 * state writer (the readers are in snapshot_h5_read.c). */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layers/h5_read.h"
#include "snapshot.h"

/* ---- writing helpers ----
 * Every helper takes the writer's context; the first failure records what was
 * being written and why (the system's message when HDF5 reports one, as for a
 * full disk), which h5_atomic reports. */

typedef struct H5W {
    int failed;
    char what[512], why[256];
} H5W;

/* HDF5 keeps the system error inside a description ("..., errno = 28, error
 * message = 'No space left on device', ..."): the innermost such text wins. */
static herr_t cause_cb(unsigned n, const H5E_error2_t *e, void *op)
{
    (void)n;
    char *why = op;
    const char *m = e->desc ? strstr(e->desc, "error message = '") : NULL;
    if (m) {
        m += strlen("error message = '");
        const char *end = strchr(m, '\'');
        snprintf(why, 256, "%.*s", (int)(end ? end - m : (long)strlen(m)), m);
    } else if (!why[0] && e->desc) {
        snprintf(why, 256, "%s", e->desc);
    }
    return 0;
}

/* Records the first failure (call right after the failing HDF5 call, before
 * any other call clears HDF5's error stack); returns -1. */
static int fail(H5W *w, const char *what, const char *name)
{
    if (w->failed++) return -1;
    int e = errno;
    snprintf(w->what, sizeof w->what, "%s '%s'", what, name);
    w->why[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, cause_cb, w->why);
    if (!w->why[0]) snprintf(w->why, sizeof w->why, "%s", e ? strerror(e) : "HDF5 error");
    return -1;
}

/* Chunks for the Fletcher-32 filter: the whole blob, halved along the leading
 * axes until one chunk is at most 4 MiB (HDF5 caps a chunk at 4 GiB). */
static void chunk_dims(int rank, const hsize_t *dims, size_t esize, hsize_t *chunk)
{
    for (int a = 0; a < rank; a++) chunk[a] = dims[a];
    for (int a = 0; a < rank; a++) {
        for (;;) {
            hsize_t bytes = esize;
            for (int k = 0; k < rank; k++) bytes *= chunk[k];
            if (bytes <= (4u << 20) || chunk[a] == 1) break;
            chunk[a] = (chunk[a] + 1) / 2;
        }
    }
}

/* A dataset of `type` with the given dims (rank 0: scalar). Non-empty arrays
 * are chunked with the Fletcher-32 checksum, so a flipped bit fails the read;
 * scalars and empty arrays cannot be chunked and are stored plainly. */
static int write_dataset(H5W *w, hid_t loc, const char *name, hid_t type, int rank,
                         const hsize_t *dims, const void *data)
{
    hsize_t count = 1, chunk[CLIFF_MAX_AXES];
    for (int a = 0; a < rank; a++) count *= dims[a];
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    if (space < 0) return fail(w, "cannot describe dataset", name);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;
    int rc = -1;
    if (lcpl < 0 || dcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        fail(w, "cannot set up dataset", name);
        goto out;
    }
    if (rank && count) {
        chunk_dims(rank, dims, H5Tget_size(type), chunk);
        if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_fletcher32(dcpl) < 0) {
            fail(w, "cannot set up the checksum of dataset", name);
            goto out;
        }
    }
    ds = H5Dcreate2(loc, name, type, space, lcpl, dcpl, H5P_DEFAULT);
    if (ds < 0) {
        fail(w, "cannot create dataset", name);
        goto out;
    }
    if (count && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        fail(w, "cannot write dataset", name);
        goto out;
    }
    rc = 0;
out:
    if (ds >= 0 && H5Dclose(ds) < 0 && !rc) rc = fail(w, "cannot write dataset", name);
    if (lcpl >= 0) H5Pclose(lcpl);
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Sclose(space);
    return rc;
}

static int write_int1(H5W *w, hid_t loc, const char *name, int v)
{
    hsize_t one = 1;
    return write_dataset(w, loc, name, H5T_NATIVE_INT, 1, &one, &v);
}

static int write_i64(H5W *w, hid_t loc, const char *name, const int64_t *v, size_t n)
{
    hsize_t d = n;
    return write_dataset(w, loc, name, H5T_NATIVE_INT64, 1, &d, v);
}

static int write_f64(H5W *w, hid_t loc, const char *name, const double *v, size_t n)
{
    hsize_t d = n;
    return write_dataset(w, loc, name, H5T_NATIVE_DOUBLE, 1, &d, v);
}

/* Caffe's hdf5_save_string: scalar, fixed length strlen + 1, null-terminated. */
static int write_string(H5W *w, hid_t loc, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0 || H5Tset_size(t, strlen(s) + 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
        if (t >= 0) H5Tclose(t);
        return fail(w, "cannot describe string", name);
    }
    int rc = write_dataset(w, loc, name, t, 0, NULL, s);
    H5Tclose(t);
    return rc;
}

/* Opens group `name` under loc, creating it (and missing parents: a layer
 * named "conv1/bn" nests in conv1's group, before or after conv1 is written). */
static hid_t make_group(H5W *w, hid_t loc, const char *name)
{
    /* fails (< 0) when a parent is missing: created below with it */
    htri_t there = H5Lexists(loc, name, H5P_DEFAULT);
    hid_t g = -1;
    if (there > 0) {
        g = H5Gopen2(loc, name, H5P_DEFAULT);
    } else {
        hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
        if (lcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) >= 0)
            g = H5Gcreate2(loc, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (lcpl >= 0) H5Pclose(lcpl);
    }
    if (g < 0) fail(w, "cannot create group", name);
    return g;
}

static char *tmp_name(const char *path)
{
    size_t n = strlen(path) + 8;
    char *t = malloc(n);
    if (t) snprintf(t, n, "%s.tmp", path);
    return t;
}

/* Creates tmp, runs body, flushes, closes, commits. The file is closed with
 * H5F_CLOSE_STRONG, so objects a failing body left open are closed with it;
 * on any failure the temporary is removed. */
static int h5_atomic(const char *path, int (*body)(H5W *w, hid_t f, const void *arg),
                     const void *arg, CliffError *err)
{
    cliff_h5_quiet();
    char *tmp = tmp_name(path);
    if (!tmp) return cliff_error_set(err, "out of memory");
    H5W w = {0, "", ""};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        free(tmp);
        return cliff_error_set(err, "cannot set up HDF5 file access for '%s'", path);
    }
    errno = 0;
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) {
        fail(&w, "cannot create", tmp);
        unlink(tmp); /* a create that failed half-way can leave an empty file */
        cliff_error_set(err, "cannot create '%s': %s", tmp, w.why);
        free(tmp);
        return -1;
    }
    int rc = body(&w, f, arg);
    if (!rc && H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) rc = fail(&w, "cannot flush", tmp);
    if (H5Fclose(f) < 0 && !rc) rc = fail(&w, "cannot close", tmp);
    if (rc) {
        unlink(tmp);
        cliff_error_set(err, "cannot write '%s': %s: %s", tmp, w.what, w.why);
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

static int write_blobs(H5W *w, hid_t f, const CliffNet *net, const char *group, int diff)
{
    hid_t g = make_group(w, f, group);
    if (g < 0) return -1;
    int rc = 0;
    for (int l = 0; l < net->nlayers && !rc; l++) {
        const CliffNetLayer *nl = &net->layers[l];
        if (nl->is_split) continue;
        const CliffLayer *L = &nl->layer;
        hid_t lg = make_group(w, g, L->name);
        if (lg < 0) {
            rc = -1;
            break;
        }
        for (int p = 0; p < L->nparams && !rc; p++) {
            if (!owns(net, l, p)) continue; /* Caffe stores shared blobs once */
            const CliffTensor *t = &L->params[p];
            hsize_t dims[CLIFF_MAX_AXES];
            for (int a = 0; a < t->num_axes; a++) dims[a] = (hsize_t)t->shape[a];
            /* "<layer>/<p>" under the group: errors name the layer */
            size_t n = strlen(L->name) + 16;
            char *name = malloc(n);
            if (!name) {
                rc = fail(w, "out of memory naming a blob of layer", L->name);
                break;
            }
            snprintf(name, n, "%s/%d", L->name, p);
            rc = write_dataset(w, g, name, H5T_NATIVE_FLOAT, t->num_axes, dims,
                               diff ? t->diff : t->data);
            free(name);
        }
        H5Gclose(lg);
    }
    H5Gclose(g);
    return rc;
}

static int weights_body(H5W *w, hid_t f, const void *arg)
{
    const WArgs *a = arg;
    if (write_blobs(w, f, a->net, "data", 0)) return -1;
    if (a->write_diff && write_blobs(w, f, a->net, "diff", 1)) return -1;
    return 0;
}

int cliff_weights_save_h5(const CliffNet *net, const char *path, int write_diff,
                          CliffError *err)
{
    WArgs a = {net, write_diff};
    return h5_atomic(path, weights_body, &a, err);
}

/* ---- state ---- */

static int state_body(H5W *w, hid_t f, const void *arg)
{
    const CliffStateData *d = arg;
    if (write_int1(w, f, "iter", d->iter)) return -1;
    if (write_string(w, f, "learned_net", d->learned_net ? d->learned_net : "")) return -1;
    if (write_int1(w, f, "current_step", d->current_step)) return -1;
    hid_t h = make_group(w, f, "history");
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
        rc = write_dataset(w, h, name, H5T_NATIVE_FLOAT, rank, dims, d->hist[i]);
    }
    H5Gclose(h);
    if (rc || !d->has_cliff) return rc;
    hid_t c = make_group(w, f, "cliff");
    if (c < 0) return -1;
    hsize_t four = 4, one = 1;
    int64_t counts[2] = {d->clipped, d->skipped};
    rc = write_int1(w, c, "version", 1) ||
         write_dataset(w, c, "rng", H5T_NATIVE_UINT64, 1, &four, d->rng) ||
         write_dataset(w, c, "seed", H5T_NATIVE_UINT64, 1, &one, &d->seed) ||
         write_i64(w, c, "clipped", &counts[0], 1) || write_i64(w, c, "skipped", &counts[1], 1) ||
         write_int1(w, c, "consecutive_bad", d->consecutive_bad) ||
         write_f64(w, c, "smoothed_loss", &d->smoothed_loss, 1) ||
         write_f64(w, c, "losses", d->losses, (size_t)d->nlosses) ||
         write_int1(w, c, "loss_pos", d->loss_pos) ||
         write_string(w, c, "type", d->type ? d->type : "");
    for (int i = 0; i < d->nlayers && !rc; i++) {
        const CliffLayerStateRec *L = &d->layers[i];
        size_t n = strlen(L->net) + strlen(L->layer) + 32;
        char *name = malloc(n);
        if (!name) {
            rc = fail(w, "out of memory naming the state of layer", L->layer);
            break;
        }
        snprintf(name, n, "layer_state/%s/%s", L->net, L->layer);
        rc = write_i64(w, c, name, L->words, L->n);
        free(name);
    }
    if (!rc && d->clip_policy)
        rc = write_string(w, c, "clip_policy", d->clip_policy) ||
             write_f64(w, c, "clip_state", d->clip_state, d->nclip_state);
    H5Gclose(c);
    return rc ? -1 : 0;
}

int cliff_state_write_h5(const CliffStateData *d, const char *path, CliffError *err)
{
    return h5_atomic(path, state_body, d, err);
}
