/* compute_image_mean: Caffe's tool of the same name. The mean image of a
 * database of Datum records, as the .binaryproto file transform_param's
 * mean_file reads (layers/data/transform.h).
 *
 * usage: compute_image_mean [FLAGS] INPUT_DB [OUTPUT_FILE]
 *
 * As Caffe's: every record is read in key order (encoded images decoded as
 * stored, like Caffe's DecodeDatumNative), all must have the first record's
 * C x H x W, and the output is a BlobProto with num 1, channels C, height H,
 * width W and the C*H*W means as float data; the mean of each channel is
 * printed ("mean_value channel [c]: v"), the numbers a mean_value line needs.
 * cliff also writes the same shape as shape { dim: 1 dim: C dim: H dim: W }
 * (readers take either). Sums are kept in double and each mean is
 * (float)sum / (float)count: the same floats as Caffe's float sums while
 * those are exact (whole numbers below 2^24: uint8 data sets up to 65793
 * images), more accurate beyond. Without OUTPUT_FILE only the channel means
 * are printed. The file appears when complete (OUTPUT_FILE.partial renamed;
 * an existing file is replaced, as Caffe does).
 * Exit codes (tools/exit_codes.h): 2 usage, 3 a missing or bad database (a
 * record that is not a Datum or has another shape, named by key), 6 the
 * output cannot be written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliff.pb-c.h"
#include "layers/data/datum.h"
#include "layers/data/db.h"
#include "tools/cli/files.h"
#include "tools/cli/flags.h"
#include "tools/exit_codes.h"

#define USAGE "compute_image_mean [FLAGS] INPUT_DB [OUTPUT_FILE]"

typedef struct Sum {
    int c, h, w;
    double *sum; /* c x h x w */
    long count;
} Sum;

/* Adds one record (its pixels in any layout the view states) to s. */
static int add(Sum *s, const CliffDatum *d, const char *db, const char *key, CliffError *err)
{
    const CliffImageView *v = &d->view;
    if (!s->sum) {
        s->c = v->channels, s->h = v->height, s->w = v->width;
        if (!(s->sum = calloc((size_t)s->c * s->h * s->w, sizeof *s->sum)))
            return cliff_error_set(err, "out of memory");
    } else if (v->channels != s->c || v->height != s->h || v->width != s->w) {
        return cliff_error_set(err, "'%s' key '%s': a Datum of %d x %d x %d, but the first is "
                               "%d x %d x %d (C x H x W)", db, key, v->channels, v->height,
                               v->width, s->c, s->h, s->w);
    }
    double *o = s->sum;
    for (int c = 0; c < s->c; c++)
        for (int y = 0; y < s->h; y++)
            for (int x = 0; x < s->w; x++) {
                size_t at = c * v->stride_c + y * v->stride_y + x * v->stride_x;
                *o++ += v->u8 ? (double)v->u8[at] : (double)v->f32[at];
            }
    s->count++;
    return 0;
}

static int sum_db(CliffDbBackend backend, const char *path, Sum *s, CliffError *err)
{
    CliffDb *db = cliff_db_open(backend, path, err);
    if (!db) return -1;
    int valid = 0, rc = cliff_db_first(db, &valid, err);
    while (rc == 0 && valid) {
        const void *k, *v;
        size_t kl, vl;
        cliff_db_record(db, &k, &kl, &v, &vl);
        char key[128];
        cliff_db_key_text(k, kl, key, sizeof key);
        CliffDatum d;
        if (cliff_datum_parse(v, vl, 0, &d, err)) {
            rc = cliff_error_prefix(err, "'%s' key '%s': ", path, key);
            break;
        }
        rc = add(s, &d, path, key, err);
        cliff_datum_free(&d);
        if (rc == 0 && s->count % 10000 == 0) printf("Processed %ld files.\n", s->count);
        if (rc == 0) rc = cliff_db_next(db, &valid, err);
    }
    cliff_db_close(db);
    if (rc == 0 && s->count == 0) rc = cliff_error_set(err, "'%s' holds no records", path);
    return rc ? cliff_error_mark(err, CLIFF_ERR_DATA) : 0;
}

/* The BlobProto of the means, written to path through a staged output. */
static int write_mean(const char *path, const Sum *s, const float *mean, CliffError *err)
{
    Cliff__BlobProto b = CLIFF__BLOB_PROTO__INIT;
    Cliff__BlobShape shape = CLIFF__BLOB_SHAPE__INIT;
    int64_t dims[4] = {1, s->c, s->h, s->w};
    shape.n_dim = 4;
    shape.dim = dims;
    b.shape = &shape;
    b.has_num = b.has_channels = b.has_height = b.has_width = 1;
    b.num = 1, b.channels = s->c, b.height = s->h, b.width = s->w;
    b.n_data = (size_t)s->c * s->h * s->w;
    b.data = (float *)mean;
    size_t n = cliff__blob_proto__get_packed_size(&b);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return cliff_error_set(err, "out of memory");
    cliff__blob_proto__pack(&b, buf);
    ToolOutput out;
    int rc = tool_output_begin(&out, path, 1, err);
    if (rc == 0) {
        FILE *f = fopen(out.tmp, "wb");
        int bad = !f || fwrite(buf, 1, n, f) != n;
        if (f && fclose(f)) bad = 1;
        if (bad) rc = cliff_error_set(err, "cannot write '%s'", out.tmp);
        if (rc == 0) rc = tool_output_commit(&out, err);
        if (rc) tool_output_abandon(&out);
        tool_output_free(&out);
    }
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    const char *backend_name = "lmdb";
    const ToolFlag flags[] = {
        {"backend", TOOL_FLAG_STRING, &backend_name, "the input's backend: lmdb or leveldb"},
    };
    const ToolCli cli = {"compute_image_mean",
                         "Computes the mean image of a database of Datum records (Caffe's "
                         ".binaryproto).", USAGE, flags, 1};
    char *pos[2];
    int npos;
    CliffDbBackend backend;
    int cli_rc = tool_cli_parse(&cli, argc, argv, pos, 1, 2, &npos, "expected INPUT_DB [OUTPUT_FILE]");
    if (cli_rc || (cli_rc = tool_cli_backend(&cli, backend_name, &backend)))
        return tool_cli_exit_status(cli_rc);

    Sum s = {0, 0, 0, NULL, 0};
    CliffError err = {0};
    if (sum_db(backend, pos[0], &s, &err)) {
        fprintf(stderr, "compute_image_mean: error: %s\n", err.msg);
        free(s.sum);
        return CLIFF_EXIT_DATA;
    }
    size_t n = (size_t)s.c * s.h * s.w, dim = (size_t)s.h * s.w;
    float *mean = malloc(n * sizeof *mean);
    if (!mean) {
        fprintf(stderr, "compute_image_mean: error: out of memory\n");
        free(s.sum);
        return CLIFF_EXIT_DATA;
    }
    for (size_t i = 0; i < n; i++) mean[i] = (float)s.sum[i] / (float)s.count;
    printf("Processed %ld files: %d x %d x %d (C x H x W)\n", s.count, s.c, s.h, s.w);
    printf("Number of channels: %d\n", s.c);
    for (int c = 0; c < s.c; c++) {
        double m = 0;
        for (size_t i = 0; i < dim; i++) m += mean[c * dim + i];
        printf("mean_value channel [%d]: %g\n", c, m / (double)dim);
    }
    int rc = 0;
    if (npos == 2 && write_mean(pos[1], &s, mean, &err)) {
        fprintf(stderr, "compute_image_mean: error: %s\n", err.msg);
        rc = CLIFF_EXIT_IO;
    }
    free(mean);
    free(s.sum);
    return rc;
}
