/* Learning-rate policies at several iterations against Caffe's formulas
 * (values worked out by hand), the multistep counter, and config errors. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "solver/lr_policy.h"

static float rate(const Cliff__SolverParameter *sp, int iter, int *cs)
{
    CliffError err;
    const CliffLrPolicy *p = cliff_lr_policy_load(sp, &err);
    if (!p) {
        CHECK_FAILF("load: %s", err.msg);
        return NAN;
    }
    return p->rate(sp, iter, cs);
}

static Cliff__SolverParameter base(const char *policy)
{
    Cliff__SolverParameter sp = CLIFF__SOLVER_PARAMETER__INIT;
    sp.lr_policy = (char *)policy;
    sp.has_base_lr = 1;
    sp.base_lr = 0.01f;
    return sp;
}

static void test_fixed(void)
{
    Cliff__SolverParameter sp = base("fixed");
    int cs = 0;
    CHECK_NEAR(rate(&sp, 0, &cs), 0.01, 1e-7);
    CHECK_NEAR(rate(&sp, 12345, &cs), 0.01, 1e-7);
    sp.lr_policy = NULL; /* unset: fixed */
    CHECK_NEAR(rate(&sp, 7, &cs), 0.01, 1e-7);
}

static void test_step(void)
{
    Cliff__SolverParameter sp = base("step");
    sp.has_gamma = 1, sp.gamma = 0.1f, sp.has_stepsize = 1, sp.stepsize = 100;
    int cs = 0;
    CHECK_NEAR(rate(&sp, 0, &cs) / 0.01, 1.0, 1e-6);
    CHECK(cs == 0);
    CHECK_NEAR(rate(&sp, 99, &cs) / 0.01, 1.0, 1e-6);
    CHECK_NEAR(rate(&sp, 100, &cs) / 0.001, 1.0, 1e-6);
    CHECK(cs == 1);
    CHECK_NEAR(rate(&sp, 250, &cs) / 0.0001, 1.0, 1e-6);
    CHECK(cs == 2);
}

static void test_exp(void)
{
    Cliff__SolverParameter sp = base("exp");
    sp.has_gamma = 1, sp.gamma = 0.5f;
    int cs = 0;
    CHECK_NEAR(rate(&sp, 0, &cs) / 0.01, 1.0, 1e-6);
    CHECK_NEAR(rate(&sp, 3, &cs) / 0.00125, 1.0, 1e-6); /* 0.01 * 0.5^3 */
}

static void test_inv(void)
{
    /* LeNet's: base 0.01, gamma 1e-4, power 0.75: at 10000,
     * 0.01 * (1 + 1)^-0.75 = 0.01 / 2^0.75 = 0.0059460356 */
    Cliff__SolverParameter sp = base("inv");
    sp.has_gamma = 1, sp.gamma = 1e-4f, sp.has_power = 1, sp.power = 0.75f;
    int cs = 0;
    CHECK_NEAR(rate(&sp, 0, &cs) / 0.01, 1.0, 1e-6);
    CHECK_NEAR(rate(&sp, 10000, &cs) / 0.0059460356, 1.0, 1e-5);
    /* at 30000: (1 + 3)^-0.75 = 2^-1.5 = 0.35355339 */
    CHECK_NEAR(rate(&sp, 30000, &cs) / 0.0035355339, 1.0, 1e-5);
}

static void test_multistep(void)
{
    Cliff__SolverParameter sp = base("multistep");
    int32_t steps[] = {10, 20, 40};
    sp.has_gamma = 1, sp.gamma = 0.5f, sp.n_stepvalue = 3, sp.stepvalue = steps;
    int cs = 0;
    for (int it = 0; it < 10; it++) CHECK_NEAR(rate(&sp, it, &cs) / 0.01, 1.0, 1e-6);
    CHECK(cs == 0);
    CHECK_NEAR(rate(&sp, 10, &cs) / 0.005, 1.0, 1e-6);
    CHECK(cs == 1);
    for (int it = 11; it < 20; it++) rate(&sp, it, &cs);
    CHECK(cs == 1);
    CHECK_NEAR(rate(&sp, 20, &cs) / 0.0025, 1.0, 1e-6);
    CHECK(cs == 2);
    /* Caffe advances the counter at most once per call: jumping from 20 to 100
     * moves one step, the next call the next one. */
    CHECK_NEAR(rate(&sp, 100, &cs) / 0.00125, 1.0, 1e-6);
    CHECK(cs == 3);
    CHECK_NEAR(rate(&sp, 101, &cs) / 0.00125, 1.0, 1e-6);
    CHECK(cs == 3);
    /* A restored counter continues from where it was. */
    cs = 1;
    CHECK_NEAR(rate(&sp, 15, &cs) / 0.005, 1.0, 1e-6);
}

static void test_poly(void)
{
    Cliff__SolverParameter sp = base("poly");
    sp.has_power = 1, sp.power = 2.0f, sp.has_max_iter = 1, sp.max_iter = 100;
    int cs = 0;
    CHECK_NEAR(rate(&sp, 0, &cs) / 0.01, 1.0, 1e-6);
    CHECK_NEAR(rate(&sp, 50, &cs) / 0.0025, 1.0, 1e-6); /* (1 - .5)^2 */
    CHECK_NEAR(rate(&sp, 90, &cs) / 0.0001, 1.0, 1e-5); /* (0.1)^2 */
}

static void test_sigmoid(void)
{
    Cliff__SolverParameter sp = base("sigmoid");
    sp.has_gamma = 1, sp.gamma = -0.1f, sp.has_stepsize = 1, sp.stepsize = 50;
    int cs = 0;
    CHECK_NEAR(rate(&sp, 50, &cs) / 0.005, 1.0, 1e-6); /* 1 / (1 + e^0) */
    /* iter 60: 1 / (1 + e^1) = 0.26894142 */
    CHECK_NEAR(rate(&sp, 60, &cs) / 0.0026894142, 1.0, 1e-6);
    /* iter 40: 1 / (1 + e^-1) = 0.73105858 */
    CHECK_NEAR(rate(&sp, 40, &cs) / 0.0073105858, 1.0, 1e-6);
}

static void expect_error(Cliff__SolverParameter *sp, const char *needle)
{
    CliffError err;
    err.msg[0] = 0;
    CHECK(cliff_lr_policy_load(sp, &err) == NULL);
    if (!strstr(err.msg, needle)) CHECK_FAILF("error '%s' lacks '%s'", err.msg, needle);
}

static void test_config_errors(void)
{
    Cliff__SolverParameter sp = base("step");
    sp.has_gamma = 1, sp.gamma = 0.1f;
    expect_error(&sp, "needs stepsize");
    sp = base("step");
    sp.has_stepsize = 1, sp.stepsize = 10;
    expect_error(&sp, "needs gamma");
    sp = base("inv");
    sp.has_gamma = 1, sp.gamma = 0.1f;
    expect_error(&sp, "needs power");
    sp = base("multistep");
    sp.has_gamma = 1, sp.gamma = 0.1f;
    expect_error(&sp, "stepvalue");
    sp = base("poly");
    sp.has_power = 1, sp.power = 1;
    expect_error(&sp, "max_iter");
    sp = base("sigmoid");
    sp.has_gamma = 1;
    expect_error(&sp, "stepsize");
    sp = base("cosine");
    expect_error(&sp, "unknown lr_policy 'cosine' (known: fixed, step, exp, inv, multistep, "
                      "poly, sigmoid)");
    CHECK(cliff_lr_policy_table.n == 7);
}

int main(void)
{
    RUN(test_fixed);
    RUN(test_step);
    RUN(test_exp);
    RUN(test_inv);
    RUN(test_multistep);
    RUN(test_poly);
    RUN(test_sigmoid);
    RUN(test_config_errors);
    return test_main_end();
}
