/* stripes_images: a two-class image set as PNG files and an ImageData list, for the
 * ImageData example (configs/stripes_solver.prototxt) and its test.
 *
 * Image k is SIZE x SIZE color: class 0 has horizontal stripes, class 1
 * vertical ones; the period (3 to 6 pixels), phase, the two colours and a
 * per-pixel noise of +-24 are random, so neither the mean colour nor one pixel
 * tells the classes apart. With --classes N (3 to 10; the CIFAR-shaped set of
 * configs/caffe_cifar10_quick_*: --size 32 --classes 10) class k has stripes
 * at an angle of (k mod 5) x 36 degrees, fine (period 3 to 4.5 pixels) for
 * k < 5 and coarse (7 to 8.5) from 5 on, phase and colours random as above.
 * Files: DIR/NNNNN.png and DIR/list.txt ("NNNNN.png label" lines, paths
 * relative to DIR: the net's root_folder). The same --seed gives the same
 * images; the default two classes give the same files as before --classes.
 *
 * usage: stripes_images --out DIR [--count N] [--size S] [--seed K] [--classes N] */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "layers/data/image_codec.h"
#include "layers/kernels/rng.h"
#include "tools/exit_codes.h"

static int fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "stripes_images: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: stripes_images --out DIR [--count N] [--size S] [--seed K] "
                    "[--classes N]\n");
    return CLIFF_EXIT_USAGE;
}

static int parse(const char *s, long lo, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > 1000000) return -1;
    *out = v;
    return 0;
}

/* One image of class `label` into img (3 x size x size, B G R planes). */
static void draw(CliffImage *img, int label, CliffRng *rng)
{
    int size = img->height, period = 3 + (int)cliff_rng_below(rng, 4);
    int phase = (int)cliff_rng_below(rng, (uint64_t)period);
    uint8_t col[2][3];
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 3; c++) col[i][c] = (uint8_t)cliff_rng_below(rng, 256);
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            int t = ((label ? x : y) + phase) % period < period / 2;
            for (int c = 0; c < 3; c++) {
                int v = col[t][c] + (int)cliff_rng_below(rng, 49) - 24;
                img->px[((size_t)c * size + y) * size + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
}

/* One image of class `label` of `classes` (3 to 10) into img: oriented stripes. */
static void draw_oriented(CliffImage *img, int label, CliffRng *rng)
{
    int size = img->height;
    double angle = (label % 5) * 36.0 * 3.14159265358979323846 / 180.0;
    double period = (label < 5 ? 3.0 : 7.0) + 0.5 * (double)cliff_rng_below(rng, 4);
    double phase = period * cliff_rng_uniform01(rng), cs = cos(angle), sn = sin(angle);
    uint8_t col[2][3];
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 3; c++) col[i][c] = (uint8_t)cliff_rng_below(rng, 256);
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            double u = (x * cs + y * sn + phase) / period;
            int t = u - floor(u) < 0.5;
            for (int c = 0; c < 3; c++) {
                int v = col[t][c] + (int)cliff_rng_below(rng, 49) - 24;
                img->px[((size_t)c * size + y) * size + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    long count = 1000, size = 16, seed = 1, classes = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long *num = !strcmp(a, "--count") ? &count : !strcmp(a, "--size") ? &size
                    : !strcmp(a, "--seed") ? &seed : !strcmp(a, "--classes") ? &classes : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: stripes_images --out DIR [--count N] [--size S] [--seed K] [--classes N]\n"
                   "Writes N PNG images (S x S, class 0 horizontal stripes, 1 vertical) and "
                   "DIR/list.txt\nfor ImageData. --classes 3..10: stripes at 5 angles, fine "
                   "then coarse.\nDefaults: N 1000, S 16, K 1, 2 classes.\n");
            return 0;
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (num && i + 1 < argc) {
            if (parse(argv[++i], num == &seed ? 0 : num == &size ? 4 : num == &classes ? 2 : 1, num) ||
                (num == &classes && classes > 10))
                return fail("expected a whole number in range, got '%s'", argv[i]);
        } else {
            return fail("unknown or incomplete argument '%s'", a);
        }
    }
    if (!out) return fail("%s", "missing --out DIR");
    if (mkdir(out, 0755) && errno != EEXIST) {
        fprintf(stderr, "stripes_images: error: cannot create '%s': %s\n", out, strerror(errno));
        return CLIFF_EXIT_IO;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/list.txt", out);
    FILE *list = fopen(path, "w");
    CliffImage img;
    CliffError err;
    if (!list || cliff_image_alloc(&img, 3, (size_t)size, (size_t)size, 1 << 20, &err)) {
        fprintf(stderr, "stripes_images: error: cannot write '%s'\n", path);
        return CLIFF_EXIT_IO;
    }
    CliffRng rng;
    cliff_rng_seed(&rng, (uint64_t)seed);
    int rc = 0;
    for (long k = 0; k < count && rc == 0; k++) {
        int label = (int)cliff_rng_below(&rng, (uint64_t)classes);
        if (classes == 2) draw(&img, label, &rng);
        else draw_oriented(&img, label, &rng);
        uint8_t *buf;
        size_t len;
        snprintf(path, sizeof path, "%s/%05ld.png", out, k);
        FILE *f = NULL;
        if (cliff_image_encode(&img, CLIFF_IMAGE_PNG, &buf, &len, &err) == 0) {
            f = fopen(path, "wb");
            if (!f || fwrite(buf, 1, len, f) != len) rc = -1;
            if (f && fclose(f)) rc = -1;
            free(buf);
        } else {
            rc = -1;
        }
        if (rc || !f || fprintf(list, "%05ld.png %d\n", k, label) < 0) {
            fprintf(stderr, "stripes_images: error: cannot write '%s'\n", path);
            rc = -1;
        }
    }
    cliff_image_free(&img);
    if (fclose(list) && rc == 0) {
        fprintf(stderr, "stripes_images: error: cannot write '%s/list.txt'\n", out);
        rc = -1;
    }
    if (rc) return CLIFF_EXIT_IO;
    printf("stripes_images: %ld images of %ld x %ld (seed %ld) -> %s/list.txt\n", count, size, size,
           seed, out);
    return 0;
}
