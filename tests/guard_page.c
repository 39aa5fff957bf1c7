#include "guard_page.h"

#include <sys/mman.h>
#include <unistd.h>

float *guarded(size_t n, void **map, size_t *len)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t bytes = (n * sizeof(float) + page - 1) / page * page;
    *len = bytes + page;
    char *m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    mprotect(m + bytes, page, PROT_NONE);
    *map = m;
    return (float *)(m + bytes) - n;
}
