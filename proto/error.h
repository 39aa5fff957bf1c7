/* Error records and source positions shared by every library layer.
 *
 * Contract: a fallible function takes a caller-owned CliffError *, fills it on
 * failure and returns -1 (or NULL); it returns 0 (or a valid pointer) on
 * success and leaves the record untouched. Nothing below tools/ prints or exits.
 * Config errors read like a compiler's: "path:line:col: error: message".
 */
#ifndef CLIFF_ERROR_H
#define CLIFF_ERROR_H

#include <stddef.h>

#define CLIFF_ERROR_MAX 2048

typedef struct CliffError {
    char msg[CLIFF_ERROR_MAX]; /* full message, without a trailing newline */
} CliffError;

/* Sets the message (printf-style); always returns -1 so callers can
 * `return cliff_error_set(err, ...);`. err may be NULL. */
int cliff_error_set(CliffError *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends a prefix (printf-style) to the existing message; returns -1. */
int cliff_error_prefix(CliffError *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A position in a config file; line and col are 1-based. */
typedef struct CliffSrcPos {
    const char *file; /* owned by the CliffSrcMap that produced it */
    int line, col;
} CliffSrcPos;

/* Maps parsed messages (by address) to the position of their opening token,
 * so errors found after parsing (net build, layer setup) can point back at the
 * `layer {` that caused them. Readers fill it; the net builder queries it. */
typedef struct CliffSrcMap {
    struct CliffSrcEntry {
        const void *msg;
        CliffSrcPos pos;
    } *entries;
    size_t n, cap;
    char **files; /* interned file names */
    size_t nfiles;
} CliffSrcMap;

void cliff_srcmap_init(CliffSrcMap *map);
void cliff_srcmap_free(CliffSrcMap *map);
/* Interns file and records msg -> (file, line, col). Returns -1 only on OOM. */
int cliff_srcmap_add(CliffSrcMap *map, const void *msg, const char *file, int line, int col);
/* Finds the position of msg; returns 0 and fills *pos, or -1 when unknown.
 * map may be NULL. */
int cliff_srcmap_find(const CliffSrcMap *map, const void *msg, CliffSrcPos *pos);
/* Moves every entry of msg_from (re-keyed to msg_to): used when a message is
 * copied or upgraded so positions follow it. */
void cliff_srcmap_rekey(CliffSrcMap *map, const void *msg_from, const void *msg_to);

#endif
