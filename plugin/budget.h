/*
 * budget.h - the one owner of time: every deadline a probe keeps and every
 * timing constant it uses, in monotonic nanoseconds end to end.
 *
 * A route's budget starts when the route starts (after any wait for a
 * server slot) and ends `timeout` later: the deadline.  Everything else is
 * measured against it:
 *
 *   deadline - STALL ..... a command unanswered this long at the deadline
 *                          is a stalled server (imap_error), not a late
 *                          message (timeout)
 *   deadline + BACKSTOP .. libcurl enforces its own timeouts with the
 *                          route's; ours is a backstop just after them
 *   deadline + PAST ...... cleanup of a stalled connection is abandoned
 *
 * so `--once` ends within timeout + ONCE_SLACK (1 s) whatever a server does
 * (BACKSTOP + PAST = ONCE_SLACK; the README promises it).
 *
 * Contract: pure arithmetic over values the caller passes; no state, no
 * clock reads.  A struct budget is plain data owned by its probe.
 */
#ifndef MAIL_E2E_BUDGET_H
#define MAIL_E2E_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"

struct route;

/* --- a route's deadline and what hangs on it ------------------------------ */
#define BUDGET_ONCE_SLACK_NS   (1 * NS_PER_S)
#define BUDGET_BACKSTOP_NS     (250 * NS_PER_MS)
#define BUDGET_PAST_NS         (BUDGET_ONCE_SLACK_NS - BUDGET_BACKSTOP_NS)
#define BUDGET_STALL_NS        (1 * NS_PER_S)
/* After the verdict: LOGOUT (and deleting what the bounce watch gathered). */
#define BUDGET_FINISH_NS       (2 * NS_PER_S)
/* After the probe is found: its header block, deletion and LOGOUT. */
#define BUDGET_CLEANUP_NS      (5 * NS_PER_S)
/* The found probe's header block (SPEC §7): this long at most, and past
 * the deadline only as far as the cleanup bound allows. */
#define BUDGET_EVIDENCE_NS     (2 * NS_PER_S)
/* The send waits for the bounce watch to note UIDNEXT: this long at most,
 * and never more than BUDGET_BOUNCE_SHARE of the time left, so the SMTP
 * leg keeps most of its budget. */
#define BUDGET_BOUNCE_WAIT_NS  (3 * NS_PER_S)
#define BUDGET_BOUNCE_SHARE    4

/* --- connecting (conn_mismatch.c) ----------------------------------------- */
/* No greeting this long after the connect (at most half the connect
 * timeout): a side connection asks whether the port speaks TLS first. */
#define BUDGET_GREETING_PATIENCE_NS (2 * NS_PER_S)

/* --- how a mailbox is watched (watch.c) ------------------------------------ */
/* Quick looks right after the send: NOOPs at growing gaps, then steady.
 * The steady gap trades lag (about half of it at the median) against
 * commands (one per gap while a delivery is awaited): 95 ms keeps both of
 * issue 22's --once targets, measured in bench/RESULTS.md. */
#define BUDGET_QUICK_NS        (3 * NS_PER_S)
#define BUDGET_QUICK_STEADY_NS (95 * NS_PER_MS)
/* Junk-mailbox peeks (STATUS): far fewer than the NOOPs, a probe filed
 * as junk is rare. */
#define BUDGET_PEEK_STEADY_NS  (1 * NS_PER_S)
/* A watch that learnt the route's delivery times looks densely around
 * them: from LEARN_MIN samples on, LEARN_MARGIN either side, at gaps
 * between LEARN_GAP_MIN and LEARN_GAP_MAX. */
#define BUDGET_LEARN_MIN       4
#define BUDGET_LEARN_MARGIN_NS (10 * NS_PER_MS)
#define BUDGET_LEARN_GAP_MIN_NS (10 * NS_PER_MS)
#define BUDGET_LEARN_GAP_MAX_NS (50 * NS_PER_MS)
/* IDLE is left for a NOOP every 5 x poll_interval, within these bounds
 * (RFC 2177 asks for less than 29 minutes). */
#define BUDGET_IDLE_REFRESH_MIN_NS (5 * NS_PER_S)
#define BUDGET_IDLE_REFRESH_MAX_NS (300 * NS_PER_S)

struct budget {
	int64_t start_ns;      /* the route's start */
	int64_t deadline_ns;   /* start + timeout */
	int64_t timeout_ns;
};

void budget_start(struct budget *b, const struct route *r, int64_t now);
/* Milliseconds left for a libcurl transfer: at least 1. */
long budget_left_ms(const struct budget *b, int64_t now);
/* Seconds from the route's start, for the line's fields. */
double budget_offset(const struct budget *b, int64_t t);
/* The latest moment cleanup may go on: `want`, but never later than the
 * deadline + PAST, nor earlier than now. */
int64_t budget_cleanup_bound(const struct budget *b, int64_t now, int64_t want);
/* Until when the send may wait for the bounce watch, from the moment the
 * inbox was ready. */
int64_t budget_bounce_wait_until(const struct budget *b, int64_t inbox_ready);
/* A command unanswered since `since` at `now`: stalled? */
bool budget_stalled(int64_t since, int64_t now);
/* The n-th gap (0-based) of a schedule that grows through gaps_ms[] and
 * then stays at steady_ns, while the watch is young (< QUICK); poll_ns
 * after that, and never more than poll_ns. */
int64_t budget_watch_gap(const int *gaps_ms, unsigned n_gaps, unsigned step, int64_t steady_ns,
                         int64_t poll_ns, int64_t watch_age_ns);
/* When to look densely, as ages of the watch (ns since the SMTP reply):
 * from `from` to `until`, every `gap`; gap 0: nothing learnt yet. */
struct watch_window {
	int64_t from, until, gap;
};
/* The window from recent deliveries, each known to lie between after[i]
 * and by[i] (ns since the SMTP reply, pairs in any order): where all the
 * intervals overlap (a steady delivery), else from the earliest `after`
 * to the latest `by` (from 6 samples on, the most extreme bound of each
 * side is left out); widened by LEARN_MARGIN either side, looked at every
 * third of its span within LEARN_GAP_MIN..MAX.  Intervals, not the moments
 * found: a delivery found by a look 95 ms after the last empty one
 * happened anywhere in between, and windows learnt from the finding looks
 * alone started too late and took 8 cycles to creep back. */
void budget_learn_window(const int64_t *after, const int64_t *by, unsigned n, struct watch_window *out);
/* How long one IDLE lasts before a NOOP looks for itself. */
int64_t budget_idle_refresh(int64_t poll_ns);
/* ms (the config's unit) to ns. */
int64_t budget_ms(long ms);

#endif
