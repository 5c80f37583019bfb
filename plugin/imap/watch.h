/*
 * watch.h - the task that watches a selected mailbox for the probe.
 *
 * Servers tell a session about new mail in an untagged EXISTS, but when
 * differs: Dovecot answers a NOOP with it at once, yet holds IDLE news back
 * for 500 ms (NOTIFY_DELAY_MSECS in its mailbox-watch.c).  So the wait has
 * two parts (the gaps are budget.h's):
 *
 *  - quick: right after the SMTP reply, NOOPs 5 ms on, 45 ms later, then
 *    every 95 ms (never more than poll_interval; at once only on known
 *    news or for a slow or bounce watch) until 3 s have passed: a local
 *    delivery is seen within a few ms, a slower one within ~95 ms.  Few
 *    looks early: a NOOP sent at once never saw a local delivery here,
 *    and each look is a command on every probe (issue 22);
 *  - long: IDLE where the server offers it (idle = auto), left for a NOOP
 *    every 5 x poll_interval (5 s to 5 min), since some servers are slow to
 *    announce in IDLE; else a NOOP every poll_interval.
 *
 * Nothing is searched until something changed: an EXISTS that grows the
 * count makes one check,
 *   UID FETCH <first unchecked UID>:* (UID BODY.PEEK[HEADER.FIELDS (X-Mail-E2E-Probe)])
 * which looks only at messages that arrived since the last check and needs
 * no SEARCH, so servers whose header search cannot be trusted (Stalwart
 * refuses custom headers, Yahoo answers with nothing or NO) still find the
 * probe.  HEADER.FIELDS is the message's own header, never one quoted in a
 * bounce or a reply, and the value must equal the token.  A NOOP whose
 * last check is poll_interval old is followed by a check even without
 * news, in case a server is slow to announce.  `tries` counts the checks.
 * Every look starts with a NOOP: Courier notices new mail only on NOOP,
 * CHECK or IDLE, never on a FETCH.
 *
 * A long-running process learns each route's delivery times (`window`,
 * from budget_learn_window()): then nothing is sent until the probe is
 * nearly due, the looks are dense around when it is due, and the schedule
 * above takes over once that has passed without it.
 *
 * The inbox session also peeks at the junk mailbox (STATUS <junk>
 * (UIDNEXT), at 40 and 250 ms, then every second for 3 s, then every
 * poll_interval; with a window, from its end on; IDLE is left for it), so
 * a probe filed as junk is noticed without a second login.  Where the
 * server offers NOTIFY (RFC 5465) and no window is learnt, one NOTIFY SET
 * STATUS before the first look replaces the peeks: the junk mailbox's
 * state comes at once, its news as an untagged STATUS with any answer.
 *
 * A check other than the token's (the bounce watch's) comes as a `struct
 * watch_check`; it reports back through watch_check_done().
 *
 * Contract: the caller owns struct watch, fills the fields above "results"
 * and calls watch_start(); found(ctx) runs once when the check finds what
 * it looks for.  watch_stop() ends the watch (DONE if in IDLE, no more
 * timers) without a word to the caller.
 */
#ifndef MAIL_E2E_IMAP_WATCH_H
#define MAIL_E2E_IMAP_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "budget.h"
#include "probe_id.h"
#include "session.h"

#define WATCH_FOUND_MAX 16
#define WATCH_WHOLE_MAX 4               /* new messages a look reads whole */
#define WATCH_HEADER_MAX (64 * 1024)    /* a header block is read up to this */

struct watch;

struct watch_check {
	/* Look at UIDs from `from` on; call watch_check_done() when over. */
	void (*start)(void *ctx, struct imap_session *s, struct watch *w, uint32_t from);
	void *ctx;
};

struct watch {
	char token[PROBE_TOKEN_SIZE];   /* the probe's (token check) */
	uint32_t from;                        /* the first UID that may be it */
	bool look_first;                      /* check at once (mail may have come meanwhile) */
	const struct watch_check *check;      /* NULL: the token check */
	bool slow;                            /* no quick looks: reports are not timed */
	struct watch_window window;           /* learnt: look densely then (budget.h) */
	char peek[SESSION_MAILBOX_MAX];       /* the junk mailbox to peek at, "" none */
	uint32_t peek_floor;                  /* its UIDNEXT before the send */
	uint32_t exists_seen;                 /* the count the last look knew of */
	/* The probe's whole header block, when a look read it (may be NULL). */
	void (*header)(void *ctx, struct imap_session *s, const struct imap_fetch *f);
	void (*found)(void *ctx);
	void *ctx;
	/* results */
	uint32_t found_uids[WATCH_FOUND_MAX];
	size_t n_found;
	int64_t found_ns;          /* the EXISTS that made the finding check, or its reply */
	int64_t quiet_ns;          /* the last look sent that did not see it (the start at first) */
	int tries;                 /* token checks sent */
	bool used_idle;
	uint32_t junk_seen;        /* the junk mailbox's UIDNEXT as last seen */
	int64_t junk_moved_ns;     /* a peek first showed it grew, 0: not yet */
	/* state */
	struct imap_session *s;
	bool active, changed, idling, idle_refused, peeking, after_window;
	bool notified;             /* NOTIFY tells of the junk mailbox: no peeks */
	bool checking;             /* a token check awaits its reply */
	bool whole_look;           /* the check under way reads whole header blocks */
	bool no_whole;             /* the server refused that: token fields only */
	bool fields_next;          /* the next look reads token fields (a block was cut) */
	uint32_t cut_uid;          /* the first whole block cut without the token, 0: none */
	uint32_t check_from, check_top;
	int64_t start_ns, changed_ns, check_news_ns;
	int64_t last_check_ns, last_noop_ns, next_peek_ns, next_look_ns;
	unsigned quick_step, peek_step;
};

void watch_start(struct watch *w, struct imap_session *s, int64_t now);
void watch_stop(struct watch *w);
/* The external check is over: the next UID to look at, whether it found
 * what it looks for, and whether it left some new mail for the next
 * check (which then goes at once). */
void watch_check_done(struct watch *w, uint32_t next_from, bool found, bool more, int64_t now);
/* A token check awaits its reply, made for news the server gave before
 * `before`: what it finds arrived in time. */
bool watch_news_in_check(const struct watch *w, int64_t before);
/* Stop peeking at the junk mailbox (a junk session took over). */
void watch_stop_peeking(struct watch *w);
const char *watch_describe(const struct imap_session *s);

#endif
