/* YAML as a second config syntax, producing the same messages as the
 * text-format reader from the same structure:
 *   mapping            -> message (keys are field names)
 *   sequence           -> repeated field (of scalars, or of mappings for messages)
 *   a key given again  -> appends to a repeated field (an error for singular ones)
 *   scalar             -> value, by the shared rules of desc_walk.c; plain
 *                         scalars are accepted for strings, quoted ones for
 *                         enums, and YAML's .inf/-.inf/.nan for floats
 *   empty / null value -> an empty message for message fields
 * Aliases are rejected (no expansion bombs); anchors and tags are ignored; a
 * second document is an error. Same bounds as the text reader (nesting depth,
 * input size, UTF-8 without NUL). Errors: "path:line:col: error: ...", with
 * positions from libyaml's marks. */
#ifndef CLIFF_YAML_READER_H
#define CLIFF_YAML_READER_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "error.h"

/* Parses src[0..len) named path into a new message of type desc; map (may be
 * NULL) receives the position of every message (the key that opened it, or
 * the sequence item) and of scalar fields, as the text reader records them.
 * Returns NULL with err filled on failure. Free with
 * protobuf_c_message_free_unpacked(msg, NULL). */
ProtobufCMessage *cliff_yaml_parse(const ProtobufCMessageDescriptor *desc, const char *path,
                                   const char *src, size_t len, CliffSrcMap *map,
                                   CliffError *err);

#endif
