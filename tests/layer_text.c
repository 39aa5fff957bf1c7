/* One layer's parameters from the text format (layer_text.h). */
#include "layer_text.h"

#include <string.h>

#include "check.h"
#include "proto/textformat.h"

Cliff__LayerParameter *layer_text(const char *text)
{
    CliffError err;
    Cliff__LayerParameter *lp = (Cliff__LayerParameter *)cliff_text_parse(
        &cliff__layer_parameter__descriptor, "layer", text, strlen(text), NULL, &err);
    if (!lp) CHECK_FAILF("%s", err.msg);
    return lp;
}
