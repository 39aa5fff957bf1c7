/* The Data layer against LMDB and LevelDB databases written record by record
 * through each library's own API (tests/db_fixture.c): key order, wrap-around,
 * labels, float_data, prefetch on and off giving the same batches, a resumed
 * cursor reading the same batches bit for bit, and every bad input named by
 * database and key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "db_fixture.h"
#include "layers/data/datum.h"
#include "layers/data/image_codec.h"
#include "net_fixture.h"

static char dir[128];

static const char *path_of(const char *name)
{
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

/* Record i (i = 0..n-1) under key "%08d": 1 x 2 x 3 pixels 10i + j, label 100 + i;
 * stored in the order 3, 0, 4, 1, 2, ... so that key order is not insertion order. */
static const char *write_five(int lmdb, const char *name)
{
    const char *path = path_of(name);
    DbFx *w = dbfx_create(lmdb, path);
    if (!w) {
        CHECK_FAILF("cannot create %s", path);
        return path;
    }
    static const int order[5] = {3, 0, 4, 1, 2};
    for (int k = 0; k < 5; k++) {
        int i = order[k];
        uint8_t px[6];
        for (int j = 0; j < 6; j++) px[j] = (uint8_t)(10 * i + j);
        Cliff__Datum d = dbfx_raw(1, 2, 3, px, 100 + i);
        char key[16];
        snprintf(key, sizeof key, "%08d", i);
        CHECK(dbfx_put_datum(w, key, &d) == 0);
    }
    CHECK(dbfx_close(w) == 0);
    return path;
}

/* A net of one Data layer, batch 2; dp goes inside data_param, extra after it. */
static CliffNet *data_net(NetFx *fx, const char *source, int lmdb, const char *dp,
                          const char *extra, int phase)
{
    char text[1024];
    snprintf(text, sizeof text,
             "layer { name: 'd' type: 'Data' top: 'data' top: 'label' "
             "data_param { source: '%s' backend: %s batch_size: 2 %s } %s }",
             source, lmdb ? "LMDB" : "LEVELDB", dp, extra);
    return nfx_build(fx, text, phase, NULL);
}

static void key_order_and_wrap(int lmdb, int prefetch)
{
    const char *src = write_five(lmdb, lmdb ? "five.lmdb" : "five.leveldb");
    char dp[64];
    snprintf(dp, sizeof dp, "prefetch: %d", prefetch);
    NetFx fx;
    CliffNet *net = data_net(&fx, src, lmdb, dp, "", CLIFF__PHASE__TRAIN);
    if (!net) {
        CHECK_FAILF("build: %s", fx.err.msg);
        nfx_free(&fx);
        return;
    }
    CliffTensor *data = nfx_blob(net, "data"), *label = nfx_blob(net, "label");
    CHECK(data->num_axes == 4 && data->shape[0] == 2 && data->shape[1] == 1 &&
          data->shape[2] == 2 && data->shape[3] == 3);
    CHECK(label->num_axes == 1 && label->shape[0] == 2);
    /* batches: 0 1 | 2 3 | 4 0 | 1 2 (wraps after record 4) */
    static const int want[8] = {0, 1, 2, 3, 4, 0, 1, 2};
    for (int b = 0; b < 4; b++) {
        double loss = cliff_net_forward(net);
        CHECK(loss == 0 && !net->data_error);
        for (int n = 0; n < 2; n++) {
            int i = want[2 * b + n];
            CHECK(label->data[n] == 100 + i);
            for (int j = 0; j < 6; j++)
                if (data->data[n * 6 + j] != 10 * i + j) {
                    CHECK_FAILF("batch %d item %d pixel %d: %g, want %d", b, n, j,
                                data->data[n * 6 + j], 10 * i + j);
                    b = 4;
                    break;
                }
        }
    }
    nfx_free(&fx);
}

static void lmdb_in_key_order(void) { key_order_and_wrap(1, 4); }
static void lmdb_without_prefetch(void) { key_order_and_wrap(1, 0); }
static void leveldb_in_key_order(void) { key_order_and_wrap(0, 3); }

static void float_data_records(void)
{
    for (int lmdb = 0; lmdb < 2; lmdb++) {
        const char *src = path_of(lmdb ? "float.lmdb" : "float.leveldb");
        DbFx *w = dbfx_create(lmdb, src);
        float v[2][4] = {{0.5f, -1.25f, 3e-7f, 255.75f}, {-0.0f, 1e30f, 7, -8}};
        for (int i = 0; i < 2; i++) {
            Cliff__Datum d = CLIFF__DATUM__INIT;
            d.has_channels = d.has_height = d.has_width = d.has_label = 1;
            d.channels = 2;
            d.height = 1;
            d.width = 2;
            d.label = -3 + i;
            d.n_float_data = 4;
            d.float_data = v[i];
            char key[16];
            snprintf(key, sizeof key, "k%d", i);
            CHECK(dbfx_put_datum(w, key, &d) == 0);
        }
        CHECK(dbfx_close(w) == 0);
        NetFx fx;
        CliffNet *net = data_net(&fx, src, lmdb, "", "transform_param { scale: 2 }",
                                 CLIFF__PHASE__TEST);
        if (!net) {
            CHECK_FAILF("build: %s", fx.err.msg);
            nfx_free(&fx);
            continue;
        }
        cliff_net_forward(net);
        CliffTensor *data = nfx_blob(net, "data"), *label = nfx_blob(net, "label");
        for (int i = 0; i < 2; i++) {
            CHECK(label->data[i] == -3 + i);
            for (int j = 0; j < 4; j++) CHECK(data->data[i * 4 + j] == v[i][j] * 2);
        }
        nfx_free(&fx);
    }
}

/* Batches of a TRAIN net with random crops and mirrors: n forwards into out. */
static void run_batches(CliffNet *net, int n, float *out)
{
    CliffTensor *data = nfx_blob(net, "data");
    for (int i = 0; i < n; i++) {
        cliff_net_forward(net);
        memcpy(out + (size_t)i * data->count, data->data, data->count * sizeof(float));
    }
}

static void resume_is_bit_exact(void)
{
    const char *src = write_five(1, "resume.lmdb");
    const char *aug = "transform_param { crop_size: 2 mirror: true scale: 0.5 }";
    NetFx a, b, c;
    CliffNet *na = data_net(&a, src, 1, "prefetch: 3", aug, CLIFF__PHASE__TRAIN);
    CliffNet *nc = data_net(&c, src, 1, "prefetch: 0", aug, CLIFF__PHASE__TRAIN);
    if (!na || !nc) {
        CHECK_FAILF("build: %s %s", a.err.msg, c.err.msg);
        nfx_free(&a);
        nfx_free(&c);
        return;
    }
    float first[3 * 8], rest[4 * 8], again[4 * 8], sync[7 * 8];
    run_batches(na, 3, first);
    usleep(100000); /* the producer runs ahead (fills its queue) before the save */
    CliffNetLayer *la = nfx_layer(na, "d");
    int64_t words[16];
    size_t n = la->layer.ops->state_size(&la->layer);
    CHECK(n <= 16);
    la->layer.ops->state_save(&la->layer, words);
    CHECK(words[1] == 1 && words[2] == 1); /* 6 records taken: index 1 of epoch 1 */
    run_batches(na, 4, rest);
    /* prefetch does not change the batches */
    run_batches(nc, 7, sync);
    CHECK(memcmp(sync, first, sizeof first) == 0);
    CHECK(memcmp(sync + 3 * 8, rest, sizeof rest) == 0);
    /* a fresh net restored from the words reads the same 4 batches; its own
     * prefetched batches (from its own start) are dropped */
    CliffNet *nb = data_net(&b, src, 1, "prefetch: 3", aug, CLIFF__PHASE__TRAIN);
    if (nb) {
        CliffNetLayer *lb = nfx_layer(nb, "d");
        run_batches(nb, 1, again); /* the producer runs ahead from its start... */
        usleep(100000);            /* ...and has time to fill its queue */
        CliffError err;
        CHECK(lb->layer.ops->state_load(&lb->layer, words, n, &err) == 0);
        run_batches(nb, 4, again);
        CHECK(memcmp(again, rest, sizeof rest) == 0);
        int64_t bad[7] = {2, 0, 0, 0, 0, 0, 0};
        CHECK(lb->layer.ops->state_load(&lb->layer, bad, 7, &err) == -1);
        bad[0] = 1;
        bad[1] = 9; /* past the 5 records */
        CHECK(lb->layer.ops->state_load(&lb->layer, bad, 7, &err) == 0);
        CHECK(isnan(cliff_net_forward(nb)) && nb->data_error &&
              strstr(nb->runtime_error.msg, "holds 5 records, fewer than the saved position 9"));
    }
    nfx_free(&a);
    nfx_free(&b);
    nfx_free(&c);
}

/* Encoded PNG and JPEG Datums (3 x 4 x 5 color) read back: PNG as the pixels
 * encoded, JPEG as the codec decodes those bytes; force_gray gives 1 channel. */
static void encoded_records(void)
{
    CliffImage img;
    CliffError err;
    CHECK(cliff_image_alloc(&img, 3, 4, 5, 60, &err) == 0);
    for (int i = 0; i < 60; i++) img.px[i] = (uint8_t)(i * 37 % 251);
    uint8_t *png, *jpg;
    size_t npng, njpg;
    CHECK(cliff_image_encode(&img, CLIFF_IMAGE_PNG, &png, &npng, &err) == 0);
    CHECK(cliff_image_encode(&img, CLIFF_IMAGE_JPEG, &jpg, &njpg, &err) == 0);
    CliffImage jdec;
    CHECK(cliff_image_decode(jpg, njpg, 3, &jdec, &err) == 0);
    for (int lmdb = 0; lmdb < 2; lmdb++) {
        const char *src = path_of(lmdb ? "enc.lmdb" : "enc.leveldb");
        DbFx *w = dbfx_create(lmdb, src);
        for (int k = 0; k < 2; k++) {
            Cliff__Datum d = CLIFF__DATUM__INIT;
            d.has_data = d.has_encoded = d.has_label = 1;
            d.encoded = 1;
            d.label = k;
            d.data.data = k ? jpg : png;
            d.data.len = k ? njpg : npng;
            CHECK(dbfx_put_datum(w, k ? "b_jpg" : "a_png", &d) == 0);
        }
        CHECK(dbfx_close(w) == 0);
        NetFx fx;
        CliffNet *net = data_net(&fx, src, lmdb, "", "", CLIFF__PHASE__TEST);
        if (!net) {
            CHECK_FAILF("build: %s", fx.err.msg);
            nfx_free(&fx);
            continue;
        }
        cliff_net_forward(net);
        CliffTensor *data = nfx_blob(net, "data");
        CHECK(data->count == 120 && data->shape[1] == 3 && data->shape[2] == 4);
        for (int i = 0; i < 60; i++) {
            CHECK(data->data[i] == img.px[i]);
            CHECK(data->data[60 + i] == jdec.px[i]);
        }
        nfx_free(&fx);
        net = data_net(&fx, src, lmdb, "", "transform_param { force_gray: true }",
                       CLIFF__PHASE__TEST);
        CHECK(net && nfx_blob(net, "data")->shape[1] == 1);
        nfx_free(&fx);
    }
    free(png);
    free(jpg);
    cliff_image_free(&img);
    cliff_image_free(&jdec);
}

/* Rank r of 2 takes batches r, r + 2, ... of the one reader's sequence, with the
 * same crops and mirrors, and ends at the one reader's cursor. */
static void sharded_ranks(void)
{
    const char *src = write_five(1, "shard.lmdb");
    const char *aug = "transform_param { crop_size: 2 mirror: true }";
    NetFx one;
    CliffNet *n1 = data_net(&one, src, 1, "prefetch: 2", aug, CLIFF__PHASE__TRAIN);
    if (!n1) {
        CHECK_FAILF("build: %s", one.err.msg);
        nfx_free(&one);
        return;
    }
    float all[6 * 8];
    run_batches(n1, 6, all);
    int64_t want[7], got[7];
    CliffNetLayer *l1 = nfx_layer(n1, "d");
    l1->layer.ops->state_save(&l1->layer, want);
    for (int rank = 0; rank < 2; rank++) {
        NetFx fx;
        CliffNet *net = data_net(&fx, src, 1, "prefetch: 2", aug, CLIFF__PHASE__TRAIN);
        CliffError err;
        if (!net || cliff_net_shard(net, rank, 2, &err)) {
            CHECK_FAILF("build or shard failed");
            nfx_free(&fx);
            continue;
        }
        float mine[3 * 8];
        run_batches(net, 3, mine);
        for (int k = 0; k < 3; k++)
            CHECK(memcmp(mine + k * 8, all + (2 * k + rank) * 8, 8 * sizeof(float)) == 0);
        CliffNetLayer *L = nfx_layer(net, "d");
        L->layer.ops->state_save(&L->layer, got);
        CHECK(memcmp(got, want, sizeof want) == 0);
        nfx_free(&fx);
    }
    /* Rank 1 resumed from its state after one batch reads batches 3 and 5. */
    NetFx a, b;
    CliffNet *na = data_net(&a, src, 1, "prefetch: 2", aug, CLIFF__PHASE__TRAIN);
    CliffNet *nb = data_net(&b, src, 1, "prefetch: 2", aug, CLIFF__PHASE__TRAIN);
    CliffError err;
    if (na && nb && !cliff_net_shard(na, 1, 2, &err) && !cliff_net_shard(nb, 1, 2, &err)) {
        float mine[2 * 8];
        run_batches(na, 1, mine);
        int64_t words[7];
        CliffNetLayer *la = nfx_layer(na, "d"), *lb = nfx_layer(nb, "d");
        la->layer.ops->state_save(&la->layer, words);
        CHECK(lb->layer.ops->state_load(&lb->layer, words, 7, &err) == 0);
        run_batches(nb, 2, mine);
        CHECK(memcmp(mine, all + 3 * 8, 8 * sizeof(float)) == 0);
        CHECK(memcmp(mine + 8, all + 5 * 8, 8 * sizeof(float)) == 0);
    } else
        CHECK_FAILF("build or shard failed");
    nfx_free(&a);
    nfx_free(&b);
    nfx_free(&one);
}

/* A record that is not a Datum (record 2) in rank 1's batches only (batch 2:
 * rank 1 reads records 2, 3 and then 1, 2; rank 0 reads 0, 1 then 4, 0 then
 * 3, 4): rank 0 passes over it without reading it, and its batches are those
 * of the sound database; rank 1 stops at its first batch naming the key. */
static void sharded_rank_skips_unread(void)
{
    const char *good = write_five(1, "shard_good.lmdb");
    const char *src = path_of("shard_bad.lmdb");
    DbFx *w = dbfx_create(1, src);
    if (!w) {
        CHECK_FAILF("cannot create %s", src);
        return;
    }
    for (int i = 0; i < 5; i++) {
        uint8_t px[6];
        for (int j = 0; j < 6; j++) px[j] = (uint8_t)(10 * i + j);
        Cliff__Datum d = dbfx_raw(1, 2, 3, px, 100 + i);
        char key[16];
        snprintf(key, sizeof key, "%08d", i);
        static const char junk[] = "\xff\xff not a Datum";
        CHECK((i == 2 ? dbfx_put(w, key, junk, sizeof junk - 1) : dbfx_put_datum(w, key, &d)) ==
              0);
    }
    CHECK(dbfx_close(w) == 0);
    const char *aug = "transform_param { crop_size: 2 mirror: true }";
    float want[3 * 8], got[3 * 8];
    for (int k = 0; k < 2; k++) {
        NetFx fx;
        CliffNet *net = data_net(&fx, k ? src : good, 1, "prefetch: 2", aug,
                                 CLIFF__PHASE__TRAIN);
        CliffError err;
        if (!net || cliff_net_shard(net, 0, 2, &err)) {
            CHECK_FAILF("build or shard failed");
            nfx_free(&fx);
            return;
        }
        CliffTensor *data = nfx_blob(net, "data");
        for (int i = 0; i < 3; i++) {
            cliff_net_forward(net);
            CHECK(!net->data_error);
            memcpy((k ? got : want) + i * 8, data->data, 8 * sizeof(float));
        }
        nfx_free(&fx);
    }
    CHECK(memcmp(got, want, sizeof got) == 0);
    NetFx fx;
    CliffNet *net = data_net(&fx, src, 1, "prefetch: 2", aug, CLIFF__PHASE__TRAIN);
    CliffError err;
    if (net && !cliff_net_shard(net, 1, 2, &err)) {
        cliff_net_forward(net);
        CHECK(net->data_error && strstr(net->runtime_error.msg, "key '00000002'"));
    } else
        CHECK_FAILF("build or shard failed");
    nfx_free(&fx);
}

static void expect_build_error(const char *src, int lmdb, const char *extra, const char *want)
{
    NetFx fx;
    CliffNet *net = data_net(&fx, src, lmdb, "", extra, CLIFF__PHASE__TRAIN);
    if (net)
        CHECK_FAILF("built; expected '%s'", want);
    else if (!strstr(fx.err.msg, want))
        CHECK_FAILF("error '%s' lacks '%s'", fx.err.msg, want);
    nfx_free(&fx);
}

static void bad_sources(void)
{
    char want[512];
    const char *missing = path_of("missing.lmdb");
    snprintf(want, sizeof want, "data_param.source: LMDB source '%s': No such file", missing);
    expect_build_error(missing, 1, "", want);
    const char *empty_dir = path_of("emptydir");
    mkdir(empty_dir, 0755);
    snprintf(want, sizeof want, "'%s' is not a readable LMDB database", empty_dir);
    expect_build_error(empty_dir, 1, "", want);
    snprintf(want, sizeof want, "'%s' is not a readable LevelDB database", empty_dir);
    expect_build_error(empty_dir, 0, "", want);
    /* each backend's database named with the other backend */
    const char *l = write_five(1, "five.lmdb"), *g = write_five(0, "five.leveldb");
    expect_build_error(l, 0, "", "is not a readable LevelDB database");
    expect_build_error(g, 1, "", "is not a readable LMDB database");
    /* a file, not a folder */
    const char *file = path_of("plain.txt");
    FILE *f = fopen(file, "w");
    fputs("x", f);
    fclose(f);
    expect_build_error(file, 1, "", "is not a folder");
    /* a database with no records */
    const char *none = path_of("none.lmdb");
    DbFx *w = dbfx_create(1, none);
    dbfx_close(w);
    snprintf(want, sizeof want, "LMDB '%s' holds no records", none);
    expect_build_error(none, 1, "", want);
}

/* A bad record first (setup fails) or later (the forward that reaches it stops
 * with data_error), named by key. */
static void bad_records(void)
{
    for (int lmdb = 0; lmdb < 2; lmdb++) {
        const char *src = path_of(lmdb ? "bad.lmdb" : "bad.leveldb");
        DbFx *w = dbfx_create(lmdb, src);
        uint8_t px[9] = {0};
        Cliff__Datum ok = dbfx_raw(1, 2, 3, px, 0), big = dbfx_raw(1, 3, 3, px, 0);
        dbfx_put_datum(w, "a", &ok);
        dbfx_put_datum(w, "b", &ok);
        dbfx_put(w, "c\001", "\x0a\x7fjunk", 6); /* not a Datum */
        dbfx_put_datum(w, "d", &ok);
        dbfx_put_datum(w, "e", &big); /* another shape */
        dbfx_put_datum(w, "f", &ok);
        dbfx_close(w);
        for (int which = 0; which < 2; which++) {
            NetFx fx;
            /* rand_skip is accepted and ignored */
            CliffNet *net = data_net(&fx, src, lmdb, "rand_skip: 3", "",
                                     CLIFF__PHASE__TRAIN);
            if (!net) {
                CHECK_FAILF("build: %s", fx.err.msg);
                nfx_free(&fx);
                continue;
            }
            if (which == 1) { /* skip past the bad value to reach the shape change */
                CliffNetLayer *L = nfx_layer(net, "d");
                int64_t words[7];
                L->layer.ops->state_save(&L->layer, words);
                words[1] = 3;
                CliffError err;
                L->layer.ops->state_load(&L->layer, words, 7, &err);
            }
            if (which == 0) CHECK(!isnan(cliff_net_forward(net))); /* a, b */
            CHECK(isnan(cliff_net_forward(net)) && net->data_error); /* c, or d then e */
            char want[512];
            if (which == 0)
                snprintf(want, sizeof want, "layer 'd' (Data): %s '%s', record 2 (key "
                         "'c\\x01'): the 6-byte value is not a Datum", lmdb ? "LMDB" : "LevelDB",
                         src);
            else
                snprintf(want, sizeof want, "record 4 (key 'e'): the record is 1 x 3 x 3 but "
                         "the first record is 1 x 2 x 3 (C x H x W)");
            if (!strstr(net->runtime_error.msg, want))
                CHECK_FAILF("error '%s' lacks '%s'", net->runtime_error.msg, want);
            nfx_free(&fx);
        }
    }
    const char *first_bad = path_of("firstbad.lmdb");
    DbFx *w = dbfx_create(1, first_bad);
    dbfx_put(w, "k0", "\x08\x01\x10\x00", 4); /* channels 1, height 0 */
    dbfx_close(w);
    expect_build_error(first_bad, 1, "", "record 0 (key 'k0'): Datum of 1 x 0 x 0");
}

/* Datum records checked field by field (layers/data/datum.c). */
static void expect_datum_error(const Cliff__Datum *d, const char *want)
{
    uint8_t buf[256];
    size_t n = cliff__datum__pack(d, buf);
    CliffDatum dt;
    CliffError err = {0};
    if (cliff_datum_parse(buf, n, 0, &dt, &err) == 0) {
        CHECK_FAILF("parsed; expected '%s'", want);
        cliff_datum_free(&dt);
    } else if (!strstr(err.msg, want))
        CHECK_FAILF("error '%s' lacks '%s'", err.msg, want);
}

static void bad_datums(void)
{
    uint8_t px[8] = {0};
    Cliff__Datum d = dbfx_raw(2, 2, 2, px, 1);
    d.data.len = 7;
    expect_datum_error(&d, "Datum of 2 x 2 x 2 holds 7 bytes of data (8 expected)");
    d = dbfx_raw(1, 2, 2, px, 1);
    d.has_data = 0;
    d.data.len = 0;
    float f[3] = {0};
    d.n_float_data = 3;
    d.float_data = f;
    expect_datum_error(&d, "holds 3 float_data values and no data (4 expected)");
    d = dbfx_raw(0, 2, 2, px, 1);
    expect_datum_error(&d, "Datum of 0 x 2 x 2");
    d = dbfx_raw(65536, 65536, 1, px, 1);
    d.data.len = 1;
    expect_datum_error(&d, "at most 2^31-1 values");
    d = dbfx_raw(1, 1, 1, px, 1);
    d.has_encoded = 1;
    d.encoded = 1;
    d.data.len = 0;
    expect_datum_error(&d, "encoded Datum without image bytes");
    CliffDatum dt;
    CliffError err;
    CHECK(cliff_datum_parse("\x0a\x7f", 2, 0, &dt, &err) == -1 &&
          strstr(err.msg, "the 2-byte value is not a Datum"));
    /* a valid one: pixels and label as stored */
    uint8_t ok[4] = {9, 8, 7, 6};
    d = dbfx_raw(1, 2, 2, ok, -5);
    uint8_t buf[64];
    size_t n = cliff__datum__pack(&d, buf);
    CHECK(cliff_datum_parse(buf, n, 0, &dt, &err) == 0 && dt.label == -5 &&
          dt.view.channels == 1 && dt.view.height == 2 && dt.view.width == 2 &&
          memcmp(dt.view.u8, ok, 4) == 0);
    cliff_datum_free(&dt);
}

static void bad_transforms(void)
{
    const char *src = write_five(1, "five.lmdb");
    char want[512];
    snprintf(want, sizeof want, "LMDB '%s', first record: transform_param.crop_size 3 is "
             "larger than the 2 x 3 image", src);
    expect_build_error(src, 1, "transform_param { crop_size: 3 }", want);
    expect_build_error(src, 1, "transform_param { mean_value: 1 mean_value: 2 }",
                       "2 mean_value entries for 1-channel data");
    /* a mean file of another shape: 1 x 3 x 3 for 1 x 2 x 3 data */
    const char *mean = path_of("mean.binaryproto");
    Cliff__BlobProto bp = CLIFF__BLOB_PROTO__INIT;
    float m[9] = {0};
    bp.has_num = bp.has_channels = bp.has_height = bp.has_width = 1;
    bp.num = bp.channels = 1;
    bp.height = bp.width = 3;
    bp.n_data = 9;
    bp.data = m;
    uint8_t buf[128];
    size_t n = cliff__blob_proto__pack(&bp, buf);
    FILE *f = fopen(mean, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    char extra[300];
    snprintf(extra, sizeof extra, "transform_param { mean_file: '%s' }", mean);
    snprintf(want, sizeof want, "mean file '%s' is 1 x 3 x 3 but the data is 1 x 2 x 3", mean);
    expect_build_error(src, 1, extra, want);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/cliff-test-data-%d", (int)getpid());
    mkdir(dir, 0700);
    RUN(lmdb_in_key_order);
    RUN(lmdb_without_prefetch);
    RUN(leveldb_in_key_order);
    RUN(float_data_records);
    RUN(resume_is_bit_exact);
    RUN(encoded_records);
    RUN(sharded_ranks);
    RUN(sharded_rank_skips_unread);
    RUN(bad_sources);
    RUN(bad_records);
    RUN(bad_datums);
    RUN(bad_transforms);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return test_main_end();
}
