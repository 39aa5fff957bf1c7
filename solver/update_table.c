/* The table of update rules and the regularization types (see update.h). */
#include "update.h"

static const CliffUpdateRule *const rules[] = {
    &cliff_update_sgd,     &cliff_update_nesterov, &cliff_update_adagrad,
    &cliff_update_rmsprop, &cliff_update_adadelta, &cliff_update_adam,
};

const CliffNameTable cliff_update_rule_table = CLIFF_NAME_TABLE_PTRS(rules, CliffUpdateRule, name);

const CliffUpdateRule *cliff_update_rule_find(const char *name)
{
    return cliff_names_find(&cliff_update_rule_table, name ? name : "SGD");
}

static const char *const reg_types[] = {[CLIFF_REG_L2] = "L2", [CLIFF_REG_L1] = "L1"};
static const CliffNameTable reg_type_table = CLIFF_NAME_TABLE_STRINGS(reg_types);

int cliff_reg_type_parse(const char *name, CliffError *err)
{
    const char *const *row = cliff_names_find(&reg_type_table, name ? name : "L2");
    if (!row) return cliff_error_unknown_name(err, "regularization_type", name, &reg_type_table);
    return (int)(row - reg_types);
}
