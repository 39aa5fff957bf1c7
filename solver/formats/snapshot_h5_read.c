/* HDF5 snapshot readers (layout in snapshot.h): the weights source behind
 * cliff_weights_read, and the solver-state reader. Every dataset is read
 * through layers/h5_read.h, so a hostile file (wrong rank, array where a
 * scalar belongs, a declared size that overflows) is an error, never an
 * overflow. A layer named "conv1/bn" is the group path /data/conv1/bn, nested
 * in conv1's group as Caffe's writer nests it: a layer's blobs are the links
 * of its group named by decimal numbers, other links are nested layers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/h5_read.h"
#include "snapshot.h"
#include "weights_src.h"

/* Longest learned_net path and solver type name accepted from a state. */
#define MAX_PATH_LEN 4096
#define MAX_TYPE_LEN 64

static int is_number(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* "<a>/<b>" as a fresh string (NULL when out of memory). */
static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", a, b);
    return p;
}

static char *blob_path(const char *layer, int i)
{
    char num[16];
    snprintf(num, sizeof num, "%d", i);
    return join(layer, num);
}

/* ---- the HDF5 weights source ---- */

typedef struct H5Src {
    hid_t f, data;
    const char *path;
} H5Src;

static herr_t count_blobs_cb(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    (void)g;
    (void)info;
    if (is_number(name)) ++*(int *)op;
    return 0;
}

/* Number-named links of group `layer` (a layer's blobs), -1 when absent. */
static int blobs_of(hid_t data, const char *layer)
{
    if (!cliff_h5_path_exists(data, layer)) return -1;
    hid_t g = H5Gopen2(data, layer, H5P_DEFAULT);
    if (g < 0) return -1;
    int n = 0;
    hsize_t idx = 0;
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, count_blobs_cb, &n) < 0) n = -1;
    H5Gclose(g);
    return n;
}

static int h5_nblobs(void *ctx, const char *layer)
{
    return blobs_of(((H5Src *)ctx)->data, layer);
}

static int h5_has_blob(void *ctx, const char *layer, int i)
{
    H5Src *s = ctx;
    char *path = blob_path(layer, i);
    int yes = path && cliff_h5_path_exists(s->data, path);
    free(path);
    return yes;
}

static int h5_shape_matches(void *ctx, const char *layer, int i, const CliffTensor *t,
                            char *shape, size_t len)
{
    H5Src *s = ctx;
    char *path = blob_path(layer, i);
    CliffH5Shape sh;
    snprintf(shape, len, "(unreadable)");
    int bad = !path || cliff_h5_shape(s->data, path, CLIFF_H5_NUMERIC, 0, CLIFF_MAX_AXES,
                                      sizeof(float), &sh, NULL);
    free(path);
    if (bad) return 0;
    size_t used = 0;
    shape[0] = 0;
    if (sh.rank == 0) snprintf(shape, len, "scalar");
    for (int a = 0; a < sh.rank && used < len; a++)
        used += (size_t)snprintf(shape + used, len - used, "%s%llu", a ? "x" : "",
                                 (unsigned long long)sh.dims[a]);
    if (sh.rank != t->num_axes) return 0;
    for (int a = 0; a < sh.rank; a++)
        if (sh.dims[a] != (hsize_t)t->shape[a]) return 0;
    return 1;
}

static int h5_read(void *ctx, const char *layer, int i, float *out, size_t count,
                   CliffError *err)
{
    H5Src *s = ctx;
    char *lpath = join("data", layer), *path = lpath ? blob_path(lpath, i) : NULL;
    int rc = path ? cliff_h5_read_exact(s->f, path, H5T_NATIVE_FLOAT, 0, CLIFF_MAX_AXES, out,
                                        count, err)
                  : cliff_error_set(err, "out of memory");
    if (rc) cliff_error_prefix(err, "'%s': ", s->path);
    free(lpath);
    free(path);
    return rc;
}

typedef struct IterArg {
    int (*fn)(void *, const char *);
    void *arg;
    hid_t data;
} IterArg;

/* Every group under /data that holds blobs is a stored layer (its path is the
 * layer's name, nested ones included). */
static herr_t each_cb(hid_t g, const char *name, const H5O_info_t *info, void *op)
{
    (void)g;
    IterArg *a = op;
    if (info->type != H5O_TYPE_GROUP || strcmp(name, ".") == 0) return 0;
    return blobs_of(a->data, name) > 0 ? a->fn(a->arg, name) : 0;
}

static int h5_each_layer(void *ctx, int (*fn)(void *, const char *), void *arg)
{
    H5Src *s = ctx;
    IterArg a = {fn, arg, s->data};
    return H5Ovisit2(s->data, H5_INDEX_NAME, H5_ITER_INC, each_cb, &a, H5O_INFO_BASIC) > 0;
}

static void h5_close(void *ctx)
{
    H5Src *s = ctx;
    H5Gclose(s->data);
    H5Fclose(s->f);
    free(s);
}

static const CliffWeightsSrcOps h5_ops = {h5_nblobs, h5_has_blob, h5_shape_matches,
                                           h5_read, h5_each_layer, h5_close};

int cliff_weights_src_h5(CliffWeightsSrc *src, const char *path, CliffError *err)
{
    cliff_h5_quiet();
    memset(src, 0, sizeof *src);
    H5Src *s = calloc(1, sizeof *s);
    if (!s) return cliff_error_set(err, "out of memory");
    s->f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (s->f < 0) {
        free(s);
        return cliff_error_set(err, "cannot open '%s' as HDF5 (truncated or corrupted?)", path);
    }
    s->data = H5Lexists(s->f, "data", H5P_DEFAULT) > 0 ? H5Gopen2(s->f, "data", H5P_DEFAULT)
                                                        : -1;
    if (s->data < 0) {
        H5Fclose(s->f);
        free(s);
        return cliff_error_set(err, "'%s' has no /data group: not a Caffe/cliff weights file",
                               path);
    }
    s->path = path;
    src->ctx = s;
    src->path = path;
    src->ops = &h5_ops;
    return 0;
}

/* ---- state reader ---- */

static int read_int1(hid_t loc, const char *name, int *v, CliffError *err)
{
    return cliff_h5_read_exact(loc, name, H5T_NATIVE_INT, 0, 1, v, 1, err);
}

static int read_one(hid_t loc, const char *name, hid_t type, void *v, CliffError *err)
{
    return cliff_h5_read_exact(loc, name, type, 0, 1, v, 1, err);
}

typedef struct LayerIter {
    CliffStateData *d;
    CliffError *err;
    int bad;
} LayerIter;

/* Visits layer_state/<net>/<layer...> datasets. */
static herr_t visit_cb(hid_t root, const char *name, const H5O_info_t *info, void *op)
{
    LayerIter *it = op;
    if (info->type != H5O_TYPE_DATASET) return 0;
    const char *slash = strchr(name, '/');
    if (!slash) return 0;
    CliffStateData *d = it->d;
    CliffLayerStateRec *L = realloc(d->layers, (size_t)(d->nlayers + 1) * sizeof *L);
    if (!L) {
        it->bad = cliff_error_set(it->err, "out of memory");
        return 1;
    }
    d->layers = L;
    L = &d->layers[d->nlayers++];
    memset(L, 0, sizeof *L);
    L->net = strndup(name, (size_t)(slash - name));
    L->layer = strdup(slash + 1);
    void *words = NULL;
    if (!L->net || !L->layer) {
        it->bad = cliff_error_set(it->err, "out of memory");
        return 1;
    }
    if (cliff_h5_read_alloc(root, name, H5T_NATIVE_INT64, 1, SIZE_MAX, &words, &L->n,
                            it->err)) {
        cliff_error_prefix(it->err, "cliff/layer_state: ");
        it->bad = -1;
        return 1;
    }
    L->words = words;
    return 0;
}

static int read_cliff(hid_t f, CliffStateData *d, CliffError *err)
{
    if (H5Lexists(f, "cliff", H5P_DEFAULT) <= 0) return 0;
    hid_t c = H5Gopen2(f, "cliff", H5P_DEFAULT);
    if (c < 0) return cliff_error_set(err, "cannot open /cliff");
    int rc = -1, version = 0;
    int64_t counts[2];
    void *losses = NULL;
    size_t nl = 0;
    if (read_int1(f, "cliff/version", &version, err)) goto out;
    if (version != 1) {
        cliff_error_set(err, "dataset 'cliff/version' is %d: written by another cliff (this "
                        "one reads 1)", version);
        goto out;
    }
    if (cliff_h5_read_exact(f, "cliff/rng", H5T_NATIVE_UINT64, 1, 1, d->rng, 4, err) ||
        read_one(f, "cliff/seed", H5T_NATIVE_UINT64, &d->seed, err) ||
        read_one(f, "cliff/clipped", H5T_NATIVE_INT64, &counts[0], err) ||
        read_one(f, "cliff/skipped", H5T_NATIVE_INT64, &counts[1], err) ||
        read_int1(f, "cliff/consecutive_bad", &d->consecutive_bad, err) ||
        read_one(f, "cliff/smoothed_loss", H5T_NATIVE_DOUBLE, &d->smoothed_loss, err) ||
        read_int1(f, "cliff/loss_pos", &d->loss_pos, err) ||
        cliff_h5_read_alloc(f, "cliff/losses", H5T_NATIVE_DOUBLE, 1, 1u << 30, &losses, &nl,
                            err))
        goto out;
    d->clipped = counts[0];
    d->skipped = counts[1];
    d->losses = losses;
    d->nlosses = (int)nl;
    if (!(d->type = cliff_h5_read_string(f, "cliff/type", MAX_TYPE_LEN, err))) goto out;
    if (H5Lexists(c, "layer_state", H5P_DEFAULT) > 0) {
        hid_t ls = H5Gopen2(c, "layer_state", H5P_DEFAULT);
        LayerIter it = {d, err, 0};
        if (ls < 0 || H5Ovisit2(ls, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &it,
                                H5O_INFO_BASIC) < 0) {
            if (!it.bad) cliff_error_set(err, "cannot read /cliff/layer_state");
            it.bad = -1;
        }
        if (ls >= 0) H5Gclose(ls);
        if (it.bad) goto out;
    }
    if (H5Lexists(c, "clip_policy", H5P_DEFAULT) > 0) {
        void *v = NULL;
        if (!(d->clip_policy = cliff_h5_read_string(f, "cliff/clip_policy", MAX_TYPE_LEN, err)) ||
            cliff_h5_read_alloc(f, "cliff/clip_state", H5T_NATIVE_DOUBLE, 1, 1u << 30, &v,
                                &d->nclip_state, err))
            goto out;
        d->clip_state = v;
    }
    d->has_cliff = 1;
    rc = 0;
out:
    H5Gclose(c);
    return rc;
}

static int read_history(hid_t f, CliffStateData *d, CliffError *err)
{
    if (H5Lexists(f, "history", H5P_DEFAULT) <= 0)
        return cliff_error_set(err, "no /history group");
    hid_t h = H5Gopen2(f, "history", H5P_DEFAULT);
    if (h < 0) return cliff_error_set(err, "/history is not a group");
    H5G_info_t gi;
    int rc = -1;
    if (H5Gget_info(h, &gi) < 0) {
        cliff_error_set(err, "cannot read /history");
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
        char name[32];
        snprintf(name, sizeof name, "history/%zu", i);
        void *v = NULL;
        if (cliff_h5_read_alloc(f, name, H5T_NATIVE_FLOAT, CLIFF_MAX_AXES, SIZE_MAX, &v,
                                &d->hist_count[i], err))
            goto out;
        d->hist[i] = v;
    }
    rc = 0;
out:
    H5Gclose(h);
    return rc;
}

int cliff_state_read_h5(const char *path, CliffStateData *d, CliffError *err)
{
    cliff_h5_quiet();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return cliff_error_set(err, "cannot open solver state '%s' as HDF5 (truncated or "
                               "corrupted?)", path);
    int rc = -1;
    if (read_int1(f, "iter", &d->iter, err)) {
        cliff_error_prefix(err, "'%s' is not a solver state: ", path);
        goto out;
    }
    if (H5Lexists(f, "current_step", H5P_DEFAULT) > 0 &&
        read_int1(f, "current_step", &d->current_step, err))
        goto fail;
    if (H5Lexists(f, "learned_net", H5P_DEFAULT) > 0 &&
        !(d->learned_net = cliff_h5_read_string(f, "learned_net", MAX_PATH_LEN, err)))
        goto fail;
    if (read_history(f, d, err) || read_cliff(f, d, err)) goto fail;
    rc = 0;
    goto out;
fail:
    cliff_error_prefix(err, "'%s': ", path);
out:
    H5Fclose(f);
    return rc;
}
