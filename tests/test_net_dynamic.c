/* Layers whose top shapes depend on bottom values (Filter) are reshaped before
 * every forward, and so is everything after them. */
#include <string.h>

#include "check.h"
#include "net.h"
#include "textformat.h"

static const char *net_text =
    "layer { name: 'in' type: 'Input' top: 'x' top: 'sel' "
    "  input_param { shape { dim: 4 dim: 2 } shape { dim: 4 } } }"
    "layer { name: 'f' type: 'Filter' bottom: 'x' bottom: 'sel' top: 'y' }"
    "layer { name: 'p' type: 'Power' bottom: 'y' top: 'z' power_param { scale: 2 } }";

static void filter_reshapes_every_forward(void)
{
    CliffError err;
    Cliff__NetParameter *np = (Cliff__NetParameter *)cliff_text_parse(
        &cliff__net_parameter__descriptor, "net", net_text, strlen(net_text), NULL, &err);
    CHECK(np != NULL);
    if (!np) return;
    CliffRng rng;
    cliff_rng_seed(&rng, 1);
    CliffNet *net = cliff_net_build(np, CLIFF__PHASE__TRAIN, NULL, &rng, NULL, &err);
    CHECK(net != NULL);
    if (net) {
        CliffTensor *x = net->blobs[cliff_net_blob_index(net, "x")];
        CliffTensor *sel = net->blobs[cliff_net_blob_index(net, "sel")];
        CliffTensor *z = net->blobs[cliff_net_blob_index(net, "z")];
        for (int i = 0; i < 8; i++) x->data[i] = (float)i;
        const float pick1[4] = {1, 0, 1, 0}, pick2[4] = {0, 1, 1, 1};
        memcpy(sel->data, pick1, sizeof pick1);
        cliff_net_forward(net);
        CHECK(z->shape[0] == 2 && z->count == 4);
        /* rows 0 and 2, doubled */
        CHECK(z->data[0] == 0 && z->data[1] == 2 && z->data[2] == 8 && z->data[3] == 10);
        memcpy(sel->data, pick2, sizeof pick2);
        cliff_net_forward(net);
        CHECK(z->shape[0] == 3 && z->count == 6);
        CHECK(z->data[0] == 4 && z->data[5] == 14);
        cliff_net_free(net);
    }
    protobuf_c_message_free_unpacked(&np->base, NULL);
}

int main(void)
{
    RUN(filter_reshapes_every_forward);
    return test_main_end();
}
