/* Runs every gradient-check case and fails for any registered layer type
 * without one, and for a recurrent layer type (one that carries state and
 * has a backward) without its cases over sequence starts, a static input,
 * exposed states and a carried state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gradcheck.h"
#include "layers/kernels/blas.h"
#include "layers/kernels/gemm.h"

static const GradCase *const tables[] = {grad_cases_core, grad_cases_vision, grad_cases_neuron,
                                             grad_cases_fast, grad_cases_recurrent,
                                             grad_cases_engine};
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

/* A case of `type` whose name contains `part` ("" for any), with at least
 * `warm` warm forwards. */
static int has_case_with(const char *type, const char *part, int warm)
{
    size_t n = strlen(type);
    for (size_t t = 0; t < NTABLES; t++)
        for (const GradCase *c = tables[t]; c->name; c++)
            if (strncmp(c->name, type, n) == 0 && c->name[n] == '/' &&
                strstr(c->name + n, part) && c->warm_forwards >= warm)
                return 1;
    return 0;
}

static void recurrent_layers_have_their_cases(void)
{
    static const char *const parts[] = {"resets", "static", "expose_hidden"};
    int seen = 0;
    for (size_t i = 0; i < cliff_layer_count(); i++) {
        const CliffLayerOps *ops = cliff_layer_at(i);
        if (!ops->state_save || !ops->backward) continue; /* not recurrent */
        seen++;
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
            if (!has_case_with(ops->type, parts[k], 0))
                CHECK_FAILF("recurrent layer type '%s' has no gradient-check case over %s "
                            "(name it '%s/%s...')", ops->type, parts[k], ops->type, parts[k]);
        if (!has_case_with(ops->type, "", 1))
            CHECK_FAILF("recurrent layer type '%s' has no gradient-check case from a carried "
                        "state (GradCase.warm_forwards)", ops->type);
    }
    CHECK(seen >= 2); /* RNN and LSTM */
}

/* The engine's convolution cases again with the shifted-row path off (every
 * case then runs on the engine) on each instruction set the CPU has. */
static void engine_cases_on_every_isa(const char *only)
{
    const int best = cliff_gemm_isa();
    cliff_avx512_allow(0);
    for (int isa = best; isa >= CLIFF_ISA_GENERIC; isa--) {
        cliff_gemm_force_isa(isa);
        for (const GradCase *c = grad_cases_engine; c->name; c++) {
            if (only && strncmp(c->name, only, strlen(only))) continue;
            char name[256];
            snprintf(name, sizeof name, "gradcheck %s [engine %s]", c->name,
                     cliff_gemm_isa_name(isa));
            check_run_named(name, run_case, (void *)c);
        }
    }
    cliff_gemm_force_isa(-1);
    cliff_avx512_allow(1);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL; /* optional name prefix filter */
    /* The data-layer cases write their fixtures under the working directory
     * (grad_cases_core.c): give this run one of its own. */
    char scratch[] = "/tmp/cliff_gradcheck_XXXXXX";
    if (!mkdtemp(scratch) || chdir(scratch)) {
        printf("FAIL gradcheck: no scratch directory\n");
        return 1;
    }
    for (size_t t = 0; t < NTABLES; t++)
        for (const GradCase *c = tables[t]; c->name; c++) {
            if (only && strncmp(c->name, only, strlen(only))) continue;
            char name[256];
            snprintf(name, sizeof name, "gradcheck %s", c->name);
            check_run_named(name, run_case, (void *)c);
        }
    engine_cases_on_every_isa(only);
    if (!only) {
        RUN(every_layer_has_a_case);
        RUN(recurrent_layers_have_their_cases);
    }
    /* every skipped point is reported (kinks cases only; see gradcheck.h) */
    printf("gradcheck: %zu points compared, %zu skipped at kinks%s%s\n", total_checked,
           total_skipped, total_skipped ? ": " : "", skip_report);
    char rm[64];
    snprintf(rm, sizeof rm, "rm -rf %s", scratch);
    if (system(rm)) {}
    return test_main_end();
}
