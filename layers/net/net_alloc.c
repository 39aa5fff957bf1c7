/* Allocation helpers of the net builder, with the test fault hook (net_alloc.h). */
#include "net_alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Allocations left before the one that fails (0: the hook is off); whether it
 * failed. Only tests set them; the builder is single-threaded. */
static long fault_countdown;
static int fault_fired;

void cliff_net_alloc_fail_at(long n)
{
    fault_countdown = n > 0 ? n : 0;
    fault_fired = 0;
}

int cliff_net_alloc_failed(void) { return fault_fired; }

/* 1 when this allocation is the one the test asked to fail. */
static int fault_now(void)
{
    if (fault_countdown == 0 || --fault_countdown > 0) return 0;
    fault_fired = 1;
    return 1;
}

void *cliff_net_malloc(size_t size) { return fault_now() ? NULL : malloc(size); }

void *cliff_net_calloc(size_t n, size_t size) { return fault_now() ? NULL : calloc(n, size); }

void *cliff_net_realloc(void *p, size_t size) { return fault_now() ? NULL : realloc(p, size); }

char *cliff_net_strdup(const char *s) { return fault_now() ? NULL : strdup(s ? s : ""); }

char *cliff_net_printf(const char *fmt, ...)
{
    if (fault_now()) return NULL;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}
