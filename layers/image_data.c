/* ImageData: Caffe's ImageDataLayer. image_data_param.source lists images as
 * "path label" lines (layers/data/image_list.h); root_folder is prepended to
 * each path as written (no separator added, as Caffe). Images are decoded as
 * OpenCV's imread would (layers/data/image_codec.h: PNG or JPEG, is_color ->
 * 3 channels B, G, R, else 1 gray), resized to new_height x new_width when both are set
 * (cv::resize INTER_LINEAR), then put through transform_param
 * (layers/data/transform.h), on a prefetch thread (layers/data/prefetch.h)
 * data_param.prefetch batches ahead (default 4, as Caffe's prefetching layers
 * read that field too; 0: decoded on the training thread when taken).
 *
 * Tops: data, batch_size x C x h x w (C, H, W of the first image read, after
 * the resize; h, w after the crop), and optionally label, batch_size. Every
 * image must give that output shape: images of other sizes are accepted when
 * the crop makes them alike (Caffe reshapes per batch; cliff's nets have fixed
 * shapes), else the run stops naming the image.
 *
 * Order: list order, or with shuffle a permutation per epoch, each a function
 * of (shuffle seed, epoch) so a resumed run recomputes it (Caffe reshuffles
 * at every wrap from its own RNG, seeded from the run's; so does cliff: the
 * seed is one draw of the run's RNG at setup). rand_skip starts the first
 * epoch at a position drawn uniformly in [0, rand_skip), as Caffe.
 *
 * The next batch is taken in check_bottoms (the net's fallible step before
 * forward), so a missing or undecodable image stops the forward with an error
 * naming the path and its list line; forward copies it to the tops. Every
 * listed file is checked to exist at setup.
 *
 * Resumable state (8 words): list size, list hash, cursor, epoch, then the
 * transform RNG's four words (its own, seeded from one draw of the run's), as
 * of the last batch the net TOOK. Prefetched batches not yet taken are
 * dropped on restore and produced again from that state, so a resumed run
 * reads the same batches bit for bit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/image_codec.h"
#include "data/image_list.h"
#include "data/prefetch.h"
#include "data/transform.h"
#include "layer.h"

#define IMAGE_STATE_WORDS 8
#define IMAGE_PRODUCER_WORDS 6 /* cursor, epoch, rng: the state after a batch */

typedef struct ImageData {
    int n;          /* images listed */
    char **paths;   /* root_folder + path, per image */
    int *labels;
    long *lines;    /* list-file line of each image */
    uint64_t hash;  /* of the paths and labels, to tell a changed list on resume */
    const char *source;
    int color, new_h, new_w;
    CliffTransform tf;
    int batch, labels_top;
    int c, h, w;    /* the first image's shape (after the resize) */
    int out[3];     /* transform output C, h, w */
    size_t item;    /* floats per output image */
    uint64_t shuffle_seed;
    /* producer state: only the producer touches it while the thread runs */
    int *order;     /* this epoch's permutation (shuffle) or NULL */
    int64_t cursor, epoch;
    CliffRng rng;   /* transform draws */
    /* consumer state: as of the last batch taken (the snapshot's words) */
    int64_t taken[IMAGE_STATE_WORDS];
    CliffPrefetch q;
    int held; /* a batch is held between check_bottoms and forward */
} ImageData;

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

/* The list file (layers/data/image_list.h) with root_folder prepended to each
 * path; every path must name a regular file (checked before anything is
 * decoded). Errors are the data's and name the list's file:line. */
static int read_list(ImageData *d, const char *root, CliffError *err)
{
    CliffImageList list;
    if (cliff_image_list_read(d->source, &list, err)) return -1;
    d->paths = calloc((size_t)list.n, sizeof *d->paths);
    d->labels = malloc((size_t)list.n * sizeof *d->labels);
    d->lines = malloc((size_t)list.n * sizeof *d->lines);
    int rc = d->paths && d->labels && d->lines ? 0 : cliff_error_set(err, "out of memory");
    d->hash = 0xCBF29CE484222325ull;
    for (int i = 0; rc == 0 && i < list.n; i++) {
        const CliffImageListEntry *e = &list.e[i];
        size_t need = strlen(root) + strlen(e->path) + 1;
        char *path = d->paths[i] = malloc(need);
        if (!path) {
            rc = cliff_error_set(err, "out of memory");
            break;
        }
        d->n = i + 1;
        snprintf(path, need, "%s%s", root, e->path);
        struct stat st;
        const char *why = stat(path, &st) != 0 ? strerror(errno)
                          : !S_ISREG(st.st_mode) ? "not a regular file" : NULL;
        if (why) {
            rc = cliff_error_set(err, "%s:%ld: image '%s': %s", d->source, e->line, path, why);
            cliff_error_mark(err, CLIFF_ERR_DATA);
        }
        long label = e->label;
        d->labels[i] = e->label;
        d->lines[i] = e->line;
        d->hash = fnv1a(fnv1a(d->hash, path, strlen(path) + 1), &label, sizeof label);
    }
    cliff_image_list_free(&list);
    return rc;
}

/* Epoch e's order: Fisher-Yates on the identity, from an RNG seeded by (seed, e). */
static void make_order(ImageData *d, int64_t epoch)
{
    if (!d->order) return;
    CliffRng r;
    cliff_rng_seed(&r, d->shuffle_seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(epoch + 1)));
    for (int i = 0; i < d->n; i++) d->order[i] = i;
    for (int i = d->n; i > 1; i--) {
        int j = (int)cliff_rng_below(&r, (uint64_t)i);
        int t = d->order[i - 1];
        d->order[i - 1] = d->order[j];
        d->order[j] = t;
    }
}

/* Image i decoded and resized; errors name the path and its list line. */
static int load_image(const ImageData *d, int i, CliffImage *img, CliffError *err)
{
    if (cliff_image_read(d->paths[i], d->color, img, err))
        return cliff_error_prefix(err, "%s:%ld: ", d->source, d->lines[i]);
    if (d->new_h > 0 && (img->height != d->new_h || img->width != d->new_w)) {
        CliffImage r;
        int rc = cliff_image_resize(img, d->new_h, d->new_w, &r, err);
        cliff_image_free(img);
        if (rc) return cliff_error_prefix(err, "%s:%ld: image '%s': ", d->source,
                                          d->lines[i], d->paths[i]);
        *img = r;
    }
    return 0;
}

/* Image i's transformed pixels into out (one item), drawing from d->rng. */
static int image_item(ImageData *d, int i, float *out, CliffError *err)
{
    CliffImage img;
    if (load_image(d, i, &img, err)) return -1;
    if (img.channels != d->c || img.height != d->h || img.width != d->w) {
        int o[3];
        int rc = cliff_transform_check(&d->tf, img.channels, img.height, img.width, o, err);
        if (rc == 0 && memcmp(o, d->out, sizeof o))
            rc = cliff_error_set(err, "is %d x %d x %d, the first image %d x %d x %d: set "
                                 "new_height and new_width, or a crop_size both allow",
                                 img.channels, img.height, img.width, d->c, d->h, d->w);
        if (rc) {
            cliff_image_free(&img);
            cliff_error_prefix(err, "%s:%ld: image '%s': ", d->source, d->lines[i],
                               d->paths[i]);
            return cliff_error_mark(err, CLIFF_ERR_DATA);
        }
    }
    CliffImageView v = cliff_image_chw_u8(img.px, img.channels, img.height, img.width);
    cliff_transform_apply(&d->tf, &v, &d->rng, out);
    cliff_image_free(&img);
    return 0;
}

/* The producer: one batch from the state in d (see prefetch.h). A failed
 * batch ends the producer, so the state it leaves is never used. */
static int fill_batch(void *ctx, CliffPrefetchSlot *slot, CliffError *err)
{
    ImageData *d = ctx;
    for (int b = 0; b < d->batch; b++) {
        int i = d->order ? d->order[d->cursor] : (int)d->cursor;
        if (image_item(d, i, slot->data + (size_t)b * d->item, err)) return -1;
        if (slot->label) slot->label[b] = (float)d->labels[i];
        if (++d->cursor == d->n) {
            d->cursor = 0;
            make_order(d, ++d->epoch);
        }
    }
    slot->state[0] = d->cursor;
    slot->state[1] = d->epoch;
    for (int i = 0; i < 4; i++) slot->state[2 + i] = (int64_t)d->rng.s[i];
    return 0;
}

static void image_destroy(CliffLayer *l)
{
    ImageData *d = l->priv;
    if (!d) return;
    cliff_prefetch_free(&d->q); /* stops the producer before its state goes */
    for (int i = 0; i < d->n; i++) free(d->paths[i]);
    free(d->paths);
    free(d->labels);
    free(d->lines);
    free(d->order);
    cliff_transform_free(&d->tf);
    free(d);
    l->priv = NULL;
}

/* Reads the first image (at the starting cursor) for the output shape. */
static int first_image(ImageData *d, CliffError *err)
{
    CliffImage img;
    int first = d->order ? d->order[d->cursor] : (int)d->cursor;
    if (load_image(d, first, &img, err)) return -1;
    d->c = img.channels, d->h = img.height, d->w = img.width;
    cliff_image_free(&img);
    if (cliff_transform_check(&d->tf, d->c, d->h, d->w, d->out, err))
        return cliff_error_prefix(err, "%s:%ld: image '%s': ", d->source, d->lines[first],
                                  d->paths[first]);
    d->item = (size_t)d->out[0] * d->out[1] * d->out[2];
    return 0;
}

static int image_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)nb;
    const Cliff__ImageDataParameter *p = l->param->image_data_param;
    const Cliff__DataParameter *dp = l->param->data_param;
    if (!p || !p->source || !p->source[0])
        return cliff_error_set(err, "image_data_param.source is required");
    unsigned depth = dp ? dp->prefetch : 4;
    if (depth > 1024)
        return cliff_error_set(err, "data_param.prefetch %u is too large (at most 1024)", depth);
    ImageData *d = calloc(1, sizeof *d);
    if (!d) return cliff_error_set(err, "out of memory");
    l->priv = d;
    d->source = p->source;
    if (cliff_param_int(p->batch_size, "image_data_param.batch_size", &d->batch, err) ||
        cliff_param_int(p->new_height, "image_data_param.new_height", &d->new_h, err) ||
        cliff_param_int(p->new_width, "image_data_param.new_width", &d->new_w, err))
        return -1;
    if (d->batch < 1) return cliff_error_set(err, "image_data_param.batch_size must be > 0");
    if ((d->new_h > 0) != (d->new_w > 0))
        return cliff_error_set(err, "image_data_param.new_height and new_width must be set "
                               "together (%d, %d)", d->new_h, d->new_w);
    if (p->crop_size || p->mirror || (p->mean_file && p->mean_file[0]) || p->scale != 1)
        return cliff_error_set(err, "image_data_param's scale, mean_file, crop_size and mirror "
                               "are Caffe's deprecated forms: use transform_param");
    d->color = p->is_color ? 3 : 1;
    d->labels_top = nt > 1;
    if (cliff_transform_init(&d->tf, l->param->transform_param, l->phase, err)) return -1;
    if (read_list(d, p->root_folder ? p->root_folder : "", err)) return -1;
    /* the run's RNG: transform seed, shuffle seed, skip (Caffe's order of draws);
     * a net built without one (tests) uses a fixed stand-in */
    CliffRng fixed, *run = l->rng;
    if (!run) cliff_rng_seed(run = &fixed, 0);
    cliff_rng_seed(&d->rng, cliff_rng_next(run));
    if (p->shuffle) {
        d->shuffle_seed = cliff_rng_next(run);
        if (!(d->order = malloc((size_t)d->n * sizeof *d->order)))
            return cliff_error_set(err, "out of memory");
        make_order(d, 0);
    }
    if (p->rand_skip) {
        if (p->rand_skip > (uint32_t)d->n)
            return cliff_error_set(err, "image_data_param.rand_skip %u is more than the %d "
                                   "images listed", (unsigned)p->rand_skip, d->n);
        d->cursor = (int64_t)cliff_rng_below(run, p->rand_skip);
    }
    if (first_image(d, err)) return -1;
    int dims[4] = {d->batch, d->out[0], d->out[1], d->out[2]};
    if (cliff_tensor_reshape(top[0], 4, dims, err)) return -1;
    if (nt > 1 && cliff_tensor_reshape(top[1], 1, dims, err)) return -1;
    d->taken[0] = d->n;
    d->taken[1] = (int64_t)d->hash;
    d->taken[2] = d->cursor;
    for (int i = 0; i < 4; i++) d->taken[4 + i] = (int64_t)d->rng.s[i];
    return cliff_prefetch_init(&d->q, (int)depth, (size_t)d->batch * d->item,
                               (size_t)d->batch, fill_batch, d, err);
}

/* Takes the next batch; a batch that could not be read stops the forward. */
static int image_take(const CliffLayer *l, CliffTensor *const *bottom, int nb, CliffError *err)
{
    (void)bottom, (void)nb;
    ImageData *d = l->priv;
    if (!cliff_prefetch_take(&d->q, err)) return -1;
    d->held = 1;
    return 0;
}

/* Passes the taken batch's producer state into the snapshot words. */
static void image_release(ImageData *d, const CliffPrefetchSlot *s)
{
    memcpy(d->taken + 2, s->state, IMAGE_PRODUCER_WORDS * sizeof *s->state);
    cliff_prefetch_release(&d->q);
    d->held = 0;
}

static void image_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt)
{
    ImageData *d = l->priv;
    CliffError err;
    if (!d->held && image_take(l, bottom, nb, &err)) return; /* check_bottoms reported it */
    const CliffPrefetchSlot *s = cliff_prefetch_take(&d->q, &err);
    if (!s) return; /* a sharded rank's batch after a skip: the next take reports it */
    memcpy(top[0]->data, s->data, (size_t)d->batch * d->item * sizeof(float));
    if (nt > 1) memcpy(top[1]->data, s->label, (size_t)d->batch * sizeof(float));
    image_release(d, s);
}

/* Data-parallel runs (layer.h): passes over one batch as forward would (the
 * images are decoded: the crop draws depend on each image's size). A failed
 * batch stays at the head of the queue and is reported by the next take. */
static void image_skip(CliffLayer *l)
{
    ImageData *d = l->priv;
    CliffError err;
    const CliffPrefetchSlot *s = cliff_prefetch_take(&d->q, &err);
    if (s) image_release(d, s);
}

static size_t image_state_size(const CliffLayer *l)
{
    (void)l;
    return IMAGE_STATE_WORDS;
}

static void image_state_save(const CliffLayer *l, int64_t *out)
{
    const ImageData *d = l->priv;
    memcpy(out, d->taken, sizeof d->taken);
}

static int image_state_load(CliffLayer *l, const int64_t *in, size_t n, CliffError *err)
{
    ImageData *d = l->priv;
    if (n != IMAGE_STATE_WORDS)
        return cliff_error_set(err, "the saved ImageData state has %zu words, not %d", n,
                               IMAGE_STATE_WORDS);
    if (in[0] != d->n || in[1] != (int64_t)d->hash)
        return cliff_error_set(err, "the saved ImageData state is of a list of %lld images, "
                               "'%s' lists %d%s: the list or root_folder changed",
                               (long long)in[0], d->source, d->n,
                               in[0] == d->n ? " (other paths or labels)" : "");
    if (in[2] < 0 || in[2] >= d->n || in[3] < 0)
        return cliff_error_set(err, "the saved ImageData state is corrupt (cursor %lld, epoch "
                               "%lld)", (long long)in[2], (long long)in[3]);
    cliff_prefetch_reset(&d->q); /* stops the producer, drops batches made from the old state */
    d->held = 0;
    d->cursor = in[2];
    d->epoch = in[3];
    for (int i = 0; i < 4; i++) d->rng.s[i] = (uint64_t)in[4 + i];
    make_order(d, d->epoch);
    memcpy(d->taken, in, sizeof d->taken);
    return 0;
}

static void image_prefetch_stats(const CliffLayer *l, struct CliffPrefetchStats *out)
{
    ImageData *d = l->priv;
    if (d) cliff_prefetch_stats(&d->q, out);
    else memset(out, 0, sizeof *out);
}

const CliffLayerOps cliff_ops_ImageData = {
    .type = "ImageData",
    .min_bottoms = 0, .max_bottoms = 0,
    .min_tops = 1, .max_tops = 2,
    .setup = image_setup,
    .check_bottoms = image_take,
    .forward = image_forward,
    .destroy = image_destroy,
    .state_size = image_state_size,
    .state_save = image_state_save,
    .state_load = image_state_load,
    .skip = image_skip,
    .prefetch_stats = image_prefetch_stats,
};
