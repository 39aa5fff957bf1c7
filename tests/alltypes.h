/* A hand-written protobuf-c message type with one field of every scalar type,
 * repeated fields, a required field, a string default and a recursive child:
 * the config readers are descriptor-driven, and cliff.proto has no sint32,
 * fixed64, bytes-with-default or self-nesting message to test them with.
 *
 *   message AllTypes {
 *     optional int32 i32 = 1;      optional sint32 si32 = 2;  optional sfixed32 sf32 = 3;
 *     optional int64 i64 = 4;      optional sint64 si64 = 5;  optional sfixed64 sf64 = 6;
 *     optional uint32 u32 = 7;     optional fixed32 fx32 = 8; optional uint64 u64 = 9;
 *     optional fixed64 fx64 = 10;  optional float fl = 11 [default = 0.5];
 *     optional double db = 12;     optional bool b = 13;
 *     enum Color { BLUE = -2; RED = 0; GREEN = 1; }  optional Color color = 14 [default = GREEN];
 *     optional string s = 15;      optional bytes by = 16;    optional string sd = 17 [default = "hi"];
 *     repeated float rf = 18;      repeated Color rc = 19;    repeated bytes rb = 20;
 *     repeated string rs = 21;     required int32 req = 22;
 *     optional AllTypes child = 23; repeated AllTypes kids = 24;
 *     repeated int64 ri64 = 25;    repeated double rdb = 26;
 *   } */
#ifndef CLIFF_TEST_ALLTYPES_H
#define CLIFF_TEST_ALLTYPES_H

#include <protobuf-c/protobuf-c.h>

typedef enum { ALL_BLUE = -2, ALL_RED = 0, ALL_GREEN = 1 } AllColor;

typedef struct AllTypes AllTypes;
struct AllTypes {
    ProtobufCMessage base;
    protobuf_c_boolean has_i32, has_si32, has_sf32, has_i64, has_si64, has_sf64, has_u32,
        has_fx32, has_u64, has_fx64, has_fl, has_db, has_b, has_color, has_by;
    int32_t i32, si32, sf32;
    int64_t i64, si64, sf64;
    uint32_t u32, fx32;
    uint64_t u64, fx64;
    float fl;
    double db;
    protobuf_c_boolean b;
    int32_t color;
    char *s;
    ProtobufCBinaryData by;
    char *sd;
    size_t n_rf;
    float *rf;
    size_t n_rc;
    int32_t *rc;
    size_t n_rb;
    ProtobufCBinaryData *rb;
    size_t n_rs;
    char **rs;
    int32_t req;
    AllTypes *child;
    size_t n_kids;
    AllTypes **kids;
    size_t n_ri64;
    int64_t *ri64;
    size_t n_rdb;
    double *rdb;
};

extern const ProtobufCMessageDescriptor all_types_descriptor;

/* Test helpers: parse "req: 0 <src>" as text format. alltypes_ok returns the
 * message (or NULL after failing the running test); alltypes_bad fails the
 * running test unless parsing fails with exactly the message want (the part
 * after "error: "). */
AllTypes *alltypes_ok(const char *src);
void alltypes_bad(const char *src, const char *want);

#endif
