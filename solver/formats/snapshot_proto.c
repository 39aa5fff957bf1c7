/* Binary protobuf snapshots (Caffe's BINARYPROTO): .caffemodel NetParameter
 * and .solverstate SolverState, via protobuf-c pack/unpack; cliff's extras
 * travel in SolverState's unknown field 1000, which Caffe ignores. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"
#include "weights_src.h"

#define EXTRAS_FIELD 1000

/* ---- files ---- */

static int write_bytes_atomic(const char *path, const uint8_t *buf, size_t len, CliffError *err)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp) return cliff_error_set(err, "out of memory");
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        cliff_error_set(err, "cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    /* the first failure's errno: a full disk shows at fwrite, fflush or fclose */
    int e = fwrite(buf, 1, len, f) == len ? 0 : errno;
    if (fflush(f) != 0 && !e) e = errno;
    if (fclose(f) != 0 && !e) e = errno;
    if (e) {
        unlink(tmp);
        cliff_error_set(err, "cannot write '%s': %s", tmp, strerror(e));
        free(tmp);
        return -1;
    }
    int rc = cliff_commit_file(tmp, path, err);
    free(tmp);
    return rc;
}

/* The whole of a regular file, its size known before reading (a device such
 * as /dev/zero, a FIFO or a folder is refused, so the read is bounded). */
static uint8_t *read_all(const char *path, size_t *len, CliffError *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cliff_error_set(err, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        fclose(f);
        cliff_error_set(err, "'%s' is not a regular file", path);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = (uint64_t)st.st_size < SIZE_MAX ? malloc(n + 1) : NULL;
    if (!buf) {
        fclose(f);
        cliff_error_set(err, "'%s': out of memory for its %lld bytes", path,
                        (long long)st.st_size);
        return NULL;
    }
    size_t got = fread(buf, 1, n, f);
    int e = ferror(f) ? errno : 0;
    fclose(f);
    if (got != n) {
        free(buf);
        cliff_error_set(err, "cannot read '%s': %s", path,
                        e ? strerror(e) : "the file shrank while being read");
        return NULL;
    }
    *len = n;
    return buf;
}

/* ---- blobs ---- */

/* Fills bp (with its shape) from a tensor's data or diff; dims/shape storage
 * is caller-provided. */
static void blob_from(Cliff__BlobProto *bp, Cliff__BlobShape *shape, int64_t *dims,
                      const CliffTensor *t, int diff)
{
    cliff__blob_proto__init(bp);
    cliff__blob_shape__init(shape);
    for (int a = 0; a < t->num_axes; a++) dims[a] = t->shape[a];
    shape->n_dim = (size_t)t->num_axes;
    shape->dim = dims;
    bp->shape = shape;
    bp->n_data = t->count;
    bp->data = t->data;
    if (diff) {
        bp->n_diff = t->count;
        bp->diff = t->diff;
    }
}

int cliff_weights_save_proto(const CliffNet *net, const char *path, int write_diff,
                             CliffError *err)
{
    /* Shallow copies of each LayerParameter with phase TRAIN and the blobs. */
    Cliff__NetParameter np;
    cliff__net_parameter__init(&np);
    np.name = net->name;
    Cliff__LayerParameter *lps = calloc((size_t)net->nlayers + 1, sizeof *lps);
    Cliff__LayerParameter **lpp = calloc((size_t)net->nlayers + 1, sizeof *lpp);
    size_t nblobs = 0;
    for (int l = 0; l < net->nlayers; l++) nblobs += (size_t)net->layers[l].layer.nparams;
    Cliff__BlobProto *bps = calloc(nblobs + 1, sizeof *bps);
    Cliff__BlobProto **bpp = calloc(nblobs + 1, sizeof *bpp);
    Cliff__BlobShape *shapes = calloc(nblobs + 1, sizeof *shapes);
    int64_t *dims = calloc((nblobs + 1) * CLIFF_MAX_AXES, sizeof *dims);
    uint8_t *buf = NULL;
    int rc = -1;
    if (!lps || !lpp || !bps || !bpp || !shapes || !dims) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (int l = 0; l < net->nlayers; l++) {
        const CliffNetLayer *nl = &net->layers[l];
        if (nl->is_split) continue;
        Cliff__LayerParameter *lp = &lps[np.n_layer];
        *lp = *nl->layer.param;
        lp->base.n_unknown_fields = 0;
        lp->base.unknown_fields = NULL;
        lp->has_phase = 1;
        lp->phase = net->phase;
        lp->n_blobs = (size_t)nl->layer.nparams;
        lp->blobs = &bpp[k];
        for (int p = 0; p < nl->layer.nparams; p++, k++) {
            blob_from(&bps[k], &shapes[k], dims + k * CLIFF_MAX_AXES, &nl->layer.params[p],
                      write_diff);
            bpp[k] = &bps[k];
        }
        lpp[np.n_layer++] = lp;
    }
    np.layer = lpp;
    size_t len = cliff__net_parameter__get_packed_size(&np);
    buf = malloc(len + 1);
    if (!buf) {
        cliff_error_set(err, "out of memory for %zu bytes", len);
        goto out;
    }
    cliff__net_parameter__pack(&np, buf);
    rc = write_bytes_atomic(path, buf, len, err);
out:
    free(buf);
    free(lps);
    free(lpp);
    free(bps);
    free(bpp);
    free(shapes);
    free(dims);
    return rc;
}

/* ---- the binary weights source ---- */

typedef struct PSrc {
    Cliff__NetParameter *np;
} PSrc;

/* Blobs of a layer by name, from `layer` or legacy V1 `layers`. */
static int find_layer(const PSrc *s, const char *name, Cliff__BlobProto ***blobs, size_t *n)
{
    for (size_t i = 0; i < s->np->n_layer; i++)
        if (s->np->layer[i]->name && strcmp(s->np->layer[i]->name, name) == 0) {
            *blobs = s->np->layer[i]->blobs;
            *n = s->np->layer[i]->n_blobs;
            return 1;
        }
    for (size_t i = 0; i < s->np->n_layers; i++)
        if (s->np->layers[i]->name && strcmp(s->np->layers[i]->name, name) == 0) {
            *blobs = s->np->layers[i]->blobs;
            *n = s->np->layers[i]->n_blobs;
            return 1;
        }
    return 0;
}

static int p_nblobs(void *ctx, const char *layer)
{
    Cliff__BlobProto **b;
    size_t n;
    return find_layer(ctx, layer, &b, &n) ? (int)n : -1;
}

static Cliff__BlobProto *p_blob(void *ctx, const char *layer, int i)
{
    Cliff__BlobProto **b;
    size_t n;
    if (!find_layer(ctx, layer, &b, &n) || i < 0 || (size_t)i >= n) return NULL;
    return b[i];
}

static int p_has_blob(void *ctx, const char *layer, int i) { return p_blob(ctx, layer, i) != NULL; }

static int p_shape_matches(void *ctx, const char *layer, int i, const CliffTensor *t, char *shape,
                           size_t len)
{
    const Cliff__BlobProto *b = p_blob(ctx, layer, i);
    size_t used = 0;
    shape[0] = 0;
    if (!b) return 0;
    if (b->shape) {
        if (b->shape->n_dim == 0) snprintf(shape, len, "scalar");
        for (size_t a = 0; a < b->shape->n_dim && used < len; a++)
            used += (size_t)snprintf(shape + used, len - used, "%s%lld", a ? "x" : "",
                                     (long long)b->shape->dim[a]);
        if ((int)b->shape->n_dim != t->num_axes) return 0;
        for (int a = 0; a < t->num_axes; a++)
            if (b->shape->dim[a] != t->shape[a]) return 0;
    } else {
        /* Legacy 4-D num x channels x height x width: Caffe compares against the
         * blob's shape padded with leading 1s to four axes. */
        int legacy[4] = {b->num, b->channels, b->height, b->width};
        snprintf(shape, len, "%dx%dx%dx%d (legacy)", legacy[0], legacy[1], legacy[2],
                 legacy[3]);
        if (t->num_axes > 4) return 0;
        for (int a = 0; a < 4; a++) {
            int k = a - (4 - t->num_axes);
            int want = k < 0 ? 1 : t->shape[k];
            if (legacy[a] != want) return 0;
        }
    }
    size_t have = b->n_data ? b->n_data : b->n_double_data;
    if (have != t->count) {
        snprintf(shape + strlen(shape), len - strlen(shape), " with %zu values", have);
        return 0;
    }
    return 1;
}

static int p_read(void *ctx, const char *layer, int i, float *out, size_t count, CliffError *err)
{
    const Cliff__BlobProto *b = p_blob(ctx, layer, i);
    if (!b) return cliff_error_set(err, "layer '%s' blob %d missing", layer, i);
    if (b->n_data == count)
        memcpy(out, b->data, count * sizeof(float));
    else if (b->n_double_data == count)
        for (size_t e = 0; e < count; e++) out[e] = (float)b->double_data[e];
    else
        return cliff_error_set(err, "layer '%s' blob %d holds %zu values, expected %zu", layer,
                               i, b->n_data ? b->n_data : b->n_double_data, count);
    return 0;
}

static int p_each_layer(void *ctx, int (*fn)(void *, const char *), void *arg)
{
    const PSrc *s = ctx;
    for (size_t i = 0; i < s->np->n_layer; i++)
        if (s->np->layer[i]->n_blobs && s->np->layer[i]->name &&
            fn(arg, s->np->layer[i]->name))
            return 1;
    for (size_t i = 0; i < s->np->n_layers; i++)
        if (s->np->layers[i]->n_blobs && s->np->layers[i]->name &&
            fn(arg, s->np->layers[i]->name))
            return 1;
    return 0;
}

static void p_close(void *ctx)
{
    PSrc *s = ctx;
    if (s->np) protobuf_c_message_free_unpacked(&s->np->base, NULL);
    free(s);
}

static const CliffWeightsSrcOps proto_ops = {p_nblobs, p_has_blob, p_shape_matches,
                                              p_read, p_each_layer, p_close};

int cliff_weights_src_proto(CliffWeightsSrc *src, const char *path, CliffError *err)
{
    memset(src, 0, sizeof *src);
    size_t len;
    uint8_t *buf = read_all(path, &len, err);
    if (!buf) return -1;
    PSrc *s = calloc(1, sizeof *s);
    if (s) s->np = cliff__net_parameter__unpack(NULL, len, buf);
    free(buf);
    if (!s || !s->np) {
        free(s);
        return cliff_error_set(err, "'%s' is neither HDF5 nor a binary NetParameter "
                               "(truncated or corrupted?)", path);
    }
    src->ctx = s;
    src->path = path;
    src->ops = &proto_ops;
    return 0;
}

/* ---- state ---- */

int cliff_state_write_proto(const CliffStateData *d, const char *path, CliffError *err)
{
    Cliff__SolverState st;
    cliff__solver_state__init(&st);
    st.has_iter = 1;
    st.iter = d->iter;
    st.learned_net = d->learned_net;
    st.has_current_step = 1;
    st.current_step = d->current_step;
    Cliff__BlobProto *bps = calloc(d->nhist + 1, sizeof *bps);
    Cliff__BlobProto **bpp = calloc(d->nhist + 1, sizeof *bpp);
    Cliff__BlobShape *shapes = calloc(d->nhist + 1, sizeof *shapes);
    int64_t *dims = calloc(d->nhist + 1, sizeof *dims);
    uint8_t *extras = NULL, *buf = NULL;
    int rc = -1;
    if (!bps || !bpp || !shapes || !dims) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < d->nhist; i++) {
        cliff__blob_proto__init(&bps[i]);
        cliff__blob_shape__init(&shapes[i]);
        dims[i] = (int64_t)d->hist_count[i];
        shapes[i].n_dim = 1;
        shapes[i].dim = &dims[i];
        if (d->hist_naxes) {
            shapes[i].n_dim = (size_t)d->hist_naxes[i];
            shapes[i].dim = d->hist_dims + i * CLIFF_MAX_AXES;
        }
        bps[i].shape = &shapes[i];
        bps[i].n_data = d->hist_count[i];
        bps[i].data = d->hist[i];
        bpp[i] = &bps[i];
    }
    st.n_history = d->nhist;
    st.history = bpp;
    ProtobufCMessageUnknownField uf;
    if (d->has_cliff) {
        size_t elen = 0;
        uint8_t *payload = cliff_state_extras_encode(d, &elen);
        /* protobuf-c keeps a length-delimited unknown field with its length
         * varint in front of the payload. */
        extras = payload ? malloc(elen + 10) : NULL;
        if (!extras) {
            free(payload);
            cliff_error_set(err, "out of memory");
            goto out;
        }
        size_t pre = 0;
        for (uint64_t v = elen;; v >>= 7) {
            extras[pre++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
            if (v < 0x80) break;
        }
        memcpy(extras + pre, payload, elen);
        free(payload);
        uf.tag = EXTRAS_FIELD;
        uf.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
        uf.len = pre + elen;
        uf.data = extras;
        st.base.n_unknown_fields = 1;
        st.base.unknown_fields = &uf;
    }
    size_t len = cliff__solver_state__get_packed_size(&st);
    buf = malloc(len + 1);
    if (!buf) {
        cliff_error_set(err, "out of memory");
        goto out;
    }
    cliff__solver_state__pack(&st, buf);
    rc = write_bytes_atomic(path, buf, len, err);
out:
    free(bps);
    free(bpp);
    free(shapes);
    free(dims);
    free(extras);
    free(buf);
    return rc;
}

int cliff_state_read_proto(const char *path, CliffStateData *d, CliffError *err)
{
    size_t len;
    uint8_t *buf = read_all(path, &len, err);
    if (!buf) return -1;
    Cliff__SolverState *st = cliff__solver_state__unpack(NULL, len, buf);
    free(buf);
    if (!st || !st->has_iter)
        return (st ? protobuf_c_message_free_unpacked(&st->base, NULL) : (void)0),
               cliff_error_set(err, "'%s' is neither HDF5 nor a binary SolverState (truncated "
                               "or corrupted?)", path);
    int rc = -1;
    d->iter = st->iter;
    d->current_step = st->current_step;
    if (st->learned_net && !(d->learned_net = strdup(st->learned_net))) goto oom;
    d->nhist = st->n_history;
    d->hist = calloc(d->nhist + 1, sizeof *d->hist);
    d->hist_count = calloc(d->nhist + 1, sizeof *d->hist_count);
    if (!d->hist || !d->hist_count) goto oom;
    for (size_t i = 0; i < d->nhist; i++) {
        const Cliff__BlobProto *b = st->history[i];
        size_t n = b->n_data ? b->n_data : b->n_double_data;
        d->hist[i] = malloc((n + 1) * sizeof(float));
        if (!d->hist[i]) goto oom;
        d->hist_count[i] = n;
        for (size_t e = 0; e < n; e++)
            d->hist[i][e] = b->n_data ? b->data[e] : (float)b->double_data[e];
    }
    for (size_t i = 0; i < st->base.n_unknown_fields; i++) {
        const ProtobufCMessageUnknownField *uf = &st->base.unknown_fields[i];
        if (uf->tag == EXTRAS_FIELD && uf->wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
            size_t pre = 0; /* skip the length varint (see the writer) */
            while (pre < uf->len && (uf->data[pre] & 0x80)) pre++;
            pre++;
            if (pre > uf->len ||
                cliff_state_extras_decode(uf->data + pre, uf->len - pre, d, err)) {
                if (pre > uf->len) cliff_error_set(err, "corrupted cliff extras");
                cliff_error_prefix(err, "'%s': ", path);
                goto out;
            }
        }
    }
    rc = 0;
    goto out;
oom:
    cliff_error_set(err, "out of memory");
out:
    protobuf_c_message_free_unpacked(&st->base, NULL);
    return rc;
}
