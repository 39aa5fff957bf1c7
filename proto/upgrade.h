/* Upgrade-on-read of Caffe's legacy config forms, as Caffe's upgrade_proto.cpp
 * does it, applied in place to parsed protobuf-c messages.
 *
 * The messages must use protobuf-c's default allocator: upgraded parts are
 * malloc'd, removed parts are freed, so protobuf_c_message_free_unpacked(msg,
 * NULL) still frees the result. On error the message is left unchanged (all
 * checks and allocations happen before anything is moved) and still freeable.
 *
 * Net upgrades, in Caffe's order:
 *   1. V0 (`layers { layer { ... } }`): not supported, an error.
 *   2. data transformation: deprecated scale/mean_file/crop_size/mirror of the
 *      DATA, IMAGE_DATA and WINDOW_DATA V1 layers move into transform_param.
 *   3. V1 (`layers { type: CONVOLUTION ... }`) -> `layer { type: "Convolution" }`:
 *      name, bottoms, tops, include/exclude, blobs, loss_weight, every *_param,
 *      and param/blob_share_mode/blobs_lr/weight_decay -> param { name
 *      share_mode lr_mult decay_mult }. Mixing `layer` and `layers` is an error.
 *   4. net-level input + input_shape/input_dim -> an Input layer named "input"
 *      in front of all layers (input without any shape is just dropped, as
 *      Caffe does for legacy .caffemodel files).
 *   5. BatchNorm layers with 3 param specs get lr_mult = decay_mult = 0.
 * Solver upgrade: solver_type enum -> type string. */
#ifndef CLIFF_UPGRADE_H
#define CLIFF_UPGRADE_H

#include "cliff.pb-c.h"
#include "error.h"

/* Upgrades net in place. map (may be NULL): the position recorded for each
 * V1 `layers {` message is moved to the LayerParameter that replaces it, and
 * errors are prefixed "file:line:col: error: " when a position is known.
 * Returns 0 (also when nothing needed upgrading) or -1 with err filled. */
int cliff_upgrade_net(Cliff__NetParameter *net, CliffSrcMap *map, CliffError *err);

/* Converts a set solver_type into the type string ("SGD", "Nesterov", "AdaGrad",
 * "RMSProp", "AdaDelta", "Adam") and clears solver_type. Both set and
 * differing is an error. Inline nets (net_param, train_net_param,
 * test_net_param) are not touched: upgrade them with cliff_upgrade_net.
 * Returns 0 or -1 with err filled. */
int cliff_upgrade_solver(Cliff__SolverParameter *s, CliffError *err);

/* Caffe's type string for a V1LayerParameter.LayerType value ("" for NONE),
 * or NULL for a value outside the enum. */
const char *cliff_v1_layer_type_name(int v1_type);

/* The type string for a SolverParameter.SolverType value, or NULL. */
const char *cliff_solver_type_name(int solver_type);

#endif
