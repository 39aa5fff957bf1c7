/* Format dispatch, file reading and allocation of images (image_codec.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "image_codec.h"

int cliff_image_alloc(CliffImage *img, int channels, size_t height, size_t width,
                      size_t max_pixels, CliffError *err)
{
    memset(img, 0, sizeof *img);
    if (height == 0 || width == 0)
        return cliff_error_set(err, "image of %zu x %zu pixels", height, width);
    if (height > max_pixels / width)
        return cliff_error_set(err, "image of %zu x %zu pixels is too large (at most %zu pixels)",
                               height, width, max_pixels);
    /* max_pixels <= 2^27 keeps channels * pixels within int for the tensors */
    if (!(img->px = malloc((size_t)channels * height * width)))
        return cliff_error_set(err, "out of memory for an image of %zu x %zu pixels", height,
                               width);
    img->channels = channels;
    img->height = (int)height;
    img->width = (int)width;
    return 0;
}

void cliff_image_free(CliffImage *img)
{
    free(img->px);
    memset(img, 0, sizeof *img);
}

/* Which decoder; errors unmarked (cliff_image_decode_bounded marks them). */
static int decode_any(const uint8_t *b, size_t len, int channels, size_t max_pixels,
                      CliffImage *out, CliffError *err)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const uint8_t jpeg_soi[3] = {0xff, 0xd8, 0xff};
    if (channels != 0 && channels != 1 && channels != 3)
        return cliff_error_set(err, "images decode to 1 or 3 channels (or as stored), not %d",
                               channels);
    if (max_pixels > CLIFF_IMAGE_MAX_PIXELS) max_pixels = CLIFF_IMAGE_MAX_PIXELS;
    if (len >= sizeof png_sig && memcmp(b, png_sig, sizeof png_sig) == 0)
        return cliff_png_decode(b, len, channels, max_pixels, out, err);
    if (len >= sizeof jpeg_soi && memcmp(b, jpeg_soi, sizeof jpeg_soi) == 0)
        return cliff_jpeg_decode(b, len, channels, max_pixels, out, err);
    if (len == 0) return cliff_error_set(err, "empty image data");
    return cliff_error_set(err, "not a PNG or JPEG image (unsupported format or not an image)");
}

/* Every failure is the data's (CLIFF_ERR_DATA: train exits with the data code). */
int cliff_image_decode_bounded(const void *buf, size_t len, int channels, size_t max_pixels,
                               CliffImage *out, CliffError *err)
{
    memset(out, 0, sizeof *out);
    if (decode_any(buf, len, channels, max_pixels, out, err))
        return cliff_error_mark(err, CLIFF_ERR_DATA);
    return 0;
}

int cliff_image_decode(const void *buf, size_t len, int channels, CliffImage *out,
                       CliffError *err)
{
    return cliff_image_decode_bounded(buf, len, channels, CLIFF_IMAGE_MAX_PIXELS, out, err);
}

int cliff_image_read(const char *path, int channels, CliffImage *out, CliffError *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cliff_error_set(err, "cannot open image '%s': %s", path, strerror(errno)),
               cliff_error_mark(err, CLIFF_ERR_DATA);
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return cliff_error_set(err, "image '%s' is not a regular file", path),
               cliff_error_mark(err, CLIFF_ERR_DATA);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return cliff_error_set(err, "out of memory reading image '%s' (%zu bytes)", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int rerr = ferror(f);
    fclose(f);
    int rc;
    if (got != n || rerr)
        rc = cliff_error_set(err, "cannot read image '%s'", path),
        cliff_error_mark(err, CLIFF_ERR_DATA);
    else if ((rc = cliff_image_decode(buf, n, channels, out, err)))
        cliff_error_prefix(err, "image '%s': ", path);
    free(buf);
    return rc;
}

int cliff_image_format_parse(const char *name, CliffImageFormat *fmt, CliffError *err)
{
    if (!strcasecmp(name, "png")) *fmt = CLIFF_IMAGE_PNG;
    else if (!strcasecmp(name, "jpg") || !strcasecmp(name, "jpeg")) *fmt = CLIFF_IMAGE_JPEG;
    else return cliff_error_set(err, "unknown image encoding '%s' (png, jpg or jpeg)", name);
    return 0;
}

int cliff_image_encode(const CliffImage *img, CliffImageFormat fmt, uint8_t **out, size_t *len,
                       CliffError *err)
{
    *out = NULL;
    *len = 0;
    if ((img->channels != 1 && img->channels != 3) || img->height < 1 || img->width < 1)
        return cliff_error_set(err, "cannot encode an image of %d x %d x %d", img->channels,
                               img->height, img->width);
    return fmt == CLIFF_IMAGE_PNG ? cliff_png_encode(img, out, len, err)
                                  : cliff_jpeg_encode(img, out, len, err);
}
