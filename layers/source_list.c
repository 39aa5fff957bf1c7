/* Source lists: one data file path per line (source_list.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "source_list.h"

/* Appends a copy of path (from list line `line`); 0 or -1 (out of memory). */
static int push_path(CliffSourceList *l, const char *path, long line)
{
    char **paths = realloc(l->paths, (size_t)(l->n + 1) * sizeof *paths);
    if (!paths) return -1;
    l->paths = paths;
    long *lines = realloc(l->lines, (size_t)(l->n + 1) * sizeof *lines);
    if (!lines) return -1;
    l->lines = lines;
    if (!(paths[l->n] = strdup(path))) return -1;
    lines[l->n++] = line;
    return 0;
}

/* A listed path must name a regular file. */
static int check_listed(const char *field, const char *kind, const char *source, long line,
                        const char *path, CliffError *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return cliff_error_set(err, "%s '%s' line %ld: cannot open %s file '%s': %s", field,
                               source, line, kind, path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cliff_error_set(err, "%s '%s' line %ld: '%s' is not a regular file", field,
                               source, line, path);
    return 0;
}

int cliff_source_list_read(const char *field, const char *kind, const char *source,
                           CliffSourceList *out, CliffError *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(source, "r");
    if (!f) {
        cliff_error_set(err, "cannot open %s '%s': %s", field, source, strerror(errno));
        return cliff_error_mark(err, CLIFF_ERR_DATA);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (memchr(line, 0, (size_t)len)) {
            rc = cliff_error_set(err, "%s '%s' line %ld: the line holds a NUL byte", field,
                                 source, lineno);
            break;
        }
        char *s = line, *e = line + len;
        while (*s == ' ' || *s == '\t') s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
        *e = 0;
        if (!*s) continue;
        if (check_listed(field, kind, source, lineno, s, err)) rc = -1;
        else if (push_path(out, s, lineno)) rc = cliff_error_set(err, "out of memory");
    }
    if (rc == 0 && ferror(f))
        rc = cliff_error_set(err, "cannot read %s '%s': %s", field, source, strerror(errno));
    free(line);
    fclose(f);
    if (rc == 0 && out->n == 0) rc = cliff_error_set(err, "%s '%s' lists no files", field, source);
    if (rc) {
        cliff_source_list_free(out);
        cliff_error_mark(err, CLIFF_ERR_DATA); /* the list or a listed file is bad data */
    }
    return rc;
}

void cliff_source_list_free(CliffSourceList *l)
{
    for (int i = 0; i < l->n; i++) free(l->paths[i]);
    free(l->paths);
    free(l->lines);
    memset(l, 0, sizeof *l);
}
