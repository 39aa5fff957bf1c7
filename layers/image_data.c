/* ImageData: Caffe's ImageDataLayer. image_data_param.source lists images as
 * "path label" lines (the label is the integer after the LAST space, so paths
 * may hold spaces; blank lines are skipped); root_folder is prepended to each
 * path as written (no separator added, as Caffe). Images are decoded as
 * OpenCV's imread would (layers/data/image_codec.h: PNG or JPEG, is_color ->
 * 3 channels B, G, R, else 1 gray), resized to new_height x new_width when
 * both are set (cv::resize INTER_LINEAR), then put through transform_param
 * (layers/data/transform.h).
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
 * The next batch is read in check_bottoms (the net's fallible step before
 * forward), so a missing or undecodable image stops the forward with an error
 * naming the path and its list line; forward copies it to the tops. Every
 * listed file is checked to exist at setup.
 *
 * Resumable state (8 words): list size, list hash, cursor, epoch, then the
 * transform RNG's four words (its own, seeded from one draw of the run's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/image_codec.h"
#include "data/transform.h"
#include "layer.h"

#define IMAGE_STATE_WORDS 8

typedef struct ImageData {
    int n;          /* images listed */
    char **paths;   /* root_folder + path, per image */
    int *labels;
    long *lines;    /* list-file line of each image */
    char *source;
    uint64_t hash;  /* of the paths and labels, to tell a changed list on resume */
    int color, new_h, new_w;
    CliffTransform tf;
    int batch, labels_top;
    int c, h, w;    /* the first image's shape (after the resize) */
    int out[3];     /* transform output C, h, w */
    size_t item;    /* floats per output image */
    int shuffle;
    uint64_t shuffle_seed;
    int *order;     /* this epoch's permutation (shuffle) or NULL */
    int64_t cursor, epoch;
    CliffRng rng;   /* transform draws */
    float *data, *label; /* the batch read by check_bottoms */
} ImageData;

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
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

/* One "path label" line (blank-trimmed, non-empty) into the list. */
static int add_line(ImageData *d, const char *root, char *s, long lineno, CliffError *err)
{
    char *sp = strrchr(s, ' '), *tab = strrchr(s, '\t');
    if (tab && (!sp || tab > sp)) sp = tab;
    if (!sp)
        return cliff_error_set(err, "%s:%ld: '%s' has no label (a line is 'path label')",
                               d->source, lineno, s);
    char *end;
    errno = 0;
    long label = strtol(sp + 1, &end, 10);
    if (end == sp + 1 || *end || errno || label < INT32_MIN || label > INT32_MAX)
        return cliff_error_set(err, "%s:%ld: label '%s' is not an integer", d->source, lineno,
                               sp + 1);
    while (sp > s && (sp[-1] == ' ' || sp[-1] == '\t')) sp--;
    *sp = 0;
    size_t need = strlen(root) + strlen(s) + 1;
    char *path = malloc(need);
    char **paths = realloc(d->paths, (size_t)(d->n + 1) * sizeof *paths);
    if (paths) d->paths = paths;
    int *labels = realloc(d->labels, (size_t)(d->n + 1) * sizeof *labels);
    if (labels) d->labels = labels;
    long *lines = realloc(d->lines, (size_t)(d->n + 1) * sizeof *lines);
    if (lines) d->lines = lines;
    if (!path || !paths || !labels || !lines) {
        free(path);
        return cliff_error_set(err, "out of memory reading %s", d->source);
    }
    snprintf(path, need, "%s%s", root, s);
    struct stat st;
    const char *why = stat(path, &st) != 0 ? strerror(errno)
                      : !S_ISREG(st.st_mode) ? "not a regular file" : NULL;
    if (why) {
        cliff_error_set(err, "%s:%ld: image '%s': %s", d->source, lineno, path, why);
        free(path);
        return cliff_error_mark(err, CLIFF_ERR_DATA);
    }
    d->paths[d->n] = path;
    d->labels[d->n] = (int)label;
    d->lines[d->n++] = lineno;
    d->hash = fnv1a(fnv1a(d->hash, path, strlen(path) + 1), &label, sizeof label);
    return 0;
}

static int read_list(ImageData *d, const char *root, CliffError *err)
{
    FILE *f = fopen(d->source, "r");
    if (!f)
        return cliff_error_set(err, "cannot open image_data_param.source '%s': %s", d->source,
                               strerror(errno)), cliff_error_mark(err, CLIFF_ERR_DATA);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    d->hash = 0xCBF29CE484222325ull;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *s = line, *e = line + len;
        if (memchr(line, 0, (size_t)len)) {
            rc = cliff_error_set(err, "%s:%ld: the line holds a NUL byte", d->source, lineno);
            break;
        }
        while (*s == ' ' || *s == '\t') s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
        *e = 0;
        if (*s) rc = add_line(d, root, s, lineno, err);
    }
    free(line);
    fclose(f);
    if (rc == 0 && d->n == 0)
        rc = cliff_error_set(err, "image_data_param.source '%s' lists no images", d->source);
    return rc ? cliff_error_mark(err, CLIFF_ERR_DATA) : 0;
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
        if (rc) return cliff_error_prefix(err, "%s:%ld: image '%s': ", d->source, d->lines[i],
                                          d->paths[i]);
        *img = r;
    }
    return 0;
}

static void image_destroy(CliffLayer *l)
{
    ImageData *d = l->priv;
    if (!d) return;
    for (int i = 0; i < d->n; i++) free(d->paths[i]);
    free(d->paths);
    free(d->labels);
    free(d->lines);
    free(d->order);
    free(d->data);
    free(d->label);
    cliff_transform_free(&d->tf);
    free(d);
    l->priv = NULL;
}

static int image_setup(CliffLayer *l, CliffTensor *const *bottom, int nb,
                       CliffTensor *const *top, int nt, CliffError *err)
{
    (void)bottom, (void)nb;
    const Cliff__ImageDataParameter *p = l->param->image_data_param;
    if (!p || !p->source || !p->source[0])
        return cliff_error_set(err, "image_data_param.source is required");
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
    d->shuffle = p->shuffle;
    if (d->shuffle) {
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
    CliffImage img;
    int first = d->order ? d->order[d->cursor] : (int)d->cursor;
    if (load_image(d, first, &img, err)) return -1;
    d->c = img.channels, d->h = img.height, d->w = img.width;
    cliff_image_free(&img);
    if (cliff_transform_check(&d->tf, d->c, d->h, d->w, d->out, err))
        return cliff_error_prefix(err, "%s:%ld: image '%s': ", d->source, d->lines[first],
                                  d->paths[first]);
    d->item = (size_t)d->out[0] * d->out[1] * d->out[2];
    if (!(d->data = malloc((size_t)d->batch * d->item * sizeof(float))) ||
        !(d->label = malloc((size_t)d->batch * sizeof(float))))
        return cliff_error_set(err, "out of memory for a batch of %d images", d->batch);
    int dims[4] = {d->batch, d->out[0], d->out[1], d->out[2]};
    if (cliff_tensor_reshape(top[0], 4, dims, err)) return -1;
    if (nt > 1 && cliff_tensor_reshape(top[1], 1, dims, err)) return -1;
    return 0;
}

/* Reads the next batch into d->data / d->label; the cursor moves only when
 * the whole batch was read. */
static int image_next_batch(const CliffLayer *l, CliffTensor *const *bottom, int nb,
                            CliffError *err)
{
    (void)bottom, (void)nb;
    ImageData *d = l->priv;
    int64_t cursor = d->cursor, epoch = d->epoch;
    CliffRng rng = d->rng;
    for (int b = 0; b < d->batch; b++) {
        int i = d->order ? d->order[cursor] : (int)cursor;
        CliffImage img;
        if (load_image(d, i, &img, err)) goto fail;
        int out[3];
        if (img.channels != d->c || img.height != d->h || img.width != d->w) {
            int rc = cliff_transform_check(&d->tf, img.channels, img.height, img.width, out, err);
            if (rc == 0 && memcmp(out, d->out, sizeof out))
                rc = cliff_error_set(err, "is %d x %d x %d, the first image %d x %d x %d: set "
                                     "new_height and new_width, or a crop_size both allow",
                                     img.channels, img.height, img.width, d->c, d->h, d->w);
            if (rc) {
                cliff_image_free(&img);
                cliff_error_prefix(err, "%s:%ld: image '%s': ", d->source, d->lines[i],
                                   d->paths[i]);
                cliff_error_mark(err, CLIFF_ERR_DATA);
                goto fail;
            }
        }
        CliffImageView v = cliff_image_chw_u8(img.px, img.channels, img.height, img.width);
        cliff_transform_apply(&d->tf, &v, &rng, d->data + (size_t)b * d->item);
        d->label[b] = (float)d->labels[i];
        cliff_image_free(&img);
        if (++cursor == d->n) {
            cursor = 0;
            make_order(d, ++epoch);
        }
    }
    d->cursor = cursor, d->epoch = epoch, d->rng = rng;
    return 0;
fail:
    make_order(d, d->epoch); /* the order of the epoch the cursor is still in */
    return -1;
}

static void image_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                          CliffTensor *const *top, int nt)
{
    (void)bottom, (void)nb;
    ImageData *d = l->priv;
    memcpy(top[0]->data, d->data, (size_t)d->batch * d->item * sizeof(float));
    if (nt > 1) memcpy(top[1]->data, d->label, (size_t)d->batch * sizeof(float));
}

static size_t image_state_size(const CliffLayer *l)
{
    (void)l;
    return IMAGE_STATE_WORDS;
}

static void image_state_save(const CliffLayer *l, int64_t *out)
{
    const ImageData *d = l->priv;
    out[0] = d->n;
    out[1] = (int64_t)d->hash;
    out[2] = d->cursor;
    out[3] = d->epoch;
    for (int i = 0; i < 4; i++) out[4 + i] = (int64_t)d->rng.s[i];
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
    d->cursor = in[2];
    d->epoch = in[3];
    for (int i = 0; i < 4; i++) d->rng.s[i] = (uint64_t)in[4 + i];
    make_order(d, d->epoch);
    return 0;
}

static size_t image_workspace(const CliffLayer *l)
{
    const ImageData *d = l->priv;
    return (size_t)d->batch * (d->item + 1) * sizeof(float);
}

const CliffLayerOps cliff_ops_ImageData = {
    .type = "ImageData",
    .min_bottoms = 0, .max_bottoms = 0,
    .min_tops = 1, .max_tops = 2,
    .setup = image_setup,
    .check_bottoms = image_next_batch,
    .forward = image_forward,
    .destroy = image_destroy,
    .state_size = image_state_size,
    .state_save = image_state_save,
    .state_load = image_state_load,
    .workspace_bytes = image_workspace,
};
