/* Snapshot files: weights and solver state, in Caffe's HDF5 layout (cliff's
 * default) or Caffe's binary protobuf (.caffemodel NetParameter, .solverstate
 * SolverState).
 *
 * HDF5 weights (<prefix>_iter_N.caffemodel.h5): group /data, one group per
 * layer of the net (auto-inserted split layers skipped), float32 datasets
 * /data/<layer>/<i> shaped like parameter blob i, written only for the blob's
 * owner (shared blobs are stored once); /diff likewise with snapshot_diff.
 * HDF5 state (<prefix>_iter_N.solverstate.h5): /iter int32 (1),
 * /current_step int32 (1), /learned_net fixed-length null-terminated ASCII
 * string (scalar), /history/<j> float32; and cliff's extras under /cliff:
 * version, rng (uint64 x4), seed, clipped, skipped, consecutive_bad,
 * smoothed_loss, losses (float64 ring), loss_pos, type, and
 * layer_state/<net>/<layer> int64 words from each layer's state_save
 * (<net> = "train" or "test<i>"), and with clipping on, clip_policy (string)
 * and clip_state (float64, the policy's state; may be empty). Binary state carries the same extras in
 * unknown field 1000 of SolverState (ignored by Caffe).
 * Every non-empty array dataset cliff writes is chunked (whole blob, split
 * along leading axes past 4 MiB) with the Fletcher-32 checksum filter, so
 * corruption fails the read; scalars (learned_net, /cliff/type) and empty
 * arrays cannot be chunked and are stored plainly. A layer name with '/'
 * ("conv1/bn") is a nested group path, as Caffe's writer makes it: a layer's
 * blobs are its group's number-named links, other links are nested layers.
 *
 * Every file is written to "<final>.tmp", flushed and fsync'ed, then renamed:
 * a crash leaves earlier snapshots intact and never a partial final file.
 * Readers silence HDF5's own error printing and report missing, truncated or
 * corrupted files as errors naming the file. */
#ifndef CLIFF_SNAPSHOT_H
#define CLIFF_SNAPSHOT_H

#include <stdint.h>

#include "proto/error.h"
#include "layers/net/net.h"

/* 0 when every layer name of net (auto-inserted splits aside) can be stored
 * in a snapshot and read back as itself; else -1 with an error positioned at
 * the layer: an empty name, '/' at either end or doubled, a "." or ".." part,
 * two layers of one name, "x/<digits>" beside a layer x (its blob's path), or
 * a layer with saved data state whose name is a path prefix of another's.
 * "conv1" beside "conv1/bn" is fine (nested groups, as Caffe writes them). */
int cliff_snapshot_names_check(const CliffNet *net, const CliffSrcMap *map, CliffError *err);

/* 1 when path is an HDF5 file (by signature), 0 otherwise (also missing). */
int cliff_file_is_hdf5(const char *path);
/* fsync(path's file) then rename(tmp -> final) and fsync the directory. */
int cliff_commit_file(const char *tmp, const char *final, CliffError *err);

/* Writes the weights (and gradients when write_diff) of net, atomically, as
 * HDF5 (hdf5 != 0) or binary NetParameter. */
int cliff_weights_save(const CliffNet *net, const char *path, int hdf5, int write_diff,
                       CliffError *err);
int cliff_weights_save_h5(const CliffNet *net, const char *path, int write_diff,
                          CliffError *err);
int cliff_weights_save_proto(const CliffNet *net, const char *path, int write_diff,
                             CliffError *err);

/* Reads weights from path (HDF5 or binary .caffemodel, by content) into slab
 * (net->param_count floats, laid out like net->param_slab, pre-filled by the
 * caller), matching layers by name. found (net->nlayers entries, may be NULL)
 * gets 1 for every layer with parameters found in the file.
 * strict (resume): every layer with parameters must be present and the file
 * may hold no parameters for layers the net lacks. Errors: shape or blob-count
 * mismatch (naming the layer and both shapes), unreadable file. */
int cliff_weights_read(const CliffNet *net, const char *path, int strict, float *slab,
                       unsigned char *found, CliffError *err);

/* Per-layer resumable state words. */
typedef struct CliffLayerStateRec {
    char *net;   /* "train" or "test<i>" */
    char *layer; /* layer name */
    int64_t *words;
    size_t n;
} CliffLayerStateRec;

/* A solver state as stored on disk. */
typedef struct CliffStateData {
    int iter, current_step;
    char *learned_net; /* NULL when absent */
    size_t nhist;      /* history blobs */
    float **hist;
    size_t *hist_count;
    /* Shapes to write (the parameter's, as Caffe stores them); NULL: 1-D.
     * hist_dims holds CLIFF_MAX_AXES entries per blob. Readers leave them NULL. */
    int *hist_naxes;
    int64_t *hist_dims;
    int has_cliff; /* the extras below are valid */
    uint64_t rng[4], seed;
    long long clipped, skipped;
    int consecutive_bad;
    double smoothed_loss;
    double *losses;
    int nlosses, loss_pos;
    char *type;
    CliffLayerStateRec *layers;
    int nlayers;
    /* The clip policy's name and its persistent state (solver/clip.h);
     * clip_policy NULL: none saved (clipping off, or an older file). */
    char *clip_policy;
    double *clip_state;
    size_t nclip_state;
} CliffStateData;

void cliff_state_data_free(CliffStateData *d);
/* Writes d atomically as HDF5 (hdf5 != 0) or binary SolverState. */
int cliff_state_write(const CliffStateData *d, const char *path, int hdf5, CliffError *err);
int cliff_state_write_h5(const CliffStateData *d, const char *path, CliffError *err);
int cliff_state_write_proto(const CliffStateData *d, const char *path, CliffError *err);
/* Reads either format (by content). History shapes are not kept: only counts.
 * A name read (learned_net, solver type, clip policy, layer-state names)
 * holding a control byte is refused: errors stay one line. */
int cliff_state_read(const char *path, CliffStateData *d, CliffError *err);
int cliff_state_read_h5(const char *path, CliffStateData *d, CliffError *err);
int cliff_state_read_proto(const char *path, CliffStateData *d, CliffError *err);

/* Binary extras codec (unknown field 1000 of SolverState). */
uint8_t *cliff_state_extras_encode(const CliffStateData *d, size_t *len);
int cliff_state_extras_decode(const uint8_t *buf, size_t len, CliffStateData *d,
                              CliffError *err);

#endif
