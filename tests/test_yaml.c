/* YAML reader: the same messages as the text reader from the same structure
 * (configs/ twins, every scalar form), YAML-specific forms, errors with
 * libyaml positions, bounds. Run from the repository root (reads configs/). */
#include <glob.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alltypes.h"
#include "check.h"
#include "cliff.pb-c.h"
#include "proto/config.h"
#include "proto/desc_walk.h"
#include "proto/textformat.h"
#include "proto/yaml_reader.h"

static ProtobufCMessage *yparse(const ProtobufCMessageDescriptor *d, const char *src,
                                CliffSrcMap *map, CliffError *err)
{
    return cliff_yaml_parse(d, "t.yaml", src, strlen(src), map, err);
}

static void expect_error(const ProtobufCMessageDescriptor *d, const char *src, const char *want)
{
    CliffError err = {0};
    ProtobufCMessage *m = yparse(d, src, NULL, &err);
    CHECK(m == NULL);
    if (m) protobuf_c_message_free_unpacked(m, NULL);
    else if (strcmp(err.msg, want) != 0) CHECK_FAILF("got  '%s'\n  want '%s'", err.msg, want);
}

/* Parses text and yaml sources and checks that both succeed with equal
 * packed bytes. */
static void expect_same(const ProtobufCMessageDescriptor *d, const char *text, const char *yaml)
{
    CliffError e1, e2;
    ProtobufCMessage *a = cliff_text_parse(d, "t.prototxt", text, strlen(text), NULL, &e1);
    ProtobufCMessage *b = yparse(d, yaml, NULL, &e2);
    if (!a) CHECK_FAILF("text '%s': %s", text, e1.msg);
    if (!b) CHECK_FAILF("yaml '%s': %s", yaml, e2.msg);
    if (a && b && cliff_msg_equal(a, b) != 1) CHECK_FAILF("'%s' and '%s' differ", text, yaml);
    if (a) protobuf_c_message_free_unpacked(a, NULL);
    if (b) protobuf_c_message_free_unpacked(b, NULL);
}

/* Every configs/ YAML file equals its prototxt twin (nets and solvers, the
 * solvers with their nets resolved and inlined). */
static void test_config_twins(void)
{
    glob_t g;
    CHECK(glob("configs/*.yaml", 0, NULL, &g) == 0);
    CHECK(g.gl_pathc >= 4);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *y = g.gl_pathv[i];
        char t[512];
        snprintf(t, sizeof t, "%.*s.prototxt", (int)(strlen(y) - 5), y);
        CliffError err;
        ProtobufCMessage *a = NULL, *b = NULL;
        if (strstr(y, "solver")) {
            Cliff__SolverParameter *sa, *sb;
            if (cliff_solver_load(t, NULL, NULL, 0, &sa, NULL, &err) == 0) a = &sa->base;
            else CHECK_FAILF("%s", err.msg);
            if (cliff_solver_load(y, NULL, NULL, 0, &sb, NULL, &err) == 0) b = &sb->base;
            else CHECK_FAILF("%s", err.msg);
            /* self-contained: the net was inlined */
            CHECK(!a || (sa->net == NULL && sa->net_param && sa->net_param->n_layer > 0));
        } else {
            Cliff__NetParameter *na, *nb;
            if (cliff_net_load(t, NULL, &na, NULL, &err) == 0) a = &na->base;
            else CHECK_FAILF("%s", err.msg);
            if (cliff_net_load(y, NULL, &nb, NULL, &err) == 0) b = &nb->base;
            else CHECK_FAILF("%s", err.msg);
        }
        if (a && b && cliff_msg_equal(a, b) != 1) CHECK_FAILF("%s and %s differ", y, t);
        if (a) protobuf_c_message_free_unpacked(a, NULL);
        if (b) protobuf_c_message_free_unpacked(b, NULL);
    }
    globfree(&g);
}

static void test_structure(void)
{
    const ProtobufCMessageDescriptor *net = &cliff__net_parameter__descriptor;
    /* block and flow sequences, repeated keys, nested mappings */
    expect_same(net,
                "name: 'n' layer { name: 'a' top: 'x' top: 'y' } layer { name: 'b' bottom: 'x' "
                "convolution_param { kernel_size: [3, 5] } }",
                "name: n\nlayer:\n  - name: a\n    top: [x, y]\n  - {name: b, bottom: x,\n"
                "     convolution_param: {kernel_size: [3, 5]}}\n");
    expect_same(net, "layer { name: 'a' } layer { name: 'b' } layer { name: 'c' }",
                "layer: {name: a}\nlayer:\n  name: b\nlayer: [{name: c}]\n");
    expect_same(net, "layer { top: 'a' top: 'b' top: 'c' }",
                "layer:\n  top: a\n  top:\n    - b\n    - c\n");
    /* null and empty values of message fields are empty messages */
    expect_same(net, "layer { dropout_param { } } layer { relu_param { } } layer { }",
                "layer:\n  - dropout_param:\n  - relu_param: ~\n  - {}\n");
    /* empty documents are empty messages */
    expect_same(net, "", "");
    expect_same(net, "", "# only a comment\n");
    expect_same(net, "", "---\n...\n");
    /* anchors are ignored; strings may be plain, quoted or block scalars */
    expect_same(net, "name: 'a b' layer { name: \"123\" type: 'true' top: \"x\\ny\\n\" }",
                "name: &n a b\nlayer:\n  name: 123\n  type: 'true'\n  top: |\n    x\n    y\n");
}

/* The same scalar strings give the same values in both syntaxes. */
static void test_scalars_shared(void)
{
    static const char *const pairs[][2] = {
        {"i32: -0x10", "i32: -0x10"},
        {"i32: 017", "i32: 017"},
        {"u64: 18446744073709551615", "u64: 18446744073709551615"},
        {"i64: -9223372036854775808", "i64: -9223372036854775808"},
        {"fl: 1e-4", "fl: 1e-4"},
        {"fl: .5", "fl: .5"},
        {"fl: 5.", "fl: 5."},
        {"fl: 2.5f", "fl: 2.5f"},
        {"fl: inf", "fl: inf"},
        {"fl: inf", "fl: .inf"},
        {"fl: -inf", "fl: -.Inf"},
        {"fl: -infinity", "fl: -infinity"},
        {"fl: nan", "fl: .NaN"},
        {"db: 0.1", "db: 0.1"},
        {"b: true", "b: True"},
        {"b: false", "b: f"},
        {"b: true", "b: 1"},
        {"color: BLUE", "color: BLUE"},
        {"color: BLUE", "color: -2"},
        {"color: RED", "color: 'RED'"},
        {"s: 'x'", "s: x"},
        {"s: '\\t\"'", "s: \"\\t\\\"\""},
        {"s: ''", "s: ''"},
        {"s: 'null'", "s: 'null'"},
        {"rs: ['a', 'b']", "rs: [a, b]"},
        {"rf: [1, .5, -inf]", "rf: [1, .5, -.inf]"},
        {"by: 'ab'", "by: ab"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        char t[256], y[256];
        snprintf(t, sizeof t, "req: 0 %s", pairs[i][0]);
        snprintf(y, sizeof y, "req: 0\n%s\n", pairs[i][1]);
        expect_same(&all_types_descriptor, t, y);
    }
    /* nan from YAML really is a NaN */
    CliffError err;
    AllTypes *a = (AllTypes *)yparse(&all_types_descriptor, "req: 0\nfl: .nan\nrf: [-.inf]", NULL, &err);
    CHECK(a && isnan(a->fl) && a->n_rf == 1 && isinf(a->rf[0]) && a->rf[0] < 0);
    if (a) protobuf_c_message_free_unpacked(&a->base, NULL);
}

static void test_errors(void)
{
    const ProtobufCMessageDescriptor *net = &cliff__net_parameter__descriptor;
    const ProtobufCMessageDescriptor *all = &all_types_descriptor;
    expect_error(net, "layer:\n  - name: a\n    inner_product_param: {num_ouput: 3}",
                 "t.yaml:3:27: error: InnerProductParameter has no field 'num_ouput' "
                 "(did you mean 'num_output'?)");
    expect_error(net, "name: a\nname: b",
                 "t.yaml:2:1: error: NetParameter.name is given twice (first at line 1)");
    expect_error(net, "layer: [a]",
                 "t.yaml:1:9: error: NetParameter.layer is message LayerParameter; expected a "
                 "mapping, found a scalar");
    expect_error(net, "name: [a]",
                 "t.yaml:1:7: error: NetParameter.name is not repeated; a sequence needs a "
                 "repeated field");
    expect_error(net, "layer: {name: {x: 1}}",
                 "t.yaml:1:15: error: LayerParameter.name is string, not a message; found a mapping");
    expect_error(net, "layer: {top: [[a]]}",
                 "t.yaml:1:15: error: expected a scalar element of LayerParameter.top (string), "
                 "found a sequence");
    expect_error(net, "layer:\n  - convolution_param:\n      num_output: \"3\"",
                 "t.yaml:3:19: error: ConvolutionParameter.num_output (uint32) takes an unquoted "
                 "value, found the string \"3\"");
    expect_error(net, "layer:\n  - convolution_param:\n      num_output:",
                 "t.yaml:3:18: error: missing value for ConvolutionParameter.num_output (uint32)");
    expect_error(net, "layer: {convolution_param: {engine: CAFE}}",
                 "t.yaml:1:37: error: enum Engine has no value 'CAFE' (did you mean 'CAFFE'?) "
                 "for ConvolutionParameter.engine (enum Engine)");
    expect_error(net, "layer: {convolution_param: {pad: -1}}",
                 "t.yaml:1:34: error: value -1 is out of range for ConvolutionParameter.pad (uint32)");
    expect_error(net, "name: &x a\nlayer: {name: *x}",
                 "t.yaml:2:15: error: YAML aliases (*x) are not supported");
    expect_error(net, "name: \"abc",
                 "t.yaml:1:11: error: invalid YAML: found unexpected end of stream while "
                 "scanning a quoted scalar");
    expect_error(net, "name: a\n  bad: x",
                 "t.yaml:2:6: error: invalid YAML: mapping values are not allowed in this context");
    expect_error(net, "name: a\n---\nname: b",
                 "t.yaml:2:1: error: more than one YAML document in one config file");
    expect_error(net, "- a\n- b",
                 "t.yaml:1:1: error: expected a mapping of NetParameter fields at the top level, "
                 "found a sequence");
    expect_error(net, "[a]: 1",
                 "t.yaml:1:1: error: expected a field name of NetParameter, found a sequence");
    expect_error(all, "i32: 1", "t.yaml:1:1: error: AllTypes is missing required field 'req'");
    expect_error(all, "req: 1\nchild:\n  i32: 1",
                 "t.yaml:2:1: error: AllTypes is missing required field 'req'");
    expect_error(all, "req: 1\nkids: [~]", "t.yaml:2:8: error: AllTypes is missing required field 'req'");
    expect_error(all, "req: 1\ni32: 1e3",
                 "t.yaml:2:6: error: invalid value '1e3' for AllTypes.i32 (int32) (expected an integer)");
    expect_error(all, "req: 1\nb: yes",
                 "t.yaml:2:4: error: invalid value 'yes' for AllTypes.b (bool) (expected true or false)");
}

static void test_positions(void)
{
    CliffError err;
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    Cliff__NetParameter *n = (Cliff__NetParameter *)yparse(
        &cliff__net_parameter__descriptor,
        "name: x\nlayer:\n  - name: a\n    top: [t1, t2]\n    relu_param: {}\n"
        "layer:\n  name: b\n",
        &map, &err);
    CHECK(n != NULL);
    if (!n) return;
    CliffSrcPos pos;
    CHECK(cliff_srcmap_find(&map, n, &pos) == 0 && pos.line == 1 && pos.col == 1);
    CHECK(n->n_layer == 2);
    CHECK(cliff_srcmap_find(&map, n->layer[0], &pos) == 0 && pos.line == 3 && pos.col == 5);
    CHECK(cliff_srcmap_find(&map, n->layer[0]->relu_param, &pos) == 0 && pos.line == 5 &&
          pos.col == 5);
    CHECK(cliff_srcmap_find(&map, n->layer[1], &pos) == 0 && pos.line == 6 && pos.col == 1);
    CHECK(cliff_srcmap_find_field(&map, &n->layer[0]->base, "top", 1, &pos) == 0 &&
          pos.line == 4 && pos.col == 15);
    CHECK(cliff_srcmap_find_field(&map, &n->layer[1]->base, "name", 0, &pos) == 0 &&
          pos.line == 7 && pos.col == 3 && strcmp(pos.file, "t.yaml") == 0);
    protobuf_c_message_free_unpacked(&n->base, NULL);
    size_t before = map.n;
    CHECK(yparse(&cliff__net_parameter__descriptor, "layer: {name: a}\nlayer: {nme: b}", &map,
                 &err) == NULL);
    CHECK(map.n == before); /* no positions of freed messages */
    cliff_srcmap_free(&map);
}

static void test_bounds_and_encoding(void)
{
    CliffError err;
    /* depth: 64 nested children parse, 65 do not, 100000 fail cleanly */
    for (int depth = 64; depth <= 100000; depth = depth == 64 ? 65 : 100000) {
        size_t cap = (size_t)depth * 20 + 64;
        char *s = malloc(cap), *p = s;
        if (!s) return;
        p += sprintf(p, "{req: 0");
        for (int i = 0; i < depth; i++) p += sprintf(p, ", child: {req: 0");
        for (int i = 0; i < depth; i++) *p++ = '}';
        sprintf(p, "}");
        ProtobufCMessage *m = yparse(&all_types_descriptor, s, NULL, &err);
        if (depth == 64) CHECK(m != NULL);
        else CHECK(m == NULL && strstr(err.msg, "error: nesting deeper than 64 levels"));
        if (m) protobuf_c_message_free_unpacked(m, NULL);
        free(s);
        if (depth == 100000) break;
    }
    expect_error(&all_types_descriptor, "req: 0\nrf: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                 "t.yaml:2:6: error: expected a scalar element of AllTypes.rf (float), found a sequence");
    static const char nul[] = "name: a\nlayer: {name: \"\0\"}";
    CHECK(cliff_yaml_parse(&cliff__net_parameter__descriptor, "t.yaml", nul, sizeof nul - 1, NULL,
                           &err) == NULL);
    CHECK(strcmp(err.msg, "t.yaml:2:16: error: NUL byte in input") == 0);
    expect_error(&cliff__net_parameter__descriptor, "name: \xe9t\xe9",
                 "t.yaml:1:7: error: invalid UTF-8 (byte 0xe9)");
    size_t big = CLIFF_CONFIG_MAX_BYTES + 1;
    char *s = malloc(big);
    if (s) {
        memset(s, '\n', big);
        CHECK(cliff_yaml_parse(&cliff__net_parameter__descriptor, "big.yaml", s, big, NULL,
                               &err) == NULL);
        CHECK(strcmp(err.msg, "big.yaml: error: input is larger than 64 MiB") == 0);
        free(s);
    }
}

int main(void)
{
    RUN(test_config_twins);
    RUN(test_structure);
    RUN(test_scalars_shared);
    RUN(test_errors);
    RUN(test_positions);
    RUN(test_bounds_and_encoding);
    return test_main_end();
}
