/*
 * clock.h - the two clocks of the program.  Durations always come from the
 * monotonic clock; the realtime clock is read once per cycle for the
 * timestamp.  Both return nanoseconds; they cannot fail on Linux for these
 * clock ids, so failure aborts loudly rather than producing a lying time.
 */
#ifndef MAIL_E2E_CLOCK_H
#define MAIL_E2E_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ns(void);
int64_t clock_real_ns(void);

#define NS_PER_MS 1000000LL
#define NS_PER_S  1000000000LL

#endif
