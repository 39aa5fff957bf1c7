/* The clip policies beyond Caffe's (solver/clip_*.c) against values worked out
 * by hand from their formulas (README "Clip policies"), stepped as the solver
 * steps them (clip_fixture.h): value, lr_adjusted, adaptive (AGC), percentile
 * (AutoClip), zscore (ZClip), auto; their state round trip in memory; their
 * parameter errors. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "clip_fixture.h"

/* Two blobs of 3 and 4 elements, both 1-D. */
static CliffNetParam two[2] = {
    {.name = "a/0", .offset = 0, .count = 3, .lr_mult = 1, .decay_mult = 1},
    {.name = "a/1", .offset = 3, .count = 4, .lr_mult = 1, .decay_mult = 1},
};

static void test_value(void)
{
    float w[7] = {0};
    float g[7] = {3, -0.5f, 0.2f, -4, 1, 2, 0};
    FxClip fx;
    CHECK(fx_clip_open(&fx, "value", 1.0, two, 2, w, g, 7, NULL) == 0);
    /* 3, -4 and 2 are beyond 1; the hardest cut is 1/4 */
    CHECK(fx_clip_step(&fx, 0.1, 0) == 0.25);
    const float want[7] = {1, -0.5f, 0.2f, -1, 1, 1, 0};
    CHECK(memcmp(g, want, sizeof g) == 0);
    CHECK(fx.clip->last.clipped == 3 && fx.clip->last.units == 7 && fx.clip->last.threshold == 1);
    /* within the bound: bit-identical, scale 1 */
    float h[7] = {0.5f, -0.25f, 1e-8f, 1, -1, 0.75f, 0};
    float copy[7];
    memcpy(copy, h, sizeof h);
    fx.net.grad_slab = h;
    CHECK(fx_clip_step(&fx, 0.1, 1) == 1.0 && fx.clip->last.clipped == 0);
    CHECK(memcmp(h, copy, sizeof h) == 0);
    fx_clip_close(&fx);
}

static void test_lr_adjusted(void)
{
    /* C 0.125 at lr 0.0625: bound 2; blob 1 has lr_mult 2: bound 1 */
    CliffNetParam p[2] = {two[0], two[1]};
    p[1].lr_mult = 2;
    float w[7] = {0};
    float g[7] = {3, -0.5f, 0.2f, -4, 1, 2, 0};
    FxClip fx;
    CHECK(fx_clip_open(&fx, "lr_adjusted", 0.125, p, 2, w, g, 7, NULL) == 0);
    CHECK(fx_clip_step(&fx, 0.0625, 0) == 0.25); /* min(2/3, 1/4) */
    const float want[7] = {2, -0.5f, 0.2f, -1, 1, 1, 0};
    CHECK(memcmp(g, want, sizeof g) == 0);
    CHECK(fx.clip->last.clipped == 3 && fx.clip->last.threshold == 2);
    /* the lr of the step counts: at lr 0.25 the bounds are 0.5 and 0.25 */
    float h[7] = {3, -0.5f, 0.2f, -4, 1, 2, 0};
    fx.net.grad_slab = h;
    CHECK(fx_clip_step(&fx, 0.25, 1) == 0.0625);
    const float want2[7] = {0.5f, -0.5f, 0.2f, -0.25f, 0.25f, 0.25f, 0};
    CHECK(memcmp(h, want2, sizeof h) == 0);
    /* a blob that is not trained (lr_mult 0) is not clamped */
    p[1].lr_mult = 0;
    float k[7] = {3, -0.5f, 0.2f, -4, 1, 2, 0};
    fx.net.grad_slab = k;
    fx_clip_step(&fx, 0.25, 2);
    CHECK(k[3] == -4 && k[5] == 2 && k[0] == 0.5f);
    fx_clip_close(&fx);
}

/* AGC on a layer "conv" (weight 2x3, bias 2) and a last layer "fc" (weight
 * 1x2): lambda 0.5, eps 0.5. */
static CliffTensor conv_w = {.num_axes = 2, .shape = {2, 3}, .count = 6};
static CliffTensor conv_b = {.num_axes = 1, .shape = {2}, .count = 2};
static CliffTensor fc_w = {.num_axes = 2, .shape = {1, 2}, .count = 2};
static CliffNetParam agc_params[3] = {
    {.name = "conv/0", .layer = 0, .offset = 0, .count = 6, .tensor = &conv_w, .lr_mult = 1},
    {.name = "conv/1", .layer = 0, .offset = 6, .count = 2, .tensor = &conv_b, .lr_mult = 1},
    {.name = "fc/0", .layer = 1, .offset = 8, .count = 2, .tensor = &fc_w, .lr_mult = 1},
};
static const char *const agc_layers[2] = {"conv", "fc"};

static void agc_slabs(float *w, float *g)
{
    /* conv rows: W (3,4,0) |W| 5, max 2.5; G (0.75,1,0) |G| 1.25: kept.
     *            W 0 -> eps: max 0.25; G (0,3,4) |G| 5: factor 0.05.
     * conv bias (one unit): W (1,0) max 0.5; G (0,2): factor 0.25.
     * fc row: W 0 -> max 0.25; G (100,100) |G| 100 sqrt 2. */
    const float W[10] = {3, 4, 0, 0, 0, 0, 1, 0, 0, 0};
    const float G[10] = {0.75f, 1, 0, 0, 3, 4, 0, 2, 100, 100};
    memcpy(w, W, sizeof W);
    memcpy(g, G, sizeof G);
}

static Cliff__GradClipParameter agc_param(void)
{
    Cliff__GradClipParameter cp = CLIFF__GRAD_CLIP_PARAMETER__INIT;
    cp.lambda = 0.5f;
    cp.eps = 0.5f;
    return cp;
}

static void test_adaptive(void)
{
    float w[10], g[10];
    agc_slabs(w, g);
    Cliff__GradClipParameter cp = agc_param();
    FxClip fx;
    CHECK(fx_clip_open_layers(&fx, "adaptive", -1, agc_params, 3, w, g, 10, &cp, agc_layers, 2) ==
          0);
    CHECK(fx_clip_step(&fx, 0.1, 0) == 0.05);
    CHECK(g[0] == 0.75f && g[1] == 1 && g[2] == 0);                    /* under: untouched */
    CHECK(g[3] == 0 && g[4] == (float)(3 * 0.05) && g[5] == (float)(4 * 0.05)); /* to 0.25 */
    CHECK(g[6] == 0 && g[7] == 0.5f);                                  /* bias as one unit */
    CHECK(g[8] == 100 && g[9] == 100); /* the last layer is left alone by default */
    CHECK(fx.clip->last.clipped == 2 && fx.clip->last.units == 3 && fx.clip->last.threshold == 0.5);
    fx_clip_close(&fx);

    /* exclude_last false: fc's row is clipped to 0.25 too */
    agc_slabs(w, g);
    cp.exclude_last = 0;
    CHECK(fx_clip_open_layers(&fx, "adaptive", -1, agc_params, 3, w, g, 10, &cp, agc_layers, 2) ==
          0);
    const double f = 0.25 / (100 * sqrt(2.0));
    CHECK(fx_clip_step(&fx, 0.1, 0) == f);
    CHECK(g[8] == (float)(100 * f) && fx.clip->last.units == 4 && fx.clip->last.clipped == 3);
    fx_clip_close(&fx);

    /* exclude by name: only fc is clipped */
    agc_slabs(w, g);
    char *names[1] = {(char *)"conv"};
    cp.n_exclude = 1;
    cp.exclude = names;
    CHECK(fx_clip_open_layers(&fx, "adaptive", -1, agc_params, 3, w, g, 10, &cp, agc_layers, 2) ==
          0);
    fx_clip_step(&fx, 0.1, 0);
    CHECK(g[4] == 3 && g[7] == 2 && g[8] == (float)(100 * f) && fx.clip->last.units == 1);
    fx_clip_close(&fx);

    /* an excluded name the net lacks */
    names[0] = (char *)"conv2";
    CHECK(fx_clip_open_layers(&fx, "adaptive", -1, agc_params, 3, w, g, 10, &cp, agc_layers, 2) <
          0);
    CHECK(strstr(fx.err.msg, "exclude names 'conv2', which is no layer with parameters") != NULL);
}

/* One 1-element blob: the global norm is |g[0]|. */
static CliffNetParam one[1] = {{.name = "x/0", .offset = 0, .count = 1, .lr_mult = 1}};

static double step_norm(FxClip *fx, float *g, float x, int iter)
{
    g[0] = x;
    return fx_clip_step(fx, 0.1, iter);
}

static void test_percentile(void)
{
    float w[1] = {0}, g[1];
    Cliff__GradClipParameter cp = CLIFF__GRAD_CLIP_PARAMETER__INIT;
    cp.percentile = 50;
    cp.history = 4;
    cp.warmup = 2;
    FxClip fx;
    CHECK(fx_clip_open(&fx, "percentile", -1, one, 1, w, g, 1, &cp) == 0);
    CHECK(cliff_clip_state_size(fx.clip) == 5);
    /* warm-up: 4 and 2 recorded, nothing clipped, no threshold yet */
    CHECK(step_norm(&fx, g, 4, 0) == 1.0 && fx.clip->last.warmup && isnan(fx.clip->last.threshold));
    CHECK(step_norm(&fx, g, 2, 1) == 1.0 && fx.clip->last.warmup);
    /* {2,4,8}: median 4 */
    CHECK(step_norm(&fx, g, 8, 2) == 0.5 && fx.clip->last.threshold == 4 && g[0] == 4);
    /* {2,4,6,8}: rank 1.5 -> 5 */
    CHECK(step_norm(&fx, g, 6, 3) == 5.0 / 6 && fx.clip->last.threshold == 5);
    /* the window is full: 4 leaves, {2,6,8,10} -> 7 */
    CHECK(step_norm(&fx, g, 10, 4) == 0.7 && fx.clip->last.threshold == 7);
    /* 2 leaves, {1,6,8,10} -> 7; 1 is under it */
    CHECK(step_norm(&fx, g, 1, 5) == 1.0 && fx.clip->last.threshold == 7 && g[0] == 1);

    /* the state carries on in another instance (what the ring and the
     * snapshot do): same thresholds from there on */
    double saved[5];
    memcpy(saved, cliff_clip_state(fx.clip), sizeof saved);
    FxClip fy;
    CHECK(fx_clip_open(&fy, "percentile", -1, one, 1, w, g, 1, &cp) == 0);
    CliffError err;
    CHECK(cliff_clip_state_restore(fy.clip, saved, 5, &err) == 0);
    const float next[4] = {9, 3, 7.5f, 12};
    for (int i = 0; i < 4; i++) {
        double a = step_norm(&fx, g, next[i], 6 + i), b = step_norm(&fy, g, next[i], 6 + i);
        CHECK(a == b && fx.clip->last.threshold == fy.clip->last.threshold);
    }
    /* {3,7.5,9,12} (6,8,10,1 left): 8.25 */
    CHECK(fy.clip->last.threshold == 8.25);
    /* bad states are refused, and change nothing */
    double bad[5] = {-1, 0, 0, 0, 0};
    CHECK(cliff_clip_state_restore(fy.clip, bad, 5, &err) < 0 && strstr(err.msg, "not a count"));
    bad[0] = 2;
    bad[2] = -3;
    CHECK(cliff_clip_state_restore(fy.clip, bad, 5, &err) < 0 && strstr(err.msg, "negative"));
    bad[2] = NAN;
    CHECK(cliff_clip_state_restore(fy.clip, bad, 5, &err) < 0 && strstr(err.msg, "not finite"));
    CHECK(cliff_clip_state_restore(fy.clip, bad, 4, &err) < 0 && strstr(err.msg, "has 4 values"));
    CHECK(memcmp(cliff_clip_state(fx.clip), cliff_clip_state(fy.clip), sizeof saved) == 0);
    fx_clip_close(&fx);
    fx_clip_close(&fy);

    /* clip_gradients: global-norm clipping during the warm-up, a cap after it */
    CHECK(fx_clip_open(&fx, "percentile", 3, one, 1, w, g, 1, &cp) == 0);
    CHECK(step_norm(&fx, g, 4, 0) == 0.75 && fx.clip->last.threshold == 3);
    CHECK(step_norm(&fx, g, 2, 1) == 1.0);
    CHECK(step_norm(&fx, g, 8, 2) == 3.0 / 8 && fx.clip->last.threshold == 3); /* min(4, 3) */
    fx_clip_close(&fx);
}

static void test_zscore(void)
{
    float w[1] = {0}, g[1];
    Cliff__GradClipParameter cp = CLIFF__GRAD_CLIP_PARAMETER__INIT;
    cp.alpha = 0.5f;
    cp.z_thresh = 2;
    cp.warmup = 2;
    FxClip fx;
    CHECK(fx_clip_open(&fx, "zscore", -1, one, 1, w, g, 1, &cp) == 0);
    const double *st = cliff_clip_state(fx.clip);
    CHECK(cliff_clip_state_size(fx.clip) == 3);
    /* warm-up 1, 3: mean 2, variance 1 */
    CHECK(step_norm(&fx, g, 1, 0) == 1.0 && fx.clip->last.warmup);
    CHECK(step_norm(&fx, g, 3, 1) == 1.0 && st[0] == 2 && st[1] == 2 && st[2] == 1);
    /* 3 is under 2 + 2*1: kept; mean 2.5, variance 0.5 + 0.5*0.25 = 0.625 */
    CHECK(step_norm(&fx, g, 3, 2) == 1.0 && fx.clip->last.threshold == 4 && !fx.clip->last.warmup);
    CHECK(st[1] == 2.5 && st[2] == 0.625);
    /* 10: z = 7.5 / sqrt(0.625) > 2, brought to 2.5 + 4 * 0.625 / 7.5 = 17/6 */
    double f = step_norm(&fx, g, 10, 3);
    CHECK_NEAR(f, 17.0 / 60, 1e-15);
    CHECK_NEAR(fx.clip->last.threshold, 2.5 + 2 * sqrt(0.625), 1e-15);
    CHECK_NEAR(g[0], 17.0 / 6, 1e-7);
    /* the statistics take the clipped norm: mean (2.5 + 17/6)/2 = 8/3,
     * variance 0.3125 + 0.5 * (17/6 - 8/3)^2 = 0.3125 + 1/72 */
    CHECK_NEAR(st[1], 8.0 / 3, 1e-15);
    CHECK_NEAR(st[2], 0.3125 + 1.0 / 72, 1e-15);

    /* resumed from the state: the same next steps */
    double saved[3];
    memcpy(saved, st, sizeof saved);
    FxClip fy;
    CliffError err;
    CHECK(fx_clip_open(&fy, "zscore", -1, one, 1, w, g, 1, &cp) == 0);
    CHECK(cliff_clip_state_restore(fy.clip, saved, 3, &err) == 0);
    const float next[3] = {2, 50, 3};
    for (int i = 0; i < 3; i++) {
        double a = step_norm(&fx, g, next[i], 4 + i), b = step_norm(&fy, g, next[i], 4 + i);
        CHECK(a == b && memcmp(cliff_clip_state(fx.clip), cliff_clip_state(fy.clip), 24) == 0);
    }
    double bad[3] = {2, -1, 1};
    CHECK(cliff_clip_state_restore(fy.clip, bad, 3, &err) < 0 &&
          strstr(err.msg, "non-negative moments"));
    fx_clip_close(&fx);
    fx_clip_close(&fy);

    /* clip_gradients caps the target: 10 goes to 2, not 17/6 */
    CHECK(fx_clip_open(&fx, "zscore", 2, one, 1, w, g, 1, &cp) == 0);
    step_norm(&fx, g, 1, 0);
    step_norm(&fx, g, 3, 1); /* warm-up: 3 > 2 is clipped at C */
    CHECK(fx.clip->last.scale == 2.0 / 3 && fx.clip->last.warmup);
    step_norm(&fx, g, 3, 2);
    CHECK(step_norm(&fx, g, 10, 3) == 0.2);
    fx_clip_close(&fx);

    /* a constant warm-up (variance 0): anything above the mean goes to it */
    CHECK(fx_clip_open(&fx, "zscore", -1, one, 1, w, g, 1, &cp) == 0);
    step_norm(&fx, g, 2, 0);
    step_norm(&fx, g, 2, 1);
    CHECK(step_norm(&fx, g, 4, 2) == 0.5 && step_norm(&fx, g, 1, 3) == 1.0);
    fx_clip_close(&fx);
}

static void test_auto_and_errors(void)
{
    float w[7] = {0}, g[7] = {0};
    FxClip fx;
    /* auto is one of the real policies */
    const CliffClipPolicy *a = cliff_clip_policy_find("auto");
    CHECK(fx_clip_open(&fx, "auto", a->alias->needs_threshold ? 1 : -1, two, 2, w, g, 7, NULL) ==
          0);
    CHECK(fx.clip && fx.clip->policy == a->alias);
    fx_clip_close(&fx);
    /* Caffe's two are off without clip_gradients; the new ones that clip at C
     * say that it is missing */
    CHECK(fx_clip_open(&fx, "per_param_norm", -1, two, 2, w, g, 7, NULL) == 0 && !fx.clip);
    CHECK(fx_clip_open(&fx, "value", -1, two, 2, w, g, 7, NULL) < 0);
    CHECK(strstr(fx.err.msg, "clip_policy 'value' clips at clip_gradients, which is not set"));
    CHECK(fx_clip_open(&fx, "lr_adjusted", -1, two, 2, w, g, 7, NULL) < 0);
    Cliff__GradClipParameter cp = CLIFF__GRAD_CLIP_PARAMETER__INIT;
    cp.percentile = 101;
    CHECK(fx_clip_open(&fx, "percentile", -1, two, 2, w, g, 7, &cp) < 0);
    CHECK(strstr(fx.err.msg, "percentile must be <= 100 (got 101)"));
    cp = (Cliff__GradClipParameter)CLIFF__GRAD_CLIP_PARAMETER__INIT;
    cp.alpha = 1;
    CHECK(fx_clip_open(&fx, "zscore", -1, two, 2, w, g, 7, &cp) < 0);
    CHECK(strstr(fx.err.msg, "alpha must be < 1"));
    cp = (Cliff__GradClipParameter)CLIFF__GRAD_CLIP_PARAMETER__INIT;
    cp.lambda = 0;
    CHECK(fx_clip_open(&fx, "adaptive", -1, two, 2, w, g, 7, &cp) < 0);
    CHECK(strstr(fx.err.msg, "lambda must be > 0"));
    cp = (Cliff__GradClipParameter)CLIFF__GRAD_CLIP_PARAMETER__INIT;
    cp.history = 0;
    CHECK(fx_clip_open(&fx, "percentile", -1, two, 2, w, g, 7, &cp) < 0);
    CHECK(strstr(fx.err.msg, "history must be >= 1"));
}

int main(void)
{
    RUN(test_value);
    RUN(test_lr_adjusted);
    RUN(test_adaptive);
    RUN(test_percentile);
    RUN(test_zscore);
    RUN(test_auto_and_errors);
    return test_main_end();
}
