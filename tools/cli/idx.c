/* IDX files through zlib's gz reader, plain or compressed (idx.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "idx.h"

void tool_idx_free(ToolIdx *idx)
{
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

int tool_idx_read(const char *path, ToolIdx *idx, CliffError *err)
{
    memset(idx, 0, sizeof *idx);
    gzFile f = gzopen(path, "rb");
    if (!f) return cliff_error_set(err, "cannot open '%s': %s", path, strerror(errno ? errno : ENOENT));
    unsigned char head[4];
    int rc = 0;
    if (gzread(f, head, 4) != 4 || head[0] || head[1] || head[2] != 0x08 || head[3] < 1 ||
        head[3] > 4) {
        rc = cliff_error_set(err, "'%s' is not an IDX file of unsigned bytes", path);
        goto out;
    }
    idx->ndims = head[3];
    idx->count = 1;
    for (int i = 0; i < idx->ndims; i++) {
        unsigned char d[4];
        if (gzread(f, d, 4) != 4) {
            rc = cliff_error_set(err, "'%s': the IDX header ends early", path);
            goto out;
        }
        idx->dims[i] = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
        if (idx->dims[i] == 0 || idx->dims[i] > 100000000u || idx->count > ((size_t)1 << 32)) {
            rc = cliff_error_set(err, "'%s': IDX size %u out of range", path, idx->dims[i]);
            goto out;
        }
        idx->count *= idx->dims[i];
    }
    if (idx->count > (size_t)1 << 32) {
        rc = cliff_error_set(err, "'%s': %zu IDX values (at most 2^32)", path, idx->count);
        goto out;
    }
    if (!(idx->data = malloc(idx->count))) {
        rc = cliff_error_set(err, "'%s': out of memory", path);
        goto out;
    }
    for (size_t got = 0; got < idx->count;) {
        size_t want = idx->count - got;
        int n = gzread(f, idx->data + got, want > (1u << 30) ? (1u << 30) : (unsigned)want);
        if (n <= 0) {
            rc = cliff_error_set(err, "'%s' ends after %zu of its %zu values", path, got,
                                 idx->count);
            goto out;
        }
        got += (size_t)n;
    }
out:
    gzclose(f);
    if (rc) tool_idx_free(idx);
    return rc;
}
