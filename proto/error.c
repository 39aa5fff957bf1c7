#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cliff_error_set(CliffError *err, const char *fmt, ...)
{
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->kind = CLIFF_ERR_GENERAL;
    return -1;
}

int cliff_error_mark(CliffError *err, CliffErrorKind kind)
{
    if (err) err->kind = kind;
    return -1;
}

int cliff_error_prefix(CliffError *err, const char *fmt, ...)
{
    if (!err) return -1;
    char prefix[CLIFF_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix), mlen = strnlen(err->msg, sizeof err->msg - 1);
    if (plen > sizeof err->msg - 1) plen = sizeof err->msg - 1;
    if (plen + mlen > sizeof err->msg - 1) mlen = sizeof err->msg - 1 - plen;
    memmove(err->msg + plen, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + mlen] = 0;
    return -1;
}

void cliff_srcmap_init(CliffSrcMap *map) { memset(map, 0, sizeof *map); }

void cliff_srcmap_free(CliffSrcMap *map)
{
    if (!map) return;
    for (size_t i = 0; i < map->nfiles; i++) free(map->files[i]);
    free(map->files);
    free(map->entries);
    memset(map, 0, sizeof *map);
}

static const char *intern_file(CliffSrcMap *map, const char *file)
{
    for (size_t i = 0; i < map->nfiles; i++)
        if (strcmp(map->files[i], file) == 0) return map->files[i];
    char **grown = realloc(map->files, (map->nfiles + 1) * sizeof *grown);
    if (!grown) return NULL;
    map->files = grown;
    char *copy = strdup(file);
    if (!copy) return NULL;
    map->files[map->nfiles++] = copy;
    return copy;
}

int cliff_srcmap_add(CliffSrcMap *map, const void *msg, const char *file, int line, int col)
{
    if (!map) return 0;
    const char *interned = intern_file(map, file ? file : "<input>");
    if (!interned) return -1;
    if (map->n == map->cap) {
        size_t cap = map->cap ? map->cap * 2 : 64;
        struct CliffSrcEntry *grown = realloc(map->entries, cap * sizeof *grown);
        if (!grown) return -1;
        map->entries = grown;
        map->cap = cap;
    }
    map->entries[map->n++] = (struct CliffSrcEntry){msg, {interned, line, col}};
    return 0;
}

int cliff_srcmap_find(const CliffSrcMap *map, const void *msg, CliffSrcPos *pos)
{
    if (!map) return -1;
    /* Latest entry wins: a message re-parsed (e.g. by --set) shadows older ones. */
    for (size_t i = map->n; i-- > 0;)
        if (map->entries[i].msg == msg) {
            *pos = map->entries[i].pos;
            return 0;
        }
    return -1;
}

void cliff_srcmap_rekey(CliffSrcMap *map, const void *msg_from, const void *msg_to)
{
    if (!map) return;
    for (size_t i = 0; i < map->n; i++)
        if (map->entries[i].msg == msg_from) map->entries[i].msg = msg_to;
}
