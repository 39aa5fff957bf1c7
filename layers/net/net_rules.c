/* Caffe's NetState / NetStateRule logic: which layers a net of a given phase,
 * level and stages includes. */
#include <string.h>

#include "net.h"

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
