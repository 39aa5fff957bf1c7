/* tools/convert_mnist_data: small IDX files (plain and gzip) written here, the
 * records read back (keys "%08d", Datum fields as Caffe's convert_mnist_data
 * sets them) and through the Data layer with LeNet's scale, both backends;
 * bad input (wrong magic, different counts, a truncated file, a missing
 * file) stops with exit 3 naming the file and leaves no database. */
#include <zlib.h>

#include "layers/data/datum.h"
#include "layers/data/db.h"
#include "tool_fixture.h"

/* 3 images of 2 x 3: pixel j of image i is 40 i + 7 j; labels 9, 4, 0 */
static void write_idx(int gz, int count_labels, int magic_images, size_t cut)
{
    unsigned char im[16 + 18] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3};
    unsigned char lb[8 + 3] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)count_labels, 9, 4, 0};
    im[3] = (unsigned char)magic_images;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 6; j++) im[16 + 6 * i + j] = (unsigned char)(40 * i + 7 * j);
    const char *names[2] = {gz ? "img.gz" : "img", gz ? "lab.gz" : "lab"};
    const unsigned char *bytes[2] = {im, lb};
    size_t sizes[2] = {sizeof im - cut, sizeof lb};
    for (int k = 0; k < 2; k++) {
        if (gz) {
            gzFile f = gzopen(tfx_path(names[k]), "wb");
            if (!f || gzwrite(f, bytes[k], (unsigned)sizes[k]) != (int)sizes[k] || gzclose(f))
                CHECK_FAILF("cannot write %s", names[k]);
        } else {
            FILE *f = fopen(tfx_path(names[k]), "wb");
            if (!f || fwrite(bytes[k], 1, sizes[k], f) != sizes[k] || fclose(f))
                CHECK_FAILF("cannot write %s", names[k]);
        }
    }
}

static int convert(int gz, const char *flags, const char *db)
{
    return tfx_run("convert_mnist_data", "%s '%s' '%s' '%s'", flags,
                   tfx_path(gz ? "img.gz" : "img"), tfx_path(gz ? "lab.gz" : "lab"),
                   tfx_path(db));
}

static void records_and_data_layer(int gz, int lmdb)
{
    write_idx(gz, 3, 3, 0);
    const char *db = lmdb ? "m.lmdb" : "m.leveldb";
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tfx_path(db));
    if (system(cmd)) {}
    int rc = convert(gz, lmdb ? "" : "-backend=leveldb", db);
    if (rc) {
        CHECK_FAILF("exit %d: %s", rc, tfx_stderr());
        return;
    }
    CliffError err;
    CliffDb *h = cliff_db_open(lmdb ? CLIFF_DB_LMDB : CLIFF_DB_LEVELDB, tfx_path(db), &err);
    if (!h) {
        CHECK_FAILF("open: %s", err.msg);
        return;
    }
    int valid, n = 0;
    static const int labels[3] = {9, 4, 0};
    for (rc = cliff_db_first(h, &valid, &err); rc == 0 && valid;
         rc = cliff_db_next(h, &valid, &err), n++) {
        const void *k, *v;
        size_t kl, vl;
        cliff_db_record(h, &k, &kl, &v, &vl);
        char want[16];
        snprintf(want, sizeof want, "%08d", n);
        CHECK(kl == 8 && !memcmp(k, want, 8));
        CliffDatum d;
        if (cliff_datum_parse(v, vl, 0, &d, &err)) {
            CHECK_FAILF("record %d: %s", n, err.msg);
            break;
        }
        /* convert_mnist_data's fields: no encoded field */
        CHECK(d.msg->channels == 1 && d.msg->height == 2 && d.msg->width == 3 &&
              !d.msg->has_encoded && d.msg->has_label && d.label == labels[n % 3]);
        cliff_datum_free(&d);
    }
    cliff_db_close(h);
    CHECK(rc == 0 && n == 3);
    NetFx fx;
    CliffNet *net = tfx_data_net(&fx, tfx_path(db), lmdb, 3, "transform_param { scale: 0.00390625 }");
    if (!net) {
        nfx_free(&fx);
        return;
    }
    cliff_net_forward(net);
    CliffTensor *data = nfx_blob(net, "data"), *label = nfx_blob(net, "label");
    CHECK(data->shape[1] == 1 && data->shape[2] == 2 && data->shape[3] == 3);
    for (int i = 0; i < 3; i++) {
        CHECK(label->data[i] == labels[i]);
        for (int j = 0; j < 6; j++) CHECK(data->data[6 * i + j] == (40 * i + 7 * j) * 0.00390625f);
    }
    nfx_free(&fx);
}

static void plain_lmdb(void) { records_and_data_layer(0, 1); }
static void gzip_leveldb(void) { records_and_data_layer(1, 0); }

static void bad_input(void)
{
    static const struct {
        int labels, magic;
        size_t cut;
        const char *want;
    } cases[] = {
        {2, 3, 0, "they hold different numbers of items"},
        {3, 2, 0, "the image file is not N x rows x cols"},
        {3, 3, 5, "ends after 13 of its 18 values"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_idx(1, cases[i].labels, cases[i].magic, cases[i].cut);
        int rc = convert(1, "", "bad.lmdb");
        if (rc != 3 || !strstr(tfx_stderr(), cases[i].want) || !strstr(tfx_stderr(), "img.gz"))
            CHECK_FAILF("case %zu: exit %d, '%s'", i, rc, tfx_stderr());
        CHECK(!tfx_exists(tfx_path("bad.lmdb")) && !tfx_exists(tfx_path("bad.lmdb.partial")));
    }
    int rc = tfx_run("convert_mnist_data", "'%s' '%s' '%s'", tfx_path("none"), tfx_path("lab"),
                     tfx_path("bad.lmdb"));
    CHECK(rc == 3 && strstr(tfx_stderr(), "cannot open '") && strstr(tfx_stderr(), "none'"));
    CHECK(tfx_run("convert_mnist_data", "%s", "a b") == 2);
    CHECK(tfx_run("convert_mnist_data", "%s", "-backend=hdf5 a b c") == 2);
}

int main(void)
{
    tfx_init("convert-mnist");
    RUN(plain_lmdb);
    RUN(gzip_leveldb);
    RUN(bad_input);
    tfx_cleanup();
    return test_main_end();
}
