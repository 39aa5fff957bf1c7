/* Caffe's transform_param: crop, mirror, mean, scale (contract in transform.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "proto/config.h"
#include "transform.h"

CliffImageView cliff_image_chw_u8(const uint8_t *px, int c, int h, int w)
{
    CliffImageView v = {c, h, w, px, NULL, (size_t)h * (size_t)w, (size_t)w, 1};
    return v;
}

CliffImageView cliff_image_chw_f32(const float *px, int c, int h, int w)
{
    CliffImageView v = {c, h, w, NULL, px, (size_t)h * (size_t)w, (size_t)w, 1};
    return v;
}

CliffImageView cliff_image_hwc_u8(const uint8_t *px, int c, int h, int w)
{
    CliffImageView v = {c, h, w, px, NULL, 1, (size_t)w * (size_t)c, (size_t)c};
    return v;
}

int cliff_read_mean_file(const char *path, float **out, int *c, int *h, int *w, CliffError *err)
{
    *out = NULL;
    char *buf;
    size_t len;
    if (cliff_config_slurp(path, &buf, &len, err)) return -1;
    Cliff__BlobProto *b = cliff__blob_proto__unpack(NULL, len, (const uint8_t *)buf);
    free(buf);
    if (!b) return cliff_error_set(err, "mean file '%s' is not a BlobProto (.binaryproto)", path);
    int64_t d[3] = {0, 0, 0};
    int ok = 1;
    if (b->shape && b->shape->n_dim) {
        size_t n = b->shape->n_dim;
        ok = (n == 4 && b->shape->dim[0] == 1) || n == 3;
        for (size_t i = 0; ok && i < 3; i++) d[i] = b->shape->dim[n - 3 + i];
    } else {
        ok = (!b->has_num || b->num == 1);
        d[0] = b->channels;
        d[1] = b->height;
        d[2] = b->width;
    }
    size_t count = 0;
    for (int i = 0; ok && i < 3; i++) ok = d[i] > 0 && d[i] <= INT_MAX / 4;
    if (ok) ok = d[0] * d[1] <= INT_MAX && d[0] * d[1] * d[2] <= INT_MAX;
    if (!ok) {
        cliff__blob_proto__free_unpacked(b, NULL);
        return cliff_error_set(err, "mean file '%s': shape is not 1 x C x H x W (C, H, W >= 1)",
                               path);
    }
    count = (size_t)(d[0] * d[1] * d[2]);
    size_t have = b->n_data ? b->n_data : b->n_double_data;
    if (have != count) {
        cliff_error_set(err, "mean file '%s' holds %zu values for a %lld x %lld x %lld image "
                        "(%zu expected)", path, have, (long long)d[0], (long long)d[1],
                        (long long)d[2], count);
        cliff__blob_proto__free_unpacked(b, NULL);
        return -1;
    }
    float *m = malloc(count * sizeof *m);
    if (!m) {
        cliff__blob_proto__free_unpacked(b, NULL);
        return cliff_error_set(err, "mean file '%s': out of memory", path);
    }
    for (size_t i = 0; i < count; i++) m[i] = b->n_data ? b->data[i] : (float)b->double_data[i];
    cliff__blob_proto__free_unpacked(b, NULL);
    *out = m;
    *c = (int)d[0];
    *h = (int)d[1];
    *w = (int)d[2];
    return 0;
}

int cliff_transform_init(CliffTransform *t, const Cliff__TransformationParameter *p, int phase,
                         CliffError *err)
{
    memset(t, 0, sizeof *t);
    t->phase = phase;
    t->scale = 1;
    if (!p) return 0;
    t->scale = p->scale; /* protobuf-c fills the default 1 */
    t->mirror = p->mirror != 0;
    if (p->crop_size > (uint32_t)INT_MAX)
        return cliff_error_set(err, "transform_param.crop_size %u is too large",
                               (unsigned)p->crop_size);
    t->crop = (int)p->crop_size;
    if (p->force_color && p->force_gray)
        return cliff_error_set(err, "transform_param: force_color and force_gray cannot both be "
                                    "set");
    t->decode_channels = p->force_color ? 3 : p->force_gray ? 1 : 0;
    int has_file = p->mean_file && p->mean_file[0];
    if (has_file && p->n_mean_value)
        return cliff_error_set(err, "transform_param: mean_file and mean_value cannot both be "
                                    "set");
    if (p->n_mean_value > CLIFF_TRANSFORM_MAX_MEAN_VALUES)
        return cliff_error_set(err, "transform_param: %zu mean_value entries (at most %d)",
                               p->n_mean_value, CLIFF_TRANSFORM_MAX_MEAN_VALUES);
    t->nmean_values = (int)p->n_mean_value;
    for (size_t i = 0; i < p->n_mean_value; i++) t->mean_values[i] = p->mean_value[i];
    if (has_file) {
        if (cliff_read_mean_file(p->mean_file, &t->mean, &t->mean_c, &t->mean_h, &t->mean_w,
                                 err))
            return cliff_error_prefix(err, "transform_param.mean_file: "),
                   cliff_error_mark(err, CLIFF_ERR_DATA); /* the file is at fault */
        t->mean_file = strdup(p->mean_file);
        if (!t->mean_file) {
            cliff_transform_free(t);
            return cliff_error_set(err, "out of memory");
        }
    }
    return 0;
}

void cliff_transform_free(CliffTransform *t)
{
    free(t->mean);
    free(t->mean_file);
    t->mean = NULL;
    t->mean_file = NULL;
}

int cliff_transform_check(const CliffTransform *t, int c, int h, int w, int out[3],
                          CliffError *err)
{
    /* every refusal here is the data's: its shape does not fit the transform */
    int fits = 0;
    if (c < 1 || h < 1 || w < 1)
        cliff_error_set(err, "image of %d x %d x %d pixels (each must be >= 1)", c, h, w);
    else if (t->crop && (t->crop > h || t->crop > w))
        cliff_error_set(err, "transform_param.crop_size %d is larger than the %d x %d image",
                        t->crop, h, w);
    else if (t->mean && (t->mean_c != c || t->mean_h != h || t->mean_w != w))
        cliff_error_set(err, "mean file '%s' is %d x %d x %d but the data is %d x %d x %d (C x "
                        "H x W)", t->mean_file, t->mean_c, t->mean_h, t->mean_w, c, h, w);
    else if (t->nmean_values > 1 && t->nmean_values != c)
        cliff_error_set(err, "transform_param has %d mean_value entries for %d-channel data "
                        "(give 1 or %d)", t->nmean_values, c, c);
    else
        fits = 1;
    if (!fits) return cliff_error_mark(err, CLIFF_ERR_DATA);
    out[0] = c;
    out[1] = t->crop ? t->crop : h;
    out[2] = t->crop ? t->crop : w;
    return 0;
}

void cliff_transform_draw(const CliffTransform *t, int H, int W, CliffRng *rng, int *mirror,
                          int *h_off, int *w_off)
{
    *mirror = t->mirror && cliff_rng_below(rng, 2);
    *h_off = *w_off = 0;
    if (!t->crop) return;
    if (t->phase == CLIFF__PHASE__TRAIN) {
        *h_off = (int)cliff_rng_below(rng, (uint64_t)(H - t->crop + 1));
        *w_off = (int)cliff_rng_below(rng, (uint64_t)(W - t->crop + 1));
    } else {
        *h_off = (H - t->crop) / 2;
        *w_off = (W - t->crop) / 2;
    }
}

void cliff_transform_apply(const CliffTransform *t, const CliffImageView *in, CliffRng *rng,
                           float *out)
{
    const int C = in->channels, H = in->height, W = in->width;
    int mirror, h_off, w_off;
    cliff_transform_draw(t, H, W, rng, &mirror, &h_off, &w_off);
    const int oh = t->crop ? t->crop : H, ow = t->crop ? t->crop : W;
    const float scale = t->scale;
    for (int c = 0; c < C; c++) {
        const float mv = t->nmean_values ? t->mean_values[t->nmean_values == 1 ? 0 : c] : 0;
        for (int y = 0; y < oh; y++) {
            const int sy = h_off + y;
            const size_t src = (size_t)c * in->stride_c + (size_t)sy * in->stride_y +
                               (size_t)w_off * in->stride_x;
            /* the mean image is packed C x H x W, read at the source position */
            const float *mrow = t->mean ? t->mean + ((size_t)c * H + sy) * W + w_off : NULL;
            float *orow = out + ((size_t)c * oh + y) * ow;
            for (int x = 0; x < ow; x++) {
                size_t e = src + (size_t)x * in->stride_x;
                float v = in->u8 ? (float)in->u8[e] : in->f32[e];
                float m = mrow ? mrow[x] : mv;
                orow[mirror ? ow - 1 - x : x] = (v - m) * scale;
            }
        }
    }
}
