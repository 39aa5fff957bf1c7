/* cliff's exit codes: the one table. Every program under tools/ exits with
 * one of these; train --help and the man page print this table, and the
 * README copies it. A helper that needs a new code adds a row here (new codes
 * at the end; a code, once released, keeps its meaning).
 *
 * The library never exits: it marks a CliffError with a kind (proto/error.h),
 * and cliff_exit_code maps the kind to a row. */
#ifndef CLIFF_EXIT_CODES_H
#define CLIFF_EXIT_CODES_H

#include "proto/error.h"

/* X(NAME, code, meaning) */
#define CLIFF_EXIT_TABLE(X)                                                                    \
    X(OK, 0, "success; also a run stopped by SIGINT/SIGTERM after its snapshot was written")  \
    X(CONFIG, 1, "bad config: the solver, a net, a --set, or a weights or snapshot file it "  \
                 "names cannot be used, or its snapshot_prefix is in use by another run (and " \
                 "any error not listed below)")                                                 \
    X(USAGE, 2, "bad command line (unknown option, missing SOLVER, ...)")                      \
    X(DATA, 3, "bad data: a data layer's file is missing or malformed, or a value read is "    \
               "invalid (a label out of range, NaN in the input)")                              \
    X(NONFINITE, 4, "non-finite stop: max_bad_steps consecutive bad steps, or a non-finite "   \
                    "step or loss spike under recovery stop (or past max_rollbacks); the last " \
                    "good state is saved. Or --test produced a NaN or inf output")             \
    X(DEAD_RUN, 5, "dead run: the dead-run detector stopped the run (recovery stop, or "       \
                   "rollback past max_rollbacks); the last good state is saved")               \
    X(IO, 6, "I/O failure: a snapshot, the metrics file or a vocabulary could not be "         \
             "written (full disk, permissions)")

enum {
#define CLIFF_EXIT_ENUM_(name, code, meaning) CLIFF_EXIT_##name = code,
    CLIFF_EXIT_TABLE(CLIFF_EXIT_ENUM_)
#undef CLIFF_EXIT_ENUM_
};

/* The exit code of a failed run whose error is err. */
static inline int cliff_exit_code(const CliffError *err)
{
    switch (err->kind) {
    case CLIFF_ERR_DATA: return CLIFF_EXIT_DATA;
    case CLIFF_ERR_NONFINITE: return CLIFF_EXIT_NONFINITE;
    case CLIFF_ERR_DEAD_RUN: return CLIFF_EXIT_DEAD_RUN;
    case CLIFF_ERR_IO: return CLIFF_EXIT_IO;
    default: return CLIFF_EXIT_CONFIG;
    }
}

#endif
