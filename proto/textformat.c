/* Protobuf text-format reader driven only by protobuf-c descriptors.
 *
 * Grammar accepted (a superset of what protobuf's TextFormat prints):
 *   body    := { field [';' | ','] }
 *   field   := NAME [':'] ( '{' body '}' | '<' body '>' | '[' list ']' )   message fields
 *            | NAME ':' ( scalar | '[' [scalar {',' scalar}] ']' )         scalar fields
 *   scalar  := WORD | STRING { STRING }      adjacent strings concatenate
 * WORD is a run of [A-Za-z0-9_.+-] (numbers, enum names, true/false, inf, nan);
 * STRING is '...' or "..." with C escapes. '#' starts a comment up to the end
 * of the line. Values are converted by the shared walker (desc_walk.c), so the
 * YAML reader accepts exactly the same scalars. */
#include "textformat.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "desc_walk.h"

typedef enum { T_EOF, T_WORD, T_STRING, T_PUNCT } TokKind;

typedef struct {
    TokKind kind;
    const char *p; /* token text (for strings: including the quotes) */
    size_t len;
    int line, col;
} Tok;

typedef struct {
    const char *path, *src;
    size_t len, pos;
    int line, col;
    Tok ahead; /* one token of lookahead */
    int has_ahead;
    char *sbuf; /* decoded string value */
    size_t slen, scap;
    int allow_override;
    int one_field; /* the top level holds exactly one field (cliff_text_merge_one) */
    CliffSrcMap *map;
    CliffError *err;
    CliffWalk walk;
} Parser;

/* Per-body record of the fields already given: position of the first one. */
typedef struct {
    int line, col;
} Seen;

static int perr(Parser *P, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int perr(Parser *P, int line, int col, const char *fmt, ...)
{
    char msg[CLIFF_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cliff_error_set(P->err, "%s:%d:%d: error: %s", P->path, line, col, msg);
}

/* Prefixes a position to an error the walker filled. */
static int pwrap(Parser *P, int line, int col)
{
    return cliff_error_prefix(P->err, "%s:%d:%d: error: ", P->path, line, col);
}

/* ---- lexer ------------------------------------------------------------ */

static void adv(Parser *P)
{
    unsigned char c = (unsigned char)P->src[P->pos++];
    if (c == '\n') P->line++, P->col = 1;
    else if ((c & 0xC0) != 0x80) P->col++;
}

static int is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-' || c == '+';
}

/* Describes a token for "found X" in errors. */
static const char *tok_desc(const Tok *t, char *buf, size_t n)
{
    if (t->kind == T_EOF) snprintf(buf, n, "end of input");
    else if (t->kind == T_STRING) snprintf(buf, n, "a string");
    else snprintf(buf, n, "'%.*s'", (int)(t->len > 64 ? 64 : t->len), t->p);
    return buf;
}

static int lex(Parser *P, Tok *t)
{
    for (;;) {
        if (P->pos >= P->len) break;
        char c = P->src[P->pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
            adv(P);
        } else if (c == '#') {
            while (P->pos < P->len && P->src[P->pos] != '\n') adv(P);
        } else {
            break;
        }
    }
    t->line = P->line;
    t->col = P->col;
    t->p = P->src + P->pos;
    t->len = 0;
    if (P->pos >= P->len) {
        t->kind = T_EOF;
        return 0;
    }
    unsigned char c = (unsigned char)P->src[P->pos];
    if (strchr("{}<>[]:;,", c)) {
        t->kind = T_PUNCT;
        t->len = 1;
        adv(P);
        return 0;
    }
    if (c == '"' || c == '\'') {
        t->kind = T_STRING;
        adv(P);
        while (P->pos < P->len && P->src[P->pos] != (char)c) {
            if (P->src[P->pos] == '\n') break;
            if (P->src[P->pos] == '\\' && P->pos + 1 < P->len && P->src[P->pos + 1] != '\n')
                adv(P);
            adv(P);
        }
        if (P->pos >= P->len || P->src[P->pos] != (char)c)
            return perr(P, t->line, t->col, "unterminated string (missing closing %c)", c);
        adv(P);
        t->len = (size_t)(P->src + P->pos - t->p);
        return 0;
    }
    if (is_word_char(c)) {
        t->kind = T_WORD;
        while (P->pos < P->len && is_word_char((unsigned char)P->src[P->pos])) adv(P);
        t->len = (size_t)(P->src + P->pos - t->p);
        return 0;
    }
    if (c < 0x20 || c == 0x7f)
        return perr(P, t->line, t->col, "unexpected control character 0x%02x", c);
    size_t n = 1;
    while (n < 4 && P->pos + n < P->len && ((unsigned char)P->src[P->pos + n] & 0xC0) == 0x80) n++;
    return perr(P, t->line, t->col, "unexpected character '%.*s'", (int)n, P->src + P->pos);
}

static int next(Parser *P, Tok *t)
{
    if (P->has_ahead) {
        *t = P->ahead;
        P->has_ahead = 0;
        return 0;
    }
    return lex(P, t);
}

static int peek(Parser *P, Tok *t)
{
    if (!P->has_ahead) {
        if (lex(P, &P->ahead)) return -1;
        P->has_ahead = 1;
    }
    *t = P->ahead;
    return 0;
}

static int is_punct(const Tok *t, char c) { return t->kind == T_PUNCT && t->p[0] == c; }

/* Consumes the next token when it is punctuation c; returns 1 if it was. */
static int accept(Parser *P, char c, int *rc)
{
    Tok t;
    if ((*rc = peek(P, &t))) return 0;
    if (!is_punct(&t, c)) return 0;
    P->has_ahead = 0;
    return 1;
}

static int sbuf_put(Parser *P, char c)
{
    if (P->slen == P->scap) {
        size_t cap = P->scap ? 2 * P->scap : 64;
        char *g = realloc(P->sbuf, cap);
        if (!g) return cliff_error_set(P->err, "%s: error: out of memory", P->path);
        P->sbuf = g;
        P->scap = cap;
    }
    P->sbuf[P->slen++] = c;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Appends the unescaped contents of string token t to P->sbuf. */
static int decode_string(Parser *P, const Tok *t)
{
    const char *s = t->p + 1, *end = t->p + t->len - 1;
    int col = t->col + 1;
    while (s < end) {
        const char *at = s;
        int at_col = col;
        char c = *s++;
        if ((c & 0xC0) != 0x80) col++;
        if (c != '\\') {
            if (sbuf_put(P, c)) return -1;
            continue;
        }
        c = *s++;
        col++;
        int v;
        switch (c) {
        case 'n': v = '\n'; break;
        case 't': v = '\t'; break;
        case 'r': v = '\r'; break;
        case 'a': v = '\a'; break;
        case 'b': v = '\b'; break;
        case 'f': v = '\f'; break;
        case 'v': v = '\v'; break;
        case '\\': case '\'': case '"': case '?': v = c; break;
        case 'x': case 'X':
            if (s >= end || hexval(*s) < 0)
                return perr(P, t->line, at_col, "\\x escape without hex digits");
            v = 0;
            for (int k = 0; k < 2 && s < end && hexval(*s) >= 0; k++, s++, col++)
                v = v * 16 + hexval(*s);
            break;
        default:
            if (c >= '0' && c <= '7') {
                v = c - '0';
                for (int k = 0; k < 2 && s < end && *s >= '0' && *s <= '7'; k++, s++, col++)
                    v = v * 8 + (*s - '0');
                if (v > 255)
                    return perr(P, t->line, at_col, "octal escape '%.*s' is above \\377",
                                (int)(s - at), at);
                break;
            }
            {
                size_t n = 1;
                while (n < 4 && s - 1 + n < end && ((unsigned char)s[n - 1] & 0xC0) == 0x80) n++;
                return perr(P, t->line, at_col, "unknown escape sequence '\\%.*s' in string",
                            (int)n, s - 1);
            }
        }
        if (sbuf_put(P, (char)v)) return -1;
    }
    return 0;
}

/* ---- parser ----------------------------------------------------------- */

static int parse_body(Parser *P, ProtobufCMessage *m, int fresh, char closer, const Tok *open,
                      int depth);

static const char *type_name(const ProtobufCFieldDescriptor *f, char *buf, size_t n)
{
    return cliff_field_type_name(f, buf, n);
}

static int record_field(Parser *P, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                        const Tok *name)
{
    return cliff_walk_note_pos(&P->walk, P->map, P->path, m, f, name->line, name->col, P->err);
}

/* One scalar value (token t already consumed) for field f of m. */
static int parse_scalar_value(Parser *P, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                              const Tok *t)
{
    char tn[160];
    if (t->kind == T_WORD) {
        if (cliff_walk_set_scalar(&P->walk, m, f, t->p, t->len, 0, P->err))
            return pwrap(P, t->line, t->col);
        return 0;
    }
    if (t->kind == T_STRING) {
        P->slen = 0;
        if (decode_string(P, t)) return -1;
        Tok n;
        for (;;) { /* adjacent literals concatenate */
            if (peek(P, &n)) return -1;
            if (n.kind != T_STRING) break;
            P->has_ahead = 0;
            if (decode_string(P, &n)) return -1;
        }
        if (cliff_walk_set_scalar(&P->walk, m, f, P->sbuf ? P->sbuf : "", P->slen,
                                  CLIFF_SCALAR_QUOTED, P->err))
            return pwrap(P, t->line, t->col);
        return 0;
    }
    char d[96];
    if (is_punct(t, '{') || is_punct(t, '<'))
        return perr(P, t->line, t->col, "%s.%s is %s, not a message; found %s",
                    m->descriptor->short_name, f->name, type_name(f, tn, sizeof tn),
                    tok_desc(t, d, sizeof d));
    return perr(P, t->line, t->col, "expected a value for %s.%s (%s), found %s",
                m->descriptor->short_name, f->name, type_name(f, tn, sizeof tn),
                tok_desc(t, d, sizeof d));
}

/* A sub-message value: open is '{' or '<' (consumed), name the token that
 * positions the message in the source map. */
static int parse_sub(Parser *P, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                     const Tok *open, const Tok *name, int depth)
{
    int fresh = f->label == PROTOBUF_C_LABEL_REPEATED || !cliff_field_is_set(m, f);
    ProtobufCMessage *sub = cliff_walk_sub(&P->walk, m, f, P->err);
    if (!sub) return cliff_error_prefix(P->err, "%s: error: ", P->path);
    if (P->map && cliff_srcmap_add(P->map, sub, P->path, name->line, name->col))
        return cliff_error_set(P->err, "%s: error: out of memory", P->path);
    return parse_body(P, sub, fresh, open->p[0] == '{' ? '}' : '>', name, depth + 1);
}

/* The value part of one field (name already consumed and looked up). */
static int parse_field(Parser *P, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                       const Tok *name, int depth)
{
    int rc, colon = accept(P, ':', &rc);
    if (rc) return -1;
    int repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
    char tn[160], d[96];
    Tok t;
    if (next(P, &t)) return -1;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (is_punct(&t, '{') || is_punct(&t, '<')) return parse_sub(P, m, f, &t, name, depth);
        if (is_punct(&t, '[') && repeated) {
            if (depth + 1 > CLIFF_CONFIG_MAX_DEPTH)
                return perr(P, t.line, t.col, "nesting deeper than %d levels",
                            CLIFF_CONFIG_MAX_DEPTH);
            if (accept(P, ']', &rc)) return 0;
            if (rc) return -1;
            for (;;) {
                Tok e;
                if (next(P, &e)) return -1;
                if (!is_punct(&e, '{') && !is_punct(&e, '<'))
                    return perr(P, e.line, e.col,
                                "expected '{' for an element of %s.%s (%s), found %s",
                                m->descriptor->short_name, f->name, type_name(f, tn, sizeof tn),
                                tok_desc(&e, d, sizeof d));
                if (parse_sub(P, m, f, &e, &e, depth)) return -1;
                if (next(P, &e)) return -1;
                if (is_punct(&e, ']')) return 0;
                if (!is_punct(&e, ','))
                    return perr(P, e.line, e.col, "expected ',' or ']' in the list of %s, found %s",
                                f->name, tok_desc(&e, d, sizeof d));
            }
        }
        if (is_punct(&t, '['))
            return perr(P, t.line, t.col, "%s.%s is not repeated; a list needs a repeated field",
                        m->descriptor->short_name, f->name);
        return perr(P, t.line, t.col, "%s.%s is %s; expected '{', found %s",
                    m->descriptor->short_name, f->name, type_name(f, tn, sizeof tn),
                    tok_desc(&t, d, sizeof d));
    }
    if (!colon) {
        if (is_punct(&t, '{') || is_punct(&t, '<'))
            return perr(P, t.line, t.col, "%s.%s is %s, not a message",
                        m->descriptor->short_name, f->name, type_name(f, tn, sizeof tn));
        return perr(P, t.line, t.col, "expected ':' after field name '%s', found %s", f->name,
                    tok_desc(&t, d, sizeof d));
    }
    if (!is_punct(&t, '[')) {
        if (parse_scalar_value(P, m, f, &t)) return -1;
        return record_field(P, m, f, name);
    }
    if (!repeated)
        return perr(P, t.line, t.col, "%s.%s is not repeated; a list needs a repeated field",
                    m->descriptor->short_name, f->name);
    if (accept(P, ']', &rc)) return 0;
    if (rc) return -1;
    for (;;) {
        Tok e;
        if (next(P, &e)) return -1;
        if (parse_scalar_value(P, m, f, &e)) return -1;
        if (record_field(P, m, f, &e)) return -1;
        if (next(P, &e)) return -1;
        if (is_punct(&e, ']')) return 0;
        if (!is_punct(&e, ','))
            return perr(P, e.line, e.col, "expected ',' or ']' in the list of %s, found %s",
                        f->name, tok_desc(&e, d, sizeof d));
    }
}

/* Fields of m up to closer ('}' or '>'; 0 = end of input). open is the token
 * that opened the body (for unterminated-block errors), fresh says m was
 * created by this parse (so required fields must all appear). */
static int parse_body(Parser *P, ProtobufCMessage *m, int fresh, char closer, const Tok *open,
                      int depth)
{
    const ProtobufCMessageDescriptor *desc = m->descriptor;
    char d[96];
    if (depth > CLIFF_CONFIG_MAX_DEPTH)
        return perr(P, open->line, open->col, "nesting deeper than %d levels",
                    CLIFF_CONFIG_MAX_DEPTH);
    Seen *seen = calloc(desc->n_fields ? desc->n_fields : 1, sizeof *seen);
    if (!seen) return cliff_error_set(P->err, "%s: error: out of memory", P->path);
    size_t saved = cliff_walk_body_begin(&P->walk);
    int rc = -1;
    Tok t;
    for (;;) {
        if (next(P, &t)) goto out;
        if (t.kind == T_EOF) {
            if (closer) {
                perr(P, open->line, open->col,
                     "unterminated '%.*s %c': no matching '%c' before end of input",
                     (int)(open->len > 64 ? 64 : open->len), open->p, closer == '}' ? '{' : '<',
                     closer);
                goto out;
            }
            break;
        }
        if (t.kind == T_PUNCT && closer && t.p[0] == closer) break;
        if (is_punct(&t, '}') || is_punct(&t, '>')) {
            if (closer)
                perr(P, t.line, t.col, "expected '%c' to close '%.*s' (line %d), found '%c'",
                     closer, (int)(open->len > 64 ? 64 : open->len), open->p, open->line,
                     t.p[0]);
            else
                perr(P, t.line, t.col, "unexpected '%c' (no block is open)", t.p[0]);
            goto out;
        }
        if (t.kind != T_WORD) {
            perr(P, t.line, t.col, "expected a field name of %s, found %s", desc->short_name,
                 tok_desc(&t, d, sizeof d));
            goto out;
        }
        const ProtobufCFieldDescriptor *f = cliff_field_by_name(desc, t.p, t.len);
        if (!f) {
            cliff_err_unknown_field(P->err, desc, t.p, t.len);
            pwrap(P, t.line, t.col);
            goto out;
        }
        unsigned idx = (unsigned)(f - desc->fields);
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            if (seen[idx].line) {
                perr(P, t.line, t.col, "%s.%s is given twice (first at line %d)",
                     desc->short_name, f->name, seen[idx].line);
                goto out;
            }
            if (!fresh && !P->allow_override && cliff_field_is_set(m, f) &&
                f->label != PROTOBUF_C_LABEL_REQUIRED && f->type != PROTOBUF_C_TYPE_MESSAGE) {
                perr(P, t.line, t.col, "%s.%s is already set", desc->short_name, f->name);
                goto out;
            }
            seen[idx] = (Seen){t.line, t.col};
        }
        if (parse_field(P, m, f, &t, depth)) goto out;
        int lexrc;
        if (!accept(P, ';', &lexrc) && !lexrc) accept(P, ',', &lexrc);
        if (lexrc) goto out;
        if (P->one_field && depth == 0) {
            Tok after;
            if (next(P, &after)) goto out;
            if (after.kind != T_EOF) {
                perr(P, after.line, after.col, "unexpected %s after the value of %s",
                     tok_desc(&after, d, sizeof d), f->name);
                goto out;
            }
            P->has_ahead = 1, P->ahead = after; /* let the loop see the end */
        }
    }
    if (fresh) {
        unsigned char *given = malloc(desc->n_fields ? desc->n_fields : 1);
        if (!given) {
            cliff_error_set(P->err, "%s: error: out of memory", P->path);
            goto out;
        }
        for (unsigned i = 0; i < desc->n_fields; i++) given[i] = seen[i].line != 0;
        const ProtobufCFieldDescriptor *miss = cliff_missing_required(m, given);
        free(given);
        if (miss) {
            perr(P, open->line, open->col, "%s is missing required field '%s'",
                 desc->short_name, miss->name);
            goto out;
        }
    }
    rc = 0;
out:
    if (cliff_walk_body_end(&P->walk, P->map, P->path, m, saved, rc == 0, P->err)) rc = -1;
    free(seen);
    return rc;
}

static int run(Parser *P, ProtobufCMessage *m, int fresh)
{
    size_t bad;
    if (P->len > CLIFF_CONFIG_MAX_BYTES)
        return cliff_error_set(P->err, "%s: error: input is larger than %zu MiB", P->path,
                               CLIFF_CONFIG_MAX_BYTES >> 20);
    if (cliff_utf8_check(P->src, P->len, &bad, P->err)) {
        int line, col;
        cliff_src_linecol(P->src, bad, &line, &col);
        return pwrap(P, line, col);
    }
    if (P->len >= 3 && !memcmp(P->src, "\xEF\xBB\xBF", 3)) P->pos = 3; /* byte-order mark */
    Tok top = {T_EOF, "", 0, 1, 1};
    return parse_body(P, m, fresh, 0, &top, 0);
}

static void parser_init(Parser *P, const char *path, const char *src, size_t len,
                        CliffSrcMap *map, CliffError *err)
{
    memset(P, 0, sizeof *P);
    P->path = path ? path : "<input>";
    P->src = src ? src : "";
    P->len = src ? len : 0;
    P->line = P->col = 1;
    P->map = map;
    P->err = err;
    cliff_walk_init(&P->walk);
}

static void parser_free(Parser *P)
{
    free(P->sbuf);
    cliff_walk_free(&P->walk);
}

ProtobufCMessage *cliff_text_parse(const ProtobufCMessageDescriptor *desc, const char *path,
                                   const char *src, size_t len, CliffSrcMap *map,
                                   CliffError *err)
{
    Parser P;
    parser_init(&P, path, src, len, map, err);
    ProtobufCMessage *m = cliff_msg_new(desc);
    size_t map_n = map ? map->n : 0;
    int rc = -1;
    if (!m) cliff_error_set(err, "%s: error: out of memory", P.path);
    else if (map && cliff_srcmap_add(map, m, P.path, 1, 1))
        cliff_error_set(err, "%s: error: out of memory", P.path);
    else rc = run(&P, m, 1);
    parser_free(&P);
    if (rc) {
        if (m) protobuf_c_message_free_unpacked(m, NULL);
        if (map) map->n = map_n; /* no entries for freed messages */
        return NULL;
    }
    return m;
}

int cliff_text_merge(ProtobufCMessage *msg, const char *path, const char *src, size_t len,
                     int allow_override, CliffSrcMap *map, CliffError *err)
{
    Parser P;
    parser_init(&P, path, src, len, map, err);
    P.allow_override = allow_override;
    size_t map_n = map ? map->n : 0;
    int rc = run(&P, msg, 0);
    parser_free(&P);
    if (rc && map) map->n = map_n;
    return rc;
}

int cliff_text_merge_one(ProtobufCMessage *msg, const char *path, const char *src, size_t len,
                         CliffError *err)
{
    Parser P;
    parser_init(&P, path, src, len, NULL, err);
    P.one_field = 1;
    int rc = run(&P, msg, 0);
    parser_free(&P);
    return rc;
}

int cliff_srcmap_find_field(const CliffSrcMap *map, const ProtobufCMessage *msg,
                            const char *field, size_t index, CliffSrcPos *pos)
{
    const ProtobufCFieldDescriptor *f =
        cliff_field_by_name(msg->descriptor, field, strlen(field));
    const void *key = f ? cliff_field_key(msg, f, index) : NULL;
    return key ? cliff_srcmap_find(map, key, pos) : -1;
}
