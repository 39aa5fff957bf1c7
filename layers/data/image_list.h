/* Caffe's image lists ("path label" lines), as ImageData's source and
 * convert_imageset's LISTFILE take them: the label is the integer after the
 * LAST blank (space or tab) of the line, so paths may hold spaces; leading and
 * trailing blanks and the line end (\n or \r\n) are dropped; blank lines are
 * skipped. Each entry keeps its line number for messages. */
#ifndef CLIFF_DATA_IMAGE_LIST_H
#define CLIFF_DATA_IMAGE_LIST_H

#include "proto/error.h"

typedef struct CliffImageListEntry {
    char *path; /* as written in the list (no root folder) */
    int label;
    long line;  /* 1-based line of the list file */
} CliffImageListEntry;

typedef struct CliffImageList {
    CliffImageListEntry *e;
    int n;
} CliffImageList;

/* Reads the list at `file`. Errors (marked CLIFF_ERR_DATA) read "FILE:LINE:
 * ..." for a line without a label, a label that is not a 32-bit integer, a
 * NUL byte; or name the file when it cannot be opened or lists nothing. On
 * error *list needs no free. */
int cliff_image_list_read(const char *file, CliffImageList *list, CliffError *err);
void cliff_image_list_free(CliffImageList *list);

#endif
