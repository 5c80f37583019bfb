/*
 * transaction.c - the SMTP transaction the leg speaks itself after
 * libcurl's hand-over (see smtp_conn.h):
 *
 *   MAIL FROM:<from> [SIZE=n] [RET=HDRS ENVID=<token>] [SMTPUTF8]
 *   RCPT TO:<to> [NOTIFY=FAILURE,DELAY]
 *   DATA, 354, the message dot-stuffed and ".", the final reply, QUIT
 *
 * One command at a time (no PIPELINING: each reply decides whether the
 * next command may go, and a refusal names its command).  Every line goes
 * through the leg's conn_watch as libcurl's did, so the trace, the last
 * reply (multi-line replies joined, the enhanced code once) and its code
 * are kept in one place for both halves of the dialogue.  A refusal at
 * any step is smtp_rejected with the server's words; a stall is the
 * probe's deadline's to call (smtp_awaiting).
 */
#include "leg_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth_hints.h"
#include "clock.h"
#include "log.h"
#include "smtp_reply.h"

void smtp_conclude(struct smtp_conn *l, bool ok, enum result_class r, const char *fmt, ...)
{
	struct smtp_outcome *o = &l->out;
	const struct conn_watch *w = &l->watch;
	va_list ap;

	if (l->done)
		return;
	l->done = true;
	o->ok = ok;
	o->result = ok ? RESULT_SUCCESS : r;
	if (!ok && fmt) {
		va_start(ap, fmt);
		vsnprintf(o->error, sizeof(o->error), fmt, ap);
		va_end(ap);
		/* Known refusals (Microsoft's SMTP AUTH policy, Google's app
		 * passwords) get the fix named. */
		auth_hint_add(w->last_reply, o->error, sizeof(o->error));
	}
	o->code = w->last_code > 0 ? w->last_code : -1;
	if (!o->t_done_ns)
		o->t_done_ns = clock_mono_ns();
	snprintf(o->tls_version, sizeof(o->tls_version), "%s", w->tls_version);
	o->cert_not_after = w->cert_not_after;
	conn_steps(l->easy, w, &o->steps);
	o->send_ns = ok && l->t_mail_ns ? o->t_done_ns - l->t_mail_ns : -1;
	/* The reply that decided the leg: the one to the message data, or a
	 * refusal; a TLS or connection failure has none. */
	if (ok || w->last_code >= 400)
		smtp_reply_status(w->last_reply, o->status, sizeof(o->status));
}

/* The command each state awaits the reply to, in words a reader of
 * `error` knows. */
static const char *step_name(enum smtp_state st)
{
	switch (st) {
	case SMTP_MAIL: return "MAIL FROM";
	case SMTP_RCPT: return "RCPT TO";
	case SMTP_DATA: return "DATA";
	case SMTP_BODY: return "message data";
	default: return "QUIT";
	}
}

static void close_leg(struct smtp_conn *l)
{
	if (l->fd != CURL_SOCKET_BAD)
		shutdown(l->fd, SHUT_RDWR);
	l->state = SMTP_CLOSED;
}

/* The connection failed under a command: "<command>: <what>: <why>". */
static void fail_step(struct smtp_conn *l, const char *what, const char *why)
{
	smtp_conclude(l, false, RESULT_SMTP_REJECTED, "%s: %s: %s", step_name(l->state), what, why);
	close_leg(l);
}

/* --- output -------------------------------------------------------------- */

static bool out_reserve(struct smtp_conn *l, size_t more)
{
	char *p;
	size_t cap = l->out_cap ? l->out_cap : 1024;

	if (l->out_len + more <= l->out_cap)
		return true;
	while (cap < l->out_len + more)
		cap *= 2;
	p = realloc(l->outbuf, cap);
	if (!p)
		return false;
	l->outbuf = p;
	l->out_cap = cap;
	return true;
}

static void flush_out(struct smtp_conn *l)
{
	while (l->out_sent < l->out_len && l->state != SMTP_CLOSED) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(l->easy, l->outbuf + l->out_sent, l->out_len - l->out_sent, &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK) {
			if (l->state == SMTP_QUIT)
				close_leg(l);
			else
				fail_step(l, "connection lost while sending", curl_easy_strerror(rc));
			return;
		}
		l->out_sent += n;
		l->may_read = true;   /* TLS may read while it writes */
	}
	l->out_len = l->out_sent = 0;
}

/* A command line: traced (the watch redacts nothing here: the envelope
 * holds no secret) and queued. */
static void send_line(struct smtp_conn *l, enum smtp_state awaiting, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void send_line(struct smtp_conn *l, enum smtp_state awaiting, const char *fmt, ...)
{
	char line[1100];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2 || !out_reserve(l, (size_t)n + 2)) {
		smtp_conclude(l, false, RESULT_INTERNAL_ERROR, "SMTP command too long or no memory");
		close_leg(l);
		return;
	}
	conn_watch_feed(&l->watch, CURLINFO_HEADER_OUT, line, (size_t)n);
	memcpy(line + n, "\r\n", 2);
	memcpy(l->outbuf + l->out_len, line, (size_t)n + 2);
	l->out_len += (size_t)n + 2;
	l->state = awaiting;
	l->t_sent_ns = clock_mono_ns();
	flush_out(l);
}

/* The message, dot-stuffed (RFC 5321 §4.5.2), then ".". */
static void send_body(struct smtp_conn *l)
{
	size_t dots = 0;
	bool line_start = true;

	for (size_t i = 0; i < l->msg_len; i++) {
		dots += line_start && l->msg[i] == '.';
		line_start = l->msg[i] == '\n';
	}
	if (!out_reserve(l, l->msg_len + dots + 8)) {
		smtp_conclude(l, false, RESULT_INTERNAL_ERROR, "no memory for the message");
		close_leg(l);
		return;
	}
	line_start = true;
	for (size_t i = 0; i < l->msg_len; i++) {
		if (line_start && l->msg[i] == '.')
			l->outbuf[l->out_len++] = '.';
		l->outbuf[l->out_len++] = l->msg[i];
		line_start = l->msg[i] == '\n';
	}
	if (l->msg_len && l->msg[l->msg_len - 1] != '\n') {
		memcpy(l->outbuf + l->out_len, "\r\n", 2);
		l->out_len += 2;
	}
	memcpy(l->outbuf + l->out_len, ".\r\n", 3);
	l->out_len += 3;
	if (log_trace_enabled())
		log_debug("%s > (%zu bytes of message data)", l->watch.label, l->msg_len);
	l->state = SMTP_BODY;
	l->t_sent_ns = clock_mono_ns();
	flush_out(l);
}

/* --- the envelope ---------------------------------------------------------- */

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

void smtp_transaction_start(struct smtp_conn *l)
{
	const struct route *r = l->route;
	unsigned caps = l->watch.ehlo_caps;
	char size[32] = "", dsn[96] = "";
	bool utf8 = !ascii(r->from) || !ascii(r->to);

	l->may_read = true;   /* libcurl may hold bytes read past the login */
	if (utf8 && !(caps & CONN_EHLO_SMTPUTF8)) {
		smtp_conclude(l, false, RESULT_SMTP_REJECTED,
		              "the addresses need SMTPUTF8, which the server does not offer");
		close_leg(l);
		return;
	}
	if (caps & CONN_EHLO_SIZE)
		snprintf(size, sizeof(size), " SIZE=%zu", l->msg_len);
	if (caps & CONN_EHLO_DSN) {
		/* The token is hex: valid xtext as it is (RFC 3461 §4). */
		snprintf(dsn, sizeof(dsn), " RET=HDRS ENVID=%s", l->token);
		l->out.dsn = true;
	}
	l->t_mail_ns = clock_mono_ns();
	send_line(l, SMTP_MAIL, "MAIL FROM:<%s>%s%s%s", r->from, size, dsn, utf8 ? " SMTPUTF8" : "");
}

void smtp_transaction_quit(struct smtp_conn *l)
{
	l->may_read = true;
	send_line(l, SMTP_QUIT, "QUIT");
}

/* A whole reply came (last_code, last_reply in the watch): the next step. */
static void on_reply(struct smtp_conn *l, int64_t now)
{
	const struct conn_watch *w = &l->watch;
	int code = w->last_code;

	if (l->state == SMTP_QUIT) {
		close_leg(l);
		return;
	}
	if (code >= 400 || code < 200 || (l->state == SMTP_DATA) != (code == 354)) {
		if (code >= 400)
			smtp_conclude(l, false, RESULT_SMTP_REJECTED, "%s refused: %.220s", step_name(l->state),
			              w->last_reply);
		else
			smtp_conclude(l, false, RESULT_SMTP_REJECTED, "%s: unexpected reply: %.200s",
			              step_name(l->state), w->last_reply);
		send_line(l, SMTP_QUIT, "QUIT");
		return;
	}
	switch (l->state) {
	case SMTP_MAIL:
		send_line(l, SMTP_RCPT, "RCPT TO:<%s>%s", l->route->to,
		          l->out.dsn ? " NOTIFY=FAILURE,DELAY" : "");
		break;
	case SMTP_RCPT:
		send_line(l, SMTP_DATA, "DATA");
		break;
	case SMTP_DATA:
		send_body(l);
		break;
	default:   /* SMTP_BODY: accepted */
		l->out.t_done_ns = now;
		smtp_conclude(l, true, RESULT_SUCCESS, NULL);
		send_line(l, SMTP_QUIT, "QUIT");
		break;
	}
}

/* --- input ------------------------------------------------------------------ */

static void take_line(struct smtp_conn *l, const char *line, size_t n, int64_t now)
{
	conn_watch_feed(&l->watch, CURLINFO_HEADER_IN, line, n);
	if (!l->watch.reply_open && l->state != SMTP_CLOSED)
		on_reply(l, now);
}

static void take_bytes(struct smtp_conn *l, const char *buf, size_t n, int64_t now)
{
	for (size_t i = 0; i < n && l->state != SMTP_CLOSED; i++) {
		if (buf[i] == '\n') {
			take_line(l, l->inbuf, l->in_len, now);
			l->in_len = 0;
		} else if (buf[i] != '\r' && l->in_len < sizeof(l->inbuf) - 1) {
			/* A longer line is cut: only its start is read. */
			l->inbuf[l->in_len++] = buf[i];
		}
	}
}

static void pump_in(struct smtp_conn *l, int64_t now)
{
	char buf[4096];

	while (l->state != SMTP_CLOSED && l->state != SMTP_CONNECTING) {
		size_t n = 0;
		CURLcode rc = curl_easy_recv(l->easy, buf, sizeof(buf), &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK || n == 0) {
			if (l->state == SMTP_QUIT)
				close_leg(l);
			else
				fail_step(l, "connection lost",
				          rc == CURLE_OK ? "closed by server" : curl_easy_strerror(rc));
			return;
		}
		take_bytes(l, buf, n, now);
	}
}

/* --- the event loop's side ------------------------------------------------- */

void smtp_transaction_step(struct smtp_conn *l, int64_t now)
{
	if (l->state == SMTP_CONNECTING || l->state == SMTP_HELD || l->state == SMTP_CLOSED)
		return;
	flush_out(l);
	if (l->may_read) {
		l->may_read = false;
		pump_in(l, now);
	}
	/* QUIT's answer is not waited for past the cleanup bound. */
	if (l->state == SMTP_QUIT && now >= budget_cleanup_bound(l->budget, now, l->t_sent_ns + BUDGET_FINISH_NS))
		close_leg(l);
}

void smtp_conn_io_ready(struct smtp_conn *l)
{
	l->may_read = true;
}

curl_socket_t smtp_conn_wait_fd(const struct smtp_conn *l, bool *want_write)
{
	*want_write = l->out_sent < l->out_len;
	if (l->state == SMTP_CONNECTING || l->state == SMTP_HELD || l->state == SMTP_CLOSED)
		return CURL_SOCKET_BAD;
	return l->fd;
}

int64_t smtp_transaction_timer(const struct smtp_conn *l)
{
	if (l->state != SMTP_QUIT)
		return 0;
	return budget_cleanup_bound(l->budget, l->t_sent_ns, l->t_sent_ns + BUDGET_FINISH_NS);
}

bool smtp_conn_awaiting(const struct smtp_conn *l, int64_t *since, const char **what)
{
	if (l->state < SMTP_MAIL || l->state > SMTP_BODY)
		return false;
	*since = l->t_sent_ns;
	*what = step_name(l->state);
	return true;
}

bool smtp_conn_closed(const struct smtp_conn *l)
{
	return l->state == SMTP_CLOSED;
}

void smtp_conn_abandon(struct smtp_conn *l)
{
	if (l->state != SMTP_QUIT)
		close_leg(l);
}
