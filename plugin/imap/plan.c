/*
 * plan.c - the IMAP legs (see imap.h): per role, the order of the tasks,
 * and the only place that chains them.  Each task reports to the plan
 * through the callback it was given; the plan decides what comes next:
 *
 *   inbox, junk: prepare -> sweep (earlier probes) -> expunge (due ones)
 *                -> [Gmail: SELECT INBOX again] -> ready
 *                -> watch -> evidence -> expunge (the found probe) -> LOGOUT
 *   bounce:      prepare -> sweep (earlier reports) -> expunge -> ready
 *                -> watch (the bounce check) -> expunge (reports about the
 *                   probe, failed or delayed) -> LOGOUT
 */
#include "imap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "clock.h"
#include "evidence.h"
#include "expunge.h"
#include "imap_utf7.h"
#include "log.h"
#include "prepare.h"
#include "session.h"
#include "sweep.h"
#include "watch.h"

enum plan_step {
	STEP_CONNECTING, STEP_PREPARING, STEP_SWEEPING, STEP_READY, STEP_WATCHING,
	STEP_EVIDENCE, STEP_CLEANUP, STEP_ENDING,
};

struct imap_leg {
	struct imap_session *s;
	const struct route *route;
	const struct budget *budget;
	enum imap_role role;
	enum plan_step step;
	char token[PROBE_TOKEN_SIZE];   /* "" until imap_watch() */
	uint32_t floor;            /* junk leg: the UIDNEXT the inbox leg noted */
	uint32_t uidnext;          /* only UIDs from here can be the probe */
	bool finishing;            /* imap_finish() came during the sweep */
	int64_t finish_until;
	bool peek_wanted;
	bool found, absent, look_first;
	struct prepare prep;
	struct sweep sweep;
	struct expunge expunge;
	struct watch watch;
	struct evidence evidence;
	struct bounce bounce;
	struct watch_check bounce_glue;   /* the watch's check, for the bounce role */
	struct imap_outcome res;
};

static void start_watch(struct imap_leg *l, int64_t now);

static void end(struct imap_leg *l, int64_t until)
{
	l->step = STEP_ENDING;
	session_logout(l->s, until);
}

static int64_t cleanup_until(const struct imap_leg *l, int64_t now, int64_t wait)
{
	return budget_cleanup_bound(l->budget, now, now + wait);
}

/* --- after the sweep ----------------------------------------------------- */

static void swept_ready(struct imap_leg *l, int64_t now)
{
	if (l->finishing)
		end(l, l->finish_until);
	else if (l->token[0])
		start_watch(l, now);
	else
		l->step = STEP_READY;
}

static void after_reselect(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct imap_leg *l = ctx;

	if (r->status != IMAP_ST_OK) {
		session_fail(s, RESULT_IMAP_ERROR, "SELECT %s after the sweep: %s", l->prep.mailbox, r->text);
		return;
	}
	l->look_first = true;     /* mail may have come meanwhile */
	swept_ready(l, r->now);
}

static const struct session_handler reselect_handler = { .on_done = after_reselect };

static void sweep_deleted(void *ctx)
{
	struct imap_leg *l = ctx;

	sweep_record(&l->sweep, l->s, l->sweep.n_drop == 0 || l->expunge.removed);
	l->res.scanned = l->sweep.scanned;
	l->res.late = l->sweep.late;
	if (l->sweep.elsewhere[0])   /* Gmail: back to INBOX for the watch */
		session_select(l->s, l->prep.mailbox, &reselect_handler, l);
	else
		swept_ready(l, clock_mono_ns());
}

static void swept(void *ctx)
{
	struct imap_leg *l = ctx;

	l->expunge.removed = false;
	if (l->sweep.n_drop == 0) {
		sweep_deleted(l);
		return;
	}
	l->expunge.what = "earlier probe(s)";
	snprintf(l->expunge.trash, sizeof(l->expunge.trash), "%s",
	         l->sweep.elsewhere[0] ? l->prep.trash : "");
	l->expunge.token[0] = '\0';
	l->expunge.done = sweep_deleted;
	l->expunge.ctx = l;
	expunge_start(&l->expunge, l->s, l->sweep.drop, l->sweep.n_drop);
}

/* --- from login to the sweep --------------------------------------------- */

static void sweep_begin(struct imap_leg *l)
{
	struct sweep *w = &l->sweep;
	bool gmail = session_has(l->s, IMAP_CAP_GMAIL) && session_has(l->s, IMAP_CAP_MOVE);

	w->kind = l->role == IMAP_ROLE_BOUNCE ? &l->bounce.kind : &sweep_probes;
	w->box = l->role == IMAP_ROLE_BOUNCE ? SWEEP_BOUNCE : l->role == IMAP_ROLE_JUNK ? SWEEP_JUNK
	         : SWEEP_INBOX;
	w->elsewhere[0] = '\0';
	if (l->role == IMAP_ROLE_INBOX && gmail && l->prep.allmail[0] && l->prep.trash[0]) {
		/* Gmail keeps what is deleted from INBOX in All Mail: look there. */
		snprintf(w->elsewhere, sizeof(w->elsewhere), "%s", l->prep.allmail);
		w->box = SWEEP_ALLMAIL;
	}
	w->uidnext = l->uidnext;
	w->line_out = l->finishing;
	w->done = swept;
	w->ctx = l;
	l->step = STEP_SWEEPING;
	sweep_start(w, l->s);
}

static void prepared(void *ctx)
{
	struct imap_leg *l = ctx;
	int64_t now = clock_mono_ns();

	if (l->prep.absent) {
		l->absent = true;
		end(l, cleanup_until(l, now, BUDGET_FINISH_NS));
		return;
	}
	l->uidnext = l->prep.uidnext;
	l->res.t_ready_ns = now;
	if (l->role == IMAP_ROLE_JUNK && l->floor && l->floor < l->uidnext)
		/* Opened after the send: what came since the inbox leg noted
		 * UIDNEXT is this probe's to check, not the sweep's. */
		l->uidnext = l->floor;
	sweep_begin(l);
}

static void on_ready(struct imap_session *s, void *ctx)
{
	struct imap_leg *l = ctx;

	l->step = STEP_PREPARING;
	l->prep.done = prepared;
	l->prep.ctx = l;
	prepare_start(&l->prep, s);
}

/* --- the watch and what follows the finding ------------------------------- */

static void cleaned(void *ctx)
{
	struct imap_leg *l = ctx;

	end(l, 0);   /* within the bound the finding set */
}

static void delete_found(struct imap_leg *l, const uint32_t *uids, size_t n, int64_t now)
{
	l->step = STEP_CLEANUP;
	if (!l->route->delete_found || n == 0) {
		end(l, cleanup_until(l, now, BUDGET_CLEANUP_NS));
		return;
	}
	l->expunge.what = l->role == IMAP_ROLE_BOUNCE ? "delivery report(s)" : "found probe(s)";
	snprintf(l->expunge.trash, sizeof(l->expunge.trash), "%s",
	         session_has(l->s, IMAP_CAP_GMAIL) ? l->prep.trash : "");
	snprintf(l->expunge.token, sizeof(l->expunge.token), "%s",
	         l->role == IMAP_ROLE_BOUNCE ? "" : l->token);
	l->expunge.done = cleaned;
	l->expunge.ctx = l;
	expunge_start(&l->expunge, l->s, uids, n);
}

static void evidence_read(void *ctx)
{
	struct imap_leg *l = ctx;

	delete_found(l, l->watch.found_uids, l->watch.n_found, clock_mono_ns());
}

static void watch_found(void *ctx)
{
	struct imap_leg *l = ctx;
	int64_t now = clock_mono_ns();

	l->found = true;
	/* The verdict is in: from now on a problem is a warning. */
	session_settle(l->s);
	session_bound(l->s, cleanup_until(l, now, BUDGET_CLEANUP_NS));
	if (l->role == IMAP_ROLE_BOUNCE) {
		l->res.t_found_ns = l->watch.found_ns;
		delete_found(l, l->bounce.about, l->bounce.n_about, now);
		return;
	}
	ledger_note_found(l->route->ledger, l->token);
	l->res.t_found_ns = l->watch.found_ns;
	l->res.found_uid = l->watch.found_uids[0];
	l->step = STEP_EVIDENCE;
	l->evidence.out = &l->res.ev;
	l->evidence.done = evidence_read;
	l->evidence.ctx = l;
	evidence_start(&l->evidence, l->s, l->res.found_uid, now,
	               cleanup_until(l, now, BUDGET_EVIDENCE_NS));
}

static void bounce_check_start(void *ctx, struct imap_session *s, struct watch *w, uint32_t from)
{
	struct imap_leg *l = ctx;

	(void)w;
	bounce_check(&l->bounce, s, from);
}

static void bounce_checked(void *ctx, uint32_t next_from, bool failed, bool more, int64_t now)
{
	struct imap_leg *l = ctx;

	watch_check_done(&l->watch, next_from, failed, more, now);
}

static void start_watch(struct imap_leg *l, int64_t now)
{
	struct watch *w = &l->watch;

	log_debug("%s: waiting with %s", session_label(l->s), watch_describe(l->s));
	memcpy(w->token, l->token, sizeof(w->token));
	w->from = l->uidnext;
	w->look_first = l->look_first;
	w->slow = l->role == IMAP_ROLE_BOUNCE;
	w->check = NULL;
	if (l->role == IMAP_ROLE_BOUNCE) {
		l->bounce_glue = (struct watch_check){ bounce_check_start, l };
		memcpy(l->bounce.token, l->token, sizeof(l->bounce.token));
		l->bounce.checked = bounce_checked;
		l->bounce.ctx = l;
		w->check = &l->bounce_glue;
	}
	w->peek[0] = '\0';
	if (l->role == IMAP_ROLE_INBOX && l->peek_wanted && l->prep.junk[0] && l->prep.junk_next) {
		snprintf(w->peek, sizeof(w->peek), "%s", l->prep.junk);
		w->peek_floor = l->prep.junk_next;
	}
	w->found = watch_found;
	w->ctx = l;
	l->step = STEP_WATCHING;
	watch_start(w, l->s, now);
}

/* --- the face ---------------------------------------------------------------- */

static void fill_params(struct session_params *p, const struct route *r, enum imap_role role,
                        const char *bearer, char *label, size_t cap)
{
	*p = (struct session_params){
		.route = r, .host = r->imap_host, .port = r->imap_port, .tls = r->imap_tls,
		.username = r->imap_username, .password = r->imap_password,
		.bearer = bearer, .auth = r->imap_auth, .label = label,
	};
	snprintf(label, cap, "%s/%s", r->name,
	         role == IMAP_ROLE_INBOX ? "imap" : role == IMAP_ROLE_JUNK ? "junk" : "bounce");
	if (role == IMAP_ROLE_BOUNCE) {
		/* Another account, maybe another server: the envelope sender's. */
		p->host = r->bounce_imap_host;
		p->port = r->bounce_imap_port;
		p->tls = r->bounce_imap_tls;
		p->username = r->bounce_imap_username;
		p->password = r->bounce_imap_password;
		p->bearer = NULL;
		p->auth = "AUTO";
	}
}

/* The names to select and watch, in modified UTF-7 (the config checked
 * they are UTF-8). */
static bool encode_names(struct imap_leg *l, char *err, size_t errlen)
{
	const struct route *r = l->route;
	const char *name = l->role == IMAP_ROLE_INBOX ? r->imap_mailbox
	                   : l->role == IMAP_ROLE_BOUNCE ? r->bounce_imap_mailbox : r->imap_junk_mailbox;
	const char *junk = l->role == IMAP_ROLE_INBOX && r->check_junk ? r->imap_junk_mailbox : NULL;

	if (name && imap_utf7_encode(name, l->prep.mailbox, sizeof(l->prep.mailbox)) < 0) {
		snprintf(err, errlen, "mailbox name too long or not UTF-8: %.60s", name);
		return false;
	}
	if (junk && imap_utf7_encode(junk, l->prep.junk, sizeof(l->prep.junk)) < 0) {
		snprintf(err, errlen, "mailbox name too long or not UTF-8: %.60s", junk);
		return false;
	}
	return true;
}

struct imap_leg *imap_open(CURLM *multi, const struct route *r, enum imap_role role,
                           const char *bearer, const struct budget *budget, char *err, size_t errlen)
{
	struct imap_leg *l = calloc(1, sizeof(*l));
	struct session_params p;
	char label[96];

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->route = r;
	l->role = role;
	l->budget = budget;
	l->prep.role = role;
	bounce_init(&l->bounce, &l->res.dsn);
	if (!encode_names(l, err, errlen)) {
		free(l);
		return NULL;
	}
	fill_params(&p, r, role, bearer, label, sizeof(label));
	p.timeout_ms = budget_left_ms(budget, clock_mono_ns());
	p.on_ready = on_ready;
	p.ctx = l;
	l->s = session_new(multi, &p, err, errlen);
	if (!l->s) {
		free(l);
		return NULL;
	}
	return l;
}

CURL *imap_easy(const struct imap_leg *l)
{
	return session_easy(l->s);
}

void imap_connected(struct imap_leg *l, CURLcode code)
{
	session_connected(l->s, code);
}

void imap_watch(struct imap_leg *l, const char *token)
{
	enum result_class r;
	const char *e;

	if (session_failed(l->s, &r, &e) || l->absent || l->step > STEP_READY)
		return;
	snprintf(l->token, sizeof(l->token), "%s", token);
	if (l->step == STEP_READY)
		start_watch(l, clock_mono_ns());
	/* else still preparing or sweeping: the end of the sweep starts it */
}

void imap_finish(struct imap_leg *l, int64_t now, int64_t until)
{
	int64_t bound;

	if (l->found || l->step >= STEP_EVIDENCE || session_closed(l->s) || session_logging_out(l->s))
		return;
	bound = budget_cleanup_bound(l->budget, now, until);
	/* A junk leg is opened when its sweep is due: it sweeps (bounded)
	 * even when the probe is over.  Any leg lets a sweep under way end. */
	bool sweep_on = l->role == IMAP_ROLE_JUNK ? l->step <= STEP_SWEEPING : l->step == STEP_SWEEPING;
	if (!sweep_on && session_connecting(l->s)) {
		session_close(l->s);
		return;
	}
	if (sweep_on) {
		/* Let the sweep finish (bounded), then log out. */
		l->finishing = true;
		l->finish_until = bound;
		l->sweep.line_out = true;
		session_bound(l->s, bound);
		return;
	}
	watch_stop(&l->watch);
	if (l->role == IMAP_ROLE_BOUNCE && l->bounce.n_about > 0 && l->route->delete_found) {
		/* Delay notices and old reports go with the probe. */
		session_settle(l->s);
		session_bound(l->s, bound);
		delete_found(l, l->bounce.about, l->bounce.n_about, now);
		return;
	}
	end(l, bound);
}

void imap_step(struct imap_leg *l, int64_t now)
{
	session_step(l->s, now);
}

void imap_io_ready(struct imap_leg *l)
{
	session_io_ready(l->s);
}

bool imap_found(const struct imap_leg *l)
{
	return l->found;
}

enum imap_state imap_state(const struct imap_leg *l)
{
	enum result_class r;
	const char *e;

	if (session_failed(l->s, &r, &e))
		return IMAP_FAILED;
	if (l->found)   /* once its headers are read (or given up on) */
		return l->step == STEP_EVIDENCE && !session_closed(l->s) ? IMAP_WATCHING : IMAP_FOUND;
	if (l->absent)
		return IMAP_ABSENT;
	switch (l->step) {
	case STEP_CONNECTING:
		/* logged in, asking for the capabilities: preparing already */
		return session_connecting(l->s) ? IMAP_CONNECTING : IMAP_PREPARING;
	case STEP_PREPARING:
		return IMAP_PREPARING;
	case STEP_SWEEPING:
	case STEP_READY:
		return l->token[0] ? IMAP_WATCHING : IMAP_READY;
	default:
		return IMAP_WATCHING;
	}
}

bool imap_closed(const struct imap_leg *l)
{
	return session_closed(l->s);
}

const struct imap_outcome *imap_outcome(struct imap_leg *l)
{
	enum result_class r;
	const char *e;

	if (session_failed(l->s, &r, &e)) {
		l->res.result = r;
		snprintf(l->res.error, sizeof(l->res.error), "%s", e);
	}
	l->res.logged_in = session_logged_in(l->s);
	l->res.tries = l->watch.tries;
	l->res.used_idle = l->watch.used_idle;
	snprintf(l->res.tls_version, sizeof(l->res.tls_version), "%s", session_tls_version(l->s));
	l->res.cert_not_after = session_cert_not_after(l->s);
	return &l->res;
}

bool imap_awaiting_reply(const struct imap_leg *l, int64_t *since, const char **what)
{
	return session_awaiting(l->s, since, what);
}

curl_socket_t imap_wait_fd(const struct imap_leg *l, bool *want_write)
{
	return session_wait_fd(l->s, want_write);
}

int64_t imap_next_timer(const struct imap_leg *l)
{
	return session_next_timer(l->s);
}

void imap_free(struct imap_leg *l)
{
	if (!l)
		return;
	session_free(l->s);
	free(l);
}

/* --- the junk mailbox, for the caller ------------------------------------ */

bool imap_junk_status(const struct imap_leg *l, const char **name, uint32_t *uidnext)
{
	if (l->role != IMAP_ROLE_INBOX || l->step < STEP_SWEEPING || !l->prep.junk[0] ||
	    !l->prep.junk_next)
		return false;
	*name = l->prep.junk;
	*uidnext = l->prep.junk_next;
	return true;
}

bool imap_junk_sweep_due(const struct imap_leg *l, time_t now)
{
	const char *name;
	uint32_t next;

	return imap_junk_status(l, &name, &next) && sweep_junk_due(l->route->ledger, next, now);
}

void imap_peek_junk(struct imap_leg *l, bool on)
{
	l->peek_wanted = on;
	if (!on)
		watch_stop_peeking(&l->watch);
}

bool imap_junk_moved(const struct imap_leg *l, int64_t *when, uint32_t *uidnext)
{
	if (!l->watch.junk_moved_ns)
		return false;
	*when = l->watch.junk_moved_ns;
	*uidnext = l->watch.junk_seen;
	return true;
}

void imap_junk_target(struct imap_leg *l, const char *mailbox, uint32_t floor)
{
	snprintf(l->prep.mailbox, sizeof(l->prep.mailbox), "%s", mailbox);
	l->floor = floor;
}
