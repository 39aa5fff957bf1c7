/* One layer's parameters from the text format, for tests that build a layer
 * by hand (layer { ... } without the braces: "name: 'relu' type: 'ReLU'").
 * Returns the parsed message, or NULL after failing the running test with the
 * parser's positioned message (call it inside RUN). Free the message with
 * protobuf_c_message_free_unpacked(&lp->base, NULL). */
#ifndef CLIFF_TESTS_LAYER_TEXT_H
#define CLIFF_TESTS_LAYER_TEXT_H

#include "cliff.pb-c.h"

Cliff__LayerParameter *layer_text(const char *text);

#endif
