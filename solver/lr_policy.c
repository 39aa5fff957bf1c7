/* The learning-rate policy table (formulas in lr_policy.h). Rates are computed
 * in double from the float config values and rounded to float once. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lr_policy.h"

static int need_gamma(const Cliff__SolverParameter *sp, const char *policy, CliffError *err)
{
    if (!sp->has_gamma)
        return cliff_error_set(err, "lr_policy '%s' needs gamma", policy);
    return 0;
}

static int need_stepsize(const Cliff__SolverParameter *sp, const char *policy, CliffError *err)
{
    if (!sp->has_stepsize)
        return cliff_error_set(err, "lr_policy '%s' needs stepsize", policy);
    return 0;
}

static int need_power(const Cliff__SolverParameter *sp, const char *policy, CliffError *err)
{
    if (!sp->has_power) return cliff_error_set(err, "lr_policy '%s' needs power", policy);
    return 0;
}

/* fixed */
static int fixed_check(const Cliff__SolverParameter *sp, CliffError *err)
{
    (void)sp, (void)err;
    return 0;
}
static float fixed_rate(const Cliff__SolverParameter *sp, int iter, int *cs)
{
    (void)iter, (void)cs;
    return sp->base_lr;
}

/* step */
static int step_check(const Cliff__SolverParameter *sp, CliffError *err)
{
    if (need_gamma(sp, "step", err) || need_stepsize(sp, "step", err)) return -1;
    if (sp->stepsize <= 0)
        return cliff_error_set(err, "lr_policy 'step' needs stepsize > 0 (got %d)",
                               (int)sp->stepsize);
    return 0;
}
static float step_rate(const Cliff__SolverParameter *sp, int iter, int *cs)
{
    *cs = iter / sp->stepsize;
    return (float)((double)sp->base_lr * pow((double)sp->gamma, (double)*cs));
}

/* exp */
static int exp_check(const Cliff__SolverParameter *sp, CliffError *err)
{
    return need_gamma(sp, "exp", err);
}
static float exp_rate(const Cliff__SolverParameter *sp, int iter, int *cs)
{
    (void)cs;
    return (float)((double)sp->base_lr * pow((double)sp->gamma, (double)iter));
}

/* inv */
static int inv_check(const Cliff__SolverParameter *sp, CliffError *err)
{
    if (need_gamma(sp, "inv", err) || need_power(sp, "inv", err)) return -1;
    return 0;
}
static float inv_rate(const Cliff__SolverParameter *sp, int iter, int *cs)
{
    (void)cs;
    return (float)((double)sp->base_lr *
                   pow(1.0 + (double)sp->gamma * (double)iter, -(double)sp->power));
}

/* multistep */
static int multistep_check(const Cliff__SolverParameter *sp, CliffError *err)
{
    if (need_gamma(sp, "multistep", err)) return -1;
    if (sp->n_stepvalue == 0)
        return cliff_error_set(err, "lr_policy 'multistep' needs at least one stepvalue");
    for (size_t i = 1; i < sp->n_stepvalue; i++)
        if (sp->stepvalue[i] <= sp->stepvalue[i - 1])
            return cliff_error_set(err,
                                   "lr_policy 'multistep': stepvalue must increase "
                                   "(stepvalue %zu = %d after %d)",
                                   i, (int)sp->stepvalue[i], (int)sp->stepvalue[i - 1]);
    return 0;
}
static float multistep_rate(const Cliff__SolverParameter *sp, int iter, int *cs)
{
    if (*cs >= 0 && (size_t)*cs < sp->n_stepvalue && iter >= sp->stepvalue[*cs]) (*cs)++;
    return (float)((double)sp->base_lr * pow((double)sp->gamma, (double)*cs));
}

/* poly */
static int poly_check(const Cliff__SolverParameter *sp, CliffError *err)
{
    if (need_power(sp, "poly", err)) return -1;
    if (sp->max_iter <= 0)
        return cliff_error_set(err, "lr_policy 'poly' needs max_iter > 0");
    return 0;
}
static float poly_rate(const Cliff__SolverParameter *sp, int iter, int *cs)
{
    (void)cs;
    return (float)((double)sp->base_lr *
                   pow(1.0 - (double)iter / (double)sp->max_iter, (double)sp->power));
}

/* sigmoid */
static int sigmoid_check(const Cliff__SolverParameter *sp, CliffError *err)
{
    if (need_gamma(sp, "sigmoid", err) || need_stepsize(sp, "sigmoid", err)) return -1;
    return 0;
}
static float sigmoid_rate(const Cliff__SolverParameter *sp, int iter, int *cs)
{
    (void)cs;
    return (float)((double)sp->base_lr /
                   (1.0 + exp(-(double)sp->gamma * ((double)iter - (double)sp->stepsize))));
}

static const CliffLrPolicy policies[] = {
    {"fixed", fixed_check, fixed_rate},       {"step", step_check, step_rate},
    {"exp", exp_check, exp_rate},             {"inv", inv_check, inv_rate},
    {"multistep", multistep_check, multistep_rate}, {"poly", poly_check, poly_rate},
    {"sigmoid", sigmoid_check, sigmoid_rate},
};

const CliffNameTable cliff_lr_policy_table = CLIFF_NAME_TABLE(policies, CliffLrPolicy, name);

const CliffLrPolicy *cliff_lr_policy_find(const char *name)
{
    return cliff_names_find(&cliff_lr_policy_table, name ? name : "fixed");
}

const CliffLrPolicy *cliff_lr_policy_load(const Cliff__SolverParameter *sp, CliffError *err)
{
    const CliffLrPolicy *p = cliff_lr_policy_find(sp->lr_policy);
    if (!p) {
        cliff_error_unknown_name(err, "lr_policy", sp->lr_policy, &cliff_lr_policy_table);
        return NULL;
    }
    if (p->check(sp, err)) return NULL;
    return p;
}
