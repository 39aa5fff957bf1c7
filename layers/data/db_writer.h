/* Writing Caffe's data sets: a new LMDB (liblmdb) or LevelDB (libleveldb's C
 * API) database filled with key/value records, as Caffe's tools write them
 * (convert_imageset, convert_mnist_data): records are buffered and committed
 * in batches (one LMDB transaction or one LevelDB write batch each), the LMDB
 * map grows by doubling when a batch does not fit (Caffe's LMDB_MAP_SIZE
 * strategy since 2016), LevelDB with Caffe's options (64 KiB blocks, 256 MiB
 * write buffer). The readers (db.h) see the records in key order.
 *
 * The database is created at a path that must not exist (Caffe's tools refuse
 * an existing one too). Errors name the path and the backend. */
#ifndef CLIFF_DATA_DB_WRITER_H
#define CLIFF_DATA_DB_WRITER_H

#include <stddef.h>

#include "layers/data/db.h"
#include "proto/error.h"

typedef struct CliffDbWriter CliffDbWriter;

CliffDbWriter *cliff_db_create(CliffDbBackend backend, const char *path, CliffError *err);
/* Buffers one record (key and value are copied); commits when the batch holds
 * CLIFF_DB_BATCH records. A key already written is overwritten. */
int cliff_db_put(CliffDbWriter *w, const void *key, size_t klen, const void *val, size_t vlen,
                 CliffError *err);
#define CLIFF_DB_BATCH 1000
/* Writes the buffered records. */
int cliff_db_commit(CliffDbWriter *w, CliffError *err);
/* Commits what is buffered and closes; w is freed either way. */
int cliff_db_finish(CliffDbWriter *w, CliffError *err);
/* Closes without committing the buffered records (after an error). */
void cliff_db_abandon(CliffDbWriter *w);

#endif
