/* Named choices: every table that maps a config string to a choice (layer
 * types, update rules, lr policies, clip policies, log formats, ...) is looked
 * up here, and a name that is not in it gets one error text everywhere:
 *   unknown <what> 'x' (did you mean 'y'?; known: a, b, c)
 * The table is any array: rows of `stride` bytes whose name is the
 * `const char *` at `name_offset`, either in the row itself or, for arrays of
 * pointers to rows (`indirect`), in the struct the row points to. */
#ifndef CLIFF_NAMES_H
#define CLIFF_NAMES_H

#include <stddef.h>

#include "error.h"

typedef struct CliffNameTable {
    const void *rows;   /* the array */
    size_t n;           /* number of rows */
    size_t stride;      /* sizeof one row */
    size_t name_offset; /* offsetof(struct, name field) */
    int indirect;       /* rows are pointers to the structs */
} CliffNameTable;

/* A table over array `arr` (a real array, not a pointer) of structs of `type`
 * with name field `field`; _PTRS for an array of `const type *`. */
#define CLIFF_NAME_TABLE(arr, type, field) \
    {(arr), sizeof(arr) / sizeof((arr)[0]), sizeof((arr)[0]), offsetof(type, field), 0}
#define CLIFF_NAME_TABLE_PTRS(arr, type, field) \
    {(arr), sizeof(arr) / sizeof((arr)[0]), sizeof((arr)[0]), offsetof(type, field), 1}
/* A plain array of `const char *` names. */
#define CLIFF_NAME_TABLE_STRINGS(arr) \
    {(arr), sizeof(arr) / sizeof((arr)[0]), sizeof((arr)[0]), 0, 0}

/* The struct of row i (the pointed-to struct when indirect); NULL past the end. */
const void *cliff_names_row(const CliffNameTable *t, size_t i);
/* The name of row i; NULL past the end. */
const char *cliff_names_at(const CliffNameTable *t, size_t i);
/* The struct whose name equals name exactly; NULL when none (or name NULL). */
const void *cliff_names_find(const CliffNameTable *t, const char *name);
/* "a, b, c" into buf (truncated to len); returns buf. */
const char *cliff_names_list(const CliffNameTable *t, char *buf, size_t len);

/* The name of t closest to word[0..len) (edit distance, ignoring case), or
 * NULL when none is close enough to be a plausible typo. */
const char *cliff_names_near(const CliffNameTable *t, const char *word, size_t len);
/* The same over n plain names. */
const char *cliff_did_you_mean(const char *word, size_t len, const char *const *names, size_t n);

/* Fills err with "unknown <what> 'name' (did you mean 'y'?; known: a, b, c)"
 * (the suggestion only when one is close); returns -1. name may be NULL. */
int cliff_error_unknown_name(CliffError *err, const char *what, const char *name,
                             const CliffNameTable *t);

#endif
