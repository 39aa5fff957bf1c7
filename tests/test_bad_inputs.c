/* Malformed configs in tests/bad/: each NAME.{prototxt,yaml} must fail to
 * load with exactly the one line in NAME.expected. Files named solver_* load
 * as solvers (cliff_solver_load: net resolution, upgrades), all others as nets
 * (cliff_net_load). Runs inside tests/bad so the paths in errors are short.
 * Run from the repository root. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "proto/config.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void run_case(void *arg)
{
    const char *file = arg;
    char expected_path[512], want[4096] = "";
    size_t stem = strlen(file) - (ends_with(file, ".yaml") ? 5 : 9);
    snprintf(expected_path, sizeof expected_path, "%.*s.expected", (int)stem, file);
    FILE *f = fopen(expected_path, "r");
    if (!f) {
        CHECK_FAILF("%s has no %s", file, expected_path);
        return;
    }
    if (!fgets(want, sizeof want, f)) want[0] = 0;
    fclose(f);
    want[strcspn(want, "\n")] = 0;

    CliffError err = {0};
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    int rc;
    if (!strncmp(file, "solver_", 7)) {
        Cliff__SolverParameter *s = NULL;
        rc = cliff_solver_load(file, NULL, NULL, 0, &s, &map, &err);
        CHECK(rc == -1 && s == NULL);
        if (s) protobuf_c_message_free_unpacked(&s->base, NULL);
    } else {
        Cliff__NetParameter *n = NULL;
        rc = cliff_net_load(file, NULL, &n, &map, &err);
        CHECK(rc == -1 && n == NULL);
        if (n) protobuf_c_message_free_unpacked(&n->base, NULL);
    }
    CHECK(map.n == 0); /* nothing recorded for messages that no longer exist */
    cliff_srcmap_free(&map);
    if (rc == -1 && strcmp(err.msg, want) != 0)
        CHECK_FAILF("\n  got  %s\n  want %s", err.msg, want);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    if (chdir("tests/bad") != 0) {
        printf("FAIL test_bad_inputs: cannot enter tests/bad (run from the repository root)\n");
        return 1;
    }
    DIR *d = opendir(".");
    char *files[512];
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 512)
        if (ends_with(e->d_name, ".prototxt") || ends_with(e->d_name, ".yaml"))
            files[n++] = strdup(e->d_name);
    if (d) closedir(d);
    qsort(files, n, sizeof *files, by_name);
    size_t yaml = 0;
    for (size_t i = 0; i < n; i++) {
        char name[300];
        snprintf(name, sizeof name, "bad/%s", files[i]);
        check_run_named(name, run_case, files[i]);
        yaml += ends_with(files[i], ".yaml");
    }
    /* the suite itself: enough cases, of both syntaxes */
    if (n < 40 || yaml < 8) {
        printf("FAIL test_bad_inputs: only %zu cases (%zu YAML) in tests/bad\n", n, yaml);
        check_tests_failed++;
    }
    for (size_t i = 0; i < n; i++) free(files[i]);
    return test_main_end();
}
