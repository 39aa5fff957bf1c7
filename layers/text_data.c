/* TextData: UTF-8 text as N parallel streams of T symbols, for a recurrent
 * language model (cliff's own layer; TextDataParameter in proto/cliff.proto).
 *
 * Text: text_data_param.source lists text files (source_list.h); each is
 * decoded to symbols (bytes, or code points of strict UTF-8; text_vocab.h)
 * and the files' symbols are concatenated in list order. holdout_fraction h
 * splits every file: its last floor(h x symbols) symbols belong to the TEST
 * phase's text, the rest to the TRAIN phase's (split per file, so that the
 * held-out text samples every file); h = 0: both phases read all of it.
 *
 * Vocabulary: vocabulary_file, or else the sorted set of the symbols of all
 * the listed text (both splits), so the TRAIN and TEST nets build the same
 * one. tools/train writes the train net's next to the snapshots.
 *
 * Streams: the phase's text s[0 .. L) has P = L - 1 positions p, each the
 * input s[p] with the target s[p + 1]. Stream n starts at position
 * floor(n P / N) and moves one position per step; after position P - 1 it
 * wraps to 0. Tops, T x N each (step t of stream n at t N + n):
 *   ids[t][n]     = id(s[p])      (floats, as Embed reads them)
 *   targets[t][n] = id(s[p + 1])
 *   cont[t][n]    = 0 at a stream's first step and where it wraps (it starts
 *                   a sequence there), else 1.
 * Batch k + 1 continues every stream of batch k. Any P / N consecutive steps
 * of all streams cover each position once (up to rounding), so a test net
 * with test_iter x T = P / N reads its text once per test pass.
 *
 * Data-parallel runs: rank r of R reads batch r of every R consecutive
 * batches (skip passes over the others'), so R ranks at T steps see, per
 * iteration, the steps one process sees at R x T. A recurrent net's state
 * carried from a rank's previous batch is then R - 1 batches old (cont says
 * "continue"): exact for nets that do not carry state across batches.
 *
 * Deterministic (no RNG). Resumable state: each stream's position and whether
 * its next step starts a sequence, with the text's length and a hash of text
 * and vocabulary, so a resume over changed text is refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "layer.h"
#include "source_list.h"
#include "text_data.h"

typedef struct TextData {
    CliffTextVocab vocab;
    uint32_t *ids;   /* L: the phase's text as ids */
    size_t len;      /* L */
    uint64_t hash;   /* of vocabulary and ids */
    int T, N;
    size_t *pos;     /* N: each stream's next position, in [0, L - 1) */
    unsigned char *fresh; /* N: 1 when the stream's next step starts a sequence */
} TextData;

/* Reads all of file `path` (listed at `line` of source); an empty file is an
 * error. */
static unsigned char *read_file(const char *path, const char *source, long line, size_t *n,
                                CliffError *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        cliff_error_set(err, "cannot open text file '%s' (text_data_param.source '%s' line "
                        "%ld): %s", path, source, line, strerror(errno));
        if (f) fclose(f);
        return NULL;
    }
    unsigned char *buf = NULL;
    if (st.st_size == 0)
        cliff_error_set(err, "text file '%s' (text_data_param.source '%s' line %ld) is empty",
                        path, source, line);
    else if (!(buf = malloc((size_t)st.st_size)))
        cliff_error_set(err, "out of memory reading text file '%s'", path);
    else if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        cliff_error_set(err, "cannot read text file '%s'", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = (size_t)st.st_size;
    return buf;
}

/* Decodes every listed file into one array; counts[f] gets file f's symbols. */
static uint32_t *decode_all(const CliffSourceList *list, const char *source, int level,
                            size_t *counts, size_t *total, CliffError *err)
{
    uint32_t *all = NULL;
    *total = 0;
    for (int f = 0; f < list->n; f++) {
        size_t n = 0;
        unsigned char *buf = read_file(list->paths[f], source, list->lines[f], &n, err);
        if (!buf) break;
        uint32_t *grown = realloc(all, (*total + n) * sizeof *all);
        if (!grown) {
            free(buf);
            cliff_error_set(err, "out of memory reading text file '%s'", list->paths[f]);
            break;
        }
        all = grown;
        int rc = cliff_text_decode(buf, n, level, all + *total, &counts[f], err);
        free(buf);
        if (rc) {
            cliff_error_prefix(err, "text file '%s': ", list->paths[f]);
            break;
        }
        *total += counts[f];
        if (f == list->n - 1) return all;
    }
    free(all);
    return NULL;
}

/* Replaces every symbol by its id; a symbol outside the vocabulary is an error
 * naming the file and the byte offset. */
static int to_ids(uint32_t *sym, const size_t *counts, const CliffSourceList *list,
                  const TextData *d, const char *vocab_path, CliffError *err)
{
    size_t k = 0;
    for (int f = 0; f < list->n; f++) {
        size_t offset = 0; /* bytes of the file before symbol k */
        for (size_t j = 0; j < counts[f]; j++, k++) {
            int64_t id = cliff_text_vocab_id(&d->vocab, sym[k]);
            if (id < 0) {
                char what[40];
                unsigned char b[4];
                size_t nb = cliff_text_encode(sym[k], d->vocab.level, b);
                if (d->vocab.level == CLIFF_TEXT_BYTE)
                    snprintf(what, sizeof what, "byte 0x%02X", (unsigned)sym[k]);
                else if (sym[k] > 0x20 && sym[k] != 0x7F && (sym[k] < 0x80 || sym[k] >= 0xA0))
                    snprintf(what, sizeof what, "symbol U+%04X '%.*s'", (unsigned)sym[k],
                             (int)nb, (const char *)b);
                else
                    snprintf(what, sizeof what, "symbol U+%04X", (unsigned)sym[k]);
                return cliff_error_set(err, "text file '%s' byte offset %zu: %s is not in "
                                       "vocabulary_file '%s'", list->paths[f], offset, what,
                                       vocab_path);
            }
            offset += cliff_text_encode(sym[k], d->vocab.level, NULL);
            sym[k] = (uint32_t)id;
        }
    }
    return 0;
}

/* Keeps this phase's part of every file (in place) and sets d->len. */
static void keep_phase(TextData *d, uint32_t *ids, const size_t *counts, int nfiles,
                       float holdout, int test)
{
    size_t r = 0, w = 0;
    for (int f = 0; f < nfiles; f++) {
        size_t held = (size_t)((double)holdout * (double)counts[f]);
        size_t from = test ? counts[f] - held : 0, n = test ? held : counts[f] - held;
        memmove(ids + w, ids + r + from, n * sizeof *ids);
        w += n;
        r += counts[f];
    }
    d->ids = ids;
    d->len = w;
}

static uint64_t fnv1a(uint64_t h, const uint32_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 32; b += 8) h = (h ^ ((v[i] >> b) & 0xFF)) * 0x100000001B3ull;
    return h;
}

/* Stream n starts at floor(n P / N), computed without overflow. */
static void start_streams(TextData *d)
{
    size_t P = d->len - 1, q = P / (size_t)d->N, r = P % (size_t)d->N;
    for (size_t n = 0; n < (size_t)d->N; n++) {
        d->pos[n] = n * q + n * r / (size_t)d->N;
        d->fresh[n] = 1;
    }
}

static int check_param(const Cliff__TextDataParameter *p, CliffError *err)
{
    if (!p || !p->source || !p->source[0])
        return cliff_error_set(err, "text_data_param.source is required");
    if (!p->has_time_steps || p->time_steps == 0)
        return cliff_error_set(err, "text_data_param.time_steps must be > 0");
    if (!p->has_streams || p->streams == 0)
        return cliff_error_set(err, "text_data_param.streams must be > 0");
    if ((uint64_t)p->time_steps * p->streams > (1u << 30))
        return cliff_error_set(err, "text_data_param.time_steps x streams = %llu is too large "
                               "(at most 2^30)", (unsigned long long)p->time_steps * p->streams);
    if (!(p->holdout_fraction >= 0 && p->holdout_fraction < 1))
        return cliff_error_set(err, "text_data_param.holdout_fraction %g must be in [0, 1)",
                               (double)p->holdout_fraction);
    return 0;
}

/* Reads, decodes and maps the text, and keeps this phase's part. */
static int load_text(TextData *d, const Cliff__TextDataParameter *p, int test, CliffError *err)
{
    int level = p->level == CLIFF__TEXT_DATA_PARAMETER__LEVEL__BYTE ? CLIFF_TEXT_BYTE
                                                                    : CLIFF_TEXT_CODEPOINT;
    CliffSourceList list;
    if (cliff_source_list_read("text_data_param.source", "text", p->source, &list, err))
        return -1;
    size_t *counts = calloc((size_t)list.n, sizeof *counts), total = 0;
    uint32_t *sym = counts ? decode_all(&list, p->source, level, counts, &total, err) : NULL;
    int rc = sym ? 0 : -1;
    if (!counts) cliff_error_set(err, "out of memory");
    if (rc == 0 && p->vocabulary_file && p->vocabulary_file[0]) {
        rc = cliff_text_vocab_load(&d->vocab, level, p->vocabulary_file, err);
        if (rc == 0) rc = to_ids(sym, counts, &list, d, p->vocabulary_file, err);
    } else if (rc == 0) {
        rc = cliff_text_vocab_build(&d->vocab, level, sym, total, err);
        if (rc == 0) rc = to_ids(sym, counts, &list, d, "(built)", err);
    }
    if (rc == 0) {
        keep_phase(d, sym, counts, list.n, p->holdout_fraction, test);
        sym = NULL;
    }
    free(sym);
    free(counts);
    cliff_source_list_free(&list);
    return rc ? cliff_error_mark(err, CLIFF_ERR_DATA) : 0;
}

static void text_destroy(CliffLayer *l)
{
    TextData *d = l->priv;
    if (!d) return;
    cliff_text_vocab_free(&d->vocab);
    free(d->ids);
    free(d->pos);
    free(d->fresh);
    free(d);
    l->priv = NULL;
}

static int text_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)bottom, (void)nb;
    const Cliff__TextDataParameter *p = l->param->text_data_param;
    if (check_param(p, err)) return -1;
    TextData *d = calloc(1, sizeof *d);
    if (!d) return cliff_error_set(err, "out of memory");
    l->priv = d;
    d->T = (int)p->time_steps;
    d->N = (int)p->streams;
    int test = l->phase == CLIFF__PHASE__TEST;
    if (load_text(d, p, test, err)) return -1;
    size_t need = (size_t)d->T * (size_t)d->N + 1;
    if (d->len < need)
        return cliff_error_set(err, "the %s text of text_data_param.source '%s' holds %zu "
                               "symbols (holdout_fraction %g); time_steps x streams + 1 = %zu "
                               "are needed", test ? "TEST" : "TRAIN", p->source, d->len,
                               (double)p->holdout_fraction, need);
    d->pos = malloc((size_t)d->N * sizeof *d->pos);
    d->fresh = malloc((size_t)d->N);
    if (!d->pos || !d->fresh) return cliff_error_set(err, "out of memory");
    start_streams(d);
    uint64_t h = fnv1a(0xCBF29CE484222325ull, d->vocab.symbol, d->vocab.n);
    d->hash = fnv1a(h, d->ids, d->len);
    int dims[2] = {d->T, d->N};
    for (int t = 0; t < nt; t++)
        if (cliff_tensor_reshape(top[t], 2, dims, err)) return -1;
    return 0;
}

/* One batch of T steps of every stream: written to ids/targets/cont, or with
 * ids NULL only passed over (skip), with the same moves and wraps. */
static void next_batch(TextData *d, float *ids, float *targets, float *cont)
{
    size_t P = d->len - 1;
    for (int t = 0; t < d->T; t++)
        for (int n = 0; n < d->N; n++) {
            size_t i = (size_t)t * (size_t)d->N + (size_t)n, p = d->pos[n];
            if (ids) {
                ids[i] = (float)d->ids[p];
                targets[i] = (float)d->ids[p + 1];
                cont[i] = d->fresh[n] ? 0.0f : 1.0f;
            }
            d->fresh[n] = 0;
            if (++d->pos[n] == P) {
                d->pos[n] = 0;
                d->fresh[n] = 1;
            }
        }
}

static void text_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt)
{
    (void)bottom, (void)nb, (void)nt;
    next_batch(l->priv, top[0]->data, top[1]->data, top[2]->data);
}

/* Data-parallel runs (layer.h): the batch another rank reads, passed over. */
static void text_skip(CliffLayer *l) { next_batch(l->priv, NULL, NULL, NULL); }

/* State words: L, vocabulary size, hash, N, then N positions and N flags. */
static size_t text_state_size(const CliffLayer *l)
{
    const TextData *d = l->priv;
    return 4 + 2 * (size_t)d->N;
}

static void text_state_save(const CliffLayer *l, int64_t *out)
{
    const TextData *d = l->priv;
    out[0] = (int64_t)d->len;
    out[1] = (int64_t)d->vocab.n;
    out[2] = (int64_t)d->hash;
    out[3] = d->N;
    for (int n = 0; n < d->N; n++) {
        out[4 + n] = (int64_t)d->pos[n];
        out[4 + d->N + n] = d->fresh[n];
    }
}

static int text_state_load(CliffLayer *l, const int64_t *in, size_t n, CliffError *err)
{
    TextData *d = l->priv;
    if (n < 4 || n != 4 + 2 * (size_t)d->N || in[3] != d->N)
        return cliff_error_set(err, "the saved text state (%zu words) does not match %d "
                               "streams: text_data_param.streams changed", n, d->N);
    if (in[0] != (int64_t)d->len || in[1] != (int64_t)d->vocab.n || in[2] != (int64_t)d->hash)
        return cliff_error_set(err, "the saved text state (%lld symbols, vocabulary of %lld) "
                               "does not match this text (%zu symbols, vocabulary of %zu%s): "
                               "the source files, holdout_fraction, level or vocabulary "
                               "changed", (long long)in[0], (long long)in[1], d->len, d->vocab.n,
                               in[0] == (int64_t)d->len && in[1] == (int64_t)d->vocab.n
                                   ? ", other symbols" : "");
    for (int s = 0; s < d->N; s++)
        if (in[4 + s] < 0 || in[4 + s] >= (int64_t)d->len - 1 ||
            (in[4 + d->N + s] != 0 && in[4 + d->N + s] != 1))
            return cliff_error_set(err, "the saved text state is corrupt (stream %d)", s);
    for (int s = 0; s < d->N; s++) {
        d->pos[s] = (size_t)in[4 + s];
        d->fresh[s] = (unsigned char)in[4 + d->N + s];
    }
    return 0;
}

const CliffLayerOps cliff_ops_TextData = {
    .type = "TextData",
    .min_bottoms = 0, .max_bottoms = 0,
    .min_tops = 3, .max_tops = 3,
    .setup = text_setup,
    .forward = text_forward,
    .destroy = text_destroy,
    .state_size = text_state_size,
    .state_save = text_state_save,
    .state_load = text_state_load,
    .skip = text_skip,
};

const CliffTextVocab *cliff_text_data_vocab(const CliffLayer *l)
{
    return l->ops == &cliff_ops_TextData ? &((const TextData *)l->priv)->vocab : NULL;
}
