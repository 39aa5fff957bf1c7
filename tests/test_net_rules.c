/* NetStateRule filtering (layers/net_rules.c, Caffe's FilterNet and
 * StateMeetsRule): phase, stage, not_stage, min/max level, include vs exclude,
 * several rules, and the merge of the net's own state with the solver's. */
#include "net_fixture.h"

/* Input layers that differ only in their rules; each has its own top. */
#define RULE_LAYER(name, rules)                                                       \
    "layer { name: \"" name "\" type: \"Input\" top: \"" name "\" " rules            \
    " input_param { shape { dim: 1 } } }\n"
static const char *rules_net =
    RULE_LAYER("always", "")
    RULE_LAYER("train_only", "include { phase: TRAIN }")
    RULE_LAYER("test_only", "include { phase: TEST }")
    RULE_LAYER("not_test", "exclude { phase: TEST }")
    RULE_LAYER("stage_a", "include { stage: \"a\" }")
    RULE_LAYER("stages_a_b", "include { stage: \"a\" stage: \"b\" }")
    RULE_LAYER("not_stage_a", "include { not_stage: \"a\" }")
    RULE_LAYER("exclude_b", "exclude { stage: \"b\" }")
    RULE_LAYER("level_ge_2", "include { min_level: 2 }")
    RULE_LAYER("level_le_1", "include { max_level: 1 }")
    RULE_LAYER("level_1_to_2", "include { min_level: 1 max_level: 2 }")
    RULE_LAYER("train_or_a", "include { phase: TRAIN } include { stage: \"a\" }")
    RULE_LAYER("test_and_a", "include { phase: TEST stage: \"a\" }")
    RULE_LAYER("exclude_test_or_b", "exclude { phase: TEST } exclude { stage: \"b\" }");

static const char *rule_names[] = {
    "always",     "train_only", "test_only",    "not_test",   "stage_a",
    "stages_a_b", "not_stage_a", "exclude_b",   "level_ge_2", "level_le_1",
    "level_1_to_2", "train_or_a", "test_and_a", "exclude_test_or_b",
};
#define NRULES (int)(sizeof rule_names / sizeof *rule_names)

/* Builds rules_net (with an optional net-level state prefix) and compares the
 * included layers with `want`, a string of 0/1 in rule_names order. */
static void check_rules(const char *own_state, int phase, const Cliff__NetState *extra,
                        const char *want)
{
    char *text = NULL;
    if (asprintf(&text, "%s%s", own_state, rules_net) < 0) return;
    NetFx fx;
    CliffNet *net = nfx_build_ok(&fx, text, phase, extra);
    if (net) {
        char got[NRULES + 1];
        for (int i = 0; i < NRULES; i++)
            got[i] = cliff_net_layer_index(net, rule_names[i]) >= 0 ? '1' : '0';
        got[NRULES] = 0;
        if (strcmp(got, want) != 0) CHECK_FAILF("included %s, expected %s", got, want);
        int ones = 0;
        for (const char *c = want; *c; c++) ones += *c == '1';
        CHECK(net->nlayers == ones);
    }
    nfx_free(&fx);
    free(text);
}

static void test_rules_phase_only(void)
{
    /*            always train_only test_only not_test stage_a stages_a_b not_stage_a
     *            exclude_b level_ge_2 level_le_1 level_1_to_2 train_or_a test_and_a
     *            exclude_test_or_b */
    check_rules("", CLIFF__PHASE__TRAIN, NULL, "11010011010101");
    check_rules("", CLIFF__PHASE__TEST, NULL, "10100011010000");
}

static void test_rules_stage_and_level_from_extra_state(void)
{
    Cliff__NetState st = CLIFF__NET_STATE__INIT;
    char *stages[] = {"a"};
    st.stage = stages;
    st.n_stage = 1;
    st.has_level = 1;
    st.level = 2;
    check_rules("", CLIFF__PHASE__TEST, &st, "10101001101110");
    st.level = 1;
    check_rules("", CLIFF__PHASE__TRAIN, &st, "11011001011101");
}

/* The net's own state merges with the extra state: stages accumulate, the
 * extra state's level wins. */
static void test_rules_net_state_merges_with_extra(void)
{
    Cliff__NetState st = CLIFF__NET_STATE__INIT;
    char *stages[] = {"a"};
    st.stage = stages;
    st.n_stage = 1;
    check_rules("state { stage: \"b\" level: 3 }\n", CLIFF__PHASE__TEST, &st,
                "10101100100110");
    st.has_level = 1;
    st.level = 0;
    check_rules("state { stage: \"b\" level: 3 }\n", CLIFF__PHASE__TEST, &st,
                "10101100010110");
}

/* The rule predicate itself, on single rules. */
static void test_rules_predicate(void)
{
    Cliff__NetState st = CLIFF__NET_STATE__INIT;
    char *stages[] = {"x", "y"};
    st.phase = CLIFF__PHASE__TEST;
    st.stage = stages;
    st.n_stage = 2;
    st.level = 5;
    Cliff__NetStateRule r = CLIFF__NET_STATE_RULE__INIT;
    CHECK(cliff_net_state_meets_rule(&st, &r)); /* an empty rule is met */
    r.has_phase = 1;
    r.phase = CLIFF__PHASE__TRAIN;
    CHECK(!cliff_net_state_meets_rule(&st, &r));
    r.phase = CLIFF__PHASE__TEST;
    CHECK(cliff_net_state_meets_rule(&st, &r));
    r.has_min_level = 1;
    r.min_level = 5;
    CHECK(cliff_net_state_meets_rule(&st, &r)); /* bounds are inclusive */
    r.min_level = 6;
    CHECK(!cliff_net_state_meets_rule(&st, &r));
    r.has_min_level = 0;
    r.has_max_level = 1;
    r.max_level = 5;
    CHECK(cliff_net_state_meets_rule(&st, &r));
    r.max_level = 4;
    CHECK(!cliff_net_state_meets_rule(&st, &r));
    r.has_max_level = 0;
    char *need[] = {"y", "x"}, *missing[] = {"x", "z"};
    r.stage = need;
    r.n_stage = 2;
    CHECK(cliff_net_state_meets_rule(&st, &r)); /* all stages present, any order */
    r.stage = missing;
    CHECK(!cliff_net_state_meets_rule(&st, &r));
    r.n_stage = 0;
    r.not_stage = missing; /* "x" is present */
    r.n_not_stage = 2;
    CHECK(!cliff_net_state_meets_rule(&st, &r));
    r.not_stage = missing + 1; /* only "z": absent */
    r.n_not_stage = 1;
    CHECK(cliff_net_state_meets_rule(&st, &r));
}

int main(void)
{
    RUN(test_rules_phase_only);
    RUN(test_rules_stage_and_level_from_extra_state);
    RUN(test_rules_net_state_merges_with_extra);
    RUN(test_rules_predicate);
    return test_main_end();
}
