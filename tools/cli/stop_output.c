/* The stream of stop_output.h: fopencookie over a non-blocking descriptor,
 * waiting for room with poll while no stop is requested. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "stop_output.h"

static volatile sig_atomic_t stopping;
/* A write has dropped bytes while stopping: later writes do not wait. */
static int gave_up;

void stop_output_stopping(void) { stopping = 1; }

/* Writes buf[0..n) to the descriptor; returns n (while stopping, some of it
 * may have been dropped), or -1 for a write error other than a full pipe. */
static ssize_t out_write(void *cookie, const char *buf, size_t n)
{
    const int fd = (int)(intptr_t)cookie;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, buf + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return done ? (ssize_t)done : -1;
        if (stopping && gave_up) break;
        struct pollfd p = {fd, POLLOUT, 0};
        int ready = poll(&p, 1, stopping ? STOP_OUTPUT_WAIT_MS : STOP_OUTPUT_SLICE_MS);
        if (ready == 0 && stopping) {
            gave_up = 1;
            break;
        }
    }
    return (ssize_t)n;
}

FILE *stop_output_open(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return NULL;
    cookie_io_functions_t io = {.write = out_write};
    return fopencookie((void *)(intptr_t)fd, "w", io);
}
