/*
 * smtp.c - see smtp.h.
 *
 * Classification uses where the dialogue got to (conn_watch), not only the
 * CURLcode, because libcurl reports very different failures with the same
 * code (a refused RCPT and a dropped connection are both CURLE_SEND_ERROR).
 */
#include "smtp.h"
#include "smtp_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "auth_hints.h"
#include "clock.h"
#include "conn.h"
#include "log.h"

struct smtp_send {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *rcpt;
	const struct route *route;
	const char *msg;
	size_t len, sent;
	bool added;
	struct conn_watch watch;
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct smtp_send *s = ud;
	size_t room = size * nitems;
	size_t left = s->len - s->sent;
	size_t n = left < room ? left : room;

	/* No AUTH was offered although we have credentials: stop before the
	 * message goes out rather than send it unauthenticated. */
	if (s->route->smtp_username && !s->watch.auth_offered)
		return CURL_READFUNC_ABORT;
	memcpy(buf, s->msg + s->sent, n);
	s->sent += n;
	return n;
}

struct smtp_send *smtp_send_start(CURLM *multi, const struct route *r, const char *bearer,
                                  const char *msg, size_t len,
                                  long timeout_ms, char *err, size_t errlen)
{
	struct smtp_send *s = calloc(1, sizeof(*s));
	struct conn_params p = {
		.scheme_plain = "smtp", .scheme_tls = "smtps", .proto_list = "smtp,smtps",
		.host = r->smtp_host, .port = r->smtp_port, .tls = r->smtp_tls,
		.username = r->smtp_username, .password = r->smtp_password,
		.bearer = bearer, .auth = r->smtp_auth,
		.route = r, .timeout_ms = timeout_ms,
	};

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->multi = multi;
	s->route = r;
	s->msg = msg;
	s->len = len;
	conn_watch_init(&s->watch, CONN_SMTP, r->name);
	s->easy = conn_easy_new(&p, &s->watch, err, errlen);
	if (!s->easy)
		goto fail;
	s->rcpt = curl_slist_append(NULL, r->to);
	if (!s->rcpt) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (curl_easy_setopt(s->easy, CURLOPT_MAIL_FROM, r->from) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_MAIL_RCPT, s->rcpt) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_READFUNCTION, read_cb) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_READDATA, s) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s) != CURLE_OK) {
		snprintf(err, errlen, "libcurl refused an SMTP option");
		goto fail;
	}
	if (conn_multi_add(multi, s->easy, err, errlen) != 0)
		goto fail;
	s->added = true;
	return s;
fail:
	smtp_send_free(s);
	return NULL;
}

CURL *smtp_send_easy(const struct smtp_send *s)
{
	return s->easy;
}

/* Which command a failure belongs to, in words a reader of `error` knows. */
static const char *verb_phase(const char *verb)
{
	if (strcasecmp(verb, "MAIL") == 0) return "MAIL FROM";
	if (strcasecmp(verb, "RCPT") == 0) return "RCPT TO";
	if (strcasecmp(verb, "DATA") == 0) return "DATA";
	if (strcasecmp(verb, "EHLO") == 0 || strcasecmp(verb, "HELO") == 0) return "EHLO";
	if (strcasecmp(verb, "STARTTLS") == 0) return "STARTTLS";
	if (strcasecmp(verb, "AUTH") == 0) return "AUTH";
	return verb;
}

static void classify(const struct smtp_send *s, CURLcode code, struct smtp_outcome *o)
{
	const struct conn_watch *w = &s->watch;
	const char *why = conn_error_text(w, code);
	bool tls_wanted = s->route->smtp_tls != TLS_NONE;

	if (conn_local_resource_error(code, w, o->error, sizeof(o->error))) {
		o->result = RESULT_INTERNAL_ERROR;
	} else if (w->stopped_no_auth) {
		o->result = RESULT_SMTP_AUTH_FAILED;
		snprintf(o->error, sizeof(o->error), "server offers no AUTH: stopped after EHLO");
	} else if (code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT) {
		o->result = RESULT_SMTP_CONNECT_FAILED;
		snprintf(o->error, sizeof(o->error), "%s", why);
	} else if (conn_is_tls_error(code)) {
		o->result = RESULT_SMTP_TLS_FAILED;
		conn_tls_error_text(s->easy, w, code, o->error, sizeof(o->error));
	} else if (code == CURLE_OPERATION_TIMEDOUT && strcasecmp(w->last_verb, "STARTTLS") == 0 &&
	           !w->tls_up) {
		/* The server said go ahead, then never finished the handshake. */
		o->result = RESULT_SMTP_TLS_FAILED;
		snprintf(o->error, sizeof(o->error), "TLS handshake after STARTTLS timed out");
	} else if (code == CURLE_OPERATION_TIMEDOUT && w->greeting_seen && w->last_verb[0]) {
		/* SPEC: a dialogue that times out is smtp_rejected, whatever step. */
		o->result = RESULT_SMTP_REJECTED;
		snprintf(o->error, sizeof(o->error), "%s: no answer from the server in time",
		         w->body_sent ? "message data" : verb_phase(w->last_verb));
	} else if (strcasecmp(w->last_verb, "AUTH") == 0 && !w->answered && code != CURLE_LOGIN_DENIED) {
		/* No reply to AUTH: the connection was lost, nothing refused. */
		o->result = RESULT_SMTP_REJECTED;
		snprintf(o->error, sizeof(o->error), "connection lost after AUTH: %s", why);
	} else if (code == CURLE_LOGIN_DENIED ||
	           strcasecmp(w->last_verb, "AUTH") == 0 ||
	           (s->route->smtp_username && w->ehlo_seen && !w->auth_offered &&
	            (!tls_wanted || w->tls_up))) {
		o->result = RESULT_SMTP_AUTH_FAILED;
		char said[160];
		if (s->route->smtp_username && w->ehlo_seen && !w->auth_offered)
			snprintf(o->error, sizeof(o->error), "server offers no AUTH");
		else if (code == CURLE_LOGIN_DENIED && strcasecmp(w->last_verb, "AUTH") != 0)
			/* libcurl found no mechanism to use and sent nothing: not a
			 * refused password, whatever "Login denied" suggests. */
			snprintf(o->error, sizeof(o->error), "no usable AUTH mechanism: smtp_auth = %s, "
			         "the server offers %s", s->route->smtp_auth ? s->route->smtp_auth : "AUTO",
			         w->auth_mechs);
		else if (w->last_code == 334 && conn_sasl_challenge_text(w->last_reply, said, sizeof(said)))
			snprintf(o->error, sizeof(o->error), "AUTH refused: %s", said);
		else if (w->last_code >= 400)
			snprintf(o->error, sizeof(o->error), "AUTH refused: %.230s", w->last_reply);
		else
			snprintf(o->error, sizeof(o->error), "%s", why);
	} else if (!w->greeting_seen) {
		o->result = tls_wanted && s->route->smtp_tls == TLS_IMPLICIT && code == CURLE_OPERATION_TIMEDOUT
			? RESULT_SMTP_TLS_FAILED : RESULT_SMTP_CONNECT_FAILED;
		snprintf(o->error, sizeof(o->error), "%s%s",
		         code == CURLE_OPERATION_TIMEDOUT ? "no greeting: " : "", why);
	} else if (w->last_verb[0] == '\0') {
		/* A greeting came but was not a welcome: 421, garbage, or a close. */
		o->result = RESULT_SMTP_CONNECT_FAILED;
		snprintf(o->error, sizeof(o->error), "greeting: %.230s", w->last_reply);
	} else {
		const char *phase = w->body_sent ? "message data" : verb_phase(w->last_verb);
		o->result = RESULT_SMTP_REJECTED;
		if (code == CURLE_OPERATION_TIMEDOUT)
			snprintf(o->error, sizeof(o->error), "%s: timed out waiting for the server", phase);
		else if (w->last_code >= 400 && w->last_reply[0])
			snprintf(o->error, sizeof(o->error), "%s refused: %.220s", phase, w->last_reply);
		else
			snprintf(o->error, sizeof(o->error), "%s: %s", phase, why);
	}
}

void smtp_send_finish(struct smtp_send *s, CURLcode code, struct smtp_outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->code = s->watch.last_code > 0 ? s->watch.last_code : -1;
	o->t_done_ns = s->watch.t_final_reply_ns ? s->watch.t_final_reply_ns : clock_mono_ns();
	snprintf(o->tls_version, sizeof(o->tls_version), "%s", s->watch.tls_version);
	o->cert_not_after = s->watch.cert_not_after;
	if (code == CURLE_OK) {
		o->ok = true;
		o->result = RESULT_SUCCESS;
	} else {
		classify(s, code, o);
		auth_hint_add(s->watch.last_reply, o->error, sizeof(o->error));
	}
	/* The reply that decided the leg: the one to the message data, or a
	 * refusal; a TLS or connection failure has none. */
	if (o->ok || s->watch.last_code >= 400)
		smtp_reply_status(s->watch.last_reply, o->status, sizeof(o->status));
}

/* The transfer is over: make libcurl's later QUIT fail at once instead of
 * blocking the event loop on a server that stalls (the connection may be
 * parked in the multi's cache, and closing it sends QUIT synchronously). */
static void cut_connection(struct smtp_send *s)
{
	curl_socket_t fd = CURL_SOCKET_BAD;

	if (curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &fd) == CURLE_OK &&
	    fd != CURL_SOCKET_BAD)
		shutdown(fd, SHUT_RDWR);
}

void smtp_send_free(struct smtp_send *s)
{
	if (!s)
		return;
	if (s->easy) {
		cut_connection(s);
		if (s->added)
			curl_multi_remove_handle(s->multi, s->easy);
		curl_easy_cleanup(s->easy);
	}
	curl_slist_free_all(s->rcpt);
	free(s);
}
