/* Net construction (layers/net/), each behaviour asserted on a small net:
 * in-place tops, automatic splits (gradient = sum of
 * the consumers', checked against a double-precision hand computation),
 * loss_weight on a non-loss top and 0 on a loss, propagate_down: false,
 * force_backward, parameter sharing by name (one slab region, summed
 * gradient), share_mode STRICT vs PERMISSIVE, lr_mult 0, net outputs.
 * NetStateRule filtering is in test_net_rules.c, Caffe's own nets in
 * test_net_caffe.c. */
#include "net_fixture.h"

/* ---- in-place tops ---------------------------------------------------------- */

/* ReLU in place: one blob, the top is the bottom, values rewritten; the
 * gradient through an in-place ReLU into a parameter matches a hand
 * computation. */
static void test_in_place_top(void)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx,
        "layer { name: \"in\" type: \"Input\" top: \"x\" top: \"t\"\n"
        "        input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 4 } } }\n"
        "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"x\" top: \"y\"\n"
        "        inner_product_param { num_output: 4 } }\n"
        "layer { name: \"relu\" type: \"ReLU\" bottom: \"y\" top: \"y\" }\n"
        "layer { name: \"loss\" type: \"EuclideanLoss\" bottom: \"y\" bottom: \"t\" top: \"l\" }\n",
        CLIFF__PHASE__TRAIN, NULL);
    if (!net) goto out;
    CHECK(net->nblobs == 4); /* x, t, y, l: the ReLU adds no blob */
    CHECK(net->nlayers == 4);
    CliffNetLayer *relu = nfx_layer(net, "relu"), *ip = nfx_layer(net, "ip");
    if (!relu || !ip) goto out;
    CHECK(relu->top_ids[0] == relu->bottom_ids[0] && relu->top[0] == relu->bottom[0]);
    CHECK(relu->top_ids[0] == ip->top_ids[0]);
    CliffTensor *x = nfx_blob(net, "x"), *t = nfx_blob(net, "t"), *y = nfx_blob(net, "y");
    if (!x || !t || !y) goto out;
    CliffTensor *W = &ip->layer.params[0], *b = &ip->layer.params[1];
    nfx_fill(x->data, 6, 0.3, 1.0);
    nfx_fill(t->data, 8, 1.1, 0.5);
    nfx_fill(W->data, 12, 2.0, 0.8);
    nfx_fill(b->data, 4, 0.7, 0.2);
    double xd[6], pre[8], act[8], dact[8], dW[12] = {0}, db[4] = {0};
    nfx_to_double(x->data, 6, xd);
    nfx_ip(W->data, b->data, xd, 2, 3, 4, pre);
    int neg = 0, pos = 0;
    for (int i = 0; i < 8; i++) {
        act[i] = pre[i] > 0 ? pre[i] : 0;
        neg += pre[i] < 0, pos += pre[i] > 0;
    }
    CHECK(neg > 0 && pos > 0); /* the data exercise both ReLU branches */
    double want_loss = nfx_euclid(act, t->data, 2, 4, 1.0, dact);
    for (int i = 0; i < 8; i++)
        if (pre[i] <= 0) dact[i] = 0;
    nfx_ip_back(W->data, xd, dact, 2, 3, 4, dW, db, NULL);
    cliff_net_zero_grads(net);
    double loss = cliff_net_forward(net);
    CHECK_NEAR(loss, want_loss, 1e-5);
    nfx_check_close("y (after ReLU)", y->data, act, 8, 1e-5);
    cliff_net_backward(net);
    nfx_check_close("dW", W->diff, dW, 12, 1e-5);
    nfx_check_close("db", b->diff, db, 4, 1e-5);
out:
    nfx_free(&fx);
}

/* ---- automatic split -------------------------------------------------------- */

/* h = ip0(x) feeds two InnerProducts, each with a EuclideanLoss (weights 1 and
 * 0.5). The net inserts one Split with two tops (Caffe's names); ip0's
 * gradient is the sum of what both branches send back. */
static void test_split_sums_gradients(void)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx,
        "layer { name: \"in\" type: \"Input\" top: \"x\" top: \"ta\" top: \"tb\"\n"
        "        input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 }\n"
        "                      shape { dim: 2 dim: 1 } } }\n"
        "layer { name: \"ip0\" type: \"InnerProduct\" bottom: \"x\" top: \"h\"\n"
        "        inner_product_param { num_output: 4 } }\n"
        "layer { name: \"ipa\" type: \"InnerProduct\" bottom: \"h\" top: \"a\"\n"
        "        inner_product_param { num_output: 2 } }\n"
        "layer { name: \"ipb\" type: \"InnerProduct\" bottom: \"h\" top: \"b\"\n"
        "        inner_product_param { num_output: 1 } }\n"
        "layer { name: \"la\" type: \"EuclideanLoss\" bottom: \"a\" bottom: \"ta\" top: \"la\" }\n"
        "layer { name: \"lb\" type: \"EuclideanLoss\" bottom: \"b\" bottom: \"tb\" top: \"lb\"\n"
        "        loss_weight: 0.5 }\n",
        CLIFF__PHASE__TRAIN, NULL);
    if (!net) goto out;
    /* Layers: in, ip0, split of h, ipa, ipb, la, lb. */
    CHECK(net->nlayers == 7);
    CliffNetLayer *split = &net->layers[2];
    CHECK(split->is_split && split->nb == 1 && split->nt == 2);
    CHECK(strcmp(split->layer.name, "h_ip0_0_split") == 0); /* Caffe's SplitLayerName */
    CHECK(strcmp(net->blob_names[split->bottom_ids[0]], "h") == 0);
    CHECK(cliff_net_blob_index(net, "h_ip0_0_split_0") == split->top_ids[0]);
    CHECK(cliff_net_blob_index(net, "h_ip0_0_split_1") == split->top_ids[1]);
    CliffNetLayer *ip0 = nfx_layer(net, "ip0"), *ipa = nfx_layer(net, "ipa"),
                  *ipb = nfx_layer(net, "ipb");
    if (!ip0 || !ipa || !ipb) goto out;
    CHECK(ipa->bottom_ids[0] == split->top_ids[0] && ipb->bottom_ids[0] == split->top_ids[1]);
    CliffTensor *x = nfx_blob(net, "x"), *ta = nfx_blob(net, "ta"), *tb = nfx_blob(net, "tb");
    if (!x || !ta || !tb) goto out;
    nfx_fill(x->data, 6, 0.1, 1.0);
    nfx_fill(ta->data, 4, 0.4, 1.0);
    nfx_fill(tb->data, 2, 0.9, 1.0);
    float *W0 = ip0->layer.params[0].data, *Wa = ipa->layer.params[0].data,
          *Wb = ipb->layer.params[0].data;
    nfx_fill(W0, 12, 1.0, 0.7);
    nfx_fill(ip0->layer.params[1].data, 4, 2.0, 0.3);
    nfx_fill(Wa, 8, 3.0, 0.9);
    nfx_fill(ipa->layer.params[1].data, 2, 4.0, 0.3);
    nfx_fill(Wb, 4, 5.0, 1.1);
    nfx_fill(ipb->layer.params[1].data, 1, 6.0, 0.3);
    /* By hand, in double. */
    double xd[6], h[8], a[4], b[2], da[4], db_[2], dha[8], dhb[8], dh[8];
    double dW0[12] = {0}, db0[4] = {0}, dWa[8] = {0}, dWb[4] = {0};
    nfx_to_double(x->data, 6, xd);
    nfx_ip(W0, ip0->layer.params[1].data, xd, 2, 3, 4, h);
    nfx_ip(Wa, ipa->layer.params[1].data, h, 2, 4, 2, a);
    nfx_ip(Wb, ipb->layer.params[1].data, h, 2, 4, 1, b);
    double want = nfx_euclid(a, ta->data, 2, 2, 1.0, da) + nfx_euclid(b, tb->data, 2, 1, 0.5, db_);
    nfx_ip_back(Wa, h, da, 2, 4, 2, dWa, NULL, dha);
    nfx_ip_back(Wb, h, db_, 2, 4, 1, dWb, NULL, dhb);
    for (int i = 0; i < 8; i++) dh[i] = dha[i] + dhb[i];
    nfx_ip_back(W0, xd, dh, 2, 3, 4, dW0, db0, NULL);

    cliff_net_zero_grads(net);
    CHECK_NEAR(cliff_net_forward(net), want, 1e-5);
    cliff_net_backward(net);
    nfx_check_close("dWa", ipa->layer.params[0].diff, dWa, 8, 1e-5);
    nfx_check_close("dWb", ipb->layer.params[0].diff, dWb, 4, 1e-5);
    nfx_check_close("dh (split bottom)", nfx_blob(net, "h")->diff, dh, 8, 1e-5);
    nfx_check_close("dW0", ip0->layer.params[0].diff, dW0, 12, 1e-5);
    nfx_check_close("db0", ip0->layer.params[1].diff, db0, 4, 1e-5);
    /* Each branch alone would give a different ip0 gradient: the sum matters. */
    double only_a[12] = {0};
    nfx_ip_back(W0, xd, dha, 2, 3, 4, only_a, NULL, NULL);
    double gap = 0;
    for (int i = 0; i < 12; i++) gap = fmax(gap, fabs(only_a[i] - dW0[i]));
    CHECK(gap > 1e-2);
out:
    nfx_free(&fx);
}

/* ---- loss weights ----------------------------------------------------------- */

/* The 3 -> 2 InnerProduct `ip` of the loss-weight nets below: fixed weights
 * and bias. */
static void fill_ip_params(CliffNetLayer *ip)
{
    nfx_fill(ip->layer.params[0].data, 6, 0.5, 1.0);
    nfx_fill(ip->layer.params[1].data, 2, 0.8, 1.0);
}

/* One forward and backward pass: the net's loss is want, and ip's weight and
 * bias gradients are dW (2 x 3) and db (2). */
static void check_ip_pass(CliffNet *net, CliffNetLayer *ip, double want, const double *dW,
                          const double *db)
{
    cliff_net_zero_grads(net);
    CHECK_NEAR(cliff_net_forward(net), want, 1e-5);
    cliff_net_backward(net);
    nfx_check_close("dW", ip->layer.params[0].diff, dW, 6, 1e-5);
    nfx_check_close("db", ip->layer.params[1].diff, db, 2, 1e-5);
}

/* loss_weight 2 on an InnerProduct top (not a loss layer): the net's loss is
 * 2 * sum(y) and dW = 2 * sum_n x[n], db = 2 N. */
static void test_loss_weight_on_non_loss_top(void)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx,
        "layer { name: \"in\" type: \"Input\" top: \"x\" input_param { shape { dim: 2 dim: 3 } } }\n"
        "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"x\" top: \"y\" loss_weight: 2\n"
        "        inner_product_param { num_output: 2 } }\n",
        CLIFF__PHASE__TRAIN, NULL);
    if (!net) goto out;
    CliffNetLayer *ip = nfx_layer(net, "ip");
    CliffTensor *x = nfx_blob(net, "x");
    if (!ip || !x) goto out;
    CHECK(ip->loss_weight[0] == 2.0f && ip->need_backward);
    CHECK(net->noutputs == 1 && net->output_loss_weight[0] == 2.0f);
    nfx_fill(x->data, 6, 0.2, 1.0);
    fill_ip_params(ip);
    double xd[6], y[4], want = 0, dW[6], db[2] = {4, 4};
    nfx_to_double(x->data, 6, xd);
    nfx_ip(ip->layer.params[0].data, ip->layer.params[1].data, xd, 2, 3, 2, y);
    for (int i = 0; i < 4; i++) want += 2 * y[i];
    for (int o = 0; o < 2; o++)
        for (int k = 0; k < 3; k++) dW[o * 3 + k] = 2 * (xd[k] + xd[3 + k]);
    check_ip_pass(net, ip, want, dW, db);
out:
    nfx_free(&fx);
}

/* A weighted top that also feeds a layer gets a Split whose last top carries
 * the loss weight: loss = 2 sum(y) + Euclidean(y, t). */
static void test_loss_weight_top_also_consumed(void)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx,
        "layer { name: \"in\" type: \"Input\" top: \"x\" top: \"t\"\n"
        "        input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 } } }\n"
        "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"x\" top: \"y\" loss_weight: 2\n"
        "        inner_product_param { num_output: 2 } }\n"
        "layer { name: \"eu\" type: \"EuclideanLoss\" bottom: \"y\" bottom: \"t\" top: \"l\" }\n",
        CLIFF__PHASE__TRAIN, NULL);
    if (!net) goto out;
    CHECK(net->nlayers == 4 && net->layers[2].is_split && net->layers[2].nt == 2);
    CliffNetLayer *ip = nfx_layer(net, "ip");
    CliffTensor *x = nfx_blob(net, "x"), *t = nfx_blob(net, "t");
    if (!ip || !x || !t) goto out;
    CHECK(ip->loss_weight[0] == 0); /* moved to the split's loss output */
    CHECK(net->layers[2].loss_weight[0] == 0 && net->layers[2].loss_weight[1] == 2.0f);
    nfx_fill(x->data, 6, 0.2, 1.0);
    nfx_fill(t->data, 4, 0.6, 1.0);
    fill_ip_params(ip);
    double xd[6], y[4], dy[4], dW[6] = {0}, db[2] = {0};
    nfx_to_double(x->data, 6, xd);
    nfx_ip(ip->layer.params[0].data, ip->layer.params[1].data, xd, 2, 3, 2, y);
    double want = nfx_euclid(y, t->data, 2, 2, 1.0, dy);
    for (int i = 0; i < 4; i++) want += 2 * y[i], dy[i] += 2;
    nfx_ip_back(ip->layer.params[0].data, xd, dy, 2, 3, 2, dW, db, NULL);
    check_ip_pass(net, ip, want, dW, db);
out:
    nfx_free(&fx);
}

/* loss_weight 0 on a loss layer: it still computes its top, but contributes
 * nothing to the net's loss, and nothing below it runs backward. */
static void test_loss_weight_zero_on_loss(void)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx,
        "layer { name: \"in\" type: \"Input\" top: \"x\" top: \"t\"\n"
        "        input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 } } }\n"
        "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"x\" top: \"y\"\n"
        "        inner_product_param { num_output: 2\n"
        "          weight_filler { type: \"gaussian\" std: 1 } } }\n"
        "layer { name: \"eu\" type: \"EuclideanLoss\" bottom: \"y\" bottom: \"t\" top: \"l\"\n"
        "        loss_weight: 0 }\n",
        CLIFF__PHASE__TRAIN, NULL);
    if (!net) goto out;
    CliffNetLayer *ip = nfx_layer(net, "ip"), *eu = nfx_layer(net, "eu");
    CliffTensor *x = nfx_blob(net, "x"), *t = nfx_blob(net, "t"), *l = nfx_blob(net, "l");
    if (!ip || !eu || !x || !t || !l) goto out;
    CHECK(eu->loss_weight[0] == 0 && !eu->need_backward && !ip->need_backward);
    CHECK(net->noutputs == 1 && net->output_loss_weight[0] == 0);
    nfx_fill(x->data, 6, 0.2, 1.0);
    nfx_fill(t->data, 4, 0.6, 1.0);
    cliff_net_zero_grads(net);
    CHECK(cliff_net_forward(net) == 0.0);
    CHECK(l->data[0] > 0); /* the Euclidean distance is still computed */
    cliff_net_backward(net);
    CHECK(nfx_all_zero(net->grad_slab, net->param_count));
out:
    nfx_free(&fx);
}

/* ---- propagate_down and force_backward --------------------------------------- */

/* propagate_down: false on ip2's bottom: ip2 still gets its gradient, nothing
 * reaches ip1 (which then needs no backward at all). */
static void test_propagate_down_false(void)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx,
        "layer { name: \"in\" type: \"Input\" top: \"x\" top: \"t\"\n"
        "        input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 } } }\n"
        "layer { name: \"ip1\" type: \"InnerProduct\" bottom: \"x\" top: \"h\"\n"
        "        inner_product_param { num_output: 3 } }\n"
        "layer { name: \"ip2\" type: \"InnerProduct\" bottom: \"h\" top: \"y\"\n"
        "        propagate_down: false inner_product_param { num_output: 2 } }\n"
        "layer { name: \"eu\" type: \"EuclideanLoss\" bottom: \"y\" bottom: \"t\" top: \"l\" }\n",
        CLIFF__PHASE__TRAIN, NULL);
    if (!net) goto out;
    CliffNetLayer *ip1 = nfx_layer(net, "ip1"), *ip2 = nfx_layer(net, "ip2");
    CliffTensor *x = nfx_blob(net, "x"), *t = nfx_blob(net, "t"), *h = nfx_blob(net, "h");
    if (!ip1 || !ip2 || !x || !t || !h) goto out;
    CHECK(ip2->need_backward && ip2->propagate_down[0] == 0);
    CHECK(!ip1->need_backward);
    nfx_fill(x->data, 6, 0.2, 1.0);
    nfx_fill(t->data, 4, 0.6, 1.0);
    for (int p = 0; p < 2; p++) {
        nfx_fill(ip1->layer.params[p].data, ip1->layer.params[p].count, 1.0 + p, 0.5);
        nfx_fill(ip2->layer.params[p].data, ip2->layer.params[p].count, 3.0 + p, 0.5);
    }
    for (int i = 0; i < 6; i++) h->diff[i] = 7.0f; /* must stay untouched */
    double xd[6], hd[6], y[4], dy[4], dW2[6] = {0}, db2[2] = {0};
    nfx_to_double(x->data, 6, xd);
    nfx_ip(ip1->layer.params[0].data, ip1->layer.params[1].data, xd, 2, 3, 3, hd);
    nfx_ip(ip2->layer.params[0].data, ip2->layer.params[1].data, hd, 2, 3, 2, y);
    nfx_euclid(y, t->data, 2, 2, 1.0, dy);
    nfx_ip_back(ip2->layer.params[0].data, hd, dy, 2, 3, 2, dW2, db2, NULL);
    cliff_net_zero_grads(net);
    cliff_net_forward(net);
    cliff_net_backward(net);
    nfx_check_close("dW2", ip2->layer.params[0].diff, dW2, 6, 1e-5);
    nfx_check_close("db2", ip2->layer.params[1].diff, db2, 2, 1e-5);
    CHECK(nfx_all_zero(ip1->layer.params[0].diff, 9) && nfx_all_zero(ip1->layer.params[1].diff, 3));
    for (int i = 0; i < 6; i++) CHECK(h->diff[i] == 7.0f);
out:
    nfx_free(&fx);
}

static const char *force_net =
    "layer { name: \"in\" type: \"Input\" top: \"x\" top: \"label\"\n"
    "        input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }\n"
    "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"x\" top: \"y\"\n"
    "        inner_product_param { num_output: 3 } }\n"
    "layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"y\" bottom: \"label\" top: \"l\" }\n";

/* Without force_backward the input gets no gradient; with it, the input's
 * gradient is W^T dy, and the loss layer still does not propagate to its
 * labels (Caffe's AllowForceBackward). */
static void test_force_backward(void)
{
    for (int force = 0; force < 2; force++) {
        char *text = NULL;
        if (asprintf(&text, "%s%s", force ? "force_backward: true\n" : "", force_net) < 0) return;
        NetFx fx;
        CliffNet *net = nfx_build_ok(&fx, text, CLIFF__PHASE__TRAIN, NULL);
        free(text);
        if (!net) {
            nfx_free(&fx);
            return;
        }
        CliffNetLayer *ip = nfx_layer(net, "ip"), *loss = nfx_layer(net, "loss");
        CliffTensor *x = nfx_blob(net, "x"), *label = nfx_blob(net, "label");
        if (ip && loss && x && label) {
            CHECK(ip->propagate_down[0] == force);
            CHECK(loss->propagate_down[0] == 1 && loss->propagate_down[1] == 0);
            nfx_fill(x->data, 6, 0.2, 1.0);
            label->data[0] = 2, label->data[1] = 0;
            nfx_fill(ip->layer.params[0].data, 9, 0.5, 1.0);
            for (int i = 0; i < 6; i++) x->diff[i] = 7.0f;
            label->diff[0] = label->diff[1] = 7.0f;
            /* dy = (softmax(y) - onehot) / N, dx = dy W */
            double xd[6], y[6], dy[6], dx[6];
            nfx_to_double(x->data, 6, xd);
            nfx_ip(ip->layer.params[0].data, ip->layer.params[1].data, xd, 2, 3, 3, y);
            for (int n = 0; n < 2; n++) {
                double z = 0;
                for (int o = 0; o < 3; o++) z += exp(y[n * 3 + o]);
                for (int o = 0; o < 3; o++)
                    dy[n * 3 + o] = (exp(y[n * 3 + o]) / z - (o == (int)label->data[n])) / 2;
            }
            nfx_ip_back(ip->layer.params[0].data, xd, dy, 2, 3, 3, NULL, NULL, dx);
            cliff_net_zero_grads(net);
            cliff_net_forward(net);
            cliff_net_backward(net);
            if (force) nfx_check_close("dx", x->diff, dx, 6, 1e-5);
            else
                for (int i = 0; i < 6; i++) CHECK(x->diff[i] == 7.0f);
            CHECK(label->diff[0] == 7.0f && label->diff[1] == 7.0f);
        }
        nfx_free(&fx);
    }
}

/* ---- parameter sharing -------------------------------------------------------- */

/* Two InnerProducts share their weights by ParamSpec name: one slab region
 * (the net has 3 parameter blobs: w, and each layer's bias), the same data
 * pointer in both layers, and the gradient is the sum of both layers'. */
static void test_param_sharing_sums_gradients(void)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx,
        "layer { name: \"in\" type: \"Input\" top: \"x\" top: \"z\" top: \"ta\" top: \"tb\"\n"
        "        input_param { shape { dim: 2 dim: 3 } } }\n"
        "layer { name: \"ipa\" type: \"InnerProduct\" bottom: \"x\" top: \"a\" param { name: \"w\" }\n"
        "        inner_product_param { num_output: 3 } }\n"
        "layer { name: \"ipb\" type: \"InnerProduct\" bottom: \"z\" top: \"b\" param { name: \"w\" }\n"
        "        inner_product_param { num_output: 3 } }\n"
        "layer { name: \"la\" type: \"EuclideanLoss\" bottom: \"a\" bottom: \"ta\" top: \"la\" }\n"
        "layer { name: \"lb\" type: \"EuclideanLoss\" bottom: \"b\" bottom: \"tb\" top: \"lb\" }\n",
        CLIFF__PHASE__TRAIN, NULL);
    if (!net) goto out;
    CliffNetLayer *ipa = nfx_layer(net, "ipa"), *ipb = nfx_layer(net, "ipb");
    if (!ipa || !ipb) goto out;
    CHECK(net->nparams == 3 && net->param_count == 9 + 3 + 3);
    CHECK(strcmp(net->params[0].name, "w") == 0);
    CHECK(ipa->layer.params[0].data == ipb->layer.params[0].data);
    CHECK(ipa->layer.params[0].diff == ipb->layer.params[0].diff);
    CHECK(ipa->layer.params[1].data != ipb->layer.params[1].data);
    float *W = ipa->layer.params[0].data;
    CHECK(W >= net->param_slab && W + 9 <= net->param_slab + net->param_count);
    const char *in[4] = {"x", "z", "ta", "tb"};
    CliffTensor *blob[4];
    for (int i = 0; i < 4; i++) {
        if (!(blob[i] = nfx_blob(net, in[i]))) goto out;
        nfx_fill(blob[i]->data, 6, 0.3 + i, 1.0);
    }
    nfx_fill(W, 9, 0.5, 1.0);
    nfx_fill(ipa->layer.params[1].data, 3, 1.5, 0.5);
    nfx_fill(ipb->layer.params[1].data, 3, 2.5, 0.5);
    double x[6], z[6], a[6], b[6], da[6], db[6], dW[9] = {0}, dba[3] = {0}, dbb[3] = {0};
    nfx_to_double(blob[0]->data, 6, x);
    nfx_to_double(blob[1]->data, 6, z);
    nfx_ip(W, ipa->layer.params[1].data, x, 2, 3, 3, a);
    nfx_ip(W, ipb->layer.params[1].data, z, 2, 3, 3, b);
    double want = nfx_euclid(a, blob[2]->data, 2, 3, 1.0, da) +
                  nfx_euclid(b, blob[3]->data, 2, 3, 1.0, db);
    nfx_ip_back(W, x, da, 2, 3, 3, dW, dba, NULL);
    nfx_ip_back(W, z, db, 2, 3, 3, dW, dbb, NULL);
    cliff_net_zero_grads(net);
    CHECK_NEAR(cliff_net_forward(net), want, 1e-5);
    cliff_net_backward(net);
    nfx_check_close("dW (shared)", ipa->layer.params[0].diff, dW, 9, 1e-5);
    nfx_check_close("dba", ipa->layer.params[1].diff, dba, 3, 1e-5);
    nfx_check_close("dbb", ipb->layer.params[1].diff, dbb, 3, 1e-5);
out:
    nfx_free(&fx);
}

/* ipa's weights are 4x6, ipb's 6x4: the same count, a different shape. */
static const char *share_mode_net =
    "layer { name: \"in\" type: \"Input\" top: \"x\" top: \"z\"\n"
    "        input_param { shape { dim: 2 dim: 6 } shape { dim: 2 dim: %d } } }\n"
    "layer { name: \"ipa\" type: \"InnerProduct\" bottom: \"x\" top: \"a\" param { name: \"w\" }\n"
    "        inner_product_param { num_output: 4 } }\n"
    "layer { name: \"ipb\" type: \"InnerProduct\" bottom: \"z\" top: \"b\"\n"
    "        param { name: \"w\" %s }\n"
    "        inner_product_param { num_output: 6 } }\n";

static CliffNet *build_share(NetFx *fx, int zdim, const char *spec)
{
    char *text = NULL;
    if (asprintf(&text, share_mode_net, zdim, spec) < 0) return NULL;
    CliffNet *net = nfx_build(fx, text, CLIFF__PHASE__TRAIN, NULL);
    free(text);
    return net;
}

static void test_share_mode_strict_vs_permissive(void)
{
    NetFx fx;
    /* STRICT (the default, and explicit): shapes must be equal. */
    const char *strict[2] = {"", "share_mode: STRICT"};
    for (int i = 0; i < 2; i++) {
        CHECK(build_share(&fx, 4, strict[i]) == NULL);
        const char *want = "net.prototxt:5:1: error: layer 'ipb' (InnerProduct): shared "
                           "parameter 'w' (blob 0) has shape 6x4 but its owner in layer 'ipa' "
                           "has 4x6 (share_mode: PERMISSIVE needs only equal counts)";
        if (strcmp(fx.err.msg, want) != 0) CHECK_FAILF("got  %s\nwant %s", fx.err.msg, want);
        nfx_free(&fx);
    }
    /* PERMISSIVE: only the element count must agree; one region of 24. */
    CliffNet *net = build_share(&fx, 4, "share_mode: PERMISSIVE");
    if (!net) CHECK_FAILF("permissive sharing failed: %s", fx.err.msg);
    else {
        CliffNetLayer *ipa = nfx_layer(net, "ipa"), *ipb = nfx_layer(net, "ipb");
        if (ipa && ipb) {
            CHECK(ipa->layer.params[0].data == ipb->layer.params[0].data);
            CHECK(ipb->layer.params[0].shape[0] == 6 && ipb->layer.params[0].shape[1] == 4);
            CHECK(net->param_count == 24 + 4 + 6);
        }
    }
    nfx_free(&fx);
    /* PERMISSIVE with a different count (6x5 = 30 vs 24) is still an error. */
    CHECK(build_share(&fx, 5, "share_mode: PERMISSIVE") == NULL);
    CHECK(strstr(fx.err.msg, "layer 'ipb' (InnerProduct): shared parameter 'w' (blob 0) has 30 "
                             "elements (6x5) but its owner in layer 'ipa' has 24 (4x6)") != NULL);
    nfx_free(&fx);
    /* A sharer may not ask for another lr_mult than the owner's. */
    CHECK(build_share(&fx, 4, "share_mode: PERMISSIVE lr_mult: 3") == NULL);
    CHECK(strstr(fx.err.msg, "shared parameter 'w' has lr_mult 3 but its owner has 1") != NULL);
    nfx_free(&fx);
}

/* ---- lr_mult 0 ---------------------------------------------------------------- */

/* lr_mult 0 on the weights: no weight gradient (the region stays zero), the
 * bias still learns. lr_mult 0 on both with a data bottom: no backward. */
static void test_lr_mult_zero(void)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx,
        "layer { name: \"in\" type: \"Input\" top: \"x\" top: \"t\"\n"
        "        input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 } } }\n"
        "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"x\" top: \"y\"\n"
        "        param { lr_mult: 0 decay_mult: 3 } param { lr_mult: 2 decay_mult: 0 }\n"
        "        inner_product_param { num_output: 2 weight_filler { type: \"gaussian\" } } }\n"
        "layer { name: \"frozen\" type: \"InnerProduct\" bottom: \"x\" top: \"y2\"\n"
        "        param { lr_mult: 0 } param { lr_mult: 0 } loss_weight: 1\n"
        "        inner_product_param { num_output: 2 weight_filler { type: \"gaussian\" } } }\n"
        "layer { name: \"eu\" type: \"EuclideanLoss\" bottom: \"y\" bottom: \"t\" top: \"l\" }\n",
        CLIFF__PHASE__TRAIN, NULL);
    if (!net) goto out;
    CliffNetLayer *ip = nfx_layer(net, "ip"), *frozen = nfx_layer(net, "frozen");
    if (!ip || !frozen) goto out;
    CHECK(ip->layer.param_need_grad[0] == 0 && ip->layer.param_need_grad[1] == 1);
    CHECK(ip->need_backward && !frozen->need_backward);
    CHECK(net->params[0].lr_mult == 0 && net->params[0].decay_mult == 3);
    CHECK(net->params[1].lr_mult == 2 && net->params[1].decay_mult == 0);
    nfx_fill(nfx_blob(net, "x")->data, 6, 0.2, 1.0);
    nfx_fill(nfx_blob(net, "t")->data, 4, 0.9, 1.0);
    cliff_net_zero_grads(net);
    cliff_net_forward(net);
    cliff_net_backward(net);
    CHECK(nfx_all_zero(ip->layer.params[0].diff, 6));
    CHECK(!nfx_all_zero(ip->layer.params[1].diff, 2));
    CHECK(nfx_all_zero(frozen->layer.params[0].diff, 6) &&
          nfx_all_zero(frozen->layer.params[1].diff, 2));
out:
    nfx_free(&fx);
}

/* ---- net outputs --------------------------------------------------------------- */

static const char *outputs_net =
    "layer { name: \"in\" type: \"Input\" top: \"x\" top: \"label\"\n"
    "        input_param { shape { dim: 4 dim: 3 } shape { dim: 4 } } }\n"
    "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"x\" top: \"y\"\n"
    "        inner_product_param { num_output: 5 } }\n"
    "layer { name: \"side\" type: \"InnerProduct\" bottom: \"x\" top: \"side\"\n"
    "        inner_product_param { num_output: 2 } }\n"
    "layer { name: \"relu\" type: \"ReLU\" bottom: \"side\" top: \"side\" }\n"
    "layer { name: \"acc\" type: \"Accuracy\" bottom: \"y\" bottom: \"label\" top: \"acc\"\n"
    "        include { phase: TEST } }\n"
    "layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"y\" bottom: \"label\"\n"
    "        top: \"loss\" loss_weight: 0.25 }\n";

/* Outputs are the blobs nobody consumes, in blob order, with their loss
 * weights; an in-place top counts once. */
static void check_outputs(int phase, int n, const char *const *names, const float *weights)
{
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx, outputs_net, phase, NULL);
    if (net) {
        CHECK(net->noutputs == n);
        for (int i = 0; i < net->noutputs && i < n; i++) {
            if (strcmp(net->blob_names[net->output_ids[i]], names[i]) != 0)
                CHECK_FAILF("output %d is '%s', expected '%s'", i,
                            net->blob_names[net->output_ids[i]], names[i]);
            CHECK(net->output_loss_weight[i] == weights[i]);
        }
    }
    nfx_free(&fx);
}

static void test_net_outputs(void)
{
    const char *test_names[3] = {"side", "acc", "loss"};
    const float test_w[3] = {0, 0, 0.25f};
    check_outputs(CLIFF__PHASE__TEST, 3, test_names, test_w);
    /* In TRAIN the Accuracy is filtered out. */
    const char *train_names[2] = {"side", "loss"};
    const float train_w[2] = {0, 0.25f};
    check_outputs(CLIFF__PHASE__TRAIN, 2, train_names, train_w);
}

int main(void)
{
    RUN(test_in_place_top);
    RUN(test_split_sums_gradients);
    RUN(test_loss_weight_on_non_loss_top);
    RUN(test_loss_weight_top_also_consumed);
    RUN(test_loss_weight_zero_on_loss);
    RUN(test_propagate_down_false);
    RUN(test_force_backward);
    RUN(test_param_sharing_sums_gradients);
    RUN(test_share_mode_strict_vs_permissive);
    RUN(test_lr_mult_zero);
    RUN(test_net_outputs);
    return test_main_end();
}
