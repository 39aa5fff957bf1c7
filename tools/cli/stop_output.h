/* An output stream that a stop cannot block: rank 0's stdout under mpirun.
 *
 * Once mpirun is signalled (SIGINT/SIGTERM) it stops reading what the ranks
 * print, then signals them T seconds later and kills them T seconds after
 * that. A rank that logs often fills its stdout pipe (64 KB) in that time and
 * blocks in write(); the other ranks wait for it in the next allreduce, and
 * the SIGKILL comes before the stop's snapshot. So under mpirun, train prints
 * rank 0's output through this stream:
 *   - before a stop is requested, a write waits for room as a blocking write
 *     would (nothing is lost), but in slices of STOP_OUTPUT_SLICE_MS, looking
 *     at the stop flag between them (the signal may be delivered to another
 *     thread, so the waiting one is not always interrupted);
 *   - once a stop is requested (stop_output_stopping, from the signal
 *     handler), a write that finds no room waits at most STOP_OUTPUT_WAIT_MS
 *     and drops what does not fit; after one such drop no write waits again
 *     (the reader is gone). A lost log line is the price; the snapshot is
 *     never blocked.
 * The descriptor is made non-blocking (O_NONBLOCK); on a regular file or a
 * terminal nothing changes in practice. */
#ifndef CLIFF_TOOLS_STOP_OUTPUT_H
#define CLIFF_TOOLS_STOP_OUTPUT_H

#include <stdio.h>

enum { STOP_OUTPUT_SLICE_MS = 100, STOP_OUTPUT_WAIT_MS = 200 };

/* A buffered stream writing to fd (which stays open after fclose), or NULL
 * (errno set). */
FILE *stop_output_open(int fd);
/* A stop was requested: writes stop waiting (see above). Async-signal-safe. */
void stop_output_stopping(void);

#endif
