/* The AllTypes descriptor of alltypes.h, laid out as protoc-c would generate it. */
#include "alltypes.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "proto/textformat.h"

static const ProtobufCEnumValue color_values[] = {
    {"BLUE", "ALL_BLUE", -2}, {"RED", "ALL_RED", 0}, {"GREEN", "ALL_GREEN", 1}};
static const ProtobufCEnumValueIndex color_by_name[] = {{"BLUE", 0}, {"GREEN", 2}, {"RED", 1}};
/* value ranges: -2 at index 0; 0..1 at index 1; terminator = number of values */
static const ProtobufCIntRange color_ranges[] = {{-2, 0}, {0, 1}, {0, 3}};

static const ProtobufCEnumDescriptor color_descriptor = {
    PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC, "test.AllTypes.Color", "Color", "AllColor", "test",
    3, color_values, 3, color_by_name, 2, color_ranges, NULL, NULL, NULL, NULL};

static const float fl_default = 0.5f;
static const int32_t color_default = ALL_GREEN;
static char sd_default[] = "hi";

#define OPT(name, id, type, extra_desc, def)                                                 \
    {#name, id, PROTOBUF_C_LABEL_OPTIONAL, type, offsetof(AllTypes, has_##name),            \
     offsetof(AllTypes, name), extra_desc, def, 0, 0, NULL, NULL}
#define PTR(name, id, type, extra_desc, def)                                                 \
    {#name, id, PROTOBUF_C_LABEL_OPTIONAL, type, 0, offsetof(AllTypes, name), extra_desc,   \
     def, 0, 0, NULL, NULL}
#define REP(name, id, type, extra_desc)                                                      \
    {#name, id, PROTOBUF_C_LABEL_REPEATED, type, offsetof(AllTypes, n_##name),              \
     offsetof(AllTypes, name), extra_desc, NULL, 0, 0, NULL, NULL}

static const ProtobufCFieldDescriptor fields[] = {
    OPT(i32, 1, PROTOBUF_C_TYPE_INT32, NULL, NULL),
    OPT(si32, 2, PROTOBUF_C_TYPE_SINT32, NULL, NULL),
    OPT(sf32, 3, PROTOBUF_C_TYPE_SFIXED32, NULL, NULL),
    OPT(i64, 4, PROTOBUF_C_TYPE_INT64, NULL, NULL),
    OPT(si64, 5, PROTOBUF_C_TYPE_SINT64, NULL, NULL),
    OPT(sf64, 6, PROTOBUF_C_TYPE_SFIXED64, NULL, NULL),
    OPT(u32, 7, PROTOBUF_C_TYPE_UINT32, NULL, NULL),
    OPT(fx32, 8, PROTOBUF_C_TYPE_FIXED32, NULL, NULL),
    OPT(u64, 9, PROTOBUF_C_TYPE_UINT64, NULL, NULL),
    OPT(fx64, 10, PROTOBUF_C_TYPE_FIXED64, NULL, NULL),
    OPT(fl, 11, PROTOBUF_C_TYPE_FLOAT, NULL, &fl_default),
    OPT(db, 12, PROTOBUF_C_TYPE_DOUBLE, NULL, NULL),
    OPT(b, 13, PROTOBUF_C_TYPE_BOOL, NULL, NULL),
    OPT(color, 14, PROTOBUF_C_TYPE_ENUM, &color_descriptor, &color_default),
    PTR(s, 15, PROTOBUF_C_TYPE_STRING, NULL, NULL),
    OPT(by, 16, PROTOBUF_C_TYPE_BYTES, NULL, NULL),
    PTR(sd, 17, PROTOBUF_C_TYPE_STRING, NULL, sd_default),
    REP(rf, 18, PROTOBUF_C_TYPE_FLOAT, NULL),
    REP(rc, 19, PROTOBUF_C_TYPE_ENUM, &color_descriptor),
    REP(rb, 20, PROTOBUF_C_TYPE_BYTES, NULL),
    REP(rs, 21, PROTOBUF_C_TYPE_STRING, NULL),
    {"req", 22, PROTOBUF_C_LABEL_REQUIRED, PROTOBUF_C_TYPE_INT32, 0, offsetof(AllTypes, req),
     NULL, NULL, 0, 0, NULL, NULL},
    PTR(child, 23, PROTOBUF_C_TYPE_MESSAGE, &all_types_descriptor, NULL),
    REP(kids, 24, PROTOBUF_C_TYPE_MESSAGE, &all_types_descriptor),
    REP(ri64, 25, PROTOBUF_C_TYPE_INT64, NULL),
    REP(rdb, 26, PROTOBUF_C_TYPE_DOUBLE, NULL),
};

/* indices of fields[] in name order */
static const unsigned fields_by_name[] = {
    12 /* b */,   15 /* by */,   22 /* child */, 13 /* color */, 11 /* db */,  10 /* fl */,
    7 /* fx32 */, 9 /* fx64 */,  0 /* i32 */,    3 /* i64 */,    23 /* kids */, 19 /* rb */,
    18 /* rc */,  25 /* rdb */,  21 /* req */,   17 /* rf */,    24 /* ri64 */, 20 /* rs */,
    14 /* s */,   16 /* sd */,   2 /* sf32 */,   5 /* sf64 */,   1 /* si32 */,  4 /* si64 */,
    6 /* u32 */,  8 /* u64 */,
};

static const ProtobufCIntRange field_ranges[] = {{1, 0}, {0, 26}};

static void init(ProtobufCMessage *m)
{
    AllTypes *a = (AllTypes *)m;
    memset(a, 0, sizeof *a);
    a->base.descriptor = &all_types_descriptor;
    a->fl = fl_default;
    a->color = color_default;
    a->sd = sd_default;
}

const ProtobufCMessageDescriptor all_types_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.AllTypes",
    "AllTypes",
    "AllTypes",
    "test",
    sizeof(AllTypes),
    26,
    fields,
    fields_by_name,
    1,
    field_ranges,
    init,
    NULL,
    NULL,
    NULL};

AllTypes *alltypes_ok(const char *src)
{
    char buf[512];
    CliffError err;
    snprintf(buf, sizeof buf, "req: 0 %s", src);
    AllTypes *a = (AllTypes *)cliff_text_parse(&all_types_descriptor, "t.prototxt", buf,
                                               strlen(buf), NULL, &err);
    if (!a) CHECK_FAILF("'%s' failed: %s", src, err.msg);
    return a;
}

void alltypes_bad(const char *src, const char *want)
{
    char buf[512];
    CliffError err = {0};
    snprintf(buf, sizeof buf, "req: 0 %s", src);
    AllTypes *a = (AllTypes *)cliff_text_parse(&all_types_descriptor, "t.prototxt", buf,
                                               strlen(buf), NULL, &err);
    if (a) {
        CHECK_FAILF("'%s' was accepted", src);
        protobuf_c_message_free_unpacked(&a->base, NULL);
        return;
    }
    const char *e = strstr(err.msg, "error: ");
    if (!e || strcmp(e + 7, want) != 0)
        CHECK_FAILF("'%s':\n  got  '%s'\n  want '%s'", src, err.msg, want);
}
