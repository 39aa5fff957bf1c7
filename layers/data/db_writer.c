/* New LMDB and LevelDB databases record by record (contract in db_writer.h). */
#include <errno.h>
#include <leveldb/c.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db_writer.h"

/* The LMDB map starts here and doubles whenever a batch does not fit. */
#define LMDB_FIRST_MAP ((size_t)1 << 26)

typedef struct Rec {
    size_t klen, vlen;
    unsigned char *kv; /* key bytes then value bytes */
} Rec;

struct CliffDbWriter {
    CliffDbBackend backend;
    char *path;
    Rec *batch;
    size_t n;
    MDB_env *env;
    size_t map;
    leveldb_t *ldb;
    leveldb_options_t *lopt;
    leveldb_writeoptions_t *lw;
};

static void drop_batch(CliffDbWriter *w)
{
    for (size_t i = 0; i < w->n; i++) free(w->batch[i].kv);
    w->n = 0;
}

void cliff_db_abandon(CliffDbWriter *w)
{
    if (!w) return;
    drop_batch(w);
    free(w->batch);
    if (w->env) mdb_env_close(w->env);
    if (w->ldb) leveldb_close(w->ldb);
    if (w->lopt) leveldb_options_destroy(w->lopt);
    if (w->lw) leveldb_writeoptions_destroy(w->lw);
    free(w->path);
    free(w);
}

static int create_lmdb(CliffDbWriter *w, CliffError *err)
{
    if (mkdir(w->path, 0755))
        return cliff_error_set(err, "cannot create LMDB '%s': %s", w->path, strerror(errno));
    w->map = LMDB_FIRST_MAP;
    int rc = mdb_env_create(&w->env);
    if (!rc) rc = mdb_env_set_mapsize(w->env, w->map);
    if (!rc) rc = mdb_env_open(w->env, w->path, 0, 0664);
    if (rc) return cliff_error_set(err, "cannot create LMDB '%s': %s", w->path, mdb_strerror(rc));
    return 0;
}

static int create_leveldb(CliffDbWriter *w, CliffError *err)
{
    struct stat st;
    if (stat(w->path, &st) == 0)
        return cliff_error_set(err, "cannot create LevelDB '%s': %s", w->path,
                               strerror(EEXIST));
    char *e = NULL;
    w->lopt = leveldb_options_create();
    w->lw = leveldb_writeoptions_create();
    leveldb_options_set_create_if_missing(w->lopt, 1);
    leveldb_options_set_error_if_exists(w->lopt, 1);
    leveldb_options_set_block_size(w->lopt, 65536);
    leveldb_options_set_write_buffer_size(w->lopt, (size_t)256 << 20);
    leveldb_options_set_max_open_files(w->lopt, 100);
    w->ldb = leveldb_open(w->lopt, w->path, &e);
    if (e) {
        cliff_error_set(err, "cannot create LevelDB '%s': %s", w->path, e);
        leveldb_free(e);
        return -1;
    }
    return 0;
}

CliffDbWriter *cliff_db_create(CliffDbBackend backend, const char *path, CliffError *err)
{
    CliffDbWriter *w = calloc(1, sizeof *w);
    if (w) w->batch = malloc(CLIFF_DB_BATCH * sizeof *w->batch);
    if (!w || !w->batch || !(w->path = strdup(path))) {
        if (w) free(w->batch);
        free(w);
        cliff_error_set(err, "out of memory");
        return NULL;
    }
    w->backend = backend;
    if (backend == CLIFF_DB_LMDB ? create_lmdb(w, err) : create_leveldb(w, err)) {
        cliff_db_abandon(w);
        return NULL;
    }
    return w;
}

/* One transaction with the whole batch; MDB_MAP_FULL: *full = 1, nothing written. */
static int lmdb_write(CliffDbWriter *w, int *full, CliffError *err)
{
    MDB_txn *txn;
    MDB_dbi dbi;
    *full = 0;
    int rc = mdb_txn_begin(w->env, NULL, 0, &txn);
    if (rc) return cliff_error_set(err, "LMDB '%s': %s", w->path, mdb_strerror(rc));
    rc = mdb_dbi_open(txn, NULL, 0, &dbi);
    for (size_t i = 0; !rc && i < w->n; i++) {
        MDB_val k = {w->batch[i].klen, w->batch[i].kv};
        MDB_val v = {w->batch[i].vlen, w->batch[i].kv + w->batch[i].klen};
        rc = mdb_put(txn, dbi, &k, &v, 0);
    }
    if (rc) mdb_txn_abort(txn);
    else rc = mdb_txn_commit(txn);
    *full = rc == MDB_MAP_FULL;
    if (rc && !*full) return cliff_error_set(err, "LMDB '%s': %s", w->path, mdb_strerror(rc));
    return 0;
}

int cliff_db_commit(CliffDbWriter *w, CliffError *err)
{
    if (w->backend == CLIFF_DB_LMDB) {
        for (;;) {
            int full;
            if (lmdb_write(w, &full, err)) return -1;
            if (!full) break;
            int rc = mdb_env_set_mapsize(w->env, w->map * 2);
            if (rc)
                return cliff_error_set(err, "LMDB '%s': cannot grow the map to %zu bytes: %s",
                                       w->path, w->map * 2, mdb_strerror(rc));
            w->map *= 2;
        }
    } else {
        leveldb_writebatch_t *b = leveldb_writebatch_create();
        for (size_t i = 0; i < w->n; i++)
            leveldb_writebatch_put(b, (const char *)w->batch[i].kv, w->batch[i].klen,
                                   (const char *)w->batch[i].kv + w->batch[i].klen,
                                   w->batch[i].vlen);
        char *e = NULL;
        leveldb_write(w->ldb, w->lw, b, &e);
        leveldb_writebatch_destroy(b);
        if (e) {
            cliff_error_set(err, "LevelDB '%s': %s", w->path, e);
            leveldb_free(e);
            return -1;
        }
    }
    drop_batch(w);
    return 0;
}

int cliff_db_put(CliffDbWriter *w, const void *key, size_t klen, const void *val, size_t vlen,
                 CliffError *err)
{
    Rec *r = &w->batch[w->n];
    if (!(r->kv = malloc(klen + vlen + 1))) return cliff_error_set(err, "out of memory");
    memcpy(r->kv, key, klen);
    memcpy(r->kv + klen, val, vlen);
    r->klen = klen;
    r->vlen = vlen;
    w->n++;
    return w->n == CLIFF_DB_BATCH ? cliff_db_commit(w, err) : 0;
}

int cliff_db_finish(CliffDbWriter *w, CliffError *err)
{
    int rc = cliff_db_commit(w, err);
    cliff_db_abandon(w);
    return rc;
}
