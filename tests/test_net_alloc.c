/* Allocation failures in the net builder: with the fault hook of
 * layers/net/net_alloc.h, the 1st, 2nd, ... allocation of a build fails in
 * turn until a build needs no more. Every build that met a failure must return
 * NULL with "out of memory" and free what it made (the ASan build checks the
 * leaks); the build that met none must equal the build without the hook. The
 * net covers every step of the build: layers left out by phase and stage, an
 * in-place top, splits (one with a loss output), a parameter shared by name,
 * and more plan layers than the plan's first allocation holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layers/net/net.h"
#include "layers/net/net_alloc.h"
#include "proto/textformat.h"

#define CHAIN 40 /* ReLU layers after the branch: the plan grows past 32 layers */

static char *net_text(void)
{
    static const char head[] =
        "layer { name: 'in' type: 'Input' top: 'x' top: 't'\n"
        "        input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 } } }\n"
        "layer { name: 'test_only' type: 'ReLU' bottom: 'x' top: 'xt' include { phase: TEST } }\n"
        "layer { name: 'staged' type: 'ReLU' bottom: 'x' top: 'xs' include { stage: 'extra' } }\n"
        "layer { name: 'unstaged' type: 'ReLU' bottom: 'x' top: 'xu' exclude { stage: 'extra' } }\n"
        "layer { name: 'ipa' type: 'InnerProduct' bottom: 'x' top: 'a' param { name: 'w' }\n"
        "        inner_product_param { num_output: 3 } }\n"
        "layer { name: 'ipb' type: 'InnerProduct' bottom: 'xs' top: 'b' param { name: 'w' }\n"
        "        inner_product_param { num_output: 3 } }\n"
        "layer { name: 'relu' type: 'ReLU' bottom: 'a' top: 'a' }\n"
        "layer { name: 'ip' type: 'InnerProduct' bottom: 'a' top: 'y' loss_weight: 2\n"
        "        inner_product_param { num_output: 2 } }\n"
        "layer { name: 'eu' type: 'EuclideanLoss' bottom: 'y' bottom: 't' top: 'l' }\n";
    size_t cap = sizeof head + CHAIN * 128;
    char *text = malloc(cap);
    if (!text) return NULL;
    size_t used = (size_t)snprintf(text, cap, "%s", head);
    for (int i = 0; i < CHAIN; i++) {
        char bottom[16];
        snprintf(bottom, sizeof bottom, i ? "c%d" : "b", i - 1);
        used += (size_t)snprintf(text + used, cap - used,
                                 "layer { name: 'r%d' type: 'ReLU' bottom: '%s' top: 'c%d' }\n", i,
                                 bottom, i);
    }
    return text;
}

/* The parts of a built net that a truncated or half-built one would lack. */
static int same_net(const CliffNet *a, const CliffNet *b)
{
    if (a->nlayers != b->nlayers || a->nblobs != b->nblobs || a->nparams != b->nparams ||
        a->param_count != b->param_count || a->noutputs != b->noutputs)
        return 0;
    for (int i = 0; i < a->nlayers; i++) {
        const CliffNetLayer *x = &a->layers[i], *y = &b->layers[i];
        if (strcmp(x->layer.name, y->layer.name) || x->nb != y->nb || x->nt != y->nt ||
            x->need_backward != y->need_backward || x->is_split != y->is_split)
            return 0;
        for (int j = 0; j < x->nt; j++)
            if (x->loss_weight[j] != y->loss_weight[j]) return 0;
    }
    for (int k = 0; k < a->nblobs; k++)
        if (strcmp(a->blob_names[k], b->blob_names[k])) return 0;
    for (int p = 0; p < a->nparams; p++)
        if (strcmp(a->params[p].name, b->params[p].name)) return 0;
    return 1;
}

static void test_every_allocation_failure_is_an_error(void)
{
    char *text = net_text();
    CliffSrcMap map;
    CliffError err = {0};
    cliff_srcmap_init(&map);
    Cliff__NetParameter *param =
        text ? (Cliff__NetParameter *)cliff_text_parse(&cliff__net_parameter__descriptor,
                                                       "net.prototxt", text, strlen(text), &map,
                                                       &err)
             : NULL;
    CHECK(param != NULL);
    char *stage[] = {"extra"};
    Cliff__NetState extra = CLIFF__NET_STATE__INIT;
    extra.n_stage = 1;
    extra.stage = stage;
    CliffRng rng;
    cliff_rng_seed(&rng, 5);
    CliffNet *want = param ? cliff_net_build(param, CLIFF__PHASE__TRAIN, &extra, &rng, &map, &err)
                           : NULL;
    if (!want) {
        CHECK_FAILF("build without the hook: %s", err.msg);
        goto out;
    }
    /* The net has what the header promises: the staged layer and not the two
     * others; splits of x (two readers) and of y (a reader and a loss weight);
     * w, the bias of ipa and ipb, ip's weight and bias. */
    CHECK(cliff_net_layer_index(want, "staged") >= 0);
    CHECK(cliff_net_layer_index(want, "test_only") < 0);
    CHECK(cliff_net_layer_index(want, "unstaged") < 0);
    CHECK(cliff_net_blob_index(want, "x_in_0_split_1") >= 0);
    CHECK(cliff_net_blob_index(want, "y_ip_0_split_1") >= 0);
    CHECK(want->nlayers == 7 + CHAIN + 2 && want->nlayers > 32 && want->nparams == 5);
    long n = 1;
    for (; n < 100000; n++) {
        memset(&err, 0, sizeof err);
        cliff_rng_seed(&rng, 5);
        cliff_net_alloc_fail_at(n);
        CliffNet *net = cliff_net_build(param, CLIFF__PHASE__TRAIN, &extra, &rng, &map, &err);
        int failed = cliff_net_alloc_failed();
        cliff_net_alloc_fail_at(0);
        if (!failed) {
            if (!net || !same_net(net, want))
                CHECK_FAILF("no allocation failed at %ld, but the build differs: %s", n,
                            net ? "(another net)" : err.msg);
            cliff_net_free(net);
            break;
        }
        if (net) {
            CHECK_FAILF("allocation %ld failed, but the build returned a net (%d layers of %d)", n,
                        net->nlayers, want->nlayers);
            cliff_net_free(net);
        } else if (!strstr(err.msg, "out of memory")) {
            CHECK_FAILF("allocation %ld failed: error '%s' does not say out of memory", n,
                        err.msg);
        }
    }
    CHECK(n > 100); /* the hook saw the build's allocations */
out:
    cliff_net_free(want);
    if (param) protobuf_c_message_free_unpacked(&param->base, NULL);
    cliff_srcmap_free(&map);
    free(text);
}

int main(void)
{
    RUN(test_every_allocation_failure_is_an_error);
    return test_main_end();
}
