/* Caffe's NetState / NetStateRule logic: which layers a net of a given phase,
 * level and stages includes. */
#include <stdlib.h>
#include <string.h>

#include "net_impl.h"

static int has_stage(const Cliff__NetState *state, const char *stage)
{
    for (size_t i = 0; i < state->n_stage; i++)
        if (strcmp(state->stage[i], stage) == 0) return 1;
    return 0;
}

int cliff_net_state_meets_rule(const Cliff__NetState *state, const Cliff__NetStateRule *rule)
{
    if (rule->has_phase && rule->phase != state->phase) return 0;
    if (rule->has_min_level && state->level < rule->min_level) return 0;
    if (rule->has_max_level && state->level > rule->max_level) return 0;
    for (size_t i = 0; i < rule->n_stage; i++)
        if (!has_stage(state, rule->stage[i])) return 0;
    for (size_t i = 0; i < rule->n_not_stage; i++)
        if (has_stage(state, rule->not_stage[i])) return 0;
    return 1;
}

/* Included when there are no include rules and no exclude rule is met, or when
 * some include rule is met (Caffe's FilterNet). */
int cliff_net_layer_included(const Cliff__NetState *state, const Cliff__LayerParameter *lp)
{
    int included = lp->n_include == 0;
    for (size_t i = 0; i < lp->n_exclude; i++)
        if (cliff_net_state_meets_rule(state, lp->exclude[i])) included = 0;
    for (size_t i = 0; i < lp->n_include; i++)
        if (cliff_net_state_meets_rule(state, lp->include[i])) included = 1;
    return included;
}

int cliff_net_state_merge(CliffMergedState *s, int phase, const Cliff__NetState *own,
                          const Cliff__NetState *extra)
{
    cliff__net_state__init(&s->st);
    s->st.phase = phase;
    s->st.has_phase = 1;
    size_t n = (own ? own->n_stage : 0) + (extra ? extra->n_stage : 0);
    s->stages = cliff_net_calloc(n + 1, sizeof *s->stages);
    if (!s->stages) return -1;
    const Cliff__NetState *srcs[2] = {own, extra};
    for (int k = 0; k < 2; k++) {
        const Cliff__NetState *src = srcs[k];
        if (!src) continue;
        if (src->has_phase) s->st.phase = src->phase;
        if (src->has_level) s->st.level = src->level;
        for (size_t i = 0; i < src->n_stage; i++) s->stages[s->st.n_stage++] = src->stage[i];
    }
    s->st.stage = s->stages;
    return 0;
}
