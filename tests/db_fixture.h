/* Test databases written record by record through each library's own API
 * (liblmdb's mdb_put, LevelDB's leveldb_put), never through cliff's code, so
 * that the Data layer is checked against what the libraries store. */
#ifndef CLIFF_DB_FIXTURE_H
#define CLIFF_DB_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "cliff.pb-c.h"

typedef struct DbFx DbFx;

/* Creates an empty database at path (removed first if it exists); lmdb 1 for
 * LMDB, 0 for LevelDB. NULL on failure (printed). */
DbFx *dbfx_create(int lmdb, const char *path);
int dbfx_put(DbFx *w, const char *key, const void *val, size_t n);
/* Packs d (Caffe's Datum) and stores it under key. */
int dbfx_put_datum(DbFx *w, const char *key, const Cliff__Datum *d);
/* Commits and closes; 0 on success. */
int dbfx_close(DbFx *w);

/* A raw uint8 Datum of c x h x w pixels px (not copied) and label. */
Cliff__Datum dbfx_raw(int c, int h, int w, const uint8_t *px, int label);

#endif
