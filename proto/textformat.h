/* Protobuf text format ("prototxt") for any message of the schema, driven only
 * by protobuf-c descriptors: a reader with compiler-style errors and a writer
 * whose output reads back to an equal message.
 *
 * Messages are allocated with protobuf-c's default allocator, so
 * protobuf_c_message_free_unpacked(msg, NULL) frees them. */
#ifndef CLIFF_TEXTFORMAT_H
#define CLIFF_TEXTFORMAT_H

#include <stdio.h>
#include <protobuf-c/protobuf-c.h>

#include "error.h"

/* Parses src[0..len) named path (used in error positions) into a new message
 * of type desc. map (may be NULL) receives the position of every message parsed
 * (the field name that opened it, e.g. the `l` of `layer {`; the top message
 * at 1:1) and of scalar fields (cliff_srcmap_find_field); on failure nothing
 * is added to it. Returns NULL and fills err ("path:line:col: error: ...",
 * naming the message type and field, with did-you-mean for misspelled field
 * and enum names) on failure. Strict: unknown fields and enum values, a
 * singular field given twice, out-of-range or wrongly typed values, missing
 * required fields, unterminated strings and blocks, input that is not UTF-8
 * or holds NUL bytes, nesting deeper than CLIFF_CONFIG_MAX_DEPTH (64) and
 * input over CLIFF_CONFIG_MAX_BYTES (64 MiB) are all errors. The syntax is
 * described at the top of textformat.c. */
ProtobufCMessage *cliff_text_parse(const ProtobufCMessageDescriptor *desc, const char *path,
                                   const char *src, size_t len, CliffSrcMap *map,
                                   CliffError *err);

/* Parses into an existing message: singular scalar fields given in src must
 * not be set already unless allow_override (then they are replaced); message
 * fields merge into the existing sub-message; repeated fields append. On
 * failure msg may be partly changed but stays valid (freeable). */
int cliff_text_merge(ProtobufCMessage *msg, const char *path, const char *src, size_t len,
                     int allow_override, CliffSrcMap *map, CliffError *err);

/* Like cliff_text_merge with allow_override = 0, but src must hold exactly
 * one field (`name: value`, `name { ... }`, `name: [...]`) and nothing after
 * it: the value of a --set override. */
int cliff_text_merge_one(ProtobufCMessage *msg, const char *path, const char *src, size_t len,
                         CliffError *err);

/* Writes msg as text format (two-space indents, one field per line): the
 * present fields (has_ flags, non-NULL messages, strings other than the
 * default pointer, repeated elements) in field-number order; enums by name;
 * strings double-quoted with C escapes; floats/doubles in the shortest %g form
 * (at most %.9g / %.17g) that reads back to the same bits, inf/-inf/nan as
 * words. cliff_text_parse of the output gives a message whose packed bytes
 * equal msg's. Returns 0, or -1 on OOM or a write error. */
int cliff_text_write(FILE *out, const ProtobufCMessage *msg);
/* The same into a malloc'd NUL-terminated string (NULL on OOM). */
char *cliff_text_print(const ProtobufCMessage *msg);

/* Position of a field's value recorded by the readers (the field name's line
 * and column): the sub-message for message fields, the member for singular
 * scalars, element index of repeated ones (scalar elements: the first 1024 of
 * each field per message). Returns 0 and fills *pos, or -1 when unknown. */
int cliff_srcmap_find_field(const CliffSrcMap *map, const ProtobufCMessage *msg,
                            const char *field, size_t index, CliffSrcPos *pos);

#endif
