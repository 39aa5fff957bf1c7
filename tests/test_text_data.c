/* TextData: the stream layout on a text worked out by hand, the wrap and its
 * cont, the held-out split and the vocabulary both phases share, strict UTF-8
 * and byte levels, vocabulary files, resume of the cursors, and every input
 * error naming its file (and byte offset where there is one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "layers/net/net.h"
#include "layers/text_data.h"
#include "proto/textformat.h"

static char dir[256];

/* Writes dir/name holding the n bytes of text; returns the path (static ring). */
static const char *write_raw(const char *name, const char *text, size_t n)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(text, 1, n, f) != n) CHECK_FAILF("cannot write %s", p);
    if (f) fclose(f);
    return p;
}

static const char *write_text(const char *name, const char *text)
{
    return write_raw(name, text, strlen(text));
}

/* A list `name`.list naming the given files of dir, one per line. */
static const char *write_list(const char *name, const char *a, const char *b)
{
    char text[1200], list[300];
    if (b)
        snprintf(text, sizeof text, "%s/%s\n%s/%s\n", dir, a, dir, b);
    else
        snprintf(text, sizeof text, "%s/%s\n", dir, a);
    snprintf(list, sizeof list, "%s.list", name);
    return write_text(list, text);
}

/* Builds a net of one TextData layer (tops ids, targets, cont) with the given
 * text_data_param body; NULL with err filled when it does not build. */
static CliffNet *build(const char *param, int phase, Cliff__NetParameter **np, CliffError *err)
{
    char text[2048];
    snprintf(text, sizeof text,
             "layer { name: 'text' type: 'TextData' top: 'ids' top: 'targets' top: 'cont' "
             "text_data_param { %s } }", param);
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

static void free_net(CliffNet *net, Cliff__NetParameter *np)
{
    cliff_net_free(net);
    if (np) protobuf_c_message_free_unpacked(&np->base, NULL);
}

static CliffNet *build_ok(const char *param, int phase, Cliff__NetParameter **np)
{
    CliffError err;
    CliffNet *net = build(param, phase, np, &err);
    if (!net) CHECK_FAILF("build { %s }: %s", param, err.msg);
    return net;
}

/* Compares one batch with the expected input and target characters and cont
 * digits, each T x N in step-major order; ids are positions in `vocab`. */
static void expect_batch(const CliffNet *net, const char *vocab, const char *in, const char *tgt,
                         const char *cont, int batch)
{
    const CliffTensor *ids = net->blobs[0], *targets = net->blobs[1], *c = net->blobs[2];
    for (size_t i = 0; i < strlen(in); i++) {
        float want_in = (float)(strchr(vocab, in[i]) - vocab);
        float want_tgt = (float)(strchr(vocab, tgt[i]) - vocab);
        if (ids->data[i] != want_in || targets->data[i] != want_tgt ||
            c->data[i] != (float)(cont[i] - '0')) {
            CHECK_FAILF("batch %d, value %zu: got id %g target %g cont %g, want '%c' "
                        "(%g) -> '%c' (%g) cont %c", batch, i, ids->data[i],
                        targets->data[i], c->data[i], in[i], want_in, tgt[i], want_tgt, cont[i]);
            return;
        }
    }
}

/* "hello world": L = 11, P = 10 positions, N = 3 streams start at 0, 3, 6;
 * T = 2. The vocabulary is the sorted symbols " dehlorw". Stream 2 reaches
 * position 9 in batch 2 and wraps (cont 0) in batch 3; stream 1 in batch 4.
 * Worked out by hand:
 *   batch 1  inputs h l w | e o o     targets e o o | l ' ' r   cont 000 111
 *   batch 2         l ' ' r | l w l           l w l | o o d     cont 111 111
 *   batch 3         o o h | ' ' r e           ' ' r e | w l l   cont 110 111
 *   batch 4         w l l | o h l             o d l | r e o     cont 111 101 */
static const char *const HW_VOCAB = " dehlorw";
static const char *const HW[4][3] = {
    {"hlweoo", "eool r", "000111"},
    {"l rlwl", "lwlood", "111111"},
    {"ooh re", " rewll", "110111"},
    {"wllohl", "odlreo", "111101"},
};

static void stream_layout_by_hand(void)
{
    write_text("hw.txt", "hello world");
    char param[600];
    snprintf(param, sizeof param, "source: '%s' time_steps: 2 streams: 3",
             write_list("hw", "hw.txt", NULL));
    Cliff__NetParameter *np;
    CliffNet *net = build_ok(param, CLIFF__PHASE__TRAIN, &np);
    if (!net) return;
    for (int a = 0; a < 3; a++)
        CHECK(net->blobs[a]->num_axes == 2 && net->blobs[a]->shape[0] == 2 &&
              net->blobs[a]->shape[1] == 3);
    const CliffTextVocab *v = cliff_text_data_vocab(&net->layers[0].layer);
    CHECK(v && v->n == strlen(HW_VOCAB));
    for (size_t i = 0; v && i < v->n && i < strlen(HW_VOCAB); i++)
        CHECK(v->symbol[i] == (uint32_t)HW_VOCAB[i]);
    for (int b = 0; b < 4; b++) {
        cliff_net_forward(net);
        expect_batch(net, HW_VOCAB, HW[b][0], HW[b][1], HW[b][2], b + 1);
    }
    free_net(net, np);
    /* N = 4 does not divide P = 10: streams start at floor(10 n / 4) = 0, 2, 5, 7 */
    snprintf(param, sizeof param, "source: '%s' time_steps: 1 streams: 4",
             write_list("hw", "hw.txt", NULL));
    net = build_ok(param, CLIFF__PHASE__TRAIN, &np);
    if (!net) return;
    cliff_net_forward(net);
    expect_batch(net, HW_VOCAB, "hl o", "elwr", "0000", 1);
    free_net(net, np);
}

/* Saves the cursors after batch 1, reads batches 2 and 3, restores, and reads
 * them again identically; a state from other text is refused. */
static void state_resumes_and_refuses_other_text(void)
{
    char param[600];
    snprintf(param, sizeof param, "source: '%s' time_steps: 2 streams: 3",
             write_list("hw", "hw.txt", NULL));
    Cliff__NetParameter *np;
    CliffNet *net = build_ok(param, CLIFF__PHASE__TRAIN, &np);
    if (!net) return;
    CliffLayer *l = &net->layers[0].layer;
    cliff_net_forward(net);
    size_t n = l->ops->state_size(l);
    int64_t *st = malloc(n * sizeof *st);
    l->ops->state_save(l, st);
    float first[2][3][6];
    for (int b = 0; b < 2; b++) {
        cliff_net_forward(net);
        for (int a = 0; a < 3; a++) memcpy(first[b][a], net->blobs[a]->data, sizeof first[b][a]);
    }
    CliffError err;
    CHECK(l->ops->state_load(l, st, n, &err) == 0);
    for (int b = 0; b < 2; b++) {
        cliff_net_forward(net);
        for (int a = 0; a < 3; a++)
            CHECK(memcmp(first[b][a], net->blobs[a]->data, sizeof first[b][a]) == 0);
    }
    /* same length and vocabulary, other order: refused by the hash */
    write_text("hw2.txt", "hello wrold");
    snprintf(param, sizeof param, "source: '%s' time_steps: 2 streams: 3",
             write_list("hw2", "hw2.txt", NULL));
    Cliff__NetParameter *np2;
    CliffNet *other = build_ok(param, CLIFF__PHASE__TRAIN, &np2);
    if (other) {
        CliffLayer *lo = &other->layers[0].layer;
        CHECK(lo->ops->state_load(lo, st, n, &err) != 0);
        CHECK(strstr(err.msg, "does not match this text") != NULL);
        CHECK(lo->ops->state_load(lo, st, n - 1, &err) != 0);
    }
    free_net(other, np2);
    free(st);
    free_net(net, np);
}

/* holdout_fraction 0.2 of two 10-symbol files: TRAIN reads "abcdefgh" and
 * "01234567", TEST "ij" and "89"; both build the vocabulary of all 20. */
static void holdout_splits_every_file(void)
{
    write_text("letters.txt", "abcdefghij");
    write_text("digits.txt", "0123456789");
    char param[600];
    snprintf(param, sizeof param, "source: '%s' time_steps: 1 streams: 1 holdout_fraction: 0.2",
             write_list("two", "letters.txt", "digits.txt"));
    const char *vocab = "0123456789abcdefghij";
    const char *train_in = "abcdefgh0123456a", *test_in = "ij8i";
    const char *train_cont = "0111111111111110", *test_cont = "0110";
    for (int phase = 0; phase < 2; phase++) {
        Cliff__NetParameter *np;
        CliffNet *net = build_ok(param, phase ? CLIFF__PHASE__TEST : CLIFF__PHASE__TRAIN, &np);
        if (!net) return;
        const CliffTextVocab *v = cliff_text_data_vocab(&net->layers[0].layer);
        CHECK(v->n == 20);
        for (size_t i = 0; i < v->n && i < 20; i++) CHECK(v->symbol[i] == (uint32_t)vocab[i]);
        const char *in = phase ? test_in : train_in, *cont = phase ? test_cont : train_cont;
        for (size_t i = 0; i < strlen(in); i++) {
            cliff_net_forward(net);
            float want = (float)(strchr(vocab, in[i]) - vocab);
            if (net->blobs[0]->data[0] != want || net->blobs[2]->data[0] != cont[i] - '0') {
                CHECK_FAILF("%s step %zu: id %g cont %g, want '%c' (%g) cont %c",
                            phase ? "TEST" : "TRAIN", i, net->blobs[0]->data[0],
                            net->blobs[2]->data[0], in[i], want, cont[i]);
                break;
            }
        }
        free_net(net, np);
    }
}

/* "aé€😀a": 5 code points in 11 bytes. CODEPOINT: the vocabulary is a, é, €,
 * 😀 and the ids 0 1 2 3 0; BYTE: 10 distinct bytes. */
static void codepoints_and_bytes(void)
{
    const char *text = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "a";
    write_text("utf8.txt", text);
    const char *list = write_list("utf8", "utf8.txt", NULL);
    char param[600];
    snprintf(param, sizeof param, "source: '%s' time_steps: 4 streams: 1", list);
    Cliff__NetParameter *np;
    CliffNet *net = build_ok(param, CLIFF__PHASE__TRAIN, &np);
    if (net) {
        const CliffTextVocab *v = cliff_text_data_vocab(&net->layers[0].layer);
        CHECK(v->n == 4 && v->symbol[0] == 'a' && v->symbol[1] == 0xE9 &&
              v->symbol[2] == 0x20AC && v->symbol[3] == 0x1F600);
        cliff_net_forward(net);
        for (int t = 0; t < 4; t++) {
            CHECK(net->blobs[0]->data[t] == (float)t);
            CHECK(net->blobs[1]->data[t] == (float)((t + 1) % 4));
        }
    }
    free_net(net, np);
    snprintf(param, sizeof param, "source: '%s' time_steps: 10 streams: 1 level: BYTE", list);
    net = build_ok(param, CLIFF__PHASE__TRAIN, &np);
    if (net) {
        const CliffTextVocab *v = cliff_text_data_vocab(&net->layers[0].layer);
        CHECK(v->n == 10 && v->symbol[0] == 'a' && v->symbol[9] == 0xf0);
    }
    free_net(net, np);
    /* encode inverts decode */
    uint32_t sym[11];
    size_t n = 0;
    unsigned char back[16];
    size_t len = 0;
    CliffError err;
    CHECK(cliff_text_decode((const unsigned char *)text, 11, CLIFF_TEXT_CODEPOINT, sym, &n,
                            &err) == 0 && n == 5);
    for (size_t i = 0; i < n; i++) len += cliff_text_encode(sym[i], CLIFF_TEXT_CODEPOINT, back + len);
    CHECK(len == 11 && memcmp(back, text, 11) == 0);
}

/* A vocabulary file gives ids in its line order; the built one saved and
 * loaded again is the same. */
static void vocabulary_files(void)
{
    const char *vf = write_text("cab.vocab", "cliff-vocabulary CODEPOINT 3\n99\tc\n97\n98\tb\n");
    write_text("abc.txt", "abcabcabc");
    char param[900];
    snprintf(param, sizeof param, "source: '%s' time_steps: 3 streams: 1 vocabulary_file: '%s'",
             write_list("abc", "abc.txt", NULL), vf);
    Cliff__NetParameter *np;
    CliffNet *net = build_ok(param, CLIFF__PHASE__TRAIN, &np);
    if (net) {
        cliff_net_forward(net);
        CHECK(net->blobs[0]->data[0] == 1 && net->blobs[0]->data[1] == 2 &&
              net->blobs[0]->data[2] == 0);
    }
    free_net(net, np);
    /* round trip of a built vocabulary with unprintable and multi-byte symbols */
    const uint32_t text[6] = {'\n', ' ', 0xE9, 7, 0x1F600, 'x'};
    CliffTextVocab v, w;
    CliffError err;
    char path[300];
    snprintf(path, sizeof path, "%s/rt.vocab", dir);
    CHECK(cliff_text_vocab_build(&v, CLIFF_TEXT_CODEPOINT, text, 6, &err) == 0);
    CHECK(cliff_text_vocab_save(&v, path, &err) == 0);
    if (cliff_text_vocab_load(&w, CLIFF_TEXT_CODEPOINT, path, &err)) {
        CHECK_FAILF("load: %s", err.msg);
    } else {
        CHECK(w.n == v.n && memcmp(w.symbol, v.symbol, v.n * sizeof *v.symbol) == 0);
        for (size_t i = 0; i < 6; i++) CHECK(cliff_text_vocab_id(&w, text[i]) >= 0);
        CHECK(cliff_text_vocab_id(&w, 'y') == -1);
        cliff_text_vocab_free(&w);
    }
    cliff_text_vocab_free(&v);
}

/* Builds with `param` (its %s: the list `list`) and expects an error holding
 * `needle` (its %s, when present: dir). */
static const char *detail = ""; /* names the case in a failure */

static void expect_error(const char *param_fmt, const char *list, const char *needle_fmt)
{
    char param[1200], needle[800];
    snprintf(param, sizeof param, param_fmt, list);
    snprintf(needle, sizeof needle, needle_fmt, dir, dir);
    Cliff__NetParameter *np = NULL;
    CliffError err = {0};
    CliffNet *net = build(param, CLIFF__PHASE__TRAIN, &np, &err);
    if (net) CHECK_FAILF("%s{ %s } built; expected '%s'", detail, param, needle);
    else if (!strstr(err.msg, needle))
        CHECK_FAILF("%serror '%s' lacks '%s'", detail, err.msg, needle);
    free_net(net, np);
}

static void bad_parameters(void)
{
    const char *hw = write_list("hw", "hw.txt", NULL);
    expect_error("time_steps: 2 streams: 2", hw, "text_data_param.source is required");
    expect_error("source: '%s' time_steps: 0 streams: 2", hw, "time_steps must be > 0");
    expect_error("source: '%s' streams: 2", hw, "time_steps must be > 0");
    expect_error("source: '%s' time_steps: 2 streams: 0", hw, "streams must be > 0");
    expect_error("source: '%s' time_steps: 2 streams: 2 holdout_fraction: 1", hw,
                 "holdout_fraction 1 must be in [0, 1)");
    /* the layer is named by the net */
    expect_error("source: '%s' time_steps: 2 streams: 0", hw, "layer 'text' (TextData)");
}

/* "hello world" holds 11 symbols: T x N + 1 = 11 builds, 12 does not; a
 * held-out part too short is named as the TEST text. */
static void text_shorter_than_a_batch(void)
{
    const char *hw = write_list("hw", "hw.txt", NULL);
    char param[600];
    snprintf(param, sizeof param, "source: '%s' time_steps: 5 streams: 2", hw);
    Cliff__NetParameter *np;
    CliffNet *net = build_ok(param, CLIFF__PHASE__TRAIN, &np);
    free_net(net, np);
    expect_error("source: '%s' time_steps: 11 streams: 1", hw,
                 "holds 11 symbols (holdout_fraction 0); time_steps x streams + 1 = 12 are "
                 "needed");
    snprintf(param, sizeof param, "source: '%s' time_steps: 2 streams: 1 holdout_fraction: 0.2",
             hw);
    CliffError err = {0};
    net = build(param, CLIFF__PHASE__TEST, &np, &err);
    CHECK(!net && strstr(err.msg, "the TEST text") && strstr(err.msg, "holds 2 symbols"));
    free_net(net, np);
}

static void missing_and_empty_files(void)
{
    expect_error("source: '%s' time_steps: 1 streams: 1", "/nonexistent/list",
                 "cannot open text_data_param.source '/nonexistent/list'");
    expect_error("source: '%s' time_steps: 1 streams: 1", write_list("miss", "nosuch.txt", NULL),
                 "text_data_param.source '%s/miss.list' line 1: cannot open text file "
                 "'%s/nosuch.txt'");
    write_text("empty.txt", "");
    expect_error("source: '%s' time_steps: 1 streams: 1", write_list("empty", "hw.txt", "empty.txt"),
                 "text file '%s/empty.txt' (text_data_param.source '%s/empty.list' line 2) is "
                 "empty");
    expect_error("source: '%s' time_steps: 1 streams: 1", write_text("blank.list", "\n \n"),
                 "lists no files");
}

/* Invalid UTF-8, each at its byte offset; the same bytes read at level BYTE. */
static void invalid_utf8(void)
{
    static const struct {
        const char *bytes, *what;
        size_t n, offset;
    } bad[] = {
        {"ab\xc3(", "bad continuation", 4, 2},
        {"abc\xe2\x82", "truncated at the end", 5, 3},
        {"a\xc0\xaf", "overlong", 3, 1},
        {"ab\xed\xa0\x80", "surrogate", 5, 2},
        {"\xf4\x90\x80\x80", "past U+10FFFF", 4, 0},
        {"xy\xe9z", "Latin-1 byte", 4, 2},
        {"\xc3\xa9\x80", "stray continuation after a valid pair", 3, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[32], needle[700];
        snprintf(name, sizeof name, "bad%zu.txt", i);
        write_raw(name, bad[i].bytes, bad[i].n);
        const char *list = write_list(name, name, NULL);
        snprintf(needle, sizeof needle, "text file '%%s/%s': invalid UTF-8 at byte offset %zu",
                 name, bad[i].offset);
        detail = bad[i].what;
        expect_error("source: '%s' time_steps: 1 streams: 1", list, needle);
    }
    detail = "";
    char param[600];
    snprintf(param, sizeof param, "source: '%s' time_steps: 1 streams: 1 level: BYTE",
             write_list("bad0.txt", "bad0.txt", NULL));
    Cliff__NetParameter *np;
    CliffNet *net = build_ok(param, CLIFF__PHASE__TRAIN, &np);
    free_net(net, np);
}

/* A symbol the loaded vocabulary lacks, at its byte offset (bytes, not symbols). */
static void symbol_missing_from_vocabulary(void)
{
    const char *vf = write_text("ee.vocab", "cliff-vocabulary CODEPOINT 3\n233\n8364\n10\n");
    write_text("eex.txt", "\xc3\xa9\xe2\x82\xac\n\xc3\xa9x\n");
    char param[900], needle[700];
    snprintf(param, sizeof param, "source: '%%s' time_steps: 1 streams: 1 vocabulary_file: '%s'",
             vf);
    snprintf(needle, sizeof needle, "text file '%%s/eex.txt' byte offset 8: symbol U+0078 'x' is "
             "not in vocabulary_file '%s'", vf);
    expect_error(param, write_list("eex", "eex.txt", NULL), needle);
    const char *bv = write_text("b.vocab", "cliff-vocabulary BYTE 2\n97\n98\n");
    snprintf(param, sizeof param, "source: '%%s' time_steps: 1 streams: 1 level: BYTE "
             "vocabulary_file: '%s'", bv);
    write_text("ab.txt", "abba\x07");
    expect_error(param, write_list("ab", "ab.txt", NULL),
                 "text file '%s/ab.txt' byte offset 4: byte 0x07 is not in vocabulary_file");
}

static void bad_vocabulary_files(void)
{
    static const struct {
        const char *text, *needle;
    } bad[] = {
        {"99\n", "line 1: expected 'cliff-vocabulary BYTE|CODEPOINT COUNT'"},
        {"cliff-vocabulary WORD 1\n99\n", "line 1: unknown level 'WORD'"},
        {"cliff-vocabulary BYTE 1\n99\n", "holds a BYTE vocabulary but text_data_param.level is "
                                          "CODEPOINT"},
        {"cliff-vocabulary CODEPOINT 2\n99\n", "ends after 1 of the 2 symbols"},
        {"cliff-vocabulary CODEPOINT 1\n99\n98\n", "line 3: more than the 1 symbols"},
        {"cliff-vocabulary CODEPOINT 3\n99\n98\n99\n", "lines 2 and 4: symbol 99 is listed twice"},
        {"cliff-vocabulary CODEPOINT 1\nc\n", "line 2: expected a symbol number"},
        {"cliff-vocabulary CODEPOINT 1\n55296\n", "line 2: 55296 is not a Unicode scalar value"},
        {"cliff-vocabulary CODEPOINT 1\n1114112\n", "line 2: 1114112 is not a Unicode scalar"},
    };
    char list[300]; /* a copy: the path ring turns over in the loop */
    snprintf(list, sizeof list, "%s", write_list("hw", "hw.txt", NULL));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[32], param[900];
        snprintf(name, sizeof name, "bad%zu.vocab", i);
        const char *vf = write_text(name, bad[i].text);
        snprintf(param, sizeof param, "source: '%%s' time_steps: 1 streams: 1 "
                 "vocabulary_file: '%s'", vf);
        expect_error(param, list, bad[i].needle);
    }
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/cliff-test-text-%d", (int)getpid());
    mkdir(dir, 0755);
    RUN(stream_layout_by_hand);
    RUN(state_resumes_and_refuses_other_text);
    RUN(holdout_splits_every_file);
    RUN(codepoints_and_bytes);
    RUN(vocabulary_files);
    RUN(bad_parameters);
    RUN(text_shorter_than_a_batch);
    RUN(missing_and_empty_files);
    RUN(invalid_utf8);
    RUN(symbol_missing_from_vocabulary);
    RUN(bad_vocabulary_files);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) return 1;
    return test_main_end();
}
