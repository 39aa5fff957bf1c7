/* Reading "path label" image lists (contract in image_list.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_list.h"

void cliff_image_list_free(CliffImageList *list)
{
    for (int i = 0; i < list->n; i++) free(list->e[i].path);
    free(list->e);
    list->e = NULL;
    list->n = 0;
}

/* One trimmed, non-empty line s into the list. */
static int add_line(CliffImageList *list, size_t *cap, const char *file, char *s, long lineno,
                    CliffError *err)
{
    char *sp = strrchr(s, ' '), *tab = strrchr(s, '\t');
    if (tab && (!sp || tab > sp)) sp = tab;
    if (!sp) return cliff_error_set(err, "%s:%ld: '%s' has no label (a line is 'path label')",
                                    file, lineno, s);
    char *end;
    errno = 0;
    long label = strtol(sp + 1, &end, 10);
    if (end == sp + 1 || *end || errno || label < INT32_MIN || label > INT32_MAX)
        return cliff_error_set(err, "%s:%ld: label '%s' is not an integer", file, lineno, sp + 1);
    while (sp > s && (sp[-1] == ' ' || sp[-1] == '\t')) sp--;
    *sp = 0;
    if ((size_t)list->n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 64;
        CliffImageListEntry *e = realloc(list->e, ncap * sizeof *e);
        if (!e) return cliff_error_set(err, "out of memory reading %s", file);
        list->e = e;
        *cap = ncap;
    }
    char *path = strdup(s);
    if (!path) return cliff_error_set(err, "out of memory reading %s", file);
    list->e[list->n++] = (CliffImageListEntry){path, (int)label, lineno};
    return 0;
}

int cliff_image_list_read(const char *file, CliffImageList *list, CliffError *err)
{
    list->e = NULL;
    list->n = 0;
    FILE *f = fopen(file, "r");
    if (!f)
        return cliff_error_set(err, "cannot open image list '%s': %s", file, strerror(errno)),
               cliff_error_mark(err, CLIFF_ERR_DATA);
    char *line = NULL;
    size_t cap = 0, ecap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *s = line, *e = line + len;
        if (memchr(line, 0, (size_t)len)) {
            rc = cliff_error_set(err, "%s:%ld: the line holds a NUL byte", file, lineno);
            break;
        }
        while (*s == ' ' || *s == '\t') s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
        *e = 0;
        if (*s) rc = add_line(list, &ecap, file, s, lineno, err);
    }
    free(line);
    fclose(f);
    if (rc == 0 && list->n == 0) rc = cliff_error_set(err, "image list '%s' lists no images", file);
    if (rc) {
        cliff_image_list_free(list);
        return cliff_error_mark(err, CLIFF_ERR_DATA);
    }
    return 0;
}
