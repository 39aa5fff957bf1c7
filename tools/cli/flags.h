/* Command-line flags for the data tools (convert_imageset, compute_image_mean,
 * convert_mnist_data), spelled as Caffe's gflags-based tools take them, so a
 * Caffe user's scripts run unchanged:
 *   -name or --name            a bool flag set (also -name=true|false|1|0)
 *   -noname / --noname         a bool flag cleared
 *   -name=value, -name value   an int or string flag (one or two dashes)
 * Flags may come before, between or after the positional arguments; "--" ends
 * the flags. -h / --help is reported to the caller. */
#ifndef CLIFF_TOOLS_FLAGS_H
#define CLIFF_TOOLS_FLAGS_H

#include <stddef.h>
#include <stdio.h>

typedef enum { TOOL_FLAG_BOOL, TOOL_FLAG_INT, TOOL_FLAG_STRING } ToolFlagKind;

typedef struct ToolFlag {
    const char *name;
    ToolFlagKind kind;
    void *value; /* int * (BOOL, INT) or const char ** (STRING), holding the default */
    const char *help;
} ToolFlag;

/* Parses argv[1..argc-1] against flags[0..nflags-1]; the other arguments go to
 * pos[0..*npos-1] (at most maxpos). Returns 0, 1 for -h/--help, or -1 with a
 * one-line message in msg (unknown flag, missing or malformed value, too many
 * positional arguments). INT values are whole numbers within int. */
int tool_flags_parse(int argc, char **argv, const ToolFlag *flags, int nflags, char **pos,
                     int maxpos, int *npos, char *msg, size_t msgsize);

/* Prints "usage: USAGE" and one line per flag with its default. */
void tool_flags_usage(FILE *f, const char *usage, const ToolFlag *flags, int nflags);

#endif
