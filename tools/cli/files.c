/* Whole-file reads and staged outputs (files.h). */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

int tool_read_file(const char *path, uint8_t **buf, size_t *len, CliffError *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return cliff_error_set(err, "cannot read '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return cliff_error_set(err, "cannot read '%s': not a regular file", path);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) {
        fclose(f);
        return cliff_error_set(err, "cannot read '%s': out of memory (%zu bytes)", path, n);
    }
    size_t got = fread(b, 1, n, f);
    int bad = ferror(f) || got != n;
    fclose(f);
    if (bad) {
        free(b);
        return cliff_error_set(err, "cannot read '%s': read error", path);
    }
    *buf = b;
    *len = n;
    return 0;
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p) ? -1 : 0;
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0) nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int tool_output_begin(ToolOutput *o, const char *path, int replace, CliffError *err)
{
    o->path = strdup(path);
    size_t n = strlen(path) + sizeof ".partial";
    o->tmp = malloc(n);
    if (!o->path || !o->tmp) {
        tool_output_free(o);
        return cliff_error_set(err, "out of memory");
    }
    snprintf(o->tmp, n, "%s.partial", path);
    struct stat st;
    if (!replace && lstat(path, &st) == 0) {
        tool_output_free(o);
        return cliff_error_set(err, "'%s' exists already (remove it or name another output)",
                               path);
    }
    remove_tree(o->tmp);
    return 0;
}

int tool_output_commit(ToolOutput *o, CliffError *err)
{
    if (rename(o->tmp, o->path))
        return cliff_error_set(err, "cannot rename '%s' to '%s': %s", o->tmp, o->path,
                               strerror(errno));
    return 0;
}

void tool_output_abandon(ToolOutput *o)
{
    if (o->tmp) remove_tree(o->tmp);
}

void tool_output_free(ToolOutput *o)
{
    free(o->path);
    free(o->tmp);
    o->path = o->tmp = NULL;
}
