#include "check.h"

#include <stdlib.h>
#include <string.h>

int check_failures_in_test, check_tests_failed, check_tests_passed;
const char *check_current = "";

/* Selection, for tools/mutants.py (which reruns one program per mutation and
 * wants the answer "does some test fail" as fast as it can get it):
 *   CLIFF_TEST_ONLY=a,b   run only the tests named exactly a or b;
 *   CLIFF_TEST_FAILFAST=1 skip every test after the first failure;
 *   CLIFF_TEST_TRACE=1    print "run NAME" before each test, so that a crash
 *                         or a hang can be attributed to the test it hit.
 * Unset, every test runs and nothing extra is printed. */
static int selected(const char *name)
{
    const char *only = getenv("CLIFF_TEST_ONLY");
    if (!only || !*only)
        return 1;
    size_t n = strlen(name);
    for (const char *p = only; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

/* An environment switch is on when set to anything but "" or "0". */
static int env_on(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0");
}

void check_run_named(const char *name, void (*fn)(void *), void *arg)
{
    if (!selected(name) || (check_tests_failed && env_on("CLIFF_TEST_FAILFAST")))
        return;
    if (env_on("CLIFF_TEST_TRACE")) {
        printf("run %s\n", name);
        fflush(stdout);
    }
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
