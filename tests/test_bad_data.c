/* Bad values in data stop the forward instead of training on a plausible
 * stand-in: labels out of range, NaN or fractional, indices past the table,
 * similarity labels other than 0/1. Each case builds a net from Input blobs,
 * writes the values a broken data file would bring and expects the forward
 * to stop with NaN, data_error set and exactly the message naming the
 * layer, the bottom, the batch row and the value. ignore_label is respected,
 * and NaN scores never count as correct in Accuracy. */
#include <glob.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "net_fixture.h"
#include "solver_fixture.h"

/* Scores x (N x C from nfx_fill) and labels `lab` (N values) into a net of
 * an Input layer and `layer` (text of one layer reading x and label). */
typedef struct Case {
    const char *input;  /* input_param shapes */
    const char *layer;  /* the layer under test */
    const char *blob;   /* the blob to write */
    float values[8];
    int nvalues;
    const char *want;   /* the exact error; NULL: the forward must succeed */
} Case;

static NetFx fx;

static CliffNet *build_case(const Case *c)
{
    char text[2048];
    snprintf(text, sizeof text, "layer { name: 'in' type: 'Input' %s }\n%s", c->input, c->layer);
    return nfx_build_ok(&fx, text, CLIFF__PHASE__TRAIN, NULL);
}

/* Fills every Input top with fixed finite values, then writes c->values
 * into c->blob. */
static void write_inputs(CliffNet *net, const Case *c)
{
    CliffNetLayer *in = nfx_layer(net, "in");
    for (int t = 0; in && t < in->nt; t++) nfx_fill(in->top[t]->data, in->top[t]->count, t, 1);
    CliffTensor *b = nfx_blob(net, c->blob);
    if (b) memcpy(b->data, c->values, (size_t)c->nvalues * sizeof(float));
}

static void expect(const Case *c)
{
    CliffNet *net = build_case(c);
    if (!net) return;
    write_inputs(net, c);
    double loss = cliff_net_forward(net);
    if (!c->want) {
        if (!isfinite(loss) || net->data_error)
            CHECK_FAILF("forward stopped (loss %g): %s", loss, net->runtime_error.msg);
    } else {
        CHECK(isnan(loss));
        CHECK(net->data_error);
        if (strcmp(net->runtime_error.msg, c->want))
            CHECK_FAILF("\n  got  '%s'\n  want '%s'", net->runtime_error.msg, c->want);
    }
    nfx_free(&fx);
}

#define XL "top: 'x' top: 'label' input_param { shape { dim: 4 dim: 3 } shape { dim: 4 } }"
#define SML "layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'x' bottom: 'label' top: 'loss' "

static void softmax_loss_labels(void)
{
    expect(&(Case){XL, SML "}", "label", {0, 1, 12, 2}, 4,
                   "layer 'loss' (SoftmaxWithLoss): label bottom 'label' row 2: value 12 is not "
                   "an integer in [0, 3)"});
    expect(&(Case){XL, SML "}", "label", {0, -1, 1, 2}, 4,
                   "layer 'loss' (SoftmaxWithLoss): label bottom 'label' row 1: value -1 is not "
                   "an integer in [0, 3)"});
    expect(&(Case){XL, SML "}", "label", {0, 1, 2, NAN}, 4,
                   "layer 'loss' (SoftmaxWithLoss): label bottom 'label' row 3: value nan is not "
                   "an integer in [0, 3)"});
    expect(&(Case){XL, SML "}", "label", {1.5f, 1, 2, 0}, 4,
                   "layer 'loss' (SoftmaxWithLoss): label bottom 'label' row 0: value 1.5 is not "
                   "an integer in [0, 3)"});
    /* ignore_label: that value is skipped; others are still checked. */
    expect(&(Case){XL, SML "loss_param { ignore_label: 255 } }", "label", {0, 255, 2, 1}, 4,
                   NULL});
    expect(&(Case){XL, SML "loss_param { ignore_label: 255 } }", "label", {0, 255, 3, 1}, 4,
                   "layer 'loss' (SoftmaxWithLoss): label bottom 'label' row 2: value 3 is not "
                   "an integer in [0, 3) or the ignore_label 255"});
    expect(&(Case){XL, SML "loss_param { ignore_label: -1 } }", "label", {0, -1, NAN, 1}, 4,
                   "layer 'loss' (SoftmaxWithLoss): label bottom 'label' row 2: value nan is not "
                   "an integer in [0, 3) or the ignore_label -1"});
    /* Several labels per row (N x 1 x H x W): the position inside the row. */
    expect(&(Case){"top: 'x' top: 'label' input_param { shape { dim: 2 dim: 3 dim: 2 dim: 2 } "
                   "shape { dim: 2 dim: 1 dim: 2 dim: 2 } }",
                   SML "}", "label", {0, 1, 2, 0, 1, 2, 0, 7}, 8,
                   "layer 'loss' (SoftmaxWithLoss): label bottom 'label' row 1, position 3: "
                   "value 7 is not an integer in [0, 3)"});
    expect(&(Case){XL, SML "}", "label", {0, 1, 2, 2}, 4, NULL});
}

static void other_label_layers(void)
{
    expect(&(Case){XL, "layer { name: 'acc' type: 'Accuracy' bottom: 'x' bottom: 'label' "
                       "top: 'acc' }", "label", {0, 1, 3, 2}, 4,
                   "layer 'acc' (Accuracy): label bottom 'label' row 2: value 3 is not an integer "
                   "in [0, 3)"});
    expect(&(Case){XL, "layer { name: 'acc' type: 'Accuracy' bottom: 'x' bottom: 'label' "
                       "top: 'acc' accuracy_param { ignore_label: 3 } }", "label", {0, 1, 3, 2},
                   4, NULL});
    expect(&(Case){"top: 'x' top: 'label' top: 'H' input_param { shape { dim: 4 dim: 3 } "
                   "shape { dim: 4 } shape { dim: 3 dim: 3 } }",
                   "layer { name: 'ig' type: 'InfogainLoss' bottom: 'x' bottom: 'label' "
                   "bottom: 'H' top: 'loss' }", "label", {0, 1, 2, 9}, 4,
                   "layer 'ig' (InfogainLoss): label bottom 'label' row 3: value 9 is not an "
                   "integer in [0, 3)"});
    expect(&(Case){XL, "layer { name: 'mll' type: 'MultinomialLogisticLoss' bottom: 'x' "
                       "bottom: 'label' top: 'loss' }", "label", {0, 3, 1, 2}, 4,
                   "layer 'mll' (MultinomialLogisticLoss): label bottom 'label' row 1: value 3 is "
                   "not an integer in [0, 3)"});
    expect(&(Case){XL, "layer { name: 'hinge' type: 'HingeLoss' bottom: 'x' bottom: 'label' "
                       "top: 'loss' }", "label", {NAN, 0, 1, 2}, 4,
                   "layer 'hinge' (HingeLoss): label bottom 'label' row 0: value nan is not an "
                   "integer in [0, 3)"});
    expect(&(Case){"top: 'a' top: 'b' top: 'sim' input_param { shape { dim: 3 dim: 2 } "
                   "shape { dim: 3 dim: 2 } shape { dim: 3 } }",
                   "layer { name: 'cl' type: 'ContrastiveLoss' bottom: 'a' bottom: 'b' "
                   "bottom: 'sim' top: 'loss' }", "sim", {1, 0, -1}, 3,
                   "layer 'cl' (ContrastiveLoss): similarity label bottom 'sim' row 2: value -1 "
                   "is not an integer in [0, 2)"});
    expect(&(Case){"top: 'a' top: 'b' top: 'sim' input_param { shape { dim: 3 dim: 2 } "
                   "shape { dim: 3 dim: 2 } shape { dim: 3 } }",
                   "layer { name: 'cl' type: 'ContrastiveLoss' bottom: 'a' bottom: 'b' "
                   "bottom: 'sim' top: 'loss' }", "sim", {1, 0, 1}, 3, NULL});
}

/* Indices are checked on every forward, not only when the net is built: the
 * first batch is valid, the second brings an index past the table. */
/* Real-valued targets: any finite value is taken as Caffe takes it (even
 * outside [0, 1] for the sigmoid cross-entropy), a non-finite one stops the
 * forward naming the layer, bottom, row and position. */
#define XT "top: 'x' top: 't' input_param { shape { dim: 2 dim: 2 } shape { dim: 2 dim: 2 } }"
#define SCE "layer { name: 'sce' type: 'SigmoidCrossEntropyLoss' bottom: 'x' bottom: 't' "
#define EU "layer { name: 'eu' type: 'EuclideanLoss' bottom: 'x' bottom: 't' top: 'loss' }"
static void real_targets(void)
{
    expect(&(Case){XT, SCE "top: 'loss' }", "t", {0, 1, 0.25f, 2}, 4, NULL});
    expect(&(Case){XT, SCE "top: 'loss' }", "t", {0, 1, NAN, 1}, 4,
                   "layer 'sce' (SigmoidCrossEntropyLoss): target bottom 't' row 1, position 0: "
                   "value nan is not finite"});
    expect(&(Case){XT, SCE "top: 'loss' }", "t", {0, -INFINITY, 1, 1}, 4,
                   "layer 'sce' (SigmoidCrossEntropyLoss): target bottom 't' row 0, position 1: "
                   "value -inf is not finite"});
    /* An ignored target is never read; NaN is never the ignore_label. */
    expect(&(Case){XT, SCE "top: 'loss' loss_param { ignore_label: 2147483647 } }", "t",
                   {0, 1, INFINITY, 1}, 4, NULL});
    expect(&(Case){XT, SCE "top: 'loss' loss_param { ignore_label: -1 } }", "t",
                   {0, 1, -1, NAN}, 4,
                   "layer 'sce' (SigmoidCrossEntropyLoss): target bottom 't' row 1, position 1: "
                   "value nan is not finite"});
    expect(&(Case){XT, EU, "t", {-5, 1e3f, 0, 3}, 4, NULL});
    expect(&(Case){XT, EU, "t", {0, 1, 2, INFINITY}, 4,
                   "layer 'eu' (EuclideanLoss): target bottom 't' row 1, position 1: value inf "
                   "is not finite"});
}

static void indices_checked_every_forward(void)
{
    static const struct {
        const char *text, *blob, *want;
        float bad;
    } cases[] = {
        {"layer { name: 'in' type: 'Input' top: 'ix' input_param { shape { dim: 2 dim: 2 } } }\n"
         "layer { name: 'emb' type: 'Embed' bottom: 'ix' top: 'e' embed_param { num_output: 3 "
         "input_dim: 5 } }",
         "ix", "layer 'emb' (Embed): index bottom 'ix' row 1, position 1: value 5 is not an "
               "integer in [0, 5)", 5},
        {"layer { name: 'in' type: 'Input' top: 'x' top: 'ix' input_param { shape { dim: 3 "
         "dim: 2 } shape { dim: 4 } } }\n"
         "layer { name: 'ri' type: 'BatchReindex' bottom: 'x' bottom: 'ix' top: 'y' }",
         "ix", "layer 'ri' (BatchReindex): index bottom 'ix' row 3: value nan is not an integer "
               "in [0, 3)", NAN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CliffNet *net = nfx_build_ok(&fx, cases[i].text, CLIFF__PHASE__TRAIN, NULL);
        if (!net) return;
        CliffTensor *ix = nfx_blob(net, cases[i].blob);
        for (size_t k = 0; k < ix->count; k++) ix->data[k] = (float)(k % 3);
        double loss = cliff_net_forward(net);
        CHECK(!isnan(loss) && !net->data_error);
        ix->data[ix->count - 1] = cases[i].bad;
        loss = cliff_net_forward(net);
        CHECK(isnan(loss) && net->data_error);
        if (strcmp(net->runtime_error.msg, cases[i].want))
            CHECK_FAILF("\n  got  '%s'\n  want '%s'", net->runtime_error.msg, cases[i].want);
        nfx_free(&fx);
    }
}

/* Accuracy of NaN scores: a NaN at the labelled class is a miss, and a NaN
 * elsewhere scores above the label; so an all-NaN batch has accuracy 0 (it
 * was 1), and one NaN row costs exactly that row. */
static void accuracy_of_nan_scores(void)
{
    for (int top_k = 3; top_k >= 1; top_k -= 2) {
        char text[512];
        snprintf(text, sizeof text,
                 "layer { name: 'in' type: 'Input' " XL " }\n"
                 "layer { name: 'acc' type: 'Accuracy' bottom: 'x' bottom: 'label' top: 'acc' "
                 "accuracy_param { top_k: %d } }", top_k);
        CliffNet *net = nfx_build_ok(&fx, text, CLIFF__PHASE__TRAIN, NULL);
        if (!net) return;
        CliffTensor *x = nfx_blob(net, "x"), *label = nfx_blob(net, "label"),
                    *acc = nfx_blob(net, "acc");
        static const float labels[4] = {0, 1, 2, 2};
        memcpy(label->data, labels, sizeof labels);
        if (top_k == 3) { /* top_k = C: every finite row would be a hit */
            for (size_t k = 0; k < x->count; k++) x->data[k] = NAN;
            cliff_net_forward(net);
            CHECK(acc->data[0] == 0.0f);
        } else { /* rows 1 and 2 would be hits without their NaN */
            static const float rows[12] = {5, 1, 1, 1, 5, NAN, 1, 1, NAN, 1, 1, 5};
            memcpy(x->data, rows, sizeof rows);
            cliff_net_forward(net);
            CHECK(acc->data[0] == 0.5f);
        }
        nfx_free(&fx);
    }
}

/* Snapshot files (weights or state) in dir. */
static size_t snapshots_in(const char *dir)
{
    char pattern[300];
    snprintf(pattern, sizeof pattern, "%s/*_iter_*", dir);
    glob_t g;
    size_t n = glob(pattern, 0, NULL, &g) == 0 ? g.gl_pathc : 0;
    globfree(&g);
    return n;
}

/* Row 7 of the data file has label 3 of 3 classes. */
static float label_bad_row7(int r) { return r == 7 ? 3.0f : (float)(r % 3); }
static float label_nan_row0(int r) { return r == 0 ? NAN : (float)(r % 3); }

/* A run that meets a bad label stops with the message, an error from solve,
 * no update from that batch and no snapshot (not even snapshot_after_train). */
static void solver_stops_on_bad_label(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, label_bad_row7);
    char *net = fx_net(list, 2, 0, 0);
    Cliff__SolverParameter *sp = fx_sp("%s base_lr: 0.1 lr_policy: \"fixed\" max_iter: 10 "
                                       "random_seed: 1 snapshot_prefix: \"%s/s\"", net, dir);
    free(net);
    CliffError err = {0};
    CliffSolver *s = fx_solver(sp, NULL);
    if (!s) return;
    CliffNet *n = cliff_solver_train_net(s);
    CHECK(cliff_solver_step(s, 3, &err) == 0); /* rows 0-5 are fine */
    float *before = malloc(n->param_count * sizeof *before);
    memcpy(before, n->param_slab, n->param_count * sizeof *before);
    CHECK(cliff_solver_solve(s, &err) == -1);
    const char *want = "iteration 3, train net: layer 'loss' (SoftmaxWithLoss): label bottom "
                       "'label' row 1: value 3 is not an integer in [0, 3); stopping (no update, "
                       "no snapshot)";
    if (strcmp(err.msg, want)) CHECK_FAILF("\n  got  '%s'\n  want '%s'", err.msg, want);
    CHECK(cliff_solver_iter(s) == 3);
    CHECK(memcmp(before, n->param_slab, n->param_count * sizeof *before) == 0);
    CHECK(snapshots_in(dir) == 0);
    free(before);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

/* The test nets are checked too: a NaN label no longer scores accuracy. */
static void solver_stops_on_bad_test_label(void)
{
    char *dir = fx_tmpdir();
    const char *list = fx_h5data(dir, "d", 12, 4, fx_value, label_nan_row0);
    char *net = fx_net(list, 2, 0, 0);
    Cliff__SolverParameter *sp =
        fx_sp("%s base_lr: 0.1 lr_policy: \"fixed\" max_iter: 10 random_seed: 1 test_iter: 1 "
              "test_interval: 5 test_initialization: true snapshot_prefix: \"%s/s\"", net, dir);
    free(net);
    CliffError err = {0};
    CliffSolver *s = fx_solver(sp, NULL);
    if (!s) return;
    CHECK(cliff_solver_solve(s, &err) == -1);
    const char *want = "iteration 0, test net #0, test iteration 0: layer 'loss' "
                       "(SoftmaxWithLoss): label bottom 'label' row 0: value nan is not an "
                       "integer in [0, 3); stopping (no update, no snapshot)";
    if (strcmp(err.msg, want)) CHECK_FAILF("\n  got  '%s'\n  want '%s'", err.msg, want);
    CHECK(snapshots_in(dir) == 0);
    cliff_solver_free(s);
    fx_free_sp(sp);
    fx_rmdir(dir);
}

int main(void)
{
    RUN(softmax_loss_labels);
    RUN(other_label_layers);
    RUN(real_targets);
    RUN(indices_checked_every_forward);
    RUN(accuracy_of_nan_scores);
    RUN(solver_stops_on_bad_label);
    RUN(solver_stops_on_bad_test_label);
    return test_main_end();
}
