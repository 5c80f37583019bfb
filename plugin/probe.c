/*
 * probe.c - see probe.h.
 *
 * IMAP goes first: the mailbox is selected and UIDNEXT noted before the
 * message is sent, so only messages newer than the send can count, and the
 * watch can start the moment SMTP has its final reply.
 *
 * With check_junk the inbox session also notes the junk mailbox's UIDNEXT
 * and peeks at it with STATUS while it watches; a second session logs in
 * to the junk mailbox only when it is needed: when something landed there
 * during the watch, or when an earlier probe of ours may be there to sweep
 * (sweep_junk_due).  It is a bystander: where the probe is found decides
 * the `mailbox` tag, but a junk session that fails only costs a warning,
 * unless the user named the junk mailbox (imap_junk_mailbox), which then
 * has to work.
 *
 * With bounce_imap_host a third session watches the envelope sender's
 * mailbox for delivery reports (bounce.c).  The send waits for it to note
 * UIDNEXT, BOUNCE_WAIT_NS at most; a bounce watch that fails or is late
 * costs a warning and the probe goes on without it.
 */
#include "probe.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "imap.h"
#include "leg_token.h"
#include "log.h"
#include "message.h"
#include "probe_id.h"
#include "secret_file.h"
#include "smtp.h"
#include "verdict.h"

/* A command unanswered this long when the deadline hits is a stalled server
 * (imap_error), not a message that is merely late (timeout). */
#define STALL_NS (1 * NS_PER_S)
/* curl enforces its own timeouts; ours is a backstop just after them. */
#define BACKSTOP_NS (250 * NS_PER_MS)
/* How long the send waits for the bounce watch once the inbox is ready. */
#define BOUNCE_WAIT_NS (3 * NS_PER_S)

enum stage { ST_IMAP_PREP, ST_SMTP, ST_WATCH, ST_CLEANUP, ST_DONE };

struct probe {
	const struct route *route;
	CURLM *multi;
	enum stage stage;
	bool ready;
	int64_t t0_ns, deadline_ns;
	struct probe_result res;
	struct imap_session *imap;
	struct imap_session *junk;  /* NULL: not opened (not needed yet, or gave up) */
	int64_t junk_moved_ns;      /* the inbox session saw the junk mailbox grow */
	uint32_t junk_moved_next;   /* its UIDNEXT then */
	bool junk_opened;           /* a junk session was tried this cycle */
	struct imap_session *bounce;  /* NULL: no bounce watch (unset, or gave up) */
	int64_t inbox_ready_ns;     /* the inbox was ready, the bounce watch not yet */
	struct smtp_send *smtp;
	struct leg_token imap_token, smtp_token;   /* OAuth2 tokens on their way */
	char msgid_local[PROBE_ID_LOCAL_MAX];
	char *msg;
	size_t msg_len;
};

static double offset(const struct probe *p, int64_t t)
{
	return (double)(t - p->t0_ns) / (double)NS_PER_S;
}

static long remaining_ms(const struct probe *p, int64_t now)
{
	int64_t left = (p->deadline_ns - now) / NS_PER_MS;
	return left > 0 ? (long)left : 1;
}

/* The verdict is in: record it once; the line can be written. */
static void conclude(struct probe *p, enum result_class r, int64_t now, const char *error)
{
	if (p->ready)
		return;
	p->ready = true;
	leg_token_end(&p->imap_token);
	leg_token_end(&p->smtp_token);
	if (r == RESULT_IMAP_AUTH_FAILED || r == RESULT_SMTP_AUTH_FAILED)
		leg_token_refused(p->route, r == RESULT_IMAP_AUTH_FAILED);
	p->res.result = r;
	p->res.success = (int)r == p->route->expect;
	p->res.t_end = offset(p, now);
	if (r != RESULT_SUCCESS)
		snprintf(p->res.error, sizeof(p->res.error), "%s", error ? error : "");
	if (p->imap) {
		const struct imap_outcome *o = imap_outcome(p->imap);
		if (o->logged_in)
			p->res.tries = o->tries;
		if (o->scanned)
			p->res.late = o->late;
		imap_finish(p->imap, now, now + 2 * NS_PER_S);
	}
	if (p->route->ledger->late_pending && p->res.result != RESULT_INTERNAL_ERROR) {
		p->res.late = (p->res.late > 0 ? p->res.late : 0) + p->route->ledger->late_pending;
		p->route->ledger->late_pending = 0;
	}
	if (p->junk) {
		const struct imap_outcome *o = imap_outcome(p->junk);
		if (o->logged_in && p->res.tries >= 0)
			p->res.tries += o->tries;
		if (o->scanned && p->res.late >= 0)
			p->res.late += o->late;
		imap_finish(p->junk, now, now + 2 * NS_PER_S);
	}
	if (p->bounce) {
		const struct dsn_outcome *d = &imap_outcome(p->bounce)->dsn;
		p->res.delayed = d->delayed;
		if (d->failed)
			snprintf(p->res.dsn_status, sizeof(p->res.dsn_status), "%s", d->status);
		imap_finish(p->bounce, now, now + 2 * NS_PER_S);
	}
	p->stage = ST_CLEANUP;
}

/* The inbox session (and the bounce watch), with the leg's token if any;
 * the token is freed here (libcurl keeps its own copy). */
static void open_inbox(struct probe *p, char *token)
{
	const struct route *r = p->route;
	char err[RESULT_ERROR_MAX];
	long left = remaining_ms(p, clock_mono_ns());

	p->imap = imap_open(p->multi, r, IMAP_ROLE_INBOX, token, left, err, sizeof(err));
	secret_free(token);
	if (!p->imap) {
		conclude(p, RESULT_INTERNAL_ERROR, clock_mono_ns(), err);
		return;
	}
	if (r->bounce_imap_host) {
		p->bounce = imap_open(p->multi, r, IMAP_ROLE_BOUNCE, NULL, left, err, sizeof(err));
		if (!p->bounce)
			log_warn("%s: bounce mailbox not watched: %s", r->name, err);
	}
}

struct probe *probe_start(CURLM *multi, const struct route *r,
                          int64_t cycle_real_ns, int64_t queue_ns)
{
	struct probe *p = calloc(1, sizeof(*p));
	char err[RESULT_ERROR_MAX];
	char *token = NULL;

	if (!p)
		return NULL;
	p->route = r;
	p->multi = multi;
	/* The route's timeout and its times count from its own start. */
	p->t0_ns = clock_mono_ns();
	p->deadline_ns = p->t0_ns + r->timeout_ms * NS_PER_MS;
	result_init(&p->res, cycle_real_ns);
	p->res.queue_time = queue_ns > 0 ? (double)queue_ns / (double)NS_PER_S : 0;
	if (probe_id_mint(r->ledger, time(NULL), p->res.token, p->msgid_local) != 0) {
		conclude(p, RESULT_INTERNAL_ERROR, clock_mono_ns(), "no randomness for the token");
		return p;
	}
	p->res.t_imap_start = offset(p, clock_mono_ns());
	switch (leg_token_begin(&p->imap_token, multi, r, true, r->timeout_ms, &token, err, sizeof(err))) {
	case 1:
		open_inbox(p, token);
		break;
	case 0:
		break;   /* the inbox opens when the token comes (probe_step) */
	default:
		conclude(p, RESULT_IMAP_AUTH_FAILED, clock_mono_ns(), err);
	}
	return p;
}

bool probe_owns(const struct probe *p, CURL *easy)
{
	return (p->imap && imap_easy(p->imap) == easy) ||
	       (p->junk && imap_easy(p->junk) == easy) ||
	       (p->bounce && imap_easy(p->bounce) == easy) ||
	       (p->smtp && smtp_send_easy(p->smtp) == easy);
}

/* Record a leg's TLS version and the seconds its certificate has left
 * (negative when expired and insecure_skip_verify let it through). */
static void note_tls(char version[16], bool *known, int64_t *expiry,
                     const char *seen_version, int64_t not_after)
{
	snprintf(version, 16, "%s", seen_version);
	if (not_after) {
		*known = true;
		*expiry = not_after - (int64_t)time(NULL);
	}
}

/* The message goes out, with the leg's token if any (freed here). */
static void send_smtp(struct probe *p, char *token, int64_t now)
{
	char err[RESULT_ERROR_MAX];

	p->smtp = smtp_send_start(p->multi, p->route, token, p->msg, p->msg_len,
	                          remaining_ms(p, now), err, sizeof(err));
	secret_free(token);
	if (!p->smtp)
		conclude(p, RESULT_INTERNAL_ERROR, now, err);
}

static void start_smtp(struct probe *p, int64_t now)
{
	char err[RESULT_ERROR_MAX];
	char *token = NULL;

	p->msg = message_build(p->route->from, p->route->to, p->route->subject_prefix,
	                       p->route->name, p->res.token, p->msgid_local, time(NULL),
	                       &p->msg_len);
	if (!p->msg) {
		conclude(p, RESULT_INTERNAL_ERROR, now, "out of memory building the message");
		return;
	}
	p->stage = ST_SMTP;
	p->res.t_smtp_start = offset(p, now);
	switch (leg_token_begin(&p->smtp_token, p->multi, p->route, false, remaining_ms(p, now),
	                        &token, err, sizeof(err))) {
	case 1:
		send_smtp(p, token, now);
		break;
	case 0:
		break;   /* sent when the token comes (probe_step) */
	default:
		conclude(p, RESULT_SMTP_AUTH_FAILED, now, err);
	}
}

/* A token the built-in client was fetching has come (or failed). */
static void token_arrived(struct probe *p, bool imap, int64_t now)
{
	char err[RESULT_ERROR_MAX];
	char *token = NULL;

	switch (leg_token_poll(imap ? &p->imap_token : &p->smtp_token, &token, err, sizeof(err))) {
	case 1:
		if (imap)
			open_inbox(p, token);
		else
			send_smtp(p, token, now);
		break;
	case 0:
		break;
	default:
		conclude(p, imap ? RESULT_IMAP_AUTH_FAILED : RESULT_SMTP_AUTH_FAILED, now, err);
	}
}

static void smtp_done(struct probe *p, CURLcode code)
{
	struct smtp_outcome o;
	int64_t now = clock_mono_ns();

	smtp_send_finish(p->smtp, code, &o);
	note_tls(p->res.smtp_tls_version, &p->res.smtp_cert_known, &p->res.smtp_cert_expiry,
	         o.tls_version, o.cert_not_after);
	/* Free at once: the SMTP socket is cut before libcurl can park it. */
	smtp_send_free(p->smtp);
	p->smtp = NULL;
	p->res.smtp_code = o.code;
	snprintf(p->res.smtp_status, sizeof(p->res.smtp_status), "%s", o.status);
	if (!o.ok) {
		conclude(p, o.result, now, o.error);
		return;
	}
	p->res.t_smtp_done = offset(p, o.t_done_ns);
	p->res.t_imap_search_start = offset(p, now);
	p->stage = ST_WATCH;
	imap_watch(p->imap, p->res.token);
	if (p->junk)
		imap_watch(p->junk, p->res.token);
	else
		imap_peek_junk(p->imap, true);
	if (p->bounce)
		imap_watch(p->bounce, p->res.token);
}

/* A session in the junk mailbox, from the UIDNEXT the inbox session noted
 * before the send.  One that cannot even start costs a warning. */
static void open_junk(struct probe *p, int64_t now)
{
	const char *name;
	uint32_t floor;
	char err[RESULT_ERROR_MAX];
	char *token = NULL;
	struct leg_token lt;

	if (p->junk_opened || !imap_junk_status(p->imap, &name, &floor))
		return;
	p->junk_opened = true;
	imap_peek_junk(p->imap, false);
	switch (leg_token_begin(&lt, p->multi, p->route, true, remaining_ms(p, now), &token, err,
	                        sizeof(err))) {
	case 1:
		p->junk = imap_open(p->multi, p->route, IMAP_ROLE_JUNK, token, remaining_ms(p, now),
		                    err, sizeof(err));
		break;
	case 0:   /* the inbox's token expired meanwhile: not worth a wait */
		snprintf(err, sizeof(err), "no OAuth2 token at hand");
		leg_token_end(&lt);
		break;
	default:
		break;
	}
	secret_free(token);
	if (!p->junk) {
		log_warn("%s: junk mailbox not watched: %s", p->route->name, err);
		return;
	}
	imap_junk_target(p->junk, name, floor);
	if (p->stage == ST_WATCH)
		imap_watch(p->junk, p->res.token);
}

static void drop_bounce(struct probe *p, const char *why)
{
	log_warn("%s: bounce mailbox not watched: %s", p->route->name, why);
	imap_free(p->bounce);
	p->bounce = NULL;
}

/* The send waits for the bounce watch to note UIDNEXT, within reason. */
static bool bounce_lets_send(struct probe *p, int64_t now)
{
	enum imap_state b;

	if (!p->bounce)
		return true;
	b = imap_state(p->bounce);
	if (b == IMAP_READY || b == IMAP_ABSENT)
		return true;
	if (b == IMAP_FAILED) {
		drop_bounce(p, imap_outcome(p->bounce)->error);
		return true;
	}
	if (!p->inbox_ready_ns)
		p->inbox_ready_ns = now;
	if (now - p->inbox_ready_ns < BOUNCE_WAIT_NS)
		return false;
	drop_bounce(p, "IMAP server did not get ready in time");
	return true;
}

/* The inbox is selected: decide about the junk mailbox, then send. */
static void inbox_ready(struct probe *p, int64_t now)
{
	const char *name;
	uint32_t next;

	if (!bounce_lets_send(p, now))
		return;
	if (imap_junk_status(p->imap, &name, &next) && sweep_junk_due(p->route->ledger, next, time(NULL)))
		open_junk(p, now);
	start_smtp(p, now);
}

void probe_on_done(struct probe *p, CURL *easy, CURLcode code)
{
	if (p->smtp && smtp_send_easy(p->smtp) == easy) {
		smtp_done(p, code);
	} else if (p->imap && imap_easy(p->imap) == easy) {
		const struct imap_outcome *o;
		imap_connected(p->imap, code);
		o = imap_outcome(p->imap);
		note_tls(p->res.imap_tls_version, &p->res.imap_cert_known, &p->res.imap_cert_expiry,
		         o->tls_version, o->cert_not_after);
	} else if (p->junk && imap_easy(p->junk) == easy) {
		imap_connected(p->junk, code);
	} else if (p->bounce && imap_easy(p->bounce) == easy) {
		imap_connected(p->bounce, code);
	}
}

/* A junk session that failed: the verdict if the user named the junk
 * mailbox, else one warning and the probe goes on without it. */
static void junk_failed(struct probe *p, int64_t now)
{
	const struct imap_outcome *o = imap_outcome(p->junk);
	char why[RESULT_ERROR_MAX];

	if (p->route->imap_junk_mailbox) {
		snprintf(why, sizeof(why), "junk mailbox: %.200s", o->error);
		conclude(p, o->result, now, why);
		return;
	}
	log_warn("%s: junk mailbox not watched: %s", p->route->name, o->error);
	imap_free(p->junk);
	p->junk = NULL;
}

static void on_found(struct probe *p, struct imap_session *where)
{
	const struct imap_outcome *o = imap_outcome(where);
	bool junk = where == p->junk;
	struct imap_session *other = junk ? p->imap : p->junk;
	char why[RESULT_ERROR_MAX];

	snprintf(p->res.mailbox, sizeof(p->res.mailbox), "%s", junk ? "junk" : "inbox");
	int64_t t_found = o->t_found_ns;

	/* The inbox session's peek saw it land before the junk session looked. */
	if (junk && p->junk_moved_ns && p->junk_moved_ns < t_found && o->found_uid < p->junk_moved_next)
		t_found = p->junk_moved_ns;
	p->res.t_found = offset(p, t_found);
	log_debug("%s: found in %s after %d search(es), waited with %s", p->route->name,
	          junk ? "the junk mailbox" : "the inbox", o->tries, o->used_idle ? "IDLE" : "polling");
	if (other)
		imap_finish(other, o->t_found_ns, o->t_found_ns + 2 * NS_PER_S);
	if (!verdict_from_evidence(p->route, &o->ev, &p->res, why, sizeof(why))) {
		conclude(p, RESULT_AUTH_FAILED, t_found, why);
	} else if (junk && p->route->junk_is_failure) {
		snprintf(why, sizeof(why), "delivered to the junk mailbox");
		conclude(p, RESULT_JUNK, t_found, why);
	} else {
		conclude(p, RESULT_SUCCESS, t_found, NULL);
	}
}

/* What the deadline means depends on how far the probe got. */
static void on_deadline(struct probe *p, int64_t now)
{
	char why[RESULT_ERROR_MAX];
	int64_t since;
	const char *what;
	long secs = p->route->timeout_ms / 1000;

	if (leg_token_waiting(&p->imap_token) || leg_token_waiting(&p->smtp_token)) {
		bool imap = leg_token_waiting(&p->imap_token);
		if (now < p->deadline_ns + BACKSTOP_NS)
			return;   /* the request's own timeout says more */
		snprintf(why, sizeof(why), "OAuth2 token: the token endpoint did not answer within %lds", secs);
		conclude(p, imap ? RESULT_IMAP_AUTH_FAILED : RESULT_SMTP_AUTH_FAILED, now, why);
		return;
	}
	if (p->stage == ST_SMTP || (p->imap && imap_state(p->imap) == IMAP_CONNECTING)) {
		if (now < p->deadline_ns + BACKSTOP_NS)
			return;   /* let libcurl report its own, more precise, timeout */
		if (p->stage == ST_SMTP)
			conclude(p, RESULT_SMTP_REJECTED, now, "SMTP dialogue timed out");
		else
			conclude(p, RESULT_IMAP_CONNECT_FAILED, now, "IMAP connect timed out");
		return;
	}
	if (p->imap && imap_awaiting_reply(p->imap, &since, &what) &&
	    (now - since >= STALL_NS || p->stage == ST_IMAP_PREP)) {
		snprintf(why, sizeof(why), "IMAP server did not answer %s within %.1fs",
		         what, (double)(now - since) / NS_PER_S);
		conclude(p, RESULT_IMAP_ERROR, now, why);
		return;
	}
	snprintf(why, sizeof(why), "probe not found within %lds", secs);
	conclude(p, RESULT_TIMEOUT, now, why);
}

void probe_step(struct probe *p, int64_t now)
{
	if (!p->ready && leg_token_waiting(&p->imap_token))
		token_arrived(p, true, now);
	if (!p->ready && leg_token_waiting(&p->smtp_token))
		token_arrived(p, false, now);
	if (p->imap)
		imap_step(p->imap, now);
	if (p->junk)
		imap_step(p->junk, now);
	if (p->bounce)
		imap_step(p->bounce, now);
	if (!p->ready && p->bounce && p->stage != ST_IMAP_PREP && imap_state(p->bounce) == IMAP_FAILED)
		drop_bounce(p, imap_outcome(p->bounce)->error);
	if (!p->ready && p->bounce && imap_state(p->bounce) == IMAP_FOUND) {
		const struct dsn_outcome *d = &imap_outcome(p->bounce)->dsn;
		log_debug("%s: a delivery report says the probe failed: %s", p->route->name, d->status);
		conclude(p, RESULT_BOUNCED, imap_outcome(p->bounce)->t_found_ns, d->diagnostic);
	}
	/* The inbox first: when both sessions fail alike (a refused login),
	 * the inbox's failure is the verdict and the junk one no news, so a
	 * junk failure waits until the inbox has logged in. */
	if (!p->ready && p->imap && imap_state(p->imap) == IMAP_FAILED)
		conclude(p, imap_outcome(p->imap)->result, now, imap_outcome(p->imap)->error);
	if (!p->ready && p->junk && imap_state(p->junk) == IMAP_FAILED &&
	    imap_outcome(p->imap)->logged_in)
		junk_failed(p, now);
	if (!p->ready && p->imap) {
		/* Found: once its headers are read, or at the deadline without. */
		bool late = now >= p->deadline_ns;
		if (imap_state(p->imap) == IMAP_FOUND || (late && imap_found(p->imap)))
			on_found(p, p->imap);
		else if (p->junk && (imap_state(p->junk) == IMAP_FOUND || (late && imap_found(p->junk))))
			on_found(p, p->junk);
		else if (p->stage == ST_IMAP_PREP && imap_state(p->imap) == IMAP_READY)
			inbox_ready(p, now);
		else if (!p->junk_opened && p->stage == ST_WATCH &&
		         imap_junk_moved(p->imap, &p->junk_moved_ns, &p->junk_moved_next))
			open_junk(p, now);
	}
	if (!p->ready && now >= p->deadline_ns)
		on_deadline(p, now);
	if (p->ready && p->stage == ST_CLEANUP && (!p->imap || imap_closed(p->imap)) &&
	    (!p->junk || imap_closed(p->junk)) && (!p->bounce || imap_closed(p->bounce)) && !p->smtp)
		p->stage = ST_DONE;
}

bool probe_result_ready(const struct probe *p) { return p->ready; }
const struct probe_result *probe_result(const struct probe *p) { return &p->res; }
const struct route *probe_route(const struct probe *p) { return p->route; }
bool probe_finished(const struct probe *p) { return p->stage == ST_DONE; }

void probe_io_ready(struct probe *p, curl_socket_t fd)
{
	bool want_write;

	if (p->imap && imap_wait_fd(p->imap, &want_write) == fd)
		imap_io_ready(p->imap);
	if (p->junk && imap_wait_fd(p->junk, &want_write) == fd)
		imap_io_ready(p->junk);
	if (p->bounce && imap_wait_fd(p->bounce, &want_write) == fd)
		imap_io_ready(p->bounce);
}

static void add_wait_fd(const struct imap_session *s, struct curl_waitfd *fds,
                        unsigned *n, unsigned max)
{
	bool want_write;
	curl_socket_t fd;

	if (!s || *n >= max)
		return;
	fd = imap_wait_fd(s, &want_write);
	if (fd == CURL_SOCKET_BAD)
		return;
	fds[*n].fd = fd;
	fds[*n].events = CURL_WAIT_POLLIN | (want_write ? CURL_WAIT_POLLOUT : 0);
	fds[*n].revents = 0;
	(*n)++;
}

void probe_wait_fds(const struct probe *p, struct curl_waitfd *fds,
                    unsigned *n, unsigned max)
{
	add_wait_fd(p->imap, fds, n, max);
	add_wait_fd(p->junk, fds, n, max);
	add_wait_fd(p->bounce, fds, n, max);
}

int64_t probe_next_timer(const struct probe *p)
{
	int64_t t = p->ready ? 0 : p->deadline_ns;
	int64_t it = p->imap ? imap_next_timer(p->imap) : 0;
	int64_t jt = p->junk ? imap_next_timer(p->junk) : 0;
	int64_t bt = p->bounce ? imap_next_timer(p->bounce) : 0;

	if (!p->ready && (p->stage == ST_SMTP || leg_token_waiting(&p->imap_token) ||
	                  (p->imap && imap_state(p->imap) == IMAP_CONNECTING)))
		t = p->deadline_ns + BACKSTOP_NS;
	if (it && (t == 0 || it < t))
		t = it;
	if (jt && (t == 0 || jt < t))
		t = jt;
	if (bt && (t == 0 || bt < t))
		t = bt;
	if (!p->ready && p->inbox_ready_ns && p->stage == ST_IMAP_PREP) {
		int64_t give_up = p->inbox_ready_ns + BOUNCE_WAIT_NS;
		if (t == 0 || give_up < t)
			t = give_up;
	}
	return t;
}

void probe_free(struct probe *p)
{
	if (!p)
		return;
	leg_token_end(&p->imap_token);
	leg_token_end(&p->smtp_token);
	smtp_send_free(p->smtp);
	imap_free(p->imap);
	imap_free(p->junk);
	imap_free(p->bounce);
	free(p->msg);
	free(p);
}
