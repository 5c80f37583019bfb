/*
 * handover.c - the IMAP engine's start (see session.h): libcurl connects,
 * starts TLS and logs in (CONNECT_ONLY); a failure is classified from where
 * the dialogue got to (conn_watch), success hands the socket over, the
 * capabilities are learnt, and the owner's on_ready runs.
 */
#include "session.h"
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "auth_hints.h"
#include "log.h"

struct imap_session *session_new(CURLM *multi, const struct session_params *p,
                                 char *err, size_t errlen)
{
	struct imap_session *s = calloc(1, sizeof(*s));
	struct conn_params cp = {
		.scheme_plain = "imap", .scheme_tls = "imaps", .proto_list = "imap,imaps",
		.host = p->host, .port = p->port, .tls = p->tls, .tls_key = p->tls_key,
		.username = p->username, .password = p->password,
		.bearer = p->bearer, .auth = p->auth,
		.route = p->route, .timeout_ms = p->timeout_ms,
	};

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->multi = multi;
	s->route = p->route;
	s->fd = CURL_SOCKET_BAD;
	s->on_ready = p->on_ready;
	s->ready_ctx = p->ctx;
	conn_watch_init(&s->watch, CONN_IMAP, p->route->name);
	snprintf(s->watch.label, sizeof(s->watch.label), "%s", p->label);
	snprintf(s->label, sizeof(s->label), "%s", p->label);
	imap_reader_init(&s->reader);
	conn_mismatch_init(&s->mismatch, &cp);
	s->easy = conn_easy_new(&cp, &s->watch, err, errlen);
	if (!s->easy)
		goto fail;
	if (curl_easy_setopt(s->easy, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK) {
		snprintf(err, errlen, "libcurl refused CONNECT_ONLY");
		goto fail;
	}
	if (conn_multi_add(multi, s->easy, err, errlen) != 0)
		goto fail;
	s->added = true;
	return s;
fail:
	session_free(s);
	return NULL;
}

void session_steps(const struct imap_session *s, struct conn_steps *out)
{
	conn_steps(s->easy, &s->watch, out);
}

CURL *session_easy(const struct imap_session *s)
{
	return s->easy;
}

static bool login_sent(const struct conn_watch *w)
{
	return strcasecmp(w->last_verb, "LOGIN") == 0 || strcasecmp(w->last_verb, "AUTHENTICATE") == 0;
}

/* A failure before the greeting or after the login was sent. */
static bool classify_login(struct imap_session *s, CURLcode code, const char *why)
{
	const struct conn_watch *w = &s->watch;
	char said[160];

	if (!login_sent(w) && code != CURLE_LOGIN_DENIED)
		return false;
	if (code == CURLE_OPERATION_TIMEDOUT && login_sent(w))
		session_fail(s, RESULT_IMAP_ERROR, "%s: no answer from the server in time", w->last_verb);
	else if (login_sent(w) && !w->answered)
		/* No reply to the login: the connection was lost, nothing refused. */
		session_fail(s, RESULT_IMAP_ERROR, "connection lost after %s: %s", w->last_verb, why);
	else if (conn_sasl_challenge_text(w->last_reply, said, sizeof(said)))
		session_fail(s, RESULT_IMAP_AUTH_FAILED, "login refused: %s", said);
	else
		session_fail(s, RESULT_IMAP_AUTH_FAILED, "%s%s",
		             w->last_reply[0] && login_sent(w) ? "login refused: " : "",
		             w->last_reply[0] && login_sent(w) ? w->last_reply : why);
	if (s->failed && s->result == RESULT_IMAP_AUTH_FAILED)   /* plain words, issue 19 */
		auth_hint_add(w->last_reply, s->error, sizeof(s->error));
	return true;
}

static void classify_connect(struct imap_session *s, CURLcode code)
{
	const struct conn_watch *w = &s->watch;
	const char *why = conn_error_text(w, code);
	curl_off_t tcp_us = 0;
	char said[RESULT_ERROR_MAX];
	bool timed_out = code == CURLE_OPERATION_TIMEDOUT;

	curl_easy_getinfo(s->easy, CURLINFO_CONNECT_TIME_T, &tcp_us);
	if (conn_local_resource_error(code, w, said, sizeof(said)))
		session_fail(s, RESULT_INTERNAL_ERROR, "%s", said);
	else if (code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT)
		session_fail(s, RESULT_IMAP_CONNECT_FAILED, "%s", why);
	else if (conn_is_tls_error(code)) {
		conn_tls_error_text(s->easy, w, code, said, sizeof(said));
		session_fail(s, RESULT_IMAP_TLS_FAILED, "%s", said);
	} else if (timed_out && strcasecmp(w->last_verb, "STARTTLS") == 0 && !w->tls_up)
		session_fail(s, RESULT_IMAP_TLS_FAILED, "TLS handshake after STARTTLS timed out");
	else if (classify_login(s, code, why))
		return;
	else if (!w->greeting_seen && timed_out && tcp_us > 0 &&
	         s->route->imap_tls == TLS_IMPLICIT && !w->tls_up)
		session_fail(s, RESULT_IMAP_TLS_FAILED, "TLS handshake timed out");
	else if (!w->greeting_seen)
		session_fail(s, RESULT_IMAP_CONNECT_FAILED, "%s%s",
		             timed_out && tcp_us > 0 ? "no greeting: " : "", why);
	else if (w->last_verb[0] == '\0')
		session_fail(s, RESULT_IMAP_CONNECT_FAILED, "greeting: %s", w->last_reply);
	else
		session_fail(s, RESULT_IMAP_ERROR, "%s: %s", w->last_verb, why);
}

static void capabilities_done(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	(void)ctx;
	(void)r;   /* refused: the server offers nothing we use */
	s->on_ready(s, s->ready_ctx);
}

static const struct session_handler capability_handler = { .on_done = capabilities_done };

void session_connect_step(struct imap_session *s, int64_t now)
{
	if (s->state != SESSION_CONNECTING || !s->added)
		return;
	char words[RESULT_ERROR_MAX];

	conn_mismatch_tick(&s->mismatch, s->multi, s->easy, &s->watch, now);
	if (!conn_mismatch_found(&s->mismatch, words, sizeof(words)))
		return;
	/* The answer is in: libcurl's transfer would only wait for the timeout. */
	curl_multi_remove_handle(s->multi, s->easy);
	s->added = false;
	conn_mismatch_free(&s->mismatch);
	session_fail(s, RESULT_IMAP_TLS_FAILED, "%s", words);
}

int64_t session_connect_timer(const struct imap_session *s)
{
	if (s->state != SESSION_CONNECTING || !s->added)
		return 0;
	return conn_mismatch_next_timer(&s->mismatch, &s->watch);
}

void session_connected(struct imap_session *s, CURLcode code)
{
	conn_mismatch_free(&s->mismatch);   /* the dialogue itself has answered */
	if (code != CURLE_OK) {
		classify_connect(s, code);
		return;
	}
	if (s->state == SESSION_CLOSED)
		return;   /* given up on while connecting */
	if (curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &s->fd) != CURLE_OK ||
	    s->fd == CURL_SOCKET_BAD) {
		session_fail(s, RESULT_INTERNAL_ERROR, "libcurl gave no IMAP socket");
		return;
	}
	s->state = SESSION_OPEN;
	s->logged_in = true;
	s->may_read = true;    /* libcurl may hold bytes read past the login */
	if (s->watch.login_caps[0] && imap_is_capability(s->watch.login_caps)) {
		/* The login reply said what the server offers: no need to ask. */
		session_note_capabilities(s, s->watch.login_caps);
		s->on_ready(s, s->ready_ctx);
		return;
	}
	session_cmd(s, &capability_handler, NULL, "CAPABILITY");
}

void session_free(struct imap_session *s)
{
	if (!s)
		return;
	conn_mismatch_free(&s->mismatch);
	if (s->easy) {
		/* Cut the socket first: libcurl's own disconnect would send LOGOUT
		 * and wait for the answer, blocking every other route. */
		curl_socket_t fd = s->fd;
		if (fd == CURL_SOCKET_BAD)
			curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &fd);
		if (fd != CURL_SOCKET_BAD)
			shutdown(fd, SHUT_RDWR);
		if (s->added)
			curl_multi_remove_handle(s->multi, s->easy);
		curl_easy_cleanup(s->easy);
	}
	imap_reader_use(&s->reader, NULL, 0);
	free(s->whole);
	free(s->whole_stale);
	free(s);
}
