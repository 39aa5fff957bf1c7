/* Helpers for the tests of the data tools (convert_imageset, compute_image_mean,
 * convert_mnist_data): a scratch folder per test program, running a tool of
 * the build tree (CLIFF_BUILD, default "build") with its stdout and stderr
 * captured, PNG files with known pixels, and Data-layer nets over the
 * databases the tools write. Header-only (static inline). */
#ifndef CLIFF_TOOL_FIXTURE_H
#define CLIFF_TOOL_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "layers/data/image_codec.h"
#include "net_fixture.h"

static char tfx_dir[128];

static inline void tfx_init(const char *name)
{
    snprintf(tfx_dir, sizeof tfx_dir, "/tmp/cliff-test-%s-%d", name, (int)getpid());
    mkdir(tfx_dir, 0700);
}

static inline void tfx_cleanup(void)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tfx_dir);
    if (system(cmd)) {}
}

/* tfx_dir + "/" + name, in one of 8 rotating buffers. */
static inline const char *tfx_path(const char *name)
{
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 256, "%s/%s", tfx_dir, name);
    return p;
}

/* Runs "BUILD/TOOL ARGS" (args printf-style, already quoted) from the
 * repository root; stdout and stderr go to tfx_path("out") / ("err").
 * Returns the exit status (-1 if it did not exit). */
static inline int tfx_run(const char *tool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline int tfx_run(const char *tool, const char *fmt, ...)
{
    const char *build = getenv("CLIFF_BUILD");
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s/%s %s > '%s/out' 2> '%s/err'", build ? build : "build", tool,
             args, tfx_dir, tfx_dir);
    int rc = system(cmd);
    return rc >= 0 && (rc & 0x7f) == 0 ? (rc >> 8) & 0xff : -1;
}

/* The captured stderr of the last tfx_run (static buffer). */
static inline const char *tfx_stderr(void)
{
    static char buf[4096];
    FILE *f = fopen(tfx_path("err"), "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    return buf;
}

static inline int tfx_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Writes text to tfx_path(name). */
static inline void tfx_write(const char *name, const char *text)
{
    FILE *f = fopen(tfx_path(name), "w");
    if (!f || fputs(text, f) < 0 || fclose(f)) CHECK_FAILF("cannot write %s", name);
}

/* A c x h x w image whose pixel (ch, y, x) is (seed * 37 + ch * 71 + y * 13 + x * 5) % 256,
 * written as PNG or JPEG to tfx_path(name). img is filled (caller frees). */
static inline void tfx_image(const char *name, int c, int h, int w, int seed, CliffImageFormat fmt,
                             CliffImage *img)
{
    CliffError err;
    if (cliff_image_alloc(img, c, (size_t)h, (size_t)w, 1 << 20, &err)) {
        CHECK_FAILF("alloc: %s", err.msg);
        return;
    }
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                img->px[((size_t)ch * h + y) * w + x] =
                    (uint8_t)((seed * 37 + ch * 71 + y * 13 + x * 5) % 256);
    uint8_t *buf;
    size_t len;
    if (cliff_image_encode(img, fmt, &buf, &len, &err)) {
        CHECK_FAILF("encode: %s", err.msg);
        return;
    }
    FILE *f = fopen(tfx_path(name), "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) CHECK_FAILF("cannot write %s", name);
    free(buf);
}

/* A net of one Data layer over source (batch `batch`), extra after data_param. */
static inline CliffNet *tfx_data_net(NetFx *fx, const char *source, int lmdb, int batch,
                                     const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text,
             "layer { name: 'd' type: 'Data' top: 'data' top: 'label' "
             "data_param { source: '%s' backend: %s batch_size: %d } %s }",
             source, lmdb ? "LMDB" : "LEVELDB", batch, extra);
    return nfx_build_ok(fx, text, CLIFF__PHASE__TEST, NULL);
}

#endif
