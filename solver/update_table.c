/* The table of update rules and the regularization types (see update.h). */
#include <stdio.h>
#include <string.h>

#include "update.h"

static const CliffUpdateRule *const rules[] = {
    &cliff_update_sgd,     &cliff_update_nesterov, &cliff_update_adagrad,
    &cliff_update_rmsprop, &cliff_update_adadelta, &cliff_update_adam,
};

size_t cliff_update_rule_count(void) { return sizeof rules / sizeof rules[0]; }

const CliffUpdateRule *cliff_update_rule_at(size_t i)
{
    return i < cliff_update_rule_count() ? rules[i] : NULL;
}

const CliffUpdateRule *cliff_update_rule_find(const char *name)
{
    for (size_t i = 0; name && i < cliff_update_rule_count(); i++)
        if (strcmp(rules[i]->name, name) == 0) return rules[i];
    return NULL;
}

const char *cliff_update_rule_names(char *buf, size_t len)
{
    size_t used = 0;
    if (len) buf[0] = 0;
    for (size_t i = 0; i < cliff_update_rule_count() && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", rules[i]->name);
    return buf;
}

int cliff_reg_type_parse(const char *name, CliffError *err)
{
    if (!name || strcmp(name, "L2") == 0) return CLIFF_REG_L2;
    if (strcmp(name, "L1") == 0) return CLIFF_REG_L1;
    return cliff_error_set(err, "unknown regularization_type '%s' (known: L2, L1)", name);
}
