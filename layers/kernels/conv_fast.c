/* Convolution by shifted rows: the plan (offsets, buffers) and the drivers;
 * see conv_fast.h for the layout; the products run on the matrix engine
 * (gemm.h), the shift and the bias gradient in conv_fast_kernels.c. Threads
 * (fork_join.h, no OpenMP): forward and data gradient hand out one image a
 * chunk, the weight gradient one group of images a chunk (with threads, and
 * where S is small against dy, one slice of output channels of a group a
 * chunk: LeNet conv1's two groups give four chunks); each thread has its own
 * S; the first group adds into dW directly, every other into its own sum,
 * added to dW in group order after the join. The groups depend on the shapes
 * only and slices split dW, not its sums, so the results are the same bits on
 * any thread count and in every run. The bias gradient's per-image sums come
 * from the same chunks, read while their dy is in cache, and are added in
 * image order after the join. */
#include "conv_fast.h"

#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "conv_fast_kernels.h"
#include "fork_join.h"
#include "gemm.h"

/* Largest S (floats per image) taken (4 MB). Measured against the matrix-engine
 * path (bench/micro_convg, one thread, CPU time): on CaffeNet's conv2 (S =
 * 401,760 floats, past L2) this path still took 44/48/46 ms for forward /
 * weight / data gradient where the engine took 56/61/62. */
#define MAX_S_FLOATS (1u << 20)
/* Floats of S and dy held for one block of the weight gradient (~800 KB of L2),
 * and of the S rows one weight-gradient tile reads over the block (~24 KB of L1). */
#define WGRAD_BLOCK_FLOATS (200u * 1024u)
#define WGRAD_L1_FLOATS (6u * 1024u)
/* Weight-gradient groups of images, each summed on its own (a fork-join chunk)
 * and then added to dW in group order; at most WGRAD_GROUP_FLOATS of sums.
 * Two keep both cores of a 2-core machine busy (conv2's data-gradient chunks
 * fill in around them); every group more costs a little on one thread (LeNet
 * conv2 dW: 0.95 ms with 1 or 2 groups, 0.99 with 4). */
#define WGRAD_GROUPS 2u
#define WGRAD_GROUP_FLOATS (4u * 1024u * 1024u)
/* The engine's dot-product tile (gemm.h): WR rows of S at once. */
#define WR CLIFF_GEMM_DOT_TILE

int cliff_conv_fast_usable(const CliffConvGeom *g)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (g->stride_h != 1 || g->dilation_h != 1) return 0;
    const size_t Hp = (size_t)g->height + 2u * (size_t)g->pad_h;
    const size_t S = (size_t)g->channels * g->kernel_w * Hp * (size_t)g->out_w;
    if (S == 0 || S > MAX_S_FLOATS || g->out_h <= 0 || g->out_w <= 0) return 0;
    return cliff_gemm_avx512_usable(); /* AVX-512F here, and allowed */
#else
    (void)g;
    return 0;
#endif
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Floats between the S of consecutive images: S rounded up to a whole vector,
 * plus one vector of slack for the shift's full-width stores. */
static size_t s_stride(size_t S_size) { return round16(S_size) + 16; }

int cliff_conv_fast_plan(CliffConvFastPlan *pl, const CliffConvGeom *g, int groups, int M,
                         int num, CliffError *err)
{
    pl->g = *g;
    pl->groups = groups;
    pl->M = M;
    pl->num = num;
    pl->Mg = M / groups;
    pl->K = g->channels / groups * g->kernel_h * g->kernel_w;
    pl->Hp = g->height + 2 * g->pad_h;
    pl->plane = g->out_h * g->out_w;
    pl->S_size = (size_t)g->channels * g->kernel_w * (size_t)pl->Hp * g->out_w;
    /* weight-gradient blocks: S and dy of the block in L2, and the WR S rows of
     * one tile over the block in L1 */
    size_t per_image = s_stride(pl->S_size) + (size_t)M * pl->plane;
    size_t nb = WGRAD_BLOCK_FLOATS / per_image;
    size_t nb_l1 = WGRAD_L1_FLOATS / (WR * (size_t)pl->plane);
    if (nb_l1 < nb) nb = nb_l1;
    if (nb < 1) nb = 1;
    const int parts = cliff_fj_threads();
    pl->parts = parts;
    /* weight-gradient groups: fixed by the shapes alone, never by the thread
     * count, so the summation order (and every bit of dW) is the same on 1 or
     * 2 threads and from run to run */
    const size_t dw_floats = round16((size_t)M * pl->K);
    size_t ng = (size_t)(num > 0 ? num : 1);
    if (ng > WGRAD_GROUPS) ng = WGRAD_GROUPS;
    if (ng * dw_floats > WGRAD_GROUP_FLOATS)
        ng = dw_floats < WGRAD_GROUP_FLOATS ? WGRAD_GROUP_FLOATS / dw_floats : 1;
    pl->ngroups = (int)ng;
    const size_t per_group = ((size_t)num + ng - 1) / ng;
    if (nb > per_group) nb = per_group > 0 ? per_group : 1;
    pl->nb = (int)nb;

    const int rows = g->channels * g->kernel_h * g->kernel_w;
    int *off = realloc(pl->off, (size_t)rows * sizeof *off);
    if (!off) return cliff_error_set(err, "out of memory for the convolution offsets");
    pl->off = off;
    int *moff = realloc(pl->moff, (size_t)pl->Mg * sizeof *moff);
    if (!moff) return cliff_error_set(err, "out of memory for the convolution offsets");
    pl->moff = moff;
    for (int m = 0; m < pl->Mg; m++) moff[m] = m * pl->plane;
    for (int c = 0; c < g->channels; c++)
        for (int ki = 0; ki < g->kernel_h; ki++)
            for (int kj = 0; kj < g->kernel_w; kj++)
                off[(c * g->kernel_h + ki) * g->kernel_w + kj] =
                    ((c * g->kernel_w + kj) * pl->Hp + ki) * g->out_w;

    size_t wp = (size_t)groups * cliff_gemm_packed_a_floats(pl->Mg, pl->K);
    size_t wd = (size_t)groups * cliff_gemm_scatter_a_floats(pl->K, pl->Mg);
    pl->part_floats = nb * s_stride(pl->S_size);
    const size_t s_part = (size_t)parts * pl->part_floats, w_part = round16(wp > wd ? wp : wd);
    const size_t b_part = round16((size_t)(num > 0 ? num : 0) * (size_t)M);
    const size_t need = s_part + w_part + (ng - 1) * dw_floats + b_part;
    if (need > pl->buf_cap || !pl->buf) {
        float *b = aligned_alloc(64, need * sizeof *b); /* need is a multiple of 16 floats */
        if (!b)
            return cliff_error_set(err, "out of memory allocating %zu floats of convolution "
                                        "scratch", need);
        free(pl->buf);
        pl->buf = b;
        pl->buf_cap = need;
    }
    pl->wpack = pl->buf + s_part;
    pl->dwsum = pl->wpack + w_part;
    pl->bsum = pl->dwsum + (ng - 1) * dw_floats;
    return 0;
}

void cliff_conv_fast_plan_free(CliffConvFastPlan *pl)
{
    free(pl->off);
    free(pl->moff);
    free(pl->buf);
    pl->off = NULL;
    pl->moff = NULL;
    pl->buf = NULL;
    pl->buf_cap = 0;
}

/* The arguments of one forward or backward call, shared by its parts. */
typedef struct FastJob {
    CliffConvFastPlan *pl;
    const float *x, *w, *bias, *dy;
    float *y, *dw, *db, *dx;
    int wchunks; /* backward: items [0, wchunks) are the dW groups of images, */
    int mparts;  /* each cut into mparts slices of output channels, */
    int nimages; /* then the data gradients of nimages single images */
} FastJob;

/* The forward of image n on a thread (weights packed for the engine): per
 * group, y_n,g [Mg x plane] = (bias) + W_g times the view of S_n through the
 * group's offsets, the engine's view tiles reading S in place. */
static void fwd_image(void *arg, int n, int thread)
{
    const FastJob *j = arg;
    const CliffConvFastPlan *pl = j->pl;
    const int G = pl->groups, Mg = pl->Mg, K = pl->K, M = pl->M, plane = pl->plane;
    const size_t img = (size_t)pl->g.channels * pl->g.height * pl->g.width;
    const size_t pa = cliff_gemm_packed_a_floats(Mg, K);
    float *S = pl->buf + (size_t)thread * pl->part_floats;
    cliff_cf_shift(pl, j->x + (size_t)n * img, S);
    for (int g = 0; g < G; g++) {
        float *py = j->y + ((size_t)n * M + (size_t)g * Mg) * plane;
        const CliffGemmB b = cliff_gemm_rows_b(S, pl->off + (size_t)g * K);
        const float *pw = pl->wpack + g * pa;
        if (j->bias) /* the sums start from the bias, as Caffe's bias term */
            cliff_gemm_prepacked_bias(pw, NULL, &b, Mg, plane, K, j->bias + g * Mg, py, plane);
        else
            cliff_gemm_prepacked(pw, 0, 1.0f, NULL, 0, NULL, &b, Mg, plane, K, 0.0f, py, plane);
    }
}

void cliff_conv_fast_forward(CliffConvFastPlan *pl, const float *x, const float *w,
                             const float *bias, float *y)
{
    const int G = pl->groups, Mg = pl->Mg, K = pl->K;
    const size_t pa = cliff_gemm_packed_a_floats(Mg, K);
    for (int g = 0; g < G; g++)
        cliff_gemm_pack_a(0, Mg, K, 1.0f, w + (size_t)g * Mg * K, K, pl->wpack + g * pa);
    FastJob job = {pl, x, w, bias, NULL, y, NULL, NULL, NULL, 0, 1, 0};
    cliff_fj_for(pl->num, fwd_image, &job);
}

/* Slice part of nparts of Mg output channels: [*m0, *m1), cut at whole
 * tiles of the dot-product kind (CLIFF_GEMM_DOT_TILE rows) where there are
 * enough. */
static void m_slice(int Mg, int part, int nparts, int *m0, int *m1)
{
    const int T = CLIFF_GEMM_DOT_TILE, tiles = (Mg + T - 1) / T;
    if (tiles >= nparts) {
        int t0, t1;
        cliff_fj_range(tiles, part, nparts, &t0, &t1);
        *m0 = T * t0;
        *m1 = T * t1 < Mg ? T * t1 : Mg;
    } else {
        cliff_fj_range(Mg, part, nparts, m0, m1);
    }
}

/* Output channels [m0, m1) of every group of the weight gradient of one
 * group of images, into the group's own sum, block by block (S of a block
 * built on this thread's buffer); with db, the per-image sums of the same dy
 * rows into bsum (read while the block's dy is in cache). A slice of the
 * output channels is a disjoint part of dW with the same sums as the whole:
 * the slices change no bit. */
static void wgrad_group(const FastJob *j, int group, int m0, int m1, float *S)
{
    const CliffConvFastPlan *pl = j->pl;
    const int G = pl->groups, Mg = pl->Mg, K = pl->K, M = pl->M, plane = pl->plane;
    const size_t img = (size_t)pl->g.channels * pl->g.height * pl->g.width;
    const size_t sstride = s_stride(pl->S_size), dstride = (size_t)M * plane;
    /* group 0 adds straight into dW, the others into their sums (zeroed here) */
    float *dw = j->dw;
    if (group > 0) {
        dw = pl->dwsum + (size_t)(group - 1) * round16((size_t)M * K);
        for (int g = 0; g < G; g++)
            memset(dw + ((size_t)g * Mg + m0) * K, 0, (size_t)(m1 - m0) * K * sizeof *dw);
    }
    int g0, g1;
    cliff_fj_range(pl->num, group, pl->ngroups, &g0, &g1);
    const int nblk = (g1 - g0 + pl->nb - 1) / pl->nb;
    for (int bk = 0; bk < nblk; bk++) { /* blocks of near-equal sizes */
        int b0, b1;
        cliff_fj_range(g1 - g0, bk, nblk, &b0, &b1);
        const int n0 = g0 + b0, nimg = b1 - b0;
        const float *dy = j->dy + (size_t)n0 * dstride;
        for (int n = 0; n < nimg; n++)
            cliff_cf_shift(pl, j->x + (size_t)(n0 + n) * img, S + n * sstride);
        /* per group, one product of the engine's dot-product kind: the block's
         * images are its segments, dy rows (view moff) against S rows (view off);
         * its tiles take the output channels outer, so their dy rows stay in L1
         * while the S rows stream past */
        for (int g = 0; g < G; g++) {
            if (j->db)
                for (int n = 0; n < nimg; n++)
                    cliff_cf_row_sums(dy + n * dstride + ((size_t)g * Mg + m0) * plane, m1 - m0,
                                      plane, pl->bsum + (size_t)(n0 + n) * M + g * Mg + m0);
            cliff_gemm_dot_rows(m1 - m0, K, plane, nimg, dy + ((size_t)g * Mg + m0) * plane,
                                pl->moff, (ptrdiff_t)dstride, S, pl->off + (size_t)g * K,
                                (ptrdiff_t)sstride, dw + ((size_t)g * Mg + m0) * K, K);
        }
    }
}

/* A backward chunk on a thread: chunk < wchunks is the weight gradient of one
 * group of images; the rest are the data gradients of single images (packed
 * transposed weights ready). */
static void bwd_chunk(void *arg, int chunk, int thread)
{
    const FastJob *j = arg;
    const CliffConvFastPlan *pl = j->pl;
    float *S = pl->buf + (size_t)thread * pl->part_floats;
    /* groups of images (each cut into mparts slices, group-major) and single
     * images: ordered thread by thread, so a thread's block holds both for
     * about the same images (the slices and groups are summed in a fixed
     * order after the job: the same bits in any order) */
    chunk = cliff_fj_two_lists_item(chunk, j->wchunks, j->nimages, cliff_fj_threads());
    if (chunk < j->wchunks) {
        int m0, m1;
        m_slice(pl->Mg, chunk % j->mparts, j->mparts, &m0, &m1);
        wgrad_group(j, chunk / j->mparts, m0, m1, S);
        return;
    }
    /* dS = sum over groups of W_g^T dy_n,g scattered onto the group's rows of
     * S (the engine's scatter-add, dy_n,g read in place as a view), then the
     * adjoint of the shift */
    const int G = pl->groups, Mg = pl->Mg, K = pl->K, M = pl->M, plane = pl->plane;
    const size_t img = (size_t)pl->g.channels * pl->g.height * pl->g.width;
    const size_t pa = cliff_gemm_scatter_a_floats(K, Mg);
    const int n = chunk - j->wchunks;
    float *dS = S;
    memset(dS, 0, pl->S_size * sizeof *dS);
    for (int g = 0; g < G; g++) {
        const CliffGemmB b =
            cliff_gemm_rows_b(j->dy + ((size_t)n * M + (size_t)g * Mg) * plane, pl->moff);
        cliff_gemm_scatter_add(pl->wpack + g * pa, K, plane, Mg, &b, dS, pl->off + (size_t)g * K);
    }
    cliff_cf_unshift(pl, dS, j->dx + (size_t)n * img);
}

void cliff_conv_fast_backward(CliffConvFastPlan *pl, const float *x, const float *w,
                              const float *dy, float *dw, float *db, float *dx)
{
    const int G = pl->groups, Mg = pl->Mg, K = pl->K, M = pl->M;
    /* with dW, the bias gradient's per-image sums come from the weight-gradient
     * chunks (bsum), in parallel and while dy is in cache */
    if (db && (!dw || pl->num == 0)) cliff_cf_bias_grad(pl, dy, db);
    if (!dw) db = NULL;
    if (!dw && !dx) return;
    if (dx) { /* op(A) = W_g^T (K x Mg) for the scatter-add, once per call */
        const size_t pa = cliff_gemm_scatter_a_floats(K, Mg);
        for (int g = 0; g < G; g++)
            cliff_gemm_scatter_pack_a(1, K, Mg, w + (size_t)g * Mg * K, K, pl->wpack + g * pa);
    }
    FastJob job = {pl, x, w, NULL, dy, NULL, dw, db, dx, 0, 1, 0};
    /* slices of output channels give a second thread work when the groups of
     * images are few; each slice shifts its images again, so only where S is
     * no bigger than the block's dy (LeNet conv1: S 3,360 floats an image, dy
     * 11,520) and only with threads (the slices change no bit) */
    if (cliff_fj_available() > 1 && Mg >= 10 && pl->S_size <= (size_t)Mg * pl->plane)
        job.mparts = 2;
    job.wchunks = dw && pl->num > 0 ? pl->ngroups * job.mparts : 0;
    job.nimages = dx ? pl->num : 0;
    cliff_fj_for(job.wchunks + job.nimages, bwd_chunk, &job);
    for (int q = 1; q < pl->ngroups && job.wchunks; q++) { /* in group order, whichever thread ran it */
        const float *sum = pl->dwsum + (size_t)(q - 1) * round16((size_t)M * K);
        for (size_t i = 0; i < (size_t)M * K; i++) dw[i] += sum[i];
    }
    if (db && job.wchunks) /* per channel, the images in order, in double */
        for (int m = 0; m < M; m++) {
            double acc = 0;
            for (int n = 0; n < pl->num; n++) acc += pl->bsum[(size_t)n * M + m];
            db[m] += (float)acc;
        }
}

