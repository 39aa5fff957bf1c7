/* Text-format reader and writer on Caffe's schema: parsing, printing, round
 * trips (compared as packed bytes), positions in the source map and errors. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alltypes.h"
#include "check.h"
#include "cliff.pb-c.h"
#include "proto/desc_walk.h"
#include "proto/textformat.h"

static ProtobufCMessage *parse(const ProtobufCMessageDescriptor *d, const char *src,
                               CliffSrcMap *map, CliffError *err)
{
    return cliff_text_parse(d, "t.prototxt", src, strlen(src), map, err);
}

/* Expects src to fail with exactly the error line want. */
static void expect_error(const ProtobufCMessageDescriptor *d, const char *src, const char *want)
{
    CliffError err = {0};
    ProtobufCMessage *m = parse(d, src, NULL, &err);
    CHECK(m == NULL);
    if (m) protobuf_c_message_free_unpacked(m, NULL);
    else if (strcmp(err.msg, want) != 0) CHECK_FAILF("got  '%s'\n  want '%s'", err.msg, want);
}

/* print(parse(src)) parses back to the same packed bytes; returns the print. */
static char *round_trip(const ProtobufCMessageDescriptor *d, const ProtobufCMessage *m)
{
    CliffError err;
    char *s = cliff_text_print(m);
    CHECK(s != NULL);
    if (!s) return NULL;
    ProtobufCMessage *again = parse(d, s, NULL, &err);
    if (!again) {
        CHECK_FAILF("reparse failed: %s\n%.400s", err.msg, s);
        return s;
    }
    CHECK(cliff_msg_equal(m, again) == 1);
    protobuf_c_message_free_unpacked(again, NULL);
    return s;
}

static void test_layer_string(void)
{
    CliffError err;
    Cliff__LayerParameter *l = (Cliff__LayerParameter *)parse(
        &cliff__layer_parameter__descriptor,
        "type: 'Convolution' convolution_param { num_output: 4 kernel_size: 3 }", NULL, &err);
    CHECK(l != NULL);
    if (!l) return;
    CHECK(strcmp(l->type, "Convolution") == 0);
    CHECK(l->convolution_param != NULL);
    CHECK(l->convolution_param->has_num_output && l->convolution_param->num_output == 4);
    CHECK(l->convolution_param->n_kernel_size == 1 && l->convolution_param->kernel_size[0] == 3);
    CHECK(l->convolution_param->bias_term == 1); /* Caffe's default, not given */
    CHECK(!l->convolution_param->has_bias_term);
    CHECK(l->inner_product_param == NULL);
    free(round_trip(&cliff__layer_parameter__descriptor, &l->base));
    protobuf_c_message_free_unpacked(&l->base, NULL);
}

static const char *lenet =
    "name: \"LeNet\"  # a comment\n"
    "layer {\n"
    "  name: 'conv1' type: 'Convolution'; bottom: \"data\", top: \"conv1\"\n"
    "  param { lr_mult: 1 } param: { lr_mult: 2.0f }\n"
    "  convolution_param <\n"
    "    num_output: 20 kernel_size: [5, 3]\n"
    "    weight_filler { type: \"xav\" 'ier' }\n"
    "  >\n"
    "  include: [ {phase: TRAIN}, {phase: 1} ]\n"
    "}\n"
    "layer: { name: \"ip1\" type: \"InnerProduct\" bottom: 'conv1' top: 'ip1'\n"
    "  inner_product_param { num_output: 0x10 bias_term: False }\n"
    "}\n";

static void test_net(void)
{
    CliffError err;
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    Cliff__NetParameter *n =
        (Cliff__NetParameter *)parse(&cliff__net_parameter__descriptor, lenet, &map, &err);
    CHECK(n != NULL);
    if (!n) {
        printf("%s\n", err.msg);
        return;
    }
    CHECK(strcmp(n->name, "LeNet") == 0);
    CHECK(n->n_layer == 2);
    Cliff__LayerParameter *c = n->layer[0], *ip = n->layer[1];
    CHECK(strcmp(c->name, "conv1") == 0 && strcmp(c->bottom[0], "data") == 0);
    CHECK(c->n_param == 2 && c->param[0]->lr_mult == 1.0f && c->param[1]->lr_mult == 2.0f);
    CHECK(c->convolution_param->n_kernel_size == 2 && c->convolution_param->kernel_size[1] == 3);
    CHECK(strcmp(c->convolution_param->weight_filler->type, "xavier") == 0);
    CHECK(c->n_include == 2 && c->include[0]->phase == CLIFF__PHASE__TRAIN &&
          c->include[1]->phase == CLIFF__PHASE__TEST);
    CHECK(ip->inner_product_param->num_output == 16);
    CHECK(ip->inner_product_param->has_bias_term && ip->inner_product_param->bias_term == 0);

    /* positions: the field name that opened each message */
    CliffSrcPos pos;
    CHECK(cliff_srcmap_find(&map, c, &pos) == 0 && pos.line == 2 && pos.col == 1);
    CHECK(strcmp(pos.file, "t.prototxt") == 0);
    CHECK(cliff_srcmap_find(&map, ip, &pos) == 0 && pos.line == 11 && pos.col == 1);
    CHECK(cliff_srcmap_find(&map, c->convolution_param, &pos) == 0 && pos.line == 5 &&
          pos.col == 3);
    CHECK(cliff_srcmap_find(&map, c->include[1], &pos) == 0 && pos.line == 9 && pos.col == 30);
    CHECK(cliff_srcmap_find(&map, ip->inner_product_param, &pos) == 0 && pos.line == 12);
    CHECK(cliff_srcmap_find_field(&map, &c->base, "type", 0, &pos) == 0 && pos.line == 3 &&
          pos.col == 17);
    CHECK(cliff_srcmap_find_field(&map, &c->convolution_param->base, "kernel_size", 1, &pos) == 0 &&
          pos.line == 6 && pos.col == 37);
    CHECK(cliff_srcmap_find_field(&map, &c->base, "exclude", 0, &pos) == -1);

    char *s = round_trip(&cliff__net_parameter__descriptor, &n->base);
    /* the writer's layout, fields in number order */
    CHECK(s && strstr(s, "layer {\n  name: \"conv1\"\n  type: \"Convolution\"\n  bottom: \"data\"\n"));
    CHECK(s && strstr(s, "    weight_filler {\n      type: \"xavier\"\n    }\n"));
    CHECK(s && strstr(s, "  include {\n    phase: TRAIN\n  }\n  include {\n    phase: TEST\n  }\n"));
    CHECK(s && strstr(s, "    num_output: 16\n    bias_term: false\n"));
    free(s);
    protobuf_c_message_free_unpacked(&n->base, NULL);
    cliff_srcmap_free(&map);
}

static void test_errors(void)
{
    const ProtobufCMessageDescriptor *net = &cliff__net_parameter__descriptor;
    expect_error(net, "layer {\n  inner_product_param {\n    num_ouput: 4 } }",
                 "t.prototxt:3:5: error: InnerProductParameter has no field 'num_ouput' "
                 "(did you mean 'num_output'?)");
    expect_error(net, "layer { name: 'a'\n name: 'b' }",
                 "t.prototxt:2:2: error: LayerParameter.name is given twice (first at line 1)");
    expect_error(net, "\nlayer { name: 'a'",
                 "t.prototxt:2:1: error: unterminated 'layer {': no matching '}' before end of input");
    expect_error(net, "layer { convolution_param { pad: -1 } }",
                 "t.prototxt:1:34: error: value -1 is out of range for "
                 "ConvolutionParameter.pad (uint32)");
    expect_error(net, "name: \"abc",
                 "t.prototxt:1:7: error: unterminated string (missing closing \")");
}

#define FREE(a) protobuf_c_message_free_unpacked(&(a)->base, NULL)
#define all_ok alltypes_ok
#define all_bad alltypes_bad

static AllTypes *all(const char *src, CliffError *err)
{
    return (AllTypes *)parse(&all_types_descriptor, src, NULL, err);
}

static void test_defaults(void)
{
    CliffError err;
    AllTypes *a = all("req: 3", &err);
    CHECK(a != NULL);
    if (!a) return;
    CHECK(!a->has_fl && a->fl == 0.5f && !a->has_color && a->color == ALL_GREEN);
    CHECK(a->s == NULL && a->sd && strcmp(a->sd, "hi") == 0 && a->child == NULL);
    char *s = cliff_text_print(&a->base);
    CHECK(s && strcmp(s, "req: 3\n") == 0); /* defaults are not printed */
    free(s);
    FREE(a);
    /* a string given equal to its default is present (printed and packed) */
    if ((a = all_ok("sd: \"hi\""))) {
        s = cliff_text_print(&a->base);
        CHECK(s && strcmp(s, "sd: \"hi\"\nreq: 0\n") == 0);
        free(s);
        FREE(a);
    }
    /* Caffe's schema: unset solver fields read as Caffe's defaults */
    Cliff__SolverParameter *sp = (Cliff__SolverParameter *)parse(
        &cliff__solver_parameter__descriptor, "base_lr: 0.01", NULL, &err);
    CHECK(sp != NULL);
    if (!sp) return;
    CHECK(!sp->has_momentum && sp->momentum == 0.0f); /* caffe.proto: no default */
    CHECK(!sp->has_clip_gradients && sp->clip_gradients == -1.0f);
    CHECK(!sp->has_momentum2 && sp->momentum2 == 0.999f);
    CHECK(!sp->has_delta && sp->delta == 1e-8f);
    CHECK(!sp->has_random_seed && sp->random_seed == -1);
    CHECK(!sp->has_solver_mode && sp->solver_mode == CLIFF__SOLVER_PARAMETER__SOLVER_MODE__GPU);
    CHECK(sp->has_base_lr && sp->base_lr == 0.01f);
    protobuf_c_message_free_unpacked(&sp->base, NULL);
}

static void test_writer_layout(void)
{
    AllTypes *a = all_ok("child { req: 1 s: \"tab\\t\\\"q\\\"\\\\\\001\" } i32: -5 fl: 0.1 db: 0.1 "
               "by: \"\\000\\377\\n\\\"A\" color: BLUE rc: BLUE rc: 1 b: true u64: 18446744073709551615");
    if (!a) return;
    char *s = cliff_text_print(&a->base);
    const char *want = "i32: -5\n"
                       "u64: 18446744073709551615\n"
                       "fl: 0.1\n"
                       "db: 0.1\n"
                       "b: true\n"
                       "color: BLUE\n"
                       "by: \"\\000\\377\\n\\\"A\"\n"
                       "rc: BLUE\n"
                       "rc: GREEN\n"
                       "req: 0\n"
                       "child {\n"
                       "  s: \"tab\\t\\\"q\\\"\\\\\\001\"\n"
                       "  req: 1\n"
                       "}\n";
    if (!s || strcmp(s, want) != 0) CHECK_FAILF("got:\n%s\nwant:\n%s", s ? s : "(null)", want);
    free(s);
    /* cliff_text_write writes the same bytes */
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (f) {
        char buf[1024] = {0};
        CHECK(cliff_text_write(f, &a->base) == 0);
        rewind(f);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        CHECK(n == strlen(want) && strcmp(buf, want) == 0);
        fclose(f);
    }
    free(round_trip(&all_types_descriptor, &a->base));
    FREE(a);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t xorshift(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random bit patterns (every finite float/double, denormals included) print
 * with the shortest exact form and read back bit for bit. */
static void test_float_round_trip(void)
{
    AllTypes *a = all_ok("");
    if (!a) return;
    enum { N = 4000 };
    a->rf = malloc(N * sizeof *a->rf);
    a->rdb = malloc(N * sizeof *a->rdb);
    CHECK(a->rf && a->rdb);
    if (!a->rf || !a->rdb) return;
    a->n_rf = a->n_rdb = N;
    const float fspecial[] = {FLT_MIN, FLT_MAX, FLT_TRUE_MIN, -FLT_TRUE_MIN, 0.1f, 1.0f / 3,
                              -0.0f, 16777217.0f, 1e-4f, 3e38f, INFINITY, NAN};
    const double dspecial[] = {DBL_MIN, DBL_MAX, 4.9e-324, 0.1, 1.0 / 3, -0.0,
                               9007199254740993.0, 1e-4, -INFINITY, -NAN};
    for (int i = 0; i < N; i++) {
        uint32_t fb;
        uint64_t db;
        do {
            fb = (uint32_t)xorshift();
            memcpy(&a->rf[i], &fb, 4);
        } while (!isfinite(a->rf[i]));
        do {
            db = xorshift();
            memcpy(&a->rdb[i], &db, 8);
        } while (!isfinite(a->rdb[i]));
    }
    memcpy(a->rf, fspecial, sizeof fspecial);
    memcpy(a->rdb, dspecial, sizeof dspecial);
    char *s = round_trip(&all_types_descriptor, &a->base);
    CHECK(s && strstr(s, "rf: 0.1\n") && strstr(s, "rf: 0.33333334\n") &&
          strstr(s, "rf: 1e-45\n") && strstr(s, "rf: -0\n") && strstr(s, "rf: nan\n"));
    CHECK(s && strstr(s, "rdb: 0.1\n") && strstr(s, "rdb: 0.3333333333333333\n") &&
          strstr(s, "rdb: 9007199254740992\n") && strstr(s, "rdb: -nan\n") &&
          strstr(s, "rdb: 4.9406564584124654e-324\n") == NULL && strstr(s, "rdb: 5e-324\n"));
    free(s);
    FREE(a);
}

/* Every byte value in a bytes field, and UTF-8 in a string, survive a round trip. */
static void test_bytes_round_trip(void)
{
    AllTypes *a = all_ok("s: \"\xe6\x97\xa5\xe6\x9c\xac \\t\"");
    if (!a) return;
    a->by.data = malloc(256);
    if (!a->by.data) return;
    for (int i = 0; i < 256; i++) a->by.data[i] = (uint8_t)(255 - i);
    a->by.len = 256;
    a->has_by = 1;
    char *s = round_trip(&all_types_descriptor, &a->base);
    CHECK(s && strstr(s, "s: \"\xe6\x97\xa5\xe6\x9c\xac \\t\"\n")); /* raw UTF-8 kept */
    free(s);
    FREE(a);
}

static void test_lists_and_separators(void)
{
    AllTypes *a;
    if ((a = all_ok("rf: [] rf: [1, 2]; rf: 3, kids [ {req: 1}, <req: 2> ] kids: [] kids { req: 3 };"
                    "child: < req: 4; child: { req: 5 } >"))) {
        CHECK(a->n_rf == 3 && a->rf[0] == 1 && a->rf[1] == 2 && a->rf[2] == 3);
        CHECK(a->n_kids == 3 && a->kids[0]->req == 1 && a->kids[1]->req == 2 &&
              a->kids[2]->req == 3);
        CHECK(a->child && a->child->req == 4 && a->child->child && a->child->child->req == 5);
        FREE(a);
    }
    all_bad("i32: [1]", "AllTypes.i32 is not repeated; a list needs a repeated field");
    all_bad("child: [ {req: 1} ]", "AllTypes.child is not repeated; a list needs a repeated field");
    all_bad("rf: [1 2]", "expected ',' or ']' in the list of rf, found '2'");
    all_bad("rf: [1,]", "expected a value for AllTypes.rf (float), found ']'");
    all_bad("rf: [1", "expected ',' or ']' in the list of rf, found end of input");
    all_bad("kids: [ {req: 1} {req: 2} ]", "expected ',' or ']' in the list of kids, found '{'");
    all_bad("kids: [ 1 ]", "expected '{' for an element of AllTypes.kids (message AllTypes), found '1'");
    all_bad("i32 5", "expected ':' after field name 'i32', found '5'");
    all_bad("i32 { }", "AllTypes.i32 is int32, not a message");
    all_bad("i32: { }", "AllTypes.i32 is int32, not a message; found '{'");
    all_bad("child: 5", "AllTypes.child is message AllTypes; expected '{', found '5'");
    all_bad("child { req: 1 >", "expected '}' to close 'child' (line 1), found '>'");
    all_bad("i32: 1 i32: 2", "AllTypes.i32 is given twice (first at line 1)");
    all_bad("child { req: 1 } child { req: 2 }", "AllTypes.child is given twice (first at line 1)");
    all_bad("i32: 1 ;;", "expected a field name of AllTypes, found ';'");
    all_bad("[ext.field]: 1", "expected a field name of AllTypes, found '['");
    all_bad("i32: 1 @", "unexpected character '@'");
    all_bad("i32: 1 \xc3\xa9", "unexpected character '\xc3\xa9'");
    all_bad("i32: 1 \x01", "unexpected control character 0x01");
    all_bad("I32: 1", "AllTypes has no field 'I32' (did you mean 'i32'?)");
    all_bad("zzzzzz: 1", "AllTypes has no field 'zzzzzz'");
}

static void test_required(void)
{
    expect_error(&all_types_descriptor, "i32: 1",
                 "t.prototxt:1:1: error: AllTypes is missing required field 'req'");
    expect_error(&all_types_descriptor, "req: 1\n  child {\n i32: 2 }",
                 "t.prototxt:2:3: error: AllTypes is missing required field 'req'");
    expect_error(&all_types_descriptor, "req: 1 kids: [ {req: 1}, {} ]",
                 "t.prototxt:1:26: error: AllTypes is missing required field 'req'");
    expect_error(&all_types_descriptor, "req: 1 req: 2",
                 "t.prototxt:1:8: error: AllTypes.req is given twice (first at line 1)");
}

/* Builds "req: 0 " + n levels of `child { req: 0 ` + closers. */
static char *nested(int n, const char *open, const char *close)
{
    size_t cap = 16 + (size_t)n * (strlen(open) + strlen(close) + 8);
    char *s = malloc(cap);
    if (!s) return NULL;
    char *p = s + sprintf(s, "req: 0 ");
    for (int i = 0; i < n; i++) p += sprintf(p, "%s", open);
    for (int i = 0; i < n; i++) p += sprintf(p, "%s", close);
    return s;
}

static void test_depth_bound(void)
{
    CliffError err;
    char *s = nested(CLIFF_CONFIG_MAX_DEPTH, "child { req: 0 ", "} ");
    AllTypes *a = s ? all(s, &err) : NULL;
    CHECK(a != NULL); /* exactly at the bound */
    if (a) FREE(a);
    free(s);
    s = nested(CLIFF_CONFIG_MAX_DEPTH + 1, "child { req: 0 ", "} ");
    a = s ? all(s, &err) : NULL;
    CHECK(a == NULL && strstr(err.msg, "t.prototxt:1:968: error: nesting deeper than 64 levels"));
    if (a) FREE(a);
    free(s);
    s = nested(CLIFF_CONFIG_MAX_DEPTH + 1, "kids: [ { req: 0 ", "} ] ");
    a = s ? all(s, &err) : NULL;
    CHECK(a == NULL && strstr(err.msg, "error: nesting deeper than 64 levels"));
    if (a) FREE(a);
    free(s);
    /* far deeper than the bound: an error, not a stack overflow */
    s = nested(100000, "child{", "}");
    a = s ? all(s, &err) : NULL;
    CHECK(a == NULL && strstr(err.msg, "error: nesting deeper than 64 levels"));
    if (a) FREE(a);
    free(s);
}

static void test_size_and_encoding(void)
{
    CliffError err;
    size_t big = CLIFF_CONFIG_MAX_BYTES + 1;
    char *s = malloc(big);
    CHECK(s != NULL);
    if (s) {
        memset(s, ' ', big);
        ProtobufCMessage *m = cliff_text_parse(&all_types_descriptor, "big.prototxt", s, big,
                                               NULL, &err);
        CHECK(m == NULL && strcmp(err.msg, "big.prototxt: error: input is larger than 64 MiB") == 0);
        free(s);
    }
    static const struct {
        const char *src;
        size_t len;
        const char *want;
    } cases[] = {
        {"req: 0\ns: \"a\0\"", 15, "t.prototxt:2:6: error: NUL byte in input"},
        {"req: 0 # \xff\n", 11, "t.prototxt:1:10: error: invalid UTF-8 (byte 0xff)"},
        {"req: 0\n s: \"\xc0\x80\"", 16, "t.prototxt:2:6: error: invalid UTF-8 (byte 0xc0)"},
        {"req: 0 s: \"\xed\xa0\x80\"", 17, "t.prototxt:1:12: error: invalid UTF-8 (byte 0xed)"},
        {"req: 0 s: \"\xe2\x82", 13, "t.prototxt:1:12: error: invalid UTF-8 (byte 0xe2)"},
        {"req: 0 s: \"\xf4\x90\x80\x80\"", 16, "t.prototxt:1:12: error: invalid UTF-8 (byte 0xf4)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ProtobufCMessage *m = cliff_text_parse(&all_types_descriptor, "t.prototxt", cases[i].src,
                                               cases[i].len, NULL, &err);
        CHECK(m == NULL);
        if (m) protobuf_c_message_free_unpacked(m, NULL);
        else if (strcmp(err.msg, cases[i].want))
            CHECK_FAILF("case %zu: got '%s' want '%s'", i, err.msg, cases[i].want);
    }
    /* a UTF-8 byte-order mark is skipped; columns count characters */
    expect_error(&all_types_descriptor, "\xef\xbb\xbfreq: 0 s: \"\xc3\xa9\xc3\xa9\" x: 1",
                 "t.prototxt:1:16: error: AllTypes has no field 'x'");
    /* the empty input is the empty message */
    ProtobufCMessage *m = cliff_text_parse(&cliff__net_parameter__descriptor, "e", "", 0, NULL, &err);
    CHECK(m != NULL);
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static void test_merge(void)
{
    CliffError err;
    AllTypes *a = all_ok("i32: 1 rf: 1 child { req: 1 i32: 2 }");
    if (!a) return;
    const char *more = "rf: 2 child { u32: 3 }";
    CHECK(cliff_text_merge(&a->base, "m", more, strlen(more), 0, NULL, &err) == 0);
    CHECK(a->n_rf == 2 && a->rf[1] == 2 && a->child->i32 == 2 && a->child->u32 == 3);
    const char *again = "i32: 5";
    CHECK(cliff_text_merge(&a->base, "m", again, strlen(again), 0, NULL, &err) == -1);
    CHECK(strcmp(err.msg, "m:1:1: error: AllTypes.i32 is already set") == 0);
    CHECK(cliff_text_merge(&a->base, "m", again, strlen(again), 1, NULL, &err) == 0);
    CHECK(a->i32 == 5);
    const char *str = "s: 'x' s: 'y'";
    CHECK(cliff_text_merge(&a->base, "m", str, 6, 1, NULL, &err) == 0);
    CHECK(cliff_text_merge(&a->base, "m", str + 7, 6, 1, NULL, &err) == 0);
    CHECK(strcmp(a->s, "y") == 0); /* the old string was freed (ASan checks) */
    CHECK(cliff_text_merge(&a->base, "m", str, strlen(str), 1, NULL, &err) == -1);
    FREE(a);
}

static void test_srcmap_rollback(void)
{
    CliffError err;
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    ProtobufCMessage *m = parse(&cliff__net_parameter__descriptor, "layer { name: 'a' }", &map, &err);
    CHECK(m != NULL);
    size_t n = map.n;
    CHECK(n == 3); /* the net, the layer, the name */
    ProtobufCMessage *bad = parse(&cliff__net_parameter__descriptor,
                                  "layer { name: 'a' } layer { name: 1 }", &map, &err);
    CHECK(bad == NULL && map.n == n);
    if (m) protobuf_c_message_free_unpacked(m, NULL);
    cliff_srcmap_free(&map);
}

int main(void)
{
    RUN(test_layer_string);
    RUN(test_net);
    RUN(test_errors);
    RUN(test_defaults);
    RUN(test_writer_layout);
    RUN(test_float_round_trip);
    RUN(test_bytes_round_trip);
    RUN(test_lists_and_separators);
    RUN(test_required);
    RUN(test_depth_bound);
    RUN(test_size_and_encoding);
    RUN(test_merge);
    RUN(test_srcmap_rollback);
    return test_main_end();
}
