/* cliff_image_resize (cv::resize INTER_LINEAR on uint8): cases worked out by
 * hand (edges clamp, pixel centres aligned), the identity, halving as the
 * rounded 2 x 2 mean (OpenCV's INTER_AREA shortcut gives the same), and a
 * double-precision twin of the definition within one grey level on random
 * images up and down (how often it differs is printed: the 11-bit weights). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layers/data/image_codec.h"

static CliffImage make(int c, int h, int w, const uint8_t *px)
{
    CliffImage img;
    CliffError err;
    if (cliff_image_alloc(&img, c, (size_t)h, (size_t)w, CLIFF_IMAGE_MAX_PIXELS, &err)) abort();
    if (px) memcpy(img.px, px, (size_t)c * h * w);
    return img;
}

static int resize_ok(const CliffImage *in, int h, int w, CliffImage *out)
{
    CliffError err;
    if (cliff_image_resize(in, h, w, out, &err)) {
        CHECK_FAILF("resize: %s", err.msg);
        return 0;
    }
    CHECK(out->channels == in->channels && out->height == h && out->width == w);
    return 1;
}

/* 1 x 2 -> 1 x 4: x samples 2 * ... at (x + .5) / 2 - .5 = -.25 (clamped
 * to 0), .25, .75, 1.25 (clamped to 1): 0, 25, 75, 100. Rows the same way;
 * 2 x 1 -> 3 x 1 samples rows -1/6 (0), .5, 7/6 (1): 0, 100, 200 with
 * weights round(.5 * 2048) = 1024 each: (0 + 200) * 2^21 rounded >> 22. */
static void test_by_hand(void)
{
    const uint8_t row[2] = {0, 100};
    CliffImage in = make(1, 1, 2, row), out;
    if (resize_ok(&in, 1, 4, &out))
        CHECK(out.px[0] == 0 && out.px[1] == 25 && out.px[2] == 75 && out.px[3] == 100);
    cliff_image_free(&out);
    cliff_image_free(&in);

    const uint8_t col[2] = {0, 200};
    in = make(1, 2, 1, col);
    if (resize_ok(&in, 3, 1, &out)) CHECK(out.px[0] == 0 && out.px[1] == 100 && out.px[2] == 200);
    cliff_image_free(&out);
    /* 2 x 1 -> 4 x 2: columns all from the one column */
    if (resize_ok(&in, 4, 2, &out)) {
        const uint8_t want[8] = {0, 0, 50, 50, 150, 150, 200, 200};
        CHECK(memcmp(out.px, want, 8) == 0);
    }
    cliff_image_free(&out);
    cliff_image_free(&in);

    /* planes are resized independently (B, G, R of a 1 x 2 image) */
    const uint8_t bgr[6] = {0, 100, 10, 10, 255, 0};
    in = make(3, 1, 2, bgr);
    if (resize_ok(&in, 1, 4, &out)) {
        const uint8_t want[12] = {0, 25, 75, 100, 10, 10, 10, 10, 255, 191, 64, 0};
        CHECK(memcmp(out.px, want, 12) == 0);
    }
    cliff_image_free(&out);
    cliff_image_free(&in);
}

static void test_identity_and_halving(void)
{
    uint8_t px[3 * 6 * 8];
    for (int i = 0; i < 3 * 48; i++) px[i] = (uint8_t)(i * 53 + 7);
    CliffImage in = make(3, 6, 8, px), out;
    if (resize_ok(&in, 6, 8, &out)) CHECK(memcmp(out.px, px, sizeof px) == 0);
    cliff_image_free(&out);
    if (resize_ok(&in, 3, 4, &out))
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++) {
                    const uint8_t *p = px + (c * 6 + 2 * y) * 8 + 2 * x;
                    int want = (p[0] + p[1] + p[8] + p[9] + 2) >> 2;
                    CHECK(out.px[(c * 3 + y) * 4 + x] == want);
                }
    cliff_image_free(&out);
    cliff_image_free(&in);
}

/* The definition in double: taps and weights from the clamped sample
 * position, no fixed point. */
static double twin(const uint8_t *p, int h, int w, int oh, int ow, int y, int x)
{
    double t[2][2];
    int n[2] = {h, w}, o[2] = {oh, ow}, d[2] = {y, x}, s[2];
    for (int a = 0; a < 2; a++) {
        double f = (d[a] + 0.5) * n[a] / o[a] - 0.5;
        s[a] = (int)floor(f);
        f -= s[a];
        if (s[a] < 0) s[a] = 0, f = 0;
        if (s[a] >= n[a] - 1) s[a] = n[a] - 1, f = 0;
        t[a][0] = 1 - f, t[a][1] = f;
    }
    double v = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            int yy = s[0] + i < h ? s[0] + i : h - 1, xx = s[1] + j < w ? s[1] + j : w - 1;
            v += t[0][i] * t[1][j] * p[yy * w + xx];
        }
    return v;
}

static void test_against_double_twin(void)
{
    static const int sizes[][4] = {{5, 7, 13, 11}, {32, 24, 17, 9}, {9, 9, 31, 4},
                                   {227, 256, 256, 227}, {1, 9, 3, 2}, {480, 640, 224, 224}};
    srand(7);
    long n = 0, off = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        int h = sizes[k][0], w = sizes[k][1], oh = sizes[k][2], ow = sizes[k][3];
        CliffImage in = make(1, h, w, NULL), out;
        for (int i = 0; i < h * w; i++) /* smooth with noise, like a photograph */
            in.px[i] = (uint8_t)(128 + 90 * sin(i % w * 0.3) * cos(i / w * 0.2) + rand() % 30 - 15);
        if (resize_ok(&in, oh, ow, &out))
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    double v = twin(in.px, h, w, oh, ow, y, x);
                    int got = out.px[y * ow + x];
                    n++;
                    if (got != (int)floor(v + 0.5)) off++;
                    if (fabs(got - v) > 1.0)
                        CHECK_FAILF("%dx%d->%dx%d (%d,%d): %d vs %.3f", h, w, oh, ow, y, x, got, v);
                }
        cliff_image_free(&out);
        cliff_image_free(&in);
    }
    printf("# resize: %ld of %ld pixels differ from the rounded double definition (by 1)\n",
           off, n);
    CHECK(off * 100 < n); /* the 11-bit weights move under 1% of pixels */
}

static void test_bad_sizes(void)
{
    CliffImage in = make(1, 2, 2, NULL), out;
    CliffError err;
    CHECK(cliff_image_resize(&in, 0, 4, &out, &err) == -1 && out.px == NULL);
    CHECK(cliff_image_resize(&in, 4, -1, &out, &err) == -1);
    cliff_image_free(&in);
}

int main(void)
{
    RUN(test_by_hand);
    RUN(test_identity_and_halving);
    RUN(test_against_double_twin);
    RUN(test_bad_sizes);
    return test_main_end();
}
