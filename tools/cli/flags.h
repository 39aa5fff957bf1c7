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

#include "layers/data/db.h"

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

/* One tool's command line: its name (prefix of its messages), the first line
 * of its --help, its usage line and its flags. */
typedef struct ToolCli {
    const char *prog, *summary, *usage;
    const ToolFlag *flags;
    int nflags;
} ToolCli;

/* Prints "PROG: error: MSG" and the usage to stderr; returns CLIFF_EXIT_USAGE. */
int tool_cli_usage_error(const ToolCli *cli, const char *msg);

/* tool_flags_parse plus what every tool does with its outcome. Returns 0 when
 * the tool goes on with pos[0..*npos-1]; else the tool exits with
 * tool_cli_exit_status(result), the messages already printed: TOOL_CLI_HELP
 * for --help (summary and usage on stdout; status 0), CLIFF_EXIT_USAGE for a
 * flag error or a count of positional arguments outside [minpos, maxpos]
 * ("PROG: error: expected ..." naming them, then the usage, on stderr). */
#define TOOL_CLI_HELP (-1)
int tool_cli_parse(const ToolCli *cli, int argc, char **argv, char **pos, int minpos,
                   int maxpos, int *npos, const char *expected);
static inline int tool_cli_exit_status(int parse_result)
{
    return parse_result == TOOL_CLI_HELP ? 0 : parse_result;
}

/* The -backend flag's value, "lmdb" or "leveldb" in any case: 0 with *out
 * set, or the usage error's status (printed). */
int tool_cli_backend(const ToolCli *cli, const char *name, CliffDbBackend *out);

#endif
