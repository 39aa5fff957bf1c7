/* Data: Caffe's DataLayer. Batches of Datum records read in key order from an
 * LMDB or LevelDB database (data_param.source, .backend), transformed by
 * transform_param (layers/data/transform.h), decoded and transformed on a
 * prefetch thread (data_param.prefetch batches ahead; layers/data/prefetch.h).
 *
 * Tops: data, batch x C x h x w (C, H, W from the first record; h, w after the
 * crop), and optionally label, batch (Datum.label as float). Every record must
 * have the first record's shape (Caffe reshapes per batch; cliff's nets have
 * fixed shapes), else the run stops with the record's key. At the end of the
 * database the cursor wraps to the first key, as Caffe's does.
 * data_param.rand_skip is accepted and ignored, as by Caffe's DataLayer since
 * its data readers were rewritten (skipping is the old DataReader's).
 *
 * The next batch is taken in check_bottoms (the net's per-layer check before
 * forward), so that a record that cannot be read stops the forward with an
 * error naming the database and the key; forward copies it to the tops.
 *
 * Data-parallel runs (layer.h's shard): rank r of N reads batch r of every N.
 * The producer makes one batch per group of N: it passes over the records of
 * the other ranks' batches without reading them (the cursor moves, the
 * transform makes the draws it would make for the first record's shape, and
 * nothing is parsed or decoded), so a rank's decoding work is its own batch,
 * and a bad record is met only by the rank whose batch holds it.
 *
 * Resumable state (7 words): format 1, next record index (records from the
 * first key), epoch, and the transform RNG's four words, all as of the last
 * batch the net TOOK (several ranks: the end of its group of N batches).
 * Prefetched batches not yet taken are dropped on restore and produced again
 * from that state, so a resumed run reads the same batches bit for bit. The transform RNG is the layer's own, seeded at setup from one
 * draw of the run's RNG (the producer thread cannot share the run's). */
#include <stdlib.h>
#include <string.h>

#include "data/datum.h"
#include "data/db.h"
#include "data/prefetch.h"
#include "data/transform.h"
#include "layer.h"

#define DATA_STATE_WORDS 7

typedef struct DataLayer {
    CliffDb *db;
    CliffDbBackend backend;
    char *source;
    CliffTransform tf;
    int batch, labels;
    int c, h, w;        /* every record's shape (the first record's) */
    int out[3];         /* the transformed shape */
    size_t item;        /* floats per transformed image */
    /* producer state: only the producer touches it while the thread runs */
    int64_t index, epoch;
    CliffRng rng;
    int at_index; /* the database cursor is at record `index` (or past the end) */
    int valid;    /* ... and that is a record */
    int rank, ranks; /* this rank's batch of every `ranks` (data_shard); ranks 0: all */
    /* consumer state: as of the last batch taken */
    int64_t taken[DATA_STATE_WORDS];
    CliffPrefetch q;
    int held; /* a batch is held between check_bottoms and forward */
} DataLayer;

static int key_error(DataLayer *d, CliffError *err)
{
    const void *k, *v;
    size_t kl, vl;
    cliff_db_record(d->db, &k, &kl, &v, &vl);
    char key[128];
    cliff_db_key_text(k, kl, key, sizeof key);
    return cliff_error_prefix(err, "%s '%s', record %lld (key '%s'): ",
                              cliff_db_backend_name(d->backend), d->source,
                              (long long)d->index, key);
}

/* Moves the cursor to record d->index (after a restore). */
static int seek_index(DataLayer *d, CliffError *err)
{
    if (cliff_db_first(d->db, &d->valid, err)) return -1;
    for (int64_t i = 0; i < d->index; i++) {
        if (!d->valid)
            return cliff_error_set(err, "%s '%s' holds %lld records, fewer than the saved "
                                   "position %lld: the database changed",
                                   cliff_db_backend_name(d->backend), d->source,
                                   (long long)i, (long long)d->index);
        if (cliff_db_next(d->db, &d->valid, err)) return -1;
    }
    d->at_index = 1;
    return 0;
}

/* Parses the record at the cursor. */
static int read_record(DataLayer *d, CliffDatum *dt, CliffError *err)
{
    const void *k, *v;
    size_t kl, vl;
    cliff_db_record(d->db, &k, &kl, &v, &vl);
    if (cliff_datum_parse(v, vl, d->tf.decode_channels, dt, err)) return key_error(d, err);
    return 0;
}

/* Past the last key: wraps to the first, as Caffe. */
static int at_record(DataLayer *d, CliffError *err)
{
    if (d->valid) return 0;
    if (cliff_db_first(d->db, &d->valid, err)) return -1;
    if (!d->valid)
        return cliff_error_set(err, "%s '%s' is empty now", cliff_db_backend_name(d->backend),
                               d->source);
    d->index = 0;
    d->epoch++;
    return 0;
}

/* Passes over n records (other ranks' batches) without reading them: the same
 * wraps, and the transform's draws for the first record's shape. */
static int pass_over(DataLayer *d, int64_t n, CliffError *err)
{
    for (int64_t i = 0; i < n; i++) {
        if (at_record(d, err)) return -1;
        int mirror, h_off, w_off;
        cliff_transform_draw(&d->tf, d->h, d->w, &d->rng, &mirror, &h_off, &w_off);
        if (cliff_db_next(d->db, &d->valid, err)) return -1;
        d->index++;
    }
    return 0;
}

/* The producer: one batch from the state in d (see prefetch.h); several
 * ranks: this rank's batch of the next group, the others' passed over. */
static int fill_batch(void *ctx, CliffPrefetchSlot *slot, CliffError *err)
{
    DataLayer *d = ctx;
    if (!d->at_index && seek_index(d, err)) return -1;
    const int64_t before = d->ranks > 1 ? d->rank : 0;
    const int64_t after = d->ranks > 1 ? d->ranks - 1 - d->rank : 0;
    if (pass_over(d, before * d->batch, err)) return -1;
    for (int b = 0; b < d->batch; b++) {
        if (at_record(d, err)) return -1;
        CliffDatum dt;
        if (read_record(d, &dt, err)) return -1;
        const CliffImageView *im = &dt.view;
        if (im->channels != d->c || im->height != d->h || im->width != d->w) {
            cliff_error_set(err, "the record is %d x %d x %d but the first record is %d x %d "
                            "x %d (C x H x W)", im->channels, im->height, im->width, d->c,
                            d->h, d->w);
            cliff_datum_free(&dt);
            return key_error(d, err);
        }
        cliff_transform_apply(&d->tf, im, &d->rng, slot->data + (size_t)b * d->item);
        if (slot->label) slot->label[b] = (float)dt.label;
        cliff_datum_free(&dt);
        if (cliff_db_next(d->db, &d->valid, err)) return -1;
        d->index++;
    }
    if (pass_over(d, after * d->batch, err)) return -1;
    slot->state[0] = 1;
    slot->state[1] = d->index;
    slot->state[2] = d->epoch;
    for (int i = 0; i < 4; i++) slot->state[3 + i] = (int64_t)d->rng.s[i];
    return 0;
}

static void data_destroy(CliffLayer *l)
{
    DataLayer *d = l->priv;
    if (!d) return;
    cliff_prefetch_free(&d->q);
    cliff_db_close(d->db);
    cliff_transform_free(&d->tf);
    free(d->source);
    free(d);
    l->priv = NULL;
}

/* Opens the database and sizes the output from its first record. */
static int open_source(DataLayer *d, CliffError *err)
{
    d->db = cliff_db_open(d->backend, d->source, err);
    if (!d->db) return cliff_error_prefix(err, "data_param.source: ");
    if (cliff_db_first(d->db, &d->valid, err)) return -1;
    if (!d->valid)
        return cliff_error_set(err, "%s '%s' holds no records", cliff_db_backend_name(d->backend),
                               d->source);
    d->at_index = 1;
    CliffDatum first;
    if (read_record(d, &first, err)) return -1;
    d->c = first.view.channels;
    d->h = first.view.height;
    d->w = first.view.width;
    cliff_datum_free(&first);
    if (cliff_transform_check(&d->tf, d->c, d->h, d->w, d->out, err))
        return cliff_error_prefix(err, "%s '%s', first record: ",
                                  cliff_db_backend_name(d->backend), d->source);
    d->item = (size_t)d->out[0] * (size_t)d->out[1] * (size_t)d->out[2];
    return 0;
}

static int data_setup(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top,
                      int nt, CliffError *err)
{
    (void)bottom;
    (void)nb;
    const Cliff__DataParameter *p = l->param->data_param;
    if (!p || !p->source || !p->source[0])
        return cliff_error_set(err, "data_param.source is required");
    if (!p->has_batch_size || p->batch_size == 0 || p->batch_size > (1u << 24))
        return cliff_error_set(err, "data_param.batch_size must be 1 to 2^24");
    if (p->prefetch > 1024)
        return cliff_error_set(err, "data_param.prefetch %u is too large (at most 1024)",
                               (unsigned)p->prefetch);
    DataLayer *d = calloc(1, sizeof *d);
    if (!d) return cliff_error_set(err, "out of memory");
    l->priv = d;
    d->batch = (int)p->batch_size;
    d->labels = nt > 1;
    d->backend = p->backend == CLIFF__DATA_PARAMETER__DB__LMDB ? CLIFF_DB_LMDB : CLIFF_DB_LEVELDB;
    if (!(d->source = strdup(p->source))) return cliff_error_set(err, "out of memory");
    if (cliff_transform_init(&d->tf, l->param->transform_param, l->phase, err)) return -1;
    if (open_source(d, err)) return cliff_error_mark(err, CLIFF_ERR_DATA); /* the files' fault */
    int dims[4] = {d->batch, d->out[0], d->out[1], d->out[2]};
    if (cliff_tensor_reshape(top[0], 4, dims, err)) return -1;
    if (d->labels && cliff_tensor_reshape(top[1], 1, dims, err)) return -1;
    cliff_rng_seed(&d->rng, cliff_rng_next(l->rng));
    d->taken[0] = 1;
    for (int i = 0; i < 4; i++) d->taken[3 + i] = (int64_t)d->rng.s[i];
    return cliff_prefetch_init(&d->q, (int)p->prefetch, (size_t)d->batch * d->item,
                               d->labels ? (size_t)d->batch : 0, fill_batch, d, err);
}

/* Takes the next batch; a batch that could not be read stops the forward. */
static int data_take(const CliffLayer *l, CliffTensor *const *bottom, int nb, CliffError *err)
{
    (void)bottom;
    (void)nb;
    DataLayer *d = l->priv;
    if (!cliff_prefetch_take(&d->q, err)) return -1;
    d->held = 1;
    return 0;
}

static void data_forward(CliffLayer *l, CliffTensor *const *bottom, int nb,
                         CliffTensor *const *top, int nt)
{
    DataLayer *d = l->priv;
    CliffError err;
    if (!d->held && data_take(l, bottom, nb, &err)) return; /* check_bottoms reported it */
    const CliffPrefetchSlot *s = cliff_prefetch_take(&d->q, &err);
    if (!s) return; /* not reached: the batch check_bottoms took is held */
    memcpy(top[0]->data, s->data, (size_t)d->batch * d->item * sizeof(float));
    if (nt > 1) memcpy(top[1]->data, s->label, (size_t)d->batch * sizeof(float));
    memcpy(d->taken, s->state, sizeof d->taken); /* the state after the batch taken */
    cliff_prefetch_release(&d->q);
    d->held = 0;
}

static size_t data_state_size(const CliffLayer *l)
{
    (void)l;
    return DATA_STATE_WORDS;
}

static void data_state_save(const CliffLayer *l, int64_t *out)
{
    const DataLayer *d = l->priv;
    memcpy(out, d->taken, sizeof d->taken);
}

/* Drops the batches made ahead and restarts the producer from the state st
 * (the producer seeks on its next batch). */
static void restart_from(DataLayer *d, const int64_t *st)
{
    int64_t w[DATA_STATE_WORDS];
    memcpy(w, st, sizeof w); /* st may be d->taken */
    cliff_prefetch_reset(&d->q);
    d->held = 0;
    d->index = w[1];
    d->epoch = w[2];
    for (int i = 0; i < 4; i++) d->rng.s[i] = (uint64_t)w[3 + i];
    d->at_index = 0;
    memcpy(d->taken, w, sizeof d->taken);
}

static int data_state_load(CliffLayer *l, const int64_t *in, size_t n, CliffError *err)
{
    DataLayer *d = l->priv;
    if (n != DATA_STATE_WORDS || in[0] != 1 || in[1] < 0 || in[2] < 0)
        return cliff_error_set(err, "the saved data state (%zu words) is not a Data layer's "
                               "cursor", n);
    restart_from(d, in); /* batches made from the old state are dropped */
    return 0;
}

/* Several ranks (layer.h): from the last batch taken, the producer makes this
 * rank's batch of each group of `size`. */
static int data_shard(CliffLayer *l, int rank, int size, CliffError *err)
{
    (void)err;
    DataLayer *d = l->priv;
    restart_from(d, d->taken); /* batches made for one reader are dropped */
    d->rank = rank;
    d->ranks = size;
    return 0;
}

static void data_prefetch_stats(const CliffLayer *l, struct CliffPrefetchStats *out)
{
    DataLayer *d = l->priv;
    if (d) cliff_prefetch_stats(&d->q, out);
    else memset(out, 0, sizeof *out);
}

const CliffLayerOps cliff_ops_Data = {
    .type = "Data",
    .min_bottoms = 0, .max_bottoms = 0,
    .min_tops = 1, .max_tops = 2,
    .setup = data_setup,
    .check_bottoms = data_take,
    .forward = data_forward,
    .destroy = data_destroy,
    .state_size = data_state_size,
    .state_save = data_state_save,
    .state_load = data_state_load,
    .shard = data_shard,
    .prefetch_stats = data_prefetch_stats,
};
