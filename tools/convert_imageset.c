/* convert_imageset: Caffe's tool of the same name. Converts the images named
 * by a list file into an LMDB or LevelDB of Datum records, which the Data
 * layer reads (layers/data_layer.c).
 *
 * usage: convert_imageset [FLAGS] ROOTFOLDER/ LISTFILE DB_NAME
 *
 * As Caffe's: LISTFILE holds "path label" lines (layers/data/image_list.h);
 * each image is ROOTFOLDER + path (concatenated as written: give the trailing
 * '/'), decoded in color (3 channels, B G R planes) or with -gray as one gray
 * plane, resized to -resize_height x -resize_width when both are set
 * (cv::resize INTER_LINEAR, layers/data/image_codec.h), and stored under the
 * key "%08d_" + path (the record's index after any shuffle, then the path as
 * listed), in batches of 1000. Records are raw pixels, or with -encoded (or an
 * -encode_type) the image encoded as PNG or JPEG: the file's own bytes when
 * no resize is asked, the file's extension is the encoding and it decodes to
 * the asked channel count, else the decoded image re-encoded.
 * layers/data/datum_write.h states the fields of each kind.
 *
 * Where cliff differs from Caffe (all stated in the README):
 *   - an image that cannot be read or decoded stops the conversion naming
 *     LISTFILE:LINE and the path (Caffe logs it and skips the image);
 *   - -shuffle draws a permutation from -seed (default 1): the same seed gives
 *     the same database (Caffe seeds from the clock);
 *   - -check_size compares C x H x W of every decoded image (after the resize)
 *     with the first one's, raw or encoded (Caffe compares raw byte counts);
 *   - -encoded without -encode_type guesses the encoding from the file name
 *     and stops at a name without an extension; the encodings are png, jpg
 *     and jpeg (Caffe: whatever OpenCV writes);
 *   - -encoded keeps a file's bytes only when they decode to the asked channel
 *     count (Caffe keeps a color file's bytes under -gray too);
 *   - only one of -resize_width / -resize_height is a usage error (Caffe
 *     ignores it);
 *   - the database appears at DB_NAME only when complete (written as
 *     DB_NAME.partial and renamed); DB_NAME must not exist.
 * Exit codes (tools/exit_codes.h): 2 usage, 3 a bad list or image, 6 the
 * database cannot be written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/data/datum_write.h"
#include "layers/data/db_writer.h"
#include "layers/data/image_codec.h"
#include "layers/data/image_list.h"
#include "layers/kernels/rng.h"
#include "tools/cli/files.h"
#include "tools/cli/flags.h"
#include "tools/exit_codes.h"

#define USAGE "convert_imageset [FLAGS] ROOTFOLDER/ LISTFILE DB_NAME"

typedef struct Opts {
    int gray, shuffle, resize_w, resize_h, check_size, encoded, seed;
    const char *backend, *encode_type;
    const char *root, *list, *db;
    CliffImageFormat fmt;
} Opts;

typedef struct Shape {
    int c, h, w;
    long line; /* where the first image was listed; 0 before it */
} Shape;

/* The encoding for path: enc is -encode_type, else the file's extension (both
 * lower case, as Caffe's), ext the extension. */
static int encoding_of(const Opts *o, const char *path, char *ext, char *enc, size_t size,
                       CliffImageFormat *fmt, CliffError *err)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    snprintf(ext, size, "%s", dot && (!slash || dot > slash) ? dot + 1 : "");
    snprintf(enc, size, "%s", o->encode_type[0] ? o->encode_type : ext);
    for (char *p = ext; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    for (char *p = enc; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    if (!enc[0])
        return cliff_error_set(err, "cannot guess the encoding of '%s' (no extension): give "
                               "-encode_type png or jpg", path);
    return cliff_image_format_parse(enc, fmt, err) ? cliff_error_prefix(err, "'%s': ", path) : 0;
}

/* The packed Datum of one listed image. */
static int make_record(const Opts *o, const char *path, int label, Shape *first, long line,
                       uint8_t **rec, size_t *reclen, CliffError *err)
{
    uint8_t *bytes;
    size_t n;
    if (tool_read_file(path, &bytes, &n, err)) return -1;
    int want = o->gray ? 1 : 3, resize = o->resize_w > 0 && o->resize_h > 0;
    CliffImage img, sized;
    int rc = cliff_image_decode(bytes, n, want, &img, err);
    if (rc) cliff_error_prefix(err, "image '%s': ", path);
    if (rc == 0 && resize) {
        rc = cliff_image_resize(&img, o->resize_h, o->resize_w, &sized, err);
        cliff_image_free(&img);
        img = sized;
    }
    if (rc == 0 && o->check_size) {
        if (!first->line) {
            *first = (Shape){img.channels, img.height, img.width, line};
        } else if (img.channels != first->c || img.height != first->h || img.width != first->w) {
            rc = cliff_error_set(err, "image '%s' is %d x %d x %d but the first (line %ld) is "
                                 "%d x %d x %d (C x H x W; -check_size)", path, img.channels,
                                 img.height, img.width, first->line, first->c, first->h,
                                 first->w);
        }
    }
    int encode = o->encoded || o->encode_type[0];
    if (rc == 0 && !encode) {
        rc = cliff_datum_pack(CLIFF_DATUM_RAW, img.channels, img.height, img.width, img.px,
                              (size_t)img.channels * img.height * img.width, label, rec, reclen,
                              err);
    } else if (rc == 0) {
        char ext[32], enc_name[32];
        CliffImageFormat fmt;
        rc = encoding_of(o, path, ext, enc_name, sizeof ext, &fmt, err);
        int keep = 0;
        CliffImage stored;
        /* the file's own bytes when they are what re-encoding would be asked for */
        if (rc == 0 && !resize && !strcmp(ext, enc_name) &&
            cliff_image_decode(bytes, n, 0, &stored, err) == 0) {
            keep = stored.channels == want;
            cliff_image_free(&stored);
        }
        uint8_t *enc = NULL;
        size_t enclen = 0;
        if (rc == 0 && !keep) rc = cliff_image_encode(&img, fmt, &enc, &enclen, err);
        if (rc == 0)
            rc = cliff_datum_pack(CLIFF_DATUM_ENCODED, 0, 0, 0, keep ? bytes : enc,
                                  keep ? n : enclen, label, rec, reclen, err);
        free(enc);
    }
    cliff_image_free(&img);
    free(bytes);
    return rc;
}

static int convert(const Opts *o, CliffImageList *list, CliffDbWriter *db, CliffError *err)
{
    Shape first = {0, 0, 0, 0};
    char *path = NULL, *key = NULL;
    size_t rootlen = strlen(o->root);
    int rc = 0;
    for (int i = 0; rc == 0 && i < list->n; i++) {
        const CliffImageListEntry *e = &list->e[i];
        size_t plen = strlen(e->path);
        char *p = realloc(path, rootlen + plen + 1), *k = p ? realloc(key, plen + 16) : NULL;
        if (p) path = p;
        if (k) key = k;
        if (!p || !k) {
            rc = cliff_error_set(err, "out of memory");
            break;
        }
        snprintf(path, rootlen + plen + 1, "%s%s", o->root, e->path);
        int klen = snprintf(key, plen + 16, "%08d_%s", i, e->path);
        uint8_t *rec;
        size_t reclen;
        if (make_record(o, path, e->label, &first, e->line, &rec, &reclen, err)) {
            cliff_error_prefix(err, "%s:%ld: ", o->list, e->line);
            rc = cliff_error_mark(err, CLIFF_ERR_DATA);
            break;
        }
        rc = cliff_db_put(db, key, (size_t)klen, rec, reclen, err);
        if (rc) cliff_error_mark(err, CLIFF_ERR_IO);
        free(rec);
        if (rc == 0 && (i + 1) % 1000 == 0) printf("Processed %d files.\n", i + 1);
    }
    free(path);
    free(key);
    return rc;
}

/* Fisher-Yates over the list, from -seed. */
static void shuffle(CliffImageList *list, int seed)
{
    CliffRng rng;
    cliff_rng_seed(&rng, (uint64_t)(unsigned)seed);
    for (int i = list->n; i > 1; i--) {
        int j = (int)cliff_rng_below(&rng, (uint64_t)i);
        CliffImageListEntry t = list->e[i - 1];
        list->e[i - 1] = list->e[j];
        list->e[j] = t;
    }
}

int main(int argc, char **argv)
{
    Opts o = {.backend = "lmdb", .encode_type = "", .seed = 1};
    const ToolFlag flags[] = {
        {"gray", TOOL_FLAG_BOOL, &o.gray, "decode images as one gray plane"},
        {"shuffle", TOOL_FLAG_BOOL, &o.shuffle, "store the images in an order drawn from -seed"},
        {"seed", TOOL_FLAG_INT, &o.seed, "the shuffle's seed (cliff's addition)"},
        {"backend", TOOL_FLAG_STRING, &o.backend, "lmdb or leveldb"},
        {"resize_width", TOOL_FLAG_INT, &o.resize_w, "width images are resized to (with height)"},
        {"resize_height", TOOL_FLAG_INT, &o.resize_h, "height images are resized to (with width)"},
        {"check_size", TOOL_FLAG_BOOL, &o.check_size, "stop at an image whose C x H x W differs "
                                                      "from the first's"},
        {"encoded", TOOL_FLAG_BOOL, &o.encoded, "store encoded images (PNG/JPEG), not pixels"},
        {"encode_type", TOOL_FLAG_STRING, &o.encode_type, "png or jpg (default: the file's "
                                                         "extension); implies -encoded"},
    };
    const ToolCli cli = {"convert_imageset",
                         "Converts a set of images to the LMDB/LevelDB format Caffe's Data layer "
                         "reads.", USAGE, flags, (int)(sizeof flags / sizeof flags[0])};
    char *pos[3];
    int npos;
    CliffDbBackend backend;
    int cli_rc = tool_cli_parse(&cli, argc, argv, pos, 3, 3, &npos,
                            "expected ROOTFOLDER/ LISTFILE DB_NAME");
    if (cli_rc || (cli_rc = tool_cli_backend(&cli, o.backend, &backend))) return tool_cli_exit_status(cli_rc);
    o.root = pos[0], o.list = pos[1], o.db = pos[2];
    if ((o.resize_w > 0) != (o.resize_h > 0) || o.resize_w < 0 || o.resize_h < 0)
        return tool_cli_usage_error(&cli, "give both -resize_width and -resize_height (> 0), or "
                                          "neither");
    CliffError err = {0};
    if (o.encode_type[0] && cliff_image_format_parse(o.encode_type, &o.fmt, &err))
        return tool_cli_usage_error(&cli, err.msg);

    CliffImageList list;
    if (cliff_image_list_read(o.list, &list, &err)) {
        fprintf(stderr, "convert_imageset: error: %s\n", err.msg);
        return CLIFF_EXIT_DATA;
    }
    if (o.shuffle) shuffle(&list, o.seed);
    printf("A total of %d images.\n", list.n);
    ToolOutput out;
    CliffDbWriter *db = NULL;
    int rc = tool_output_begin(&out, o.db, 0, &err);
    if (rc == 0) {
        db = cliff_db_create(backend, out.tmp, &err);
        rc = db ? 0 : -1;
        if (rc) tool_output_abandon(&out), tool_output_free(&out);
    }
    if (rc) {
        fprintf(stderr, "convert_imageset: error: %s\n", err.msg);
        cliff_image_list_free(&list);
        return CLIFF_EXIT_IO;
    }
    rc = convert(&o, &list, db, &err);
    if (rc) {
        cliff_db_abandon(db);
    } else if (cliff_db_finish(db, &err) || tool_output_commit(&out, &err)) {
        rc = cliff_error_mark(&err, CLIFF_ERR_IO);
    }
    if (rc) tool_output_abandon(&out);
    tool_output_free(&out);
    if (rc) {
        fprintf(stderr, "convert_imageset: error: %s\n", err.msg);
        cliff_image_list_free(&list);
        return cliff_exit_code(&err);
    }
    printf("Processed %d files -> %s (%s)\n", list.n, o.db, cliff_db_backend_name(backend));
    cliff_image_list_free(&list);
    return 0;
}
