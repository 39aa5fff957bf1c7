/* Files for the data tools: whole-file reads, and new outputs written under a
 * temporary name and renamed when complete, so that an interrupted or failed
 * conversion never leaves a partial database or mean file at the named path. */
#ifndef CLIFF_TOOLS_FILES_H
#define CLIFF_TOOLS_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/error.h"

/* Reads the whole regular file at path into a malloc'd buffer. Errors read
 * "cannot read 'PATH': why". */
int tool_read_file(const char *path, uint8_t **buf, size_t *len, CliffError *err);

/* A new output: final path (must not exist) and its temporary name PATH.partial. */
typedef struct ToolOutput {
    char *path, *tmp;
} ToolOutput;

/* Checks that path does not exist (unless replace: a file there is replaced
 * at commit) and clears the way (a stale PATH.partial of an earlier failed run
 * is removed). */
int tool_output_begin(ToolOutput *o, const char *path, int replace, CliffError *err);
/* Renames the temporary to the final path. */
int tool_output_commit(ToolOutput *o, CliffError *err);
/* Removes the temporary (a file or a folder tree) after a failure. */
void tool_output_abandon(ToolOutput *o);
void tool_output_free(ToolOutput *o);

#endif
