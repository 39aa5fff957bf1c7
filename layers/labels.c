/* See labels.h. */
#include "labels.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "vision_util.h"

int cliff_label_int(float v)
{
    if (v != v) return INT_MIN;
    if (v >= 2147483648.0f) return INT_MAX;
    if (v <= -2147483648.0f) return INT_MIN;
    return (int)v;
}

/* " row R" or " row R, position P" of value k of t: its batch row (index along
 * the first axis) and, when a row holds several values, the place inside. */
static void where(const CliffTensor *t, size_t k, char *buf, size_t len)
{
    size_t per_row = t->num_axes >= 1 && t->shape[0] > 0 ? t->count / (size_t)t->shape[0]
                                                          : t->count;
    size_t row = k / (per_row ? per_row : 1);
    if (per_row > 1)
        snprintf(buf, len, " row %zu, position %zu", row, k % per_row);
    else
        snprintf(buf, len, " row %zu", row);
}

int cliff_index_check(const CliffLayer *l, CliffTensor *const *bottom, int bi, long n,
                      const int *ignore, const char *role, CliffError *err)
{
    const CliffTensor *t = bottom[bi];
    for (size_t k = 0; k < t->count; k++) {
        const float v = t->data[k];
        if (v != v) goto bad; /* NaN: never ignored, never a class */
        if (ignore && cliff_label_int(v) == *ignore) continue;
        if (v >= 0 && v < (float)n && v == floorf(v)) continue;
    bad:;
        char pos[64];
        where(t, k, pos, sizeof pos);
        char ign[48] = "";
        if (ignore) snprintf(ign, sizeof ign, " or the ignore_label %d", *ignore);
        return cliff_error_set(err, "%s bottom '%s'%s: value %g is not an integer in "
                                    "[0, %ld)%s",
                               role, cliff_bname(l, bi), pos, (double)v, n, ign);
    }
    return 0;
}

int cliff_finite_check(const CliffLayer *l, CliffTensor *const *bottom, int bi,
                       const int *ignore, const char *role, CliffError *err)
{
    const CliffTensor *t = bottom[bi];
    for (size_t k = 0; k < t->count; k++) {
        const float v = t->data[k];
        if (isfinite(v)) continue;
        if (ignore && v == v && cliff_label_int(v) == *ignore) continue;
        char pos[64];
        where(t, k, pos, sizeof pos);
        return cliff_error_set(err, "%s bottom '%s'%s: value %g is not finite", role,
                               cliff_bname(l, bi), pos, (double)v);
    }
    return 0;
}
