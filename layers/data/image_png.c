/* PNG through libpng, with the transformations OpenCV's PNG decoder asks of
 * libpng (16 -> 8 bits, alpha stripped, palette and low-depth gray expanded,
 * rgb-to-gray with 0.299 / 0.587, gray-to-rgb), so the pixels are OpenCV's.
 * libpng reports errors by longjmp: each entry point keeps what must be freed
 * in a context owned by its caller-side half, and the setjmp lives in a
 * second function that never changes a local after it (C11 7.13.2.1). */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "image_codec.h"

typedef struct PngCtx {
    png_structp png;
    png_infop info;
    const uint8_t *in;    /* decode: the encoded bytes */
    size_t in_len, in_pos;
    uint8_t *buf;         /* decode: interleaved rows; encode: the output */
    size_t buf_len, buf_cap;
    png_bytep *rows;      /* decode: row pointers into buf */
    char msg[256];        /* libpng's message of the error that longjmp'd */
} PngCtx;

static void on_error(png_structp png, png_const_charp msg)
{
    PngCtx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* Warnings (bad ancillary chunks, ...) do not stop OpenCV; nothing prints here. */
static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void read_mem(png_structp png, png_bytep data, size_t n)
{
    PngCtx *c = png_get_io_ptr(png);
    if (n > c->in_len - c->in_pos) png_error(png, "the data ends early (truncated)");
    memcpy(data, c->in + c->in_pos, n);
    c->in_pos += n;
}

/* The decode proper; -1 after a libpng error (message in c->msg) or with err
 * filled (c->msg empty). */
static int png_decode_jmp(PngCtx *c, int channels, size_t max_pixels, CliffImage *out,
                          CliffError *err)
{
    if (setjmp(png_jmpbuf(c->png))) return -1;
    png_set_read_fn(c->png, c, read_mem);
    png_read_info(c->png, c->info);
    png_uint_32 w, h;
    int depth, ctype;
    png_get_IHDR(c->png, c->info, &w, &h, &depth, &ctype, NULL, NULL, NULL);
    int color_in = (ctype & PNG_COLOR_MASK_COLOR) != 0;
    /* IMREAD_ANYCOLOR: OpenCV's PNG type has several channels for color,
     * palette and gray+alpha files */
    int want = channels ? channels : (color_in || (ctype & PNG_COLOR_MASK_ALPHA)) ? 3 : 1;
    if (depth == 16) png_set_strip_16(c->png);
    png_set_strip_alpha(c->png);
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(c->png);
    if (!color_in && depth < 8) png_set_expand_gray_1_2_4_to_8(c->png);
    if (color_in && want == 1) png_set_rgb_to_gray(c->png, 1, 0.299, 0.587);
    else if (!color_in && want == 3) png_set_gray_to_rgb(c->png);
    png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    size_t rowbytes = png_get_rowbytes(c->png, c->info);
    if (png_get_channels(c->png, c->info) != want || rowbytes != (size_t)w * (size_t)want)
        png_error(c->png, "unexpected sample layout after conversion");
    if (cliff_image_alloc(out, want, h, w, max_pixels, err)) return -1;
    if (!(c->buf = malloc((size_t)h * rowbytes)) || !(c->rows = malloc(h * sizeof *c->rows)))
        return cliff_error_set(err, "out of memory decoding a PNG of %u x %u", (unsigned)h,
                               (unsigned)w);
    for (png_uint_32 y = 0; y < h; y++) c->rows[y] = c->buf + (size_t)y * rowbytes;
    png_read_image(c->png, c->rows);
    png_read_end(c->png, NULL);
    /* interleaved R, G, B (or gray) rows -> B, G, R planes */
    size_t plane = (size_t)h * w;
    for (size_t y = 0; y < h; y++) {
        const uint8_t *r = c->rows[y];
        uint8_t *o = out->px + y * w;
        if (want == 1) memcpy(o, r, w);
        else
            for (size_t x = 0; x < w; x++) {
                o[x] = r[3 * x + 2];
                o[plane + x] = r[3 * x + 1];
                o[2 * plane + x] = r[3 * x];
            }
    }
    return 0;
}

int cliff_png_decode(const uint8_t *buf, size_t len, int channels, size_t max_pixels,
                     CliffImage *out, CliffError *err)
{
    PngCtx c = {.in = buf, .in_len = len};
    c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, on_error, on_warning);
    if (!c.png || !(c.info = png_create_info_struct(c.png))) {
        png_destroy_read_struct(c.png ? &c.png : NULL, NULL, NULL);
        return cliff_error_set(err, "out of memory starting the PNG decoder");
    }
    int rc = png_decode_jmp(&c, channels, max_pixels, out, err);
    if (rc && c.msg[0]) cliff_error_set(err, "PNG: %s", c.msg);
    if (rc) cliff_image_free(out);
    png_destroy_read_struct(&c.png, &c.info, NULL);
    free(c.rows);
    free(c.buf);
    return rc;
}

static void write_mem(png_structp png, png_bytep data, size_t n)
{
    PngCtx *c = png_get_io_ptr(png);
    if (n > c->buf_cap - c->buf_len) {
        size_t cap = c->buf_cap ? c->buf_cap : 4096;
        while (cap - c->buf_len < n) cap *= 2;
        uint8_t *b = realloc(c->buf, cap);
        if (!b) png_error(png, "out of memory");
        c->buf = b;
        c->buf_cap = cap;
    }
    memcpy(c->buf + c->buf_len, data, n);
    c->buf_len += n;
}

static void flush_mem(png_structp png) { (void)png; }

static int png_encode_jmp(PngCtx *c, const CliffImage *img, CliffError *err)
{
    if (setjmp(png_jmpbuf(c->png))) return -1;
    size_t w = (size_t)img->width, plane = (size_t)img->height * w;
    png_set_write_fn(c->png, c, write_mem, flush_mem);
    png_set_IHDR(c->png, c->info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 img->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    /* cv::imencode's defaults for PNG (tuned for speed) */
    png_set_filter(c->png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
    png_set_compression_level(c->png, Z_BEST_SPEED);
    png_set_compression_strategy(c->png, Z_RLE);
    png_write_info(c->png, c->info);
    if (!(c->rows = calloc(1, sizeof *c->rows)) || !(c->rows[0] = malloc(w * 3)))
        return cliff_error_set(err, "out of memory encoding a PNG");
    for (int y = 0; y < img->height; y++) {
        const uint8_t *p = img->px + (size_t)y * w;
        uint8_t *r = c->rows[0];
        if (img->channels == 1) memcpy(r, p, w);
        else
            for (size_t x = 0; x < w; x++) {
                r[3 * x] = p[2 * plane + x];
                r[3 * x + 1] = p[plane + x];
                r[3 * x + 2] = p[x];
            }
        png_write_row(c->png, r);
    }
    png_write_end(c->png, NULL);
    return 0;
}

int cliff_png_encode(const CliffImage *img, uint8_t **out, size_t *len, CliffError *err)
{
    PngCtx c = {0};
    c.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, on_error, on_warning);
    if (!c.png || !(c.info = png_create_info_struct(c.png))) {
        png_destroy_write_struct(c.png ? &c.png : NULL, NULL);
        return cliff_error_set(err, "out of memory starting the PNG encoder");
    }
    int rc = png_encode_jmp(&c, img, err);
    if (rc && c.msg[0]) cliff_error_set(err, "PNG: %s", c.msg);
    png_destroy_write_struct(&c.png, &c.info);
    if (c.rows) free(c.rows[0]);
    free(c.rows);
    if (rc) {
        free(c.buf);
        return rc;
    }
    *out = c.buf;
    *len = c.buf_len;
    return 0;
}
