/* Shared by the binary snapshot fuzz targets (fuzz_solverstate.c,
 * fuzz_caffemodel.c): a tiny Adam solver over DummyData (4x4 inputs, an
 * InnerProduct of 3 outputs, SoftmaxWithLoss) in a fresh /tmp folder, trained
 * two iterations with BINARYPROTO snapshots, so <dir>/snap_iter_2.caffemodel
 * exists for the state files the inputs name. Header-only: each target is
 * one translation unit linked against libcliff.a. */
#ifndef CLIFF_FUZZ_SNAPSHOT_NET_H
#define CLIFF_FUZZ_SNAPSHOT_NET_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/textformat.h"
#include "solver/solver.h"

static char fz_dir[64];
static Cliff__SolverParameter *fz_sp;
static CliffSolver *fz_solver;

static void fz_cleanup(void)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir);
    if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", fz_dir);
}

/* The solver, built and trained on the first call (its folder removed at
 * exit); traps when that fails. */
static CliffSolver *fz_setup(void)
{
    if (fz_solver) return fz_solver;
    snprintf(fz_dir, sizeof fz_dir, "/tmp/cliff_fuzz_XXXXXX");
    if (!mkdtemp(fz_dir)) __builtin_trap();
    atexit(fz_cleanup);
    char text[2048];
    snprintf(text, sizeof text,
             "net_param { name: \"tiny\"\n"
             "  layer { name: \"data\" type: \"DummyData\" top: \"data\" top: \"label\"\n"
             "    dummy_data_param { shape { dim: 4 dim: 4 } shape { dim: 4 }\n"
             "      data_filler { type: \"gaussian\" } data_filler { type: \"constant\" } } }\n"
             "  layer { name: \"ip\" type: \"InnerProduct\" bottom: \"data\" top: \"ip\"\n"
             "    inner_product_param { num_output: 3 weight_filler { type: \"gaussian\" } } }\n"
             "  layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"ip\" bottom: \"label\"\n"
             "    top: \"loss\" } }\n"
             "type: \"Adam\" base_lr: 0.1 lr_policy: \"fixed\" max_iter: 2 random_seed: 9\n"
             "snapshot_format: BINARYPROTO snapshot_prefix: \"%s/snap\"\n",
             fz_dir);
    CliffError err;
    fz_sp = (Cliff__SolverParameter *)cliff_text_parse(&cliff__solver_parameter__descriptor,
                                                       "fuzz.prototxt", text, strlen(text),
                                                       NULL, &err);
    if (!fz_sp) __builtin_trap();
    fz_solver = cliff_solver_create(fz_sp, NULL, NULL, &err);
    if (!fz_solver || cliff_solver_solve(fz_solver, &err)) __builtin_trap();
    return fz_solver;
}

/* Writes the input to <dir>/<name>; returns the path (static). */
static const char *fz_write(const char *name, const uint8_t *data, size_t size)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", fz_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f)) __builtin_trap();
    return path;
}

/* A failure must leave a one-line message. */
static void fz_check_error(const CliffError *err)
{
    if (!err->msg[0] || strchr(err->msg, '\n')) __builtin_trap();
}

#endif
