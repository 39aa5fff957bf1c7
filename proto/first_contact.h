/* Friendlier errors for a solver file that is not one (first_contact.c). */
#ifndef CLIFF_FIRST_CONTACT_H
#define CLIFF_FIRST_CONTACT_H

#include "cliff.pb-c.h"
#include "error.h"

/* After path failed to read as a solver: when it reads as a net definition
 * with layers, replaces err with an error that says so and shows a minimal
 * solver naming it, and returns -1; otherwise leaves err alone, returns 0. */
int cliff_solver_not_a_net(const char *path, const char *format, CliffError *err);

/* -1 with err filled when the solver read from path sets no field at all. */
int cliff_solver_check_empty(const char *path, const Cliff__SolverParameter *s, CliffError *err);

#endif
