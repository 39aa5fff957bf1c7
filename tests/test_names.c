/* Name tables (proto/names.h) and the unknown-name error of every named
 * choice: layer types, solver types, lr policies, clip policies, log formats,
 * regularization types and fillers all suggest the closest known name. */
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "net_fixture.h"
#include "proto/names.h"
#include "solver/solver.h"

typedef struct Row {
    int value;
    const char *name;
} Row;

static const Row rows[] = {{1, "alpha"}, {2, "beta"}, {3, "gamma"}};
static const Row *const row_ptrs[] = {&rows[2], &rows[0]};
static const char *const plain[] = {"red", "green"};

static void test_table_lookup(void)
{
    const CliffNameTable t = CLIFF_NAME_TABLE(rows, Row, name);
    const CliffNameTable p = CLIFF_NAME_TABLE_PTRS(row_ptrs, Row, name);
    const CliffNameTable s = CLIFF_NAME_TABLE_STRINGS(plain);
    char buf[64];
    CHECK(t.n == 3 && p.n == 2 && s.n == 2);
    CHECK(cliff_names_find(&t, "beta") == &rows[1]);
    CHECK(cliff_names_find(&t, "Beta") == NULL);
    CHECK(cliff_names_find(&t, NULL) == NULL);
    CHECK(cliff_names_find(&p, "alpha") == &rows[0]);
    CHECK(cliff_names_row(&p, 0) == &rows[2] && cliff_names_row(&p, 2) == NULL);
    CHECK(cliff_names_at(&t, 3) == NULL);
    CHECK(cliff_names_find(&s, "green") == &plain[1]);
    CHECK(strcmp(cliff_names_list(&t, buf, sizeof buf), "alpha, beta, gamma") == 0);
    CHECK(strcmp(cliff_names_list(&p, buf, sizeof buf), "gamma, alpha") == 0);
    CHECK(strcmp(cliff_names_list(&t, buf, 8), "alpha, ") == 0); /* truncated, terminated */
}

static void test_unknown_error(void)
{
    const CliffNameTable t = CLIFF_NAME_TABLE(rows, Row, name);
    CliffError err;
    CHECK(cliff_error_unknown_name(&err, "letter", "gama", &t) == -1);
    CHECK(strcmp(err.msg, "unknown letter 'gama' (did you mean 'gamma'?; known: alpha, beta, "
                          "gamma)") == 0);
    cliff_error_unknown_name(&err, "letter", "omega", &t);
    CHECK(strcmp(err.msg, "unknown letter 'omega' (known: alpha, beta, gamma)") == 0);
    cliff_error_unknown_name(&err, "letter", "a\nb", &t); /* one line whatever the input */
    CHECK(strcmp(err.msg, "unknown letter 'a?b' (known: alpha, beta, gamma)") == 0);
    CHECK(cliff_did_you_mean("BETA", 4, (const char *const[]){"alpha", "beta"}, 2) != NULL);
}

/* A solver whose choice fails the config check before any net is built. */
static void expect_solver_error(const char *text, const char *want)
{
    CliffError err = {0};
    Cliff__SolverParameter *sp = (Cliff__SolverParameter *)cliff_text_parse(
        &cliff__solver_parameter__descriptor, "s.prototxt", text, strlen(text), NULL, &err);
    CHECK(sp != NULL);
    if (!sp) return;
    CliffSolver *s = cliff_solver_create(sp, NULL, NULL, &err);
    CHECK(s == NULL);
    if (!strstr(err.msg, want)) CHECK_FAILF("error '%s' lacks '%s'", err.msg, want);
    cliff_solver_free(s);
    protobuf_c_message_free_unpacked(&sp->base, NULL);
}

static void test_every_choice_suggests(void)
{
    expect_solver_error("base_lr: 0.1 type: \"Adma\"",
                        "unknown solver type 'Adma' (did you mean 'Adam'?; known: SGD, ");
    expect_solver_error("base_lr: 0.1 lr_policy: \"stpe\"",
                        "unknown lr_policy 'stpe' (did you mean 'step'?; known: fixed, ");
    expect_solver_error("base_lr: 0.1 clip_policy: \"global_nrom\"",
                        "unknown clip_policy 'global_nrom' (did you mean 'global_norm'?; known: "
                        "global_norm, per_param_norm, value, adaptive, percentile, zscore, "
                        "lr_adjusted, auto)");
    expect_solver_error("base_lr: 0.1 log_format: \"jsno\"",
                        "unknown log_format 'jsno' (did you mean 'json'?; known: human, kv, json)");
    expect_solver_error("base_lr: 0.1 regularization_type: \"l1\"",
                        "unknown regularization_type 'l1' (did you mean 'L1'?; known: L2, L1)");

    NetFx fx;
    CHECK(nfx_build(&fx, "layer { name: \"d\" type: \"Inputt\" top: \"x\" }", CLIFF__PHASE__TRAIN,
                    NULL) == NULL);
    if (!strstr(fx.err.msg, "unknown layer type 'Inputt' (did you mean 'Input'?; known: "))
        CHECK_FAILF("layer error: %s", fx.err.msg);
    nfx_free(&fx);
}

int main(void)
{
    RUN(test_table_lookup);
    RUN(test_unknown_error);
    RUN(test_every_choice_suggests);
    return test_main_end();
}
