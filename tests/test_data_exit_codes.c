/* Bad data files through train ($CLIFF_BUILD/train): for the Data layer (LMDB
 * and LevelDB records written through the libraries' own APIs) and ImageData
 * (a folder of PNG files and list files), every bad input ends the run with
 * the data exit code (3, tools/exit_codes.h) and a message naming the key,
 * path or list line: a missing source, a record that is not a Datum, an
 * encoded image that does not decode, a record of another shape, a mean file
 * of another shape or missing, crop_size larger than the image, a list line
 * without a label, a listed file missing, an image of another size. Bad
 * records sit after the first batch, so they are met by the running forward
 * (the prefetch thread), not at setup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "db_fixture.h"
#include "layers/data/image_codec.h"
#include "tools/exit_codes.h"

static char dir[64];

static const char *path_of(const char *name)
{
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *name, const void *bytes, size_t n)
{
    FILE *f = fopen(path_of(name), "wb");
    if (!f || fwrite(bytes, 1, n, f) != n) CHECK_FAILF("cannot write %s", name);
    if (f) fclose(f);
}

/* A c x h x w PNG (any pixels) into *png (malloc'd). */
static size_t make_png(int c, int h, int w, uint8_t **png)
{
    CliffImage img;
    CliffError err;
    size_t n = 0;
    if (cliff_image_alloc(&img, c, (size_t)h, (size_t)w, 1 << 20, &err)) abort();
    for (int i = 0; i < c * h * w; i++) img.px[i] = (uint8_t)(i * 29);
    if (cliff_image_encode(&img, CLIFF_IMAGE_PNG, png, &n, &err)) abort();
    cliff_image_free(&img);
    return n;
}

/* The records: "a", "b" (1 x 2 x 3, labels 0 and 1), then `bad` under key
 * "c" (NULL: another good one), then "d". */
static void write_db(int lmdb, const char *name, const void *bad, size_t nbad)
{
    DbFx *w = dbfx_create(lmdb, path_of(name));
    if (!w) {
        CHECK_FAILF("cannot create %s", name);
        return;
    }
    uint8_t px[6] = {1, 2, 3, 4, 5, 6};
    Cliff__Datum a = dbfx_raw(1, 2, 3, px, 0), b = dbfx_raw(1, 2, 3, px, 1);
    dbfx_put_datum(w, "a", &a);
    dbfx_put_datum(w, "b", &b);
    if (bad)
        dbfx_put(w, "c", bad, nbad);
    else
        dbfx_put_datum(w, "c", &a);
    dbfx_put_datum(w, "d", &b);
    CHECK(dbfx_close(w) == 0);
}

/* A mean image file of 1 x h x w. */
static void write_mean(const char *name, int h, int w)
{
    Cliff__BlobProto bp = CLIFF__BLOB_PROTO__INIT;
    float m[64] = {0};
    bp.has_num = bp.has_channels = bp.has_height = bp.has_width = 1;
    bp.num = bp.channels = 1;
    bp.height = h;
    bp.width = w;
    bp.n_data = (size_t)(h * w);
    bp.data = m;
    uint8_t buf[512];
    write_file(name, buf, cliff__blob_proto__pack(&bp, buf));
}

/* Runs train on a solver whose net is `data` (a data layer with tops x, y)
 * then an InnerProduct and a softmax loss; checks the exit code and that
 * stderr holds want1 and want2 (each may be NULL). */
static void expect_train(const char *data, int code, const char *want1, const char *want2)
{
    char solver[4096];
    int n = snprintf(solver, sizeof solver,
                     "net_param { name: 'x'\n%s\n"
                     "  layer { name: 'ip' type: 'InnerProduct' bottom: 'x' top: 'p'\n"
                     "    inner_product_param { num_output: 2 weight_filler { type: 'gaussian' "
                     "std: 0.1 } } }\n"
                     "  layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'p' bottom: 'y' "
                     "top: 'loss' } }\n"
                     "base_lr: 0.1 lr_policy: 'fixed' max_iter: 4 display: 0 random_seed: 1\n"
                     "snapshot_after_train: false snapshot_prefix: '%s/snap'\n", data, dir);
    CHECK(n > 0 && (size_t)n < sizeof solver);
    write_file("solver.prototxt", solver, strlen(solver));
    const char *build = getenv("CLIFF_BUILD");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/train' '%s' > /dev/null 2> '%s'", build ? build : "build",
             path_of("solver.prototxt"), path_of("stderr"));
    int st = system(cmd);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    char err[4096] = "";
    FILE *f = fopen(path_of("stderr"), "r");
    if (f) {
        size_t len = fread(err, 1, sizeof err - 1, f);
        err[len] = 0;
        fclose(f);
    }
    if (rc != code)
        CHECK_FAILF("exit %d (want %d): %s", rc, code, err);
    else if ((want1 && !strstr(err, want1)) || (want2 && !strstr(err, want2)))
        CHECK_FAILF("stderr lacks '%s' / '%s': %s", want1 ? want1 : "", want2 ? want2 : "",
                    err);
}

/* A Data layer on database `name` (batch 2) with transform `tf`. */
static void expect_data(int lmdb, const char *name, const char *tf, const char *want1,
                        const char *want2)
{
    char layer[1024];
    snprintf(layer, sizeof layer,
             "  layer { name: 'd' type: 'Data' top: 'x' top: 'y' data_param { source: '%s' "
             "backend: %s batch_size: 2 } transform_param { %s } }",
             path_of(name), lmdb ? "LMDB" : "LEVELDB", tf);
    expect_train(layer, CLIFF_EXIT_DATA, want1, want2);
}

static void data_good_runs(void)
{
    write_db(1, "good.lmdb", NULL, 0);
    char layer[512];
    snprintf(layer, sizeof layer, "  layer { name: 'd' type: 'Data' top: 'x' top: 'y' "
             "data_param { source: '%s' backend: LMDB batch_size: 2 } }", path_of("good.lmdb"));
    expect_train(layer, CLIFF_EXIT_OK, NULL, NULL); /* the fixture itself trains */
}

static void data_missing_source(void)
{
    expect_data(1, "nowhere.lmdb", "", "data_param.source: LMDB source", "nowhere.lmdb");
}

static void data_not_a_datum(void)
{
    for (int lmdb = 0; lmdb < 2; lmdb++) {
        const char *name = lmdb ? "junk.lmdb" : "junk.leveldb";
        write_db(lmdb, name, "\x0a\x7fjunk", 6);
        expect_data(lmdb, name, "", "record 2 (key 'c'): the 6-byte value is not a Datum",
                    path_of(name));
    }
}

static void data_undecodable_image(void)
{
    Cliff__Datum d = CLIFF__DATUM__INIT;
    d.has_data = d.has_encoded = 1;
    d.encoded = 1;
    d.data.data = (uint8_t *)"\x89PNG\r\n\x1a\n truncated";
    d.data.len = 18;
    uint8_t buf[64];
    write_db(1, "enc.lmdb", buf, cliff__datum__pack(&d, buf));
    expect_data(1, "enc.lmdb", "", "record 2 (key 'c'): encoded Datum:", "enc.lmdb");
}

static void data_other_shape(void)
{
    uint8_t px[9] = {0};
    Cliff__Datum d = dbfx_raw(1, 3, 3, px, 0);
    uint8_t buf[64];
    write_db(1, "shape.lmdb", buf, cliff__datum__pack(&d, buf));
    expect_data(1, "shape.lmdb", "", "record 2 (key 'c'): the record is 1 x 3 x 3 but the "
                "first record is 1 x 2 x 3", NULL);
}

static void data_mean_and_crop(void)
{
    write_db(1, "ok.lmdb", NULL, 0);
    write_mean("mean33.binaryproto", 3, 3);
    char tf[300];
    snprintf(tf, sizeof tf, "mean_file: '%s'", path_of("mean33.binaryproto"));
    expect_data(1, "ok.lmdb", tf, "mean33.binaryproto' is 1 x 3 x 3 but the data is 1 x 2 x 3",
                "first record");
    snprintf(tf, sizeof tf, "mean_file: '%s'", path_of("absent.binaryproto"));
    expect_data(1, "ok.lmdb", tf, "transform_param.mean_file:", "absent.binaryproto");
    expect_data(1, "ok.lmdb", "crop_size: 3", "crop_size 3 is larger than the 2 x 3 image",
                "ok.lmdb");
}

/* ImageData: a list `list` of 4 x 6 PNGs (batch 2) with transform `tf`. */
static void expect_images(const char *list, const char *tf, const char *want1,
                          const char *want2)
{
    char layer[1024];
    snprintf(layer, sizeof layer,
             "  layer { name: 'd' type: 'ImageData' top: 'x' top: 'y' image_data_param { "
             "source: '%s' root_folder: '%s/' batch_size: 2 } transform_param { %s } }",
             path_of(list), dir, tf);
    expect_train(layer, CLIFF_EXIT_DATA, want1, want2);
}

/* The images and lists of the ImageData cases. */
static void write_images(void)
{
    uint8_t *png, *big;
    size_t n = make_png(3, 4, 6, &png), nbig = make_png(3, 5, 5, &big);
    write_file("a.png", png, n);
    write_file("b.png", png, n);
    write_file("big.png", big, nbig);
    write_file("junk.png", png, n / 2); /* truncated */
    free(png);
    free(big);
    const char *good = "a.png 0\nb.png 1\n";
    write_file("good.txt", good, strlen(good));
}

static void image_errors(void)
{
    const char *junk = "a.png 0\nb.png 1\njunk.png 0\n";
    write_file("junk.txt", junk, strlen(junk));
    expect_images("junk.txt", "", "junk.txt:3: ", "junk.png");
    const char *nolabel = "a.png 0\nb.png 1\nb.png\n";
    write_file("nolabel.txt", nolabel, strlen(nolabel));
    expect_images("nolabel.txt", "", "nolabel.txt:3: 'b.png' has no label", NULL);
    const char *missing = "a.png 0\ngone.png 1\n";
    write_file("missing.txt", missing, strlen(missing));
    expect_images("missing.txt", "", "missing.txt:2: image", "gone.png");
    const char *sizes = "a.png 0\nb.png 1\nbig.png 1\n";
    write_file("sizes.txt", sizes, strlen(sizes));
    expect_images("sizes.txt", "", "sizes.txt:3: image", "big.png': is 3 x 5 x 5");
}

/* The first image does not fit the transform (a setup error). */
static void image_transform_misfits(void)
{
    expect_images("good.txt", "crop_size: 5", "good.txt:1: image", "crop_size 5 is larger");
    write_mean("mean46.binaryproto", 4, 6); /* 1 channel for 3-channel images */
    char tf[300];
    snprintf(tf, sizeof tf, "mean_file: '%s'", path_of("mean46.binaryproto"));
    expect_images("good.txt", tf, "good.txt:1: image", "is 1 x 4 x 6 but the data is 3 x 4 x 6");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/cliff_data_exit_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    write_images();
    RUN(data_good_runs);
    RUN(data_missing_source);
    RUN(data_not_a_datum);
    RUN(data_undecodable_image);
    RUN(data_other_shape);
    RUN(data_mean_and_crop);
    RUN(image_errors);
    RUN(image_transform_misfits);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) return 1;
    return test_main_end();
}
