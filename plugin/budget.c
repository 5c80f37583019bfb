/*
 * budget.c - see budget.h.
 */
#include "budget.h"

#include <string.h>

#include "config.h"

int64_t budget_ms(long ms)
{
	return (int64_t)ms * NS_PER_MS;
}

void budget_start(struct budget *b, const struct route *r, int64_t now)
{
	b->start_ns = now;
	b->timeout_ns = budget_ms(r->timeout_ms);
	b->deadline_ns = now + b->timeout_ns;
}

long budget_left_ms(const struct budget *b, int64_t now)
{
	int64_t left = (b->deadline_ns - now) / NS_PER_MS;

	return left > 0 ? (long)left : 1;
}

double budget_offset(const struct budget *b, int64_t t)
{
	return (double)(t - b->start_ns) / (double)NS_PER_S;
}

int64_t budget_cleanup_bound(const struct budget *b, int64_t now, int64_t want)
{
	int64_t latest = b->deadline_ns + BUDGET_PAST_NS;

	if (want > latest)
		want = latest;
	return want > now ? want : now;
}

int64_t budget_bounce_wait_until(const struct budget *b, int64_t inbox_ready)
{
	int64_t share = (b->deadline_ns - inbox_ready) / BUDGET_BOUNCE_SHARE;
	int64_t wait = share < BUDGET_BOUNCE_WAIT_NS ? share : BUDGET_BOUNCE_WAIT_NS;

	return inbox_ready + (wait > 0 ? wait : 0);
}

bool budget_stalled(int64_t since, int64_t now)
{
	return now - since >= BUDGET_STALL_NS;
}

int64_t budget_watch_gap(const int *gaps_ms, unsigned n_gaps, unsigned step, int64_t steady_ns,
                         int64_t poll_ns, int64_t watch_age_ns)
{
	int64_t quick;

	if (watch_age_ns >= BUDGET_QUICK_NS)
		return poll_ns;
	quick = step < n_gaps ? budget_ms(gaps_ms[step]) : steady_ns;
	return quick < poll_ns ? quick : poll_ns;
}

int64_t budget_idle_refresh(int64_t poll_ns)
{
	int64_t t = 5 * poll_ns;

	if (t < BUDGET_IDLE_REFRESH_MIN_NS)
		t = BUDGET_IDLE_REFRESH_MIN_NS;
	return t < BUDGET_IDLE_REFRESH_MAX_NS ? t : BUDGET_IDLE_REFRESH_MAX_NS;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The i-th smallest of n values (n <= 32), without changing them. */
static int64_t nth_smallest(const int64_t *v, unsigned n, unsigned i)
{
	int64_t sorted[32];

	memcpy(sorted, v, n * sizeof(*sorted));
	for (unsigned a = 1; a < n; a++)   /* a handful: insertion sort */
		for (unsigned b = a; b > 0 && sorted[b - 1] > sorted[b]; b--) {
			int64_t t = sorted[b];
			sorted[b] = sorted[b - 1];
			sorted[b - 1] = t;
		}
	return sorted[i];
}

void budget_learn_window(const int64_t *after, const int64_t *by, unsigned n, struct watch_window *out)
{
	unsigned k = n < 32 ? n : 32, skip = k >= 6 ? 1 : 0;
	int64_t lo, hi;

	memset(out, 0, sizeof(*out));
	if (k < BUDGET_LEARN_MIN)
		return;
	/* Where the intervals overlap (a steady delivery), there; else all of
	 * them (a delivery that varies more than the looks were apart). */
	lo = nth_smallest(after, k, k - 1 - skip);
	hi = nth_smallest(by, k, skip);
	if (hi <= lo) {
		lo = nth_smallest(after, k, skip);
		hi = nth_smallest(by, k, k - 1 - skip);
	}
	out->from = lo > BUDGET_LEARN_MARGIN_NS ? lo - BUDGET_LEARN_MARGIN_NS : 0;
	out->until = hi + BUDGET_LEARN_MARGIN_NS;
	out->gap = clamp((hi - lo) / 3, BUDGET_LEARN_GAP_MIN_NS, BUDGET_LEARN_GAP_MAX_NS);
}
