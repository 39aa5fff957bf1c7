/* Which layer names a snapshot can hold (see snapshot.h): an HDF5 snapshot
 * stores layer "a/b" as the group path /data/a/b (Caffe's own layout), so a
 * name must be a clean relative path and no two layers may map to one place. */
#include <stdio.h>
#include <string.h>

#include "snapshot.h"

/* A name that is not a clean relative path: "", "/x", "x/", "a//b", ".", "..",
 * "a/./b". Returns the reason or NULL. */
static const char *path_problem(const char *n)
{
    if (!n[0]) return "an empty name";
    if (n[0] == '/' || n[strlen(n) - 1] == '/') return "a '/' at its start or end";
    if (strstr(n, "//")) return "an empty part between two '/'";
    for (const char *p = n; p; p = strchr(p, '/')) {
        if (*p == '/') p++;
        size_t len = strcspn(p, "/");
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return "a '.' or '..' part";
    }
    return NULL;
}

/* 1 when n is "<m>/<digits>": the path of blob <digits> of layer m. */
static int is_blob_of(const char *n, const char *m)
{
    size_t k = strlen(m);
    if (strncmp(n, m, k) || n[k] != '/' || !n[k + 1]) return 0;
    for (const char *p = n + k + 1; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

static int name_error(CliffError *err, const CliffSrcMap *map, const CliffLayer *L,
                      const char *why)
{
    CliffSrcPos pos;
    if (L->param && cliff_srcmap_find(map, L->param, &pos) == 0)
        return cliff_error_set(err, "%s:%d:%d: error: layer '%s' (%s): %s", pos.file, pos.line,
                               pos.col, L->name, L->ops->type, why);
    return cliff_error_set(err, "error: layer '%s' (%s): %s", L->name, L->ops->type, why);
}

int cliff_snapshot_names_check(const CliffNet *net, const CliffSrcMap *map, CliffError *err)
{
    char why[2 * CLIFF_ERROR_MAX / 4];
    for (int i = 0; i < net->nlayers; i++) {
        if (net->layers[i].is_split) continue;
        const CliffLayer *L = &net->layers[i].layer;
        const char *p = path_problem(L->name);
        if (p) {
            snprintf(why, sizeof why, "a snapshot cannot store a layer name with %s (HDF5 "
                     "reads layer names as group paths)", p);
            return name_error(err, map, L, why);
        }
        for (int j = 0; j < net->nlayers; j++) {
            if (j == i || net->layers[j].is_split) continue;
            const CliffLayer *M = &net->layers[j].layer;
            const char *clash = NULL;
            if (!strcmp(L->name, M->name) && j < i)
                clash = "a second layer of that name: snapshots find weights by layer name";
            else if (is_blob_of(L->name, M->name))
                clash = "it is the snapshot path of a parameter blob of that layer";
            else if (L->ops->state_save && !strncmp(M->name, L->name, strlen(L->name)) &&
                     M->name[strlen(L->name)] == '/')
                clash = "this layer's saved data state is stored at the path that layer's "
                        "group needs";
            if (clash) {
                snprintf(why, sizeof why, "its name clashes with layer '%.200s': %s; rename one",
                         M->name, clash);
                return name_error(err, map, L, why);
            }
        }
    }
    return 0;
}
