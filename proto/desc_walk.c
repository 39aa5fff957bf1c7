/* Descriptor walking shared by both config readers: field lookup with
 * did-you-mean, presence, clearing, moving, repeated growth, positions and
 * input checks. The scalar rules are in desc_scalar.c. */
#include "desc_walk.h"
#include "desc_walk_internal.h"
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- repeated-array capacities ---------------------------------------- */

void cliff_walk_init(CliffWalk *w) { memset(w, 0, sizeof *w); }

void cliff_walk_free(CliffWalk *w)
{
    free(w->caps);
    free(w->pend);
    memset(w, 0, sizeof *w);
}

static size_t cap_slot(const CliffWalk *w, const void *key)
{
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 17;
    h *= (uintptr_t)0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 7) & (w->slots - 1);
    while (w->caps[i].key && w->caps[i].key != key) i = (i + 1) & (w->slots - 1);
    return i;
}

static int cap_put(CliffWalk *w, const void *key, const void *arr, size_t cap)
{
    if (2 * (w->ncaps + 1) > w->slots) {
        size_t slots = w->slots ? 2 * w->slots : 64;
        struct CliffWalkCap *old = w->caps;
        size_t oldslots = w->slots;
        w->caps = calloc(slots, sizeof *w->caps);
        if (!w->caps) {
            w->caps = old;
            return -1;
        }
        w->slots = slots;
        for (size_t i = 0; i < oldslots; i++)
            if (old[i].key) w->caps[cap_slot(w, old[i].key)] = old[i];
        free(old);
    }
    size_t i = cap_slot(w, key);
    if (!w->caps[i].key) w->ncaps++;
    w->caps[i] = (struct CliffWalkCap){key, arr, cap};
    return 0;
}

size_t cliff_walk_elem_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* Makes room for one more element of repeated field f and returns its
 * (uninitialised) storage; the caller fills it and then increments n. */
void *cliff_walk_append_slot(CliffWalk *w, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                         CliffError *err)
{
    size_t *n = &MEMBER(size_t, m, f->quantifier_offset);
    void **arr = &MEMBER(void *, m, f->offset);
    size_t es = cliff_walk_elem_size(f), cap = *n;
    if (w->slots && *arr) {
        struct CliffWalkCap *c = &w->caps[cap_slot(w, n)];
        if (c->key == n && c->arr == *arr && c->cap >= *n) cap = c->cap;
    }
    if (*n == cap) {
        size_t ncap = cap < 4 ? 4 : 2 * cap;
        if (ncap > SIZE_MAX / es) {
            cliff_error_set(err, "out of memory");
            return NULL;
        }
        void *grown = realloc(*arr, ncap * es);
        if (!grown) {
            cliff_error_set(err, "out of memory");
            return NULL;
        }
        *arr = grown;
        cap = ncap;
        if (cap_put(w, n, grown, cap)) {
            cliff_error_set(err, "out of memory");
            return NULL;
        }
    }
    return (char *)*arr + *n * es;
}

/* ---- messages and fields ---------------------------------------------- */

ProtobufCMessage *cliff_msg_new(const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = malloc(d->sizeof_message);
    if (m) protobuf_c_message_init(d, m);
    return m;
}

const ProtobufCFieldDescriptor *cliff_field_by_name(const ProtobufCMessageDescriptor *d,
                                                    const char *name, size_t len)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (strlen(d->fields[i].name) == len && memcmp(d->fields[i].name, name, len) == 0)
            return &d->fields[i];
    return NULL;
}

/* Prints name[0..len) into buf for an error message, shortened when long. */
const char *cliff_walk_quote(const char *name, size_t len, char *buf, size_t n)
{
    size_t max = n - 4;
    if (len <= max) snprintf(buf, n, "%.*s", (int)len, name);
    else snprintf(buf, n, "%.*s...", (int)max, name);
    for (char *c = buf; *c; c++) /* errors stay on one line */
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    return buf;
}

int cliff_err_unknown_field(CliffError *err, const ProtobufCMessageDescriptor *d,
                            const char *name, size_t len)
{
    const char *names[d->n_fields ? d->n_fields : 1];
    for (unsigned i = 0; i < d->n_fields; i++) names[i] = d->fields[i].name;
    const char *s = cliff_did_you_mean(name, len, names, d->n_fields);
    char q[128];
    cliff_walk_quote(name, len, q, sizeof q);
    if (s)
        return cliff_error_set(err, "%s has no field '%s' (did you mean '%s'?)", d->short_name,
                               q, s);
    return cliff_error_set(err, "%s has no field '%s'", d->short_name, q);
}

const char *cliff_field_type_name(const ProtobufCFieldDescriptor *f, char *buf, size_t n)
{
    static const char *const names[] = {
        [PROTOBUF_C_TYPE_INT32] = "int32",     [PROTOBUF_C_TYPE_SINT32] = "sint32",
        [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
        [PROTOBUF_C_TYPE_SINT64] = "sint64",   [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
        [PROTOBUF_C_TYPE_UINT32] = "uint32",   [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
        [PROTOBUF_C_TYPE_UINT64] = "uint64",   [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
        [PROTOBUF_C_TYPE_FLOAT] = "float",     [PROTOBUF_C_TYPE_DOUBLE] = "double",
        [PROTOBUF_C_TYPE_BOOL] = "bool",       [PROTOBUF_C_TYPE_STRING] = "string",
        [PROTOBUF_C_TYPE_BYTES] = "bytes",
    };
    if (f->type == PROTOBUF_C_TYPE_ENUM)
        snprintf(buf, n, "enum %s", ((const ProtobufCEnumDescriptor *)f->descriptor)->short_name);
    else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        snprintf(buf, n, "message %s",
                 ((const ProtobufCMessageDescriptor *)f->descriptor)->short_name);
    else
        snprintf(buf, n, "%s", names[f->type]);
    return buf;
}

int cliff_field_is_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return CMEMBER(size_t, m, f->quantifier_offset) > 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return CMEMBER(uint32_t, m, f->quantifier_offset) == f->id;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const void *p = CMEMBER(void *, m, f->offset);
        return p != NULL && p != f->default_value;
    }
    if (f->label == PROTOBUF_C_LABEL_REQUIRED) return 1;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
        return CMEMBER(protobuf_c_boolean, m, f->quantifier_offset) != 0;
    return 1; /* proto3 without presence */
}

size_t cliff_field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED) return CMEMBER(size_t, m, f->quantifier_offset);
    return (size_t)cliff_field_is_set(m, f);
}

/* Copies the default value of singular field f into m's member (no freeing). */
static void reset_default(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    void *p = (char *)m + f->offset;
    size_t es = cliff_walk_elem_size(f);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        *(const char **)p = f->default_value;
        return;
    case PROTOBUF_C_TYPE_MESSAGE:
        *(void **)p = NULL;
        return;
    case PROTOBUF_C_TYPE_BYTES:
        if (f->default_value) memcpy(p, f->default_value, es);
        else memset(p, 0, es);
        return;
    default:
        if (f->default_value) memcpy(p, f->default_value, es);
        else memset(p, 0, es);
    }
}

/* Frees what a singular member owns (not the default pointers). */
void cliff_walk_free_singular(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    void *p = (char *)m + f->offset;
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        char *s = *(char **)p;
        if (s && s != f->default_value) free(s);
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
        ProtobufCBinaryData *b = p;
        const ProtobufCBinaryData *d = f->default_value;
        if (b->data && (!d || d->data != b->data)) free(b->data);
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        ProtobufCMessage *s = *(ProtobufCMessage **)p;
        if (s && (const void *)s != f->default_value) protobuf_c_message_free_unpacked(s, NULL);
    }
}

void cliff_field_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t *n = &MEMBER(size_t, m, f->quantifier_offset);
        void *arr = MEMBER(void *, m, f->offset);
        for (size_t i = 0; arr && i < *n; i++) {
            if (f->type == PROTOBUF_C_TYPE_STRING) free(((char **)arr)[i]);
            else if (f->type == PROTOBUF_C_TYPE_BYTES) free(((ProtobufCBinaryData *)arr)[i].data);
            else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
                protobuf_c_message_free_unpacked(((ProtobufCMessage **)arr)[i], NULL);
        }
        free(arr);
        MEMBER(void *, m, f->offset) = NULL;
        *n = 0;
        return;
    }
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (MEMBER(uint32_t, m, f->quantifier_offset) != f->id) return;
        cliff_walk_free_singular(m, f);
        reset_default(m, f);
        MEMBER(uint32_t, m, f->quantifier_offset) = 0;
        return;
    }
    cliff_walk_free_singular(m, f);
    reset_default(m, f);
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
        f->type != PROTOBUF_C_TYPE_MESSAGE)
        MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 0;
}

void cliff_field_move(ProtobufCMessage *dst, ProtobufCMessage *src,
                      const ProtobufCFieldDescriptor *f)
{
    cliff_field_clear(dst, f);
    cliff_walk_claim_oneof(dst, f);
    memcpy((char *)dst + f->offset, (char *)src + f->offset,
           f->label == PROTOBUF_C_LABEL_REPEATED ? sizeof(void *) : cliff_walk_elem_size(f));
    if (f->label == PROTOBUF_C_LABEL_REPEATED || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
        size_t qs = f->label == PROTOBUF_C_LABEL_REPEATED ? sizeof(size_t) : sizeof(uint32_t);
        memcpy((char *)dst + f->quantifier_offset, (char *)src + f->quantifier_offset, qs);
    } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
               f->type != PROTOBUF_C_TYPE_MESSAGE) {
        MEMBER(protobuf_c_boolean, dst, f->quantifier_offset) =
            MEMBER(protobuf_c_boolean, src, f->quantifier_offset);
    }
    /* src forgets the moved storage */
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        MEMBER(void *, src, f->offset) = NULL;
        MEMBER(size_t, src, f->quantifier_offset) = 0;
        return;
    }
    reset_default(src, f);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) MEMBER(uint32_t, src, f->quantifier_offset) = 0;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
             f->type != PROTOBUF_C_TYPE_MESSAGE)
        MEMBER(protobuf_c_boolean, src, f->quantifier_offset) = 0;
}

int cliff_field_append(ProtobufCMessage *dst, ProtobufCMessage *src,
                       const ProtobufCFieldDescriptor *f)
{
    size_t nd = MEMBER(size_t, dst, f->quantifier_offset);
    size_t ns = MEMBER(size_t, src, f->quantifier_offset), es = cliff_walk_elem_size(f);
    if (ns == 0) return 0;
    char *grown = realloc(MEMBER(void *, dst, f->offset), (nd + ns) * es);
    if (!grown) return -1;
    memcpy(grown + nd * es, MEMBER(void *, src, f->offset), ns * es);
    MEMBER(void *, dst, f->offset) = grown;
    MEMBER(size_t, dst, f->quantifier_offset) = nd + ns;
    /* src forgets the moved elements (their strings and messages now belong to dst) */
    free(MEMBER(void *, src, f->offset));
    MEMBER(void *, src, f->offset) = NULL;
    MEMBER(size_t, src, f->quantifier_offset) = 0;
    return 0;
}

void cliff_field_replace_elem(ProtobufCMessage *dst, ProtobufCMessage *src,
                              const ProtobufCFieldDescriptor *f, size_t i)
{
    size_t es = cliff_walk_elem_size(f);
    char *d = MEMBER(char *, dst, f->offset) + i * es;
    void *sarr = MEMBER(void *, src, f->offset);
    if (f->type == PROTOBUF_C_TYPE_STRING) free(*(char **)d);
    else if (f->type == PROTOBUF_C_TYPE_BYTES) free(((ProtobufCBinaryData *)d)->data);
    else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        protobuf_c_message_free_unpacked(*(ProtobufCMessage **)d, NULL);
    memcpy(d, sarr, es);
    free(sarr);
    MEMBER(void *, src, f->offset) = NULL;
    MEMBER(size_t, src, f->quantifier_offset) = 0;
}

/* Before a singular field is stored: clears a sibling of the same oneof. */
void cliff_walk_claim_oneof(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) return;
    uint32_t cur = MEMBER(uint32_t, m, f->quantifier_offset);
    if (cur == f->id || cur == 0) return;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].id == cur && d->fields[i].quantifier_offset == f->quantifier_offset) {
            cliff_field_clear(m, &d->fields[i]);
            break;
        }
}

/* Marks singular field f present after its member was written. */
void cliff_walk_mark_present(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        MEMBER(uint32_t, m, f->quantifier_offset) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
             f->type != PROTOBUF_C_TYPE_MESSAGE)
        MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
}

ProtobufCMessage *cliff_walk_sub(CliffWalk *w, ProtobufCMessage *m,
                                 const ProtobufCFieldDescriptor *f, CliffError *err)
{
    const ProtobufCMessageDescriptor *sd = f->descriptor;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        ProtobufCMessage **slot = cliff_walk_append_slot(w, m, f, err);
        if (!slot) return NULL;
        ProtobufCMessage *s = cliff_msg_new(sd);
        if (!s) {
            cliff_error_set(err, "out of memory");
            return NULL;
        }
        *slot = s;
        MEMBER(size_t, m, f->quantifier_offset)++;
        return s;
    }
    ProtobufCMessage **p = &MEMBER(ProtobufCMessage *, m, f->offset);
    if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
        MEMBER(uint32_t, m, f->quantifier_offset) != f->id) {
        cliff_walk_claim_oneof(m, f);
        *p = NULL;
    }
    if (!*p) {
        *p = cliff_msg_new(sd);
        if (!*p) {
            cliff_error_set(err, "out of memory");
            return NULL;
        }
        cliff_walk_mark_present(m, f);
    }
    return *p;
}

const ProtobufCFieldDescriptor *cliff_missing_required(const ProtobufCMessage *m,
                                                       const unsigned char *seen)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->label != PROTOBUF_C_LABEL_REQUIRED || seen[i]) continue;
        /* strings and messages carry their own presence */
        if ((f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) &&
            CMEMBER(void *, m, f->offset) != NULL)
            continue;
        return f;
    }
    return NULL;
}

/* ---- positions ------------------------------------------------------- */

size_t cliff_walk_body_begin(CliffWalk *w)
{
    size_t saved = w->pend_base;
    w->pend_base = w->npend;
    return saved;
}

int cliff_walk_note_pos(CliffWalk *w, CliffSrcMap *map, const char *path,
                        const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int line,
                        int col, CliffError *err)
{
    if (!map) return 0;
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type == PROTOBUF_C_TYPE_MESSAGE) {
        size_t n = cliff_field_count(m, f);
        const void *key = cliff_field_key(m, f, n ? n - 1 : 0);
        if (key && cliff_srcmap_add(map, key, path, line, col))
            return cliff_error_set(err, "%s: error: out of memory", path);
        return 0;
    }
    if (w->npend - w->pend_base >= 1024) return 0; /* bound the map's growth */
    if (w->npend == w->cappend) {
        size_t cap = w->cappend ? 2 * w->cappend : 64;
        struct CliffWalkPending *g = realloc(w->pend, cap * sizeof *g);
        if (!g) return cliff_error_set(err, "%s: error: out of memory", path);
        w->pend = g;
        w->cappend = cap;
    }
    w->pend[w->npend++] = (struct CliffWalkPending){f, cliff_field_count(m, f) - 1, line, col};
    return 0;
}

int cliff_walk_body_end(CliffWalk *w, CliffSrcMap *map, const char *path,
                        const ProtobufCMessage *m, size_t saved, int ok, CliffError *err)
{
    int rc = 0;
    for (size_t i = w->pend_base; ok && map && i < w->npend && !rc; i++) {
        const void *key = cliff_field_key(m, w->pend[i].f, w->pend[i].index);
        if (key && cliff_srcmap_add(map, key, path, w->pend[i].line, w->pend[i].col))
            rc = cliff_error_set(err, "%s: error: out of memory", path);
    }
    w->npend = w->pend_base;
    w->pend_base = saved;
    return rc;
}

/* ---- input checks and positions --------------------------------------- */

int cliff_utf8_check(const char *src, size_t len, size_t *bad_off, CliffError *err)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c == 0) {
            *bad_off = i;
            return cliff_error_set(err, "NUL byte in input");
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07, min = 0x10000;
        else goto bad;
        if (len - i <= n) goto bad; /* truncated sequence */
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += n + 1;
        continue;
    bad:
        *bad_off = i;
        return cliff_error_set(err, "invalid UTF-8 (byte 0x%02x)", c);
    }
    return 0;
}

void cliff_src_linecol(const char *src, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == '\n') l++, c = 1;
        else if ((ch & 0xC0) != 0x80) c++;
    }
    *line = l;
    *col = c;
}

const void *cliff_field_key(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                            size_t index)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        if (index >= CMEMBER(size_t, m, f->quantifier_offset)) return NULL;
        const char *arr = CMEMBER(char *, m, f->offset);
        if (f->type == PROTOBUF_C_TYPE_MESSAGE) return ((ProtobufCMessage *const *)arr)[index];
        return arr + index * cliff_walk_elem_size(f);
    }
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) return CMEMBER(void *, m, f->offset);
    return (const char *)m + f->offset;
}

int cliff_msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    if (a->descriptor != b->descriptor) return 0;
    size_t na = protobuf_c_message_get_packed_size(a), nb = protobuf_c_message_get_packed_size(b);
    if (na != nb) return 0;
    uint8_t *pa = malloc(na ? na : 1), *pb = malloc(nb ? nb : 1);
    int eq = -1;
    if (pa && pb) {
        protobuf_c_message_pack(a, pa);
        protobuf_c_message_pack(b, pb);
        eq = memcmp(pa, pb, na) == 0;
    }
    free(pa);
    free(pb);
    return eq;
}
