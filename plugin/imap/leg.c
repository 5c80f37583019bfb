/*
 * leg.c - the face of the IMAP legs (see imap.h): a leg made, fed and
 * asked; what it does and in what order is the plan's (plan.c).
 */
#include "leg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "imap_utf7.h"

/* --- the face ---------------------------------------------------------------- */

static void fill_params(struct session_params *p, const struct route *r, enum imap_role role,
                        const char *bearer, char *label, size_t cap)
{
	*p = (struct session_params){
		.route = r, .host = r->imap_host, .port = r->imap_port, .tls = r->imap_tls, .tls_key = "imap_tls",
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
		p->tls_key = "bounce_imap_tls";
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
	l->prep.select_ns = -1;
	bounce_init(&l->bounce, &l->res.dsn);
	if (!encode_names(l, err, errlen)) {
		free(l);
		return NULL;
	}
	fill_params(&p, r, role, bearer, label, sizeof(label));
	p.timeout_ms = budget_left_ms(budget, clock_mono_ns());
	p.on_ready = plan_on_ready;
	p.ctx = l;
	l->s = session_new(multi, &p, err, errlen);
	if (!l->s) {
		free(l);
		return NULL;
	}
	return l;
}

void imap_watch(struct imap_leg *l, const char *token)
{
	plan_watch(l, token);
}

void imap_finish(struct imap_leg *l, int64_t now, int64_t until)
{
	plan_finish(l, now, until);
}

CURL *imap_easy(const struct imap_leg *l)
{
	return session_easy(l->s);
}

void imap_connected(struct imap_leg *l, CURLcode code)
{
	session_connected(l->s, code);
}



void imap_step(struct imap_leg *l, int64_t now)
{
	session_connect_step(l->s, now);
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
	session_steps(l->s, &l->res.steps);
	l->res.select_ns = l->prep.select_ns;
	return &l->res;
}

bool imap_news_in_check(const struct imap_leg *l, int64_t before)
{
	return l->step == STEP_WATCHING && watch_news_in_check(&l->watch, before);
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
	int64_t t = session_next_timer(l->s), c = session_connect_timer(l->s);

	return c && (t == 0 || c < t) ? c : t;
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
