/* Descriptor walking shared by the text-format and YAML readers (and the
 * --set overrides of config.c): everything that turns "a field name and a
 * scalar string" into a change of a protobuf-c message lives here, so both
 * syntaxes accept exactly the same values and report the same errors.
 *
 * Messages are allocated with malloc and initialised through their
 * descriptor's init function, so protobuf_c_message_free_unpacked(msg, NULL)
 * frees them. Error texts filled here carry no position: the reader that
 * knows where the value came from prefixes "path:line:col: error: ". */
#ifndef CLIFF_DESC_WALK_H
#define CLIFF_DESC_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "error.h"

/* Bounds applied by every reader: nesting of messages/lists and input size. */
#define CLIFF_CONFIG_MAX_DEPTH 64
#define CLIFF_CONFIG_MAX_BYTES ((size_t)64 << 20)

/* Per-parse state. Repeated arrays grow geometrically; protobuf-c stores only
 * the element count, so the walker remembers each array's capacity while a
 * parse runs (keyed by the address of the count, validated by the array
 * pointer, so arrays created elsewhere are treated as exactly full). */
typedef struct CliffWalk {
    struct CliffWalkCap {
        const void *key; /* &n_field of the message */
        const void *arr; /* array the capacity belongs to */
        size_t cap;
    } *caps;
    size_t ncaps, slots; /* used entries, table size (power of two or 0) */
    /* Positions of repeated scalar elements, recorded when their message's
     * body ends (element addresses are final only then): a stack where each
     * open body owns the entries from its base on. */
    struct CliffWalkPending {
        const ProtobufCFieldDescriptor *f;
        size_t index;
        int line, col;
    } *pend;
    size_t npend, cappend, pend_base;
} CliffWalk;

void cliff_walk_init(CliffWalk *w);
void cliff_walk_free(CliffWalk *w);

/* Position bookkeeping of the readers (all no-ops when map is NULL).
 * cliff_walk_body_begin/end bracket the parse of one message body; between
 * them cliff_walk_note_pos records where field f of m was just set (the last
 * element for repeated fields; at most 1024 per body). body_end records the
 * pending elements into map when ok, and pops them either way. Return -1 only
 * on OOM (err filled, prefixed with path). */
size_t cliff_walk_body_begin(CliffWalk *w);
int cliff_walk_note_pos(CliffWalk *w, CliffSrcMap *map, const char *path,
                        const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int line,
                        int col, CliffError *err);
int cliff_walk_body_end(CliffWalk *w, CliffSrcMap *map, const char *path,
                        const ProtobufCMessage *m, size_t saved, int ok, CliffError *err);

/* Flags of cliff_walk_set_scalar. */
enum {
    CLIFF_SCALAR_QUOTED = 1,    /* the value was a quoted (already unescaped) string */
    CLIFF_SCALAR_BARE_STR = 2,  /* an unquoted value is accepted for string/bytes (YAML) */
    CLIFF_SCALAR_QUOTED_ENUM = 4 /* a quoted value is accepted for enums (YAML) */
};

/* A new message of type d with every field at its default; NULL on OOM. */
ProtobufCMessage *cliff_msg_new(const ProtobufCMessageDescriptor *d);

/* Field of d named name[0..len), or NULL. */
const ProtobufCFieldDescriptor *cliff_field_by_name(const ProtobufCMessageDescriptor *d,
                                                    const char *name, size_t len);

/* Fills err with "<Type> has no field 'name' (did you mean 'x'?)"; returns -1. */
int cliff_err_unknown_field(CliffError *err, const ProtobufCMessageDescriptor *d,
                            const char *name, size_t len);

/* Human name of a field's type: "int32", "string", "enum Engine",
 * "message LayerParameter". */
const char *cliff_field_type_name(const ProtobufCFieldDescriptor *f, char *buf, size_t n);

/* Is the field present in the sense of the writer and of pack: has_ flag for
 * optional scalars and bytes, non-NULL (and not the default pointer) for strings
 * and messages, n > 0 for repeated, case == id for oneof members; required
 * fields always count as present. */
int cliff_field_is_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* Frees the field's contents and returns it to its default / empty state. */
void cliff_field_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* Moves field f (same descriptor on both sides) from src into dst: dst's
 * old value is freed, src's field is left at its default / empty without
 * freeing what moved. */
void cliff_field_move(ProtobufCMessage *dst, ProtobufCMessage *src,
                      const ProtobufCFieldDescriptor *f);

/* Moves the elements of repeated field f of src to the end of dst's (as a
 * second occurrence of the field in a file would); src's field is left empty.
 * -1 on OOM, with both messages unchanged. */
int cliff_field_append(ProtobufCMessage *dst, ProtobufCMessage *src,
                       const ProtobufCFieldDescriptor *f);

/* Replaces element i of repeated field f of dst by the only element of the
 * same field of src (which is left empty); the old element is freed. */
void cliff_field_replace_elem(ProtobufCMessage *dst, ProtobufCMessage *src,
                              const ProtobufCFieldDescriptor *f, size_t i);

/* Number of elements of a repeated field (0/1 for singular: cliff_field_is_set). */
size_t cliff_field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* The one "set field from scalar string" function of both readers: parses
 * s[0..len) according to f's type (integers in decimal/hex/octal with range
 * checks, floats in every form, bools, enums by name or number, strings and
 * bytes) and stores it in m: replaces a singular field, appends to a repeated
 * one. m is unchanged on failure. Returns 0, or -1 with err filled (no position). */
int cliff_walk_set_scalar(CliffWalk *w, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                          const char *s, size_t len, int flags, CliffError *err);

/* A message field's target: the existing singular sub-message (created when
 * NULL), or a new element appended to a repeated field. NULL on OOM (err filled). */
ProtobufCMessage *cliff_walk_sub(CliffWalk *w, ProtobufCMessage *m,
                                 const ProtobufCFieldDescriptor *f, CliffError *err);

/* First required field of m (not recursive) never marked in seen[] (one byte
 * per field of m's descriptor), or NULL. */
const ProtobufCFieldDescriptor *cliff_missing_required(const ProtobufCMessage *m,
                                                       const unsigned char *seen);

/* Checks that src[0..len) is valid UTF-8 without NUL bytes. Returns 0, or -1
 * with *bad_off = offset of the first offending byte and err = the reason. */
int cliff_utf8_check(const char *src, size_t len, size_t *bad_off, CliffError *err);

/* 1-based line and column (in characters) of byte offset off of src. */
void cliff_src_linecol(const char *src, size_t off, int *line, int *col);

/* Source-map key of a field value: for message fields the sub-message itself
 * (element index of a repeated one); for scalars the address of the member
 * (singular) or of the element (repeated). Unique among live objects, so it
 * shares the CliffSrcMap with message keys. NULL when absent / out of range. */
const void *cliff_field_key(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                            size_t index);

/* Are the packed encodings of a and b identical? (-1 on OOM) */
int cliff_msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

#endif
