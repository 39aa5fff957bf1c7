/* libFuzzer target for the binary .solverstate reader (snapshot_proto.c, the
 * extras codec in snapshot_io.c) and the restore checks behind it
 * (cliff_solver_restore, restore_check.c). Each input is a state file handed
 * to a live solver (fuzz_snapshot_net.h); it must either restore or fail with
 * a one-line message. ASan, UBSan and the leak checker see the rest. Seeds:
 * tests/fuzz_seeds/solverstate (states of that solver's own runs). */
#include "fuzz_snapshot_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CliffSolver *s = fz_setup();
    const char *path = fz_write("in.solverstate", data, size);
    CliffError err = {.msg = ""};
    if (cliff_solver_restore(s, path, &err)) fz_check_error(&err);
    return 0;
}
