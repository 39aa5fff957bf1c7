/* Image decoding and encoding (layers/data/image_codec.h): PNG files built
 * byte by byte here (zlib, no libpng), so the expected pixels are known
 * exactly; JPEG through encode/decode of flat colours (lossy: within 2) and a
 * CMYK file written with libjpeg; OpenCV's conversions (BGR planes, gray
 * replicated, libpng's truncating rgb-to-gray, CMYK formula) worked out by
 * hand; bad input of every kind returns an error, never a crash. PIL's
 * decoding of the same files (same libjpeg) is compared in test_image_ref. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <jpeglib.h>

#include "check.h"
#include "layers/data/image_codec.h"

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static size_t chunk(uint8_t *out, size_t pos, const char *type, const uint8_t *data, uint32_t n)
{
    put32(out + pos, n);
    memcpy(out + pos + 4, type, 4);
    if (n) memcpy(out + pos + 8, data, n);
    put32(out + pos + 8 + n, (uint32_t)crc32(0, out + pos + 4, 4 + n));
    return pos + 12 + n;
}

/* A PNG of h rows of rowbytes packed bytes (filter 0 added here), with an
 * optional PLTE (nplte entries) and tRNS. Returns a malloc'd file. */
static uint8_t *make_png(int w, int h, int depth, int ctype, const uint8_t *rows, size_t rowbytes,
                         const uint8_t *plte, int nplte, const uint8_t *trns, int ntrns,
                         size_t *len)
{
    size_t rawn = (size_t)h * (rowbytes + 1);
    uint8_t *raw = malloc(rawn);
    for (int y = 0; y < h; y++) {
        raw[(size_t)y * (rowbytes + 1)] = 0;
        memcpy(raw + (size_t)y * (rowbytes + 1) + 1, rows + (size_t)y * rowbytes, rowbytes);
    }
    uLongf zn = compressBound(rawn);
    uint8_t *z = malloc(zn);
    compress(z, &zn, raw, rawn);
    uint8_t *out = malloc(zn + 1024);
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(out, sig, 8);
    uint8_t ihdr[13];
    put32(ihdr, (uint32_t)w);
    put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = (uint8_t)depth, ihdr[9] = (uint8_t)ctype, ihdr[10] = ihdr[11] = ihdr[12] = 0;
    size_t pos = chunk(out, 8, "IHDR", ihdr, 13);
    if (plte) pos = chunk(out, pos, "PLTE", plte, (uint32_t)(3 * nplte));
    if (trns) pos = chunk(out, pos, "tRNS", trns, (uint32_t)ntrns);
    pos = chunk(out, pos, "IDAT", z, (uint32_t)zn);
    pos = chunk(out, pos, "IEND", NULL, 0);
    free(raw);
    free(z);
    *len = pos;
    return out;
}

/* Decodes, checking success and the shape. */
static int decode_ok(const uint8_t *buf, size_t len, int channels, CliffImage *img, int c, int h,
                     int w)
{
    CliffError err = {.msg = ""};
    if (cliff_image_decode(buf, len, channels, img, &err)) {
        CHECK_FAILF("decode failed: %s", err.msg);
        return 0;
    }
    if (img->channels != c || img->height != h || img->width != w) {
        CHECK_FAILF("decoded %d x %d x %d, expected %d x %d x %d", img->channels, img->height,
                    img->width, c, h, w);
        return 0;
    }
    return 1;
}

#define PX(img, c, y, x) ((img).px[((size_t)(c) * (img).height + (y)) * (img).width + (x)])

/* Two rows of three RGB pixels: planes come out B, G, R. */
static const uint8_t rgb6[18] = {10, 20, 30, 40, 50, 60, 70, 80, 90,
                                 200, 100, 50, 0, 0, 0, 255, 255, 255};

static void test_png_rgb_to_bgr_planes(void)
{
    size_t len;
    uint8_t *png = make_png(3, 2, 8, 2, rgb6, 9, NULL, 0, NULL, 0, &len);
    CliffImage img;
    if (decode_ok(png, len, 3, &img, 3, 2, 3))
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                for (int c = 0; c < 3; c++) CHECK(PX(img, c, y, x) == rgb6[y * 9 + x * 3 + 2 - c]);
    cliff_image_free(&img);
    /* as stored: a color file stays 3 channels */
    if (decode_ok(png, len, 0, &img, 3, 2, 3)) CHECK(PX(img, 0, 0, 0) == 30);
    cliff_image_free(&img);
    free(png);
}

/* libpng's rgb-to-gray with OpenCV's (0.299, 0.587): coefficients
 * 29900 * 32768 / 100000 = 9797 and 19234, blue 32768 - both = 3737, sum
 * truncated by >> 15; gray pixels (r = g = b) pass unchanged. */
static void test_png_color_to_gray(void)
{
    size_t len;
    uint8_t *png = make_png(3, 2, 8, 2, rgb6, 9, NULL, 0, NULL, 0, &len);
    CliffImage img;
    if (decode_ok(png, len, 1, &img, 1, 2, 3)) {
        for (int i = 0; i < 6; i++) {
            const uint8_t *p = rgb6 + 3 * i;
            int want = p[0] == p[1] && p[1] == p[2]
                           ? p[0] : (9797 * p[0] + 19234 * p[1] + 3737 * p[2]) >> 15;
            if (img.px[i] != want) CHECK_FAILF("pixel %d: %d, expected %d", i, img.px[i], want);
        }
        CHECK(img.px[3] == 124); /* (200, 100, 50) by hand: 4069650 >> 15 */
    }
    cliff_image_free(&img);
    free(png);
}

static void test_png_gray_to_color(void)
{
    const uint8_t g[4] = {0, 7, 128, 255};
    size_t len;
    uint8_t *png = make_png(2, 2, 8, 0, g, 2, NULL, 0, NULL, 0, &len);
    CliffImage img;
    if (decode_ok(png, len, 3, &img, 3, 2, 2))
        for (int c = 0; c < 3; c++) CHECK(memcmp(img.px + 4 * c, g, 4) == 0);
    cliff_image_free(&img);
    if (decode_ok(png, len, 0, &img, 1, 2, 2)) CHECK(memcmp(img.px, g, 4) == 0);
    cliff_image_free(&img);
    free(png);
}

/* Alpha dropped (not composited), palettes expanded, 16-bit keeps the high
 * byte, 1-bit gray expands to 0 / 255, gray+alpha is "color" as stored. */
static void test_png_variants(void)
{
    CliffImage img;
    size_t len;
    const uint8_t rgba[8] = {1, 2, 3, 0, 4, 5, 6, 128};
    uint8_t *png = make_png(2, 1, 8, 6, rgba, 8, NULL, 0, NULL, 0, &len);
    if (decode_ok(png, len, 3, &img, 3, 1, 2))
        CHECK(PX(img, 0, 0, 0) == 3 && PX(img, 2, 0, 0) == 1 && PX(img, 1, 0, 1) == 5);
    cliff_image_free(&img);
    free(png);

    const uint8_t plte[6] = {9, 8, 7, 250, 20, 30}, idx[3] = {1, 0, 1}, trns[1] = {0};
    png = make_png(3, 1, 8, 3, idx, 3, plte, 2, trns, 1, &len);
    if (decode_ok(png, len, 3, &img, 3, 1, 3))
        CHECK(PX(img, 0, 0, 0) == 30 && PX(img, 1, 0, 0) == 20 && PX(img, 2, 0, 0) == 250 &&
              PX(img, 0, 0, 1) == 7 && PX(img, 2, 0, 2) == 250);
    cliff_image_free(&img);
    free(png);

    const uint8_t g16[4] = {0x12, 0x34, 0xff, 0x01};
    png = make_png(2, 1, 16, 0, g16, 4, NULL, 0, NULL, 0, &len);
    if (decode_ok(png, len, 1, &img, 1, 1, 2)) CHECK(img.px[0] == 0x12 && img.px[1] == 0xff);
    cliff_image_free(&img);
    free(png);

    const uint8_t bits[1] = {0xa0}; /* 1, 0, 1, 0 */
    png = make_png(4, 1, 1, 0, bits, 1, NULL, 0, NULL, 0, &len);
    if (decode_ok(png, len, 1, &img, 1, 1, 4))
        CHECK(img.px[0] == 255 && img.px[1] == 0 && img.px[2] == 255 && img.px[3] == 0);
    cliff_image_free(&img);
    free(png);

    const uint8_t ga[4] = {77, 0, 99, 255};
    png = make_png(2, 1, 8, 4, ga, 4, NULL, 0, NULL, 0, &len);
    if (decode_ok(png, len, 0, &img, 3, 1, 2))
        CHECK(PX(img, 0, 0, 0) == 77 && PX(img, 2, 0, 1) == 99);
    cliff_image_free(&img);
    free(png);
}

/* A w x h image of one colour (B, G, R) or gray value b. */
static CliffImage flat(int c, int h, int w, int b, int g, int r)
{
    CliffImage img;
    CliffError err;
    if (cliff_image_alloc(&img, c, (size_t)h, (size_t)w, CLIFF_IMAGE_MAX_PIXELS, &err)) abort();
    size_t n = (size_t)h * w;
    memset(img.px, b, n);
    if (c == 3) memset(img.px + n, g, n), memset(img.px + 2 * n, r, n);
    return img;
}

static void test_roundtrip(void)
{
    CliffError err;
    for (int fmt = 0; fmt < 2; fmt++)
        for (int c = 1; c <= 3; c += 2) {
            CliffImage img = flat(c, 5, 7, 0, 0, 0), back;
            for (size_t i = 0; i < (size_t)c * 35; i++) img.px[i] = (uint8_t)(i * 37 % 256);
            if (fmt == CLIFF_IMAGE_JPEG) { /* lossy: a smooth pattern instead */
                for (size_t i = 0; i < (size_t)c * 35; i++) img.px[i] = (uint8_t)(60 + i % 35);
            }
            uint8_t *buf;
            size_t len;
            if (cliff_image_encode(&img, (CliffImageFormat)fmt, &buf, &len, &err)) {
                CHECK_FAILF("encode: %s", err.msg);
                cliff_image_free(&img);
                continue;
            }
            if (decode_ok(buf, len, 0, &back, c, 5, 7)) {
                int worst = 0;
                for (size_t i = 0; i < (size_t)c * 35; i++)
                    worst = abs(back.px[i] - img.px[i]) > worst ? abs(back.px[i] - img.px[i]) : worst;
                CHECK(worst <= (fmt == CLIFF_IMAGE_PNG ? 0 : 4));
            }
            cliff_image_free(&back);
            cliff_image_free(&img);
            free(buf);
        }
}

/* A flat colour survives JPEG within 2 per channel, in B, G, R order; read
 * gray it is libjpeg's Y = 0.299 R + 0.587 G + 0.114 B; a gray JPEG read
 * color is replicated. */
static void test_jpeg_colours(void)
{
    CliffError err;
    CliffImage img = flat(3, 16, 16, 30, 120, 200), back;
    uint8_t *buf;
    size_t len;
    if (cliff_image_encode(&img, CLIFF_IMAGE_JPEG, &buf, &len, &err)) {
        CHECK_FAILF("encode: %s", err.msg);
        return;
    }
    if (decode_ok(buf, len, 3, &back, 3, 16, 16))
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
                CHECK(abs(PX(back, 0, y, x) - 30) <= 2 && abs(PX(back, 1, y, x) - 120) <= 2 &&
                      abs(PX(back, 2, y, x) - 200) <= 2);
    cliff_image_free(&back);
    if (decode_ok(buf, len, 1, &back, 1, 16, 16))
        CHECK(abs(back.px[17] - (int)(0.299 * 200 + 0.587 * 120 + 0.114 * 30 + 0.5)) <= 2);
    cliff_image_free(&back);
    free(buf);
    cliff_image_free(&img);

    img = flat(1, 8, 8, 90, 0, 0);
    if (cliff_image_encode(&img, CLIFF_IMAGE_JPEG, &buf, &len, &err)) {
        CHECK_FAILF("encode: %s", err.msg);
        return;
    }
    if (decode_ok(buf, len, 3, &back, 3, 8, 8))
        for (int i = 0; i < 64; i++)
            CHECK(back.px[i] == back.px[64 + i] && back.px[i] == back.px[128 + i] &&
                  abs(back.px[i] - 90) <= 1);
    cliff_image_free(&back);
    if (decode_ok(buf, len, 0, &back, 1, 8, 8)) CHECK(abs(back.px[0] - 90) <= 1);
    cliff_image_free(&back);
    free(buf);
    cliff_image_free(&img);
}

/* A flat CMYK JPEG written with libjpeg (stored as given: c, m, y, k). */
static uint8_t *cmyk_jpeg(const uint8_t cmyk[4], unsigned long *len)
{
    struct jpeg_compress_struct e;
    struct jpeg_error_mgr em;
    e.err = jpeg_std_error(&em);
    jpeg_create_compress(&e);
    unsigned char *out = NULL;
    jpeg_mem_dest(&e, &out, len);
    e.image_width = 8, e.image_height = 8, e.input_components = 4, e.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&e);
    jpeg_set_quality(&e, 100, TRUE);
    jpeg_start_compress(&e, TRUE);
    uint8_t row[32];
    for (int x = 0; x < 8; x++) memcpy(row + 4 * x, cmyk, 4);
    for (int y = 0; y < 8; y++) {
        JSAMPROW r = row;
        jpeg_write_scanlines(&e, &r, 1);
    }
    jpeg_finish_compress(&e);
    jpeg_destroy_compress(&e);
    return out;
}

/* OpenCV's CMYK formula by hand for (200, 100, 50, 180): each v -> k - ((255 -
 * v) * k >> 8): R 180 - 38 = 142, G 180 - 108 = 72, B 180 - 144 = 36; gray
 * (142 * 4899 + 72 * 9617 + 36 * 1868 + 8192) >> 14 = 88. */
static void test_jpeg_cmyk(void)
{
    const uint8_t cmyk[4] = {200, 100, 50, 180};
    unsigned long len;
    uint8_t *buf = cmyk_jpeg(cmyk, &len);
    CliffImage img;
    if (decode_ok(buf, len, 3, &img, 3, 8, 8))
        CHECK(abs(PX(img, 0, 3, 3) - 36) <= 1 && abs(PX(img, 1, 3, 3) - 72) <= 1 &&
              abs(PX(img, 2, 3, 3) - 142) <= 1);
    cliff_image_free(&img);
    if (decode_ok(buf, len, 1, &img, 1, 8, 8)) CHECK(abs(img.px[9] - 88) <= 1);
    cliff_image_free(&img);
    if (decode_ok(buf, len, 0, &img, 3, 8, 8)) CHECK(abs(PX(img, 2, 0, 0) - 142) <= 1);
    cliff_image_free(&img);
    free(buf);
}

static void expect_error(const uint8_t *buf, size_t len, const char *needle)
{
    CliffError err = {.msg = ""};
    CliffImage img = {.channels = 9};
    if (!cliff_image_decode(buf, len, 3, &img, &err)) {
        CHECK_FAILF("decoded bad input (expected '%s')", needle);
        cliff_image_free(&img);
        return;
    }
    if (!strstr(err.msg, needle)) CHECK_FAILF("error '%s' lacks '%s'", err.msg, needle);
    CHECK(err.kind == CLIFF_ERR_DATA);
    CHECK(img.px == NULL && img.channels == 0);
}

static void test_bad_input(void)
{
    expect_error(NULL, 0, "empty");
    expect_error((const uint8_t *)"GIF89a....", 10, "not a PNG or JPEG");
    size_t len;
    uint8_t *png = make_png(3, 2, 8, 2, rgb6, 9, NULL, 0, NULL, 0, &len);
    expect_error(png, len - 30, "truncated");
    expect_error(png, 12, "truncated");
    png[20] ^= 1; /* IHDR width, CRC now wrong */
    expect_error(png, len, "PNG: ");
    png[20] ^= 1;
    png[25] = 5; /* colour type 5 does not exist */
    expect_error(png, len, "PNG: ");
    free(png);
    /* a JPEG cut in its entropy-coded data */
    CliffError err;
    CliffImage img = flat(3, 64, 64, 0, 0, 0);
    for (int i = 0; i < 3 * 64 * 64; i++) img.px[i] = (uint8_t)(i * 7);
    uint8_t *jpg;
    size_t jlen;
    if (cliff_image_encode(&img, CLIFF_IMAGE_JPEG, &jpg, &jlen, &err)) abort();
    expect_error(jpg, jlen / 2, "Premature end");
    expect_error(jpg, 3, "JPEG: ");
    jpg[jlen / 3] = 0xff, jpg[jlen / 3 + 1] = 0xd9; /* an end marker mid-scan: decodes */
    CliffImage ok;
    if (cliff_image_decode(jpg, jlen, 3, &ok, &err)) CHECK_FAILF("%s", err.msg);
    cliff_image_free(&ok);
    free(jpg);
    cliff_image_free(&img);
    /* a header claiming more pixels than allowed: refused before allocating */
    uint8_t big[13];
    put32(big, 70000), put32(big + 4, 70000);
    big[8] = 8, big[9] = 2, big[10] = big[11] = big[12] = 0;
    uint8_t huge[64];
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(huge, sig, 8);
    size_t hl = chunk(huge, 8, "IHDR", big, 13);
    hl = chunk(huge, hl, "IDAT", NULL, 0);
    expect_error(huge, hl, "too large");
    CHECK(cliff_image_decode(huge, hl, 2, &img, &err) == -1 && strstr(err.msg, "1 or 3"));
}

static void test_read_file_errors(void)
{
    CliffError err;
    CliffImage img;
    CHECK(cliff_image_read("/nonexistent/x.png", 3, &img, &err) == -1 &&
          strstr(err.msg, "/nonexistent/x.png"));
    CHECK(cliff_image_read("/dev/null", 3, &img, &err) == -1 && strstr(err.msg, "/dev/null"));
    char path[] = "/tmp/cliff_img_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "wb");
    fputs("not an image", f);
    fclose(f);
    CHECK(cliff_image_read(path, 3, &img, &err) == -1 && strstr(err.msg, path) &&
          strstr(err.msg, "not a PNG or JPEG"));
    remove(path);
    CliffImageFormat fmt;
    CHECK(cliff_image_format_parse("JPG", &fmt, &err) == 0 && fmt == CLIFF_IMAGE_JPEG);
    CHECK(cliff_image_format_parse("png", &fmt, &err) == 0 && fmt == CLIFF_IMAGE_PNG);
    CHECK(cliff_image_format_parse("bmp", &fmt, &err) == -1 && strstr(err.msg, "bmp"));
}

int main(void)
{
    RUN(test_png_rgb_to_bgr_planes);
    RUN(test_png_color_to_gray);
    RUN(test_png_gray_to_color);
    RUN(test_png_variants);
    RUN(test_roundtrip);
    RUN(test_jpeg_colours);
    RUN(test_jpeg_cmyk);
    RUN(test_bad_input);
    RUN(test_read_file_errors);
    return test_main_end();
}
