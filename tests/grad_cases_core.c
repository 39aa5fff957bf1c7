/* Gradient-check cases for the data and input layers (forward only: they have
 * no gradient), with hand-derived expected tops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db_fixture.h"
#include "gradcheck.h"
#include "h5_fixture.h"
#include "layers/data/image_codec.h"

/* Relative on purpose: test_gradcheck runs in a fresh mkdtemp directory of its
 * own (its main), so two runs at once (the suite runs programs in parallel;
 * isa_fallback runs this program too) never share the fixture files, while
 * the case tables keep their layer text as compile-time strings. */
#define H5_DIR "gradcheck-fixtures"

/* 5 rows: data[i] = {10i, 10i+1} (float64 on disk), label[i] = i (uint8); the
 * list names the file twice around a blank line. */
static void write_hdf5_fixture(void)
{
    mkdir(H5_DIR, 0755);
    double data[5][2];
    unsigned char label[5];
    for (int i = 0; i < 5; i++) {
        data[i][0] = 10 * i;
        data[i][1] = 10 * i + 1;
        label[i] = (unsigned char)i;
    }
    H5Fx w;
    hsize_t d2[2] = {5, 2}, d1[1] = {5};
    h5fx_create(&w, H5_DIR "/a.h5");
    h5fx_write(&w, w.file, "data", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, data);
    h5fx_write(&w, w.file, "label", H5T_STD_U8LE, H5T_NATIVE_UCHAR, 1, d1, label);
    if (h5fx_close(&w) == 0) h5fx_text(H5_DIR "/list.txt", "%s\n\n%s\n", w.path, w.path);
}

/* batch 3 of a 10-row list (the file twice): rows 0, 1, 2. */
static int check_hdf5(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, char *why, size_t len)
{
    (void)l, (void)bottom, (void)nb;
    if (nt != 2 || top[0]->num_axes != 2 || top[0]->shape[0] != 3 || top[0]->shape[1] != 2 ||
        top[1]->num_axes != 1 || top[1]->shape[0] != 3)
        return grad_fail(why, len, "tops should be 3x2 and 3");
    for (int i = 0; i < 3; i++)
        if (top[0]->data[2 * i] != 10 * i || top[0]->data[2 * i + 1] != 10 * i + 1 ||
            top[1]->data[i] != i)
            return grad_fail(why, len, "first batch is not rows 0..2");
    return 0;
}

/* TextData over "hello world" (vocabulary " dehlorw"), T = 2, N = 3: streams
 * start at positions 0, 3, 6 (tests/test_text_data.c works out later batches). */
static void write_text_fixture(void)
{
    mkdir(H5_DIR, 0755);
    h5fx_text(H5_DIR "/hw.txt", "hello world");
    h5fx_text(H5_DIR "/text_list.txt", "%s\n", H5_DIR "/hw.txt");
}

static int check_text(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, char *why, size_t len)
{
    (void)l, (void)bottom, (void)nb;
    static const float ids[6] = {3, 4, 7, 2, 5, 5}, targets[6] = {2, 5, 5, 4, 0, 6};
    if (nt != 3) return grad_fail(why, len, "3 tops expected");
    for (int t = 0; t < 3; t++)
        if (top[t]->num_axes != 2 || top[t]->shape[0] != 2 || top[t]->shape[1] != 3)
            return grad_fail(why, len, "tops should be 2 x 3");
    for (int i = 0; i < 6; i++)
        if (top[0]->data[i] != ids[i] || top[1]->data[i] != targets[i] ||
            top[2]->data[i] != (i >= 3))
            return grad_fail(why, len, "first batch is not 'hlw','eoo' -> 'eoo','l r'");
    return 0;
}

/* ImageData over two 2 x 2 gray PNGs a (1, 2 / 3, 4) and b (5, 6 / 7, 8),
 * listed b then a with labels 1 and 0; batch 3 wraps: b, a, b. */
static void write_image_fixture(void)
{
    mkdir(H5_DIR, 0755);
    for (int k = 0; k < 2; k++) {
        CliffImage img;
        CliffError err;
        uint8_t *buf;
        size_t len;
        if (cliff_image_alloc(&img, 1, 2, 2, 4, &err)) return;
        for (int i = 0; i < 4; i++) img.px[i] = (uint8_t)(4 * k + i + 1);
        if (cliff_image_encode(&img, CLIFF_IMAGE_PNG, &buf, &len, &err) == 0) {
            FILE *f = fopen(k ? H5_DIR "/b.png" : H5_DIR "/a.png", "wb");
            if (f) fwrite(buf, 1, len, f), fclose(f);
            free(buf);
        }
        cliff_image_free(&img);
    }
    h5fx_text(H5_DIR "/images.txt", "b.png 1\na.png 0\n");
}

static int check_image(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                       int nt, char *why, size_t len)
{
    (void)l, (void)bottom, (void)nb;
    static const float data[12] = {5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8}, label[3] = {1, 0, 1};
    if (nt != 2 || top[0]->num_axes != 4 || top[0]->shape[0] != 3 || top[0]->shape[1] != 1 ||
        top[0]->shape[2] != 2 || top[0]->shape[3] != 2 || top[1]->count != 3)
        return grad_fail(why, len, "tops should be 3x1x2x2 and 3");
    if (memcmp(top[0]->data, data, sizeof data) || memcmp(top[1]->data, label, sizeof label))
        return grad_fail(why, len, "first batch is not b, a, b");
    return 0;
}

/* An LMDB of 3 records (liblmdb's own mdb_put): 1 x 1 x 2 pixels {i, 2i}, label i. */
static void write_lmdb_fixture(void)
{
    mkdir(H5_DIR, 0755);
    DbFx *w = dbfx_create(1, H5_DIR "/three.lmdb");
    if (!w) return;
    for (int i = 0; i < 3; i++) {
        uint8_t px[2] = {(uint8_t)i, (uint8_t)(2 * i)};
        Cliff__Datum d = dbfx_raw(1, 1, 2, px, i);
        char key[16];
        snprintf(key, sizeof key, "%d", i);
        dbfx_put_datum(w, key, &d);
    }
    dbfx_close(w);
}

/* batch 2, scale 0.5: records 0 and 1 */
static int check_lmdb(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, char *why, size_t len)
{
    (void)l, (void)bottom, (void)nb;
    static const float want[4] = {0, 0, 0.5f, 1};
    if (nt != 2 || top[0]->count != 4 || top[1]->count != 2)
        return grad_fail(why, len, "tops should be 2x1x1x2 and 2");
    for (int i = 0; i < 4; i++)
        if (top[0]->data[i] != want[i]) return grad_fail(why, len, "data is not {0 0 .5 1}");
    if (top[1]->data[0] != 0 || top[1]->data[1] != 1)
        return grad_fail(why, len, "labels are not 0, 1");
    return 0;
}

static int check_dummy(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                       int nt, char *why, size_t len)
{
    (void)l, (void)bottom, (void)nb;
    if (nt != 2 || top[0]->count != 6 || top[1]->count != 4)
        return grad_fail(why, len, "tops should be 2x3 and 4");
    for (int i = 0; i < 6; i++)
        if (top[0]->data[i] != 7) return grad_fail(why, len, "top 0 should be constant 7");
    for (int i = 0; i < 4; i++)
        if (top[1]->data[i] < -1 || top[1]->data[i] >= 1)
            return grad_fail(why, len, "top 1 should be uniform in [-1, 1)");
    return 0;
}

static int check_input(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                       int nt, char *why, size_t len)
{
    (void)l, (void)bottom, (void)nb;
    if (nt != 2 || top[0]->num_axes != 4 || top[0]->shape[3] != 5 || top[1]->num_axes != 1 ||
        top[1]->shape[0] != 2)
        return grad_fail(why, len, "tops should be 2x1x4x5 and 2");
    return 0;
}

const GradCase grad_cases_core[] = {
    {.name = "Input/two_shapes",
     .layer = "type: 'Input' top: 'data' top: 'label' "
              "input_param { shape { dim: 2 dim: 1 dim: 4 dim: 5 } shape { dim: 2 } }",
     .ntop = 2, .forward_only = 1, .check_forward = check_input},
    {.name = "DummyData/constant_and_uniform",
     .layer = "type: 'DummyData' top: 'a' top: 'b' dummy_data_param { "
              "data_filler { type: 'constant' value: 7 } "
              "data_filler { type: 'uniform' min: -1 max: 1 } "
              "shape { dim: 2 dim: 3 } shape { dim: 4 } }",
     .ntop = 2, .forward_only = 1, .check_forward = check_dummy},
    {.name = "HDF5Data/float64_and_uint8",
     .layer = "type: 'HDF5Data' top: 'data' top: 'label' "
              "hdf5_data_param { source: '" H5_DIR "/list.txt' batch_size: 3 }",
     .ntop = 2, .forward_only = 1, .before = write_hdf5_fixture, .check_forward = check_hdf5},
    {.name = "Data/lmdb_scale",
     .layer = "type: 'Data' top: 'data' top: 'label' transform_param { scale: 0.5 } "
              "data_param { source: '" H5_DIR "/three.lmdb' backend: LMDB batch_size: 2 }",
     .ntop = 2, .forward_only = 1, .before = write_lmdb_fixture, .check_forward = check_lmdb},
    {.name = "TextData/hello_world",
     .layer = "type: 'TextData' top: 'ids' top: 'targets' top: 'cont' text_data_param { "
              "source: '" H5_DIR "/text_list.txt' time_steps: 2 streams: 3 }",
     .ntop = 3, .forward_only = 1, .before = write_text_fixture, .check_forward = check_text},
    {.name = "ImageData/two_gray_pngs",
     .layer = "type: 'ImageData' top: 'data' top: 'label' image_data_param { "
              "source: '" H5_DIR "/images.txt' root_folder: '" H5_DIR "/' batch_size: 3 "
              "is_color: false }",
     .ntop = 2, .forward_only = 1, .before = write_image_fixture, .check_forward = check_image},
    {0},
};
