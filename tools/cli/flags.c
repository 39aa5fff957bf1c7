/* gflags-style command lines for the data tools (flags.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flags.h"
#include "tools/exit_codes.h"

static const ToolFlag *find(const ToolFlag *flags, int n, const char *name, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(flags[i].name) == len && !strncmp(flags[i].name, name, len)) return &flags[i];
    return NULL;
}

static int set_value(const ToolFlag *f, const char *v, char *msg, size_t msgsize)
{
    if (f->kind == TOOL_FLAG_STRING) {
        *(const char **)f->value = v;
        return 0;
    }
    if (f->kind == TOOL_FLAG_BOOL) {
        if (!strcmp(v, "true") || !strcmp(v, "1")) *(int *)f->value = 1;
        else if (!strcmp(v, "false") || !strcmp(v, "0")) *(int *)f->value = 0;
        else return snprintf(msg, msgsize, "-%s takes true or false, not '%s'", f->name, v), -1;
        return 0;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < INT_MIN || x > INT_MAX)
        return snprintf(msg, msgsize, "-%s takes a whole number, not '%s'", f->name, v), -1;
    *(int *)f->value = (int)x;
    return 0;
}

int tool_flags_parse(int argc, char **argv, const ToolFlag *flags, int nflags, char **pos,
                     int maxpos, int *npos, char *msg, size_t msgsize)
{
    int only_pos = 0;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == 0) {
            if (*npos >= maxpos)
                return snprintf(msg, msgsize, "unexpected argument '%s'", a), -1;
            pos[(*npos)++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "-help")) return 1;
        const char *name = a + (a[1] == '-' ? 2 : 1), *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const ToolFlag *f = find(flags, nflags, name, len);
        if (!f && !eq && len > 2 && !strncmp(name, "no", 2)) {
            const ToolFlag *b = find(flags, nflags, name + 2, len - 2);
            if (b && b->kind == TOOL_FLAG_BOOL) {
                *(int *)b->value = 0;
                continue;
            }
        }
        if (!f) return snprintf(msg, msgsize, "unknown flag '%s'", a), -1;
        if (eq) {
            if (set_value(f, eq + 1, msg, msgsize)) return -1;
        } else if (f->kind == TOOL_FLAG_BOOL) {
            *(int *)f->value = 1;
        } else if (i + 1 < argc) {
            if (set_value(f, argv[++i], msg, msgsize)) return -1;
        } else {
            return snprintf(msg, msgsize, "flag '%s' needs a value", a), -1;
        }
    }
    return 0;
}

void tool_flags_usage(FILE *f, const char *usage, const ToolFlag *flags, int nflags)
{
    fprintf(f, "usage: %s\nflags (-name=value or --name value; bools: -name, -noname):\n", usage);
    for (int i = 0; i < nflags; i++) {
        const ToolFlag *x = &flags[i];
        if (x->kind == TOOL_FLAG_STRING) {
            const char *v = *(const char **)x->value;
            fprintf(f, "  -%-14s %s (default \"%s\")\n", x->name, x->help, v ? v : "");
        } else if (x->kind == TOOL_FLAG_BOOL) {
            fprintf(f, "  -%-14s %s (default %s)\n", x->name, x->help,
                    *(int *)x->value ? "true" : "false");
        } else {
            fprintf(f, "  -%-14s %s (default %d)\n", x->name, x->help, *(int *)x->value);
        }
    }
}

int tool_cli_usage_error(const ToolCli *cli, const char *msg)
{
    fprintf(stderr, "%s: error: %s\n", cli->prog, msg);
    tool_flags_usage(stderr, cli->usage, cli->flags, cli->nflags);
    return CLIFF_EXIT_USAGE;
}

int tool_cli_parse(const ToolCli *cli, int argc, char **argv, char **pos, int minpos,
                   int maxpos, int *npos, const char *expected)
{
    char msg[512];
    int rc = tool_flags_parse(argc, argv, cli->flags, cli->nflags, pos, maxpos, npos, msg,
                              sizeof msg);
    if (rc == 1) {
        printf("%s\n", cli->summary);
        tool_flags_usage(stdout, cli->usage, cli->flags, cli->nflags);
        return TOOL_CLI_HELP;
    }
    if (rc) return tool_cli_usage_error(cli, msg);
    if (*npos < minpos || *npos > maxpos) return tool_cli_usage_error(cli, expected);
    return 0;
}

int tool_cli_backend(const ToolCli *cli, const char *name, CliffDbBackend *out)
{
    if (!strcasecmp(name, "lmdb")) *out = CLIFF_DB_LMDB;
    else if (!strcasecmp(name, "leveldb")) *out = CLIFF_DB_LEVELDB;
    else return tool_cli_usage_error(cli, "-backend is lmdb or leveldb");
    return 0;
}
