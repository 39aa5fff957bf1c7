/* Replays the fuzzers' findings kept in tests/fuzz_findings/ (one file per
 * finding, named <target>-<what>-<hash>) through what their targets check,
 * without libFuzzer, so a finding once fixed stays fixed in the ordinary
 * suite: solverstate-* files are restored into the fuzz targets' tiny solver
 * (tests/fuzz_snapshot_net.h) and must fail with a non-empty one-line
 * message or restore. */
#include <dirent.h>

#include "check.h"
#include "fuzz_snapshot_net.h"

#define FINDINGS "tests/fuzz_findings"

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static uint8_t buf[1 << 20];
    *n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static void solverstate_findings(void)
{
    DIR *dir = opendir(FINDINGS);
    if (!dir) {
        CHECK_FAILF("cannot open %s (run from the repository root)", FINDINGS);
        return;
    }
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (strncmp(e->d_name, "solverstate-", 12)) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", FINDINGS, e->d_name);
        size_t n;
        const uint8_t *bytes = slurp(path, &n);
        if (!bytes) {
            CHECK_FAILF("cannot read %s", path);
            continue;
        }
        seen++;
        CliffSolver *s = fz_setup();
        CliffError err = {.msg = ""};
        if (cliff_solver_restore(s, fz_write("in.solverstate", bytes, n), &err) == 0) continue;
        if (!err.msg[0] || strchr(err.msg, '\n'))
            CHECK_FAILF("%s: the restore error is empty or spans lines: [%s]", e->d_name,
                        err.msg);
        else if (!strcmp(e->d_name, "solverstate-message-c9958d61") &&
                 !strstr(err.msg, "its learned_net holds control byte 0x12 at offset 19: the "
                         "file is damaged"))
            CHECK_FAILF("%s: %s", e->d_name, err.msg);
    }
    closedir(dir);
    CHECK(seen >= 1); /* solverstate-message-c9958d61: a learned_net holding control bytes, a newline among them */
}

int main(void)
{
    (void)fz_check_error; /* the target's trap; here a failing check says more */
    RUN(solverstate_findings);
    int rc = test_main_end();
    if (fz_solver) cliff_solver_free(fz_solver);
    if (fz_sp) protobuf_c_message_free_unpacked(&fz_sp->base, NULL);
    return rc;
}
