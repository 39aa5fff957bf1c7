/* Name tables, did-you-mean and the unknown-name error (see names.h). */
#include "names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const void *cliff_names_row(const CliffNameTable *t, size_t i)
{
    if (i >= t->n) return NULL;
    const char *row = (const char *)t->rows + i * t->stride;
    return t->indirect ? *(const void *const *)row : row;
}

const char *cliff_names_at(const CliffNameTable *t, size_t i)
{
    const char *row = cliff_names_row(t, i);
    return row ? *(const char *const *)(row + t->name_offset) : NULL;
}

const void *cliff_names_find(const CliffNameTable *t, const char *name)
{
    for (size_t i = 0; name && i < t->n; i++)
        if (strcmp(cliff_names_at(t, i), name) == 0) return cliff_names_row(t, i);
    return NULL;
}

const char *cliff_names_list(const CliffNameTable *t, char *buf, size_t len)
{
    size_t used = 0;
    if (len) buf[0] = 0;
    for (size_t i = 0; i < t->n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                                 cliff_names_at(t, i));
    return buf;
}

/* Levenshtein distance on lower-cased bytes, capped: strings longer than 64
 * bytes are never suggested for. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t row[65];
    if (la > 64 || lb > 64) return (size_t)-1;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t best = diag + !same;
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *cliff_names_near(const CliffNameTable *t, const char *word, size_t len)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;
    for (size_t i = 0; i < t->n; i++) {
        const char *name = cliff_names_at(t, i);
        size_t d = edit_distance(word, len, name, strlen(name));
        if (d < bestd) bestd = d, best = name;
    }
    /* A typo changes at most a quarter of the word (at least one edit allowed). */
    size_t longest = len;
    if (best && strlen(best) > longest) longest = strlen(best);
    if (!best || bestd > 1 + longest / 4 || bestd >= longest) return NULL;
    return best;
}

const char *cliff_did_you_mean(const char *word, size_t len, const char *const *names, size_t n)
{
    CliffNameTable t = {names, n, sizeof *names, 0, 0};
    return cliff_names_near(&t, word, len);
}

int cliff_error_unknown_name(CliffError *err, const char *what, const char *name,
                             const CliffNameTable *t)
{
    char known[1536], quoted[132];
    if (!name) name = "";
    /* errors stay on one line and short, whatever the input was */
    snprintf(quoted, sizeof quoted, "%.128s%s", name, strlen(name) > 128 ? "..." : "");
    for (char *c = quoted; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    const char *near = cliff_names_near(t, name, strlen(name));
    cliff_names_list(t, known, sizeof known);
    if (near)
        return cliff_error_set(err, "unknown %s '%s' (did you mean '%s'?; known: %s)", what,
                               quoted, near, known);
    return cliff_error_set(err, "unknown %s '%s' (known: %s)", what, quoted, known);
}
