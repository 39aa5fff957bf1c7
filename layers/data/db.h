/* Read-only cursors over Caffe's data sets: LMDB (liblmdb) and LevelDB
 * (libleveldb's C API), records in key order as Caffe's DataLayer reads them.
 *
 * A cursor is a position in key order; callers keep their own "next record
 * index" (records from the first key) so that a snapshot, or a rank of a
 * sharded run, can name a position without storing a key. Keys and values
 * returned stay valid until the next call on the same cursor. Not thread-safe:
 * one thread at a time per CliffDb (the data layer's producer thread). */
#ifndef CLIFF_DATA_DB_H
#define CLIFF_DATA_DB_H

#include <stddef.h>

#include "proto/error.h"

typedef enum { CLIFF_DB_LEVELDB = 0, CLIFF_DB_LMDB = 1 } CliffDbBackend; /* data_param.backend */

typedef struct CliffDb CliffDb;

/* Opens `path` read-only. Errors name the path and the backend: a missing
 * path, a folder that is not a database of that backend, a lock held by
 * another process (LevelDB). */
CliffDb *cliff_db_open(CliffDbBackend backend, const char *path, CliffError *err);
void cliff_db_close(CliffDb *db);
const char *cliff_db_backend_name(CliffDbBackend backend); /* "LMDB", "LevelDB" */

/* Moves to the first record. 0 with *valid = 1 at a record, *valid = 0 when the
 * database is empty; -1 on a read error. */
int cliff_db_first(CliffDb *db, int *valid, CliffError *err);
/* Moves to the next record; *valid = 0 past the last one. */
int cliff_db_next(CliffDb *db, int *valid, CliffError *err);
/* The record at the cursor (only while valid). */
void cliff_db_record(CliffDb *db, const void **key, size_t *klen, const void **val,
                     size_t *vlen);

/* key as printable text for messages: bytes outside ' '..'~' as \xHH, at most
 * 80 characters (then "..."). */
void cliff_db_key_text(const void *key, size_t klen, char *out, size_t outsize);

#endif
