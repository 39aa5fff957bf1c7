/* JPEG through libjpeg(-turbo) with its default decoding settings (islow
 * IDCT, fancy upsampling), as OpenCV's JPEG decoder uses it, so the pixels
 * are OpenCV's: color output is libjpeg's RGB put in B, G, R planes, gray
 * output libjpeg's GRAYSCALE conversion, and 4-component (CMYK / YCCK) files
 * are read as CMYK and converted with OpenCV's formula (cmyk_to_rgb below).
 * libjpeg's default error handler prints and exits: it is replaced by one that
 * longjmps back, and its warnings are silent except "premature end of file",
 * which is an error here (OpenCV would return the missing rows gray). */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "image_codec.h"

typedef struct JpegCtx {
    struct jpeg_error_mgr mgr; /* first: libjpeg hands back a pointer to it */
    jmp_buf jmp;
    char msg[JMSG_LENGTH_MAX];
    uint8_t *row;              /* one interleaved output / input row */
    struct jpeg_destination_mgr dest; /* encode: growable buffer below */
    uint8_t *out;
    size_t out_cap, out_len;
} JpegCtx;

static void on_error(j_common_ptr cinfo)
{
    JpegCtx *c = (JpegCtx *)cinfo->err;
    c->mgr.format_message(cinfo, c->msg);
    longjmp(c->jmp, 1);
}

/* level -1: a warning (corrupt data); >= 0: trace messages. Only the end of
 * the data is fatal: the rest of the image would be made up. */
static void on_message(j_common_ptr cinfo, int level)
{
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error(cinfo);
}

/* OpenCV's CMYK conversions (its icvCvt_CMYK2BGR / CMYK2Gray): Adobe files
 * store inverted inks, so with k the stored K, each of C, M, Y becomes
 * k - ((255 - v) * k >> 8), giving R, G, B; gray is their BT.601 sum in
 * 14-bit fixed point (4899, 9617, 1868), rounded. */
static void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb3)
{
    int k = cmyk[3];
    for (int i = 0; i < 3; i++) rgb3[i] = (uint8_t)(k - ((255 - cmyk[i]) * k >> 8));
}

static int jpeg_decode_jmp(JpegCtx *c, struct jpeg_decompress_struct *d, const uint8_t *buf,
                           size_t len, int channels, size_t max_pixels, CliffImage *out,
                           CliffError *err)
{
    if (setjmp(c->jmp)) return -1;
    jpeg_create_decompress(d);
    jpeg_mem_src(d, buf, (unsigned long)len);
    jpeg_read_header(d, TRUE);
    /* bound the size before libjpeg allocates for it */
    if (cliff_image_alloc(out, 1, d->image_height, d->image_width, max_pixels, err)) return -1;
    cliff_image_free(out);
    int cmyk = d->num_components == 4;
    int want = channels ? channels : d->num_components > 1 ? 3 : 1;
    d->out_color_space = cmyk ? JCS_CMYK : want == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_start_decompress(d);
    size_t w = d->output_width, h = d->output_height, comps = (size_t)d->output_components;
    if (comps != (cmyk ? 4u : (size_t)want))
        return cliff_error_set(err, "JPEG: unexpected %zu output components", comps);
    if (cliff_image_alloc(out, want, h, w, max_pixels, err)) return -1;
    if (!(c->row = malloc(w * comps)))
        return cliff_error_set(err, "out of memory decoding a JPEG of %zu x %zu", h, w);
    size_t plane = h * w;
    while (d->output_scanline < h) {
        size_t y = d->output_scanline;
        JSAMPROW r = c->row;
        if (jpeg_read_scanlines(d, &r, 1) != 1)
            return cliff_error_set(err, "JPEG: no scanline %zu", y);
        uint8_t *o = out->px + y * w;
        for (size_t x = 0; x < w; x++) {
            uint8_t rgb[3];
            const uint8_t *s = c->row + x * comps;
            if (cmyk) {
                cmyk_to_rgb(s, rgb);
                s = rgb;
            }
            if (want == 3) {
                o[x] = s[2];
                o[plane + x] = s[1];
                o[2 * plane + x] = s[0];
            } else if (cmyk) {
                o[x] = (uint8_t)((s[0] * 4899 + s[1] * 9617 + s[2] * 1868 + (1 << 13)) >> 14);
            } else {
                o[x] = s[0];
            }
        }
    }
    /* No jpeg_finish_decompress: every row is read, and a file missing only
     * its end marker decodes, as in OpenCV. */
    return 0;
}

int cliff_jpeg_decode(const uint8_t *buf, size_t len, int channels, size_t max_pixels,
                      CliffImage *out, CliffError *err)
{
    JpegCtx c = {0};
    struct jpeg_decompress_struct d;
    memset(&d, 0, sizeof d);
    d.err = jpeg_std_error(&c.mgr);
    c.mgr.error_exit = on_error;
    c.mgr.emit_message = on_message;
    int rc = jpeg_decode_jmp(&c, &d, buf, len, channels, max_pixels, out, err);
    if (rc && c.msg[0]) cliff_error_set(err, "JPEG: %s", c.msg);
    if (rc) cliff_image_free(out);
    jpeg_destroy_decompress(&d);
    free(c.row);
    return rc;
}

/* A destination that grows c->out (libjpeg's own memory destination keeps
 * its buffer out of reach after an error). */
static void dest_init(j_compress_ptr cinfo)
{
    JpegCtx *c = (JpegCtx *)cinfo->err;
    c->out_cap = 65536;
    if (!(c->out = malloc(c->out_cap))) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
    c->dest.next_output_byte = c->out;
    c->dest.free_in_buffer = c->out_cap;
}

static boolean dest_grow(j_compress_ptr cinfo)
{
    JpegCtx *c = (JpegCtx *)cinfo->err;
    uint8_t *b = realloc(c->out, c->out_cap * 2);
    if (!b) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 1);
    c->out = b;
    c->dest.next_output_byte = b + c->out_cap; /* a full buffer is handed back */
    c->dest.free_in_buffer = c->out_cap;
    c->out_cap *= 2;
    return TRUE;
}

static void dest_term(j_compress_ptr cinfo)
{
    JpegCtx *c = (JpegCtx *)cinfo->err;
    c->out_len = c->out_cap - c->dest.free_in_buffer;
}

static int jpeg_encode_jmp(JpegCtx *c, struct jpeg_compress_struct *e, const CliffImage *img,
                           CliffError *err)
{
    if (setjmp(c->jmp)) return -1;
    jpeg_create_compress(e);
    c->dest.init_destination = dest_init;
    c->dest.empty_output_buffer = dest_grow;
    c->dest.term_destination = dest_term;
    e->dest = &c->dest;
    e->image_width = (JDIMENSION)img->width;
    e->image_height = (JDIMENSION)img->height;
    e->input_components = img->channels;
    e->in_color_space = img->channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(e);
    jpeg_set_quality(e, 95, TRUE); /* cv::imencode's default quality */
    size_t w = (size_t)img->width, plane = (size_t)img->height * w;
    if (!(c->row = malloc(w * (size_t)img->channels)))
        return cliff_error_set(err, "out of memory encoding a JPEG");
    jpeg_start_compress(e, TRUE);
    for (int y = 0; y < img->height; y++) {
        const uint8_t *p = img->px + (size_t)y * w;
        if (img->channels == 1) memcpy(c->row, p, w);
        else
            for (size_t x = 0; x < w; x++) {
                c->row[3 * x] = p[2 * plane + x];
                c->row[3 * x + 1] = p[plane + x];
                c->row[3 * x + 2] = p[x];
            }
        JSAMPROW r = c->row;
        jpeg_write_scanlines(e, &r, 1);
    }
    jpeg_finish_compress(e);
    return 0;
}

int cliff_jpeg_encode(const CliffImage *img, uint8_t **out, size_t *len, CliffError *err)
{
    if (img->width > JPEG_MAX_DIMENSION || img->height > JPEG_MAX_DIMENSION)
        return cliff_error_set(err, "JPEG: an image of %d x %d is larger than JPEG allows (%d)",
                               img->height, img->width, (int)JPEG_MAX_DIMENSION);
    JpegCtx c = {0};
    struct jpeg_compress_struct e;
    memset(&e, 0, sizeof e);
    e.err = jpeg_std_error(&c.mgr);
    c.mgr.error_exit = on_error;
    c.mgr.emit_message = on_message;
    int rc = jpeg_encode_jmp(&c, &e, img, err);
    if (rc && c.msg[0]) cliff_error_set(err, "JPEG: %s", c.msg);
    jpeg_destroy_compress(&e);
    free(c.row);
    if (rc) {
        free(c.out);
        return rc;
    }
    *out = c.out;
    *len = c.out_len;
    return 0;
}
