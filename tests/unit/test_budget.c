/*
 * test_budget.c - the watch's schedule arithmetic (budget.c): the window
 * learnt from recent deliveries, the quick gaps, the bounce wait and the
 * cleanup bound.  Times in ms here, ns inside.
 */
#include <stdint.h>

#include "budget.h"
#include "unit.h"

#define MS(x) ((int64_t)(x) * NS_PER_MS)

struct learn_case {
	const char *what;
	unsigned n;
	int64_t after_ms[8], by_ms[8];
	int64_t from_ms, until_ms, gap_ms;   /* gap 0: nothing learnt */
};

static const struct learn_case learn_cases[] = {
	{ "fewer than LEARN_MIN samples: nothing learnt", 3,
	  { 1000, 1000, 1000 }, { 1095, 1095, 1095 }, 0, 0, 0 },
	/* The case that made the change: four cycles found by the quick
	 * watch's 95 ms looks.  The window opens before the last empty look,
	 * not after the finding one (which was 80 ms after the delivery). */
	{ "coarse intervals: from the last empty look to the finding one", 4,
	  { 1000, 1000, 1000, 1000 }, { 1095, 1095, 1095, 1095 }, 990, 1105, 31 },
	{ "a steady delivery: one tight interval narrows the coarse ones", 5,
	  { 905, 905, 905, 905, 1000 }, { 1009, 1009, 1009, 1009, 1009 }, 990, 1019, 10 },
	{ "overlapping tight intervals: their overlap, at the smallest gap", 4,
	  { 1010, 1012, 1014, 1011 }, { 1020, 1022, 1024, 1021 }, 1004, 1030, 10 },
	{ "from 6 samples on, the most extreme bound each side is left out", 6,
	  { 400, 1000, 1005, 1010, 1000, 1002 }, { 1020, 1025, 1030, 1020, 1022, 3000 },
	  995, 1030, 10 },
	{ "deliveries that vary: no overlap, all of them, the gap at LEARN_GAP_MAX", 4,
	  { 500, 900, 1300, 1700 }, { 600, 1000, 1400, 1800 }, 490, 1810, 50 },
	{ "found at the first look: from the SMTP reply", 4,
	  { 0, 0, 0, 0 }, { 3, 4, 5, 3 }, 0, 13, 10 },
	{ "pairs out of order, no overlap: all of them", 5,
	  { 1030, 1000, 1020, 1010, 1040 }, { 1060, 1030, 1050, 1040, 1070 }, 990, 1080, 23 },
};

static void check_learn(void)
{
	for (size_t i = 0; i < sizeof(learn_cases) / sizeof(learn_cases[0]); i++) {
		const struct learn_case *c = &learn_cases[i];
		int64_t after[8], by[8];
		struct watch_window w;

		for (unsigned k = 0; k < c->n; k++) {
			after[k] = MS(c->after_ms[k]);
			by[k] = MS(c->by_ms[k]);
		}
		budget_learn_window(after, by, c->n, &w);
		CHECK(w.from == MS(c->from_ms) && w.until == MS(c->until_ms) && w.gap / NS_PER_MS == c->gap_ms,
		      "learn: %s (got %lld..%lld every %lld ms)", c->what, (long long)(w.from / NS_PER_MS),
		      (long long)(w.until / NS_PER_MS), (long long)(w.gap / NS_PER_MS));
	}
}

static void check_gaps(void)
{
	static const int gaps[] = { 5, 45 };
	static const struct { unsigned step; int64_t poll_ms, age_ms, want_ms; const char *what; } cases[] = {
		{ 0, 2000, 0, 5, "the first quick gap" },
		{ 1, 2000, 10, 45, "the second" },
		{ 2, 2000, 60, 95, "then the steady gap" },
		{ 9, 2000, 900, 95, "steady while young" },
		{ 9, 2000, 3000, 2000, "poll_interval once 3 s have passed" },
		{ 2, 50, 60, 50, "never more than poll_interval" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t g = budget_watch_gap(gaps, 2, cases[i].step, MS(95), MS(cases[i].poll_ms),
		                             MS(cases[i].age_ms));
		CHECK(g == MS(cases[i].want_ms), "watch gap: %s (%lld ms)", cases[i].what,
		      (long long)(g / NS_PER_MS));
	}
}

static void check_bounds(void)
{
	struct budget b = { .start_ns = 0, .timeout_ns = MS(30000), .deadline_ns = MS(30000) };
	int64_t w = budget_bounce_wait_until(&b, MS(1000));

	CHECK(w - MS(1000) <= BUDGET_BOUNCE_WAIT_NS && w - MS(1000) <= (MS(29000)) / BUDGET_BOUNCE_SHARE,
	      "bounce wait: within its cap and its share of the time left");
	CHECK(budget_bounce_wait_until(&b, MS(31000)) == MS(31000), "bounce wait: none past the deadline");
	CHECK(budget_cleanup_bound(&b, MS(100), MS(99999)) == MS(30000) + BUDGET_PAST_NS,
	      "cleanup: never past the deadline's grace");
	CHECK(budget_cleanup_bound(&b, MS(500), MS(100)) == MS(500), "cleanup: never before now");
}

int main(void)
{
	check_learn();
	check_gaps();
	check_bounds();
	return unit_done();
}
