/* Config files: choose the syntax, read a file, apply --set overrides, and
 * load a solver with its nets resolved and inlined as Caffe does.
 *
 * Every function returns 0 / a message on success, or -1 / NULL with err
 * filled ("path:line:col: error: ..." or "path: error: ...") and nothing
 * allocated. Messages use protobuf-c's default allocator:
 * protobuf_c_message_free_unpacked(msg, NULL) frees them. */
#ifndef CLIFF_CONFIG_H
#define CLIFF_CONFIG_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "cliff.pb-c.h"
#include "error.h"

typedef enum { CLIFF_FORMAT_TEXT, CLIFF_FORMAT_YAML } CliffFormat;

/* The syntax of path: format "text" or "yaml" when given (NULL = decide),
 * else by extension: .yaml/.yml -> YAML, anything else (.prototxt, .pt, .txt,
 * .solverprototxt, ...) -> text, as Caffe reads any file as text.
 * Returns -1 (err filled) only for an unknown format string. */
int cliff_config_format(const char *path, const char *format, CliffFormat *out, CliffError *err);

/* Parses src[0..len) named path in syntax fmt into a new message of type desc. */
ProtobufCMessage *cliff_config_parse(const ProtobufCMessageDescriptor *desc, CliffFormat fmt,
                                     const char *path, const char *src, size_t len,
                                     CliffSrcMap *map, CliffError *err);

/* Reads the whole file (at most CLIFF_CONFIG_MAX_BYTES) into a malloc'd,
 * NUL-terminated buffer. "path: error: cannot open: <strerror>". */
int cliff_config_slurp(const char *path, char **buf, size_t *len, CliffError *err);

/* Reads file path as a message of type desc (format as cliff_config_format). */
int cliff_config_read_file(const char *path, const char *format,
                           const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg,
                           CliffSrcMap *map, CliffError *err);

/* Applies one override "FIELD=VALUE" to msg. FIELD is a dotted path of field
 * names, each optionally indexed ([i], into a repeated message field, or as
 * the last element, into any repeated field). VALUE is read as the text
 * format reads `field: VALUE` (so lists [a, b] and messages {...} work, and
 * strings may be quoted), and for string fields an unquoted VALUE is taken
 * verbatim. A singular field is replaced; a repeated field without index gets
 * the values appended, as a second occurrence of the field in the file would
 * (`test_iter=[5, 6]` adds two); with an index, that one element is replaced
 * (`test_iter[0]=5`). Messages on the path are created when absent. Errors: "--set FIELD=VALUE: error: ..." with
 * did-you-mean for unknown names. msg is unchanged on failure. */
int cliff_config_override(ProtobufCMessage *msg, const char *assignment, CliffSrcMap *map,
                          CliffError *err);

/* Reads a NetParameter file (format by extension unless given) and upgrades
 * it from Caffe's legacy forms (proto/upgrade.h). */
int cliff_net_load(const char *path, const char *format, Cliff__NetParameter **net,
                   CliffSrcMap *map, CliffError *err);

/* Loads a solver: reads path as a SolverParameter, upgrades it, applies the
 * overrides, and resolves its nets as Caffe does: the files named by net,
 * train_net and test_net are looked up relative to the solver's folder, then
 * the working directory, read (text or YAML by extension), upgraded and placed
 * into net_param / train_net_param / test_net_param (test_net files after any
 * inline test_net_param, Caffe's order); the path fields are cleared, so the
 * result is self-contained. Overrides of net/train_net/test_net apply before
 * resolution, all others after it (so net_param.layer[i]... paths work when
 * the solver used net:). A file named twice (net and net_param, train_net and
 * train_net_param) is an error. map (may be NULL) receives positions in the
 * solver and every net file. */
int cliff_solver_load(const char *path, const char *format, const char *const *overrides,
                      size_t noverrides, Cliff__SolverParameter **solver, CliffSrcMap *map,
                      CliffError *err);

#endif
