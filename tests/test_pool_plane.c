/* Pooling against a scalar twin written from Caffe's definition (window
 * [p*stride - pad, +kernel) clipped to the image; MAX: first maximum in
 * row-major order, strictly greater to replace; AVE: float sum in row-major
 * order from 0, divided by the window clipped to the padded image), bit for
 * bit: the kernels of layers/kernels/pool_plane.c and their AVX-512 twins
 * (pool_max512.c, pool_ave512.c) over many geometries (edge columns, padding,
 * ceil mode and its clipped last window, strides 1 to 3, rows longer than a
 * segment, values with ties, +0/-0 and NaN), planes against unreadable pages,
 * and the Pooling layer on enough planes that the
 * fork-join splits them, forward and backward. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "guard_page.h"
#include "layer_text.h"
#include "layers/kernels/blas.h"
#include "layers/kernels/pool_plane.h"
#include "layers/layer.h"
#include "proto/textformat.h"

static int pooled(int in, int k, int s, int pad)
{
    int n = (in + 2 * pad - k + s - 1) / s + 1;
    if (pad && (n - 1) * s >= in + pad) n--;
    return n;
}

static void twin_max(const CliffPoolGeom *g, const float *x, float *y, int *m)
{
    for (int py = 0; py < g->oh; py++)
        for (int px = 0; px < g->ow; px++) {
            int hs = py * g->sh - g->ph, ws = px * g->sw - g->pw;
            int he = hs + g->kh < g->H ? hs + g->kh : g->H, we = ws + g->kw < g->W ? ws + g->kw : g->W;
            hs = hs > 0 ? hs : 0;
            ws = ws > 0 ? ws : 0;
            int arg = hs * g->W + ws;
            for (int h = hs; h < he; h++)
                for (int w = ws; w < we; w++)
                    if (x[h * g->W + w] > x[arg]) arg = h * g->W + w;
            y[py * g->ow + px] = x[arg];
            m[py * g->ow + px] = arg;
        }
}

static void twin_ave(const CliffPoolGeom *g, const float *x, float *y)
{
    for (int py = 0; py < g->oh; py++)
        for (int px = 0; px < g->ow; px++) {
            const int h0 = py * g->sh - g->ph, w0 = px * g->sw - g->pw;
            const int h1 = h0 + g->kh, w1 = w0 + g->kw;
            const int rows = (h1 < g->H + g->ph ? h1 : g->H + g->ph) - h0;
            const int cols = (w1 < g->W + g->pw ? w1 : g->W + g->pw) - w0;
            float acc = 0;
            for (int h = h0 > 0 ? h0 : 0; h < (h1 < g->H ? h1 : g->H); h++)
                for (int w = w0 > 0 ? w0 : 0; w < (w1 < g->W ? w1 : g->W); w++) acc += x[h * g->W + w];
            y[py * g->ow + px] = acc / (float)(rows * cols);
        }
}

static void test_planes_against_twin(void)
{
    /* H, W, kernel h w, stride h w, pad h w */
    static const int geo[][8] = {
        {55, 55, 3, 3, 2, 2, 0, 0}, {27, 27, 3, 3, 2, 2, 0, 0}, {13, 13, 3, 3, 2, 2, 0, 0},
        {13, 13, 3, 3, 2, 2, 1, 1}, {31, 29, 5, 5, 3, 3, 2, 2}, {20, 17, 4, 4, 1, 1, 1, 1},
        {9, 40, 2, 2, 2, 2, 0, 0},  {7, 300, 3, 3, 2, 2, 1, 1}, {8, 270, 3, 2, 1, 1, 0, 1},
        {5, 5, 5, 5, 1, 1, 0, 0},   {6, 11, 3, 4, 3, 3, 2, 3},
        /* Caffe's ceil rounding clips the last window (cifar10_quick's pool1
         * 32 -> 16, pool3's 8 -> 4), a clipped window after a whole chunk of
         * 16 (36 -> 18), stride 1 with padding over two chunks */
        {32, 32, 3, 3, 2, 2, 0, 0}, {8, 8, 3, 3, 2, 2, 0, 0}, {20, 36, 3, 3, 2, 2, 0, 0},
        {11, 34, 3, 3, 1, 1, 1, 1}, {9, 33, 2, 2, 2, 2, 0, 0}, {12, 30, 4, 5, 2, 2, 1, 2},
    };
    uint32_t r = 99;
    for (size_t c = 0; c < sizeof geo / sizeof geo[0]; c++) {
        const int *q = geo[c];
        CliffPoolGeom g = {q[0], q[1], pooled(q[0], q[2], q[4], q[6]), pooled(q[1], q[3], q[5], q[7]),
                           q[2], q[3], q[4], q[5], q[6], q[7]};
        const size_t in = (size_t)g.H * g.W, out = (size_t)g.oh * g.ow;
        float *x = malloc(in * sizeof *x), *y = malloc(out * sizeof *y), *ty = malloc(out * sizeof *ty);
        int *m = malloc(out * sizeof *m), *tm = malloc(out * sizeof *tm);
        for (int ties = 0; ties < 3; ties++) {
            /* ties 2: +0 and -0 (equal, different bits: the first wins) and NaN
             * (never replaces; a NaN first candidate stays) */
            static const float odd[5] = {0.0f, -0.0f, 1.0f, -1.0f, NAN};
            for (size_t i = 0; i < in; i++) {
                r = r * 1664525u + 1013904223u;
                x[i] = ties == 2 ? odd[(r >> 16) % 5]
                       : ties  ? (float)((r >> 16) % 5)
                               : (float)(r >> 8) * 0x1p-24f - 0.5f;
            }
            cliff_pool_max_plane(&g, x, y, m);
            twin_max(&g, x, ty, tm);
            if (memcmp(y, ty, out * sizeof *y) || memcmp(m, tm, out * sizeof *m))
                CHECK_FAILF("MAX geometry %zu (ties %d) differs from the twin", c, ties);
            if (g.sw <= 2 && cliff_gemm_avx512_usable()) {
                memset(y, 0, out * sizeof *y);
                cliff_pool_max_plane_avx512(&g, x, y, m);
                if (memcmp(y, ty, out * sizeof *y) || memcmp(m, tm, out * sizeof *m))
                    CHECK_FAILF("MAX geometry %zu (ties %d): the AVX-512 kernel differs from the twin",
                                c, ties);
            }
            if (ties == 2) continue; /* AVE of NaN is NaN whatever the order */
            cliff_pool_ave_plane(&g, x, y);
            twin_ave(&g, x, ty);
            if (memcmp(y, ty, out * sizeof *y))
                CHECK_FAILF("AVE geometry %zu (ties %d) differs from the twin", c, ties);
            if (g.sw <= 2 && cliff_gemm_avx512_usable()) {
                memset(y, 0, out * sizeof *y);
                cliff_pool_ave_plane_avx512(&g, x, y);
                if (memcmp(y, ty, out * sizeof *y))
                    CHECK_FAILF("AVE geometry %zu (ties %d): the AVX-512 kernel differs from the twin",
                                c, ties);
            }
        }
        free(x), free(y), free(ty), free(m), free(tm);
    }
}

/* n floats starting right after a PROT_NONE page (the front twin of
 * guarded()); NULL when the mapping fails. */
static float *guarded_front(size_t n, void **map, size_t *len)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    *len = page + (n * sizeof(float) + page - 1) / page * page;
    char *m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    mprotect(m, page, PROT_NONE);
    *map = m;
    return (float *)(m + page);
}

/* The AVX-512 kernels read whole 16- and 32-column spans with plain loads
 * except near the plane's first and last rows: a plane that starts right
 * after, or ends right at, an unreadable page makes any read outside the
 * plane fault. */
static void test_avx512_reads_inside_plane(void)
{
    if (!cliff_gemm_avx512_usable()) return;
    static const int geo[][8] = {
        {32, 32, 3, 3, 2, 2, 0, 0}, {7, 19, 3, 3, 2, 2, 1, 1}, {6, 17, 3, 3, 1, 1, 1, 1},
        {5, 40, 4, 4, 2, 2, 0, 0},  {4, 9, 2, 2, 2, 2, 0, 0},
    };
    for (size_t c = 0; c < sizeof geo / sizeof geo[0]; c++) {
        const int *q = geo[c];
        CliffPoolGeom g = {q[0], q[1], pooled(q[0], q[2], q[4], q[6]), pooled(q[1], q[3], q[5], q[7]),
                           q[2], q[3], q[4], q[5], q[6], q[7]};
        const size_t in = (size_t)g.H * g.W, out = (size_t)g.oh * g.ow;
        float *y = malloc(out * sizeof *y), *ty = malloc(out * sizeof *ty);
        int *m = malloc(out * sizeof *m), *tm = malloc(out * sizeof *tm);
        for (int front = 0; front < 2; front++) {
            void *map;
            size_t len;
            float *x = front ? guarded_front(in, &map, &len) : guarded(in, &map, &len);
            if (!x) {
                CHECK_FAILF("mmap failed");
                break;
            }
            for (size_t i = 0; i < in; i++) x[i] = (float)((i * 7919u) % 23u);
            cliff_pool_max_plane_avx512(&g, x, y, m);
            twin_max(&g, x, ty, tm);
            if (memcmp(y, ty, out * sizeof *y) || memcmp(m, tm, out * sizeof *m))
                CHECK_FAILF("geometry %zu (guard %s) differs from the twin", c,
                            front ? "before" : "after");
            cliff_pool_ave_plane_avx512(&g, x, y);
            twin_ave(&g, x, ty);
            if (memcmp(y, ty, out * sizeof *y))
                CHECK_FAILF("AVE geometry %zu (guard %s) differs from the twin", c,
                            front ? "before" : "after");
            munmap(map, len);
        }
        free(y), free(ty), free(m), free(tm);
    }
}

/* The layer on 4 x 40 planes of 27 x 27 (several fork-join chunks): forward
 * against the twin per plane; backward against dx = 0 plus dy added at each
 * output's argmax (MAX) or spread over its window (AVE), in output order. */
static void check_layer(const char *text, int is_max)
{
    CliffError err;
    Cliff__LayerParameter *lp = layer_text(text);
    if (!lp) return;
    CliffTensor b, t;
    cliff_tensor_init(&b);
    cliff_tensor_init(&t);
    CliffTensor *bp[1] = {&b}, *tp[1] = {&t};
    const int shape[4] = {4, 40, 27, 27};
    CliffRng rng;
    cliff_rng_seed(&rng, 3);
    CliffLayer l = {.ops = cliff_layer_find("Pooling"), .param = lp, .name = "pool", .rng = &rng};
    if (cliff_tensor_reshape(&b, 4, shape, &err) || l.ops->setup(&l, bp, 1, tp, 1, &err) ||
        l.ops->reshape(&l, bp, 1, tp, 1, &err)) {
        CHECK_FAILF("%s", err.msg);
        goto done;
    }
    for (size_t i = 0; i < b.count; i++) b.data[i] = cliff_rng_uniform(&rng, -1, 1);
    for (size_t i = 0; i < t.count; i++) t.diff[i] = cliff_rng_uniform(&rng, -1, 1);
    /* the first call in the caller (CLIFF_POOL_FORK=0, read at reshape), the
     * later ones forked (=1): the same bits */
    const int pd[1] = {1};
    float *y1 = malloc(t.count * sizeof *y1), *dx1 = malloc(b.count * sizeof *dx1);
    for (int call = 0; call < 3; call++) {
        if (call < 2) {
            setenv("CLIFF_POOL_FORK", call == 0 ? "0" : "1", 1);
            if (l.ops->reshape(&l, bp, 1, tp, 1, &err)) {
                CHECK_FAILF("%s", err.msg);
                break;
            }
        }
        l.ops->forward(&l, bp, 1, tp, 1);
        l.ops->backward(&l, tp, 1, pd, bp, 1);
        if (call == 0) {
            memcpy(y1, t.data, t.count * sizeof *y1);
            memcpy(dx1, b.diff, b.count * sizeof *dx1);
        }
    }
    if (memcmp(y1, t.data, t.count * sizeof *y1) || memcmp(dx1, b.diff, b.count * sizeof *dx1))
        CHECK_FAILF("the forked pass differs from the caller's");
    free(y1), free(dx1);
    CliffPoolGeom g = {27, 27, t.shape[2], t.shape[3], 3, 3, 2, 2, is_max ? 0 : 1, is_max ? 0 : 1};
    const size_t in = 27 * 27, out = (size_t)g.oh * g.ow;
    float *y = malloc(out * sizeof *y), *dx = malloc(in * sizeof *dx);
    int *m = malloc(out * sizeof *m), bad_f = 0, bad_b = 0;
    for (int pl = 0; pl < 160; pl++) {
        const float *x = b.data + pl * in, *dy = t.diff + pl * out;
        memset(dx, 0, in * sizeof *dx);
        if (is_max) {
            twin_max(&g, x, y, m);
            for (size_t o = 0; o < out; o++) dx[m[o]] += dy[o];
        } else {
            twin_ave(&g, x, y);
            for (int py = 0; py < g.oh; py++)
                for (int px = 0; px < g.ow; px++) {
                    const int h0 = py * 2 - 1, w0 = px * 2 - 1;
                    const int rows = (h0 + 3 < 28 ? h0 + 3 : 28) - h0, cols = (w0 + 3 < 28 ? w0 + 3 : 28) - w0;
                    const float gv = dy[py * g.ow + px] / (float)(rows * cols);
                    for (int h = h0 > 0 ? h0 : 0; h < (h0 + 3 < 27 ? h0 + 3 : 27); h++)
                        for (int w = w0 > 0 ? w0 : 0; w < (w0 + 3 < 27 ? w0 + 3 : 27); w++)
                            dx[h * 27 + w] += gv;
                }
        }
        bad_f += memcmp(y, t.data + pl * out, out * sizeof *y) != 0;
        bad_b += memcmp(dx, b.diff + pl * in, in * sizeof *dx) != 0;
    }
    if (bad_f || bad_b) CHECK_FAILF("%d planes differ forward, %d backward", bad_f, bad_b);
    free(y), free(dx), free(m);
done:
    if (l.ops->destroy) l.ops->destroy(&l);
    cliff_tensor_free(&b);
    cliff_tensor_free(&t);
    protobuf_c_message_free_unpacked(&lp->base, NULL);
}

static void test_layer_max_3x3s2(void)
{
    check_layer("name: 'pool' type: 'Pooling' pooling_param { pool: MAX kernel_size: 3 stride: 2 }", 1);
}

static void test_layer_ave_3x3s2_pad(void)
{
    check_layer("name: 'pool' type: 'Pooling' pooling_param { pool: AVE kernel_size: 3 stride: 2 "
                "pad: 1 }", 0);
}

int main(void)
{
    openblas_set_num_threads(2); /* the fork-join's threads follow OpenBLAS's count */
    setenv("CLIFF_POOL_FORK", "1", 1); /* fork even short passes (check_layer sets it too) */
    RUN(test_planes_against_twin);
    RUN(test_avx512_reads_inside_plane);
    RUN(test_layer_max_3x3s2);
    RUN(test_layer_ave_3x3s2_pad);
    return test_main_end();
}
