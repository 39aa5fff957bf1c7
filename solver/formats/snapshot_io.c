/* File plumbing shared by the snapshot writers and readers. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot.h"

int cliff_file_is_hdf5(const char *path)
{
    /* The superblock signature sits at 0, 512, 1024, 2048... */
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int yes = 0;
    for (long off = 0; off <= 1L << 20 && !yes; off = off ? off * 2 : 512) {
        unsigned char buf[8];
        if (fseek(f, off, SEEK_SET) || fread(buf, 1, 8, f) != 8) break;
        yes = memcmp(buf, sig, 8) == 0;
    }
    fclose(f);
    return yes;
}

static int fsync_path(const char *path, int dir)
{
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int cliff_commit_file(const char *tmp, const char *final, CliffError *err)
{
    if (fsync_path(tmp, 0))
        return cliff_error_set(err, "cannot sync '%s': %s", tmp, strerror(errno));
    if (rename(tmp, final)) {
        int e = errno;
        unlink(tmp);
        return cliff_error_set(err, "cannot rename '%s' to '%s': %s", tmp, final, strerror(e));
    }
    char *copy = strdup(final);
    if (copy) {
        fsync_path(dirname(copy), 1); /* best effort: some filesystems refuse */
        free(copy);
    }
    return 0;
}

void cliff_state_data_free(CliffStateData *d)
{
    if (!d) return;
    free(d->learned_net);
    for (size_t i = 0; i < d->nhist; i++) free(d->hist ? d->hist[i] : NULL);
    free(d->hist);
    free(d->hist_count);
    free(d->hist_naxes);
    free(d->hist_dims);
    free(d->losses);
    free(d->type);
    for (int i = 0; i < d->nlayers; i++) {
        free(d->layers[i].net);
        free(d->layers[i].layer);
        free(d->layers[i].words);
    }
    free(d->layers);
    free(d->clip_policy);
    free(d->clip_state);
    memset(d, 0, sizeof *d);
}

/* ---- binary extras: little-endian words and length-prefixed strings ---- */

typedef struct Buf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} Buf;

static void put_bytes(Buf *b, const void *src, size_t n)
{
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 256) + n;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_u64(Buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
    put_bytes(b, x, 8);
}

static void put_f64(Buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(b, u);
}

static void put_str(Buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    put_u64(b, n);
    put_bytes(b, s, n);
}

#define EXTRAS_MAGIC 0x31464c43ull /* "CLF1" */

uint8_t *cliff_state_extras_encode(const CliffStateData *d, size_t *len)
{
    Buf b = {0};
    put_u64(&b, EXTRAS_MAGIC);
    for (int i = 0; i < 4; i++) put_u64(&b, d->rng[i]);
    put_u64(&b, d->seed);
    put_u64(&b, (uint64_t)d->clipped);
    put_u64(&b, (uint64_t)d->skipped);
    put_u64(&b, (uint64_t)d->consecutive_bad);
    put_f64(&b, d->smoothed_loss);
    put_u64(&b, (uint64_t)d->nlosses);
    put_u64(&b, (uint64_t)d->loss_pos);
    for (int i = 0; i < d->nlosses; i++) put_f64(&b, d->losses[i]);
    put_str(&b, d->type);
    put_u64(&b, (uint64_t)d->nlayers);
    for (int i = 0; i < d->nlayers; i++) {
        put_str(&b, d->layers[i].net);
        put_str(&b, d->layers[i].layer);
        put_u64(&b, d->layers[i].n);
        for (size_t k = 0; k < d->layers[i].n; k++) put_u64(&b, (uint64_t)d->layers[i].words[k]);
    }
    /* Added after the layers: a reader of files without it stops before. */
    if (d->clip_policy) {
        put_str(&b, d->clip_policy);
        put_u64(&b, d->nclip_state);
        for (size_t k = 0; k < d->nclip_state; k++) put_f64(&b, d->clip_state[k]);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.n;
    return b.p;
}

typedef struct Rd {
    const uint8_t *p;
    size_t n, pos;
    int bad;
} Rd;

static uint64_t get_u64(Rd *r)
{
    if (r->bad || r->n - r->pos < 8) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[r->pos + i] << (8 * i);
    r->pos += 8;
    return v;
}

static double get_f64(Rd *r)
{
    uint64_t u = get_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static char *get_str(Rd *r)
{
    uint64_t n = get_u64(r);
    if (r->bad || n > r->n - r->pos) {
        r->bad = 1;
        return NULL;
    }
    char *s = malloc(n + 1);
    if (!s) {
        r->bad = 1;
        return NULL;
    }
    memcpy(s, r->p + r->pos, n);
    s[n] = 0;
    r->pos += n;
    return s;
}

int cliff_state_extras_decode(const uint8_t *buf, size_t len, CliffStateData *d,
                              CliffError *err)
{
    Rd r = {buf, len, 0, 0};
    if (get_u64(&r) != EXTRAS_MAGIC) return cliff_error_set(err, "cliff extras: bad magic");
    for (int i = 0; i < 4; i++) d->rng[i] = get_u64(&r);
    d->seed = get_u64(&r);
    d->clipped = (long long)get_u64(&r);
    d->skipped = (long long)get_u64(&r);
    d->consecutive_bad = (int)get_u64(&r);
    d->smoothed_loss = get_f64(&r);
    uint64_t nl = get_u64(&r);
    d->loss_pos = (int)get_u64(&r);
    if (r.bad || nl > (len - r.pos) / 8) return cliff_error_set(err, "cliff extras: truncated");
    d->nlosses = (int)nl;
    d->losses = calloc(nl + 1, sizeof *d->losses);
    if (!d->losses) return cliff_error_set(err, "out of memory");
    for (uint64_t i = 0; i < nl; i++) d->losses[i] = get_f64(&r);
    d->type = get_str(&r);
    uint64_t nlay = get_u64(&r);
    if (r.bad || nlay > (len - r.pos) / 24) return cliff_error_set(err, "cliff extras: truncated");
    d->layers = calloc(nlay + 1, sizeof *d->layers);
    if (!d->layers) return cliff_error_set(err, "out of memory");
    for (uint64_t i = 0; i < nlay && !r.bad; i++) {
        CliffLayerStateRec *L = &d->layers[d->nlayers++];
        L->net = get_str(&r);
        L->layer = get_str(&r);
        uint64_t n = get_u64(&r);
        if (r.bad || n > (len - r.pos) / 8) {
            r.bad = 1;
            break;
        }
        L->n = n;
        L->words = calloc(n + 1, sizeof *L->words);
        if (!L->words) {
            r.bad = 1;
            break;
        }
        for (uint64_t k = 0; k < n; k++) L->words[k] = (int64_t)get_u64(&r);
    }
    if (!r.bad && r.pos < len) { /* the clip policy's state */
        d->clip_policy = get_str(&r);
        uint64_t n = get_u64(&r);
        if (!r.bad && n <= (len - r.pos) / 8 && (d->clip_state = calloc(n + 1, sizeof(double)))) {
            d->nclip_state = n;
            for (uint64_t k = 0; k < n; k++) d->clip_state[k] = get_f64(&r);
        } else {
            r.bad = 1;
        }
        if (r.pos != len) r.bad = 1;
    }
    if (r.bad) return cliff_error_set(err, "cliff extras: truncated or corrupted");
    d->has_cliff = 1;
    return 0;
}

/* Format dispatch: writers by the solver's choice, readers by file content. */
int cliff_weights_save(const CliffNet *net, const char *path, int hdf5, int write_diff,
                       CliffError *err)
{
    return hdf5 ? cliff_weights_save_h5(net, path, write_diff, err)
                : cliff_weights_save_proto(net, path, write_diff, err);
}

int cliff_state_write(const CliffStateData *d, const char *path, int hdf5, CliffError *err)
{
    return hdf5 ? cliff_state_write_h5(d, path, err) : cliff_state_write_proto(d, path, err);
}

/* A name read from a state file (NULL: absent) goes into messages and file
 * lookups: a control byte (a newline would split the one-line error, an
 * escape would reach the terminal) means the file is damaged. */
static int check_name(const char *path, const char *what, const char *s, CliffError *err)
{
    for (size_t i = 0; s && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return cliff_error_set(err, "'%s': its %s holds control byte 0x%02x at offset %zu: "
                                   "the file is damaged", path, what, c, i);
    }
    return 0;
}

static int check_names(const char *path, const CliffStateData *d, CliffError *err)
{
    if (check_name(path, "learned_net", d->learned_net, err) ||
        check_name(path, "solver type", d->type, err) ||
        check_name(path, "clip_policy", d->clip_policy, err))
        return -1;
    for (int i = 0; i < d->nlayers; i++)
        if (check_name(path, "layer state's net name", d->layers[i].net, err) ||
            check_name(path, "layer state's layer name", d->layers[i].layer, err))
            return -1;
    return 0;
}

int cliff_state_read(const char *path, CliffStateData *d, CliffError *err)
{
    memset(d, 0, sizeof *d);
    if (access(path, R_OK))
        return cliff_error_set(err, "cannot read solver state '%s' (missing?)", path);
    int rc = cliff_file_is_hdf5(path) ? cliff_state_read_h5(path, d, err)
                                      : cliff_state_read_proto(path, d, err);
    if (rc == 0) rc = check_names(path, d, err);
    if (rc) cliff_state_data_free(d);
    return rc;
}
