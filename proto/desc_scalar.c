/* The scalar rules shared by both config readers: one function turns a
 * field and a scalar string into a stored value (integers in decimal, hex and
 * octal with range checks; floats in every form; bools; enums by name or
 * number; strings and bytes). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "desc_walk.h"
#include "desc_walk_internal.h"
#include "names.h"

/* ---- scalar rules ----------------------------------------------------- */

/* Field name for errors: "InnerProductParameter.num_output (uint32)". */
static const char *field_label(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                               char *buf, size_t n)
{
    char t[128];
    snprintf(buf, n, "%s.%s (%s)", m->descriptor->short_name, f->name,
             cliff_field_type_name(f, t, sizeof t));
    return buf;
}

/* Parses an integer literal: optional sign, then decimal, 0x hex or 0 octal.
 * Returns 0 with magnitude and sign, -1 when malformed, -2 on overflow. */
static int parse_int_literal(const char *s, size_t len, uint64_t *mag, int *neg)
{
    size_t i = 0;
    *neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+')) *neg = s[i++] == '-';
    if (i >= len) return -1;
    unsigned base = 10;
    if (s[i] == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        base = 16;
        i += 2;
        if (i >= len) return -1;
    } else if (s[i] == '0' && i + 1 < len) {
        base = 8;
        i++;
    }
    uint64_t v = 0;
    int overflow = 0;
    for (; i < len; i++) {
        unsigned c = (unsigned char)s[i], dgt;
        if (c >= '0' && c <= '9') dgt = c - '0';
        else if (c >= 'a' && c <= 'f') dgt = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') dgt = c - 'A' + 10;
        else return -1;
        if (dgt >= base) return -1;
        if (v > (UINT64_MAX - dgt) / base) overflow = 1;
        else v = v * base + dgt;
    }
    *mag = v;
    return overflow ? -2 : 0;
}

/* Validates a float literal and converts it: [+-] digits [. digits] [e[+-]digits]
 * [f|F], ".5", "5.", inf, infinity, nan (any case). Float fields convert with
 * strtof (correctly rounded, no double rounding). Returns 0, -1 malformed,
 * -2 out of range. */
static int parse_float_literal(const char *s, size_t len, int is_float, double *out)
{
    char buf[128];
    size_t i = 0;
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (buf[i] == '-' || buf[i] == '+') i++;
    const char *w = buf + i;
    if (!strcasecmp(w, "inf") || !strcasecmp(w, "infinity") || !strcasecmp(w, "nan")) {
        double v = tolower((unsigned char)w[0]) == 'n' ? NAN : INFINITY;
        *out = buf[0] == '-' ? -v : v;
        return 0;
    }
    size_t digits = 0;
    while (isdigit((unsigned char)buf[i])) i++, digits++;
    if (buf[i] == '.') {
        i++;
        while (isdigit((unsigned char)buf[i])) i++, digits++;
    }
    if (!digits) return -1;
    if (buf[i] == 'e' || buf[i] == 'E') {
        i++;
        if (buf[i] == '-' || buf[i] == '+') i++;
        if (!isdigit((unsigned char)buf[i])) return -1;
        while (isdigit((unsigned char)buf[i])) i++;
    }
    if ((buf[i] == 'f' || buf[i] == 'F') && i + 1 == len) buf[i] = 0;
    else if (i != len) return -1;
    errno = 0;
    double v = is_float ? (double)strtof(buf, NULL) : strtod(buf, NULL);
    if (errno == ERANGE && isinf(v)) return -2;
    *out = v;
    return 0;
}

static int parse_bool_literal(const char *s, size_t len, protobuf_c_boolean *out)
{
    static const char *const t[] = {"true", "True", "t", "1"}, *const f[] = {"false", "False", "f", "0"};
    for (int i = 0; i < 4; i++) {
        if (strlen(t[i]) == len && !memcmp(s, t[i], len)) return *out = 1, 0;
        if (strlen(f[i]) == len && !memcmp(s, f[i], len)) return *out = 0, 0;
    }
    return -1;
}

static int set_enum(const ProtobufCFieldDescriptor *f, const char *s, size_t len, int32_t *out,
                    CliffError *err, const char *label)
{
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    char q[128];
    cliff_walk_quote(s, len, q, sizeof q);
    if (len && (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+')) {
        uint64_t mag;
        int neg, rc = parse_int_literal(s, len, &mag, &neg);
        if (rc == -1) return cliff_error_set(err, "invalid value '%s' for %s", q, label);
        if (rc == -2 || mag > (neg ? 2147483648ull : 2147483647ull))
            return cliff_error_set(err, "value %s is out of range for %s", q, label);
        int32_t v = neg ? (int32_t)(0 - mag) : (int32_t)mag;
        if (!protobuf_c_enum_descriptor_get_value(ed, v))
            return cliff_error_set(err, "%s is not a value of enum %s (for %s)", q,
                                   ed->short_name, label);
        *out = v;
        return 0;
    }
    for (unsigned i = 0; i < ed->n_values; i++)
        if (strlen(ed->values[i].name) == len && !memcmp(ed->values[i].name, s, len)) {
            *out = ed->values[i].value;
            return 0;
        }
    const char *names[ed->n_values ? ed->n_values : 1];
    for (unsigned i = 0; i < ed->n_values; i++) names[i] = ed->values[i].name;
    const char *sug = cliff_did_you_mean(s, len, names, ed->n_values);
    if (sug)
        return cliff_error_set(err, "enum %s has no value '%s' (did you mean '%s'?) for %s",
                               ed->short_name, q, sug, label);
    return cliff_error_set(err, "enum %s has no value '%s' for %s", ed->short_name, q, label);
}

/* Parses s into the scalar storage val (cliff_walk_elem_size(f) bytes). Strings/bytes
 * are malloc'd copies. */
static int parse_scalar(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                        const char *s, size_t len, int flags, void *val, CliffError *err)
{
    char label[256], q[128];
    field_label(m, f, label, sizeof label);
    cliff_walk_quote(s, len, q, sizeof q);
    int quoted = flags & CLIFF_SCALAR_QUOTED;
    if (quoted && f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_BYTES &&
        !(f->type == PROTOBUF_C_TYPE_ENUM && (flags & CLIFF_SCALAR_QUOTED_ENUM)))
        return cliff_error_set(err, "%s takes an unquoted value, found the string \"%s\"", label,
                               q);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES: {
        if (!quoted && !(flags & CLIFF_SCALAR_BARE_STR))
            return cliff_error_set(err, "expected a quoted string for %s, found '%s'", label, q);
        if (f->type == PROTOBUF_C_TYPE_STRING && memchr(s, 0, len))
            return cliff_error_set(err, "string for %s contains a NUL byte", label);
        char *copy = malloc(len + 1);
        if (!copy) return cliff_error_set(err, "out of memory");
        if (len) memcpy(copy, s, len);
        copy[len] = 0;
        if (f->type == PROTOBUF_C_TYPE_STRING) *(char **)val = copy;
        else *(ProtobufCBinaryData *)val = (ProtobufCBinaryData){len, (uint8_t *)copy};
        return 0;
    }
    case PROTOBUF_C_TYPE_ENUM:
        return set_enum(f, s, len, val, err, label);
    case PROTOBUF_C_TYPE_BOOL:
        if (parse_bool_literal(s, len, val))
            return cliff_error_set(err, "invalid value '%s' for %s (expected true or false)", q,
                                   label);
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v;
        int rc = parse_float_literal(s, len, f->type == PROTOBUF_C_TYPE_FLOAT, &v);
        if (rc == -1)
            return cliff_error_set(err, "invalid value '%s' for %s (expected a number)", q, label);
        if (rc == -2) return cliff_error_set(err, "value %s is out of range for %s", q, label);
        if (f->type == PROTOBUF_C_TYPE_FLOAT) *(float *)val = (float)v;
        else *(double *)val = v;
        return 0;
    }
    default: {
        uint64_t mag;
        int neg;
        int rc = parse_int_literal(s, len, &mag, &neg);
        if (rc == -1)
            return cliff_error_set(err, "invalid value '%s' for %s (expected an integer)", q,
                                   label);
        int is64 = cliff_walk_elem_size(f) == 8;
        int is_signed = f->type == PROTOBUF_C_TYPE_INT32 || f->type == PROTOBUF_C_TYPE_SINT32 ||
                        f->type == PROTOBUF_C_TYPE_SFIXED32 || f->type == PROTOBUF_C_TYPE_INT64 ||
                        f->type == PROTOBUF_C_TYPE_SINT64 || f->type == PROTOBUF_C_TYPE_SFIXED64;
        uint64_t max = is_signed ? (is64 ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX)
                                 : (is64 ? UINT64_MAX : (uint64_t)UINT32_MAX);
        if (neg) max = is_signed ? max + 1 : 0;
        if (rc == -2 || mag > max)
            return cliff_error_set(err, "value %s is out of range for %s", q, label);
        if (is_signed && is64) *(int64_t *)val = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        else if (is_signed) *(int32_t *)val = neg ? (int32_t)(0 - mag) : (int32_t)mag;
        else if (is64) *(uint64_t *)val = mag;
        else *(uint32_t *)val = (uint32_t)mag;
        return 0;
    }
    }
}

int cliff_walk_set_scalar(CliffWalk *w, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                          const char *s, size_t len, int flags, CliffError *err)
{
    union {
        int32_t i32;
        int64_t i64;
        float f;
        double d;
        char *str;
        ProtobufCBinaryData b;
    } val;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        char label[256];
        return cliff_error_set(err, "%s is a message; expected '{', found '%.*s'",
                               field_label(m, f, label, sizeof label),
                               (int)(len > 64 ? 64 : len), s);
    }
    if (parse_scalar(m, f, s, len, flags, &val, err)) return -1;
    size_t es = cliff_walk_elem_size(f);
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        void *slot = cliff_walk_append_slot(w, m, f, err);
        if (!slot) {
            if (f->type == PROTOBUF_C_TYPE_STRING) free(val.str);
            if (f->type == PROTOBUF_C_TYPE_BYTES) free(val.b.data);
            return -1;
        }
        memcpy(slot, &val, es);
        MEMBER(size_t, m, f->quantifier_offset)++;
        return 0;
    }
    cliff_walk_claim_oneof(m, f);
    if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
        MEMBER(uint32_t, m, f->quantifier_offset) == f->id)
        cliff_walk_free_singular(m, f);
    memcpy((char *)m + f->offset, &val, es);
    cliff_walk_mark_present(m, f);
    return 0;
}

