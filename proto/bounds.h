/* Bounds of numeric config fields, kept next to the schema: a table keyed by
 * field name (a new bound costs one row), checked by walking the message's
 * descriptor, and errors positioned at the field that broke it.
 *
 * A value passes when value >= min (value > min when exclusive) and, when
 * finite is set, it is not inf; NaN never passes (every comparison with it is
 * false), so min = -INFINITY means "any number but NaN". Repeated fields are
 * checked element by element. */
#ifndef CLIFF_BOUNDS_H
#define CLIFF_BOUNDS_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "error.h"

typedef struct CliffFieldBound {
    const char *field; /* a numeric field of the message */
    double min;
    int exclusive; /* value > min instead of >= */
    int finite;    /* inf and -inf are errors too */
} CliffFieldBound;

/* The bounds of SolverParameter (the ones every solver needs; those of one
 * update rule or lr policy live with it). */
extern const CliffFieldBound cliff_solver_bounds[];
extern const size_t cliff_solver_nbounds;

/* Checks every row against m. On failure fills err ("base_lr must be >= 0 and
 * finite (got inf)", without position), *field and *index (the element of a
 * repeated field) name the value, and returns -1. */
int cliff_bounds_check(const ProtobufCMessage *m, const CliffFieldBound *rows, size_t n,
                       const char **field, size_t *index, CliffError *err);

/* Prefixes err with the position of field[index] of m: "file:line:col: error: "
 * when the readers recorded it, "--set ...: error: " when a --set override
 * wrote it, else the position of m itself ("file: error: "), else
 * "<fallback>: error: ". field may be NULL (then m's position). Returns -1. */
int cliff_error_at_field(CliffError *err, const CliffSrcMap *map, const ProtobufCMessage *m,
                         const char *field, size_t index, const char *fallback);

#endif
