/* Test buffers that end at an unreadable page, so that a kernel reading past the
 * end of an operand it reads in place faults instead of passing unseen. */
#ifndef CLIFF_TEST_GUARD_PAGE_H
#define CLIFF_TEST_GUARD_PAGE_H

#include <stddef.h>

/* n floats ending exactly at a PROT_NONE page; *map and *len are what munmap
 * needs. NULL when the mapping fails. */
float *guarded(size_t n, void **map, size_t *len);

#endif
