/* Runs every gradient-check case and fails for any registered layer type
 * without one. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "gradcheck.h"

static const GradCase *const tables[] = {grad_cases_core, grad_cases_vision, grad_cases_neuron,
                                             grad_cases_fast};
#define NTABLES (sizeof tables / sizeof tables[0])

/* Points compared and skipped over the run; the cases that skipped any. */
static size_t total_checked, total_skipped;
static char skip_report[4096];

static void run_case(void *arg)
{
    const GradCase *c = arg;
    char why[1024] = "";
    GradStats st;
    if (gradcheck_run(c, &st, why, sizeof why)) CHECK_FAILF("%s", why);
    total_checked += st.checked;
    total_skipped += st.skipped;
    if (st.skipped) {
        size_t used = strlen(skip_report);
        snprintf(skip_report + used, sizeof skip_report - used, "%s%s %zu/%zu",
                 used ? ", " : "", c->name, st.skipped, st.checked + st.skipped);
    }
}

static int has_case(const char *type)
{
    size_t n = strlen(type);
    for (size_t t = 0; t < NTABLES; t++)
        for (const GradCase *c = tables[t]; c->name; c++)
            if (strncmp(c->name, type, n) == 0 && (c->name[n] == '/' || c->name[n] == 0))
                return 1;
    return 0;
}

static void every_layer_has_a_case(void)
{
    for (size_t i = 0; i < cliff_layer_count(); i++)
        if (!has_case(cliff_layer_at(i)->type))
            CHECK_FAILF("layer type '%s' has no gradient-check case (name it '%s/...')",
                        cliff_layer_at(i)->type, cliff_layer_at(i)->type);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL; /* optional name prefix filter */
    for (size_t t = 0; t < NTABLES; t++)
        for (const GradCase *c = tables[t]; c->name; c++) {
            if (only && strncmp(c->name, only, strlen(only))) continue;
            char name[256];
            snprintf(name, sizeof name, "gradcheck %s", c->name);
            check_run_named(name, run_case, (void *)c);
        }
    if (!only) RUN(every_layer_has_a_case);
    /* every skipped point is reported (kinks cases only; see gradcheck.h) */
    printf("gradcheck: %zu points compared, %zu skipped at kinks%s%s\n", total_checked,
           total_skipped, total_skipped ? ": " : "", skip_report);
    return test_main_end();
}
