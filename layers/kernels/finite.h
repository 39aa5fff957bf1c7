/* The one finiteness scan: a float is inf or NaN exactly when its exponent
 * bits are all ones. The scans OR integer compares over the whole range (no
 * early exit, no floating-point compare), so they vectorize; they never trap
 * and do not depend on the FPU's NaN handling.
 *
 * The solver uses them before anything reaches the weights (gradients, the
 * new optimizer history, w - step) and on weights and history that a snapshot
 * writes or reads. */
#ifndef CLIFF_FINITE_H
#define CLIFF_FINITE_H

#include <stddef.h>

/* 1 when no x[i], i < n, is inf or NaN. */
int cliff_all_finite(const float *x, size_t n);
/* 1 when no a[i] - b[i], i < n, evaluated in float, is inf or NaN (the
 * weights a step would produce, without writing them). */
int cliff_all_finite_diff(const float *a, const float *b, size_t n);

#endif
