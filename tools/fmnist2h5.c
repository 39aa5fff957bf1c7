/* fmnist2h5: converts Debian's Fashion-MNIST (dataset-fashion-mnist, IDX files
 * gzip-compressed) to Caffe's HDF5Data layout:
 *   OUTDIR/train.h5, OUTDIR/test.h5: data float32 N x 1 x 28 x 28 = pixel / 256,
 *                                    label float32 N
 *   OUTDIR/train.txt, OUTDIR/test.txt: the absolute path of the .h5 file
 * Files are written under temporary names and renamed, so an interrupted run
 * never leaves a truncated data set behind.
 *
 * usage: fmnist2h5 OUTDIR [--src DIR] [--train-limit N] [--test-limit N] */
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/cli/idx.h"

#define DEFAULT_SRC "/usr/share/datasets/fashion-mnist"

static int die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "fmnist2h5: error: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
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

static int convert(const char *src, const char *prefix, const char *outdir, const char *split,
                   long limit)
{
    char ipath[PATH_MAX], lpath[PATH_MAX], h5[PATH_MAX + 32], tmp[PATH_MAX + 64], list[PATH_MAX + 32];
    snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", src, prefix);
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", src, prefix);
    ToolIdx ix, lx;
    CliffError err;
    if (tool_idx_read(ipath, &ix, &err))
        return die("%s%s", err.msg, " (install dataset-fashion-mnist)");
    if (tool_idx_read(lpath, &lx, &err)) {
        tool_idx_free(&ix);
        return die("%s%s", err.msg, "");
    }
    if (ix.ndims != 3 || lx.ndims != 1 || ix.dims[0] != lx.dims[0]) {
        tool_idx_free(&ix);
        tool_idx_free(&lx);
        return die("'%s' and '%s' do not hold matching images and labels", ipath, lpath);
    }
    unsigned char *img = ix.data, *lab = lx.data;
    uint32_t *di = ix.dims;
    size_t n = di[0], pixels = (size_t)di[1] * di[2];
    if (limit > 0 && (size_t)limit < n) n = (size_t)limit;
    float *x = malloc(n * pixels * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(img), free(lab), free(x), free(y);
        return die("out of memory%s%s", "", "");
    }
    for (size_t i = 0; i < n * pixels; i++) x[i] = (float)img[i] / 256.0f;
    for (size_t i = 0; i < n; i++) y[i] = (float)lab[i];
    free(img);
    free(lab);

    char absdir[PATH_MAX];
    if (!realpath(outdir, absdir)) {
        free(x), free(y);
        return die("cannot resolve '%s': %s", outdir, strerror(errno));
    }
    snprintf(h5, sizeof h5, "%s/%s.h5", absdir, split);
    snprintf(tmp, sizeof tmp, "%s.tmp", h5);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dx[4] = {n, 1, di[1], di[2]}, dy[1] = {n};
    int rc = f < 0 || write_dataset(f, "data", 4, dx, x) || write_dataset(f, "label", 1, dy, y);
    if (f >= 0) H5Fclose(f);
    free(x);
    free(y);
    if (rc || rename(tmp, h5)) {
        remove(tmp);
        return die("cannot write '%s'%s", h5, "");
    }
    snprintf(list, sizeof list, "%s/%s.txt", absdir, split);
    snprintf(tmp, sizeof tmp, "%s.tmp", list);
    FILE *lf = fopen(tmp, "w");
    if (!lf || fprintf(lf, "%s\n", h5) < 0 || fclose(lf) || rename(tmp, list))
        return die("cannot write '%s'%s", list, "");
    printf("%s: %zu images %ux%u -> %s\n", split, n, di[1], di[2], h5);
    return 0;
}

int main(int argc, char **argv)
{
    const char *outdir = NULL, *src = DEFAULT_SRC;
    long train_limit = 0, test_limit = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--src") && i + 1 < argc)
            src = argv[++i];
        else if (!strcmp(argv[i], "--train-limit") && i + 1 < argc)
            train_limit = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--test-limit") && i + 1 < argc)
            test_limit = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: fmnist2h5 OUTDIR [--src DIR] [--train-limit N] [--test-limit N]\n"
                   "Converts Fashion-MNIST IDX files (default %s) to Caffe HDF5Data files.\n",
                   DEFAULT_SRC);
            return 0;
        } else if (argv[i][0] != '-' && !outdir)
            outdir = argv[i];
        else
            return die("unknown argument '%s'%s (see --help)", argv[i], "");
    }
    if (!outdir) return die("missing OUTDIR%s%s (see --help)", "", "");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char cmd[PATH_MAX];
    snprintf(cmd, sizeof cmd, "%s", outdir);
    for (char *p = cmd + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(cmd, 0755);
            *p = '/';
        }
    mkdir(cmd, 0755);
    if (convert(src, "train", outdir, "train", train_limit)) return 1;
    if (convert(src, "t10k", outdir, "test", test_limit)) return 1;
    return 0;
}
