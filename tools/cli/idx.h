/* IDX files of unsigned bytes (the MNIST / Fashion-MNIST format: a big-endian
 * header with magic 0x0000 08 NDIMS and NDIMS sizes, then the bytes), read
 * plain or gzip-compressed (Debian's dataset-fashion-mnist ships .gz files). */
#ifndef CLIFF_TOOLS_IDX_H
#define CLIFF_TOOLS_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "proto/error.h"

typedef struct ToolIdx {
    int ndims;          /* 1 to 4 */
    uint32_t dims[4];
    size_t count;       /* product of the dims */
    unsigned char *data; /* count bytes (malloc'd) */
} ToolIdx;

/* Reads the whole file. Errors name the path: cannot open, not an IDX file of
 * unsigned bytes, a size of 0 or above 10^8, fewer bytes than the header says. */
int tool_idx_read(const char *path, ToolIdx *idx, CliffError *err);
void tool_idx_free(ToolIdx *idx);

#endif
