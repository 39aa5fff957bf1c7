/* Allocation in the net builder (internal to layers/net/ and its tests).
 *
 * Every allocation cliff_net_build makes itself goes through these, so a test
 * can make the Nth one fail and check that the build returns NULL with an
 * error and frees everything it made. The fault hook is always compiled in
 * and costs one counter per allocation; only tests set it. Allocations made by
 * layer setup, tensors and fillers are theirs to check, not counted here.
 * Memory from these functions is freed with free(). */
#ifndef CLIFF_NET_ALLOC_H
#define CLIFF_NET_ALLOC_H

#include <stddef.h>

void *cliff_net_malloc(size_t size);
void *cliff_net_calloc(size_t n, size_t size);
void *cliff_net_realloc(void *p, size_t size);
/* strdup (NULL reads as "") and asprintf; NULL when out of memory. */
char *cliff_net_strdup(const char *s);
char *cliff_net_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Test hook: after cliff_net_alloc_fail_at(n) with n >= 1, the nth allocation
 * from then on fails (returns NULL) and the later ones succeed; n = 0 turns
 * the hook off. cliff_net_alloc_failed() tells whether the failure happened. */
void cliff_net_alloc_fail_at(long n);
int cliff_net_alloc_failed(void);

#endif
