#include "check.h"

int check_failures_in_test, check_tests_failed, check_tests_passed;
const char *check_current = "";

void check_run_named(const char *name, void (*fn)(void *), void *arg)
{
    check_current = name;
    check_failures_in_test = 0;
    fn(arg);
    if (check_failures_in_test)
        check_tests_failed++;
    else {
        check_tests_passed++;
        printf("ok %s\n", name);
    }
    fflush(stdout);
}

static void call_plain(void *fn) { ((void (*)(void))fn)(); }

void check_run(const char *name, void (*fn)(void))
{
    check_run_named(name, call_plain, (void *)fn);
}

int test_main_end(void) { return check_tests_failed ? 1 : 0; }
