/* Layers whose top shapes depend on bottom values (Filter) are reshaped before
 * every forward, and so is everything after them. */
#include "net_fixture.h"

static const char *net_text =
    "layer { name: 'in' type: 'Input' top: 'x' top: 'sel' "
    "  input_param { shape { dim: 4 dim: 2 } shape { dim: 4 } } }"
    "layer { name: 'f' type: 'Filter' bottom: 'x' bottom: 'sel' top: 'y' }"
    "layer { name: 'p' type: 'Power' bottom: 'y' top: 'z' power_param { scale: 2 } }";

static void filter_reshapes_every_forward(void)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx, net_text, CLIFF__PHASE__TRAIN, NULL);
    CliffTensor *x = net ? nfx_blob(net, "x") : NULL, *sel = net ? nfx_blob(net, "sel") : NULL;
    CliffTensor *z = net ? nfx_blob(net, "z") : NULL;
    if (x && sel && z) {
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
    }
    nfx_free(&fx);
}

int main(void)
{
    RUN(filter_reshapes_every_forward);
    return test_main_end();
}
