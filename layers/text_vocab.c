/* Text symbols and vocabularies (text_vocab.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_vocab.h"

#define MAX_CODEPOINT 0x10FFFFu

const char *cliff_text_level_name(int level)
{
    return level == CLIFF_TEXT_BYTE ? "BYTE" : "CODEPOINT";
}

/* The length of the valid UTF-8 sequence at b[0..n), or 0 when invalid;
 * *cp gets the code point. */
static size_t utf8_one(const unsigned char *b, size_t n, uint32_t *cp)
{
    unsigned char c = b[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0; /* overlong */
        if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90; /* overlong */
        if (c == 0xF4) hi = 0x8F; /* past U+10FFFF */
    } else
        return 0;
    if (n < len || b[1] < lo || b[1] > hi) return 0;
    uint32_t v = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((b[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (b[i] & 0x3F);
    }
    *cp = v;
    return len;
}

int cliff_text_decode(const unsigned char *buf, size_t n, int level, uint32_t *out,
                      size_t *nsym, CliffError *err)
{
    size_t k = 0;
    if (level == CLIFF_TEXT_BYTE) {
        for (size_t i = 0; i < n; i++) out[i] = buf[i];
        *nsym = n;
        return 0;
    }
    for (size_t i = 0; i < n;) {
        size_t len = utf8_one(buf + i, n - i, &out[k]);
        if (!len) {
            char bytes[32] = "";
            for (size_t j = i; j < n && j < i + 4; j++)
                snprintf(bytes + strlen(bytes), sizeof bytes - strlen(bytes), " 0x%02x", buf[j]);
            return cliff_error_set(err, "invalid UTF-8 at byte offset %zu (bytes%s)", i, bytes);
        }
        i += len;
        k++;
    }
    *nsym = k;
    return 0;
}

size_t cliff_text_encode(uint32_t s, int level, unsigned char *out)
{
    unsigned char tmp[4];
    if (!out) out = tmp;
    if (level == CLIFF_TEXT_BYTE || s < 0x80) {
        out[0] = (unsigned char)s;
        return 1;
    }
    static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
    size_t len = s < 0x800 ? 2 : s < 0x10000 ? 3 : 4;
    for (size_t i = len - 1; i > 0; i--, s >>= 6) out[i] = (unsigned char)(0x80 | (s & 0x3F));
    out[0] = (unsigned char)(lead[len] | s);
    return len;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Fills v->index from v->symbol; 1 when a symbol is listed twice (*dup_a and
 * *dup_b get the two ids), -1 out of memory. */
static int make_index(CliffTextVocab *v, size_t *dup_a, size_t *dup_b)
{
    v->index = malloc(v->n * sizeof *v->index + 1);
    if (!v->index) return -1;
    for (size_t i = 0; i < v->n; i++) v->index[i] = (uint64_t)v->symbol[i] << 32 | i;
    qsort(v->index, v->n, sizeof *v->index, cmp_u64);
    for (size_t i = 1; i < v->n; i++)
        if (v->index[i] >> 32 == v->index[i - 1] >> 32) {
            *dup_a = (size_t)(v->index[i - 1] & 0xFFFFFFFFu);
            *dup_b = (size_t)(v->index[i] & 0xFFFFFFFFu);
            return 1;
        }
    return 0;
}

int cliff_text_vocab_build(CliffTextVocab *v, int level, const uint32_t *text, size_t n,
                           CliffError *err)
{
    memset(v, 0, sizeof *v);
    v->level = level;
    size_t range = level == CLIFF_TEXT_BYTE ? 256 : MAX_CODEPOINT + 1;
    unsigned char *seen = calloc(range / 8 + 1, 1);
    if (!seen) return cliff_error_set(err, "out of memory");
    for (size_t i = 0; i < n; i++) seen[text[i] >> 3] |= (unsigned char)(1u << (text[i] & 7));
    for (size_t s = 0; s < range; s++) v->n += seen[s >> 3] >> (s & 7) & 1;
    v->symbol = malloc(v->n * sizeof *v->symbol + 1);
    size_t k = 0, a, b;
    if (v->symbol)
        for (uint32_t s = 0; s < range; s++)
            if (seen[s >> 3] >> (s & 7) & 1) v->symbol[k++] = s;
    free(seen);
    if (!v->symbol || make_index(v, &a, &b) < 0) {
        cliff_text_vocab_free(v);
        return cliff_error_set(err, "out of memory");
    }
    return 0;
}

int64_t cliff_text_vocab_id(const CliffTextVocab *v, uint32_t symbol)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t s = (uint32_t)(v->index[mid] >> 32);
        if (s == symbol) return (int64_t)(v->index[mid] & 0xFFFFFFFFu);
        if (s < symbol) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* Reads the header line "cliff-vocabulary LEVEL COUNT". */
static int read_header(FILE *f, const char *path, int level, size_t *count, CliffError *err)
{
    char line[128], name[32];
    unsigned long long n;
    char extra;
    if (!fgets(line, sizeof line, f) ||
        sscanf(line, "cliff-vocabulary %31s %llu %c", name, &n, &extra) != 2)
        return cliff_error_set(err, "vocabulary_file '%s' line 1: expected 'cliff-vocabulary "
                               "BYTE|CODEPOINT COUNT'", path);
    int file_level = !strcmp(name, "BYTE") ? CLIFF_TEXT_BYTE
                     : !strcmp(name, "CODEPOINT") ? CLIFF_TEXT_CODEPOINT : -1;
    if (file_level < 0)
        return cliff_error_set(err, "vocabulary_file '%s' line 1: unknown level '%s' (known: "
                               "BYTE, CODEPOINT)", path, name);
    if (file_level != level)
        return cliff_error_set(err, "vocabulary_file '%s' holds a %s vocabulary but "
                               "text_data_param.level is %s", path, name,
                               cliff_text_level_name(level));
    if (n == 0 || n > (level == CLIFF_TEXT_BYTE ? 256 : MAX_CODEPOINT + 1))
        return cliff_error_set(err, "vocabulary_file '%s' line 1: %llu symbols (must be 1 to "
                               "%u)", path, n, level == CLIFF_TEXT_BYTE ? 256 : MAX_CODEPOINT + 1);
    *count = (size_t)n;
    return 0;
}

/* The symbols, one per line after the header: the number, then optionally a
 * tab and a comment. */
static int read_symbols(FILE *f, const char *path, CliffTextVocab *v, size_t count,
                        CliffError *err)
{
    uint32_t max = v->level == CLIFF_TEXT_BYTE ? 255 : MAX_CODEPOINT;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        long lineno = (long)v->n + 2;
        if (v->n == count) {
            rc = cliff_error_set(err, "vocabulary_file '%s' line %ld: more than the %zu "
                                 "symbols the header announces", path, lineno, count);
            break;
        }
        char *end;
        errno = 0;
        unsigned long s = line[0] >= '0' && line[0] <= '9' ? strtoul(line, &end, 10) : 0;
        if (line[0] < '0' || line[0] > '9' || errno ||
            (*end != '\t' && *end != '\n' && *end != 0))
            rc = cliff_error_set(err, "vocabulary_file '%s' line %ld: expected a symbol number "
                                 "(then optionally a tab and a comment)", path, lineno);
        else if (s > max || (v->level == CLIFF_TEXT_CODEPOINT && s >= 0xD800 && s <= 0xDFFF))
            rc = cliff_error_set(err, "vocabulary_file '%s' line %ld: %lu is not a %s symbol",
                                 path, lineno, s, v->level == CLIFF_TEXT_BYTE
                                                      ? "byte (0 to 255)" : "Unicode scalar value");
        else
            v->symbol[v->n++] = (uint32_t)s;
    }
    free(line);
    if (rc == 0 && v->n < count)
        rc = cliff_error_set(err, "vocabulary_file '%s' ends after %zu of the %zu symbols the "
                             "header announces", path, v->n, count);
    return rc;
}

int cliff_text_vocab_load(CliffTextVocab *v, int level, const char *path, CliffError *err)
{
    memset(v, 0, sizeof *v);
    v->level = level;
    FILE *f = fopen(path, "r");
    if (!f)
        return cliff_error_set(err, "cannot open vocabulary_file '%s': %s", path, strerror(errno));
    size_t count = 0, a = 0, b = 0;
    int rc = read_header(f, path, level, &count, err);
    if (rc == 0 && !(v->symbol = malloc(count * sizeof *v->symbol)))
        rc = cliff_error_set(err, "out of memory");
    if (rc == 0) rc = read_symbols(f, path, v, count, err);
    if (rc == 0 && ferror(f))
        rc = cliff_error_set(err, "cannot read vocabulary_file '%s'", path);
    fclose(f);
    if (rc == 0) {
        int dup = make_index(v, &a, &b);
        if (dup < 0) rc = cliff_error_set(err, "out of memory");
        if (dup > 0)
            rc = cliff_error_set(err, "vocabulary_file '%s' lines %zu and %zu: symbol %u is "
                                 "listed twice", path, (a < b ? a : b) + 2, (a < b ? b : a) + 2,
                                 v->symbol[a]);
    }
    if (rc) cliff_text_vocab_free(v);
    return rc;
}

/* The comment after a symbol's number: the symbol itself when printable. */
static void write_comment(FILE *f, uint32_t s, int level)
{
    if (s == '\n') fputs("\\n", f);
    else if (s == '\t') fputs("\\t", f);
    else if (s == ' ') fputs("space", f);
    else if (s > 0x20 && s < 0x7F) fputc((int)s, f);
    else if (level == CLIFF_TEXT_CODEPOINT && s >= 0xA0) {
        unsigned char b[4];
        fwrite(b, 1, cliff_text_encode(s, level, b), f);
    }
}

int cliff_text_vocab_save(const CliffTextVocab *v, const char *path, CliffError *err)
{
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    if (!tmp) return cliff_error_set(err, "out of memory");
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        cliff_error_set(err, "cannot write vocabulary '%s': %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    fprintf(f, "cliff-vocabulary %s %zu\n", cliff_text_level_name(v->level), v->n);
    for (size_t i = 0; i < v->n; i++) {
        fprintf(f, "%u\t", v->symbol[i]);
        write_comment(f, v->symbol[i], v->level);
        fputc('\n', f);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        cliff_error_set(err, "cannot write vocabulary '%s': %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

void cliff_text_vocab_free(CliffTextVocab *v)
{
    free(v->symbol);
    free(v->index);
    memset(v, 0, sizeof *v);
}
