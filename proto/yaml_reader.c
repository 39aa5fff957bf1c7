/* YAML reader: libyaml's event stream walked against protobuf-c descriptors,
 * with every value converted by the walker the text reader uses. */
#include "yaml_reader.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "desc_walk.h"

typedef struct {
    yaml_parser_t parser;
    yaml_event_t ev; /* current event (owned while has_ev) */
    int has_ev;
    const char *path;
    CliffSrcMap *map;
    CliffError *err;
    CliffWalk walk;
} Y;

static int yerr(Y *y, yaml_mark_t mark, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int yerr(Y *y, yaml_mark_t mark, const char *fmt, ...)
{
    char msg[CLIFF_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cliff_error_set(y->err, "%s:%zu:%zu: error: %s", y->path, mark.line + 1,
                           mark.column + 1, msg);
}

static int ywrap(Y *y, yaml_mark_t mark)
{
    return cliff_error_prefix(y->err, "%s:%zu:%zu: error: ", y->path, mark.line + 1,
                              mark.column + 1);
}

/* Advances to the next event (y->ev). Aliases are rejected here. */
static int next(Y *y)
{
    if (y->has_ev) yaml_event_delete(&y->ev);
    y->has_ev = 0;
    if (!yaml_parser_parse(&y->parser, &y->ev)) {
        yaml_parser_t *p = &y->parser;
        if (p->error == YAML_MEMORY_ERROR)
            return cliff_error_set(y->err, "%s: error: out of memory", y->path);
        const char *problem = p->problem ? p->problem : "malformed YAML";
        if (p->context)
            return yerr(y, p->problem_mark, "invalid YAML: %s %s", problem, p->context);
        return yerr(y, p->problem_mark, "invalid YAML: %s", problem);
    }
    y->has_ev = 1;
    if (y->ev.type == YAML_ALIAS_EVENT)
        return yerr(y, y->ev.start_mark, "YAML aliases (*%s) are not supported",
                    (const char *)y->ev.data.alias.anchor);
    return 0;
}

static const char *scalar(const Y *y) { return (const char *)y->ev.data.scalar.value; }
static size_t scalar_len(const Y *y) { return y->ev.data.scalar.length; }
static int is_plain(const Y *y) { return y->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE; }

/* A plain empty, "~" or "null" scalar. */
static int is_null(const Y *y)
{
    if (y->ev.type != YAML_SCALAR_EVENT || !is_plain(y)) return 0;
    const char *s = scalar(y);
    return scalar_len(y) == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

/* Short description of the current event for "found ..." messages. */
static const char *ev_desc(const Y *y)
{
    switch (y->ev.type) {
    case YAML_MAPPING_START_EVENT: return "a mapping";
    case YAML_SEQUENCE_START_EVENT: return "a sequence";
    case YAML_SCALAR_EVENT: return "a scalar";
    default: return "end of block";
    }
}

static int parse_mapping(Y *y, ProtobufCMessage *m, int fresh, yaml_mark_t open, int depth);

/* The current event is a scalar value for scalar field f. */
static int set_scalar(Y *y, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    yaml_mark_t at = y->ev.start_mark;
    const char *s = scalar(y);
    size_t len = scalar_len(y);
    int flags = CLIFF_SCALAR_BARE_STR;
    if (!is_plain(y)) flags |= CLIFF_SCALAR_QUOTED | CLIFF_SCALAR_QUOTED_ENUM;
    else if (f->type == PROTOBUF_C_TYPE_FLOAT || f->type == PROTOBUF_C_TYPE_DOUBLE) {
        /* YAML's own spellings of the special floats */
        const char *w = s + (s[0] == '-' || s[0] == '+');
        if (!strcasecmp(w, ".inf")) s = s[0] == '-' ? "-inf" : "inf", len = strlen(s);
        else if (!strcasecmp(w, ".nan") && w == s) s = "nan", len = 3;
    }
    if (is_null(y) && f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_BYTES) {
        char tn[160];
        return yerr(y, at, "missing value for %s.%s (%s)", m->descriptor->short_name, f->name,
                    cliff_field_type_name(f, tn, sizeof tn));
    }
    if (cliff_walk_set_scalar(&y->walk, m, f, s, len, flags, y->err)) return ywrap(y, at);
    return 0;
}

static int record(Y *y, const void *key, yaml_mark_t at)
{
    if (y->map && key && cliff_srcmap_add(y->map, key, y->path, (int)at.line + 1, (int)at.column + 1))
        return cliff_error_set(y->err, "%s: error: out of memory", y->path);
    return 0;
}

static int note(Y *y, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, yaml_mark_t at)
{
    return cliff_walk_note_pos(&y->walk, y->map, y->path, m, f, (int)at.line + 1,
                               (int)at.column + 1, y->err);
}

/* The current event starts the value of message field f (key at `key`):
 * a mapping, or an empty/null scalar for an empty message. */
static int message_value(Y *y, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                         yaml_mark_t key, int depth)
{
    char tn[160];
    if (y->ev.type != YAML_MAPPING_START_EVENT && !is_null(y))
        return yerr(y, y->ev.start_mark, "%s.%s is %s; expected a mapping, found %s",
                    m->descriptor->short_name, f->name, cliff_field_type_name(f, tn, sizeof tn),
                    ev_desc(y));
    int fresh = f->label == PROTOBUF_C_LABEL_REPEATED || !cliff_field_is_set(m, f);
    ProtobufCMessage *sub = cliff_walk_sub(&y->walk, m, f, y->err);
    if (!sub) return cliff_error_prefix(y->err, "%s: error: ", y->path);
    if (record(y, sub, key)) return -1;
    if (y->ev.type == YAML_MAPPING_START_EVENT) return parse_mapping(y, sub, fresh, key, depth + 1);
    /* null: an empty message, which must still have its required fields */
    unsigned char none[1] = {0};
    const ProtobufCMessageDescriptor *sd = f->descriptor;
    unsigned char *given = sd->n_fields ? calloc(sd->n_fields, 1) : none;
    if (!given) return cliff_error_set(y->err, "%s: error: out of memory", y->path);
    const ProtobufCFieldDescriptor *miss = cliff_missing_required(sub, given);
    if (given != none) free(given);
    if (miss)
        return yerr(y, key, "%s is missing required field '%s'", sd->short_name, miss->name);
    return 0;
}

/* The value of field f (key consumed; current event = first event of the value). */
static int field_value(Y *y, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                       yaml_mark_t key, int depth)
{
    char tn[160];
    int repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
    if (y->ev.type == YAML_SEQUENCE_START_EVENT) {
        yaml_mark_t open = y->ev.start_mark;
        if (!repeated)
            return yerr(y, open, "%s.%s is not repeated; a sequence needs a repeated field",
                        m->descriptor->short_name, f->name);
        if (depth + 1 > CLIFF_CONFIG_MAX_DEPTH)
            return yerr(y, open, "nesting deeper than %d levels", CLIFF_CONFIG_MAX_DEPTH);
        for (;;) {
            if (next(y)) return -1;
            if (y->ev.type == YAML_SEQUENCE_END_EVENT) return 0;
            yaml_mark_t item = y->ev.start_mark;
            if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (message_value(y, m, f, item, depth)) return -1;
                continue;
            }
            if (y->ev.type != YAML_SCALAR_EVENT)
                return yerr(y, item, "expected a scalar element of %s.%s (%s), found %s",
                            m->descriptor->short_name, f->name,
                            cliff_field_type_name(f, tn, sizeof tn), ev_desc(y));
            if (set_scalar(y, m, f) || note(y, m, f, item)) return -1;
        }
    }
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) return message_value(y, m, f, key, depth);
    if (y->ev.type != YAML_SCALAR_EVENT)
        return yerr(y, y->ev.start_mark, "%s.%s is %s, not a message; found %s",
                    m->descriptor->short_name, f->name, cliff_field_type_name(f, tn, sizeof tn),
                    ev_desc(y));
    if (set_scalar(y, m, f)) return -1;
    return note(y, m, f, key);
}

/* Fields of m from a mapping whose MAPPING_START is the current event. */
static int parse_mapping(Y *y, ProtobufCMessage *m, int fresh, yaml_mark_t open, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (depth > CLIFF_CONFIG_MAX_DEPTH)
        return yerr(y, open, "nesting deeper than %d levels", CLIFF_CONFIG_MAX_DEPTH);
    int *seen = calloc(d->n_fields ? d->n_fields : 1, sizeof *seen); /* line of first use */
    if (!seen) return cliff_error_set(y->err, "%s: error: out of memory", y->path);
    size_t saved = cliff_walk_body_begin(&y->walk);
    int rc = -1;
    for (;;) {
        if (next(y)) goto out;
        if (y->ev.type == YAML_MAPPING_END_EVENT) break;
        yaml_mark_t key = y->ev.start_mark;
        if (y->ev.type != YAML_SCALAR_EVENT) {
            yerr(y, key, "expected a field name of %s, found %s", d->short_name, ev_desc(y));
            goto out;
        }
        const ProtobufCFieldDescriptor *f = cliff_field_by_name(d, scalar(y), scalar_len(y));
        if (!f) {
            cliff_err_unknown_field(y->err, d, scalar(y), scalar_len(y));
            ywrap(y, key);
            goto out;
        }
        unsigned idx = (unsigned)(f - d->fields);
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            if (seen[idx]) {
                yerr(y, key, "%s.%s is given twice (first at line %d)", d->short_name, f->name,
                     seen[idx]);
                goto out;
            }
            seen[idx] = (int)key.line + 1;
        }
        if (next(y) || field_value(y, m, f, key, depth)) goto out;
    }
    if (fresh) {
        unsigned char *given = malloc(d->n_fields ? d->n_fields : 1);
        if (!given) {
            cliff_error_set(y->err, "%s: error: out of memory", y->path);
            goto out;
        }
        for (unsigned i = 0; i < d->n_fields; i++) given[i] = seen[i] != 0;
        const ProtobufCFieldDescriptor *miss = cliff_missing_required(m, given);
        free(given);
        if (miss) {
            yerr(y, open, "%s is missing required field '%s'", d->short_name, miss->name);
            goto out;
        }
    }
    rc = 0;
out:
    if (cliff_walk_body_end(&y->walk, y->map, y->path, m, saved, rc == 0, y->err)) rc = -1;
    free(seen);
    return rc;
}

/* stream := STREAM_START [DOCUMENT_START node DOCUMENT_END] STREAM_END */
static int parse_stream(Y *y, ProtobufCMessage *m)
{
    if (next(y)) return -1; /* STREAM_START */
    if (next(y)) return -1;
    if (y->ev.type == YAML_STREAM_END_EVENT) return 0; /* empty file: empty message */
    if (next(y)) return -1; /* past DOCUMENT_START */
    yaml_mark_t top = y->ev.start_mark;
    if (y->ev.type == YAML_MAPPING_START_EVENT) {
        if (parse_mapping(y, m, 1, top, 0)) return -1;
    } else if (!is_null(y)) {
        return yerr(y, top, "expected a mapping of %s fields at the top level, found %s",
                    m->descriptor->short_name, ev_desc(y));
    }
    if (next(y)) return -1; /* DOCUMENT_END */
    if (next(y)) return -1;
    if (y->ev.type != YAML_STREAM_END_EVENT)
        return yerr(y, y->ev.start_mark, "more than one YAML document in one config file");
    return 0;
}

ProtobufCMessage *cliff_yaml_parse(const ProtobufCMessageDescriptor *desc, const char *path,
                                   const char *src, size_t len, CliffSrcMap *map,
                                   CliffError *err)
{
    Y y;
    memset(&y, 0, sizeof y);
    y.path = path ? path : "<input>";
    y.map = map;
    y.err = err;
    if (!src) src = "", len = 0;
    if (len > CLIFF_CONFIG_MAX_BYTES) {
        cliff_error_set(err, "%s: error: input is larger than %zu MiB", y.path,
                        CLIFF_CONFIG_MAX_BYTES >> 20);
        return NULL;
    }
    size_t bad;
    if (cliff_utf8_check(src, len, &bad, err)) {
        int line, col;
        cliff_src_linecol(src, bad, &line, &col);
        cliff_error_prefix(err, "%s:%d:%d: error: ", y.path, line, col);
        return NULL;
    }
    ProtobufCMessage *m = cliff_msg_new(desc);
    if (!m || !yaml_parser_initialize(&y.parser)) {
        cliff_error_set(err, "%s: error: out of memory", y.path);
        free(m);
        return NULL;
    }
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)src, len);
    yaml_parser_set_encoding(&y.parser, YAML_UTF8_ENCODING);
    cliff_walk_init(&y.walk);
    size_t map_n = map ? map->n : 0;
    int rc = record(&y, m, (yaml_mark_t){0, 0, 0});
    if (!rc) rc = parse_stream(&y, m);
    if (y.has_ev) yaml_event_delete(&y.ev);
    yaml_parser_delete(&y.parser);
    cliff_walk_free(&y.walk);
    if (rc) {
        protobuf_c_message_free_unpacked(m, NULL);
        if (map) map->n = map_n;
        return NULL;
    }
    return m;
}
