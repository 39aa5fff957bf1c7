/* CliffDb over LMDB and LevelDB (contract in db.h). */
#include <errno.h>
#include <leveldb/c.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"

struct CliffDb {
    CliffDbBackend backend;
    char *path;
    /* LMDB */
    MDB_env *env;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    /* LevelDB */
    leveldb_t *ldb;
    leveldb_options_t *lopt;
    leveldb_readoptions_t *lread;
    leveldb_iterator_t *it;
};

const char *cliff_db_backend_name(CliffDbBackend backend)
{
    return backend == CLIFF_DB_LMDB ? "LMDB" : "LevelDB";
}

void cliff_db_close(CliffDb *db)
{
    if (!db) return;
    if (db->cur) mdb_cursor_close(db->cur);
    if (db->txn) mdb_txn_abort(db->txn);
    if (db->env) mdb_env_close(db->env);
    if (db->it) leveldb_iter_destroy(db->it);
    if (db->ldb) leveldb_close(db->ldb);
    if (db->lread) leveldb_readoptions_destroy(db->lread);
    if (db->lopt) leveldb_options_destroy(db->lopt);
    free(db->path);
    free(db);
}

static int open_lmdb(CliffDb *db, CliffError *err)
{
    int rc = mdb_env_create(&db->env);
    MDB_dbi dbi;
    if (!rc) rc = mdb_env_open(db->env, db->path, MDB_RDONLY | MDB_NOTLS, 0664);
    if (!rc) rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &db->txn);
    if (!rc) rc = mdb_dbi_open(db->txn, NULL, 0, &dbi);
    if (!rc) rc = mdb_cursor_open(db->txn, dbi, &db->cur);
    if (rc)
        return cliff_error_set(err, "'%s' is not a readable LMDB database: %s", db->path,
                               rc == ENOENT ? "no data.mdb in it" : mdb_strerror(rc));
    return 0;
}

static int open_leveldb(CliffDb *db, CliffError *err)
{
    char *e = NULL;
    db->lopt = leveldb_options_create();
    db->lread = leveldb_readoptions_create();
    leveldb_options_set_create_if_missing(db->lopt, 0);
    leveldb_options_set_max_open_files(db->lopt, 100);
    leveldb_readoptions_set_fill_cache(db->lread, 0);
    db->ldb = leveldb_open(db->lopt, db->path, &e);
    if (e) {
        cliff_error_set(err, "'%s' is not a readable LevelDB database: %s", db->path, e);
        leveldb_free(e);
        return -1;
    }
    db->it = leveldb_create_iterator(db->ldb, db->lread);
    return 0;
}

CliffDb *cliff_db_open(CliffDbBackend backend, const char *path, CliffError *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        cliff_error_set(err, "%s source '%s': %s", cliff_db_backend_name(backend), path,
                        strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        cliff_error_set(err, "%s source '%s' is not a folder (a %s database is a folder)",
                        cliff_db_backend_name(backend), path, cliff_db_backend_name(backend));
        return NULL;
    }
    CliffDb *db = calloc(1, sizeof *db);
    if (!db || !(db->path = strdup(path))) {
        free(db);
        cliff_error_set(err, "out of memory");
        return NULL;
    }
    db->backend = backend;
    if (backend == CLIFF_DB_LMDB ? open_lmdb(db, err) : open_leveldb(db, err)) {
        cliff_db_close(db);
        return NULL;
    }
    return db;
}

static int lmdb_move(CliffDb *db, MDB_cursor_op op, int *valid, CliffError *err)
{
    int rc = mdb_cursor_get(db->cur, &db->k, &db->v, op);
    *valid = rc == 0;
    if (rc && rc != MDB_NOTFOUND)
        return cliff_error_set(err, "LMDB '%s': read error: %s", db->path, mdb_strerror(rc));
    return 0;
}

static int leveldb_status(CliffDb *db, int *valid, CliffError *err)
{
    *valid = leveldb_iter_valid(db->it) != 0;
    char *e = NULL;
    leveldb_iter_get_error(db->it, &e);
    if (e) {
        cliff_error_set(err, "LevelDB '%s': read error: %s", db->path, e);
        leveldb_free(e);
        *valid = 0;
        return -1;
    }
    return 0;
}

int cliff_db_first(CliffDb *db, int *valid, CliffError *err)
{
    if (db->backend == CLIFF_DB_LMDB) return lmdb_move(db, MDB_FIRST, valid, err);
    leveldb_iter_seek_to_first(db->it);
    return leveldb_status(db, valid, err);
}

int cliff_db_next(CliffDb *db, int *valid, CliffError *err)
{
    if (db->backend == CLIFF_DB_LMDB) return lmdb_move(db, MDB_NEXT, valid, err);
    leveldb_iter_next(db->it);
    return leveldb_status(db, valid, err);
}

void cliff_db_record(CliffDb *db, const void **key, size_t *klen, const void **val,
                     size_t *vlen)
{
    if (db->backend == CLIFF_DB_LMDB) {
        *key = db->k.mv_data;
        *klen = db->k.mv_size;
        *val = db->v.mv_data;
        *vlen = db->v.mv_size;
        return;
    }
    *key = leveldb_iter_key(db->it, klen);
    *val = leveldb_iter_value(db->it, vlen);
}

void cliff_db_key_text(const void *key, size_t klen, char *out, size_t outsize)
{
    const unsigned char *k = key;
    size_t o = 0;
    for (size_t i = 0; i < klen && o + 8 < outsize; i++) {
        if (o >= 80) {
            o += (size_t)snprintf(out + o, outsize - o, "...");
            break;
        }
        if (k[i] >= ' ' && k[i] <= '~' && k[i] != '\\')
            out[o++] = (char)k[i];
        else
            o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", k[i]);
    }
    out[o < outsize ? o : outsize - 1] = 0;
}
