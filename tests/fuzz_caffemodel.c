/* libFuzzer target for the binary .caffemodel weights reader (the NetParameter
 * source of snapshot_proto.c behind weights_read.c). Each input is loaded as
 * --weights (by name, layers may be missing) into a live solver
 * (fuzz_snapshot_net.h); it must either load or fail with a one-line message.
 * Seeds: tests/fuzz_seeds/caffemodel. */
#include "fuzz_snapshot_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CliffSolver *s = fz_setup();
    const char *path = fz_write("in.caffemodel", data, size);
    CliffError err = {.msg = ""};
    if (cliff_solver_load_weights(s, path, &err)) fz_check_error(&err);
    return 0;
}
