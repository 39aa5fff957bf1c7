/* Source lists of the data layers: a text file naming one data file per line
 * (HDF5Data's hdf5_data_param.source, TextData's text_data_param.source).
 *
 * Lines may be of any length; surrounding blanks and blank lines are ignored.
 * Each path must name a regular file, checked here before anyone reads it
 * (HDF5 would read /dev/zero or a FIFO forever). Errors name the field, the
 * list file and the line. */
#ifndef CLIFF_SOURCE_LIST_H
#define CLIFF_SOURCE_LIST_H

#include "proto/error.h"

typedef struct CliffSourceList {
    int n;          /* paths listed (>= 1 on success) */
    char **paths;   /* n malloc'd paths, in list order */
    long *lines;    /* the list-file line of each path (1-based) */
} CliffSourceList;

/* Reads list file `source` given in config field `field` (e.g.
 * "hdf5_data_param.source"); `kind` names the listed files in errors ("HDF5",
 * "text"). 0, or -1 with err filled and *out empty. An empty list is an error. */
int cliff_source_list_read(const char *field, const char *kind, const char *source,
                           CliffSourceList *out, CliffError *err);
void cliff_source_list_free(CliffSourceList *l);

#endif
