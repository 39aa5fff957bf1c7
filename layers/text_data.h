/* TextData's vocabulary, for the tools that write it next to the snapshots
 * (tools/train: <snapshot_prefix>.vocab) or turn ids back into text. */
#ifndef CLIFF_TEXT_DATA_H
#define CLIFF_TEXT_DATA_H

#include "layer.h"
#include "text_vocab.h"

/* The vocabulary of TextData layer l (owned by the layer), or NULL when l is
 * of another type. */
const CliffTextVocab *cliff_text_data_vocab(const CliffLayer *l);

#endif
