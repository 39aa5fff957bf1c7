/* Parameter initialization (Caffe's fillers), table-driven by FillerParameter.type:
 * constant, uniform, gaussian (with sparse), positive_unitball, xavier, msra
 * (variance_norm FAN_IN / FAN_OUT / AVERAGE), bilinear. */
#ifndef CLIFF_FILLER_H
#define CLIFF_FILLER_H

#include "cliff.pb-c.h"
#include "layers/kernels/rng.h"
#include "layers/kernels/tensor.h"

/* Checks that fp names a known filler and that its fields make sense for the
 * shape (e.g. bilinear needs 4 axes and a square kernel). fp may be NULL. */
int cliff_filler_validate(const Cliff__FillerParameter *fp, int num_axes, const int *shape,
                          CliffError *err);
/* Fills data (count elements, shape num_axes/shape) from fp; fp == NULL fills
 * default_value everywhere. Draws from rng. Validate first. */
int cliff_filler_fill(const Cliff__FillerParameter *fp, float default_value, float *data,
                      int num_axes, const int *shape, CliffRng *rng, CliffError *err);

#endif
