/*
 * watch.c - see watch.h.
 */
#include "watch.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "budget.h"
#include "config.h"
#include "log.h"
#include "mail_header.h"
#include "message.h"

static const int quick_gaps_ms[] = { 5, 45 };
/* Fewer than the NOOPs: a probe filed as junk is rare, and each peek is a
 * command on every probe. */
static const int peek_gaps_ms[] = { 40, 210 };
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void next_step(struct watch *w, int64_t now, bool after_noop);
static void send_check(struct watch *w, int64_t now);

static int64_t poll_ns(const struct watch *w)
{
	return budget_ms(session_route(w->s)->poll_interval_ms);
}

static bool use_idle(const struct watch *w)
{
	return session_has(w->s, IMAP_CAP_IDLE) && session_route(w->s)->idle == IDLE_AUTO &&
	       !w->idle_refused;
}

static bool peek_due(const struct watch *w, int64_t now)
{
	return w->peeking && now >= w->next_peek_ns;
}

/* --- the token check -------------------------------------------------------- */

/* The message's own X-Mail-E2E-Probe field (never a header quoted in a
 * body, nor text in another field), its first word; "" without one. */
static void token_of(const char *block, size_t len, char *dst, size_t cap)
{
	const char *cursor = block;
	struct mail_field f;
	char value[PROBE_TOKEN_READ_SIZE + 8];

	dst[0] = '\0';
	while (mail_field_next(&cursor, block + len, &f))
		if (mail_field_is(&f, MESSAGE_TOKEN_HEADER)) {
			mail_unfold(f.value, f.value_len, value, sizeof(value));
			snprintf(dst, cap, "%.*s", (int)strcspn(value, " "), value);
			return;
		}
}

static void on_check(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct watch *w = ctx;
	const struct imap_fetch *f = &ev->fetch;
	char token[PROBE_TOKEN_READ_SIZE];

	(void)s;
	/* Only a reply to the check moves it on: a FETCH of flags about
	 * a message that came meanwhile must not hide it from the next. */
	if (ev->kind != IMAP_EV_FETCH || !f->has_uid || !f->has_body || f->uid < w->check_from)
		return;
	if (f->uid + 1 > w->check_top)
		w->check_top = f->uid + 1;
	if (f->uid < w->from || w->n_found >= WATCH_FOUND_MAX)
		return;
	token_of(f->body, f->body_len, token, sizeof(token));
	if (strcmp(token, w->token) != 0) {
		/* A header block past the buffer may hold the token past the cut:
		 * its token field alone is looked at again. */
		if (f->body_cut && (!w->cut_uid || f->uid < w->cut_uid))
			w->cut_uid = f->uid;
		return;
	}
	for (size_t i = 0; i < w->n_found; i++)
		if (w->found_uids[i] == f->uid)
			return;
	w->found_uids[w->n_found++] = f->uid;
	/* The whole header block came with the check: its evidence too. */
	if (w->n_found == 1 && strcasecmp(f->section, "BODY[HEADER]") == 0 && w->header)
		w->header(w->ctx, s, f);
}

static void found(struct watch *w, int64_t when)
{
	w->found_ns = when;
	watch_stop(w);
	w->found(w->ctx);
}

static void after_check(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct watch *w = ctx;

	if (!w->active)
		return;
	if (r->status != IMAP_ST_OK && w->whole_look) {
		/* Whole header blocks refused: the token field alone, from now on. */
		log_debug("%s: FETCH of whole header blocks refused (%s): token fields only",
		          session_label(s), r->text);
		w->no_whole = true;
		w->changed = true;
		w->changed_ns = w->check_news_ns;
		send_check(w, r->now);
		return;
	}
	if (r->status != IMAP_ST_OK) {
		session_fail(s, RESULT_IMAP_ERROR, "FETCH: %s %s", session_status_word(r), r->text);
		return;
	}
	w->whole_look = false;
	w->checking = false;
	if (w->check_top > w->check_from)
		w->check_from = w->check_top;
	if (w->cut_uid && w->n_found == 0) {
		w->check_from = w->cut_uid;
		w->fields_next = true;
		w->changed = true;
		w->changed_ns = w->check_news_ns;
	}
	w->cut_uid = 0;
	if (w->n_found == 0 && !w->changed)
		w->quiet_ns = w->last_check_ns;   /* every new UID read: not there then */
	if (w->n_found > 0)
		found(w, w->check_news_ns > w->start_ns ? w->check_news_ns : r->now);
	else
		next_step(w, r->now, false);
}

static const struct session_handler check_handler = { .on_event = on_check, .on_done = after_check };
static const struct session_handler check_whole_handler = {
	.on_event = on_check, .on_done = after_check, .keep_whole = WATCH_HEADER_MAX,
};

static void send_check(struct watch *w, int64_t now)
{
	const struct imap_selected *sel = session_selected(w->s);

	w->check_news_ns = w->changed ? w->changed_ns : 0;
	w->check_top = 0;
	w->changed = false;
	session_take_news(w->s, NULL);
	session_timer(w->s, 0, NULL, NULL);   /* woken early from a nap */
	w->last_check_ns = now;
	if (w->check) {
		w->check->start(w->check->ctx, w->s, w, w->check_from);   /* not a try */
		return;
	}
	w->tries++;
	w->n_found = 0;
	w->checking = true;
	/* A few new messages: their whole header blocks, so the probe's comes
	 * with the look that finds it (no FETCH of its own).  More: only the
	 * token field of each. */
	/* Only a look for news: a look on the poll timer seldom finds any. */
	w->whole_look = w->check_news_ns && sel->exists_known && sel->exists < w->exists_seen + WATCH_WHOLE_MAX &&
	                w->header && !w->no_whole && !w->fields_next;
	w->fields_next = false;
	if (w->whole_look) {
		w->exists_seen = sel->exists;
		session_cmd(w->s, &check_whole_handler, w, "UID FETCH %u:* (UID BODY.PEEK[HEADER])",
		            w->check_from);
		return;
	}
	w->exists_seen = sel->exists;
	session_cmd(w->s, &check_handler, w, "UID FETCH %u:* (UID BODY.PEEK[HEADER.FIELDS (%s)])",
	            w->check_from, MESSAGE_TOKEN_HEADER);
}

void watch_check_done(struct watch *w, uint32_t next_from, bool found_it, bool more, int64_t now)
{
	if (!w->active)
		return;
	if (next_from > w->check_from)
		w->check_from = next_from;
	if (more && !w->changed) {
		w->changed = true;
		w->changed_ns = now;
	}
	if (found_it)
		found(w, now);
	else
		next_step(w, now, false);
}

/* --- NOOP, sleep, IDLE --------------------------------------------------- */

static void after_noop(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct watch *w = ctx;

	if (!w->active)
		return;

	if (r->status != IMAP_ST_OK) {
		session_fail(s, RESULT_IMAP_ERROR, "NOOP: %s %s", session_status_word(r), r->text);
		return;
	}
	if (!w->changed)
		w->quiet_ns = w->last_noop_ns;   /* the probe was not there when it was sent */
	next_step(w, r->now, true);
}

static const struct session_handler noop_handler = { .on_done = after_noop };

static void send_noop(struct watch *w, int64_t now)
{
	w->last_noop_ns = now;
	session_cmd(w->s, &noop_handler, w, "NOOP");
}

static void on_sleep_over(struct imap_session *s, void *ctx, int64_t now)
{
	(void)s;
	send_noop(ctx, now);
}

static void on_idle_over(struct imap_session *s, void *ctx, int64_t now)
{
	(void)ctx;
	session_idle_done(s, now);
}

/* When an IDLE is left: for its refresh (a NOOP), or for a junk peek. */
static int64_t idle_until(const struct watch *w)
{
	int64_t t = w->last_noop_ns + budget_idle_refresh(poll_ns(w));

	return w->peeking && w->next_peek_ns < t ? w->next_peek_ns : t;
}

static void on_idle_continuation(struct imap_session *s, void *ctx, int64_t now)
{
	struct watch *w = ctx;

	w->idling = true;
	w->used_idle = true;
	/* An EXISTS may come before the "+" (RFC 3501 §5.3: untagged data at
	 * any time): it is news all the same. */
	if (w->changed)
		session_idle_done(s, now);
	else
		session_timer(s, idle_until(w), on_idle_over, w);
}

static void after_idle(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct watch *w = ctx;
	int64_t now = r->now;
	bool refused = !w->idling;

	if (!w->active)
		return;

	w->idling = false;
	session_timer(s, 0, NULL, NULL);
	if (refused) {
		/* IDLE refused outright: poll for the rest of this session. */
		log_debug("%s: IDLE refused (%s), polling", session_label(s), r->text);
		w->idle_refused = true;
		w->used_idle = false;
		session_timer(s, now, on_sleep_over, w);
	} else if (w->changed) {
		send_check(w, now);     /* IDLE ended on news: look now */
	} else if (peek_due(w, now) && now - w->last_noop_ns < budget_idle_refresh(poll_ns(w))) {
		next_step(w, now, false);
	} else {
		send_noop(w, now);      /* its refresh: a NOOP first */
	}
}

static const struct session_handler idle_handler = {
	.on_continuation = on_idle_continuation, .on_done = after_idle,
};

/* Nothing new yet: IDLE, or a nap until the next NOOP or peek. */
/* A learnt window not yet over: sleep until it opens, then look densely. */
static bool wait_window(struct watch *w, int64_t now)
{
	int64_t age = now - w->start_ns, until;

	if (!w->window.gap || age >= w->window.until)
		return false;
	until = age < w->window.from ? w->start_ns + w->window.from : now + w->window.gap;
	if (w->peeking && w->next_peek_ns < until)
		until = w->next_peek_ns > now ? w->next_peek_ns : now;
	session_timer(w->s, until, on_sleep_over, w);
	return true;
}

static void wait_more(struct watch *w, int64_t now)
{
	int64_t age = now - w->start_ns, gap, until;

	if (wait_window(w, now))
		return;
	if (w->window.gap && !w->after_window) {
		w->after_window = true;   /* missed it: the usual schedule from here */
		w->quick_step = 0;
	}

	gap = w->slow ? poll_ns(w)
	      : budget_watch_gap(quick_gaps_ms, N_OF(quick_gaps_ms), w->quick_step++,
	                         BUDGET_QUICK_STEADY_NS, poll_ns(w), age);
	if ((age >= BUDGET_QUICK_NS || w->slow) && use_idle(w)) {
		session_cmd(w->s, &idle_handler, w, "IDLE");
		return;
	}
	until = now + gap;
	if (w->peeking && w->next_peek_ns < until)
		until = w->next_peek_ns > now ? w->next_peek_ns : now;
	session_timer(w->s, until, on_sleep_over, w);
}

/* --- the junk mailbox, peeked at ---------------------------------------- */

/* The junk mailbox's UIDNEXT, from a peek or from NOTIFY. */
static void junk_status(struct watch *w, const struct imap_event *ev)
{
	if (ev->kind != IMAP_EV_STATUS || !ev->status.has_uidnext)
		return;
	w->junk_seen = ev->status.uidnext;
	if (ev->status.uidnext > w->peek_floor && !w->junk_moved_ns)
		w->junk_moved_ns = ev->now;
}

static void on_peek(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	(void)s;
	junk_status(ctx, ev);
}

static void after_peek(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct watch *w = ctx;
	int64_t now = r->now;

	if (!w->active)
		return;

	if (r->status != IMAP_ST_OK) {
		log_warn("%s: junk mailbox no longer watched: STATUS %s: %s", session_label(s), w->peek,
		         r->text);
		w->peeking = false;
	}
	w->next_peek_ns = now + budget_watch_gap(peek_gaps_ms, N_OF(peek_gaps_ms), w->peek_step++,
	                                         BUDGET_PEEK_STEADY_NS, poll_ns(w), now - w->start_ns);
	next_step(w, now, false);
}

static const struct session_handler peek_handler = { .on_event = on_peek, .on_done = after_peek };

static void send_peek(struct watch *w)
{
	char mbox[SESSION_MAILBOX_MAX * 2 + 4];

	session_quote(w->peek, mbox, sizeof(mbox));
	session_cmd(w->s, &peek_handler, w, "STATUS %s (UIDNEXT)", mbox);
}

/* --- the loop ---------------------------------------------------------------- */

/* A look is over: check if there is news or, after a NOOP, if the last
 * check is poll_interval old; else peek or wait. */
static void next_step(struct watch *w, int64_t now, bool after_noop)
{
	if (!w->active)
		return;
	if (w->changed || (after_noop && now - w->last_check_ns >= poll_ns(w)))
		send_check(w, now);
	else if (peek_due(w, now))
		send_peek(w);
	else
		wait_more(w, now);
}

/* The server said the count grew, whatever command ran; or, with
 * NOTIFY, that the junk mailbox changed. */
static void on_news(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct watch *w = ctx;

	if (w->active && w->notified && w->peek[0] && ev->kind == IMAP_EV_STATUS &&
	    strcmp(ev->status.name, w->peek) == 0)
		junk_status(w, ev);
	if (!w->active || ev->kind != IMAP_EV_EXISTS || (!ev->grew && !ev->first))
		return;
	w->changed = true;
	w->changed_ns = ev->now;
	if (w->idling)
		session_idle_done(s, ev->now);
	else if (!session_busy(s))
		send_check(w, ev->now);   /* asleep: the server told us unasked */
	/* else the command under way ends in next_step, which sees `changed` */
}

/* --- NOTIFY: the junk mailbox's news without peeks ------------------------ */

/* RFC 5465: the server tells of new mail in the junk mailbox (an untagged
 * STATUS) with the answer to any command, IDLE included, so the peeks go.
 * Not where a learnt window makes peeks rare anyway: it would cost more
 * than it saves. */
static bool wants_notify(const struct watch *w)
{
	return w->peeking && !w->window.gap && session_has(w->s, IMAP_CAP_NOTIFY);
}

/* The first look: at once where news is known; else the quick watch's
 * first NOOP 5 ms on (one sent at once never saw a local delivery here: it
 * lands 2-5 ms after the SMTP reply, measured on Dovecot). */
static void first_look(struct watch *w, int64_t now)
{
	if (w->changed)
		send_check(w, now);
	else if (wait_window(w, now))
		return;
	else if (w->slow)
		send_noop(w, now);
	else
		wait_more(w, now);
}

static void after_notify(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct watch *w = ctx;

	if (!w->active)
		return;
	if (r->status == IMAP_ST_OK) {
		w->notified = true;
		w->peeking = false;
	} else {
		log_debug("%s: NOTIFY refused (%s): the junk mailbox is peeked at", session_label(s), r->text);
		session_drop_cap(s, IMAP_CAP_NOTIFY);
	}
	w->changed = w->changed || session_take_news(s, &w->changed_ns);
	first_look(w, r->now);
}

/* The junk mailbox's state as the NOTIFY SET took effect (its STATUS
 * indicator): what came there before, the notifications never tell. */
static void on_notify_event(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct watch *w = ctx;

	(void)s;
	if (w->active && ev->kind == IMAP_EV_STATUS && strcmp(ev->status.name, w->peek) == 0)
		junk_status(w, ev);
}

static const struct session_handler notify_handler = { .on_event = on_notify_event, .on_done = after_notify };

/* STATUS: the server answers with the junk mailbox's STATUS at once (RFC
 * 5465 section 3.1), so a probe filed there between the UIDNEXT noted
 * before the send and this command is seen too (it was missed on a loaded
 * machine, and the route timed out). */
static void send_notify(struct watch *w)
{
	char mbox[SESSION_MAILBOX_MAX * 2 + 4];

	session_quote(w->peek, mbox, sizeof(mbox));
	session_cmd(w->s, &notify_handler, w,
	            "NOTIFY SET STATUS (selected (MessageNew MessageExpunge)) (mailboxes %s (MessageNew MessageExpunge))",
	            mbox);
}

void watch_start(struct watch *w, struct imap_session *s, int64_t now)
{
	w->s = s;
	w->active = true;
	w->start_ns = now;
	w->quiet_ns = now;
	w->last_check_ns = now;
	w->last_noop_ns = now;
	w->next_peek_ns = now;
	w->check_from = w->from;
	w->quick_step = w->peek_step = 0;
	w->idling = false;
	w->peeking = w->peek[0] != '\0';
	w->after_window = false;
	if (w->window.gap)
		w->next_peek_ns = now + w->window.until;
	w->changed = session_take_news(s, &w->changed_ns) || w->look_first;
	if (w->look_first && !w->changed_ns)
		w->changed_ns = now;
	w->notified = false;
	session_listen(s, on_news, w);
	if (wants_notify(w))
		send_notify(w);
	else
		first_look(w, now);
}

void watch_stop(struct watch *w)
{
	if (!w->active)
		return;
	w->active = false;
	session_listen(w->s, NULL, NULL);
	session_timer(w->s, 0, NULL, NULL);
	if (w->idling)
		session_idle_done(w->s, clock_mono_ns());
	w->idling = false;
}

bool watch_news_in_check(const struct watch *w, int64_t before)
{
	return w->active && w->checking && w->check_news_ns && w->check_news_ns < before;
}

void watch_stop_peeking(struct watch *w)
{
	w->peeking = false;
	w->peek[0] = '\0';
}

const char *watch_describe(const struct imap_session *s)
{
	const struct route *r = session_route(s);

	if (session_has(s, IMAP_CAP_IDLE) && r->idle == IDLE_AUTO)
		return "quick NOOPs for 3s, then IDLE";
	if (r->idle == IDLE_OFF)
		return "quick NOOPs for 3s, then polling (idle = off)";
	return "quick NOOPs for 3s, then polling (server offers no IDLE)";
}
