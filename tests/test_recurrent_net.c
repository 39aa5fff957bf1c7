/* Recurrent nets end to end, on sequence data in plain HDF5 (data sets of
 * S rows x N streams read with batch_size T give T x N batches, and stream n
 * continues from one batch to the next):
 *   lm      Embed on T x N ids -> LSTM -> InnerProduct axis 2 ->
 *           SoftmaxWithLoss axis 2 over T x N labels (a language model)
 *   adding  RNN -> Slice of the last step (axis 0) -> Reshape to N x H ->
 *           InnerProduct -> EuclideanLoss against the sliced, reshaped target
 *           (the adding problem's net, as Caffe's LSTM examples slice and
 *           reshape)
 * A Caffe .caffemodel (binary NetParameter, blobs by layer name and index)
 * of an LSTM loads into W_xc, b_c, W_hc in that order.
 * Each trains, and resumes bit for bit: 2K iterations in one run equal K
 * iterations, a snapshot, and K more in a new solver restored from it. The
 * snapshot must hold the carried hidden state: cont is 1 at the boundary, so
 * a resumed run starting from zeros would diverge. */
#include "solver_fixture.h"

enum { T = 4, NS = 3, S = 6 * T, V = 5, K = 3 };

/* ids, cont, label (next id) and a 2-wide input x (value, marker) with its
 * target; S rows of NS streams. Stream n restarts every 9 + n rows (none in the rows of the first
 * resumed batch, 12..15: its last step depends on the carried state). */
static const char *write_data(const char *dir)
{
    static char list[300];
    float ids[S][NS], cont[S][NS], label[S][NS], x[S][NS][2], target[S][NS];
    for (int s = 0; s < S; s++)
        for (int n = 0; n < NS; n++) {
            ids[s][n] = (float)((s * 7 + n * 3 + s / 3) % V);
            cont[s][n] = s % (9 + n) == 0 ? 0.0f : 1.0f;
            x[s][n][0] = (float)sin(0.9 * s + n);
            x[s][n][1] = (float)((s + n) % 3 == 0);
            target[s][n] = (float)cos(0.4 * s - n);
        }
    for (int s = 0; s < S; s++)
        for (int n = 0; n < NS; n++) label[s][n] = ids[(s + 1) % S][n];
    char h5[300];
    snprintf(h5, sizeof h5, "%s/seq.h5", dir);
    snprintf(list, sizeof list, "%s/seq.txt", dir);
    hsize_t d2[2] = {S, NS}, d3[3] = {S, NS, 2};
    H5Fx w;
    h5fx_create(&w, h5);
    h5fx_write(&w, w.file, "ids", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2, ids);
    h5fx_write(&w, w.file, "cont", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2, cont);
    h5fx_write(&w, w.file, "label", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2, label);
    h5fx_write(&w, w.file, "x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, d3, x);
    h5fx_write(&w, w.file, "target", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2, target);
    if (h5fx_close(&w) == 0) h5fx_text(list, "%s\n", h5);
    return list;
}

#define FILLERS "weight_filler { type: 'gaussian' std: 0.4 } bias_filler { type: 'gaussian' std: 0.1 }"

static const char *const lm_net =
    "layer { name: 'data' type: 'HDF5Data' top: 'ids' top: 'cont' top: 'label'\n"
    "        hdf5_data_param { source: '%s' batch_size: %d } }\n"
    "layer { name: 'embed' type: 'Embed' bottom: 'ids' top: 'e'\n"
    "        embed_param { num_output: 4 input_dim: %d " FILLERS " } }\n"
    "layer { name: 'lstm' type: 'LSTM' bottom: 'e' bottom: 'cont' top: 'h'\n"
    "        recurrent_param { num_output: 6 " FILLERS " } }\n"
    "layer { name: 'out' type: 'InnerProduct' bottom: 'h' top: 'logits'\n"
    "        inner_product_param { num_output: %d axis: 2 " FILLERS " } }\n"
    "layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'logits' bottom: 'label'\n"
    "        top: 'loss' softmax_param { axis: 2 } }\n";

static const char *const adding_net =
    "layer { name: 'data' type: 'HDF5Data' top: 'x' top: 'cont' top: 'target'\n"
    "        hdf5_data_param { source: '%s' batch_size: %d } }\n"
    "layer { name: 'rnn' type: 'RNN' bottom: 'x' bottom: 'cont' top: 'h'\n"
    "        recurrent_param { num_output: 5 " FILLERS
    "          recurrent_weight_filler { type: 'gaussian' std: 0.8 } } }\n"
    "layer { name: 'last' type: 'Slice' bottom: 'h' top: 'h_early' top: 'h_last'\n"
    "        slice_param { axis: 0 slice_point: %d } }\n"
    "layer { name: 'quiet' type: 'Silence' bottom: 'h_early' }\n"
    "layer { name: 'flat' type: 'Reshape' bottom: 'h_last' top: 'h_final'\n"
    "        reshape_param { shape { dim: -1 dim: 5 } } }\n"
    "layer { name: 'readout' type: 'InnerProduct' bottom: 'h_final' top: 'y'\n"
    "        inner_product_param { num_output: 1 " FILLERS " } }\n"
    "layer { name: 'tlast' type: 'Slice' bottom: 'target' top: 't_early' top: 't_last'\n"
    "        slice_param { axis: 0 slice_point: %d } }\n"
    "layer { name: 'tquiet' type: 'Silence' bottom: 't_early' }\n"
    "layer { name: 'tflat' type: 'Reshape' bottom: 't_last' top: 't_final'\n"
    "        reshape_param { shape { dim: -1 dim: 1 } } }\n"
    "layer { name: 'loss' type: 'EuclideanLoss' bottom: 'y' bottom: 't_final' top: 'loss' }\n";

static Cliff__SolverParameter *config(const char *dir, const char *list, int lm, int max_iter)
{
    char *net = NULL;
    int rc = lm ? asprintf(&net, lm_net, list, T, V, V)
                : asprintf(&net, adding_net, list, T, T - 1, T - 1);
    if (rc < 0) return NULL;
    Cliff__SolverParameter *sp = fx_sp(
        "net_param { name: 'seq' %s } base_lr: 0.2 momentum: 0.9 lr_policy: 'fixed' "
        "clip_gradients: 5 display: 0 random_seed: 3 max_iter: %d snapshot_prefix: '%s/run' "
        "snapshot_after_train: %s",
        net, max_iter, dir, max_iter == K ? "true" : "false");
    free(net);
    return sp;
}

static float *weights_after(CliffSolver *s, size_t *n)
{
    CliffNet *net = cliff_solver_train_net(s);
    *n = net->param_count;
    float *w = malloc(*n * sizeof *w + 1);
    memcpy(w, net->param_slab, *n * sizeof *w);
    return w;
}

/* A solver for config(...); *sp is freed by done(). */
static CliffSolver *solver(const char *dir, const char *list, int lm, int max_iter,
                           Cliff__SolverParameter **sp)
{
    *sp = config(dir, list, lm, max_iter);
    return *sp ? fx_solver(*sp, NULL) : NULL; /* fx_solver frees sp when it fails */
}

static void done(CliffSolver *s, Cliff__SolverParameter *sp)
{
    if (!s) return;
    cliff_solver_free(s);
    fx_free_sp(sp);
}

static void resume_case(int lm)
{
    char *dir = fx_tmpdir();
    const char *list = write_data(dir);
    CliffError err;
    Cliff__SolverParameter *sp;
    size_t n_full = 0, n_res = 0;

    CliffSolver *s = solver(dir, list, lm, 2 * K, &sp);
    if (!s) return;
    float loss0 = 0;
    for (int i = 0; i < 2 * K; i++) {
        if (cliff_solver_step(s, 1, &err)) CHECK_FAILF("step: %s", err.msg);
        if (i == 0) loss0 = (float)cliff_solver_stats(s)->loss;
    }
    float *full = weights_after(s, &n_full);
    CHECK(fx_all_finite(full, n_full) && isfinite(loss0) && loss0 > 0);
    done(s, sp);

    s = solver(dir, list, lm, K, &sp); /* writes run_iter_K */
    if (s) CHECK(cliff_solver_solve(s, &err) == 0);
    done(s, sp);

    s = solver(dir, list, lm, 2 * K, &sp);
    if (s) {
        char state[300];
        snprintf(state, sizeof state, "%s/run_iter_%d.solverstate.h5", dir, K);
        if (cliff_solver_restore(s, state, &err)) CHECK_FAILF("restore: %s", err.msg);
        if (cliff_solver_step(s, K, &err)) CHECK_FAILF("step: %s", err.msg);
        float *res = weights_after(s, &n_res);
        CHECK(n_full == n_res && memcmp(full, res, n_full * sizeof *full) == 0);
        free(res);
        done(s, sp);
    }
    free(full);
    fx_rmdir(dir);
}

static void test_lstm_language_model_resumes_exactly(void) { resume_case(1); }
static void test_rnn_adding_net_resumes_exactly(void) { resume_case(0); }

/* Writes a binary .caffemodel as Caffe writes one: layer 'lstm' of type LSTM
 * with its blobs W_xc (4H x I), b_c (4H), W_hc (4H x H), value v(b, i). */
static float blob_value(int b, int i) { return 0.01f * (float)(100 * b + i) - 0.5f; }

static int write_caffemodel(const char *path, int H, int I)
{
    Cliff__NetParameter net = CLIFF__NET_PARAMETER__INIT;
    Cliff__LayerParameter layer = CLIFF__LAYER_PARAMETER__INIT, *layers[1] = {&layer};
    Cliff__BlobProto blob[3] = {CLIFF__BLOB_PROTO__INIT, CLIFF__BLOB_PROTO__INIT,
                                CLIFF__BLOB_PROTO__INIT};
    Cliff__BlobShape shape[3] = {CLIFF__BLOB_SHAPE__INIT, CLIFF__BLOB_SHAPE__INIT,
                                 CLIFF__BLOB_SHAPE__INIT};
    Cliff__BlobProto *blobs[3] = {&blob[0], &blob[1], &blob[2]};
    int64_t dims[3][2] = {{4 * H, I}, {4 * H, 0}, {4 * H, H}};
    float *data[3];
    for (int b = 0; b < 3; b++) {
        shape[b].n_dim = b == 1 ? 1 : 2;
        shape[b].dim = dims[b];
        size_t n = (size_t)dims[b][0] * (size_t)(b == 1 ? 1 : dims[b][1]);
        data[b] = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++) data[b][i] = blob_value(b, (int)i);
        blob[b].shape = &shape[b];
        blob[b].n_data = n;
        blob[b].data = data[b];
    }
    layer.name = "lstm";
    layer.type = "LSTM";
    layer.n_blobs = 3;
    layer.blobs = blobs;
    net.name = "caffe";
    net.n_layer = 1;
    net.layer = layers;
    size_t len = cliff__net_parameter__get_packed_size(&net);
    uint8_t *buf = malloc(len);
    cliff__net_parameter__pack(&net, buf);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(buf, 1, len, f) == len ? 0 : -1;
    if (f && fclose(f)) rc = -1;
    free(buf);
    for (int b = 0; b < 3; b++) free(data[b]);
    return rc;
}

static void test_caffe_lstm_caffemodel_loads(void)
{
    enum { HH = 3, II = 2 };
    char *dir = fx_tmpdir(), path[300];
    snprintf(path, sizeof path, "%s/caffe_lstm.caffemodel", dir);
    if (write_caffemodel(path, HH, II)) {
        CHECK_FAILF("cannot write %s", path);
        return;
    }
    Cliff__SolverParameter *sp = fx_sp(
        "net_param { layer { name: 'in' type: 'Input' top: 'x' top: 'cont' input_param { "
        "shape { dim: 4 dim: 2 dim: %d } shape { dim: 4 dim: 2 } } } "
        "layer { name: 'lstm' type: 'LSTM' bottom: 'x' bottom: 'cont' top: 'h' "
        "recurrent_param { num_output: %d } } "
        "layer { name: 'loss' type: 'Reduction' bottom: 'h' top: 'loss' loss_weight: 1 } } "
        "weights: '%s' base_lr: 0.1 max_iter: 1 snapshot_after_train: false",
        II, HH, path);
    CliffSolver *s = fx_solver(sp, NULL);
    if (s) {
        CliffNet *net = cliff_solver_train_net(s);
        const int l = cliff_net_layer_index(net, "lstm");
        CHECK(l >= 0);
        const CliffLayer *L = &net->layers[l].layer;
        CHECK(L->nparams == 3);
        for (int b = 0; b < 3 && b < L->nparams; b++)
            for (size_t i = 0; i < L->params[b].count; i++)
                if (L->params[b].data[i] != blob_value(b, (int)i)) {
                    CHECK_FAILF("blob %d (%s) element %zu: %g, expected %g", b,
                                L->ops->param_name(L, b), i, L->params[b].data[i],
                                blob_value(b, (int)i));
                    break;
                }
        done(s, sp);
    }
    fx_rmdir(dir);
}

int main(void)
{
    RUN(test_caffe_lstm_caffemodel_loads);
    RUN(test_lstm_language_model_resumes_exactly);
    RUN(test_rnn_adding_net_resumes_exactly);
    return test_main_end();
}
