/* ImageData: a list of PNG and JPEG files through a net, the images' pixels
 * known (image k has B = k, G = 100 + k, R = 200 + k at (0, 0)): list order
 * and labels, wrap, gray and color reads, resize, transform_param, shuffle
 * (a permutation per epoch, a new one at the wrap), rand_skip, resume from the
 * saved state bit for bit, and each bad input named by file and line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "layers/data/image_codec.h"
#include "layers/net/net.h"
#include "proto/textformat.h"

static char dir[64];

/* dir/name: a 3 x h x w image, pixel (c, y, x) = 100 c + k + y + x (PNG) */
static void write_image(const char *name, int k, int h, int w, CliffImageFormat fmt)
{
    CliffImage img;
    CliffError err;
    uint8_t *buf;
    size_t len;
    char path[256];
    if (cliff_image_alloc(&img, 3, (size_t)h, (size_t)w, 1 << 20, &err)) abort();
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) img.px[(c * h + y) * w + x] = (uint8_t)(100 * c + k + y + x);
    if (cliff_image_encode(&img, fmt, &buf, &len, &err)) abort();
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len) CHECK_FAILF("cannot write %s", path);
    if (f) fclose(f);
    free(buf);
    cliff_image_free(&img);
}

static void write_text(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) fputs(text, f), fclose(f);
}

/* extra: more of the layer (data_param's prefetch) */
static CliffNet *build_extra(const char *param, const char *transform, const char *extra,
                             int phase, Cliff__NetParameter **np, CliffError *err)
{
    char text[2048];
    snprintf(text, sizeof text,
             "layer { name: 'img' type: 'ImageData' top: 'data' top: 'label' "
             "image_data_param { root_folder: '%s/' %s } transform_param { %s } %s }",
             dir, param, transform ? transform : "", extra);
    *np = (Cliff__NetParameter *)cliff_text_parse(&cliff__net_parameter__descriptor, "net",
                                                  text, strlen(text), NULL, err);
    if (!*np) return NULL;
    CliffNet *net = cliff_net_build(*np, phase, NULL, NULL, NULL, err);
    if (!net) {
        protobuf_c_message_free_unpacked(&(*np)->base, NULL);
        *np = NULL;
    }
    return net;
}

static CliffNet *build(const char *param, const char *transform, int phase,
                       Cliff__NetParameter **np, CliffError *err)
{
    return build_extra(param, transform, "", phase, np, err);
}

static void free_net(CliffNet *net, Cliff__NetParameter *np)
{
    cliff_net_free(net);
    if (np) protobuf_c_message_free_unpacked(&np->base, NULL);
}

static CliffNet *build_ok(const char *param, const char *transform, int phase,
                          Cliff__NetParameter **np)
{
    CliffError err;
    CliffNet *net = build(param, transform, phase, np, &err);
    if (!net) CHECK_FAILF("build { %s }: %s", param, err.msg);
    return net;
}

/* the image index of each batch row (pixel (0, 0, 0) = k) and the labels */
static void batch_ids(CliffNet *net, int *ids, float *labels)
{
    CHECK(!isnan(cliff_net_forward(net)));
    const CliffTensor *d = net->blobs[0], *l = net->blobs[1];
    size_t item = d->count / (size_t)d->shape[0];
    for (int b = 0; b < d->shape[0]; b++) {
        ids[b] = (int)d->data[(size_t)b * item];
        if (labels) labels[b] = l->data[b];
    }
}

static void setup_images(void)
{
    for (int k = 0; k < 5; k++) {
        char name[32];
        snprintf(name, sizeof name, "im %d.png", k); /* a space in the name */
        write_image(name, k, 4, 6, CLIFF_IMAGE_PNG);
    }
    write_text("list.txt", "im 0.png 7\nim 1.png 1\n\n  im 2.png\t2  \nim 3.png 3\nim 4.png -4\n");
}

static void test_order_labels_wrap(void)
{
    Cliff__NetParameter *np;
    CliffNet *net;
    char src[128];
    snprintf(src, sizeof src, "source: '%s/list.txt' batch_size: 3", dir);
    net = build_ok(src, NULL, CLIFF__PHASE__TRAIN, &np);
    if (!net) return;
    const CliffTensor *d = net->blobs[0];
    CHECK(d->num_axes == 4 && d->shape[0] == 3 && d->shape[1] == 3 && d->shape[2] == 4 &&
          d->shape[3] == 6 && net->blobs[1]->count == 3);
    int ids[3];
    float lab[3];
    batch_ids(net, ids, lab);
    CHECK(ids[0] == 0 && ids[1] == 1 && ids[2] == 2 && lab[0] == 7 && lab[1] == 1 && lab[2] == 2);
    /* B, G, R planes: channel 2 of image 0 at (3, 5) is 200 + 3 + 5 */
    CHECK(d->data[2 * 24 + 3 * 6 + 5] == 208 && d->data[24] == 100);
    batch_ids(net, ids, lab);
    CHECK(ids[0] == 3 && ids[1] == 4 && ids[2] == 0 && lab[1] == -4 && lab[2] == 7);
    free_net(net, np);
}

static void test_gray_resize_transform(void)
{
    Cliff__NetParameter *np;
    char src[256];
    snprintf(src, sizeof src, "source: '%s/list.txt' batch_size: 1 is_color: false "
             "new_height: 8 new_width: 12", dir);
    CliffNet *net = build_ok(src, "scale: 0.5 mean_value: 10", CLIFF__PHASE__TEST, &np);
    if (!net) return;
    const CliffTensor *d = net->blobs[0];
    CHECK(d->shape[1] == 1 && d->shape[2] == 8 && d->shape[3] == 12);
    CHECK(!isnan(cliff_net_forward(net)));
    /* gray of (B, G, R) = (0, 100, 200) at (0, 0): (9797*200 + 19234*100) >> 15 = 118,
     * unchanged by the upscale's clamped corner; (118 - 10) * 0.5 */
    CHECK(d->data[0] == 54);
    free_net(net, np);
    snprintf(src, sizeof src, "source: '%s/list.txt' batch_size: 2", dir);
    net = build_ok(src, "crop_size: 3", CLIFF__PHASE__TEST, &np);
    if (!net) return;
    CHECK(net->blobs[0]->shape[2] == 3 && net->blobs[0]->shape[3] == 3);
    CHECK(!isnan(cliff_net_forward(net)));
    /* centre crop: offsets (4 - 3) / 2 = 0, (6 - 3) / 2 = 1 */
    CHECK(net->blobs[0]->data[0] == 1 && net->blobs[0]->data[27] == 2);
    free_net(net, np);
}

/* shuffle: each epoch a permutation of all five, the next epoch another one,
 * the same on a second build (seeded from the run's RNG); rand_skip starts
 * inside the list. */
static void test_shuffle_and_skip(void)
{
    Cliff__NetParameter *np, *np2;
    char src[256];
    snprintf(src, sizeof src, "source: '%s/list.txt' batch_size: 5 shuffle: true", dir);
    CliffNet *a = build_ok(src, NULL, CLIFF__PHASE__TRAIN, &np);
    CliffNet *b = build_ok(src, NULL, CLIFF__PHASE__TRAIN, &np2);
    if (!a || !b) return;
    int e[4][5], seen_change = 0;
    for (int k = 0; k < 4; k++) {
        int other[5], mask = 0;
        batch_ids(a, e[k], NULL);
        batch_ids(b, other, NULL);
        CHECK(memcmp(other, e[k], sizeof other) == 0);
        for (int i = 0; i < 5; i++) mask |= 1 << e[k][i];
        CHECK(mask == 31);
        if (k && memcmp(e[k], e[k - 1], sizeof e[k])) seen_change = 1;
    }
    CHECK(seen_change);
    free_net(a, np);
    free_net(b, np2);
    snprintf(src, sizeof src, "source: '%s/list.txt' batch_size: 5 rand_skip: 5", dir);
    int starts = 0;
    for (int s = 0; s < 8; s++) { /* different seeds: different skips */
        Cliff__NetParameter *p;
        CliffRng rng;
        cliff_rng_seed(&rng, (uint64_t)s);
        char text[512];
        snprintf(text, sizeof text, "layer { name: 'img' type: 'ImageData' top: 'data' "
                 "image_data_param { root_folder: '%s/' %s } }", dir, src);
        CliffError err;
        p = (Cliff__NetParameter *)cliff_text_parse(&cliff__net_parameter__descriptor, "n", text,
                                                    strlen(text), NULL, &err);
        CliffNet *n = p ? cliff_net_build(p, CLIFF__PHASE__TRAIN, NULL, &rng, NULL, &err) : NULL;
        if (!n) {
            CHECK_FAILF("%s", err.msg);
            if (p) protobuf_c_message_free_unpacked(&p->base, NULL);
            continue;
        }
        CHECK(!isnan(cliff_net_forward(n)));
        int first = (int)n->blobs[0]->data[0];
        starts |= 1 << first;
        CHECK((int)n->blobs[0]->data[72 * 4] == (first + 4) % 5); /* then in order, wrapping */
        free_net(n, p);
    }
    CHECK(starts != 1 && (starts & ~31) == 0);
}

/* state after 3 batches of 2, restored into a fresh net: the same batches
 * (including the transform's random crops and mirrors) as the original. */
static void test_resume(void)
{
    Cliff__NetParameter *np, *np2;
    char src[256];
    snprintf(src, sizeof src, "source: '%s/list.txt' batch_size: 2 shuffle: true", dir);
    const char *tf = "crop_size: 3 mirror: true";
    CliffNet *a = build_ok(src, tf, CLIFF__PHASE__TRAIN, &np);
    CliffNet *b = build_ok(src, tf, CLIFF__PHASE__TRAIN, &np2);
    if (!a || !b) return;
    for (int k = 0; k < 3; k++) CHECK(!isnan(cliff_net_forward(a)));
    CliffLayer *la = &a->layers[0].layer, *lb = &b->layers[0].layer;
    int64_t st[16];
    size_t n = la->ops->state_size(la);
    CHECK(n <= 16);
    la->ops->state_save(la, st);
    CliffError err;
    if (lb->ops->state_load(lb, st, n, &err)) CHECK_FAILF("%s", err.msg);
    for (int k = 0; k < 4; k++) {
        CHECK(!isnan(cliff_net_forward(a)) && !isnan(cliff_net_forward(b)));
        CHECK(memcmp(a->blobs[0]->data, b->blobs[0]->data, a->blobs[0]->count * 4) == 0);
        CHECK(memcmp(a->blobs[1]->data, b->blobs[1]->data, 2 * 4) == 0);
    }
    st[0] = 4; /* another list */
    CHECK(lb->ops->state_load(lb, st, n, &err) == -1 && strstr(err.msg, "list"));
    free_net(a, np);
    free_net(b, np2);
}

/* A TRAIN net whose layer reads `prefetch` batches ahead. */
static CliffNet *build_prefetch(const char *param, const char *transform, int prefetch,
                                Cliff__NetParameter **np)
{
    char extra[64];
    snprintf(extra, sizeof extra, "data_param { prefetch: %d }", prefetch);
    CliffError err;
    CliffNet *net = build_extra(param, transform, extra, CLIFF__PHASE__TRAIN, np, &err);
    if (!net) CHECK_FAILF("build { %s } prefetch %d: %s", param, prefetch, err.msg);
    return net;
}

/* n forwards; each batch's data then labels appended to out (per batch: the
 * data blob's count + batch floats). */
static void run_batches(CliffNet *net, int n, float *out)
{
    const CliffTensor *d = net->blobs[0], *l = net->blobs[1];
    for (int k = 0; k < n; k++) {
        CHECK(!isnan(cliff_net_forward(net)));
        memcpy(out, d->data, d->count * sizeof(float));
        memcpy(out + d->count, l->data, l->count * sizeof(float));
        out += d->count + l->count;
    }
}

#define BATCH_FLOATS (2 * 3 * 3 * 3 + 2) /* batch 2, crop 3: data + labels */

/* Prefetch (3 batches ahead) and none read the same batches, shuffled, cropped
 * and mirrored across wraps. A net restored from the state saved after 3
 * batches reads the rest bit for bit, its own batches prefetched from its start
 * dropped, with or without prefetch. */
static void test_prefetch_resume(void)
{
    char src[256];
    snprintf(src, sizeof src, "source: '%s/list.txt' batch_size: 2 shuffle: true", dir);
    const char *tf = "crop_size: 3 mirror: true";
    Cliff__NetParameter *pa, *pb, *pc;
    CliffNet *a = build_prefetch(src, tf, 3, &pa), *c = build_prefetch(src, tf, 0, &pc);
    if (!a || !c) return;
    float first[3 * BATCH_FLOATS], rest[4 * BATCH_FLOATS], sync[7 * BATCH_FLOATS];
    float again[4 * BATCH_FLOATS];
    run_batches(a, 3, first);
    CliffLayer *la = &a->layers[0].layer;
    int64_t st[8];
    CHECK(la->ops->state_size(la) == 8);
    la->ops->state_save(la, st);
    CHECK(st[2] == 1 && st[3] == 1); /* 6 of 5 images taken: cursor 1 of epoch 1 */
    run_batches(a, 4, rest);
    int64_t end[8];
    la->ops->state_save(la, end);
    run_batches(c, 7, sync);
    CHECK(memcmp(sync, first, sizeof first) == 0);
    CHECK(memcmp(sync + 3 * BATCH_FLOATS, rest, sizeof rest) == 0);
    for (int depth = 0; depth <= 3; depth += 3) {
        CliffNet *b = build_prefetch(src, tf, depth, &pb);
        if (!b) continue;
        CliffLayer *lb = &b->layers[0].layer;
        run_batches(b, 1, again); /* the producer runs ahead from its start... */
        usleep(100000);           /* ...and has time to fill its queue */
        CliffError err;
        if (lb->ops->state_load(lb, st, 8, &err)) CHECK_FAILF("%s", err.msg);
        run_batches(b, 4, again);
        if (memcmp(again, rest, sizeof rest)) CHECK_FAILF("prefetch %d: other batches", depth);
        int64_t words[8];
        lb->ops->state_save(lb, words);
        CHECK(memcmp(words, end, sizeof words) == 0);
        free_net(b, pb);
    }
    free_net(a, pa);
    free_net(c, pc);
}

/* Rank r of 2 takes batches r, r + 2, ... of the one reader's sequence, with
 * the same crops and mirrors, and ends at the one reader's state. */
static void test_sharded_ranks(void)
{
    char src[256];
    snprintf(src, sizeof src, "source: '%s/list.txt' batch_size: 2 shuffle: true", dir);
    const char *tf = "crop_size: 3 mirror: true";
    Cliff__NetParameter *p1;
    CliffNet *one = build_prefetch(src, tf, 2, &p1);
    if (!one) return;
    float all[6 * BATCH_FLOATS];
    run_batches(one, 6, all);
    int64_t want[8], got[8];
    CliffLayer *l1 = &one->layers[0].layer;
    l1->ops->state_save(l1, want);
    for (int rank = 0; rank < 2; rank++) {
        Cliff__NetParameter *np;
        CliffNet *net = build_prefetch(src, tf, 2, &np);
        CliffError err;
        if (!net) continue;
        if (cliff_net_shard(net, rank, 2, &err)) {
            CHECK_FAILF("rank %d: %s", rank, err.msg);
            free_net(net, np);
            continue;
        }
        float mine[3 * BATCH_FLOATS];
        run_batches(net, 3, mine);
        for (int k = 0; k < 3; k++)
            CHECK(memcmp(mine + k * BATCH_FLOATS, all + (2 * k + rank) * BATCH_FLOATS,
                         BATCH_FLOATS * sizeof(float)) == 0);
        CliffLayer *L = &net->layers[0].layer;
        L->ops->state_save(L, got);
        CHECK(memcmp(got, want, sizeof want) == 0);
        free_net(net, np);
    }
    free_net(one, p1);
}

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The images are decoded on the prefetch thread: the training thread's own
 * CPU time for 20 forwards of 128 x 128 PNGs is a copy's, under a third of
 * what decoding them there costs (prefetch 0). The thread's CPU clock does
 * not count waiting, so a loaded machine does not change the ratio much. */
static void test_decoding_off_thread(void)
{
    for (int k = 0; k < 4; k++) {
        char name[32];
        snprintf(name, sizeof name, "big%d.png", k);
        write_image(name, k, 128, 128, CLIFF_IMAGE_PNG);
    }
    write_text("big.txt", "big0.png 0\nbig1.png 1\nbig2.png 2\nbig3.png 3\n");
    char src[256];
    snprintf(src, sizeof src, "source: '%s/big.txt' batch_size: 4", dir);
    double cpu[2];
    for (int on = 0; on < 2; on++) {
        Cliff__NetParameter *np;
        CliffNet *net = build_prefetch(src, "mirror: true", on ? 4 : 0, &np);
        if (!net) return;
        CHECK(!isnan(cliff_net_forward(net))); /* starts the thread */
        double t0 = thread_cpu_seconds();
        for (int i = 0; i < 20; i++) CHECK(!isnan(cliff_net_forward(net)));
        cpu[on] = thread_cpu_seconds() - t0;
        free_net(net, np);
    }
    if (!(cpu[1] * 3 < cpu[0]))
        CHECK_FAILF("training-thread CPU: %.2f ms with prefetch, %.2f ms without",
                    1e3 * cpu[1], 1e3 * cpu[0]);
}

static void expect_build_error(const char *param, const char *transform, const char *needle1,
                               const char *needle2)
{
    Cliff__NetParameter *np;
    CliffError err;
    CliffNet *net = build(param, transform, CLIFF__PHASE__TRAIN, &np, &err);
    if (net) {
        CHECK_FAILF("built { %s }", param);
        free_net(net, np);
        return;
    }
    if (!strstr(err.msg, needle1) || (needle2 && !strstr(err.msg, needle2)))
        CHECK_FAILF("error '%s' lacks '%s' / '%s'", err.msg, needle1, needle2 ? needle2 : "");
}

/* forward stops with the error (data_error) */
static void expect_forward_error(const char *param, const char *needle1, const char *needle2)
{
    Cliff__NetParameter *np;
    CliffNet *net = build_ok(param, NULL, CLIFF__PHASE__TRAIN, &np);
    if (!net) return;
    double loss = cliff_net_forward(net);
    if (!isnan(loss) || !net->data_error)
        CHECK_FAILF("forward of { %s } went through", param);
    else if (!strstr(net->runtime_error.msg, needle1) || !strstr(net->runtime_error.msg, needle2))
        CHECK_FAILF("error '%s' lacks '%s' / '%s'", net->runtime_error.msg, needle1, needle2);
    free_net(net, np);
}

static void test_bad_input(void)
{
    char src[300], l[128];
    write_text("missing.txt", "im 0.png 0\nnope.png 1\n");
    snprintf(src, sizeof src, "source: '%s/missing.txt'", dir);
    snprintf(l, sizeof l, "%s/missing.txt:2", dir);
    expect_build_error(src, NULL, l, "nope.png");
    write_text("nolabel.txt", "im 0.png 0\nim 1.png 1\nim2.png\n");
    snprintf(src, sizeof src, "source: '%s/nolabel.txt'", dir);
    snprintf(l, sizeof l, "%s/nolabel.txt:3", dir);
    expect_build_error(src, NULL, l, "no label");
    write_text("dir.txt", "im 0.png 0\n. 1\n"); /* root_folder + "." is a folder */
    snprintf(src, sizeof src, "source: '%s/dir.txt'", dir);
    expect_build_error(src, NULL, "dir.txt:2", "not a regular file");
    write_text("badlabel.txt", "im 0.png zero\n");
    snprintf(src, sizeof src, "source: '%s/badlabel.txt'", dir);
    expect_build_error(src, NULL, "badlabel.txt:1", "not an integer");
    snprintf(src, sizeof src, "source: '%s/none.txt'", dir);
    expect_build_error(src, NULL, "none.txt", NULL);
    snprintf(src, sizeof src, "source: '%s/list.txt' new_height: 4", dir);
    expect_build_error(src, NULL, "together", NULL);
    snprintf(src, sizeof src, "source: '%s/list.txt'", dir);
    expect_build_error(src, "crop_size: 5", "im 0.png", "crop");
    /* found at the read: an undecodable image, another size, a crop it cannot take */
    write_text("junk.png", "this is not a png");
    write_image("big.png", 9, 8, 8, CLIFF_IMAGE_PNG);
    write_image("tall.png", 9, 5, 3, CLIFF_IMAGE_PNG);
    write_text("junk.txt", "im 0.png 0\njunk.png 1\n");
    snprintf(src, sizeof src, "source: '%s/junk.txt' batch_size: 2", dir);
    expect_forward_error(src, "junk.txt:2", "junk.png");
    write_text("sizes.txt", "im 0.png 0\nbig.png 1\n");
    snprintf(src, sizeof src, "source: '%s/sizes.txt' batch_size: 2", dir);
    expect_forward_error(src, "sizes.txt:2", "big.png");
    write_text("crop.txt", "im 0.png 0\ntall.png 1\n");
    Cliff__NetParameter *np;
    snprintf(src, sizeof src, "source: '%s/crop.txt' batch_size: 2", dir);
    CliffNet *net = build_ok(src, "crop_size: 4", CLIFF__PHASE__TRAIN, &np);
    if (net) {
        CHECK(isnan(cliff_net_forward(net)) && strstr(net->runtime_error.msg, "tall.png") &&
              strstr(net->runtime_error.msg, "crop.txt:2"));
        free_net(net, np);
    }
    /* with a crop both allow, the sizes may differ */
    write_text("crop2.txt", "im 0.png 0\nbig.png 1\n");
    snprintf(src, sizeof src, "source: '%s/crop2.txt' batch_size: 2", dir);
    net = build_ok(src, "crop_size: 3", CLIFF__PHASE__TEST, &np);
    if (net) {
        CHECK(!isnan(cliff_net_forward(net)) && net->blobs[0]->data[27] == 9 + 2 + 2);
        free_net(net, np);
    }
}

/* A JPEG list decodes too (values within JPEG's loss of the PNG's). */
static void test_jpeg(void)
{
    write_image("j.jpg", 50, 16, 16, CLIFF_IMAGE_JPEG);
    write_text("jpg.txt", "j.jpg 1\n");
    Cliff__NetParameter *np;
    char src[256];
    snprintf(src, sizeof src, "source: '%s/jpg.txt'", dir);
    CliffNet *net = build_ok(src, NULL, CLIFF__PHASE__TEST, &np);
    if (!net) return;
    CHECK(!isnan(cliff_net_forward(net)));
    CHECK(fabsf(net->blobs[0]->data[16 * 16 + 17] - 152) <= 4);
    free_net(net, np);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/cliff_imagedata_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    setup_images();
    RUN(test_order_labels_wrap);
    RUN(test_gray_resize_transform);
    RUN(test_shuffle_and_skip);
    RUN(test_resume);
    RUN(test_prefetch_resume);
    RUN(test_sharded_ranks);
    RUN(test_decoding_off_thread);
    RUN(test_bad_input);
    RUN(test_jpeg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) return 1;
    return test_main_end();
}
