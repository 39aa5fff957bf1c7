/* tools/convert_imageset: every option checked through what it writes, read
 * back by cliff's readers (layers/data/db.h keys and Datum fields, the Data
 * layer's pixels): raw color and gray records, resize, encoded PNG kept
 * byte for byte, re-encoded JPEG, LevelDB, the shuffle's determinism from
 * -seed, -check_size, and bad input (missing list, unreadable image, a line
 * without a label) stopping with exit 3, the list's file:line and no
 * database left behind. */
#include "layers/data/datum.h"
#include "layers/data/db.h"
#include "tool_fixture.h"

/* Three 3 x 4 x 5 color PNGs a.png, b.png, "c d.png" (a space in a path) with labels 7, 0, 2. */
static CliffImage imgs[3];
static void three_images(void)
{
    for (int i = 0; i < 3; i++) cliff_image_free(&imgs[i]);
    tfx_image("a.png", 3, 4, 5, 1, CLIFF_IMAGE_PNG, &imgs[0]);
    tfx_image("b.png", 3, 4, 5, 2, CLIFF_IMAGE_PNG, &imgs[1]);
    tfx_image("c d.png", 3, 4, 5, 3, CLIFF_IMAGE_PNG, &imgs[2]);
    tfx_write("list.txt", "a.png 7\n  b.png\t0\r\n\nc d.png 2\n");
}

static const char *want_key[3] = {"00000000_a.png", "00000001_b.png", "00000002_c d.png"};

/* Converts with flags into tfx_path(db); 0 on success (a failure fails the test). */
static int convert(const char *flags, const char *db)
{
    int rc = tfx_run("convert_imageset", "%s '%s/' '%s' '%s'", flags, tfx_dir,
                     tfx_path("list.txt"), tfx_path(db));
    if (rc) CHECK_FAILF("convert_imageset %s: exit %d: %s", flags, rc, tfx_stderr());
    return rc;
}

/* Record i of db (key order): key and parsed Datum (decode as stored). */
static int record(const char *db, int lmdb, int i, char *key, size_t keysize, CliffDatum *d)
{
    CliffError err;
    CliffDb *h = cliff_db_open(lmdb ? CLIFF_DB_LMDB : CLIFF_DB_LEVELDB, tfx_path(db), &err);
    if (!h) {
        CHECK_FAILF("open: %s", err.msg);
        return -1;
    }
    int valid = 0, rc = cliff_db_first(h, &valid, &err);
    for (int k = 0; rc == 0 && valid && k < i; k++) rc = cliff_db_next(h, &valid, &err);
    if (rc || !valid) {
        CHECK_FAILF("no record %d in %s", i, db);
        cliff_db_close(h);
        return -1;
    }
    const void *k, *v;
    size_t kl, vl;
    cliff_db_record(h, &k, &kl, &v, &vl);
    snprintf(key, keysize, "%.*s", (int)kl, (const char *)k);
    rc = cliff_datum_parse(v, vl, 0, d, &err);
    if (rc) CHECK_FAILF("record %d: %s", i, err.msg);
    cliff_db_close(h);
    return rc;
}

/* The Data layer's batch of the whole db equals want[i] (c x h x w each) and labels. */
static void check_batch(const char *db, int lmdb, const CliffImage *want, const int *labels, int n)
{
    NetFx fx;
    CliffNet *net = tfx_data_net(&fx, tfx_path(db), lmdb, n, "");
    if (!net) {
        nfx_free(&fx);
        return;
    }
    CliffTensor *data = nfx_blob(net, "data"), *label = nfx_blob(net, "label");
    cliff_net_forward(net);
    size_t per = (size_t)want[0].channels * want[0].height * want[0].width;
    CHECK(!net->data_error);
    CHECK(data->shape[1] == want[0].channels && data->shape[2] == want[0].height &&
          data->shape[3] == want[0].width);
    for (int i = 0; i < n; i++) {
        CHECK(label->data[i] == labels[i]);
        for (size_t j = 0; j < per; j++)
            if (data->data[i * per + j] != want[i].px[j]) {
                CHECK_FAILF("%s image %d value %zu: %g, want %d", db, i, j, data->data[i * per + j],
                            want[i].px[j]);
                break;
            }
    }
    nfx_free(&fx);
}

static const int labels[3] = {7, 0, 2};

static void raw_color_lmdb(void)
{
    three_images();
    if (convert("", "raw.lmdb")) return;
    check_batch("raw.lmdb", 1, imgs, labels, 3);
    for (int i = 0; i < 3; i++) {
        char key[64];
        CliffDatum d;
        if (record("raw.lmdb", 1, i, key, sizeof key, &d)) return;
        CHECK(!strcmp(key, want_key[i]));
        /* the fields Caffe's CVMatToDatum sets: encoded present and false */
        CHECK(d.msg->has_channels && d.msg->channels == 3 && d.msg->height == 4 &&
              d.msg->width == 5 && d.msg->has_encoded && !d.msg->encoded && d.msg->has_label);
        cliff_datum_free(&d);
    }
    CHECK(!tfx_exists(tfx_path("raw.lmdb.partial")));
}

static void leveldb_backend(void)
{
    three_images();
    if (convert("-backend leveldb", "raw.leveldb")) return;
    check_batch("raw.leveldb", 0, imgs, labels, 3);
    char key[64];
    CliffDatum d;
    if (record("raw.leveldb", 0, 2, key, sizeof key, &d)) return;
    CHECK(!strcmp(key, want_key[2]));
    cliff_datum_free(&d);
}

/* -gray: one plane, the codec's gray decode of each file */
static void gray(void)
{
    three_images();
    if (convert("--gray", "gray.lmdb")) return;
    CliffImage g[3];
    CliffError err;
    for (int i = 0; i < 3; i++)
        CHECK(cliff_image_read(tfx_path(i == 0 ? "a.png" : i == 1 ? "b.png" : "c d.png"), 1,
                               &g[i], &err) == 0);
    check_batch("gray.lmdb", 1, g, labels, 3);
    for (int i = 0; i < 3; i++) cliff_image_free(&g[i]);
}

/* -resize_height 3 -resize_width 2: cv::resize of the decoded image */
static void resize(void)
{
    three_images();
    if (convert("-resize_height 3 --resize_width=2", "small.lmdb")) return;
    CliffImage r[3];
    CliffError err;
    for (int i = 0; i < 3; i++) CHECK(cliff_image_resize(&imgs[i], 3, 2, &r[i], &err) == 0);
    check_batch("small.lmdb", 1, r, labels, 3);
    for (int i = 0; i < 3; i++) cliff_image_free(&r[i]);
    /* one size alone is a usage error (Caffe ignores it) */
    int rc = tfx_run("convert_imageset", "-resize_width 2 '%s/' '%s' '%s'", tfx_dir,
                     tfx_path("list.txt"), tfx_path("half.lmdb"));
    CHECK(rc == 2 && strstr(tfx_stderr(), "resize_height"));
}

/* -encoded: PNG files stored as they are (their own bytes, here with 5 bytes after the
 * image that a re-encoding would not write); the Data layer decodes them */
static void encoded_png_kept(void)
{
    three_images();
    FILE *tail = fopen(tfx_path("b.png"), "ab");
    if (!tail || fputs("cliff", tail) < 0 || fclose(tail)) CHECK_FAILF("cannot append to b.png");
    if (convert("-encoded", "png.lmdb")) return;
    check_batch("png.lmdb", 1, imgs, labels, 3);
    char key[64];
    CliffDatum d;
    if (record("png.lmdb", 1, 1, key, sizeof key, &d)) return;
    uint8_t *file;
    size_t n;
    FILE *f = fopen(tfx_path("b.png"), "rb");
    file = malloc(1 << 16);
    n = f ? fread(file, 1, 1 << 16, f) : 0;
    if (f) fclose(f);
    CHECK(d.msg->encoded && !d.msg->has_channels && d.msg->data.len == n &&
          memcmp(d.msg->data.data, file, n) == 0);
    free(file);
    cliff_datum_free(&d);
}

/* -encode_type jpg: re-encoded JPEG; pixels as a JPEG round trip of the image gives them */
static void encoded_jpg(void)
{
    three_images();
    if (convert("-encode_type=jpg -backend=leveldb", "jpg.leveldb")) return;
    CliffImage back[3];
    CliffError err;
    for (int i = 0; i < 3; i++) {
        uint8_t *buf;
        size_t len;
        CHECK(cliff_image_encode(&imgs[i], CLIFF_IMAGE_JPEG, &buf, &len, &err) == 0);
        CHECK(cliff_image_decode(buf, len, 3, &back[i], &err) == 0);
        free(buf);
    }
    check_batch("jpg.leveldb", 0, back, labels, 3);
    char key[64];
    CliffDatum d;
    if (record("jpg.leveldb", 0, 0, key, sizeof key, &d) == 0) {
        CHECK(d.msg->encoded && d.msg->data.len > 3 && d.msg->data.data[0] == 0xff &&
              d.msg->data.data[1] == 0xd8);
        cliff_datum_free(&d);
    }
    for (int i = 0; i < 3; i++) cliff_image_free(&back[i]);
}

/* -shuffle: the same -seed gives the same order (keys renumbered in it); another seed another */
static void shuffle_is_seeded(void)
{
    char list[2048] = "", line[64];
    CliffImage img;
    tfx_image("p.png", 1, 2, 2, 0, CLIFF_IMAGE_PNG, &img);
    cliff_image_free(&img);
    for (int i = 0; i < 40; i++) {
        snprintf(line, sizeof line, "p.png %d\n", i);
        strcat(list, line);
    }
    tfx_write("list.txt", list);
    int order[3][40];
    const char *dbs[3] = {"s1.lmdb", "s2.lmdb", "s3.lmdb"};
    const char *flags[3] = {"-shuffle -seed 5", "-shuffle -seed 5", "-shuffle -seed 6"};
    for (int r = 0; r < 3; r++) {
        if (convert(flags[r], dbs[r])) return;
        for (int i = 0; i < 40; i++) {
            char key[64], want[16];
            CliffDatum d;
            if (record(dbs[r], 1, i, key, sizeof key, &d)) return;
            order[r][i] = d.label;
            snprintf(want, sizeof want, "%08d_", i);
            CHECK(!strncmp(key, want, 9) && !strcmp(key + 9, "p.png"));
            cliff_datum_free(&d);
        }
    }
    int same = memcmp(order[0], order[1], sizeof order[0]) == 0;
    int other = memcmp(order[0], order[2], sizeof order[0]) != 0;
    int moved = 0, sum = 0;
    for (int i = 0; i < 40; i++) moved += order[0][i] != i, sum += order[0][i];
    CHECK(same && other && moved > 20 && sum == 40 * 39 / 2);
}

/* -check_size: the second image's size differs -> exit 3 naming its line; without it, fine */
static void check_size(void)
{
    CliffImage img;
    tfx_image("big.png", 3, 6, 5, 1, CLIFF_IMAGE_PNG, &img);
    cliff_image_free(&img);
    tfx_image("small.png", 3, 4, 5, 1, CLIFF_IMAGE_PNG, &img);
    cliff_image_free(&img);
    tfx_write("list.txt", "small.png 0\nbig.png 1\n");
    int rc = tfx_run("convert_imageset", "-check_size '%s/' '%s' '%s'", tfx_dir,
                     tfx_path("list.txt"), tfx_path("cs.lmdb"));
    const char *e = tfx_stderr();
    CHECK(rc == 3 && strstr(e, "list.txt:2: image '") && strstr(e, "big.png' is 3 x 6 x 5") &&
          strstr(e, "(line 1) is 3 x 4 x 5"));
    CHECK(!tfx_exists(tfx_path("cs.lmdb")) && !tfx_exists(tfx_path("cs.lmdb.partial")));
    convert("", "nocs.lmdb");
}

/* A bad list or image: exit 3, the list's file:line, nothing left at DB_NAME */
static void bad_input(void)
{
    three_images();
    static const struct {
        const char *list, *want;
    } cases[] = {
        {"a.png 1\nnone.png 2\n", "list.txt:2: cannot read '"},
        {"a.png 1\nlist.txt 2\n", "list.txt:2: image '"},
        {"a.png 1\nb.png 2\nc.png\n", "list.txt:3: 'c.png' has no label"},
        {"a.png one\n", "list.txt:1: label 'one' is not an integer"},
        {"\n\n", "lists no images"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tfx_write("list.txt", cases[i].list);
        int rc = tfx_run("convert_imageset", "'%s/' '%s' '%s'", tfx_dir, tfx_path("list.txt"),
                         tfx_path("bad.lmdb"));
        if (rc != 3 || !strstr(tfx_stderr(), cases[i].want))
            CHECK_FAILF("case %zu: exit %d, stderr '%s', want '%s'", i, rc, tfx_stderr(),
                        cases[i].want);
        CHECK(!tfx_exists(tfx_path("bad.lmdb")) && !tfx_exists(tfx_path("bad.lmdb.partial")));
    }
    int rc = tfx_run("convert_imageset", "'%s/' '%s' '%s'", tfx_dir, tfx_path("nolist.txt"),
                     tfx_path("bad.lmdb"));
    CHECK(rc == 3 && strstr(tfx_stderr(), "cannot open image list '") &&
          strstr(tfx_stderr(), "nolist.txt'"));
    /* usage: a missing argument, an unknown flag, a bad backend, a bad encoding */
    CHECK(tfx_run("convert_imageset", "a b") == 2);
    CHECK(tfx_run("convert_imageset", "-colour a b c") == 2 && strstr(tfx_stderr(), "-colour"));
    CHECK(tfx_run("convert_imageset", "-backend hdf5 a b c") == 2);
    CHECK(tfx_run("convert_imageset", "-encode_type gif a b c") == 2);
    /* an existing DB_NAME is kept and refused */
    three_images();
    mkdir(tfx_path("there.lmdb"), 0700);
    rc = tfx_run("convert_imageset", "'%s/' '%s' '%s'", tfx_dir, tfx_path("list.txt"),
                 tfx_path("there.lmdb"));
    CHECK(rc == 6 && strstr(tfx_stderr(), "exists already") && tfx_exists(tfx_path("there.lmdb")));
}

int main(void)
{
    tfx_init("convert-imageset");
    RUN(raw_color_lmdb);
    RUN(leveldb_backend);
    RUN(gray);
    RUN(resize);
    RUN(encoded_png_kept);
    RUN(encoded_jpg);
    RUN(shuffle_is_seeded);
    RUN(check_size);
    RUN(bad_input);
    for (int i = 0; i < 3; i++) cliff_image_free(&imgs[i]);
    tfx_cleanup();
    return test_main_end();
}
