/* train --test's totals as one JSON line (test_totals.c). */
#ifndef CLIFF_TEST_TOTALS_H
#define CLIFF_TEST_TOTALS_H

#include <stdio.h>

#include "solver/solver.h"

/* {"event":"test_totals","weights":W,"nets":[{"net":0,"iterations":N,
 *  "outputs":[{"output":k,"name":NAME,"mean":M,"loss_weight":L}, ...]}, ...]}
 * (a non-finite mean is null). */
void cliff_test_totals_json(FILE *f, const char *weights, const CliffTestTotals *t);

#endif
