/* adding_problem: writes the adding problem (Hochreiter & Schmidhuber 1997;
 * the formulation of Pascanu et al. 2013) as HDF5 for HDF5Data.
 *
 * A sequence is T pairs (value, marker): values uniform in [0, 1), markers 0
 * except at exactly two steps, the first in [0, T/2), the second in
 * [T/2, T) (T/2 rounded down). Its target is the sum of the two marked values,
 * in [0, 2).
 *
 * Layout, time-major so that HDF5Data with batch_size T hands a recurrent net
 * its T x N blobs directly (README "Sequence data"): COUNT sequences in N
 * streams, S = COUNT / N x T rows; sequence b N + n is rows b T .. b T + T - 1
 * of stream n. Data sets of PREFIX.h5:
 *   x       S x N x 2   (value, marker)
 *   cont    S x N       0 at each sequence's first step, else 1
 *   target  S x N       the sequence's sum at every step (the net slices the
 *                       last step: the recurrent state has read it all there)
 * Every batch of T rows is N whole sequences. PREFIX.txt lists the absolute
 * path of PREFIX.h5 (HDF5Data's source). Both are written under temporary
 * names and renamed. The same --seed gives the same bytes.
 *
 * usage: adding_problem --out PREFIX [--length T] [--count COUNT]
 *                       [--streams N] [--seed S] */
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/kernels/rng.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: adding_problem --out PREFIX [--length T] [--count COUNT] "
                 "[--streams N] [--seed S]\n"
                 "Writes the adding problem for HDF5Data: PREFIX.h5 (x: S x N x 2, cont and "
                 "target: S x N,\nS = COUNT / N x T, time-major) and PREFIX.txt (its list). "
                 "Defaults: T 50, COUNT 10000,\nN 50, S 1.\n");
}

static int fail(const char *fmt, const char *a)
{
    fprintf(stderr, "adding_problem: error: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, " (see --help)\n");
    return 2;
}

/* A whole decimal number in [lo, hi]. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int write_dataset(hid_t file, const char *name, int rank, const hsize_t *dims,
                         const float *data)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(file, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    return rc < 0 ? -1 : 0;
}

/* Fills x (S x N x 2), cont and target (S x N) with COUNT sequences of T steps. */
static void generate(long T, long count, long N, uint64_t seed, float *x, float *cont,
                     float *target)
{
    CliffRng rng;
    cliff_rng_seed(&rng, seed);
    for (long j = 0; j < count; j++) {
        long b = j / N, n = j % N, half = T / 2;
        size_t row0 = (size_t)(b * T);
        for (long t = 0; t < T; t++) {
            size_t i = (row0 + (size_t)t) * (size_t)N + (size_t)n;
            x[2 * i] = cliff_rng_uniform01(&rng);
            x[2 * i + 1] = 0;
            cont[i] = t == 0 ? 0.0f : 1.0f;
        }
        long first = (long)cliff_rng_below(&rng, (uint64_t)half);
        long second = half + (long)cliff_rng_below(&rng, (uint64_t)(T - half));
        size_t i1 = (row0 + (size_t)first) * (size_t)N + (size_t)n;
        size_t i2 = (row0 + (size_t)second) * (size_t)N + (size_t)n;
        x[2 * i1 + 1] = x[2 * i2 + 1] = 1;
        float sum = x[2 * i1] + x[2 * i2];
        for (long t = 0; t < T; t++) target[(row0 + (size_t)t) * (size_t)N + (size_t)n] = sum;
    }
}

/* Writes PREFIX.h5 and its list PREFIX.txt, each through a temporary name. */
static int write_files(const char *prefix, long T, long count, long N, const float *x,
                       const float *cont, const float *target)
{
    char h5[PATH_MAX], tmp[PATH_MAX + 8], list[PATH_MAX], abs[PATH_MAX];
    if (snprintf(h5, sizeof h5, "%s.h5", prefix) >= (int)sizeof h5 ||
        snprintf(list, sizeof list, "%s.txt", prefix) >= (int)sizeof list)
        return fail("--out '%s' is too long", prefix);
    snprintf(tmp, sizeof tmp, "%s.tmp", h5);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t S = (hsize_t)(count / N * T), d3[3] = {S, (hsize_t)N, 2}, d2[2] = {S, (hsize_t)N};
    int bad = f < 0 || write_dataset(f, "x", 3, d3, x) || write_dataset(f, "cont", 2, d2, cont) ||
              write_dataset(f, "target", 2, d2, target);
    if (f >= 0 && H5Fclose(f) < 0) bad = 1;
    if (bad || rename(tmp, h5) || !realpath(h5, abs)) {
        remove(tmp);
        fprintf(stderr, "adding_problem: error: cannot write '%s'\n", h5);
        return 1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", list);
    FILE *lf = fopen(tmp, "w");
    if (!lf || fprintf(lf, "%s\n", abs) < 0 || fclose(lf) || rename(tmp, list)) {
        fprintf(stderr, "adding_problem: error: cannot write '%s'\n", list);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    long T = 50, count = 10000, N = 50, seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long *num = !strcmp(a, "--length") ? &T : !strcmp(a, "--count") ? &count
                    : !strcmp(a, "--streams") ? &N : !strcmp(a, "--seed") ? &seed : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--out") && i + 1 < argc)
            out = argv[++i];
        else if (num && i + 1 < argc) {
            long lo = num == &T ? 2 : num == &seed ? 0 : 1;
            if (parse_long(argv[++i], lo, INT_MAX, num))
                return fail(num == &T ? "--length must be a whole number from 2 (got '%s')"
                                      : "expected a whole number, got '%s'", argv[i]);
        } else
            return fail("unknown or incomplete argument '%s'", a);
    }
    if (!out) return fail("%s", "missing --out PREFIX");
    if (count % N)
        return fail("--count must be a multiple of --streams%s (whole batches of N sequences)",
                    "");
    size_t rows = (size_t)(count / N) * (size_t)T, cells = rows * (size_t)N;
    if (cells > ((size_t)1 << 31) / 2)
        return fail("%s", "--count x --length is too large (at most 2^30 steps)");
    float *x = malloc(2 * cells * sizeof *x), *cont = malloc(cells * sizeof *cont),
          *target = malloc(cells * sizeof *target);
    if (!x || !cont || !target) {
        free(x), free(cont), free(target);
        fprintf(stderr, "adding_problem: error: out of memory\n");
        return 1;
    }
    generate(T, count, N, (uint64_t)seed, x, cont, target);
    int rc = write_files(out, T, count, N, x, cont, target);
    free(x), free(cont), free(target);
    if (rc == 0)
        printf("adding problem: %ld sequences of %ld steps in %ld streams (seed %ld) -> %s.h5\n",
               count, T, N, seed, out);
    return rc;
}
