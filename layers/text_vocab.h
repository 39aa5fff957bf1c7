/* Symbols of text and their vocabulary, for TextData (layers/text_data.c) and
 * the tools that turn ids back into text.
 *
 * A symbol is a byte (level BYTE) or a Unicode code point decoded from strict
 * UTF-8 (level CODEPOINT: no overlong forms, no surrogates, nothing past
 * U+10FFFF, no truncated sequence). The level values equal
 * TextDataParameter.Level's.
 *
 * A vocabulary maps ids 0 .. n-1 to symbols. Built from text, it is the
 * sorted set of the symbols that occur. Its file (written by save, read by
 * load) is UTF-8 text:
 *     cliff-vocabulary CODEPOINT 3        (level and symbol count)
 *     10<TAB>\n                           (one line per id, in id order: the
 *     32<TAB>space                         symbol's number in decimal, then
 *     101<TAB>e                            optionally a tab and anything)
 * The text after the tab is for the reader and ignored on load. Errors name
 * the file and the line. */
#ifndef CLIFF_TEXT_VOCAB_H
#define CLIFF_TEXT_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "proto/error.h"

enum { CLIFF_TEXT_BYTE = 0, CLIFF_TEXT_CODEPOINT = 1 };

typedef struct CliffTextVocab {
    int level;
    size_t n;         /* symbols */
    uint32_t *symbol; /* n: id -> symbol */
    uint64_t *index;  /* n: symbol << 32 | id, sorted, for lookups */
} CliffTextVocab;

/* The level's name ("BYTE", "CODEPOINT"). */
const char *cliff_text_level_name(int level);

/* Decodes the n bytes of buf into symbols: out has room for n; *nsym gets the
 * count. Invalid UTF-8 (CODEPOINT) is an error naming its byte offset and
 * bytes; nothing else fails. */
int cliff_text_decode(const unsigned char *buf, size_t n, int level, uint32_t *out,
                      size_t *nsym, CliffError *err);
/* The bytes symbol takes in the text: 1 (BYTE), 1-4 (UTF-8); writes them to
 * out when out is not NULL. */
size_t cliff_text_encode(uint32_t symbol, int level, unsigned char *out);

/* The sorted set of the n symbols of text. */
int cliff_text_vocab_build(CliffTextVocab *v, int level, const uint32_t *text, size_t n,
                           CliffError *err);
int cliff_text_vocab_load(CliffTextVocab *v, int level, const char *path, CliffError *err);
/* Writes the file under path.tmp and renames it into place. */
int cliff_text_vocab_save(const CliffTextVocab *v, const char *path, CliffError *err);
/* The id of symbol, or -1 when the vocabulary lacks it. */
int64_t cliff_text_vocab_id(const CliffTextVocab *v, uint32_t symbol);
void cliff_text_vocab_free(CliffTextVocab *v);

#endif
