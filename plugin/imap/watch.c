/*
 * watch.c - how a selected mailbox is watched for the probe's token (see
 * imap_session.h).
 *
 * Servers tell a session about new mail in an untagged EXISTS, but when
 * differs: Dovecot answers a NOOP with it at once, yet holds IDLE news back
 * for 500 ms (NOTIFY_DELAY_MSECS in its mailbox-watch.c).  So the wait has
 * two parts:
 *
 *  - quick: right after the SMTP reply, NOOPs at growing gaps (at once,
 *    then 5, 10, 20, 40, 80 ms, then every 100 ms; never more than
 *    poll_interval) until 3 s have passed: a local delivery is seen within
 *    a few ms, a slower one within ~100 ms;
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
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "imap_session.h"
#include "log.h"
#include "message.h"

#define QUICK_NS (3 * NS_PER_S)
#define QUICK_STEADY_MS 100
#define IDLE_REFRESH_MIN_NS (5 * NS_PER_S)
#define IDLE_REFRESH_MAX_NS (300 * NS_PER_S)   /* RFC 2177 asks for < 29 min */
#define PEEK_STEADY_MS 500

static const int quick_gaps_ms[] = { 5, 10, 20, 40, 80 };
/* Fewer than the NOOPs: a probe filed as junk is rare, and each peek is a
 * command on every probe (make bench: 8 fewer per 3 s than at the NOOPs'
 * pace). */
static const int peek_gaps_ms[] = { 10, 40, 160 };

static bool use_idle(const struct imap_session *s)
{
	return s->has_idle && s->route->idle == IDLE_AUTO;
}

static int64_t poll_ns(const struct imap_session *s)
{
	return s->route->poll_interval_ms * NS_PER_MS;
}

/* How long one IDLE lasts before a NOOP looks for itself: some servers
 * announce late in IDLE (Debian's stock Courier, without FAM, every 60 s),
 * so this bounds the lag on any server at a few commands per refresh. */
static int64_t idle_refresh_ns(const struct imap_session *s)
{
	int64_t t = 5 * poll_ns(s);

	if (t < IDLE_REFRESH_MIN_NS)
		t = IDLE_REFRESH_MIN_NS;
	return t < IDLE_REFRESH_MAX_NS ? t : IDLE_REFRESH_MAX_NS;
}

static void send_check(struct imap_session *s, int64_t now)
{
	s->check_news_ns = s->changed ? s->t_last_exists_ns : 0;
	s->check_top = 0;
	s->changed = false;
	s->t_last_check_ns = now;
	if (s->role == IMAP_ROLE_BOUNCE) {
		bounce_send_check(s);   /* not a search for the probe: tries stays */
		return;
	}
	s->res.tries++;
	s->n_found = 0;
	session_send(s, PH_CHECK, "FETCH", "UID FETCH %u:* (UID BODY.PEEK[HEADER.FIELDS (%s)])",
	             s->check_from, MESSAGE_TOKEN_HEADER);
}

static void send_noop(struct imap_session *s, int64_t now)
{
	s->t_last_noop_ns = now;
	session_send(s, PH_NOOP, "NOOP", "NOOP");
}

/* The gap before the next look: growing from 5 ms to `steady` while the
 * watch is young, then poll_interval. */
static int64_t next_gap(const struct imap_session *s, int64_t now, const int *gaps, size_t n,
                        unsigned *step, int steady_ms)
{
	int64_t gap = poll_ns(s);

	if (now - s->t_watch_ns < QUICK_NS) {
		int64_t quick = (*step < n ? gaps[*step] : steady_ms) * NS_PER_MS;
		(*step)++;
		if (quick < gap)
			gap = quick;
	}
	return gap;
}

/* --- the junk mailbox, seen from the inbox session ----------------------
 * STATUS <junk> (UIDNEXT) at growing gaps (10 ms to 500 ms for 3 s, then
 * every poll_interval; IDLE is left for it), so a probe filed as junk is
 * noticed without a second login; the caller then opens a session there. */

static bool peek_due(const struct imap_session *s, int64_t now)
{
	return s->junk_peek && now >= s->next_peek_ns;
}

static void send_peek(struct imap_session *s)
{
	char mbox[600];

	session_quote(s->junk, mbox, sizeof(mbox));
	session_send(s, PH_PEEK, "STATUS", "STATUS %s (UIDNEXT)", mbox);
}

static void after_peek(struct imap_session *s, const struct imap_response *r, int64_t now)
{
	if (r->status != IMAP_ST_OK) {
		log_warn("%s: junk mailbox no longer watched: STATUS %s: %s", s->watch.label, s->junk,
		         r->rest);
		s->junk_peek = false;
	}
	s->next_peek_ns = now + next_gap(s, now, peek_gaps_ms,
	                                 sizeof(peek_gaps_ms) / sizeof(peek_gaps_ms[0]),
	                                 &s->peek_step, PEEK_STEADY_MS);
}

static void note_peek(struct imap_session *s, const char *text, int64_t now)
{
	uint32_t n;

	if (!imap_parse_status_uidnext(text, &n))
		return;
	s->junk_seen = n;
	if (n > s->junk_next && !s->junk_moved_ns)
		s->junk_moved_ns = now;
}

/* Nothing new yet: the next NOOP, IDLE, or a nap (until the next NOOP or
 * peek, whichever is first). */
static void wait_more(struct imap_session *s, int64_t now)
{
	int64_t gap = s->role == IMAP_ROLE_BOUNCE ? poll_ns(s)
	              : next_gap(s, now, quick_gaps_ms, sizeof(quick_gaps_ms) / sizeof(quick_gaps_ms[0]),
	                         &s->quick_step, QUICK_STEADY_MS);

	/* Delivery reports are not timed: the bounce watch waits in IDLE at once. */
	if ((now - s->t_watch_ns >= QUICK_NS || s->role == IMAP_ROLE_BOUNCE) && use_idle(s)) {
		session_send(s, PH_IDLE_START, "IDLE", "IDLE");
		return;
	}
	s->phase = PH_SLEEP;
	s->next_poll_ns = now + gap;
	if (s->junk_peek && s->next_peek_ns < s->next_poll_ns)
		s->next_poll_ns = s->next_peek_ns > now ? s->next_peek_ns : now;
}

/* A NOOP was answered (or a check came back empty): check if there is news
 * or, after a NOOP, if the last check is poll_interval old; else wait.
 * Every look starts with a NOOP: Courier notices new mail only on NOOP,
 * CHECK or IDLE, never on a FETCH. */
static void next_step(struct imap_session *s, int64_t now, bool after_noop)
{
	if (s->changed || (after_noop && now - s->t_last_check_ns >= poll_ns(s)))
		send_check(s, now);
	else if (peek_due(s, now))
		send_peek(s);
	else
		wait_more(s, now);
}

void watch_begin(struct imap_session *s, int64_t now)
{
	s->t_watch_ns = now;
	s->t_last_check_ns = now;
	s->check_from = s->uidnext;
	s->quick_step = 0;
	s->peek_step = 0;
	s->next_peek_ns = now;
	s->t_last_noop_ns = now;
	if (s->changed)
		send_check(s, now);
	else
		send_noop(s, now);
}

void watch_on_untagged(struct imap_session *s, const char *text, int64_t now)
{
	struct imap_fetched f;

	if (s->phase == PH_PEEK)
		note_peek(s, text, now);
	if (s->role == IMAP_ROLE_BOUNCE) {
		if (s->phase == PH_CHECK)
			bounce_on_check_untagged(s, text);
		else if (s->phase == PH_DSN)
			bounce_on_dsn_untagged(s, text);
		return;
	}
	if (s->phase != PH_CHECK || !imap_parse_fetch_probe(text, &f) || f.uid < s->check_from)
		return;
	if (f.uid >= s->uidnext && strcmp(f.token, s->token) == 0 && s->n_found < IMAP_MAX_FOUND) {
		bool dup = false;
		for (size_t i = 0; i < s->n_found; i++)
			dup |= s->found_uids[i] == f.uid;
		if (!dup)
			s->found_uids[s->n_found++] = f.uid;
	}
	if (f.uid + 1 > s->check_top)
		s->check_top = f.uid + 1;
}

void watch_on_news(struct imap_session *s, int64_t now)
{
	if (s->phase == PH_IDLING)
		session_send_done(s, now);
	else if (s->phase == PH_SLEEP)
		send_check(s, now);   /* the server told us unasked */
	/* else the command under way ends in next_step, which sees `changed` */
}

void watch_on_continuation(struct imap_session *s, int64_t now)
{
	if (s->phase != PH_IDLE_START)
		return;
	s->phase = PH_IDLING;
	s->res.used_idle = true;
	/* An EXISTS may come before the "+" (RFC 3501 §5.3: untagged data at
	 * any time): it is news all the same. */
	if (s->changed)
		session_send_done(s, now);
}

static const char *status_word(const struct imap_response *r)
{
	return r->status == IMAP_ST_NO ? "NO" : r->status == IMAP_ST_BAD ? "BAD" : "failed";
}

void watch_on_tagged(struct imap_session *s, const struct imap_response *r, int64_t now)
{
	bool ok = r->status == IMAP_ST_OK;

	switch (s->phase) {
	case PH_NOOP:
		if (!ok)
			session_fail(s, RESULT_IMAP_ERROR, "NOOP: %s %s", status_word(r), r->rest);
		else
			next_step(s, now, true);
		break;
	case PH_CHECK:
		if (!ok) {
			session_fail(s, RESULT_IMAP_ERROR, "FETCH: %s %s", status_word(r), r->rest);
			break;
		}
		if (s->check_top > s->check_from)
			s->check_from = s->check_top;
		if (s->role == IMAP_ROLE_BOUNCE) {
			if (!bounce_after_check(s))
				next_step(s, now, false);
		} else if (s->n_found > 0) {
			session_on_found(s, now);
		} else {
			next_step(s, now, false);
		}
		break;
	case PH_DSN:
		if (!ok)
			log_warn("%s: could not read delivery reports: %s %s", s->watch.label, status_word(r),
			         r->rest);
		if (!bounce_after_dsn(s, now))
			next_step(s, now, false);
		break;
	case PH_IDLE_START:
		/* IDLE refused outright: poll for the rest of this session. */
		log_debug("%s: IDLE refused (%s), polling", s->watch.label, r->rest);
		s->has_idle = false;
		s->res.used_idle = false;
		s->phase = PH_SLEEP;
		s->next_poll_ns = now;
		break;
	case PH_PEEK:
		after_peek(s, r, now);
		next_step(s, now, false);
		break;
	case PH_IDLING:
	case PH_IDLE_DONE:
		/* IDLE ended on news (look now), for a peek at the junk mailbox,
		 * or for its refresh (NOOP first). */
		if (s->changed)
			send_check(s, now);
		else if (peek_due(s, now) && now - s->t_last_noop_ns < idle_refresh_ns(s))
			send_peek(s);
		else
			send_noop(s, now);
		break;
	default:
		break;
	}
}

void watch_timer(struct imap_session *s, int64_t now)
{
	if (s->phase == PH_SLEEP && now >= s->next_poll_ns)
		send_noop(s, now);
	else if (s->phase == PH_IDLING &&
	         (now - s->t_last_noop_ns >= idle_refresh_ns(s) || peek_due(s, now)))
		session_send_done(s, now);
}

int64_t watch_next_timer(const struct imap_session *s)
{
	int64_t t;

	if (s->phase == PH_SLEEP)
		return s->next_poll_ns;
	if (s->phase != PH_IDLING)
		return 0;
	t = s->t_last_noop_ns + idle_refresh_ns(s);
	if (s->junk_peek && s->next_peek_ns < t)
		t = s->next_peek_ns;
	return t;
}

const char *watch_describe(const struct imap_session *s)
{
	if (use_idle(s))
		return "quick NOOPs for 3s, then IDLE";
	if (s->route->idle == IDLE_OFF)
		return "quick NOOPs for 3s, then polling (idle = off)";
	return "quick NOOPs for 3s, then polling (server offers no IDLE)";
}
