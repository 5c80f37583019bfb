#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t read_clock(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0) {
		fputs("E! clock_gettime failed\n", stderr);
		abort();
	}
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t clock_mono_ns(void) { return read_clock(CLOCK_MONOTONIC); }
int64_t clock_real_ns(void) { return read_clock(CLOCK_REALTIME); }
