/* Config files: syntax choice, bounded file reading, --set overrides and
 * Caffe's net resolution for solvers. */
#include "config.h"
#include "first_contact.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "desc_walk.h"
#include "textformat.h"
#include "upgrade.h"
#include "yaml_reader.h"

int cliff_config_format(const char *path, const char *format, CliffFormat *out, CliffError *err)
{
    if (format) {
        if (!strcmp(format, "text") || !strcmp(format, "prototxt")) *out = CLIFF_FORMAT_TEXT;
        else if (!strcmp(format, "yaml")) *out = CLIFF_FORMAT_YAML;
        else
            return cliff_error_set(err, "%s: error: unknown config format '%s' (use text or yaml)",
                                   path, format);
        return 0;
    }
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    *out = CLIFF_FORMAT_TEXT;
    if (dot && (!slash || dot > slash) && (!strcasecmp(dot, ".yaml") || !strcasecmp(dot, ".yml")))
        *out = CLIFF_FORMAT_YAML;
    return 0;
}

ProtobufCMessage *cliff_config_parse(const ProtobufCMessageDescriptor *desc, CliffFormat fmt,
                                     const char *path, const char *src, size_t len,
                                     CliffSrcMap *map, CliffError *err)
{
    if (fmt == CLIFF_FORMAT_YAML) return cliff_yaml_parse(desc, path, src, len, map, err);
    return cliff_text_parse(desc, path, src, len, map, err);
}

int cliff_config_slurp(const char *path, char **buf, size_t *len, CliffError *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return cliff_error_set(err, "%s: error: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            fclose(f);
            return cliff_error_set(err, "%s: error: cannot open: %s", path, strerror(EISDIR));
        }
        if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > CLIFF_CONFIG_MAX_BYTES) {
            fclose(f);
            return cliff_error_set(err, "%s: error: file is larger than %zu MiB", path,
                                   CLIFF_CONFIG_MAX_BYTES >> 20);
        }
    }
    size_t cap = 0, n = 0;
    char *b = NULL;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > CLIFF_CONFIG_MAX_BYTES) {
                free(b);
                fclose(f);
                return cliff_error_set(err, "%s: error: file is larger than %zu MiB", path,
                                       CLIFF_CONFIG_MAX_BYTES >> 20);
            }
            cap = cap ? 2 * cap : 65536;
            char *g = realloc(b, cap + 1);
            if (!g) {
                free(b);
                fclose(f);
                return cliff_error_set(err, "%s: error: out of memory", path);
            }
            b = g;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (bad) {
        free(b);
        return cliff_error_set(err, "%s: error: cannot read: %s", path, strerror(saved));
    }
    if (n > CLIFF_CONFIG_MAX_BYTES) {
        free(b);
        return cliff_error_set(err, "%s: error: file is larger than %zu MiB", path,
                               CLIFF_CONFIG_MAX_BYTES >> 20);
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

int cliff_config_read_file(const char *path, const char *format,
                           const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg,
                           CliffSrcMap *map, CliffError *err)
{
    CliffFormat fmt = CLIFF_FORMAT_TEXT;
    char *buf;
    size_t len;
    *msg = NULL;
    if (cliff_config_format(path, format, &fmt, err)) return -1;
    if (cliff_config_slurp(path, &buf, &len, err)) return -1;
    *msg = cliff_config_parse(desc, fmt, path, buf, len, map, err);
    free(buf);
    return *msg ? 0 : -1;
}

/* Errors of the upgraders carry a position when they know one; otherwise the
 * file is named. */
static int locate_error(CliffError *err, const char *path)
{
    if (err && !strstr(err->msg, ": error: ")) cliff_error_prefix(err, "%s: error: ", path);
    return -1;
}

int cliff_net_load(const char *path, const char *format, Cliff__NetParameter **net,
                   CliffSrcMap *map, CliffError *err)
{
    ProtobufCMessage *m;
    size_t map_n = map ? map->n : 0;
    *net = NULL;
    if (cliff_config_read_file(path, format, &cliff__net_parameter__descriptor, &m, map, err))
        return -1;
    if (cliff_upgrade_net((Cliff__NetParameter *)m, map, err)) {
        protobuf_c_message_free_unpacked(m, NULL);
        if (map) map->n = map_n; /* no positions of freed messages */
        return locate_error(err, path);
    }
    *net = (Cliff__NetParameter *)m;
    return 0;
}

/* ---- overrides -------------------------------------------------------- */

typedef struct {
    const char *name;
    size_t len;
    int has_index;
    size_t index;
} Seg;

#define MAX_SEGS 32

/* Splits "a.b[2].c" into segments; -1 when malformed. */
static int split_path(const char *p, size_t plen, Seg *segs, size_t *nseg)
{
    size_t i = 0, n = 0;
    while (i < plen) {
        if (n == MAX_SEGS) return -1;
        Seg *s = &segs[n++];
        memset(s, 0, sizeof *s);
        s->name = p + i;
        if (!(isalpha((unsigned char)p[i]) || p[i] == '_')) return -1;
        while (i < plen && (isalnum((unsigned char)p[i]) || p[i] == '_')) i++;
        s->len = (size_t)(p + i - s->name);
        if (i < plen && p[i] == '[') {
            i++;
            if (i >= plen || !isdigit((unsigned char)p[i])) return -1;
            s->has_index = 1;
            while (i < plen && isdigit((unsigned char)p[i])) {
                if (s->index > 100000000) return -1;
                s->index = s->index * 10 + (size_t)(p[i++] - '0');
            }
            if (i >= plen || p[i] != ']') return -1;
            i++;
        }
        if (i < plen) {
            if (p[i] != '.') return -1;
            if (++i == plen) return -1;
        }
    }
    *nseg = n;
    return n ? 0 : -1;
}

/* "[]", spaces allowed around and inside. */
static int is_empty_list(const char *v)
{
    while (isspace((unsigned char)*v)) v++;
    if (*v++ != '[') return 0;
    while (isspace((unsigned char)*v)) v++;
    if (*v++ != ']') return 0;
    while (isspace((unsigned char)*v)) v++;
    return *v == '\0';
}

/* Rewrites "anything: error: MSG" into "--set ASSIGN: error: MSG". */
static int set_error(CliffError *err, const char *assignment)
{
    if (!err) return -1;
    char msg[CLIFF_ERROR_MAX];
    const char *e = strstr(err->msg, ": error: ");
    snprintf(msg, sizeof msg, "%s", e ? e + 9 : err->msg);
    return cliff_error_set(err, "--set %s: error: %s", assignment, msg);
}

/* Walks segs[0..n-1) from m. With create=0 nothing changes and a missing
 * singular message ends the walk at its descriptor (*out = NULL). Fills
 * *out and *out_desc with the message owning the last segment. */
static int navigate(ProtobufCMessage *m, const Seg *segs, size_t n, int create,
                    ProtobufCMessage **out, const ProtobufCMessageDescriptor **out_desc,
                    CliffError *err)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    char walked[512] = "";
    CliffWalk w;
    cliff_walk_init(&w);
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        const Seg *s = &segs[i];
        const ProtobufCFieldDescriptor *f = cliff_field_by_name(d, s->name, s->len);
        size_t wl = strlen(walked);
        snprintf(walked + wl, sizeof walked - wl, "%s%.*s", i ? "." : "", (int)s->len, s->name);
        if (!f) {
            cliff_err_unknown_field(err, d, s->name, s->len);
            goto out;
        }
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
            char tn[160];
            cliff_error_set(err, "%s is %s, not a message: it has no field '%.*s'", walked,
                            cliff_field_type_name(f, tn, sizeof tn), (int)segs[i + 1].len,
                            segs[i + 1].name);
            goto out;
        }
        int repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
        if (repeated && !s->has_index) {
            cliff_error_set(err, "%s is repeated: give an index, as in %s[0]", walked, walked);
            goto out;
        }
        if (!repeated && s->has_index) {
            cliff_error_set(err, "%s is not repeated: it takes no index", walked);
            goto out;
        }
        ProtobufCMessage *next = NULL;
        if (repeated) {
            size_t cnt = m ? cliff_field_count(m, f) : 0;
            if (s->index >= cnt) {
                cliff_error_set(err, "index %zu is out of range: %s has %zu element%s", s->index,
                                walked, cnt, cnt == 1 ? "" : "s");
                goto out;
            }
            next = (ProtobufCMessage *)cliff_field_key(m, f, s->index);
        } else if (m) {
            next = *(ProtobufCMessage **)((char *)m + f->offset);
            if (!next && create && !(next = cliff_walk_sub(&w, m, f, err))) goto out;
        }
        wl = strlen(walked);
        if (s->has_index) snprintf(walked + wl, sizeof walked - wl, "[%zu]", s->index);
        m = next;
        d = f->descriptor;
    }
    *out = m;
    *out_desc = d;
    rc = 0;
out:
    cliff_walk_free(&w);
    return rc;
}

int cliff_config_override(ProtobufCMessage *msg, const char *assignment, CliffSrcMap *map,
                          CliffError *err)
{
    const char *eq = strchr(assignment, '=');
    Seg segs[MAX_SEGS];
    size_t nseg;
    if (!eq || eq == assignment)
        return cliff_error_set(err, "--set %s: error: expected FIELD=VALUE", assignment);
    if (split_path(assignment, (size_t)(eq - assignment), segs, &nseg))
        return cliff_error_set(err, "--set %s: error: malformed field path '%.*s'", assignment,
                               (int)(eq - assignment), assignment);
    const char *value = eq + 1;

    /* 1. check the whole path without changing anything */
    ProtobufCMessage *owner;
    const ProtobufCMessageDescriptor *od;
    if (navigate(msg, segs, nseg - 1, 0, &owner, &od, err)) return set_error(err, assignment);
    const Seg *last = &segs[nseg - 1];
    const ProtobufCFieldDescriptor *f = cliff_field_by_name(od, last->name, last->len);
    if (!f) {
        cliff_err_unknown_field(err, od, last->name, last->len);
        return set_error(err, assignment);
    }
    int repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
    if (last->has_index) {
        size_t cnt = owner ? cliff_field_count(owner, f) : 0;
        if (!repeated) {
            cliff_error_set(err, "%s.%s is not repeated: it takes no index", od->short_name,
                            f->name);
            return set_error(err, assignment);
        }
        if (last->index >= cnt) {
            cliff_error_set(err, "index %zu is out of range: %s has %zu element%s", last->index,
                            f->name, cnt, cnt == 1 ? "" : "s");
            return set_error(err, assignment);
        }
    }

    /* 2. parse the value into a scratch message of the owner's type */
    ProtobufCMessage *tmp = cliff_msg_new(od);
    if (!tmp) return cliff_error_set(err, "--set %s: error: out of memory", assignment);
    int rc;
    int bare = (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_BYTES) &&
               value[0] != '"' && value[0] != '\'' && value[0] != '[';
    if (bare) {
        CliffWalk w;
        cliff_walk_init(&w);
        rc = cliff_walk_set_scalar(&w, tmp, f, value, strlen(value), CLIFF_SCALAR_BARE_STR, err);
        cliff_walk_free(&w);
    } else {
        size_t n = strlen(f->name) + strlen(value) + 3;
        char *text = malloc(n);
        if (!text) {
            protobuf_c_message_free_unpacked(tmp, NULL);
            return cliff_error_set(err, "--set %s: error: out of memory", assignment);
        }
        snprintf(text, n, "%s: %s", f->name, value);
        rc = cliff_text_merge_one(tmp, "--set", text, strlen(text), err);
        free(text);
    }
    if (!rc && last->has_index && cliff_field_count(tmp, f) != 1) {
        cliff_error_set(err, "expected one value for the element %s[%zu]", f->name, last->index);
        rc = -1;
    }
    /* 3. create the path and move the value in */
    if (!rc) rc = navigate(msg, segs, nseg - 1, 1, &owner, &od, err);
    if (rc) {
        protobuf_c_message_free_unpacked(tmp, NULL);
        return set_error(err, assignment);
    }
    /* "FIELD=[]" on a repeated field empties it, so a list can be replaced:
     * --set stepvalue=[] --set stepvalue=[30, 40]. */
    if (repeated && !last->has_index && is_empty_list(value)) cliff_field_clear(owner, f);
    size_t before = repeated ? cliff_field_count(owner, f) : 0;
    if (last->has_index) cliff_field_replace_elem(owner, tmp, f, last->index);
    else if (repeated) rc = cliff_field_append(owner, tmp, f);
    else cliff_field_move(owner, tmp, f);
    protobuf_c_message_free_unpacked(tmp, NULL);
    if (rc) return cliff_error_set(err, "--set %s: error: out of memory", assignment);
    /* The value now comes from the command line: errors about it name the
     * override (line 0: no position in a file) instead of the file's line. */
    size_t first = last->has_index ? last->index : before;
    size_t end = last->has_index ? last->index + 1 : repeated ? cliff_field_count(owner, f) : 1;
    char where[CLIFF_ERROR_MAX];
    snprintf(where, sizeof where, "--set %s", assignment);
    for (size_t i = first; f->type != PROTOBUF_C_TYPE_MESSAGE && i < end; i++) {
        const void *key = cliff_field_key(owner, f, i);
        if (key && cliff_srcmap_add(map, key, where, 0, 0))
            return cliff_error_set(err, "--set %s: error: out of memory", assignment);
    }
    return 0;
}

/* ---- solver ----------------------------------------------------------- */

/* Is the override about a net file path (applied before resolution)? */
static int is_net_path_override(const char *a)
{
    static const char *const names[] = {"net", "train_net", "test_net"};
    size_t n = strcspn(a, "=.[");
    for (int i = 0; i < 3; i++)
        if (strlen(names[i]) == n && !strncmp(a, names[i], n)) return 1;
    return 0;
}

/* Error at the position of field `field`[index] of the solver, when known. */
static int solver_error(const CliffSrcMap *map, const Cliff__SolverParameter *s,
                        const char *path, const char *field, size_t index, CliffError *err,
                        const char *msg)
{
    CliffSrcPos pos;
    if (cliff_srcmap_find_field(map, &s->base, field, index, &pos) == 0)
        return cliff_error_set(err, "%s:%d:%d: error: %s", pos.file, pos.line, pos.col, msg);
    return cliff_error_set(err, "%s: error: %s", path, msg);
}

/* Finds and loads net file `file` named by solver field `field`[index]. */
static int load_net_ref(const char *solver_path, const Cliff__SolverParameter *s,
                        const char *field, size_t index, const char *file,
                        Cliff__NetParameter **net, CliffSrcMap *map, CliffError *err)
{
    char *dir = strdup(solver_path), *c1 = NULL, *c2 = NULL, msg[CLIFF_ERROR_MAX];
    if (!dir) return cliff_error_set(err, "%s: error: out of memory", solver_path);
    char *slash = strrchr(dir, '/');
    if (slash) slash[slash == dir] = 0; /* "/x" -> "/" */
    else strcpy(dir, ".");
    int rc = -1;
    size_t n = strlen(dir) + strlen(file) + 3;
    if (!(c1 = malloc(n)) || !(c2 = malloc(strlen(file) + 3))) {
        cliff_error_set(err, "%s: error: out of memory", solver_path);
        goto out;
    }
    if (file[0] == '/') {
        snprintf(c1, n, "%s", file);
        snprintf(c2, strlen(file) + 3, "%s", file);
    } else {
        snprintf(c1, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", file);
        snprintf(c2, strlen(file) + 3, "./%s", file);
    }
    const char *found = access(c1, F_OK) == 0 ? c1 : access(c2, F_OK) == 0 ? c2 : NULL;
    if (!found) {
        if (!strcmp(c1, c2))
            snprintf(msg, sizeof msg, "net file '%s' not found (looked in %s)", file, c1);
        else
            snprintf(msg, sizeof msg, "net file '%s' not found (looked in %s and %s)", file, c1,
                     c2);
        solver_error(map, s, solver_path, field, index, err, msg);
        goto out;
    }
    rc = cliff_net_load(found, NULL, net, map, err);
    size_t flen = strlen(found);
    if (rc && err && !strncmp(err->msg, found, flen) && !strncmp(err->msg + flen, ": error: ", 9)) {
        /* "found: error: cannot open: Is a directory" has no position in the
         * net file: point at the solver line that named it */
        snprintf(msg, sizeof msg, "net file '%s': %s", found, err->msg + flen + 9);
        solver_error(map, s, solver_path, field, index, err, msg);
    }
out:
    free(dir);
    free(c1);
    free(c2);
    return rc;
}

/* Replaces the path fields by the nets they name. */
static int resolve_nets(const char *path, Cliff__SolverParameter *s, CliffSrcMap *map,
                        CliffError *err)
{
    Cliff__NetParameter *net;
    const struct {
        const char *field, *inline_field;
        char **file;
        Cliff__NetParameter **target;
    } singles[] = {
        {"net", "net_param", &s->net, &s->net_param},
        {"train_net", "train_net_param", &s->train_net, &s->train_net_param},
    };
    for (int i = 0; i < 2; i++) {
        if (!*singles[i].file) continue;
        if (*singles[i].target) {
            char msg[256];
            snprintf(msg, sizeof msg, "both %s and %s are given; use one", singles[i].field,
                     singles[i].inline_field);
            return solver_error(map, s, path, singles[i].field, 0, err, msg);
        }
        if (load_net_ref(path, s, singles[i].field, 0, *singles[i].file, &net, map, err))
            return -1;
        *singles[i].target = net;
        free(*singles[i].file);
        *singles[i].file = NULL;
    }
    if (s->n_test_net) {
        Cliff__NetParameter **grown =
            realloc(s->test_net_param, (s->n_test_net_param + s->n_test_net) * sizeof *grown);
        if (!grown) return cliff_error_set(err, "%s: error: out of memory", path);
        s->test_net_param = grown;
        for (size_t i = 0; i < s->n_test_net; i++) {
            if (load_net_ref(path, s, "test_net", i, s->test_net[i], &net, map, err)) return -1;
            s->test_net_param[s->n_test_net_param++] = net;
        }
        for (size_t i = 0; i < s->n_test_net; i++) free(s->test_net[i]);
        free(s->test_net);
        s->test_net = NULL;
        s->n_test_net = 0;
    }
    return 0;
}

/* Upgrades the nets written inline in the solver file. */
static int upgrade_inline_nets(const char *path, Cliff__SolverParameter *s, CliffSrcMap *map,
                               CliffError *err)
{
    if (s->net_param && cliff_upgrade_net(s->net_param, map, err)) return locate_error(err, path);
    if (s->train_net_param && cliff_upgrade_net(s->train_net_param, map, err))
        return locate_error(err, path);
    for (size_t i = 0; i < s->n_test_net_param; i++)
        if (cliff_upgrade_net(s->test_net_param[i], map, err)) return locate_error(err, path);
    return 0;
}

int cliff_solver_load(const char *path, const char *format, const char *const *overrides,
                      size_t noverrides, Cliff__SolverParameter **solver, CliffSrcMap *map,
                      CliffError *err)
{
    ProtobufCMessage *m;
    CliffSrcMap own; /* positions are needed for errors even when the caller wants none */
    CliffSrcMap *pm = map ? map : &own;
    size_t map_n = map ? map->n : 0;
    *solver = NULL;
    if (!map) cliff_srcmap_init(&own);
    if (cliff_config_read_file(path, format, &cliff__solver_parameter__descriptor, &m, pm, err)) {
        cliff_solver_not_a_net(path, format, err);
        goto fail0;
    }
    Cliff__SolverParameter *s = (Cliff__SolverParameter *)m;
    if (cliff_solver_check_empty(path, s, err)) goto fail;
    if (cliff_upgrade_solver(s, err)) {
        locate_error(err, path);
        goto fail;
    }
    for (size_t i = 0; i < noverrides; i++)
        if (is_net_path_override(overrides[i]) && cliff_config_override(m, overrides[i], pm, err))
            goto fail;
    if (upgrade_inline_nets(path, s, pm, err) || resolve_nets(path, s, pm, err)) goto fail;
    for (size_t i = 0; i < noverrides; i++)
        if (!is_net_path_override(overrides[i]) && cliff_config_override(m, overrides[i], pm, err))
            goto fail;
    if (noverrides && cliff_upgrade_solver(s, err)) { /* an override may set solver_type */
        locate_error(err, path);
        goto fail;
    }
    if (!map) cliff_srcmap_free(&own);
    *solver = s;
    return 0;
fail:
    protobuf_c_message_free_unpacked(m, NULL);
fail0:
    if (map) map->n = map_n; /* no positions of freed messages */
    else cliff_srcmap_free(&own);
    return -1;
}
