/* Test databases through liblmdb and LevelDB's C API (db_fixture.h). */
#include <leveldb/c.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db_fixture.h"

struct DbFx {
    int lmdb;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    leveldb_t *ldb;
    leveldb_options_t *opt;
    leveldb_writeoptions_t *wopt;
};

DbFx *dbfx_create(int lmdb, const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd)) return NULL;
    DbFx *w = calloc(1, sizeof *w);
    w->lmdb = lmdb;
    if (lmdb) {
        mkdir(path, 0755);
        int rc = mdb_env_create(&w->env);
        if (!rc) rc = mdb_env_set_mapsize(w->env, (size_t)1 << 26);
        if (!rc) rc = mdb_env_open(w->env, path, 0, 0664);
        if (!rc) rc = mdb_txn_begin(w->env, NULL, 0, &w->txn);
        if (!rc) rc = mdb_dbi_open(w->txn, NULL, 0, &w->dbi);
        if (rc) {
            printf("dbfx: lmdb '%s': %s\n", path, mdb_strerror(rc));
            free(w);
            return NULL;
        }
        return w;
    }
    char *e = NULL;
    w->opt = leveldb_options_create();
    leveldb_options_set_create_if_missing(w->opt, 1);
    leveldb_options_set_error_if_exists(w->opt, 1);
    w->wopt = leveldb_writeoptions_create();
    w->ldb = leveldb_open(w->opt, path, &e);
    if (e) {
        printf("dbfx: leveldb '%s': %s\n", path, e);
        leveldb_free(e);
        free(w);
        return NULL;
    }
    return w;
}

int dbfx_put(DbFx *w, const char *key, const void *val, size_t n)
{
    if (w->lmdb) {
        MDB_val k = {strlen(key), (void *)key}, v = {n, (void *)val};
        return mdb_put(w->txn, w->dbi, &k, &v, 0) ? -1 : 0;
    }
    char *e = NULL;
    leveldb_put(w->ldb, w->wopt, key, strlen(key), val, n, &e);
    if (e) leveldb_free(e);
    return e ? -1 : 0;
}

int dbfx_put_datum(DbFx *w, const char *key, const Cliff__Datum *d)
{
    size_t n = cliff__datum__get_packed_size(d);
    uint8_t *buf = malloc(n + 1);
    cliff__datum__pack(d, buf);
    int rc = dbfx_put(w, key, buf, n);
    free(buf);
    return rc;
}

int dbfx_close(DbFx *w)
{
    int rc = 0;
    if (w->lmdb) {
        rc = mdb_txn_commit(w->txn) ? -1 : 0;
        mdb_env_close(w->env);
    } else {
        leveldb_close(w->ldb);
        leveldb_options_destroy(w->opt);
        leveldb_writeoptions_destroy(w->wopt);
    }
    free(w);
    return rc;
}

Cliff__Datum dbfx_raw(int c, int h, int w, const uint8_t *px, int label)
{
    Cliff__Datum d = CLIFF__DATUM__INIT;
    d.has_channels = d.has_height = d.has_width = d.has_data = d.has_label = 1;
    d.channels = c;
    d.height = h;
    d.width = w;
    d.data.len = (size_t)c * (size_t)h * (size_t)w;
    d.data.data = (uint8_t *)px;
    d.label = label;
    return d;
}
