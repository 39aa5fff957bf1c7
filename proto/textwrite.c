/* Protobuf text-format writer driven only by protobuf-c descriptors.
 *
 * Prints the fields that are present (cliff_field_is_set) in descriptor
 * (field number) order, two-space indents, one field per line, messages as
 * `name {`...`}`. Floats use the shortest "%.{1..9}g" (doubles "%.{1..17}g")
 * that reads back to the same bits, so reading the output gives a message
 * whose packed bytes equal the original's. Strings are double-quoted with C
 * escapes; bytes that are not printable ASCII become three-digit octal
 * escapes (raw UTF-8 is kept in strings that are valid UTF-8). */
#include "textformat.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "desc_walk.h"

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} Buf;

static void put(Buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *g = realloc(b->p, cap);
        if (!g) {
            b->oom = 1;
            return;
        }
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void puts_(Buf *b, const char *s) { put(b, s, strlen(s)); }

static void indent(Buf *b, int depth)
{
    for (int i = 0; i < depth; i++) put(b, "  ", 2);
}

/* Shortest %g form of v that strtod/strtof maps back to v exactly. */
static void put_real(Buf *b, double v, int is_float)
{
    char s[64];
    if (isnan(v)) snprintf(s, sizeof s, signbit(v) ? "-nan" : "nan");
    else if (isinf(v)) snprintf(s, sizeof s, v < 0 ? "-inf" : "inf");
    else {
        int maxp = is_float ? 9 : 17;
        for (int p = 1; p <= maxp; p++) {
            snprintf(s, sizeof s, "%.*g", p, v);
            if (is_float ? strtof(s, NULL) == (float)v : strtod(s, NULL) == v) break;
        }
    }
    puts_(b, s);
}

static int utf8_ok(const uint8_t *s, size_t n)
{
    size_t bad;
    return cliff_utf8_check((const char *)s, n, &bad, NULL) == 0;
}

static void put_quoted(Buf *b, const uint8_t *s, size_t n, int keep_utf8)
{
    put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        char e[8];
        switch (c) {
        case '\n': put(b, "\\n", 2); break;
        case '\t': put(b, "\\t", 2); break;
        case '\r': put(b, "\\r", 2); break;
        case '"': put(b, "\\\"", 2); break;
        case '\\': put(b, "\\\\", 2); break;
        default:
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && !keep_utf8)) {
                snprintf(e, sizeof e, "\\%03o", c);
                put(b, e, 4);
            } else {
                put(b, (const char *)&c, 1);
            }
        }
    }
    put(b, "\"", 1);
}

static void write_msg(Buf *b, const ProtobufCMessage *m, int depth);

/* One value of field f stored at p (a member or an array element). */
static void write_value(Buf *b, const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    char s[48];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(s, sizeof s, "%" PRId32, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        snprintf(s, sizeof s, "%" PRIu32, *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(s, sizeof s, "%" PRId64, *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        snprintf(s, sizeof s, "%" PRIu64, *(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT: put_real(b, *(const float *)p, 1); return;
    case PROTOBUF_C_TYPE_DOUBLE: put_real(b, *(const double *)p, 0); return;
    case PROTOBUF_C_TYPE_BOOL:
        snprintf(s, sizeof s, "%s", *(const protobuf_c_boolean *)p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int32_t v = *(const int32_t *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        if (ev) {
            puts_(b, ev->name);
            return;
        }
        snprintf(s, sizeof s, "%" PRId32, v);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *str = *(const char *const *)p;
        size_t n = str ? strlen(str) : 0;
        put_quoted(b, (const uint8_t *)(str ? str : ""), n, utf8_ok((const uint8_t *)str, n));
        return;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        put_quoted(b, bd->data, bd->len, 0);
        return;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        put(b, "{\n", 2);
        write_msg(b, *(const ProtobufCMessage *const *)p, depth + 1);
        indent(b, depth);
        put(b, "}", 1);
        return;
    }
    puts_(b, s);
}

static void write_field(Buf *b, const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    indent(b, depth);
    puts_(b, f->name);
    put(b, f->type == PROTOBUF_C_TYPE_MESSAGE ? " " : ": ", f->type == PROTOBUF_C_TYPE_MESSAGE ? 1 : 2);
    write_value(b, f, p, depth);
    put(b, "\n", 1);
}

static void write_msg(Buf *b, const ProtobufCMessage *m, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *member = (const char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            const char *arr = *(const char *const *)member;
            size_t es = f->type == PROTOBUF_C_TYPE_MESSAGE ? sizeof(void *)
                        : f->type == PROTOBUF_C_TYPE_STRING ? sizeof(char *)
                        : f->type == PROTOBUF_C_TYPE_BYTES ? sizeof(ProtobufCBinaryData)
                        : f->type == PROTOBUF_C_TYPE_DOUBLE ? sizeof(double)
                        : f->type == PROTOBUF_C_TYPE_BOOL ? sizeof(protobuf_c_boolean)
                        : (f->type == PROTOBUF_C_TYPE_INT64 || f->type == PROTOBUF_C_TYPE_SINT64 ||
                           f->type == PROTOBUF_C_TYPE_SFIXED64 || f->type == PROTOBUF_C_TYPE_UINT64 ||
                           f->type == PROTOBUF_C_TYPE_FIXED64) ? 8 : 4;
            for (size_t k = 0; arr && k < n; k++) write_field(b, f, arr + k * es, depth);
            continue;
        }
        if (!cliff_field_is_set(m, f)) continue;
        if ((f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) &&
            !*(const void *const *)member)
            continue; /* required but absent */
        write_field(b, f, member, depth);
    }
}

char *cliff_text_print(const ProtobufCMessage *msg)
{
    Buf b = {0};
    put(&b, "", 0);
    write_msg(&b, msg, 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

int cliff_text_write(FILE *out, const ProtobufCMessage *msg)
{
    char *s = cliff_text_print(msg);
    if (!s) return -1;
    size_t n = strlen(s);
    int rc = fwrite(s, 1, n, out) == n ? 0 : -1;
    free(s);
    return rc;
}
