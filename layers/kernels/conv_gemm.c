/* Convolution products on the matrix engine: plan, chunks, threads (see
 * conv_gemm.h). */
#include "conv_gemm.h"

#include <stdlib.h>
#include <string.h>

#include "fork_join.h"

/* Columns of one product over several images: one column block of the engine
 * (its NC), so the packed weights serve the whole block. */
#define COLS_TARGET 256
/* Columns of one block of the col2im product (its scratch is K x DCOLS). */
#define DCOLS 256
/* Weight-gradient groups: enough for the fork-join's threads to share the
 * work and to even it out when one thread gets its core late (CaffeNet's
 * conv1 at 2 threads scaled 1.57x on 4 groups); each but the first costs one
 * weight-sized sum, so big weights get fewer: at most WSUM_FLOATS in the
 * extra sums, but never fewer than WGROUPS_MIN groups. The count depends on
 * the shapes alone, never on the threads. */
#define WGROUPS 16
#define WGROUPS_MIN 4
#define WSUM_FLOATS (2 << 20) /* 8 MB */

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Weight-gradient groups for nchunks chunks and weights of wsize floats. */
static int wgroups_for(int nchunks, size_t wsize)
{
    if (nchunks < 1) return 1;
    size_t cap = 1 + WSUM_FLOATS / (wsize ? wsize : 1);
    if (cap > WGROUPS) cap = WGROUPS;
    if (cap < WGROUPS_MIN) cap = WGROUPS_MIN;
    return nchunks < (int)cap ? nchunks : (int)cap;
}

/* The sum of row[0 .. P): 16 running sums, sum l over p = l mod 16 in
 * increasing p (independent chains, so the loop runs as vector adds on every
 * instruction set with the same bits), then added in lane order in double. */
static double row_sum(const float *row, int P)
{
    float acc[16] = {0};
    int p = 0;
    for (; p + 16 <= P; p += 16)
        for (int l = 0; l < 16; l++) acc[l] += row[p + l];
    for (int l = 0; p < P; p++, l++) acc[l] += row[p];
    double s = 0;
    for (int l = 0; l < 16; l++) s += acc[l];
    return s;
}

int cliff_convg_plan(CliffConvGemm *pl, const CliffConvGeom *g, int groups, int Co, int num,
                     CliffError *err)
{
    pl->num = num;
    pl->groups = groups;
    pl->Ci = g->channels;
    pl->Co = Co;
    pl->Mg = Co / groups;
    pl->g = *g;
    pl->g.channels = g->channels / groups;
    pl->HW = g->height * g->width;
    pl->P = g->out_h * g->out_w;
    pl->pointwise = g->kernel_h == 1 && g->kernel_w == 1 && g->stride_h == 1 &&
                    g->stride_w == 1 && g->pad_h == 0 && g->pad_w == 0;
    if (pl->pointwise) { /* the image is its own column matrix: one row of H*W */
        pl->g.height = pl->g.out_h = 1;
        pl->g.width = pl->g.out_w = pl->HW;
    }
    pl->K = pl->g.channels * g->kernel_h * g->kernel_w;
    if (cliff_conv_rows_build(&pl->rows, &pl->g, err)) return -1;
    int nb = pl->P >= COLS_TARGET ? 1 : COLS_TARGET / (pl->P > 0 ? pl->P : 1);
    if (nb > num) nb = num > 0 ? num : 1;
    pl->nb = nb;
    pl->nchunks = num > 0 ? (num + nb - 1) / nb : 0;
    pl->wgroups = wgroups_for(pl->nchunks, (size_t)groups * pl->Mg * pl->K);
    pl->threads = cliff_fj_threads();
    const size_t cols = (size_t)nb * pl->P;
    const size_t out = nb > 1 ? (size_t)pl->Mg * cols : 0;
    const size_t dcol = (size_t)pl->K * (cols < DCOLS ? cols : DCOLS);
    pl->part = round16(out > dcol ? out : dcol);
    const size_t wsize = (size_t)groups * pl->Mg * pl->K;
    /* the weights packed for the engine, per group, in either orientation */
    const size_t pa = cliff_gemm_packed_a_floats(pl->Mg, pl->K),
                 pat = cliff_gemm_packed_a_floats(pl->K, pl->Mg);
    pl->wpack_group = pa > pat ? pa : pat;
    const size_t need = (size_t)pl->threads * pl->part + (size_t)(pl->wgroups - 1) * wsize +
                        (size_t)groups * pl->wpack_group;
    if (need > pl->cap || !pl->buf) {
        float *b = malloc((need ? need : 1) * sizeof *b);
        if (!b)
            return cliff_error_set(err, "out of memory allocating %zu floats of convolution "
                                        "workspace", need);
        free(pl->buf);
        pl->buf = b;
        pl->cap = need;
    }
    const size_t dbn = (size_t)pl->wgroups * Co;
    if (dbn > pl->dbcap || !pl->dbsum) {
        double *d = malloc((dbn ? dbn : 1) * sizeof *d);
        if (!d) return cliff_error_set(err, "out of memory for the convolution bias sums");
        free(pl->dbsum);
        pl->dbsum = d;
        pl->dbcap = dbn;
    }
    return 0;
}

void cliff_convg_free(CliffConvGemm *pl)
{
    cliff_conv_rows_free(&pl->rows);
    free(pl->buf);
    free(pl->dbsum);
    pl->buf = NULL;
    pl->dbsum = NULL;
    pl->cap = pl->dbcap = 0;
}

size_t cliff_convg_workspace_bytes(const CliffConvGemm *pl)
{
    return pl->cap * sizeof(float) + pl->dbcap * sizeof(double) +
           (size_t)pl->rows.K * (sizeof *pl->rows.off + 4 * sizeof *pl->rows.ylo);
}

/* The arguments of one call, shared by its chunks. */
typedef struct Job {
    CliffConvGemm *pl;
    const float *w, *x, *y, *bias;
    const float *wpack; /* data chunks: W_g (IM2COL) or W_g^T (COL2IM) packed, per group */
    float *out;   /* data chunks: column side (IM2COL) or image side (COL2IM) */
    float *dw, *db;
    int wchunks;  /* work items [0, wchunks) are weight-gradient groups */
    int ndata;    /* and the next ndata data chunks (ordered by cliff_fj_two_lists_item) */
    int data;     /* what the data chunks do */
} Job;

/* The images of chunk c: [*n0, *n0 + return). */
static int chunk_images(const CliffConvGemm *pl, int c, int *n0)
{
    *n0 = c * pl->nb;
    return pl->num - *n0 < pl->nb ? pl->num - *n0 : pl->nb;
}

/* The source of group gi of images [n0, n0 + ...) of an image-side tensor. */
static CliffConvSrc image_src(const CliffConvGemm *pl, const float *x, int n0, int gi)
{
    const ptrdiff_t istride = (ptrdiff_t)pl->Ci * pl->HW;
    CliffConvSrc s = {&pl->g, &pl->rows, x + n0 * istride + (ptrdiff_t)gi * pl->g.channels * pl->HW,
                      istride, pl->P, 0};
    return s;
}

static void im2col_chunk(const Job *j, int c, int thread)
{
    CliffConvGemm *pl = j->pl;
    int n0;
    const int nimg = chunk_images(pl, c, &n0), Mg = pl->Mg, K = pl->K, P = pl->P;
    const int cols = nimg * P;
    float *scr = pl->buf + (size_t)thread * pl->part;
    for (int gi = 0; gi < pl->groups; gi++) {
        const CliffConvSrc s = image_src(pl, j->x, n0, gi);
        const CliffGemmB b = pl->pointwise && nimg == 1 ? cliff_gemm_dense_b(s.img, pl->HW, 0)
                                                        : cliff_conv_col_b(&s);
        const float *wg = j->w + (size_t)gi * Mg * K;
        const float *pw = j->wpack + (size_t)gi * pl->wpack_group;
        const float *bias = j->bias ? j->bias + (size_t)gi * Mg : NULL;
        float *yg = j->out + ((size_t)n0 * pl->Co + (size_t)gi * Mg) * P;
        if (nimg == 1) { /* straight into NCHW; the bias as C's start */
            if (bias)
                for (int m = 0; m < Mg; m++)
                    for (int p = 0; p < P; p++) yg[(size_t)m * P + p] = bias[m];
            cliff_gemm_prepacked(pw, 0, 1.0f, wg, K, NULL, &b, Mg, cols, K, bias ? 1.0f : 0.0f,
                                 yg, P);
            continue;
        }
        cliff_gemm_prepacked(pw, 0, 1.0f, wg, K, NULL, &b, Mg, cols, K, 0.0f, scr, cols);
        for (int n = 0; n < nimg; n++)
            for (int m = 0; m < Mg; m++) {
                const float *src = scr + (size_t)m * cols + (size_t)n * P;
                float *d = yg + ((size_t)n * pl->Co + m) * P;
                const float bm = bias ? bias[m] : 0.0f;
                for (int p = 0; p < P; p++) d[p] = src[p] + bm;
            }
    }
}

static void col2im_chunk(const Job *j, int c, int thread)
{
    CliffConvGemm *pl = j->pl;
    int n0;
    const int nimg = chunk_images(pl, c, &n0), Mg = pl->Mg, K = pl->K, P = pl->P;
    const int cols = nimg * P, Cg = pl->g.channels, HW = pl->HW;
    float *dcol = pl->buf + (size_t)thread * pl->part;
    const ptrdiff_t xstride = (ptrdiff_t)pl->Ci * HW;
    for (int gi = 0; gi < pl->groups; gi++) {
        CliffConvSrc ys = {&pl->g, &pl->rows,
                           j->y + ((size_t)n0 * pl->Co + (size_t)gi * Mg) * P,
                           (ptrdiff_t)pl->Co * P, P, 0};
        const CliffConvSrc xs = {&pl->g, &pl->rows, NULL, xstride, P, 0}; /* img: xg */
        float *xg = j->out + ((size_t)n0 * pl->Ci + (size_t)gi * Cg) * HW;
        for (int n = 0; n < nimg; n++) memset(xg + n * xstride, 0, (size_t)Cg * HW * sizeof *xg);
        const float *wg = j->w + (size_t)gi * Mg * K;
        const float *pw = j->wpack + (size_t)gi * pl->wpack_group;
        for (int c0 = 0; c0 < cols; c0 += DCOLS) {
            const int nc = cols - c0 < DCOLS ? cols - c0 : DCOLS;
            ys.jbase = c0;
            const CliffGemmB b = cliff_conv_rows_b(&ys);
            cliff_gemm_prepacked(pw, 1, 1.0f, wg, K, NULL, &b, K, nc, Mg, 0.0f, dcol, nc);
            cliff_conv_col2im_block(&xs, dcol, nc, c0, nc, xg);
        }
    }
    if (j->bias)
        for (int n = 0; n < nimg; n++)
            for (int ci = 0; ci < pl->Ci; ci++) {
                float *d = j->out + ((size_t)(n0 + n) * pl->Ci + ci) * HW;
                const float bc = j->bias[ci];
                for (int i = 0; i < HW; i++) d[i] += bc;
            }
}

/* Weight-gradient group q: chunks [c0, c1) into dW (q = 0) or the group's own
 * sum; bias sums of y into dbsum row q. */
static void wgrad_group(const Job *j, int q, int thread)
{
    CliffConvGemm *pl = j->pl;
    const int G = pl->groups, Mg = pl->Mg, K = pl->K, P = pl->P;
    const size_t wsize = (size_t)G * Mg * K;
    float *scr = pl->buf + (size_t)thread * pl->part;
    float *dw = j->dw;
    if (dw && q > 0) {
        dw = pl->buf + (size_t)pl->threads * pl->part + (size_t)(q - 1) * wsize;
        memset(dw, 0, wsize * sizeof *dw);
    }
    double *db = j->db ? pl->dbsum + (size_t)q * pl->Co : NULL;
    if (db) memset(db, 0, (size_t)pl->Co * sizeof *db);
    int c0, c1;
    cliff_fj_range(pl->nchunks, q, j->wchunks, &c0, &c1);
    for (int c = c0; c < c1; c++) {
        int n0;
        const int nimg = chunk_images(pl, c, &n0), cols = nimg * P;
        const float *yc = j->y + (size_t)n0 * pl->Co * P;
        if (db)
            for (int n = 0; n < nimg; n++)
                for (int m = 0; m < pl->Co; m++)
                    db[m] += row_sum(yc + ((size_t)n * pl->Co + m) * P, P);
        if (!dw) continue;
        for (int gi = 0; gi < G; gi++) {
            const float *a = yc + (size_t)gi * Mg * P; /* dy_n,g: Mg x P, lda P */
            ptrdiff_t lda = P;
            if (nimg > 1) { /* the images' rows side by side: Mg x cols */
                for (int m = 0; m < Mg; m++)
                    for (int n = 0; n < nimg; n++)
                        memcpy(scr + (size_t)m * cols + (size_t)n * P,
                               a + ((size_t)n * pl->Co + m) * P, (size_t)P * sizeof *scr);
                a = scr;
                lda = cols;
            }
            const CliffConvSrc s = image_src(pl, j->x, n0, gi);
            const CliffGemmB b = pl->pointwise && nimg == 1 ? cliff_gemm_dense_b(s.img, pl->HW, 1)
                                                            : cliff_conv_colT_b(&s);
            cliff_gemm_src(0, Mg, K, cols, 1.0f, a, lda, &b, 1.0f, dw + (size_t)gi * Mg * K, K);
        }
    }
}

static void run_chunk(void *arg, int chunk, int thread)
{
    const Job *j = arg;
    /* the groups and the data chunks cut the images alike: thread by thread
     * (any order gives the same bits: groups are summed in group order after) */
    const int item = cliff_fj_two_lists_item(chunk, j->wchunks, j->ndata, j->pl->threads);
    if (item < j->wchunks)
        wgrad_group(j, item, thread);
    else if (j->data == CLIFF_CONVG_DATA_IM2COL)
        im2col_chunk(j, item - j->wchunks, thread);
    else
        col2im_chunk(j, item - j->wchunks, thread);
}

/* The weights packed once for every chunk of a call (gemm.h): per group,
 * W_g (Mg x K) for the im2col product or W_g^T (K x Mg) for the col2im one. */
static const float *pack_weights(CliffConvGemm *pl, const float *w, int data)
{
    float *dst = pl->buf + (size_t)pl->threads * pl->part +
                 (size_t)(pl->wgroups - 1) * pl->groups * pl->Mg * pl->K;
    for (int gi = 0; gi < pl->groups; gi++) {
        const float *wg = w + (size_t)gi * pl->Mg * pl->K;
        float *d = dst + (size_t)gi * pl->wpack_group;
        if (data == CLIFF_CONVG_DATA_IM2COL)
            cliff_gemm_pack_a(0, pl->Mg, pl->K, 1.0f, wg, pl->K, d);
        else
            cliff_gemm_pack_a(1, pl->K, pl->Mg, 1.0f, wg, pl->K, d);
    }
    return dst;
}

/* All chunks: on the fork-join when there are several (their products then
 * run serially), else here (the engine may split the product). */
static void run(Job *j, int nchunks)
{
    if (nchunks > 1 && j->pl->threads > 1) {
        cliff_fj_for(nchunks, run_chunk, j);
        return;
    }
    for (int c = 0; c < nchunks; c++) run_chunk(j, c, 0);
}

void cliff_convg_im2col(CliffConvGemm *pl, const float *w, const float *x, const float *bias,
                        float *y)
{
    Job j = {.pl = pl, .w = w, .x = x, .bias = bias,
             .wpack = pack_weights(pl, w, CLIFF_CONVG_DATA_IM2COL), .out = y,
             .ndata = pl->nchunks, .data = CLIFF_CONVG_DATA_IM2COL};
    run(&j, pl->nchunks);
}

void cliff_convg_col2im(CliffConvGemm *pl, const float *w, const float *y, const float *bias,
                        float *x)
{
    Job j = {.pl = pl, .w = w, .y = y, .bias = bias,
             .wpack = pack_weights(pl, w, CLIFF_CONVG_DATA_COL2IM), .out = x,
             .ndata = pl->nchunks, .data = CLIFF_CONVG_DATA_COL2IM};
    run(&j, pl->nchunks);
}

void cliff_convg_backward(CliffConvGemm *pl, const float *w, const float *y, const float *x,
                          float *dw, float *db, int data, float *dout)
{
    Job j = {.pl = pl, .w = w, .x = x, .y = y,
             .wpack = data != CLIFF_CONVG_NO_DATA ? pack_weights(pl, w, data) : NULL,
             .out = dout, .dw = dw, .db = db, .data = data};
    j.wchunks = (dw || db) && pl->nchunks > 0 ? pl->wgroups : 0;
    j.ndata = data != CLIFF_CONVG_NO_DATA ? pl->nchunks : 0;
    run(&j, j.wchunks + j.ndata);
    const size_t wsize = (size_t)pl->groups * pl->Mg * pl->K;
    for (int q = 1; dw && q < j.wchunks; q++) { /* in group order, whoever ran them */
        const float *sum = pl->buf + (size_t)pl->threads * pl->part + (size_t)(q - 1) * wsize;
        for (size_t i = 0; i < wsize; i++) dw[i] += sum[i];
    }
    if (db && j.wchunks > 0)
        for (int m = 0; m < pl->Co; m++) {
            double s = 0;
            for (int q = 0; q < j.wchunks; q++) s += pl->dbsum[(size_t)q * pl->Co + m];
            db[m] += (float)s;
        }
}
