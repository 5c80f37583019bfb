/*
 * handover.c - an SMTP connection's start and end (see smtp_conn.h): libcurl connects,
 * says EHLO, starts TLS and authenticates (CONNECT_ONLY); a failure is
 * classified from where the dialogue got to (conn_watch), not only from the
 * CURLcode, because libcurl reports very different failures with the same
 * code (a refused AUTH and a dropped connection are both a receive error).
 */
#include "leg_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "auth_hints.h"
#include "clock.h"
#include "log.h"


/* The URL's path is the EHLO name (libcurl's default: the host name);
 * '[', ']' and ':' of an address literal percent-encoded. */
static int set_url(struct smtp_conn *l, const char *scheme, const char *host, int port, const char *helo,
                   char *err, size_t errlen)
{
	char url[700], path[300];
	size_t o = 0;
	bool v6 = strchr(host, ':') != NULL;

	for (const char *h = helo; *h && o + 4 < sizeof(path); h++) {
		if (*h == '[' || *h == ']' || *h == ':')
			o += (size_t)snprintf(path + o, sizeof(path) - o, "%%%02X", (unsigned char)*h);
		else
			path[o++] = *h;
	}
	path[o] = '\0';
	if (snprintf(url, sizeof(url), "%s://%s%s%s:%d/%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "",
	             port, path) >= (int)sizeof(url)) {
		snprintf(err, errlen, "host name too long");
		return -1;
	}
	CONN_SETOPT(l->easy, CURLOPT_URL, url);
	return 0;
fail:
	return -1;
}

/* An MX host (SPEC §12): our own DNS's address, STARTTLS whenever
 * offered, and no certificate check by libcurl: the owner judges the
 * session against the domain's policy before MAIL FROM (a DANE-EE host
 * with a self-signed certificate is fine, an expired one under MTA-STS
 * enforce is not). */
static int set_mx(struct smtp_conn *l, const struct smtp_target *t, char *err, size_t errlen)
{
	char entry[600];
	bool v6 = strchr(t->addr, ':') != NULL;

	if (set_url(l, "smtp", t->host, t->port, t->helo, err, errlen) != 0)
		return -1;
	snprintf(entry, sizeof(entry), "%s:%d:%s%s%s:%d", t->host, t->port, v6 ? "[" : "", t->addr,
	         v6 ? "]" : "", t->port);
	l->connect_to = curl_slist_append(NULL, entry);
	if (!l->connect_to) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	CONN_SETOPT(l->easy, CURLOPT_CONNECT_TO, l->connect_to);
	CONN_SETOPT(l->easy, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	CONN_SETOPT(l->easy, CURLOPT_SSL_VERIFYPEER, 0L);
	CONN_SETOPT(l->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	/* A full handshake every time: the chain to judge, the time measured. */
	CONN_SETOPT(l->easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	if (tls_chain_watch(l->easy, &l->chain, err, errlen) != 0)
		return -1;
	l->hold = true;
	return 0;
fail:
	return -1;
}

struct smtp_conn *smtp_conn_open(CURLM *multi, const struct route *r, const struct smtp_target *t,
                                 const char *bearer, const char *token, const char *msg, size_t len,
                                 const struct budget *budget, char *err, size_t errlen)
{
	struct smtp_conn *l = calloc(1, sizeof(*l));
	struct conn_params p = {
		.scheme_plain = "smtp", .scheme_tls = "smtps", .proto_list = "smtp,smtps",
		.host = t ? t->host : r->smtp_host, .port = t ? t->port : r->smtp_port,
		.tls = t ? TLS_STARTTLS : r->smtp_tls, .tls_key = "smtp_tls",
		.username = t ? NULL : r->smtp_username, .password = t ? NULL : r->smtp_password,
		.bearer = t ? NULL : bearer, .auth = r->smtp_auth,
		.route = r, .timeout_ms = budget_left_ms(budget, clock_mono_ns()),
	};

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->multi = multi;
	l->route = r;
	l->budget = budget;
	l->token = token;
	l->msg = msg;
	l->msg_len = len;
	l->fd = CURL_SOCKET_BAD;
	l->out.send_ns = -1;
	conn_watch_init(&l->watch, CONN_SMTP, r->name);
	conn_mismatch_init(&l->mismatch, &p);
	/* An MX host on port 25: a late greeting is a greet pause, not
	 * implicit TLS; no side connection to someone else's server. */
	l->mismatch.tried = t != NULL;
	l->easy = conn_easy_new(&p, &l->watch, err, errlen);
	if (!l->easy)
		goto fail;
	if (t ? set_mx(l, t, err, errlen) != 0 :
	    r->helo_name && set_url(l, r->smtp_tls == TLS_IMPLICIT ? "smtps" : "smtp", r->smtp_host,
	                            r->smtp_port, r->helo_name, err, errlen) != 0)
		goto fail;
	if (curl_easy_setopt(l->easy, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK) {
		snprintf(err, errlen, "libcurl refused CONNECT_ONLY");
		goto fail;
	}
	if (conn_multi_add(multi, l->easy, err, errlen) != 0)
		goto fail;
	l->added = true;
	return l;
fail:
	smtp_conn_free(l);
	return NULL;
}

CURL *smtp_conn_easy(const struct smtp_conn *l)
{
	return l->easy;
}

/* Which command a failure belongs to, in words a reader of `error` knows. */
static const char *verb_phase(const char *verb)
{
	if (strcasecmp(verb, "EHLO") == 0 || strcasecmp(verb, "HELO") == 0) return "EHLO";
	if (strcasecmp(verb, "STARTTLS") == 0) return "STARTTLS";
	if (strcasecmp(verb, "AUTH") == 0) return "AUTH";
	return verb;
}

/* A username set and the EHLO reply without AUTH: never sent
 * unauthenticated; the next step where the port or TLS tell it. */
static void no_auth(struct smtp_conn *l, const char *what)
{
	smtp_conclude(l, false, RESULT_SMTP_AUTH_FAILED, "%s; %s", what,
	              auth_hint_no_auth(l->route->smtp_port, l->watch.tls_up));
}

/* AUTH refused, or no mechanism to use: the words. */
static void auth_failure(struct smtp_conn *l, CURLcode code, const char *why)
{
	const struct conn_watch *w = &l->watch;
	const struct route *r = l->route;
	char said[160];

	if (r->smtp_username && w->ehlo_seen && !w->auth_offered)
		no_auth(l, "server offers no AUTH");
	else if (code == CURLE_LOGIN_DENIED && strcasecmp(w->last_verb, "AUTH") != 0)
		/* libcurl found no mechanism to use and sent nothing: not a
		 * refused password, whatever "Login denied" suggests. */
		smtp_conclude(l, false, RESULT_SMTP_AUTH_FAILED,
		              "no usable AUTH mechanism: smtp_auth = %s, the server offers %s",
		              r->smtp_auth ? r->smtp_auth : "AUTO", w->auth_mechs);
	else if (w->last_code == 334 && conn_sasl_challenge_text(w->last_reply, said, sizeof(said)))
		smtp_conclude(l, false, RESULT_SMTP_AUTH_FAILED, "AUTH refused: %s", said);
	else if (w->last_code >= 400)
		smtp_conclude(l, false, RESULT_SMTP_AUTH_FAILED, "AUTH refused: %.230s", w->last_reply);
	else
		smtp_conclude(l, false, RESULT_SMTP_AUTH_FAILED, "%s", why);
}

/* Before the greeting, or a greeting that was no welcome. */
static void greeting_failure(struct smtp_conn *l, CURLcode code, const char *why)
{
	const struct conn_watch *w = &l->watch;

	if (!w->greeting_seen)
		smtp_conclude(l, false, l->route->smtp_tls == TLS_IMPLICIT && code == CURLE_OPERATION_TIMEDOUT
		              ? RESULT_SMTP_TLS_FAILED : RESULT_SMTP_CONNECT_FAILED,
		              "%s%s", code == CURLE_OPERATION_TIMEDOUT ? "no greeting: " : "", why);
	else
		/* A greeting came but was not a welcome: 421, garbage, or a close. */
		smtp_conclude(l, false, RESULT_SMTP_CONNECT_FAILED, "greeting: %.230s", w->last_reply);
}

static void classify(struct smtp_conn *l, CURLcode code)
{
	const struct conn_watch *w = &l->watch;
	const char *why = conn_error_text(w, code);
	bool timed_out = code == CURLE_OPERATION_TIMEDOUT;
	char said[RESULT_ERROR_MAX];

	if (conn_local_resource_error(code, w, said, sizeof(said)))
		smtp_conclude(l, false, RESULT_INTERNAL_ERROR, "%s", said);
	else if (w->stopped_no_auth)
		no_auth(l, "server offers no AUTH: stopped after EHLO");
	else if (code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT)
		smtp_conclude(l, false, RESULT_SMTP_CONNECT_FAILED, "%s", why);
	else if (conn_is_tls_error(code)) {
		conn_tls_error_text(l->easy, w, code, said, sizeof(said));
		smtp_conclude(l, false, RESULT_SMTP_TLS_FAILED, "%s", said);
	} else if (timed_out && strcasecmp(w->last_verb, "STARTTLS") == 0 && !w->tls_up)
		/* The server said go ahead, then never finished the handshake. */
		smtp_conclude(l, false, RESULT_SMTP_TLS_FAILED, "TLS handshake after STARTTLS timed out");
	else if (timed_out && w->greeting_seen && w->last_verb[0])
		/* SPEC: a dialogue that times out is smtp_rejected, whatever step. */
		smtp_conclude(l, false, RESULT_SMTP_REJECTED, "%s: no answer from the server in time",
		              verb_phase(w->last_verb));
	else if (strcasecmp(w->last_verb, "AUTH") == 0 && !w->answered && code != CURLE_LOGIN_DENIED)
		/* No reply to AUTH: the connection was lost, nothing refused. */
		smtp_conclude(l, false, RESULT_SMTP_REJECTED, "connection lost after AUTH: %s", why);
	else if (code == CURLE_LOGIN_DENIED || strcasecmp(w->last_verb, "AUTH") == 0 ||
	         (l->route->smtp_username && w->ehlo_seen && !w->auth_offered &&
	          (l->route->smtp_tls == TLS_NONE || w->tls_up)))
		auth_failure(l, code, why);
	else if (!w->greeting_seen || w->last_verb[0] == '\0')
		greeting_failure(l, code, why);
	else if (w->last_code >= 400 && w->last_reply[0])
		smtp_conclude(l, false, RESULT_SMTP_REJECTED, "%s refused: %.220s", verb_phase(w->last_verb),
		              w->last_reply);
	else
		smtp_conclude(l, false, RESULT_SMTP_REJECTED, "%s: %s", verb_phase(w->last_verb), why);
}

/* While libcurl connects: a TLS mode that does not fit the port is named
 * without waiting for the connect timeout. */
static void connecting_step(struct smtp_conn *l, int64_t now)
{
	char words[RESULT_ERROR_MAX];

	conn_mismatch_tick(&l->mismatch, l->multi, l->easy, &l->watch, now);
	if (!conn_mismatch_found(&l->mismatch, words, sizeof(words)))
		return;
	/* The answer is in: libcurl's transfer would only wait for the timeout. */
	curl_multi_remove_handle(l->multi, l->easy);
	l->added = false;
	l->state = SMTP_CLOSED;
	conn_mismatch_free(&l->mismatch);
	smtp_conclude(l, false, RESULT_SMTP_TLS_FAILED, "%s", words);
}

void smtp_conn_step(struct smtp_conn *l, int64_t now)
{
	if (l->state == SMTP_CONNECTING)
		connecting_step(l, now);
	smtp_transaction_step(l, now);
}

int64_t smtp_conn_next_timer(const struct smtp_conn *l)
{
	if (l->state == SMTP_CONNECTING)
		return conn_mismatch_next_timer(&l->mismatch, &l->watch);
	return smtp_transaction_timer(l);
}

void smtp_conn_connected(struct smtp_conn *l, CURLcode code)
{
	conn_mismatch_free(&l->mismatch);   /* the dialogue itself has answered */
	if (code != CURLE_OK) {
		l->state = SMTP_CLOSED;
		classify(l, code);
		return;
	}
	if (curl_easy_getinfo(l->easy, CURLINFO_ACTIVESOCKET, &l->fd) != CURLE_OK ||
	    l->fd == CURL_SOCKET_BAD) {
		l->state = SMTP_CLOSED;
		smtp_conclude(l, false, RESULT_INTERNAL_ERROR, "libcurl gave no SMTP socket");
		return;
	}
	/* libcurl skips AUTH silently where the server offers none: the
	 * message never goes out unauthenticated. */
	if (l->route->smtp_username && !l->watch.auth_offered) {
		l->state = SMTP_CLOSED;
		no_auth(l, "server offers no AUTH");
		return;
	}
	if (l->hold) {
		l->state = SMTP_HELD;
		return;
	}
	smtp_transaction_start(l);
}

bool smtp_conn_held(const struct smtp_conn *l)
{
	return l->state == SMTP_HELD;
}

void smtp_conn_release(struct smtp_conn *l)
{
	if (l->state == SMTP_HELD)
		smtp_transaction_start(l);
}

void smtp_conn_refuse(struct smtp_conn *l, enum result_class result, const char *fmt, ...)
{
	char why[RESULT_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	smtp_conclude(l, false, result, "%s", why);
	if (l->state == SMTP_HELD)
		smtp_transaction_quit(l);
}

const struct conn_watch *smtp_conn_watch(const struct smtp_conn *l)
{
	return &l->watch;
}

STACK_OF(X509) *smtp_conn_peer_chain(const struct smtp_conn *l)
{
	return l->watch.tls_up ? l->chain.chain : NULL;
}

bool smtp_conn_outcome(const struct smtp_conn *l, struct smtp_outcome *out)
{
	if (!l->done)
		return false;
	*out = l->out;
	return true;
}

void smtp_conn_free(struct smtp_conn *l)
{
	if (!l)
		return;
	conn_mismatch_free(&l->mismatch);
	if (l->easy) {
		/* Cut the socket first: libcurl's own disconnect would send QUIT
		 * and wait for the answer, blocking every other route. */
		curl_socket_t fd = l->fd;
		if (fd == CURL_SOCKET_BAD)
			curl_easy_getinfo(l->easy, CURLINFO_ACTIVESOCKET, &fd);
		if (fd != CURL_SOCKET_BAD)
			shutdown(fd, SHUT_RDWR);
		if (l->added)
			curl_multi_remove_handle(l->multi, l->easy);
		curl_easy_cleanup(l->easy);
	}
	curl_slist_free_all(l->connect_to);
	tls_chain_free(&l->chain);
	free(l->outbuf);
	free(l);
}
