/* Update rules: two steps of each rule on f(w) = 1/2 sum a_i w_i^2 (g = a*w),
 * w0 = (1, -2), a = (1, 0.5), against values derived independently (by hand
 * for SGD: w2 = (0.72, -1.715); NumPy float32 for the others, Caffe's formulas
 * in Caffe's order of operations), and weight decay; over ranges of many
 * vectors, the copies for each instruction set give the bits of a scalar twin. */
#include <string.h>

#include "check.h"
#include "layers/kernels/gemm.h"
#include "solver/update.h"

typedef struct Case {
    const char *rule;
    float lr;
    CliffUpdateHyper hp;
    float want_w[2], want_h0[2], want_h1[2];
} Case;

static const Case cases[] = {
    {"SGD", 0.1f, {0.9f, 0, 0, 0, 0}, {0.72f, -1.715f}, {0.18f, -0.185f}, {0, 0}},
    {"Nesterov", 0.1f, {0.9f, 0, 0, 0, 0}, {0.575100005f, -1.55704999f},
     {0.171000004f, -0.180500001f}, {0, 0}},
    {"AdaGrad", 0.1f, {0, 0, 1e-8f, 0, 0}, {0.833103538f, -1.83112502f},
     {1.80999994f, 1.90249991f}, {0, 0}},
    {"RMSProp", 0.1f, {0, 0, 1e-8f, 0.98f, 0}, {0.0922799557f, -0.906276107f},
     {0.021315705f, 0.0279578343f}, {0, 0}},
    /* delta large enough to matter: it is added after the square root. */
    {"AdaGrad", 0.1f, {0, 0, 0.5f, 0, 0}, {0.883365989f, -1.88220966f},
     {1.87111115f, 1.93444443f}, {0, 0}},
    {"RMSProp", 0.1f, {0, 0, 0.5f, 0.98f, 0}, {0.720687389f, -1.71072125f},
     {0.0338499397f, 0.036603421f}, {0, 0}},
    {"AdaDelta", 1.0f, {0.95f, 0, 1e-6f, 0, 0}, {0.991008759f, -1.99100375f},
     {0.097053811f, 0.0972766653f}, {1.97112195e-06f, 1.97336431e-06f}},
    {"Adam", 0.1f, {0.9f, 0.999f, 1e-8f, 0, 0}, {0.800412297f, -1.80016661f},
     {0.180000037f, -0.185000047f}, {0.00180897675f, 0.0019014756f}},
};

static void run_case(void *arg)
{
    const Case *c = arg;
    const CliffUpdateRule *r = cliff_update_rule_find(c->rule);
    CHECK(r != NULL);
    if (!r) return;
    const float a[2] = {1.0f, 0.5f};
    float w[2] = {1.0f, -2.0f}, g[2];
    /* Ping-pong history buffers, as the solver uses them. */
    float hist[2][2][2];
    memset(hist, 0, sizeof hist);
    int cur = 0;
    for (int it = 0; it < 2; it++) {
        CliffUpdateHyper hp = c->hp;
        hp.iter = it;
        for (int i = 0; i < 2; i++) g[i] = a[i] * w[i];
        const float *hin[2] = {hist[cur][0], hist[cur][1]};
        float *hout[2] = {hist[1 - cur][0], hist[1 - cur][1]};
        r->update(2, c->lr, &hp, g, hin, hout);
        for (int i = 0; i < 2; i++) w[i] -= g[i];
        cur = 1 - cur;
    }
    for (int i = 0; i < 2; i++) {
        CHECK_NEAR(w[i], c->want_w[i], 1e-6);
        CHECK_NEAR(hist[cur][0][i], c->want_h0[i], 1e-6);
        if (r->nhist > 1) CHECK_NEAR(hist[cur][1][i] / c->want_h1[i], 1.0, 1e-5); /* relative */
    }
}

/* In-place history (hin == hout) gives the same result: the rules read each
 * element before writing it. */
static void test_in_place_history(void)
{
    for (size_t k = 0; k < cliff_update_rule_table.n; k++) {
        const CliffUpdateRule *r = cliff_names_row(&cliff_update_rule_table, k);
        float h1[2][3] = {{0.1f, 0.2f, 0.3f}, {0.01f, 0.02f, 0.03f}};
        float h2[2][3], o[2][3];
        memcpy(h2, h1, sizeof h1);
        float g1[3] = {0.5f, -1.0f, 2.0f}, g2[3] = {0.5f, -1.0f, 2.0f};
        CliffUpdateHyper hp = {0.9f, 0.999f, 1e-8f, 0.98f, 3};
        const float *in1[2] = {h1[0], h1[1]};
        float *out1[2] = {o[0], o[1]};
        r->update(3, 0.1f, &hp, g1, in1, out1);
        const float *in2[2] = {h2[0], h2[1]};
        float *out2[2] = {h2[0], h2[1]};
        r->update(3, 0.1f, &hp, g2, in2, out2);
        for (int i = 0; i < 3; i++) {
            CHECK(g1[i] == g2[i]);
            for (int h = 0; h < r->nhist; h++) CHECK(o[h][i] == h2[h][i]);
        }
    }
}

static void test_table(void)
{
    const char *names[] = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"};
    const int nhist[] = {1, 1, 1, 1, 2, 2};
    CHECK(cliff_update_rule_table.n == 6);
    for (int i = 0; i < 6; i++) {
        const CliffUpdateRule *r = cliff_update_rule_find(names[i]);
        CHECK(r && r->nhist == nhist[i]);
    }
    CHECK(cliff_update_rule_find("sgd") == NULL);
    CHECK(cliff_update_rule_find("Adamax") == NULL);
    char buf[128];
    CHECK(strstr(cliff_names_list(&cliff_update_rule_table, buf, sizeof buf), "AdaDelta") != NULL);
}

static void test_rule_checks(void)
{
    Cliff__SolverParameter sp = CLIFF__SOLVER_PARAMETER__INIT;
    CliffError err;
    sp.has_momentum = 1;
    sp.momentum = 0.9f;
    CHECK(cliff_update_adagrad.check(&sp, &err) == -1);
    CHECK(strstr(err.msg, "momentum") != NULL);
    CHECK(cliff_update_rmsprop.check(&sp, &err) == -1);
    sp.momentum = 0;
    CHECK(cliff_update_adagrad.check(&sp, &err) == 0);
    CHECK(cliff_update_rmsprop.check(&sp, &err) == 0); /* default rms_decay 0.99 */
    sp.rms_decay = 1.0f;
    CHECK(cliff_update_rmsprop.check(&sp, &err) == -1);
}

static void test_weight_decay(void)
{
    float w[4] = {2.0f, -3.0f, 0.0f, 0.5f};
    float g[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    cliff_scale_and_decay(CLIFF_REG_L2, 4, 1.0f, 0.1f, w, g);
    CHECK_NEAR(g[0], 1.2, 1e-7);
    CHECK_NEAR(g[1], 0.7, 1e-7);
    CHECK(g[2] == 1.0f);
    CHECK_NEAR(g[3], 1.05, 1e-7);
    float h[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    cliff_scale_and_decay(CLIFF_REG_L1, 4, 1.0f, 0.1f, w, h);
    CHECK_NEAR(h[0], 1.1, 1e-7);
    CHECK_NEAR(h[1], 0.9, 1e-7);
    CHECK(h[2] == 1.0f); /* sign(0) = 0 */
    CHECK_NEAR(h[3], 1.1, 1e-7);
    /* with a clip factor: g = 0.5 g + decay w (L2), g = 0.5 g (no decay) */
    float c[4] = {1.0f, 2.0f, 4.0f, -8.0f};
    cliff_scale_and_decay(CLIFF_REG_L2, 4, 0.5f, 0.1f, w, c);
    CHECK_NEAR(c[0], 0.7, 1e-7);
    CHECK_NEAR(c[1], 0.7, 1e-7);
    CHECK(c[2] == 2.0f);
    CHECK_NEAR(c[3], -3.95, 1e-7);
    cliff_scale_and_decay(CLIFF_REG_L1, 4, 0.5f, 0.0f, w, c);
    CHECK_NEAR(c[0], 0.35, 1e-7);
    CHECK(c[2] == 1.0f);
    /* clip 1 and no decay: untouched, bit for bit */
    float keep[4] = {0.1f, -0.3f, 1e-20f, 7.0f}, copy[4];
    memcpy(copy, keep, sizeof keep);
    cliff_scale_and_decay(CLIFF_REG_L2, 4, 1.0f, 0.0f, w, keep);
    CHECK(memcmp(keep, copy, sizeof keep) == 0);
    CliffError err;
    CHECK(cliff_reg_type_parse("L1", &err) == CLIFF_REG_L1);
    CHECK(cliff_reg_type_parse("L2", &err) == CLIFF_REG_L2);
    CHECK(cliff_reg_type_parse("L3", &err) == -1);
}

/* Scalar twins of scale-and-decay (L2, L1) and of SGD's and Nesterov's
 * update, in the formulas' order (update.h, update_sgd.c, update_nesterov.c). */
#define LONG 1037 /* many vectors of every width, and a tail */
static float lw[LONG], lg[LONG], lh[LONG];

static void long_inputs(void)
{
    for (int i = 0; i < LONG; i++) {
        lw[i] = (float)((long long)i * 7919 % 2001 - 1000) / 337.0f; /* zeros and both signs */
        lg[i] = (float)((long long)i * 104729 % 1999 - 999) / 113.0f;
        lh[i] = (float)((long long)i * 15485863 % 997 - 498) / 59.0f;
    }
}

static void twin_decay(int l1, float f, float decay, float *g)
{
    for (int i = 0; i < LONG; i++) {
        const float s = l1 ? (float)((0.0f < lw[i]) - (lw[i] < 0.0f)) : lw[i];
        g[i] = decay == 0.0f ? (f != 1.0f ? g[i] * f : g[i]) : f * g[i] + decay * s;
    }
}

static void test_long_ranges_every_isa(void)
{
    long_inputs();
    const int isas[] = {CLIFF_ISA_GENERIC, CLIFF_ISA_AVX2, CLIFF_ISA_AVX512};
    for (int k = 0; k < 3; k++) {
        cliff_gemm_force_isa(isas[k]);
        const char *isa = cliff_gemm_isa_name(cliff_gemm_isa());
        /* scale-and-decay: L2 and L1 with a clip factor, the factor alone, and a
         * factor below 1e-30 applied in double */
        const struct {
            CliffRegType type;
            double factor;
            float decay;
        } sd[] = {{CLIFF_REG_L2, 0.5, 0.01f}, {CLIFF_REG_L1, 0.75, 0.02f},
                  {CLIFF_REG_L2, 0.25, 0.0f}, {CLIFF_REG_L2, 1e-31, 0.5f}};
        for (size_t c = 0; c < sizeof sd / sizeof sd[0]; c++) {
            static float got[LONG], want[LONG];
            memcpy(got, lg, sizeof lg);
            memcpy(want, lg, sizeof lg);
            cliff_scale_and_decay(sd[c].type, LONG, sd[c].factor, sd[c].decay, lw, got);
            float f = (float)sd[c].factor;
            if (sd[c].factor < 1e-30) {
                for (int i = 0; i < LONG; i++) want[i] = (float)((double)want[i] * sd[c].factor);
                f = 1.0f;
            }
            twin_decay(sd[c].type == CLIFF_REG_L1, f, sd[c].decay, want);
            if (memcmp(got, want, sizeof got))
                CHECK_FAILF("%s: scale-and-decay case %zu differs from its scalar twin", isa, c);
        }
        /* SGD and Nesterov into a separate history, as the solver calls them */
        const char *rules[] = {"SGD", "Nesterov"};
        for (int r = 0; r < 2; r++) {
            static float g[LONG], ho[LONG], wg[LONG], wh[LONG];
            const float lr = 0.03f, m = 0.9f;
            memcpy(g, lg, sizeof lg);
            const float *hin[1] = {lh};
            float *hout[1] = {ho};
            const CliffUpdateHyper hp = {m, 0, 0, 0, 0};
            cliff_update_rule_find(rules[r])->update(LONG, lr, &hp, g, hin, hout);
            for (int i = 0; i < LONG; i++) {
                const float v = lr * lg[i] + m * lh[i];
                wh[i] = v;
                wg[i] = r == 0 ? v : (1.0f + m) * v + (-m) * lh[i];
            }
            if (memcmp(g, wg, sizeof g) || memcmp(ho, wh, sizeof ho))
                CHECK_FAILF("%s: %s's long update differs from its scalar twin", isa, rules[r]);
        }
    }
    cliff_gemm_force_isa(-1);
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "update_two_steps_%s_delta_%g", cases[i].rule,
                 (double)cases[i].hp.delta);
        check_run_named(name, run_case, (void *)&cases[i]);
    }
    RUN(test_in_place_history);
    RUN(test_table);
    RUN(test_rule_checks);
    RUN(test_weight_decay);
    RUN(test_long_ranges_every_isa);
    return test_main_end();
}
