/* Field bounds (see bounds.h). */
#include "bounds.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "desc_walk.h"
#include "textformat.h"

const CliffFieldBound cliff_solver_bounds[] = {
    {"base_lr", 0, 0, 1},
    {"clip_gradients", -INFINITY, 0, 0}, /* negative: clipping off; NaN is no threshold */
    {"iter_size", 1, 0, 0},
    {"average_loss", 1, 0, 0},
    {"max_bad_steps", 1, 0, 0},
    {"recovery_ring", 1, 0, 0},
    {"recovery_interval", 1, 0, 0},
    {"spike_factor", 0, 0, 1},
    {"rollback_lr_factor", 0, 1, 1},
    {"max_rollbacks", 0, 0, 0},
    {"dead_epsilon", 0, 0, 1},
    {"dead_windows", 0, 0, 0},
    {"dead_grad_ratio", 0, 0, 1},
    {"max_iter", 0, 0, 0},
    {"display", 0, 0, 0},
    {"snapshot", 0, 0, 0},
    {"snapshot_interval_seconds", 0, 0, 1},
    {"snapshot_keep", 0, 0, 0},
    {"test_interval", 0, 0, 0},
    {"test_iter", 0, 0, 0},
};
const size_t cliff_solver_nbounds = sizeof cliff_solver_bounds / sizeof cliff_solver_bounds[0];

/* 1 when f holds numbers (decided from the descriptor alone: an empty
 * repeated field has no element to read). */
static int is_numeric(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_FLOAT: case PROTOBUF_C_TYPE_DOUBLE:
        return 1;
    default: return 0;
    }
}

/* Element i of field f (is_numeric(f)) as a double. */
static double numeric(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i)
{
    const void *p = cliff_field_key(m, f, i);
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: return *(const int32_t *)p;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return *(const uint32_t *)p;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: return (double)*(const int64_t *)p;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return (double)*(const uint64_t *)p;
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)p;
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p;
    default: return NAN; /* not numeric: fails every bound */
    }
}

static int passes(const CliffFieldBound *b, double v)
{
    if (b->finite && isinf(v)) return 0;
    return b->exclusive ? v > b->min : v >= b->min;
}

int cliff_bounds_check(const ProtobufCMessage *m, const CliffFieldBound *rows, size_t n,
                       const char **field, size_t *index, CliffError *err)
{
    for (size_t r = 0; r < n; r++) {
        const CliffFieldBound *b = &rows[r];
        const ProtobufCFieldDescriptor *f =
            cliff_field_by_name(m->descriptor, b->field, strlen(b->field));
        *field = b->field;
        *index = 0;
        if (!f || !is_numeric(f)) /* a wrong row is a programming error, reported like any other */
            return cliff_error_set(err, "%s has no numeric field '%s' to bound",
                                   m->descriptor->short_name, b->field);
        int repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
        size_t count = repeated ? cliff_field_count(m, f) : 1;
        for (size_t i = 0; i < count; i++) {
            double v = numeric(m, f, i);
            if (passes(b, v)) continue;
            char name[96], rule[64];
            *index = i;
            if (repeated) snprintf(name, sizeof name, "%s[%zu]", b->field, i);
            else snprintf(name, sizeof name, "%s", b->field);
            if (b->min == -INFINITY) snprintf(rule, sizeof rule, "a number");
            else
                snprintf(rule, sizeof rule, "%s %g%s", b->exclusive ? ">" : ">=", b->min,
                         b->finite ? " and finite" : "");
            int real = f->type == PROTOBUF_C_TYPE_FLOAT || f->type == PROTOBUF_C_TYPE_DOUBLE;
            return cliff_error_set(err, real ? "%s must be %s (got %g)" : "%s must be %s (got %.0f)",
                                   name, rule, v);
        }
    }
    return 0;
}

int cliff_error_at_field(CliffError *err, const CliffSrcMap *map, const ProtobufCMessage *m,
                         const char *field, size_t index, const char *fallback)
{
    CliffSrcPos pos;
    int found = field && cliff_srcmap_find_field(map, m, field, index, &pos) == 0;
    /* m's own position; the top message's 1:1 says no more than its file */
    if (!found && cliff_srcmap_find(map, m, &pos) == 0) {
        found = 1;
        if (pos.line == 1 && pos.col == 1) pos.line = 0;
    }
    if (!found) return cliff_error_prefix(err, "%s: error: ", fallback);
    if (pos.line > 0)
        return cliff_error_prefix(err, "%s:%d:%d: error: ", pos.file, pos.line, pos.col);
    return cliff_error_prefix(err, "%s: error: ", pos.file); /* a --set override */
}
