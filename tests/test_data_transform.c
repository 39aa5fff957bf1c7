/* transform_param (layers/data/transform.h) against outputs worked out by hand:
 * each option alone, then together; the draw order of Caffe's DataTransformer
 * (mirror coin, then h_off, then w_off) against a twin RNG; layouts (CHW, HWC,
 * float); and every configuration error. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "layers/data/transform.h"

/* The test image: 2 channels x 3 rows x 4 columns, px(c,y,x) = 100c + 4y + x + 1.
 *   c0: 1 2 3 4 / 5 6 7 8 / 9 10 11 12;  c1: 101 .. 112 likewise. */
static uint8_t img[24];
static char dir[64];

static void make_image(void)
{
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 12; i++) img[c * 12 + i] = (uint8_t)(100 * c + i + 1);
}

/* Writes a 2 x 3 x 4 mean image m(c,y,x) = 1000c + 10y + x as a BlobProto,
 * legacy 4-D fields (legacy) or shape (1, 2, 3, 4). */
static const char *write_mean(const char *name, int legacy, int channels)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    float m[24];
    for (int c = 0; c < 2; c++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++) m[(c * 3 + y) * 4 + x] = (float)(1000 * c + 10 * y + x);
    Cliff__BlobProto b = CLIFF__BLOB_PROTO__INIT;
    Cliff__BlobShape sh = CLIFF__BLOB_SHAPE__INIT;
    int64_t dims[4] = {1, channels, 3, 4};
    if (legacy) {
        b.has_num = b.has_channels = b.has_height = b.has_width = 1;
        b.num = 1;
        b.channels = channels;
        b.height = 3;
        b.width = 4;
    } else {
        sh.n_dim = 4;
        sh.dim = dims;
        b.shape = &sh;
    }
    b.n_data = (size_t)channels * 12;
    b.data = m;
    size_t n = cliff__blob_proto__get_packed_size(&b);
    uint8_t *buf = malloc(n);
    cliff__blob_proto__pack(&b, buf);
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    free(buf);
    return path;
}

static Cliff__TransformationParameter param(void)
{
    Cliff__TransformationParameter p = CLIFF__TRANSFORMATION_PARAMETER__INIT;
    return p;
}

/* Runs the transform of the test image (CHW uint8) and compares with want[n]. */
static void expect(const Cliff__TransformationParameter *p, int phase, const float *want,
                   int oc, int oh, int ow)
{
    CliffTransform t;
    CliffError err = {0};
    CliffRng rng;
    cliff_rng_seed(&rng, 7);
    if (cliff_transform_init(&t, p, phase, &err)) {
        CHECK_FAILF("init: %s", err.msg);
        return;
    }
    int out[3];
    if (cliff_transform_check(&t, 2, 3, 4, out, &err)) {
        CHECK_FAILF("check: %s", err.msg);
        cliff_transform_free(&t);
        return;
    }
    CHECK(out[0] == oc && out[1] == oh && out[2] == ow);
    float got[24];
    CliffImageView v = cliff_image_chw_u8(img, 2, 3, 4);
    cliff_transform_apply(&t, &v, &rng, got);
    for (int i = 0; i < oc * oh * ow; i++)
        if (got[i] != want[i]) {
            CHECK_FAILF("element %d: got %g, want %g", i, got[i], want[i]);
            break;
        }
    cliff_transform_free(&t);
}

static void test_identity_and_scale(void)
{
    Cliff__TransformationParameter p = param();
    float want[24];
    for (int i = 0; i < 24; i++) want[i] = img[i];
    expect(NULL, CLIFF__PHASE__TRAIN, want, 2, 3, 4);
    p.has_scale = 1;
    p.scale = 0.5f;
    float half[24] = {0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6,
                      50.5, 51, 51.5, 52, 52.5, 53, 53.5, 54, 54.5, 55, 55.5, 56};
    expect(&p, CLIFF__PHASE__TRAIN, half, 2, 3, 4);
}

static void test_mean_value(void)
{
    Cliff__TransformationParameter p = param();
    float mv[2] = {1, 100};
    p.n_mean_value = 2;
    p.mean_value = mv;
    p.scale = 2;
    /* (px - mv[c]) * 2 */
    float want[24] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22,
                      2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24};
    expect(&p, CLIFF__PHASE__TEST, want, 2, 3, 4);
    /* one value serves every channel: px - 1 */
    p.n_mean_value = 1;
    p.scale = 1;
    float one[24] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                     100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111};
    expect(&p, CLIFF__PHASE__TEST, one, 2, 3, 4);
}

static void test_center_crop(void)
{
    Cliff__TransformationParameter p = param();
    p.crop_size = 2;
    /* TEST: h_off = (3-2)/2 = 0, w_off = (4-2)/2 = 1 */
    float want[8] = {2, 3, 6, 7, 102, 103, 106, 107};
    expect(&p, CLIFF__PHASE__TEST, want, 2, 2, 2);
}

static void test_mean_file_at_source_position(void)
{
    Cliff__TransformationParameter p = param();
    p.mean_file = (char *)write_mean("mean.binaryproto", 1, 2);
    float full[24];
    for (int c = 0; c < 2; c++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++)
                full[(c * 3 + y) * 4 + x] = (float)img[(c * 3 + y) * 4 + x] -
                                            (float)(1000 * c + 10 * y + x);
    expect(&p, CLIFF__PHASE__TEST, full, 2, 3, 4);
    /* center crop (offsets 0, 1): the mean is read where the pixel came from,
     * (y, x + 1), not at the output position */
    p.crop_size = 2;
    float crop[8] = {2 - 1, 3 - 2, 6 - 11, 7 - 12, 102 - 1001, 103 - 1002, 106 - 1011,
                     107 - 1012};
    expect(&p, CLIFF__PHASE__TEST, crop, 2, 2, 2);
    /* and scale applies after the subtraction: (px - m) * 0.25 */
    p.scale = 0.25f;
    float scaled[8] = {0.25f, 0.25f, -1.25f, -1.25f, -224.75f, -224.75f, -226.25f, -226.25f};
    expect(&p, CLIFF__PHASE__TEST, scaled, 2, 2, 2);
    /* the shape form (1, 2, 3, 4) reads the same */
    p.mean_file = (char *)write_mean("mean_shape.binaryproto", 0, 2);
    expect(&p, CLIFF__PHASE__TEST, scaled, 2, 2, 2);
}

/* mirror: a coin per image in every phase, drawn first (Caffe's Rand(2)). */
static void test_mirror_draws(void)
{
    for (int phase = 0; phase < 2; phase++) {
        Cliff__TransformationParameter p = param();
        p.mirror = 1;
        CliffTransform t;
        CliffError err;
        CHECK(cliff_transform_init(&t, &p, phase, &err) == 0);
        CliffRng rng, twin;
        cliff_rng_seed(&rng, 11);
        cliff_rng_seed(&twin, 11);
        CliffImageView v = cliff_image_chw_u8(img, 2, 3, 4);
        int flips = 0;
        for (int k = 0; k < 64; k++) {
            float got[24];
            cliff_transform_apply(&t, &v, &rng, got);
            int flip = (int)cliff_rng_below(&twin, 2);
            flips += flip;
            /* mirrored row 0 of channel 0 reads 4 3 2 1 */
            float want0 = flip ? 4 : 1, want3 = flip ? 1 : 4, want23 = flip ? 109 : 112;
            CHECK(got[0] == want0 && got[3] == want3 && got[23] == want23);
        }
        CHECK(flips > 10 && flips < 54); /* both outcomes, in TEST too */
        CHECK(memcmp(&rng, &twin, sizeof rng) == 0);
        cliff_transform_free(&t);
    }
}

/* TRAIN crop: h_off then w_off from the RNG, every offset reachable. */
static void test_random_crop(void)
{
    Cliff__TransformationParameter p = param();
    p.crop_size = 2;
    CliffTransform t;
    CliffError err;
    CHECK(cliff_transform_init(&t, &p, CLIFF__PHASE__TRAIN, &err) == 0);
    CliffRng rng, twin;
    cliff_rng_seed(&rng, 5);
    cliff_rng_seed(&twin, 5);
    CliffImageView v = cliff_image_chw_u8(img, 2, 3, 4);
    int seen[2][3] = {{0}};
    for (int k = 0; k < 200; k++) {
        float got[8];
        cliff_transform_apply(&t, &v, &rng, got);
        int h = (int)cliff_rng_below(&twin, 2), w = (int)cliff_rng_below(&twin, 3);
        seen[h][w]++;
        /* the window's top-left pixel of each channel: 4h + w + 1 (+100) */
        CHECK(got[0] == (float)(4 * h + w + 1) && got[3] == (float)(4 * (h + 1) + w + 2));
        CHECK(got[4] == (float)(100 + 4 * h + w + 1));
    }
    for (int h = 0; h < 2; h++)
        for (int w = 0; w < 3; w++) CHECK(seen[h][w] > 0);
    cliff_transform_free(&t);
}

/* Every option at once in TRAIN: coin, h_off, w_off drawn in that order; the
 * mean at the source position; mirror of the output columns; then scale. */
static void test_all_options(void)
{
    Cliff__TransformationParameter p = param();
    p.mean_file = (char *)write_mean("mean_all.binaryproto", 1, 2);
    p.crop_size = 2;
    p.mirror = 1;
    p.scale = 0.5f;
    CliffTransform t;
    CliffError err;
    CHECK(cliff_transform_init(&t, &p, CLIFF__PHASE__TRAIN, &err) == 0);
    CliffRng rng, twin;
    cliff_rng_seed(&rng, 3);
    cliff_rng_seed(&twin, 3);
    CliffImageView v = cliff_image_chw_u8(img, 2, 3, 4);
    int cases = 0;
    for (int k = 0; k < 100; k++) {
        float got[8];
        cliff_transform_apply(&t, &v, &rng, got);
        int flip = (int)cliff_rng_below(&twin, 2);
        int h = (int)cliff_rng_below(&twin, 2), w = (int)cliff_rng_below(&twin, 3);
        /* e.g. flip, h 1, w 2: source columns 2,3 of rows 1,2 reversed:
         * c0 row 0 = ((8 - 13), (7 - 12)) * 0.5 = (-2.5, -2.5), row 1 from (11, 12)
         * less (22, 23); c1 row 0 = (108 - 1013, 107 - 1012) * 0.5 */
        if (flip && h == 1 && w == 2) {
            float want[8] = {-2.5f, -2.5f, -5.5f, -5.5f, -452.5f, -452.5f, -455.5f, -455.5f};
            CHECK(memcmp(got, want, sizeof want) == 0);
            cases++;
        }
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 2; x++) {
                    int sy = h + y, sx = w + x;
                    float px = (float)(100 * c + 4 * sy + sx + 1);
                    float m = (float)(1000 * c + 10 * sy + sx);
                    int ox = flip ? 1 - x : x;
                    CHECK(got[(c * 2 + y) * 2 + ox] == (px - m) * 0.5f);
                }
    }
    CHECK(cases > 0);
    cliff_transform_free(&t);
}

/* HWC uint8 and CHW float views of the same pixels give the same output. */
static void test_layouts(void)
{
    uint8_t hwc[24];
    float f[24];
    for (int c = 0; c < 2; c++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++) {
                hwc[(y * 4 + x) * 2 + c] = img[(c * 3 + y) * 4 + x];
                f[(c * 3 + y) * 4 + x] = img[(c * 3 + y) * 4 + x] + 0.25f;
            }
    Cliff__TransformationParameter p = param();
    p.crop_size = 2;
    p.mirror = 1;
    CliffTransform t;
    CliffError err;
    CHECK(cliff_transform_init(&t, &p, CLIFF__PHASE__TRAIN, &err) == 0);
    CliffImageView a = cliff_image_chw_u8(img, 2, 3, 4), b = cliff_image_hwc_u8(hwc, 2, 3, 4),
                   fv = cliff_image_chw_f32(f, 2, 3, 4);
    for (int k = 0; k < 20; k++) {
        CliffRng r1, r2, r3;
        cliff_rng_seed(&r1, (uint64_t)k);
        r2 = r1;
        r3 = r1;
        float o1[8], o2[8], o3[8];
        cliff_transform_apply(&t, &a, &r1, o1);
        cliff_transform_apply(&t, &b, &r2, o2);
        cliff_transform_apply(&t, &fv, &r3, o3);
        CHECK(memcmp(o1, o2, sizeof o1) == 0);
        for (int i = 0; i < 8; i++) CHECK(o3[i] == o1[i] + 0.25f);
    }
    cliff_transform_free(&t);
}

static void expect_init_error(const Cliff__TransformationParameter *p, const char *want)
{
    CliffTransform t;
    CliffError err = {0};
    if (cliff_transform_init(&t, p, CLIFF__PHASE__TRAIN, &err) == 0) {
        CHECK_FAILF("no error, expected '%s'", want);
        cliff_transform_free(&t);
        return;
    }
    if (!strstr(err.msg, want)) CHECK_FAILF("error '%s' lacks '%s'", err.msg, want);
}

static void expect_check_error(const Cliff__TransformationParameter *p, int c, const char *want)
{
    CliffTransform t;
    CliffError err = {0};
    if (cliff_transform_init(&t, p, CLIFF__PHASE__TRAIN, &err)) {
        CHECK_FAILF("init: %s", err.msg);
        return;
    }
    int out[3];
    if (cliff_transform_check(&t, c, 3, 4, out, &err) == 0)
        CHECK_FAILF("no error, expected '%s'", want);
    else if (!strstr(err.msg, want))
        CHECK_FAILF("error '%s' lacks '%s'", err.msg, want);
    cliff_transform_free(&t);
}

static void test_errors(void)
{
    Cliff__TransformationParameter p = param();
    p.crop_size = 4;
    expect_check_error(&p, 2, "crop_size 4 is larger than the 3 x 4 image");
    p = param();
    float mv[3] = {1, 2, 3};
    p.mean_value = mv;
    p.n_mean_value = 3;
    expect_check_error(&p, 2, "3 mean_value entries for 2-channel data");
    p = param();
    p.mean_file = (char *)write_mean("mean1.binaryproto", 1, 1);
    char path1[128];
    snprintf(path1, sizeof path1, "%s/mean1.binaryproto", dir);
    expect_check_error(&p, 2, "mean1.binaryproto' is 1 x 3 x 4 but the data is 2 x 3 x 4");
    p.mean_value = mv;
    p.n_mean_value = 1;
    expect_init_error(&p, "mean_file and mean_value cannot both be set");
    p = param();
    p.force_color = p.force_gray = 1;
    expect_init_error(&p, "force_color and force_gray cannot both be set");
    p = param();
    char missing[128];
    snprintf(missing, sizeof missing, "%s/nope.binaryproto", dir);
    p.mean_file = missing;
    expect_init_error(&p, "nope.binaryproto: error: cannot open");
    /* not a BlobProto: field 1 with a length running past the end */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.binaryproto", dir);
    FILE *f = fopen(bad, "wb");
    fwrite("\x0a\x7fgarbage", 1, 9, f);
    fclose(f);
    p.mean_file = bad;
    expect_init_error(&p, "bad.binaryproto' is not a BlobProto");
    /* a BlobProto whose value count is not C*H*W */
    Cliff__BlobProto b = CLIFF__BLOB_PROTO__INIT;
    float v[5] = {0};
    b.has_channels = b.has_height = b.has_width = 1;
    b.channels = 1;
    b.height = 2;
    b.width = 3;
    b.n_data = 5;
    b.data = v;
    uint8_t buf[64];
    size_t n = cliff__blob_proto__pack(&b, buf);
    f = fopen(bad, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_init_error(&p, "holds 5 values for a 1 x 2 x 3 image (6 expected)");
    (void)path1;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/cliff-test-transform-%d", (int)getpid());
    mkdir(dir, 0700);
    make_image();
    RUN(test_identity_and_scale);
    RUN(test_mean_value);
    RUN(test_center_crop);
    RUN(test_mean_file_at_source_position);
    RUN(test_mirror_draws);
    RUN(test_random_crop);
    RUN(test_all_options);
    RUN(test_layouts);
    RUN(test_errors);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return test_main_end();
}
