/* convert_mnist_data: Caffe's examples/mnist/convert_mnist_data. Writes an
 * MNIST-format data set (IDX files; Fashion-MNIST is one) into an LMDB or
 * LevelDB of Datum records, as Caffe's create_mnist.sh does.
 *
 * usage: convert_mnist_data [FLAGS] IMAGE_FILE LABEL_FILE DB_NAME
 *
 * As Caffe's: the image file is an IDX3 of N x rows x cols bytes (magic 2051),
 * the label file an IDX1 of N bytes (magic 2049); record i has the key "%08d"
 * and holds channels 1, height rows, width cols, the pixels and the label
 * (layers/data/datum_write.h, kind MNIST), committed in batches of 1000.
 * Files may be gzip-compressed (Debian's dataset-fashion-mnist ships them so);
 * Caffe's reads them uncompressed. The database appears at DB_NAME when
 * complete (DB_NAME.partial renamed); DB_NAME must not exist.
 * Exit codes (tools/exit_codes.h): 2 usage, 3 unreadable or mismatched IDX
 * files, 6 the database cannot be written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/data/datum_write.h"
#include "layers/data/db_writer.h"
#include "tools/cli/files.h"
#include "tools/cli/flags.h"
#include "tools/cli/idx.h"
#include "tools/exit_codes.h"

#define USAGE "convert_mnist_data [FLAGS] IMAGE_FILE LABEL_FILE DB_NAME"

/* The two files, checked against each other. */
static int read_pair(const char *ipath, const char *lpath, ToolIdx *img, ToolIdx *lab,
                     CliffError *err)
{
    if (tool_idx_read(ipath, img, err)) return -1;
    if (tool_idx_read(lpath, lab, err)) return tool_idx_free(img), -1;
    const char *why = img->ndims != 3 ? "the image file is not N x rows x cols (magic 2051)"
                      : lab->ndims != 1 ? "the label file is not N labels (magic 2049)"
                      : img->dims[0] != lab->dims[0] ? "they hold different numbers of items"
                                                     : NULL;
    if (why) {
        cliff_error_set(err, "'%s' and '%s': %s", ipath, lpath, why);
        tool_idx_free(img);
        tool_idx_free(lab);
        return -1;
    }
    return 0;
}

static int write_db(CliffDbWriter *db, const ToolIdx *img, const ToolIdx *lab, CliffError *err)
{
    int rows = (int)img->dims[1], cols = (int)img->dims[2];
    size_t per = (size_t)rows * cols;
    for (uint32_t i = 0; i < img->dims[0]; i++) {
        uint8_t *rec;
        size_t len;
        char key[16];
        int klen = snprintf(key, sizeof key, "%08u", i);
        if (cliff_datum_pack(CLIFF_DATUM_MNIST, 1, rows, cols, img->data + i * per, per,
                             lab->data[i], &rec, &len, err))
            return -1;
        int rc = cliff_db_put(db, key, (size_t)klen, rec, len, err);
        free(rec);
        if (rc) return -1;
        if ((i + 1) % 10000 == 0) printf("Processed %u files.\n", i + 1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *backend_name = "lmdb";
    const ToolFlag flags[] = {
        {"backend", TOOL_FLAG_STRING, &backend_name, "lmdb or leveldb"},
    };
    const ToolCli cli = {"convert_mnist_data",
                         "Converts MNIST-format IDX files to the LMDB/LevelDB format Caffe's "
                         "Data layer reads.", USAGE, flags, 1};
    char *pos[3];
    int npos;
    CliffDbBackend backend;
    int cli_rc = tool_cli_parse(&cli, argc, argv, pos, 3, 3, &npos,
                            "expected IMAGE_FILE LABEL_FILE DB_NAME");
    if (cli_rc || (cli_rc = tool_cli_backend(&cli, backend_name, &backend)))
        return tool_cli_exit_status(cli_rc);

    CliffError err = {0};
    ToolIdx img, lab;
    if (read_pair(pos[0], pos[1], &img, &lab, &err)) {
        fprintf(stderr, "convert_mnist_data: error: %s\n", err.msg);
        return CLIFF_EXIT_DATA;
    }
    printf("A total of %u items; rows: %u, cols: %u\n", img.dims[0], img.dims[1], img.dims[2]);
    ToolOutput out;
    CliffDbWriter *db = NULL;
    int rc = tool_output_begin(&out, pos[2], 0, &err);
    if (rc == 0 && !(db = cliff_db_create(backend, out.tmp, &err))) {
        tool_output_abandon(&out);
        tool_output_free(&out);
        rc = -1;
    }
    if (rc == 0) {
        rc = write_db(db, &img, &lab, &err);
        if (rc) cliff_db_abandon(db);
        else rc = cliff_db_finish(db, &err);
        if (rc == 0) rc = tool_output_commit(&out, &err);
        if (rc) tool_output_abandon(&out);
        tool_output_free(&out);
    }
    uint32_t n = img.dims[0];
    tool_idx_free(&img);
    tool_idx_free(&lab);
    if (rc) {
        fprintf(stderr, "convert_mnist_data: error: %s\n", err.msg);
        return CLIFF_EXIT_IO;
    }
    printf("Processed %u files -> %s (%s)\n", n, pos[2], cliff_db_backend_name(backend));
    return 0;
}
