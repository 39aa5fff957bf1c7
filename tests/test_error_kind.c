/* CliffError's kind (proto/error.h): set resets it, mark sets it, prefix
 * keeps it; train's exit code follows it (tools/exit_codes.h). */
#include <string.h>

#include "check.h"
#include "proto/error.h"
#include "tools/exit_codes.h"

static void test_set_mark_prefix(void)
{
    CliffError err = {0};
    CHECK(cliff_error_set(&err, "disk %d", 1) == -1);
    CHECK(err.kind == CLIFF_ERR_GENERAL);
    CHECK(cliff_error_mark(&err, CLIFF_ERR_IO) == -1);
    CHECK(err.kind == CLIFF_ERR_IO);
    cliff_error_prefix(&err, "snapshot: ");
    CHECK(err.kind == CLIFF_ERR_IO && strcmp(err.msg, "snapshot: disk 1") == 0);
    /* a record reused for a later error forgets the earlier kind */
    cliff_error_set(&err, "bad field");
    CHECK(err.kind == CLIFF_ERR_GENERAL);
    CHECK(cliff_error_mark(NULL, CLIFF_ERR_DATA) == -1);
}

static void test_exit_code_rows(void)
{
    CliffError err = {0};
    const struct { CliffErrorKind kind; int code; } rows[] = {
        {CLIFF_ERR_GENERAL, 1}, {CLIFF_ERR_DATA, 3}, {CLIFF_ERR_NONFINITE, 4},
        {CLIFF_ERR_DEAD_RUN, 5}, {CLIFF_ERR_IO, 6},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        err.kind = rows[i].kind;
        if (cliff_exit_code(&err) != rows[i].code)
            CHECK_FAILF("kind %d: exit %d, want %d", (int)rows[i].kind, cliff_exit_code(&err),
                        rows[i].code);
    }
    CHECK(CLIFF_EXIT_OK == 0 && CLIFF_EXIT_USAGE == 2);
}

int main(void)
{
    RUN(test_set_mark_prefix);
    RUN(test_exit_code_rows);
    return test_main_end();
}
