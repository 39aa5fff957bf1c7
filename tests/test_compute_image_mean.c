/* tools/compute_image_mean: the mean image of databases written by
 * convert_imageset (raw LMDB, encoded PNG in LevelDB) against hand-computed
 * means, the BlobProto's fields (num/channels/height/width and shape
 * 1 x C x H x W), the round trip through transform_param's mean_file in the
 * Data layer, and bad input (missing database, a record that is not a Datum,
 * records of two shapes: exit 3 naming the key). */
#include "cliff.pb-c.h"
#include "db_fixture.h"
#include "tool_fixture.h"

static CliffImage imgs[3];

/* a.png b.png c.png, 3 x 4 x 5 color, in list.txt with labels 0 1 2 */
static void three_images(void)
{
    for (int i = 0; i < 3; i++) cliff_image_free(&imgs[i]);
    tfx_image("a.png", 3, 4, 5, 1, CLIFF_IMAGE_PNG, &imgs[0]);
    tfx_image("b.png", 3, 4, 5, 4, CLIFF_IMAGE_PNG, &imgs[1]);
    tfx_image("c.png", 3, 4, 5, 9, CLIFF_IMAGE_PNG, &imgs[2]);
    tfx_write("list.txt", "a.png 0\nb.png 1\nc.png 2\n");
}

static int convert(const char *flags, const char *db)
{
    int rc = tfx_run("convert_imageset", "%s '%s/' '%s' '%s'", flags, tfx_dir,
                     tfx_path("list.txt"), tfx_path(db));
    if (rc) CHECK_FAILF("convert_imageset: exit %d: %s", rc, tfx_stderr());
    return rc;
}

static Cliff__BlobProto *read_blob(const char *name)
{
    FILE *f = fopen(tfx_path(name), "rb");
    static uint8_t buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    Cliff__BlobProto *b = n ? cliff__blob_proto__unpack(NULL, n, buf) : NULL;
    if (!b) CHECK_FAILF("%s is not a BlobProto", name);
    return b;
}

static void hand_computed_mean(void)
{
    three_images();
    if (convert("", "m.lmdb")) return;
    int rc = tfx_run("compute_image_mean", "'%s' '%s'", tfx_path("m.lmdb"),
                     tfx_path("mean.binaryproto"));
    CHECK(rc == 0);
    Cliff__BlobProto *b = read_blob("mean.binaryproto");
    if (!b) return;
    CHECK(b->has_num && b->num == 1 && b->channels == 3 && b->height == 4 && b->width == 5);
    CHECK(b->shape && b->shape->n_dim == 4 && b->shape->dim[0] == 1 && b->shape->dim[1] == 3 &&
          b->shape->dim[2] == 4 && b->shape->dim[3] == 5);
    CHECK(b->n_data == 60 && b->n_double_data == 0);
    for (size_t i = 0; b->n_data == 60 && i < 60; i++) {
        float want = (float)(imgs[0].px[i] + imgs[1].px[i] + imgs[2].px[i]) / 3.0f;
        if (b->data[i] != want) {
            CHECK_FAILF("mean[%zu] = %.9g, want %.9g", i, b->data[i], want);
            break;
        }
    }
    cliff__blob_proto__free_unpacked(b, NULL);
    /* the channel means are printed (the numbers for mean_value) */
    FILE *f = fopen(tfx_path("out"), "r");
    char out[2048] = "";
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    if (f) fclose(f);
    out[n] = 0;
    CHECK(strstr(out, "mean_value channel [0]: ") && strstr(out, "mean_value channel [2]: "));
}

/* transform_param { mean_file } over the same database: every output is pixel - mean */
static void mean_file_round_trip(void)
{
    three_images();
    if (convert("", "r.lmdb")) return;
    CHECK(tfx_run("compute_image_mean", "-backend=lmdb '%s' '%s'", tfx_path("r.lmdb"),
                  tfx_path("r.binaryproto")) == 0);
    char extra[512];
    snprintf(extra, sizeof extra, "transform_param { mean_file: '%s' }",
             tfx_path("r.binaryproto"));
    NetFx fx;
    CliffNet *net = tfx_data_net(&fx, tfx_path("r.lmdb"), 1, 3, extra);
    if (!net) {
        nfx_free(&fx);
        return;
    }
    cliff_net_forward(net);
    CliffTensor *data = nfx_blob(net, "data");
    CHECK(!net->data_error);
    for (size_t i = 0; i < 60; i++) {
        float mean = (float)(imgs[0].px[i] + imgs[1].px[i] + imgs[2].px[i]) / 3.0f;
        for (int k = 0; k < 3; k++)
            if (data->data[k * 60 + i] != (float)imgs[k].px[i] - mean) {
                CHECK_FAILF("image %d value %zu: %g, want %g", k, i, data->data[k * 60 + i],
                            (float)imgs[k].px[i] - mean);
                i = 60;
                break;
            }
    }
    nfx_free(&fx);
}

/* encoded PNG records in LevelDB give the same mean file as raw records in LMDB */
static void encoded_leveldb_same_mean(void)
{
    three_images();
    if (convert("", "raw.lmdb") || convert("-encoded -backend leveldb", "enc.leveldb")) return;
    CHECK(tfx_run("compute_image_mean", "'%s' '%s'", tfx_path("raw.lmdb"),
                  tfx_path("raw.binaryproto")) == 0);
    CHECK(tfx_run("compute_image_mean", "--backend leveldb '%s' '%s'", tfx_path("enc.leveldb"),
                  tfx_path("enc.binaryproto")) == 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", tfx_path("raw.binaryproto"),
             tfx_path("enc.binaryproto"));
    CHECK(system(cmd) == 0);
}

/* float_data records (written through LMDB's own API): the mean of the floats */
static void float_data_mean(void)
{
    DbFx *w = dbfx_create(1, tfx_path("f.lmdb"));
    if (!w) {
        CHECK_FAILF("dbfx_create");
        return;
    }
    float v[2][4] = {{0.5f, -1.25f, 3, 255.75f}, {1.5f, 1.25f, -7, 0.25f}};
    for (int i = 0; i < 2; i++) {
        Cliff__Datum d = CLIFF__DATUM__INIT;
        d.has_channels = d.has_height = d.has_width = d.has_label = 1;
        d.channels = 1, d.height = 2, d.width = 2;
        d.n_float_data = 4;
        d.float_data = v[i];
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        CHECK(dbfx_put_datum(w, key, &d) == 0);
    }
    CHECK(dbfx_close(w) == 0);
    CHECK(tfx_run("compute_image_mean", "'%s' '%s'", tfx_path("f.lmdb"), tfx_path("f.bp")) == 0);
    Cliff__BlobProto *b = read_blob("f.bp");
    if (!b) return;
    static const float want[4] = {1.0f, 0.0f, -2.0f, 128.0f};
    CHECK(b->n_data == 4 && b->channels == 1 && b->height == 2 && b->width == 2);
    for (size_t i = 0; b->n_data == 4 && i < 4; i++) CHECK(b->data[i] == want[i]);
    cliff__blob_proto__free_unpacked(b, NULL);
}

static void bad_input(void)
{
    /* two shapes: the second record is named by its key */
    CliffImage img;
    tfx_image("big.png", 3, 6, 5, 1, CLIFF_IMAGE_PNG, &img);
    cliff_image_free(&img);
    tfx_image("small.png", 3, 4, 5, 1, CLIFF_IMAGE_PNG, &img);
    cliff_image_free(&img);
    tfx_write("list.txt", "small.png 0\nbig.png 1\n");
    if (convert("", "two.lmdb")) return;
    int rc = tfx_run("compute_image_mean", "'%s' '%s'", tfx_path("two.lmdb"), tfx_path("x.bp"));
    CHECK(rc == 3 && strstr(tfx_stderr(), "key '00000001_big.png': a Datum of 3 x 6 x 5, but "
                                          "the first is 3 x 4 x 5"));
    CHECK(!tfx_exists(tfx_path("x.bp")) && !tfx_exists(tfx_path("x.bp.partial")));
    /* a record that is not a Datum */
    DbFx *w = dbfx_create(1, tfx_path("junk.lmdb"));
    if (!w) {
        CHECK_FAILF("dbfx_create");
        return;
    }
    CHECK(dbfx_put(w, "k1", "\xff\xff\xff", 3) == 0);
    CHECK(dbfx_close(w) == 0);
    rc = tfx_run("compute_image_mean", "'%s'", tfx_path("junk.lmdb"));
    CHECK(rc == 3 && strstr(tfx_stderr(), "key 'k1': ") && strstr(tfx_stderr(), "not a Datum"));
    /* missing database, wrong backend, usage */
    rc = tfx_run("compute_image_mean", "'%s'", tfx_path("none.lmdb"));
    CHECK(rc == 3 && strstr(tfx_stderr(), "none.lmdb"));
    rc = tfx_run("compute_image_mean", "-backend leveldb '%s'", tfx_path("two.lmdb"));
    CHECK(rc == 3 && strstr(tfx_stderr(), "LevelDB"));
    CHECK(tfx_run("compute_image_mean", "%s", "-backend lmdb") == 2);
    CHECK(tfx_run("compute_image_mean", "a b c") == 2);
}

int main(void)
{
    tfx_init("compute-image-mean");
    RUN(hand_computed_mean);
    RUN(mean_file_round_trip);
    RUN(encoded_leveldb_same_mean);
    RUN(float_data_mean);
    RUN(bad_input);
    for (int i = 0; i < 3; i++) cliff_image_free(&imgs[i]);
    tfx_cleanup();
    return test_main_end();
}
