/* Every scalar form of the text format, on the hand-written AllTypes
 * descriptor (tests/alltypes.h): integers of every width and signedness in
 * decimal, hex and octal with range checks; floats in every spelling; bools;
 * enums by name and number; strings and bytes with C escapes. Expected values
 * are written out by hand (limits from <stdint.h>/<float.h>). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alltypes.h"
#include "check.h"
#include "proto/textformat.h"

#define FREE(a) protobuf_c_message_free_unpacked(&(a)->base, NULL)
#define all_ok alltypes_ok
#define all_bad alltypes_bad

static void test_integers(void)
{
    AllTypes *a;
    if ((a = all_ok("i32: -2147483648 si32: 2147483647 sf32: -0x80000000 u32: 4294967295 "
                    "fx32: 0xFFFFFFFF"))) {
        CHECK(a->has_i32 && a->i32 == INT32_MIN);
        CHECK(a->has_si32 && a->si32 == INT32_MAX);
        CHECK(a->has_sf32 && a->sf32 == INT32_MIN);
        CHECK(a->has_u32 && a->u32 == UINT32_MAX);
        CHECK(a->has_fx32 && a->fx32 == UINT32_MAX);
        CHECK(!a->has_i64 && !a->has_u64);
        FREE(a);
    }
    if ((a = all_ok("i64: -9223372036854775808 si64: 9223372036854775807 sf64: -1 "
                    "u64: 18446744073709551615 fx64: 0xffffffffffffffff"))) {
        CHECK(a->i64 == INT64_MIN && a->si64 == INT64_MAX && a->sf64 == -1);
        CHECK(a->u64 == UINT64_MAX && a->fx64 == UINT64_MAX);
        FREE(a);
    }
    if ((a = all_ok("i32: 017 u32: 0 si32: +12 i64: 0x7FFFFFFFFFFFFFFF u64: 01777777777777777777777"))) {
        CHECK(a->i32 == 15 && a->u32 == 0 && a->si32 == 12);
        CHECK(a->i64 == INT64_MAX && a->u64 == UINT64_MAX);
        FREE(a);
    }
    all_bad("i32: 2147483648", "value 2147483648 is out of range for AllTypes.i32 (int32)");
    all_bad("i32: -2147483649", "value -2147483649 is out of range for AllTypes.i32 (int32)");
    all_bad("sf32: 0x80000000", "value 0x80000000 is out of range for AllTypes.sf32 (sfixed32)");
    all_bad("u32: 4294967296", "value 4294967296 is out of range for AllTypes.u32 (uint32)");
    all_bad("u32: -1", "value -1 is out of range for AllTypes.u32 (uint32)");
    all_bad("fx64: -1", "value -1 is out of range for AllTypes.fx64 (fixed64)");
    all_bad("i64: 9223372036854775808",
            "value 9223372036854775808 is out of range for AllTypes.i64 (int64)");
    all_bad("i64: -9223372036854775809",
            "value -9223372036854775809 is out of range for AllTypes.i64 (int64)");
    all_bad("u64: 18446744073709551616",
            "value 18446744073709551616 is out of range for AllTypes.u64 (uint64)");
    all_bad("u64: 0x10000000000000000",
            "value 0x10000000000000000 is out of range for AllTypes.u64 (uint64)");
    all_bad("i32: 08", "invalid value '08' for AllTypes.i32 (int32) (expected an integer)");
    all_bad("i32: 1.0", "invalid value '1.0' for AllTypes.i32 (int32) (expected an integer)");
    all_bad("i32: 1e3", "invalid value '1e3' for AllTypes.i32 (int32) (expected an integer)");
    all_bad("i32: 0x", "invalid value '0x' for AllTypes.i32 (int32) (expected an integer)");
    all_bad("i32: --1", "invalid value '--1' for AllTypes.i32 (int32) (expected an integer)");
    all_bad("i32: abc", "invalid value 'abc' for AllTypes.i32 (int32) (expected an integer)");
    all_bad("i32: \"5\"", "AllTypes.i32 (int32) takes an unquoted value, found the string \"5\"");
}

static void test_floats(void)
{
    AllTypes *a;
    if ((a = all_ok("rf: [1e-4, .5, 5., inf, -inf, nan, infinity, -Infinity, 1.5f, 2F, 1E+2, "
                    "-0, 3.4028235e38, 7, -2.5e-3f, NaN, 1e-50]"))) {
        CHECK(a->n_rf == 17);
        if (a->n_rf == 17) {
            CHECK(a->rf[0] == 1e-4f && a->rf[1] == 0.5f && a->rf[2] == 5.0f);
            CHECK(isinf(a->rf[3]) && a->rf[3] > 0 && isinf(a->rf[4]) && a->rf[4] < 0);
            CHECK(isnan(a->rf[5]) && isinf(a->rf[6]) && a->rf[7] == -INFINITY);
            CHECK(a->rf[8] == 1.5f && a->rf[9] == 2.0f && a->rf[10] == 100.0f);
            CHECK(a->rf[11] == 0.0f && signbit(a->rf[11]));
            CHECK(a->rf[12] == FLT_MAX && a->rf[13] == 7.0f && a->rf[14] == -2.5e-3f);
            CHECK(isnan(a->rf[15]) && a->rf[16] == 0.0f);
        }
        FREE(a);
    }
    if ((a = all_ok("db: 0.1 rdb: [1e308, 4.9e-324, -1.7976931348623157e308]"))) {
        CHECK(a->has_db && a->db == 0.1);
        CHECK(a->n_rdb == 3 && a->rdb[0] == 1e308 && a->rdb[1] == 4.9e-324 &&
              a->rdb[2] == -DBL_MAX);
        FREE(a);
    }
    all_bad("fl: 3.5e38", "value 3.5e38 is out of range for AllTypes.fl (float)");
    all_bad("db: 1e309", "value 1e309 is out of range for AllTypes.db (double)");
    const char *malformed[] = {"1.2.3", "e5", "1e", "0x1p3", "nanx", ".", "-", "1ff", "1f5",
                               "inf.", "+-1", "1e+"};
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
        char src[64], want[160];
        snprintf(src, sizeof src, "fl: %s", malformed[i]);
        snprintf(want, sizeof want,
                 "invalid value '%s' for AllTypes.fl (float) (expected a number)", malformed[i]);
        all_bad(src, want);
    }
}

static void test_bools_and_enums(void)
{
    const char *yes[] = {"true", "True", "t", "1"}, *no[] = {"false", "False", "f", "0"};
    for (int i = 0; i < 4; i++) {
        char src[32];
        AllTypes *a;
        snprintf(src, sizeof src, "b: %s", yes[i]);
        if ((a = all_ok(src))) {
            CHECK(a->has_b && a->b == 1);
            FREE(a);
        }
        snprintf(src, sizeof src, "b: %s", no[i]);
        if ((a = all_ok(src))) {
            CHECK(a->has_b && a->b == 0);
            FREE(a);
        }
    }
    all_bad("b: TRUE", "invalid value 'TRUE' for AllTypes.b (bool) (expected true or false)");
    all_bad("b: yes", "invalid value 'yes' for AllTypes.b (bool) (expected true or false)");
    all_bad("b: 2", "invalid value '2' for AllTypes.b (bool) (expected true or false)");

    AllTypes *a;
    if ((a = all_ok("color: BLUE rc: [RED, 1, -2, GREEN]"))) {
        CHECK(a->has_color && a->color == ALL_BLUE);
        CHECK(a->n_rc == 4 && a->rc[0] == ALL_RED && a->rc[1] == ALL_GREEN &&
              a->rc[2] == ALL_BLUE && a->rc[3] == ALL_GREEN);
        FREE(a);
    }
    all_bad("color: Red", "enum Color has no value 'Red' (did you mean 'RED'?) for "
                          "AllTypes.color (enum Color)");
    all_bad("color: PURPLE", "enum Color has no value 'PURPLE' for AllTypes.color (enum Color)");
    all_bad("color: 5", "5 is not a value of enum Color (for AllTypes.color (enum Color))");
    all_bad("color: \"RED\"",
            "AllTypes.color (enum Color) takes an unquoted value, found the string \"RED\"");
}

static void test_strings_and_bytes(void)
{
    AllTypes *a;
    if ((a = all_ok("s: \"a\\n\\t\\r\\\\\\'\\\"\\101\\x41\\x7e\\?\" rs: 'ab' \"cd\"\n 'e' "
                    "rs: 'say \"hi\"' rs: \"h\xc3\xa9llo\" rs: ''"))) {
        CHECK(a->s && strcmp(a->s, "a\n\t\r\\'\"AA~?") == 0);
        CHECK(a->n_rs == 4);
        if (a->n_rs == 4) {
            CHECK(strcmp(a->rs[0], "abcde") == 0);
            CHECK(strcmp(a->rs[1], "say \"hi\"") == 0);
            CHECK(strcmp(a->rs[2], "h\xc3\xa9llo") == 0);
            CHECK(strcmp(a->rs[3], "") == 0);
        }
        FREE(a);
    }
    if ((a = all_ok("by: \"\\0\\377\\x00z\\1234\" rb: ['', \"\\x1\"]"))) {
        static const uint8_t want[] = {0, 255, 0, 'z', 0123, '4'};
        CHECK(a->has_by && a->by.len == 6 && memcmp(a->by.data, want, 6) == 0);
        CHECK(a->n_rb == 2 && a->rb[0].len == 0 && a->rb[1].len == 1 && a->rb[1].data[0] == 1);
        FREE(a);
    }
    all_bad("s: \"a\\0b\"", "string for AllTypes.s (string) contains a NUL byte");
    all_bad("s: abc", "expected a quoted string for AllTypes.s (string), found 'abc'");
    all_bad("s: \"\\q\"", "unknown escape sequence '\\q' in string");
    all_bad("s: \"\\400\"", "octal escape '\\400' is above \\377");
    all_bad("s: \"\\xg\"", "\\x escape without hex digits");
    all_bad("s: \"abc\n\"", "unterminated string (missing closing \")");
    all_bad("s: 'abc", "unterminated string (missing closing ')");
}

int main(void)
{
    RUN(test_integers);
    RUN(test_floats);
    RUN(test_bools_and_enums);
    RUN(test_strings_and_bytes);
    return test_main_end();
}
