/*
 * session.c - the IMAP engine (see session.h): I/O, tags, events, the
 * capability table, logout and the session's own bounds.  The hand-over
 * from libcurl and the classification of a failed connect are in
 * handover.c.
 *
 * Every server line goes through imap_reader, so literals and overlong
 * lines are framed correctly and cost no memory.  Untagged data is handled
 * in every state (RFC 3501 §5.3): the message count is kept across EXISTS
 * and EXPUNGE, so only a count that grows is news.
 */
#include "session.h"
#include "session_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "clock.h"
#include "log.h"

/* Capabilities as bits, and the quirk each one signals.  Other quirks are
 * noticed as they happen: no [UIDNEXT] at SELECT (Courier: prepare.c asks
 * for the top UID), late news in IDLE (Dovecot's 500 ms, Debian's stock
 * Courier's 60 s: watch.c leaves IDLE for a NOOP), blanks at line ends
 * (Yahoo, AOL: the parsers accept them). */
static const struct { const char *name; unsigned bit; } cap_table[] = {
	{ "IDLE", IMAP_CAP_IDLE },          /* push: wait in IDLE between looks */
	{ "UIDPLUS", IMAP_CAP_UIDPLUS },    /* UID EXPUNGE: remove only our UIDs */
	{ "MOVE", IMAP_CAP_MOVE },          /* UID MOVE to Gmail's Trash */
	{ "X-GM-EXT-1", IMAP_CAP_GMAIL },   /* Gmail: deleting from INBOX only archives */
	{ "LIST-STATUS", IMAP_CAP_LIST_STATUS },  /* one LIST names the junk mailbox */
	{ "SPECIAL-USE", IMAP_CAP_SPECIAL_USE },  /* ... and says its UIDNEXT */
	{ "NOTIFY", IMAP_CAP_NOTIFY },      /* news of the junk mailbox without peeks */
};

void session_note_capabilities(struct imap_session *s, const char *text)
{
	s->caps = 0;
	for (size_t i = 0; i < sizeof(cap_table) / sizeof(cap_table[0]); i++)
		if (imap_capability_has(text, cap_table[i].name))
			s->caps |= cap_table[i].bit;
}

/* --- ending ---------------------------------------------------------------- */

void session_close(struct imap_session *s)
{
	if (s->fd != CURL_SOCKET_BAD)
		shutdown(s->fd, SHUT_RDWR);
	s->state = SESSION_CLOSED;
	s->h = NULL;
	s->timer_fn = NULL;
}

void session_fail(struct imap_session *s, enum result_class r, const char *fmt, ...)
{
	va_list ap;
	char msg[RESULT_ERROR_MAX];

	if (s->state == SESSION_CLOSED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->settled) {
		/* The probe has its verdict: a cleanup problem is worth a
		 * warning, never a changed verdict. */
		log_warn("%s: after the verdict: %s", s->label, msg);
	} else if (s->state != SESSION_LOGGING_OUT && !s->failed) {
		s->failed = true;
		s->result = r;
		snprintf(s->error, sizeof(s->error), "%s", msg);
	}
	session_close(s);
}

void session_settle(struct imap_session *s)
{
	s->settled = true;
}

void session_bound(struct imap_session *s, int64_t until)
{
	s->close_by_ns = until;
}

/* --- output ------------------------------------------------------------ */

static void flush_out(struct imap_session *s)
{
	while (s->out_len > 0 && s->state != SESSION_CLOSED) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(s->easy, s->outbuf, s->out_len, &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK) {
			session_fail(s, RESULT_IMAP_ERROR, "connection lost while sending %s: %s",
			             s->cmd_name, curl_easy_strerror(rc));
			return;
		}
		memmove(s->outbuf, s->outbuf + n, s->out_len - n);
		s->out_len -= n;
		/* TLS may read while it writes: look for input after sending. */
		s->may_read = true;
	}
}

static bool queue_line(struct imap_session *s, const char *line)
{
	size_t n = strlen(line);
	char shown[300];

	if (s->out_len + n + 2 > sizeof(s->outbuf)) {
		session_fail(s, RESULT_INTERNAL_ERROR, "IMAP output buffer full");
		return false;
	}
	memcpy(s->outbuf + s->out_len, line, n);
	memcpy(s->outbuf + s->out_len + n, "\r\n", 2);
	s->out_len += n + 2;
	conn_redact_client_line(CONN_IMAP, line, shown, sizeof(shown));
	conn_trace_line(&s->watch, ">", shown);
	return true;
}

/* The buffer a command's responses are kept whole in.  While an on_done
 * runs, the reply it reads may live in it: a buffer let go then is freed
 * only after on_done has returned. */
static void whole_release(struct imap_session *s)
{
	if (!s->whole)
		return;
	imap_reader_use(&s->reader, NULL, 0);
	if (s->in_done) {
		free(s->whole_stale);
		s->whole_stale = s->whole;
	} else {
		free(s->whole);
	}
	s->whole = NULL;
}

static bool whole_take(struct imap_session *s, size_t cap)
{
	whole_release(s);
	if (cap == 0)
		return true;
	s->whole = malloc(cap);
	if (!s->whole)
		return false;
	imap_reader_use(&s->reader, s->whole, cap);
	return true;
}

/* The command's name for messages: its first word, or the second after UID. */
static void command_name(char *dst, size_t cap, const char *cmd)
{
	size_t n = 0;

	if (strncasecmp(cmd, "UID ", 4) == 0)
		cmd += 4;
	while (cmd[n] && cmd[n] != ' ' && n + 1 < cap) {
		dst[n] = cmd[n];
		n++;
	}
	dst[n] = '\0';
}

static void cmd_v(struct imap_session *s, const struct session_handler *h, void *ctx,
                  const char *fmt, va_list ap)
{
	char line[1300];
	int n;

	if (s->state != SESSION_OPEN)
		return;
	if (!whole_take(s, h->keep_whole)) {
		session_fail(s, RESULT_INTERNAL_ERROR, "out of memory for a %zu-byte response", h->keep_whole);
		return;
	}
	s->h = h;
	s->h_ctx = ctx;
	s->selecting = false;
	s->idling = false;
	s->n_copy = 0;
	snprintf(s->tag, sizeof(s->tag), "m%u", ++s->tag_seq);
	n = snprintf(line, sizeof(line), "%s ", s->tag);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	command_name(s->cmd_buf, sizeof(s->cmd_buf), line + n);
	s->cmd_name = s->cmd_buf;
	s->cmd_sent_ns = clock_mono_ns();
	if (queue_line(s, line))
		flush_out(s);
}

void session_cmd(struct imap_session *s, const struct session_handler *h, void *ctx,
                 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_v(s, h, ctx, fmt, ap);
	va_end(ap);
}

void session_select(struct imap_session *s, const char *mailbox,
                    const struct session_handler *h, void *ctx)
{
	char mbox[SESSION_MAILBOX_MAX * 2 + 4];

	memset(&s->sel, 0, sizeof(s->sel));
	session_quote(mailbox, mbox, sizeof(mbox));
	session_cmd(s, h, ctx, "SELECT %s", mbox);
	s->selecting = true;
}

void session_idle_done(struct imap_session *s, int64_t now)
{
	/* Only once per IDLE: news may come again before its answer. */
	if (s->state != SESSION_OPEN || !s->idling || !queue_line(s, "DONE"))
		return;
	s->idling = false;
	/* The stall clock runs from DONE, not from the IDLE minutes ago. */
	s->cmd_sent_ns = now;
	flush_out(s);
}

void session_logout(struct imap_session *s, int64_t until)
{
	if (s->state == SESSION_CONNECTING || s->fd == CURL_SOCKET_BAD) {
		session_close(s);
		return;
	}
	if (s->state != SESSION_OPEN)
		return;
	if (s->idling)
		queue_line(s, "DONE");
	whole_release(s);
	s->h = NULL;          /* a reply still due is not waited for */
	s->timer_fn = NULL;
	if (until)
		s->close_by_ns = until;
	s->state = SESSION_LOGGING_OUT;
	snprintf(s->logout_tag, sizeof(s->logout_tag), "m%u", ++s->tag_seq);
	{
		char line[40];
		snprintf(line, sizeof(line), "%s LOGOUT", s->logout_tag);
		s->cmd_name = "LOGOUT";
		if (queue_line(s, line))
			flush_out(s);
	}
}

/* --- input: events -------------------------------------------------------- */

static void note_count(struct imap_session *s, struct imap_event *ev)
{
	ev->first = !s->sel.exists_known;
	ev->grew = s->sel.exists_known && ev->number > s->sel.exists;
	s->sel.exists = ev->number;
	s->sel.exists_known = true;
	if (ev->grew) {
		s->news = true;
		s->news_ns = ev->now;
	}
}

/* An untagged OK/NO with a response code the engine keeps. */
static void note_code(struct imap_session *s, const char *rest)
{
	uint32_t n;
	size_t count;

	if (s->selecting && imap_parse_code_number(rest, "UIDNEXT", &n))
		s->sel.uidnext = n;
	if (s->selecting && imap_parse_code_number(rest, "UIDVALIDITY", &n))
		s->sel.uidvalidity = n;
	if (imap_parse_copyuid(rest, s->copy, SESSION_UIDS_MAX, &count))
		s->n_copy = count;   /* MOVE sends COPYUID untagged (RFC 6851) */
}

/* The kind of an untagged response and what it says, parsed once. */
static void read_event(struct imap_session *s, const char *text, const struct imap_response *r,
                       struct imap_event *ev)
{
	size_t len = strlen(text);

	if (imap_parse_exists(text, &ev->number)) {
		ev->kind = IMAP_EV_EXISTS;
		note_count(s, ev);
	} else if (len > 8 && strcasecmp(text + len - 8, " EXPUNGE") == 0) {
		const char *p = text + 2;
		ev->kind = IMAP_EV_EXPUNGE;
		if (imap_parse_u32(&p, &ev->number) && s->sel.exists > 0)
			s->sel.exists--;
	} else if (imap_parse_fetch(text, ev->truncated, &ev->fetch)) {
		ev->kind = IMAP_EV_FETCH;
	} else if (imap_parse_search(text, s->search, SESSION_UIDS_MAX, &ev->n_uids)) {
		ev->kind = IMAP_EV_SEARCH;
		ev->uids = s->search;
	} else if (imap_parse_status(text, &ev->status)) {
		ev->kind = IMAP_EV_STATUS;
	} else if (imap_parse_list(text, &ev->list_attrs, ev->list_name, sizeof(ev->list_name))) {
		ev->kind = IMAP_EV_LIST;
	} else if (imap_is_capability(text) && strncasecmp(text, "* CAPABILITY ", 13) == 0) {
		ev->kind = IMAP_EV_CAPABILITY;
	}
	if (imap_is_capability(text))
		session_note_capabilities(s, text);
	if (r->status == IMAP_ST_OK || r->status == IMAP_ST_NO)
		note_code(s, r->rest);
}

static void on_untagged(struct imap_session *s, const char *text, const struct imap_response *r,
                        bool truncated, int64_t now)
{
	struct imap_event ev;

	if (r->status == IMAP_ST_BYE) {
		if (s->state != SESSION_LOGGING_OUT)
			session_fail(s, RESULT_IMAP_ERROR, "server ended the session during %s: BYE %s",
			             s->cmd_name ? s->cmd_name : "login", r->rest);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = IMAP_EV_OTHER;
	ev.text = text;
	ev.truncated = truncated;
	ev.now = now;
	read_event(s, text, r, &ev);
	if ((ev.kind == IMAP_EV_EXISTS || ev.kind == IMAP_EV_STATUS) && s->listen_fn)
		s->listen_fn(s, s->listen_ctx, &ev);
	if (s->h && s->h->on_event && s->state == SESSION_OPEN)
		s->h->on_event(s, s->h_ctx, &ev);
}

static void on_tagged(struct imap_session *s, const struct imap_response *r, int64_t now)
{
	const struct session_handler *h = s->h;
	struct imap_reply reply = { r->status, r->rest, s->copy, 0, now };
	size_t count;

	if (s->state == SESSION_LOGGING_OUT) {
		if (strcmp(r->tag, s->logout_tag) == 0)
			session_close(s);
		return;
	}
	if (!h || strcmp(r->tag, s->tag) != 0)
		return;
	if (imap_parse_copyuid(r->rest, s->copy, SESSION_UIDS_MAX, &count))
		s->n_copy = count;
	reply.n_copy = s->n_copy;
	s->h = NULL;
	s->selecting = false;
	s->in_done = true;
	h->on_done(s, s->h_ctx, &reply);
	s->in_done = false;
	free(s->whole_stale);
	s->whole_stale = NULL;
	/* A command sent from on_done took its own buffer, if it wants one. */
	if (!s->h || !s->h->keep_whole)
		whole_release(s);
}

struct feed_ctx {
	struct imap_session *s;
	int64_t now;
};

static int on_response(void *ud, const char *text, bool truncated)
{
	struct feed_ctx *c = ud;
	struct imap_session *s = c->s;
	struct imap_response r;

	if (log_trace_enabled()) {
		char shown[300];
		snprintf(shown, sizeof(shown), "%s%s", text, truncated ? " ...(cut)" : "");
		conn_trace_line(&s->watch, "<", shown);
	}
	imap_parse_response(text, &r);
	switch (r.kind) {
	case IMAP_CONTINUATION:
		if (s->h && s->h->on_continuation) {
			s->idling = true;
			s->h->on_continuation(s, s->h_ctx, c->now);
		}
		break;
	case IMAP_UNTAGGED:
		on_untagged(s, text, &r, truncated, c->now);
		break;
	case IMAP_TAGGED:
		on_tagged(s, &r, c->now);
		break;
	case IMAP_GARBAGE:
		log_debug("%s: ignoring unparseable line", s->label);
		break;
	}
	return s->state == SESSION_CLOSED ? 1 : 0;
}

static void pump_in(struct imap_session *s, int64_t now)
{
	char buf[16384];
	struct feed_ctx ctx = { s, now };

	/* Read until libcurl says AGAIN: TLS may hold decrypted bytes that the
	 * socket no longer signals. */
	while (s->state == SESSION_OPEN || s->state == SESSION_LOGGING_OUT) {
		size_t n = 0;
		CURLcode rc = curl_easy_recv(s->easy, buf, sizeof(buf), &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK || n == 0) {
			if (s->state == SESSION_LOGGING_OUT)
				session_close(s);
			else
				session_fail(s, RESULT_IMAP_ERROR, "connection lost%s%s: %s",
				             s->cmd_name ? " during " : "", s->cmd_name ? s->cmd_name : "",
				             rc == CURLE_OK ? "closed by server" : curl_easy_strerror(rc));
			return;
		}
		if (imap_reader_feed(&s->reader, buf, n, on_response, &ctx) != 0)
			return;
	}
}

/* --- news, timers, the loop ----------------------------------------------- */

void session_listen(struct imap_session *s,
                    void (*fn)(struct imap_session *s, void *ctx, const struct imap_event *ev),
                    void *ctx)
{
	s->listen_fn = fn;
	s->listen_ctx = ctx;
}

bool session_take_news(struct imap_session *s, int64_t *when)
{
	bool news = s->news;

	if (news && when)
		*when = s->news_ns;
	s->news = false;
	return news;
}

void session_force_news(struct imap_session *s, int64_t now)
{
	s->news = true;
	s->news_ns = now;
}

void session_timer(struct imap_session *s, int64_t when,
                   void (*fn)(struct imap_session *s, void *ctx, int64_t now), void *ctx)
{
	s->timer_ns = when;
	s->timer_fn = when ? fn : NULL;
	s->timer_ctx = ctx;
}

void session_step(struct imap_session *s, int64_t now)
{
	if (s->state == SESSION_CONNECTING && s->close_by_ns && now >= s->close_by_ns)
		session_close(s);   /* finishing, and the connect is not even done */
	if (s->state == SESSION_CONNECTING || s->state == SESSION_CLOSED)
		return;
	flush_out(s);
	if (s->may_read) {
		/* pump_in reads until libcurl says AGAIN, so nothing is left
		 * buffered that the socket would not signal. */
		s->may_read = false;
		pump_in(s, now);
	}
	if (s->state == SESSION_CLOSED)
		return;
	/* The task's timer first: one due with the bound says its piece. */
	if (s->timer_fn && now >= s->timer_ns) {
		void (*fn)(struct imap_session *, void *, int64_t) = s->timer_fn;
		s->timer_fn = NULL;
		fn(s, s->timer_ctx, now);
	}
	if (s->state != SESSION_CLOSED && s->close_by_ns && now >= s->close_by_ns) {
		if (s->settled && s->state != SESSION_LOGGING_OUT)
			log_warn("%s: cleanup of the found probe did not finish in time", s->label);
		session_close(s);
	}
}

void session_io_ready(struct imap_session *s)
{
	s->may_read = true;
}

curl_socket_t session_wait_fd(const struct imap_session *s, bool *want_write)
{
	*want_write = s->out_len > 0;
	if (s->state == SESSION_CONNECTING || s->state == SESSION_CLOSED)
		return CURL_SOCKET_BAD;
	return s->fd;
}

int64_t session_next_timer(const struct imap_session *s)
{
	int64_t t = s->timer_fn ? s->timer_ns : 0;

	/* A closed session keeps its old bound; it must not count, or the
	 * cycle would spin on a timer in the past. */
	if (s->state == SESSION_CLOSED)
		return 0;
	if (s->close_by_ns && (t == 0 || s->close_by_ns < t))
		t = s->close_by_ns;
	return t;
}

/* --- what the engine knows ------------------------------------------------ */

const struct route *session_route(const struct imap_session *s) { return s->route; }
const char *session_label(const struct imap_session *s) { return s->label; }
bool session_has(const struct imap_session *s, unsigned cap) { return (s->caps & cap) != 0; }
void session_drop_cap(struct imap_session *s, unsigned cap) { s->caps &= ~cap; }
const struct imap_selected *session_selected(const struct imap_session *s) { return &s->sel; }
bool session_logged_in(const struct imap_session *s) { return s->logged_in; }
bool session_closed(const struct imap_session *s) { return s->state == SESSION_CLOSED; }
bool session_connecting(const struct imap_session *s) { return s->state == SESSION_CONNECTING; }
bool session_logging_out(const struct imap_session *s) { return s->state == SESSION_LOGGING_OUT; }
const char *session_tls_version(const struct imap_session *s) { return s->watch.tls_version; }
int64_t session_cert_not_after(const struct imap_session *s) { return s->watch.cert_not_after; }

bool session_failed(const struct imap_session *s, enum result_class *r, const char **error)
{
	if (!s->failed)
		return false;
	*r = s->result;
	*error = s->error;
	return true;
}

bool session_busy(const struct imap_session *s)
{
	return s->state == SESSION_OPEN && s->h;
}

bool session_awaiting(const struct imap_session *s, int64_t *since, const char **what)
{
	if (s->state != SESSION_OPEN || !s->h || s->idling)
		return false;
	*since = s->cmd_sent_ns;
	*what = s->cmd_name;
	return true;
}

/* --- writing commands ------------------------------------------------------ */

void session_quote(const char *in, char *dst, size_t dstlen)
{
	size_t n = 0;

	if (dstlen < 3) {
		if (dstlen)
			dst[0] = '\0';
		return;
	}
	dst[n++] = '"';
	for (; *in && n + 3 < dstlen; in++) {
		if (*in == '"' || *in == '\\')
			dst[n++] = '\\';
		dst[n++] = *in;
	}
	dst[n++] = '"';
	dst[n] = '\0';
}

void session_uid_list(const uint32_t *uids, size_t count, char *dst, size_t dstlen)
{
	size_t n = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < count && n + 12 < dstlen; i++)
		n += (size_t)snprintf(dst + n, dstlen - n, "%s%u", i ? "," : "", uids[i]);
}

const char *session_status_word(const struct imap_reply *r)
{
	return r->status == IMAP_ST_NO ? "NO" : r->status == IMAP_ST_BAD ? "BAD" : "failed";
}
