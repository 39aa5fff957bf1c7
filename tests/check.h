/* Minimal test harness. Each tests/test_*.c is its own program: it calls
 * CHECK/CHECK_NEAR inside test functions run by RUN(fn); every RUN prints
 * "ok <name>" or "FAIL <name>: <why>" and test_main_end() returns the exit
 * code. tests/run.sh sums the lines of all programs into "N passed, N failed". */
#ifndef CLIFF_CHECK_H
#define CLIFF_CHECK_H

#include <math.h>
#include <stdio.h>

extern int check_failures_in_test; /* failures inside the running test */
extern int check_tests_failed, check_tests_passed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            if (!check_failures_in_test++)                                           \
                printf("FAIL %s: %s:%d: %s\n", check_current, __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

/* |a - b| <= tol * max(1, |a|, |b|) */
#define CHECK_NEAR(a, b, tol)                                                        \
    do {                                                                             \
        double a_ = (a), b_ = (b), m_ = fmax(1.0, fmax(fabs(a_), fabs(b_)));         \
        if (!(fabs(a_ - b_) <= (tol) * m_)) {                                        \
            if (!check_failures_in_test++)                                           \
                printf("FAIL %s: %s:%d: %s = %.9g, %s = %.9g\n", check_current,       \
                       __FILE__, __LINE__, #a, a_, #b, b_);                          \
        }                                                                            \
    } while (0)

/* Fails the running test with a formatted reason. */
#define CHECK_FAILF(...)                                                             \
    do {                                                                             \
        if (!check_failures_in_test++) {                                             \
            printf("FAIL %s: %s:%d: ", check_current, __FILE__, __LINE__);            \
            printf(__VA_ARGS__);                                                     \
            printf("\n");                                                            \
        }                                                                            \
    } while (0)

extern const char *check_current;
void check_run(const char *name, void (*fn)(void));
#define RUN(fn) check_run(#fn, fn)
/* Runs a test under a name chosen at run time (table-driven cases). */
void check_run_named(const char *name, void (*fn)(void *), void *arg);
int test_main_end(void);

#endif
