/*
 * mx.c - the MX walk (see mx.h): its phases, the connection to each host
 * in turn, and the verdict with the fields of SPEC §12.
 *
 *   lookup: MX, _smtp._tls TXT and the MTA-STS discovery (its TXT, maybe
 *           the policy over HTTPS) at once; each host's A/AAAA/TLSA as
 *           soon as the MX answer is in
 *   hosts:  in order, each waiting for its own answers only: a bogus one
 *           ends the walk (tls_policy_failed, nothing sent); a host with
 *           no address, or outside an enforced MTA-STS policy, is skipped
 *           (not tried); otherwise one connection per address until one
 *           accepts, a 5xx to the envelope ends it, or the hosts run out
 *
 * Which verdict when no host accepts: a policy that no tried host met
 * (tls_policy_failed), else the last host's own failure.
 */
#include "mx_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

static void drop_lookups(struct mx_walk *w)
{
	dns_free(w->q_mx);
	dns_free(w->q_rpt);
	w->q_mx = w->q_rpt = NULL;
	mx_sts_free(w->sts);
	w->sts = NULL;
	w->policy = NULL;   /* it was the discovery's */
	mx_hosts_free(w);
}

/* The dane and tls_policy fields once the walk is over; accepted: the
 * host took the message over a session that met conn_met. */
static void final_fields(struct mx_walk *w, bool accepted)
{
	struct mx_result *r = &w->res;

	if (r->dane != MX_DANE_BOGUS)
		r->dane = accepted && w->conn_dane ? MX_DANE_PASS : w->dane_failed ? MX_DANE_FAIL
		          : w->dane_passed ? MX_DANE_PASS : w->dane_unusable ? MX_DANE_UNUSABLE : MX_DANE_NONE;
	if (r->policy != MX_POLICY_ABSENT)
		return;   /* decided where the walk ended (bogus, required policy) */
	if (accepted)
		r->policy = !w->conn_dane && !(w->policy && w->policy->mode != MTA_STS_MODE_NONE) ? MX_POLICY_NONE
		            : w->conn_met ? MX_POLICY_PASS : MX_POLICY_FAIL;
	else
		r->policy = !w->policy_applied && !w->policy_failed ? MX_POLICY_NONE
		            : w->policy_met ? MX_POLICY_PASS : MX_POLICY_FAIL;
}

/* The verdict, once (never success: that comes from the accepting
 * connection). */
static void mx_fail(struct mx_walk *w, enum result_class r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void mx_fail(struct mx_walk *w, enum result_class r, const char *fmt, ...)
{
	va_list ap;

	if (w->done)
		return;
	w->done = true;
	w->phase = MX_DONE;
	w->out.ok = false;
	w->out.result = r;
	va_start(ap, fmt);
	vsnprintf(w->out.error, sizeof(w->out.error), fmt, ap);
	va_end(ap);
	if (!w->out.t_done_ns)
		w->out.t_done_ns = clock_mono_ns();
	final_fields(w, false);
	w->out.mx = w->res;
	drop_lookups(w);
	log_debug("%s/smtp mx: %s: %s", w->route->name, result_name(r), w->out.error);
}

/* No host accepted and none is left. */
static void exhausted(struct mx_walk *w)
{
	if (w->policy_failed > 0 && !w->policy_met) {
		mx_fail(w, RESULT_TLS_POLICY_FAILED, "%s", w->policy_why);
	} else if (w->have_last) {
		w->out = w->last;   /* its steps, code and status; error already names the host */
		w->done = false;
		mx_fail(w, w->last.result, "%s", w->last.error);
	} else {
		mx_fail(w, RESULT_SMTP_CONNECT_FAILED, "no MX host of %s could be used%s%s", w->domain,
		        w->policy_why[0] || w->n_hosts ? ": " : "",
		        w->policy_why[0] ? w->policy_why : w->n_hosts ? w->hosts[w->n_hosts - 1].why : "");
	}
}

struct mx_walk *mx_walk_open(CURLM *multi, const struct route *r, const char *token, const char *msg,
                             size_t len, const struct budget *budget, char *err, size_t errlen)
{
	struct mx_walk *w = calloc(1, sizeof(*w));
	char name[DNS_NAME_MAX + 16];

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->multi = multi;
	w->route = r;
	w->budget = budget;
	w->token = token;
	w->msg = msg;
	w->msg_len = len;
	snprintf(w->domain, sizeof(w->domain), "%s", strrchr(r->to, '@') + 1);
	w->res.used = true;
	w->out.code = -1;
	w->out.send_ns = -1;
	w->out.steps = (struct conn_steps){ -1, -1, -1, -1 };
	snprintf(name, sizeof(name), "_smtp._tls.%s", w->domain);
	w->q_mx = dns_start(w->domain, DNS_T_MX, budget->deadline_ns, err, errlen);
	w->q_rpt = w->q_mx ? dns_start(name, DNS_T_TXT, budget->deadline_ns, err, errlen) : NULL;
	w->sts = w->q_rpt ? mx_sts_start(multi, r, w->domain, budget, err, errlen) : NULL;
	if (!w->sts) {
		mx_walk_free(w);
		return NULL;
	}
	return w;
}

/* _smtp._tls.<domain>: exactly one v=TLSRPTv1 record (RFC 8460 §3). */
static enum mx_tlsrpt tlsrpt_of(const struct dns_answer *a)
{
	char text[8][512];
	const char *rec[8];
	size_t n = 0;

	for (size_t i = 0; a->status == DNS_ANSWERED && i < a->n && n < 8; i++)
		if (dns_rr_txt(a->rr[i].data, a->rr[i].len, text[n], sizeof(text[n])))
			rec[n] = text[n], n++;
	return tlsrpt_txt(rec, n) ? MX_TLSRPT_YES : MX_TLSRPT_NO;
}

/* require_tls_policy = mta-sts: a policy in enforce or testing mode. */
static bool sts_required_ok(struct mx_walk *w)
{
	enum mx_sts s = w->res.mta_sts;

	if (!(w->route->require_tls_policy & TLS_POLICY_MTA_STS) || s == MX_STS_ENFORCE || s == MX_STS_TESTING)
		return true;
	w->res.policy = MX_POLICY_FAIL;
	if (s == MX_STS_INVALID)
		mx_fail(w, RESULT_TLS_POLICY_FAILED, "require_tls_policy = mta-sts: the MTA-STS policy of %s is "
		        "invalid: %s", w->domain, mx_sts_why(w->sts));
	else
		mx_fail(w, RESULT_TLS_POLICY_FAILED, "require_tls_policy = mta-sts: %s publishes no MTA-STS "
		        "policy in mode enforce or testing", w->domain);
	return false;
}

/* The lookups of the domain; true once they are all in. */
static bool lookup_step(struct mx_walk *w, int64_t now)
{
	if (w->q_mx && dns_done(w->q_mx, now)) {
		struct mx_end end;
		if (!mx_hosts_from_answer(w, dns_answer(w->q_mx), &end)) {
			mx_fail(w, end.result, "%s", end.why);
			return false;
		}
		dns_free(w->q_mx);
		w->q_mx = NULL;
		w->have_hosts = true;
	}
	if (w->q_rpt && dns_done(w->q_rpt, now)) {
		w->res.tlsrpt = tlsrpt_of(dns_answer(w->q_rpt));
		dns_free(w->q_rpt);
		w->q_rpt = NULL;
	}
	if (!w->sts_done && mx_sts_step(w->sts, now)) {
		w->sts_done = true;
		w->res.mta_sts = mx_sts_state(w->sts);
		w->policy = mx_sts_policy(w->sts);
	}
	return w->have_hosts && !w->q_rpt && w->sts_done;
}

/* Can host h be tried?  DANE where it applies; an enforced MTA-STS
 * policy must list it.  Skipped hosts are not counted as tried. */
static bool usable(struct mx_walk *w, struct mx_host *h)
{
	bool dane = w->mx_secure && h->tlsa == MX_TLSA_USABLE;

	w->dane_unusable |= h->tlsa == MX_TLSA_UNUSABLE && w->mx_secure;
	if (h->n_addr == 0)
		return false;
	if (h->tlsa == MX_TLSA_FAILED) {
		/* RFC 7672 §2.2: DANE may apply, we cannot tell: not this host. */
		w->policy_failed++;
		w->dane_failed = true;
		snprintf(w->policy_why, sizeof(w->policy_why), "DANE: %.240s", h->why);
		return false;
	}
	if (!dane && w->sts_enforce && !mta_sts_mx_match(w->policy, h->name)) {
		w->policy_failed++;
		snprintf(w->policy_why, sizeof(w->policy_why), "MTA-STS enforce: no MX host of %.80s matches the "
		         "policy (%.80s is not listed)", w->domain, h->name);
		log_debug("%s/smtp mx: %s skipped: the MTA-STS policy does not list it", w->route->name, h->name);
		return false;
	}
	return true;
}

static void open_conn(struct mx_walk *w, struct mx_host *h)
{
	struct smtp_target t = { .host = h->name, .addr = h->addr[h->next_addr], .port = w->route->mx_port,
	                         .helo = w->route->helo_name ? w->route->helo_name : "localhost" };
	char err[RESULT_ERROR_MAX];

	w->conn_dane = w->mx_secure && h->tlsa == MX_TLSA_USABLE;
	w->conn_met = false;
	w->conn = smtp_conn_open(w->multi, w->route, &t, NULL, w->token, w->msg, w->msg_len, w->budget,
	                         err, sizeof(err));
	if (!w->conn) {
		mx_fail(w, RESULT_INTERNAL_ERROR, "%s", err);
		return;
	}
	if (!h->tried) {
		h->tried = true;
		w->res.tried++;
		if (!w->res.server[0])
			snprintf(w->res.server, sizeof(w->res.server), "%s:%d", h->name, w->route->mx_port);
	}
	log_debug("%s/smtp mx: trying %s [%s]:%d%s", w->route->name, h->name, t.addr, t.port,
	          w->conn_dane ? " (DANE applies)" : "");
}

/* The next host to try, or the verdict; nothing while the answers for
 * the host next in line are still on their way. */
static void next_host(struct mx_walk *w, int64_t now)
{
	while (!w->done && !w->conn) {
		struct mx_host *h;
		if (w->cur >= w->n_hosts) {
			exhausted(w);
			return;
		}
		if (now >= w->budget->deadline_ns) {
			/* No time left for another host: what the last one said. */
			if (!w->have_last && !w->policy_failed)
				mx_fail(w, RESULT_SMTP_CONNECT_FAILED, "no MX host of %s answered within %lds", w->domain,
				        w->route->timeout_ms / 1000);
			else
				exhausted(w);
			return;
		}
		h = &w->hosts[w->cur];
		if (!mx_host_poll(w, h, now))
			return;
		if (h->bogus) {
			w->res.dane = MX_DANE_BOGUS;
			w->res.policy = MX_POLICY_FAIL;
			mx_fail(w, RESULT_TLS_POLICY_FAILED, "%s", h->why);
			return;
		}
		if ((w->route->require_tls_policy & TLS_POLICY_DANE) && !(w->mx_secure && h->tlsa == MX_TLSA_USABLE)) {
			w->res.policy = MX_POLICY_FAIL;
			mx_fail(w, RESULT_TLS_POLICY_FAILED, "require_tls_policy = dane: %s has no usable "
			        "DNSSEC-validated TLSA record%s", h->name, w->mx_secure ? "" : " (the MX answer is not signed)");
			return;
		}
		if (h->next_addr < h->n_addr && usable(w, h))
			open_conn(w, h);
		else
			w->cur++;
	}
}

/* The connection to the host under way has its verdict. */
static void conn_over(struct mx_walk *w, struct mx_host *h, const struct smtp_outcome *o)
{
	if (o->ok) {
		w->out = *o;
		snprintf(w->res.mx, sizeof(w->res.mx), "%s", h->name);
		snprintf(w->res.server, sizeof(w->res.server), "%s:%d", h->name, w->route->mx_port);
		final_fields(w, true);
		w->out.mx = w->res;
		w->done = true;
		w->phase = MX_DONE;
		log_debug("%s/smtp mx: %s accepted the message", w->route->name, h->name);
		drop_lookups(w);
		return;   /* the connection says QUIT */
	}
	w->last = *o;
	w->have_last = true;
	snprintf(w->last.error, sizeof(w->last.error), "%.80s[%s]: %.150s", h->name, h->addr[h->next_addr], o->error);
	log_debug("%s/smtp mx: %s", w->route->name, w->last.error);
	smtp_conn_free(w->closing);   /* cut: two QUITs at once are not worth waiting for */
	w->closing = w->conn;
	w->conn = NULL;
	if (o->result == RESULT_SMTP_REJECTED && o->code >= 500) {
		/* A permanent refusal of the envelope or the message: the
		 * next host would say the same (RFC 5321 §5.1). */
		exhausted(w);
		return;
	}
	if (o->result == RESULT_TLS_POLICY_FAILED || ++h->next_addr >= h->n_addr)
		w->cur++;
}

static void hosts_step(struct mx_walk *w, int64_t now)
{
	struct smtp_outcome o;

	if (w->conn) {
		smtp_conn_step(w->conn, now);
		if (smtp_conn_held(w->conn))
			mx_vet(w, &w->hosts[w->cur]);
		if (smtp_conn_outcome(w->conn, &o))
			conn_over(w, &w->hosts[w->cur], &o);
	}
	if (!w->done && !w->conn)
		next_host(w, now);
	/* A new connection may already be done (a refused connect is
	 * reported by the multi, not here): nothing more this turn. */
}

void mx_walk_step(struct mx_walk *w, int64_t now)
{
	if (w->closing) {
		smtp_conn_step(w->closing, now);
		if (smtp_conn_closed(w->closing)) {
			smtp_conn_free(w->closing);
			w->closing = NULL;
		}
	}
	if (w->phase == MX_DONE) {
		if (w->conn)
			smtp_conn_step(w->conn, now);
		return;
	}
	if (w->phase == MX_LOOKUP && lookup_step(w, now) && sts_required_ok(w)) {
		w->sts_enforce = w->res.mta_sts == MX_STS_ENFORCE ||
		                 ((w->route->require_tls_policy & TLS_POLICY_MTA_STS) && w->res.mta_sts == MX_STS_TESTING);
		w->phase = MX_HOSTS;
	}
	if (w->phase == MX_HOSTS)
		hosts_step(w, now);
}

bool mx_walk_owns(const struct mx_walk *w, CURL *easy)
{
	return (w->conn && smtp_conn_easy(w->conn) == easy) || (w->closing && smtp_conn_easy(w->closing) == easy) ||
	       (w->sts && mx_sts_owns(w->sts, easy));
}

void mx_walk_on_done(struct mx_walk *w, CURL *easy, CURLcode code)
{
	if (w->conn && smtp_conn_easy(w->conn) == easy)
		smtp_conn_connected(w->conn, code);
	else if (w->closing && smtp_conn_easy(w->closing) == easy)
		smtp_conn_connected(w->closing, code);
	else if (w->sts)
		mx_sts_on_done(w->sts, easy, code);
}

void mx_walk_io_ready(struct mx_walk *w)
{
	if (w->conn)
		smtp_conn_io_ready(w->conn);
	if (w->closing)
		smtp_conn_io_ready(w->closing);
}

curl_socket_t mx_walk_wait_fd(const struct mx_walk *w, bool *want_write)
{
	*want_write = false;
	if (w->conn)
		return smtp_conn_wait_fd(w->conn, want_write);
	return w->closing ? smtp_conn_wait_fd(w->closing, want_write) : CURL_SOCKET_BAD;
}

int64_t mx_walk_next_timer(const struct mx_walk *w)
{
	int64_t t = 0, c;

	if (w->phase != MX_DONE && !w->conn)
		t = w->budget->deadline_ns;   /* lookups: their deadline */
	if (w->sts && !w->sts_done && (c = mx_sts_next_timer(w->sts)) && (!t || c < t))
		t = c;
	if (w->conn && (c = smtp_conn_next_timer(w->conn)) && (!t || c < t))
		t = c;
	if (w->closing && (c = smtp_conn_next_timer(w->closing)) && (!t || c < t))
		t = c;
	return t;
}

bool mx_walk_outcome(const struct mx_walk *w, struct smtp_outcome *out)
{
	if (!w->done)
		return false;
	*out = w->out;
	return true;
}

bool mx_walk_awaiting(const struct mx_walk *w, int64_t *since, const char **what)
{
	return !w->done && w->conn && smtp_conn_awaiting(w->conn, since, what);
}

void mx_walk_abandon(struct mx_walk *w)
{
	drop_lookups(w);
	if (w->conn)
		smtp_conn_abandon(w->conn);
	if (w->closing)
		smtp_conn_abandon(w->closing);
	w->phase = MX_DONE;
}

bool mx_walk_closed(const struct mx_walk *w)
{
	return (!w->conn || smtp_conn_closed(w->conn)) && (!w->closing || smtp_conn_closed(w->closing)) &&
	       (w->done || w->phase == MX_DONE);
}

void mx_walk_free(struct mx_walk *w)
{
	if (!w)
		return;
	drop_lookups(w);
	smtp_conn_free(w->conn);
	smtp_conn_free(w->closing);
	free(w);
}
