/* The static table of layer types. The Makefile generates layer_table.inc from
 * every `const CliffLayerOps cliff_ops_<Type> =` definition in layers/, so a
 * new layer file is registered by existing; the gradient-check test fails for
 * any registered type that has no case. */
#include "layer.h"

#define X(name) extern const CliffLayerOps cliff_ops_##name;
#include "layer_table.inc"
#undef X

static const CliffLayerOps *const layer_table[] = {
#define X(name) &cliff_ops_##name,
#include "layer_table.inc"
#undef X
};

const CliffNameTable cliff_layer_table = CLIFF_NAME_TABLE_PTRS(layer_table, CliffLayerOps, type);

size_t cliff_layer_count(void) { return cliff_layer_table.n; }
const CliffLayerOps *cliff_layer_at(size_t i) { return cliff_names_row(&cliff_layer_table, i); }
const CliffLayerOps *cliff_layer_find(const char *type)
{
    return cliff_names_find(&cliff_layer_table, type);
}

int cliff_layer_declare_param(CliffLayer *l, int num_axes, const int *shape,
                              const Cliff__FillerParameter *filler, float default_value,
                              int learnable, CliffError *err)
{
    if (l->nparams >= CLIFF_MAX_PARAMS)
        return cliff_error_set(err, "more than %d parameter blobs", CLIFF_MAX_PARAMS);
    if (num_axes < 0 || num_axes > CLIFF_MAX_AXES)
        return cliff_error_set(err, "parameter with %d axes", num_axes);
    CliffParamDecl *d = &l->decl[l->nparams++];
    d->num_axes = num_axes;
    for (int i = 0; i < num_axes; i++) {
        if (shape[i] <= 0)
            return cliff_error_set(err, "parameter %d has dimension %d (must be > 0)",
                                   l->nparams - 1, shape[i]);
        d->shape[i] = shape[i];
    }
    d->filler = filler;
    d->default_value = default_value;
    d->learnable = learnable;
    return 0;
}
