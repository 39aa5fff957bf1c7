#include "tensor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cliff_tensor_init(CliffTensor *t)
{
    memset(t, 0, sizeof *t);
    t->owns = 1;
}

void cliff_tensor_free(CliffTensor *t)
{
    if (t->owns) {
        free(t->data);
        free(t->diff);
    }
    cliff_tensor_init(t);
}

int cliff_tensor_reshape(CliffTensor *t, int num_axes, const int *shape, CliffError *err)
{
    if (num_axes < 0 || num_axes > CLIFF_MAX_AXES)
        return cliff_error_set(err, "tensor has %d axes (at most %d allowed)", num_axes,
                               CLIFF_MAX_AXES);
    size_t count = 1;
    for (int i = 0; i < num_axes; i++) {
        if (shape[i] < 0) return cliff_error_set(err, "negative dimension %d", shape[i]);
        if (shape[i] && count > (SIZE_MAX / sizeof(float)) / (size_t)shape[i] / 2)
            return cliff_error_set(err, "tensor too large");
        count *= (size_t)shape[i];
    }
    if (count > (size_t)INT32_MAX)
        return cliff_error_set(err, "tensor of %zu elements exceeds 2^31-1", count);
    if (!t->owns && count != t->count)
        return cliff_error_set(err, "cannot resize a parameter view from %zu to %zu elements",
                               t->count, count);
    if (t->owns && count > t->capacity) {
        float *d = calloc(count, sizeof *d), *g = calloc(count, sizeof *g);
        if (!d || !g) {
            free(d);
            free(g);
            return cliff_error_set(err, "out of memory allocating %zu floats", 2 * count);
        }
        if (t->data) memcpy(d, t->data, t->count * sizeof *d);
        free(t->data);
        free(t->diff);
        t->data = d;
        t->diff = g;
        t->capacity = count;
    }
    t->num_axes = num_axes;
    for (int i = 0; i < num_axes; i++) t->shape[i] = shape[i];
    t->count = count;
    return 0;
}

int cliff_tensor_reshape_like(CliffTensor *t, const CliffTensor *other, CliffError *err)
{
    return cliff_tensor_reshape(t, other->num_axes, other->shape, err);
}

size_t cliff_tensor_count_range(const CliffTensor *t, int start, int end)
{
    size_t c = 1;
    for (int i = start; i < end; i++) c *= (size_t)t->shape[i];
    return c;
}

int cliff_tensor_axis(const CliffTensor *t, int axis, CliffError *err)
{
    if (axis < -t->num_axes || axis >= t->num_axes) {
        cliff_error_set(err, "axis %d out of range for a %d-axis blob", axis, t->num_axes);
        return -1;
    }
    return axis < 0 ? axis + t->num_axes : axis;
}

const char *cliff_tensor_shape_str(const CliffTensor *t, char *buf, size_t len)
{
    if (t->num_axes == 0) {
        snprintf(buf, len, "scalar");
        return buf;
    }
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < t->num_axes && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, i ? "x%d" : "%d", t->shape[i]);
    return buf;
}

int cliff_tensor_same_shape(const CliffTensor *a, const CliffTensor *b)
{
    if (a->num_axes != b->num_axes) return 0;
    for (int i = 0; i < a->num_axes; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}
