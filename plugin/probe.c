/*
 * probe.c - see probe.h.
 *
 * IMAP goes first: the mailbox is selected and UIDNEXT noted before the
 * message is sent, so only messages newer than the send can count, and the
 * watch can start the moment SMTP has its final reply.
 *
 * The IMAP legs are an array by role (imap.h): the inbox always; the junk
 * mailbox and the bounce mailbox where configured.  With check_junk the
 * inbox leg also notes the junk mailbox's UIDNEXT and peeks at it with
 * STATUS while it watches; a junk leg logs in only when it is needed: when
 * something landed there during the watch, or when an earlier probe of
 * ours may be there to sweep.  It is a bystander: where the probe is found
 * decides the `mailbox` tag, but a junk leg that fails only costs a
 * warning, unless the user named the junk mailbox (imap_junk_mailbox),
 * which then has to work.
 *
 * With bounce_imap_host a bounce leg watches the envelope sender's mailbox
 * for delivery reports.  The send waits for it to note UIDNEXT, within the
 * budget (budget_bounce_wait_until); a bounce watch that fails or is late
 * costs a warning and the probe goes on without it.
 */
#include "probe_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "message.h"
#include "secret_file.h"
#include "verdict.h"
#include "verdict_spam.h"


static double offset(const struct probe *p, int64_t t)
{
	return budget_offset(&p->budget, t);
}

/* A step's time in seconds (SPEC §11); one not reached has none. */
static double seconds(int64_t ns)
{
	return ns >= 0 ? (double)ns / (double)NS_PER_S : -1;
}

/* What the IMAP legs add to the line once the verdict is in. */
static void collect_legs(struct probe *p)
{
	struct probe_ledger *ledger = p->route->ledger;

	if (INBOX(p)) {
		const struct imap_outcome *o = imap_outcome(INBOX(p));
		p->res.step[STEP_IMAP_CONNECT] = seconds(o->steps.connect);
		p->res.step[STEP_IMAP_TLS] = seconds(o->steps.tls);
		p->res.step[STEP_IMAP_LOGIN] = seconds(o->steps.auth);
		p->res.step[STEP_IMAP_SELECT] = seconds(o->select_ns);
		if (o->logged_in)
			p->res.tries = o->tries;
		if (o->scanned)
			p->res.late = o->late;
	}
	if (ledger->late_pending && p->res.result != RESULT_INTERNAL_ERROR) {
		p->res.late = (p->res.late > 0 ? p->res.late : 0) + ledger->late_pending;
		ledger->late_pending = 0;
	}
	if (JUNK(p)) {
		const struct imap_outcome *o = imap_outcome(JUNK(p));
		if (o->logged_in && p->res.tries >= 0)
			p->res.tries += o->tries;
		if (o->scanned && p->res.late >= 0)
			p->res.late += o->late;
	}
	if (BOUNCE(p)) {
		const struct dsn_outcome *d = &imap_outcome(BOUNCE(p))->dsn;
		p->res.delayed = d->delayed;
		if (d->failed)
			snprintf(p->res.dsn_status, sizeof(p->res.dsn_status), "%s", d->status);
	}
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
	collect_legs(p);
	for (int i = 0; i < IMAP_ROLES; i++)
		if (p->leg[i])
			imap_finish(p->leg[i], now, now + BUDGET_FINISH_NS);
	p->stage = ST_CLEANUP;
}

/* The inbox leg (and the bounce watch), with the leg's token if any; the
 * token is freed here (libcurl keeps its own copy). */
static void open_inbox(struct probe *p, char *token)
{
	const struct route *r = p->route;
	char err[RESULT_ERROR_MAX];

	INBOX(p) = imap_open(p->multi, r, IMAP_ROLE_INBOX, token, &p->budget, err, sizeof(err));
	secret_free(token);
	if (!INBOX(p)) {
		conclude(p, RESULT_INTERNAL_ERROR, clock_mono_ns(), err);
		return;
	}
	if (r->bounce_imap_host) {
		BOUNCE(p) = imap_open(p->multi, r, IMAP_ROLE_BOUNCE, NULL, &p->budget, err, sizeof(err));
		if (!BOUNCE(p))
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
	budget_start(&p->budget, r, clock_mono_ns());
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
	for (int i = 0; i < IMAP_ROLES; i++)
		if (p->leg[i] && imap_easy(p->leg[i]) == easy)
			return true;
	return p->smtp && smtp_owns(p->smtp, easy);
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

	(void)now;
	p->smtp = smtp_open(p->multi, p->route, token, p->res.token, p->msg, p->msg_len, &p->budget,
	                    err, sizeof(err));
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
	switch (leg_token_begin(&p->smtp_token, p->multi, p->route, false,
	                        budget_left_ms(&p->budget, now), &token, err, sizeof(err))) {
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

/* The SMTP leg has its verdict: the message accepted, or why not. */
static void smtp_done(struct probe *p, const struct smtp_outcome *o)
{
	int64_t now = clock_mono_ns();

	p->smtp_read = true;
	note_tls(p->res.smtp_tls_version, &p->res.smtp_cert_known, &p->res.smtp_cert_expiry,
	         o->tls_version, o->cert_not_after);
	p->res.step[STEP_SMTP_CONNECT] = seconds(o->steps.connect);
	p->res.step[STEP_SMTP_GREETING] = seconds(o->steps.greeting);
	p->res.step[STEP_SMTP_TLS] = seconds(o->steps.tls);
	p->res.step[STEP_SMTP_AUTH] = seconds(o->steps.auth);
	p->res.step[STEP_SMTP_SEND] = seconds(o->send_ns);
	p->res.smtp_code = o->code;
	p->res.mx = o->mx;
	snprintf(p->res.smtp_status, sizeof(p->res.smtp_status), "%s", o->status);
	if (!o->ok) {
		conclude(p, o->result, now, o->error);
		return;
	}
	p->res.t_smtp_done = offset(p, o->t_done_ns);
	p->res.t_imap_search_start = offset(p, now);
	p->stage = ST_WATCH;
	imap_peek_junk(INBOX(p), !JUNK(p));
	for (int i = 0; i < IMAP_ROLES; i++)
		if (p->leg[i])
			imap_watch(p->leg[i], p->res.token);
}

/* A leg in the junk mailbox, from the UIDNEXT the inbox leg noted before
 * the send.  One that cannot even start costs a warning. */
static void open_junk(struct probe *p, int64_t now)
{
	const char *name;
	uint32_t floor;
	char err[RESULT_ERROR_MAX];
	char *token = NULL;
	struct leg_token lt;

	if (p->junk_opened || !imap_junk_status(INBOX(p), &name, &floor))
		return;
	p->junk_opened = true;
	imap_peek_junk(INBOX(p), false);
	switch (leg_token_begin(&lt, p->multi, p->route, true, budget_left_ms(&p->budget, now), &token,
	                        err, sizeof(err))) {
	case 1:
		JUNK(p) = imap_open(p->multi, p->route, IMAP_ROLE_JUNK, token, &p->budget, err, sizeof(err));
		break;
	case 0:   /* the inbox's token expired meanwhile: not worth a wait */
		snprintf(err, sizeof(err), "no OAuth2 token at hand");
		leg_token_end(&lt);
		break;
	default:
		break;
	}
	secret_free(token);
	if (!JUNK(p)) {
		log_warn("%s: junk mailbox not watched: %s", p->route->name, err);
		return;
	}
	imap_junk_target(JUNK(p), name, floor);
	if (p->stage == ST_WATCH)
		imap_watch(JUNK(p), p->res.token);
}

static void drop_leg(struct probe *p, enum imap_role role, const char *why)
{
	log_warn("%s: %s mailbox not watched: %s", p->route->name,
	         role == IMAP_ROLE_BOUNCE ? "bounce" : "junk", why);
	imap_free(p->leg[role]);
	p->leg[role] = NULL;
}

/* The send waits for the bounce watch to note UIDNEXT, within its budget. */
static bool bounce_lets_send(struct probe *p, int64_t now)
{
	enum imap_state b;

	if (!BOUNCE(p))
		return true;
	b = imap_state(BOUNCE(p));
	if (b == IMAP_READY || b == IMAP_ABSENT)
		return true;
	if (b == IMAP_FAILED) {
		drop_leg(p, IMAP_ROLE_BOUNCE, imap_outcome(BOUNCE(p))->error);
		return true;
	}
	if (!p->inbox_ready_ns)
		p->inbox_ready_ns = now;
	if (now < budget_bounce_wait_until(&p->budget, p->inbox_ready_ns))
		return false;
	drop_leg(p, IMAP_ROLE_BOUNCE, "IMAP server did not get ready in time");
	return true;
}

/* The inbox is selected (it sweeps the junk mailbox itself): send. */
static void inbox_ready(struct probe *p, int64_t now)
{
	if (bounce_lets_send(p, now))
		start_smtp(p, now);
}

void probe_on_done(struct probe *p, CURL *easy, CURLcode code)
{
	if (p->smtp && smtp_owns(p->smtp, easy)) {
		smtp_on_done(p->smtp, easy, code);
		return;
	}
	for (int i = 0; i < IMAP_ROLES; i++) {
		if (!p->leg[i] || imap_easy(p->leg[i]) != easy)
			continue;
		imap_connected(p->leg[i], code);
		if (i == IMAP_ROLE_INBOX) {
			const struct imap_outcome *o = imap_outcome(p->leg[i]);
			note_tls(p->res.imap_tls_version, &p->res.imap_cert_known, &p->res.imap_cert_expiry,
			         o->tls_version, o->cert_not_after);
		}
	}
}

/* A junk leg that failed: the verdict if the user named the junk mailbox,
 * else one warning and the probe goes on without it. */
static void junk_failed(struct probe *p, int64_t now)
{
	const struct imap_outcome *o = imap_outcome(JUNK(p));
	char why[RESULT_ERROR_MAX];

	if (p->route->imap_junk_mailbox) {
		snprintf(why, sizeof(why), "junk mailbox: %.200s", o->error);
		conclude(p, o->result, now, why);
		return;
	}
	drop_leg(p, IMAP_ROLE_JUNK, o->error);
}

/* SPEC §13: the address the header block named, in every dnsbl zone,
 * while the probe is deleted and the sessions log out; the line waits for
 * the answers until the route's deadline at most. */
static void start_dnsbl(struct probe *p, const struct imap_evidence *ev)
{
	static const char *const none[] = {
		[DNSBL_NO_HEADER] = "no Received header (or fewer than dnsbl_hop)",
		[DNSBL_NO_ADDRESS] = "the dnsbl_hop-th Received header names no address",
		[DNSBL_NO_PUBLIC] = "no Received header names a public address",
	};

	if (!p->route->dnsbl || !ev->read)
		return;
	if (ev->dnsbl != DNSBL_PICKED) {
		log_debug("%s: dnsbl: nothing looked up: %s", p->route->name, none[ev->dnsbl]);
		return;
	}
	dnsbl_run_start(&p->dnsbl, p->route, &ev->dnsbl_addr, p->budget.deadline_ns, &p->res.rep);
}

static void on_found(struct probe *p, enum imap_role where)
{
	const struct imap_outcome *o = imap_outcome(p->leg[where]);
	const struct route *r = p->route;
	bool junk = where == IMAP_ROLE_JUNK, auth_ok, flagged;
	struct imap_leg *other = junk ? INBOX(p) : JUNK(p);
	char why[RESULT_ERROR_MAX], spam_why[RESULT_ERROR_MAX];
	int64_t t_found = o->t_found_ns;

	snprintf(p->res.mailbox, sizeof(p->res.mailbox), "%s", junk ? "junk" : "inbox");
	/* The inbox leg's peek saw it land before the junk leg looked. */
	if (junk && p->junk_moved_ns && p->junk_moved_ns < t_found && o->found_uid < p->junk_moved_next)
		t_found = p->junk_moved_ns;
	p->res.t_found = offset(p, t_found);
	log_debug("%s: found in %s after %d search(es), waited with %s", p->route->name,
	          junk ? "the junk mailbox" : "the inbox", o->tries, o->used_idle ? "IDLE" : "polling");
	if (other)
		imap_finish(other, o->t_found_ns, o->t_found_ns + BUDGET_FINISH_NS);
	auth_ok = verdict_from_evidence(r, &o->ev, &p->res, why, sizeof(why));
	flagged = verdict_spam(r, &o->ev, &p->res, spam_why, sizeof(spam_why));
	start_dnsbl(p, &o->ev);
	/* Verdict order: verdict_spam.h. */
	if (!o->ev.read && (r->require_auth || r->has_max_spam_score)) {
		/* Not a verdict on the probe: the server would not say. */
		log_warn("%s: %s not checked: the probe's headers could not be read", r->name,
		         !r->has_max_spam_score ? "require_auth" : !r->require_auth ? "max_spam_score"
		         : "require_auth and max_spam_score");
		conclude(p, junk && r->junk_is_failure ? RESULT_JUNK : RESULT_SUCCESS, t_found,
		         junk ? "delivered to the junk mailbox" : NULL);
	} else if (!auth_ok) {
		conclude(p, RESULT_AUTH_FAILED, t_found, why);
	} else if (flagged) {
		conclude(p, RESULT_SPAM_FLAGGED, t_found, spam_why);
	} else if (junk && r->junk_is_failure) {
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
	int64_t since, deadline = p->budget.deadline_ns;
	const char *what;
	long secs = p->route->timeout_ms / 1000;

	if (leg_token_waiting(&p->imap_token) || leg_token_waiting(&p->smtp_token)) {
		bool imap = leg_token_waiting(&p->imap_token);
		if (now < deadline + BUDGET_BACKSTOP_NS)
			return;   /* the request's own timeout says more */
		snprintf(why, sizeof(why), "OAuth2 token: the token endpoint did not answer within %lds", secs);
		conclude(p, imap ? RESULT_IMAP_AUTH_FAILED : RESULT_SMTP_AUTH_FAILED, now, why);
		return;
	}
	if (p->stage == ST_SMTP && p->smtp && smtp_awaiting(p->smtp, &since, &what)) {
		/* Our own transaction: its stall is ours to call, at the deadline. */
		snprintf(why, sizeof(why), "%s: no answer from the server in time", what);
		conclude(p, RESULT_SMTP_REJECTED, now, why);
		return;
	}
	if (p->stage == ST_SMTP || (INBOX(p) && imap_state(INBOX(p)) == IMAP_CONNECTING)) {
		if (now < deadline + BUDGET_BACKSTOP_NS)
			return;   /* let libcurl report its own, more precise, timeout */
		if (p->stage == ST_SMTP)
			conclude(p, RESULT_SMTP_REJECTED, now, "SMTP dialogue timed out");
		else
			conclude(p, RESULT_IMAP_CONNECT_FAILED, now, "IMAP connect timed out");
		return;
	}
	if (INBOX(p) && imap_awaiting_reply(INBOX(p), &since, &what) &&
	    (budget_stalled(since, now) || p->stage == ST_IMAP_PREP)) {
		snprintf(why, sizeof(why), "IMAP server did not answer %s within %.1fs",
		         what, (double)(now - since) / NS_PER_S);
		conclude(p, RESULT_IMAP_ERROR, now, why);
		return;
	}
	snprintf(why, sizeof(why), "probe not found within %lds", secs);
	conclude(p, RESULT_TIMEOUT, now, why);
}

/* The legs' news, in order: the bounce watch's verdict, failures (the
 * inbox first: when both fail alike, a refused login, the inbox's is the
 * verdict and the junk one no news), a finding, readiness. */
static void read_legs(struct probe *p, int64_t now)
{
	if (!p->ready && BOUNCE(p) && p->stage != ST_IMAP_PREP && imap_state(BOUNCE(p)) == IMAP_FAILED)
		drop_leg(p, IMAP_ROLE_BOUNCE, imap_outcome(BOUNCE(p))->error);
	if (!p->ready && BOUNCE(p) && imap_state(BOUNCE(p)) == IMAP_FOUND) {
		const struct imap_outcome *o = imap_outcome(BOUNCE(p));
		log_debug("%s: a delivery report says the probe failed: %s", p->route->name, o->dsn.status);
		conclude(p, RESULT_BOUNCED, o->t_found_ns, o->dsn.diagnostic);
	}
	if (!p->ready && INBOX(p) && imap_state(INBOX(p)) == IMAP_FAILED)
		conclude(p, imap_outcome(INBOX(p))->result, now, imap_outcome(INBOX(p))->error);
	if (!p->ready && JUNK(p) && imap_state(JUNK(p)) == IMAP_FAILED &&
	    imap_outcome(INBOX(p))->logged_in)
		junk_failed(p, now);
	if (p->ready || !INBOX(p))
		return;
	if (imap_state(INBOX(p)) == IMAP_FOUND)
		on_found(p, IMAP_ROLE_INBOX);
	else if (JUNK(p) && imap_state(JUNK(p)) == IMAP_FOUND)
		on_found(p, IMAP_ROLE_JUNK);
	else if (p->stage == ST_IMAP_PREP && imap_state(INBOX(p)) == IMAP_READY)
		inbox_ready(p, now);
	else if (!p->junk_opened && p->stage == ST_WATCH &&
	         imap_junk_moved(INBOX(p), &p->junk_moved_ns, &p->junk_moved_next))
		open_junk(p, now);
}



/* The SMTP leg: its verdict taken once, the leg freed once its QUIT is over. */
static void step_smtp(struct probe *p, int64_t now)
{
	struct smtp_outcome o;

	smtp_step(p->smtp, now);
	if (!p->smtp_read && !p->ready && smtp_outcome(p->smtp, &o))
		smtp_done(p, &o);
	if (p->ready && !p->smtp_read)
		smtp_abandon(p->smtp);
	if (smtp_closed(p->smtp) && (p->smtp_read || p->ready)) {
		smtp_free(p->smtp);
		p->smtp = NULL;
	}
}

void probe_step(struct probe *p, int64_t now)
{
	bool all_closed = true;

	if (!p->ready && leg_token_waiting(&p->imap_token))
		token_arrived(p, true, now);
	if (!p->ready && leg_token_waiting(&p->smtp_token))
		token_arrived(p, false, now);
	for (int i = 0; i < IMAP_ROLES; i++)
		if (p->leg[i])
			imap_step(p->leg[i], now);
	if (p->smtp)
		step_smtp(p, now);
	read_legs(p, now);
	/* A found probe's header block is on its way: its leg bounds the wait. */
	if (!p->ready && now >= probe_verdict_due(p) && !probe_any_found(p))
		on_deadline(p, now);
	if (dnsbl_run_pending(&p->dnsbl))
		dnsbl_run_step(&p->dnsbl, now);
	for (int i = 0; i < IMAP_ROLES; i++)
		all_closed &= !p->leg[i] || imap_closed(p->leg[i]);
	if (p->ready && p->stage == ST_CLEANUP && all_closed && !p->smtp)
		p->stage = ST_DONE;
}

/* The verdict is in, and the DNSBL answers (or the deadline) too. */
bool probe_result_ready(const struct probe *p)
{
	return p->ready && !dnsbl_run_pending(&p->dnsbl);
}
const struct probe_result *probe_result(const struct probe *p) { return &p->res; }
const struct route *probe_route(const struct probe *p) { return p->route; }
bool probe_finished(const struct probe *p) { return p->stage == ST_DONE; }





void probe_free(struct probe *p)
{
	if (!p)
		return;
	leg_token_end(&p->imap_token);
	leg_token_end(&p->smtp_token);
	dnsbl_run_cancel(&p->dnsbl);
	smtp_free(p->smtp);
	for (int i = 0; i < IMAP_ROLES; i++)
		imap_free(p->leg[i]);
	free(p->msg);
	free(p);
}
