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

/* What kind of failure an error is, for the caller's decision (train maps
 * kinds to exit codes, tools/exit_codes.h). cliff_error_set resets the kind
 * to CLIFF_ERR_GENERAL; the site that knows better marks it afterwards with
 * cliff_error_mark; cliff_error_prefix keeps it. */
typedef enum CliffErrorKind {
    CLIFF_ERR_GENERAL = 0,  /* a config error, or anything not listed below */
    CLIFF_ERR_DATA,         /* a data file or a data value is bad (missing, malformed,
                               a label out of range) */
    CLIFF_ERR_NONFINITE,    /* the run stopped on non-finite values (max_bad_steps) */
    CLIFF_ERR_DEAD_RUN,     /* the dead-run detector stopped the run */
    CLIFF_ERR_IO,           /* writing a snapshot, metrics or vocabulary failed */
} CliffErrorKind;

typedef struct CliffError {
    char msg[CLIFF_ERROR_MAX]; /* full message, without a trailing newline */
    CliffErrorKind kind;
} CliffError;

/* Sets the message (printf-style); always returns -1 so callers can
 * `return cliff_error_set(err, ...);`. err may be NULL. */
int cliff_error_set(CliffError *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Marks the kind of an error already set; returns -1. err may be NULL. */
int cliff_error_mark(CliffError *err, CliffErrorKind kind);

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
