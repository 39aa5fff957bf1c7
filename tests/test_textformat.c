/* Text-format reader and writer on Caffe's schema: parsing, printing, round
 * trips (compared as packed bytes), positions in the source map and errors. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cliff.pb-c.h"
#include "desc_walk.h"
#include "textformat.h"

static ProtobufCMessage *parse(const ProtobufCMessageDescriptor *d, const char *src,
                               CliffSrcMap *map, CliffError *err)
{
    return cliff_text_parse(d, "t.prototxt", src, strlen(src), map, err);
}

/* Expects src to fail with exactly the error line want. */
static void expect_error(const ProtobufCMessageDescriptor *d, const char *src, const char *want)
{
    CliffError err = {{0}};
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
        CHECK_FAILF("reparse failed: %s\n%s", err.msg, s);
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

int main(void)
{
    RUN(test_layer_string);
    RUN(test_net);
    RUN(test_errors);
    return test_main_end();
}
