/* train --test's totals line (see test_totals.h). */
#include "test_totals.h"

#include <math.h>

#include "solver/log.h"

static void json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

void cliff_test_totals_json(FILE *f, const char *weights, const CliffTestTotals *t)
{
    fputs("{\"event\":\"test_totals\",\"weights\":", f);
    cliff_json_string(f, weights ? weights : "");
    fputs(",\"nets\":[", f);
    int m = 0;
    for (int net = 0; net < t->nnets; net++) {
        fprintf(f, "%s{\"net\":%d,\"iterations\":%d,\"outputs\":[", net ? "," : "", net,
                t->iters[net]);
        for (int first = 1; m < t->n && t->means[m].net == net; m++, first = 0) {
            fprintf(f, "%s{\"output\":%d,\"name\":", first ? "" : ",", t->means[m].index);
            cliff_json_string(f, t->means[m].name);
            fputs(",\"mean\":", f);
            json_number(f, t->means[m].mean);
            fputs(",\"loss_weight\":", f);
            json_number(f, t->means[m].loss_weight);
            fputc('}', f);
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
    fflush(f);
}
