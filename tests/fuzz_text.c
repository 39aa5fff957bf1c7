/* libFuzzer target for the config readers. Each input is parsed as a
 * SolverParameter and as a NetParameter, in text format and in YAML. On
 * success the message is printed as text and read back: the round trip must
 * give the same packed bytes. On failure the error must be a located
 * "...: error: ..." line. Anything else traps; everything is freed (ASan's
 * leak checker sees the rest). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cliff.pb-c.h"
#include "proto/desc_walk.h"
#include "proto/textformat.h"
#include "proto/yaml_reader.h"

static void check_error(const CliffError *err)
{
    if (!strstr(err->msg, ": error: ") || strchr(err->msg, '\n')) __builtin_trap();
}

static void one(const ProtobufCMessageDescriptor *d, const char *src, size_t len, int yaml)
{
    CliffError err;
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    ProtobufCMessage *m = yaml ? cliff_yaml_parse(d, "fuzz.yaml", src, len, &map, &err)
                               : cliff_text_parse(d, "fuzz.prototxt", src, len, &map, &err);
    if (!m) {
        check_error(&err);
        if (map.n) __builtin_trap(); /* no positions of freed messages */
        cliff_srcmap_free(&map);
        return;
    }
    char *text = cliff_text_print(m);
    if (!text) __builtin_trap();
    ProtobufCMessage *again = cliff_text_parse(d, "printed", text, strlen(text), NULL, &err);
    if (!again || cliff_msg_equal(m, again) != 1) __builtin_trap();
    char *text2 = cliff_text_print(again);
    if (!text2 || strcmp(text, text2) != 0) __builtin_trap(); /* printing is a fixed point */
    free(text);
    free(text2);
    protobuf_c_message_free_unpacked(again, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    cliff_srcmap_free(&map);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    one(&cliff__solver_parameter__descriptor, src, size, 0);
    one(&cliff__net_parameter__descriptor, src, size, 0);
    one(&cliff__solver_parameter__descriptor, src, size, 1);
    one(&cliff__net_parameter__descriptor, src, size, 1);
    return 0;
}
