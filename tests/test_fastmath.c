/* layers/kernels/fastmath.h against libm in double: exp within 2 ulp over
 * its range, sigmoid and tanh within 2e-7 absolute everywhere, saturation
 * without inf or NaN for huge and infinite inputs, NaN passed through. */
#include <math.h>

#include "check.h"
#include "layers/kernels/fastmath.h"

static void test_exp_within_2_ulp(void)
{
    double worst = 0;
    for (float x = -87.0f; x <= 88.0f; x += 0.000977f) {
        const double e = exp((double)x), ulp = ldexp(1.0, ilogb(e) - 23);
        const double err = fabs((double)cliff_expf(x) - e) / ulp;
        if (err > worst) worst = err;
    }
    CHECK(worst <= 2.0);
    CHECK(cliff_expf(0.0f) == 1.0f);
}

static void test_sigmoid_tanh_absolute_error(void)
{
    double ws = 0, wt = 0;
    for (float x = -30.0f; x <= 30.0f; x += 0.000731f) {
        const double s = 1 / (1 + exp(-(double)x)), t = tanh((double)x);
        ws = fmax(ws, fabs(cliff_sigmoidf(x) - s));
        wt = fmax(wt, fabs(cliff_tanhf(x) - t));
    }
    CHECK(ws <= 2e-7);
    CHECK(wt <= 2e-7);
}

static void test_saturation_and_nan(void)
{
    const float big[] = {100.0f, 1e30f, INFINITY};
    for (int i = 0; i < 3; i++) {
        CHECK(cliff_sigmoidf(big[i]) == 1.0f);
        CHECK(cliff_sigmoidf(-big[i]) >= 0.0f && cliff_sigmoidf(-big[i]) < 1e-37f);
        CHECK(cliff_tanhf(big[i]) == 1.0f);
        CHECK(cliff_tanhf(-big[i]) == -1.0f);
        CHECK(isfinite(cliff_expf(big[i])) && cliff_expf(-big[i]) > 0.0f);
    }
    CHECK(isnan(cliff_expf(NAN)) && isnan(cliff_sigmoidf(NAN)) && isnan(cliff_tanhf(NAN)));
}

int main(void)
{
    RUN(test_exp_within_2_ulp);
    RUN(test_sigmoid_tanh_absolute_error);
    RUN(test_saturation_and_nan);
    return test_main_end();
}
