/* The one monotonic clock of the project: seconds since an arbitrary fixed
 * point (CLOCK_MONOTONIC), as a double. Only differences mean anything; a
 * double holds them to well under a microsecond for any uptime. Used for
 * timing layers, the solver's rates and ETA, and the thread pool's spin
 * limits. */
#ifndef CLIFF_CLOCK_H
#define CLIFF_CLOCK_H

double cliff_clock_seconds(void);

#endif
