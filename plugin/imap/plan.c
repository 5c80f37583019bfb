/*
 * imap.c - see imap.h and imap_session.h.
 *
 * One command is outstanding at a time (tag "m<N>"), except LOGOUT, which
 * may follow an unanswered command when the probe is over.  Every server
 * line goes through imap_reader, so literals and overlong lines are framed
 * correctly and cost no memory.  Untagged data is handled in every state
 * (RFC 3501 §5.3): the message count is kept across EXISTS and EXPUNGE, so
 * only a count that grows is news.
 */
#include "imap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "clock.h"
#include "imap_session.h"
#include "imap_utf7.h"
#include "log.h"
#include "message.h"
#include "probe_id.h"


static void close_session(struct imap_session *s)
{
	if (s->fd != CURL_SOCKET_BAD)
		shutdown(s->fd, SHUT_RDWR);
	s->phase = PH_CLOSED;
}

void session_fail(struct imap_session *s, enum result_class r, const char *fmt, ...)
{
	va_list ap;
	char msg[RESULT_ERROR_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->found || s->phase == PH_LOGOUT) {
		/* The probe already has its result: a cleanup problem is worth a
		 * warning, never a changed verdict. */
		if (s->found)
			log_warn("%s: after the probe was found: %s", s->watch.label, msg);
	} else if (!s->failed) {
		s->failed = true;
		s->res.result = r;
		snprintf(s->res.error, sizeof(s->res.error), "%s", msg);
	}
	close_session(s);
}

/* --- output ------------------------------------------------------------ */

static void flush_out(struct imap_session *s)
{
	while (s->out_len > 0 && s->phase != PH_CLOSED) {
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

static void queue_line(struct imap_session *s, const char *line)
{
	size_t n = strlen(line);
	char shown[300];

	if (s->out_len + n + 2 > sizeof(s->outbuf)) {
		session_fail(s, RESULT_INTERNAL_ERROR, "IMAP output buffer full");
		return;
	}
	memcpy(s->outbuf + s->out_len, line, n);
	memcpy(s->outbuf + s->out_len + n, "\r\n", 2);
	s->out_len += n + 2;
	conn_redact_client_line(CONN_IMAP, line, shown, sizeof(shown));
	conn_trace_line(&s->watch, ">", shown);
}

void session_send(struct imap_session *s, enum phase next, const char *name,
                  const char *fmt, ...)
{
	char line[1300];
	int n;
	va_list ap;

	snprintf(s->tag, sizeof(s->tag), "m%u", ++s->tag_seq);
	n = snprintf(line, sizeof(line), "%s ", s->tag);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	s->cmd_name = name;
	s->cmd_sent_ns = clock_mono_ns();
	s->phase = next;
	queue_line(s, line);
	flush_out(s);
}

void session_send_done(struct imap_session *s, int64_t now)
{
	queue_line(s, "DONE");
	s->phase = PH_IDLE_DONE;
	/* The stall clock runs from DONE, not from the IDLE minutes ago. */
	s->cmd_sent_ns = now;
	flush_out(s);
}

/* An IMAP quoted string: mailbox names are validated free of CR/LF by the
 * config; quotes and backslashes are escaped here. */
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

bool session_keep_whole(struct imap_session *s, size_t cap)
{
	if (!s->whole_buf)
		s->whole_buf = malloc(cap);
	if (!s->whole_buf)
		return false;
	imap_reader_use(&s->reader, s->whole_buf, cap);
	return true;
}

void session_keep_whole_done(struct imap_session *s)
{
	imap_reader_use(&s->reader, NULL, 0);
	free(s->whole_buf);
	s->whole_buf = NULL;
}

void session_uid_list(const uint32_t *uids, size_t count, char *dst, size_t dstlen)
{
	size_t n = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < count && n + 12 < dstlen; i++)
		n += (size_t)snprintf(dst + n, dstlen - n, "%s%u", i ? "," : "", uids[i]);
}

void session_logout(struct imap_session *s)
{
	session_send(s, PH_LOGOUT, "LOGOUT", "LOGOUT");
}

void session_select(struct imap_session *s, const char *mailbox, enum phase next)
{
	char mbox[600];

	session_quote(mailbox, mbox, sizeof(mbox));
	session_send(s, next, "SELECT", "SELECT %s", mbox);
}

static void on_tagged(struct imap_session *s, const struct imap_response *r, int64_t now)
{
	switch (s->phase) {
	case PH_CAPABILITY: case PH_LIST: case PH_SELECT: case PH_UIDNEXT: case PH_JUNK_STATUS:
		prepare_on_tagged(s, r, now);
		break;
	case PH_SCAN_SELECT: case PH_SCAN_SEARCH: case PH_SCAN_FETCH: case PH_SCAN_STORE:
	case PH_SCAN_EXPUNGE: case PH_SCAN_MOVE: case PH_SCAN_TRASH_SELECT:
	case PH_SCAN_TRASH_STORE: case PH_SCAN_TRASH_EXPUNGE: case PH_RESELECT:
		sweep_on_tagged(s, r);
		break;
	case PH_NOOP: case PH_CHECK: case PH_DSN: case PH_PEEK: case PH_IDLE_START: case PH_IDLING:
	case PH_IDLE_DONE:
		watch_on_tagged(s, r, now);
		break;
	case PH_LOGOUT:
		close_session(s);
		break;
	case PH_EVIDENCE:
		evidence_on_tagged(s, r);
		break;
	default:
		found_on_tagged(s, r);
		break;
	}
}

/* --- untagged data, in every state --------------------------------------- */

static void note_capabilities(struct imap_session *s, const char *text)
{
	s->has_idle = imap_capability_has(text, "IDLE");
	s->has_uidplus = imap_capability_has(text, "UIDPLUS");
	s->has_move = imap_capability_has(text, "MOVE");
	s->is_gmail = imap_capability_has(text, "X-GM-EXT-1");
}

static void note_count(struct imap_session *s, const char *text, int64_t now)
{
	uint32_t n;
	size_t len = strlen(text);

	if (imap_parse_exists(text, &n)) {
		/* A server that gave no count at SELECT: its first one after the
		 * send is news. */
		bool grew = s->exists_known ? n > s->exists : s->t_watch_ns != 0;
		s->exists = n;
		s->exists_known = true;
		if (grew) {
			s->changed = true;
			s->t_last_exists_ns = now;
			if (s->t_watch_ns)
				watch_on_news(s, now);
		}
	} else if (len > 8 && strcasecmp(text + len - 8, " EXPUNGE") == 0 &&
	           strncmp(text, "* ", 2) == 0 && s->exists > 0) {
		s->exists--;
	}
}

static void on_untagged(struct imap_session *s, const char *text,
                        const struct imap_response *r, int64_t now)
{
	uint32_t n;
	size_t count;

	if (r->status == IMAP_ST_BYE) {
		if (s->phase != PH_LOGOUT)
			session_fail(s, RESULT_IMAP_ERROR, "server ended the session during %s: BYE %s",
			             s->cmd_name ? s->cmd_name : "login", r->rest);
		return;
	}
	if (imap_is_capability(text))
		note_capabilities(s, text);
	prepare_on_untagged(s, text, r);
	if (imap_parse_code_number(r->rest, "UIDNEXT", &n) && s->phase == PH_SCAN_SELECT)
		s->scan_next = n;
	note_count(s, text, now);
	if ((s->phase == PH_MOVE || s->phase == PH_SCAN_MOVE) &&
	    imap_parse_copyuid(r->rest, s->trash_uids, IMAP_MAX_FOUND, &count))
		s->n_trash = count;     /* MOVE sends COPYUID untagged (RFC 6851) */
	if (s->phase == PH_TRASH_FIND) {
		uint32_t uids[IMAP_MAX_FOUND];
		if (imap_parse_search(text, uids, IMAP_MAX_FOUND, &count))
			for (size_t i = 0; i < count && s->n_trash < IMAP_MAX_FOUND; i++)
				s->trash_uids[s->n_trash++] = uids[i];
	}
	sweep_on_untagged(s, text);
	watch_on_untagged(s, text, now);
	evidence_on_untagged(s, text, s->last_truncated);
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
	s->last_truncated = truncated;
	switch (r.kind) {
	case IMAP_CONTINUATION:
		watch_on_continuation(s, c->now);
		break;
	case IMAP_UNTAGGED:
		on_untagged(s, text, &r, c->now);
		break;
	case IMAP_TAGGED:
		if (strcmp(r.tag, s->tag) == 0)
			on_tagged(s, &r, c->now);
		break;
	case IMAP_GARBAGE:
		log_debug("%s: ignoring unparseable line", s->watch.label);
		break;
	}
	return s->phase == PH_CLOSED ? 1 : 0;
}

static void pump_in(struct imap_session *s, int64_t now)
{
	char buf[16384];
	struct feed_ctx ctx = { s, now };

	/* Read until libcurl says AGAIN: TLS may hold decrypted bytes that the
	 * socket no longer signals. */
	while (s->phase != PH_CLOSED) {
		size_t n = 0;
		CURLcode rc = curl_easy_recv(s->easy, buf, sizeof(buf), &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK || n == 0) {
			if (s->phase == PH_LOGOUT)
				close_session(s);
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

/* --- public ------------------------------------------------------------- */

struct imap_session *imap_open(CURLM *multi, const struct route *r, enum imap_role role,
                               const char *bearer, long timeout_ms, char *err, size_t errlen)
{
	struct imap_session *s = calloc(1, sizeof(*s));
	struct conn_params p = {
		.scheme_plain = "imap", .scheme_tls = "imaps", .proto_list = "imap,imaps",
		.host = r->imap_host, .port = r->imap_port, .tls = r->imap_tls,
		.username = r->imap_username, .password = r->imap_password,
		.bearer = bearer, .auth = r->imap_auth,
		.route = r, .timeout_ms = timeout_ms,
	};
	const char *name = role == IMAP_ROLE_INBOX ? r->imap_mailbox
	                   : role == IMAP_ROLE_BOUNCE ? r->bounce_imap_mailbox : r->imap_junk_mailbox;

	if (role == IMAP_ROLE_BOUNCE) {
		/* Another account, maybe another server: the envelope sender's. */
		p.host = r->bounce_imap_host;
		p.port = r->bounce_imap_port;
		p.tls = r->bounce_imap_tls;
		p.username = r->bounce_imap_username;
		p.password = r->bounce_imap_password;
		p.bearer = NULL;
		p.auth = "AUTO";
	}
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->multi = multi;
	s->route = r;
	s->role = role;
	s->deadline_ns = clock_mono_ns() + timeout_ms * NS_PER_MS;
	/* The config checked the names are UTF-8; IMAP wants modified UTF-7. */
	if ((name && imap_utf7_encode(name, s->mailbox, sizeof(s->mailbox)) < 0) ||
	    (role == IMAP_ROLE_INBOX && r->check_junk && r->imap_junk_mailbox &&
	     imap_utf7_encode(r->imap_junk_mailbox, s->junk, sizeof(s->junk)) < 0)) {
		snprintf(err, errlen, "mailbox name too long or not UTF-8: %.60s",
		         name && !s->mailbox[0] ? name : r->imap_junk_mailbox);
		free(s);
		return NULL;
	}
	s->fd = CURL_SOCKET_BAD;
	conn_watch_init(&s->watch, CONN_IMAP, r->name);
	if (role != IMAP_ROLE_INBOX)
		snprintf(s->watch.label, sizeof(s->watch.label), "%s/%s", r->name,
		         role == IMAP_ROLE_JUNK ? "junk" : "bounce");
	imap_reader_init(&s->reader);
	s->easy = conn_easy_new(&p, &s->watch, err, errlen);
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
	imap_free(s);
	return NULL;
}

CURL *imap_easy(const struct imap_session *s)
{
	return s->easy;
}

static void classify_connect(struct imap_session *s, CURLcode code)
{
	const struct conn_watch *w = &s->watch;
	const char *why = conn_error_text(w, code);
	curl_off_t tcp_us = 0;
	char said[160];
	bool login_sent = strcasecmp(w->last_verb, "LOGIN") == 0 ||
	                  strcasecmp(w->last_verb, "AUTHENTICATE") == 0;
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
	else if (timed_out && login_sent)
		session_fail(s, RESULT_IMAP_ERROR, "%s: no answer from the server in time", w->last_verb);
	else if ((code == CURLE_LOGIN_DENIED || login_sent) &&
	         conn_sasl_challenge_text(w->last_reply, said, sizeof(said)))
		session_fail(s, RESULT_IMAP_AUTH_FAILED, "login refused: %s", said);
	else if (code == CURLE_LOGIN_DENIED || login_sent)
		session_fail(s, RESULT_IMAP_AUTH_FAILED, "%s%s",
		             w->last_reply[0] && login_sent ? "login refused: " : "",
		             w->last_reply[0] && login_sent ? w->last_reply : why);
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

void imap_connected(struct imap_session *s, CURLcode code)
{
	snprintf(s->res.tls_version, sizeof(s->res.tls_version), "%s", s->watch.tls_version);
	s->res.cert_not_after = s->watch.cert_not_after;
	if (code != CURLE_OK) {
		classify_connect(s, code);
		return;
	}
	if (curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &s->fd) != CURLE_OK ||
	    s->fd == CURL_SOCKET_BAD) {
		session_fail(s, RESULT_INTERNAL_ERROR, "libcurl gave no IMAP socket");
		return;
	}
	s->res.logged_in = true;
	s->may_read = true;    /* libcurl may hold bytes read past the login */
	if (s->watch.login_caps[0] && imap_is_capability(s->watch.login_caps)) {
		/* The login reply said what the server offers: no need to ask. */
		note_capabilities(s, s->watch.login_caps);
		prepare_begin(s);
		return;
	}
	session_send(s, PH_CAPABILITY, "CAPABILITY", "CAPABILITY");
}

void imap_watch(struct imap_session *s, const char *token)
{
	if (s->failed || s->absent || s->phase > PH_READY)
		return;
	snprintf(s->token, sizeof(s->token), "%s", token);
	if (s->phase < PH_SCAN_SELECT)
		return;   /* still preparing (a junk session opened late): the sweep starts the watch */
	log_debug("%s: waiting with %s", s->watch.label, watch_describe(s));
	if (s->phase == PH_READY)
		watch_begin(s, clock_mono_ns());
	/* else the sweep of earlier probes is finishing; it starts the watch */
}

void imap_finish(struct imap_session *s, int64_t now, int64_t until)
{
	if (s->found || s->phase == PH_CLOSED || s->phase == PH_LOGOUT)
		return;
	s->close_by_ns = session_cleanup_bound(s, now, until);
	if (s->role == IMAP_ROLE_JUNK && s->phase <= PH_RESELECT && !s->failed) {
		/* The junk mailbox is opened only when it must be swept or was
		 * seen to grow: finish that sweep (bounded), then log out. */
		s->finishing = true;
		return;
	}
	if (s->phase == PH_CONNECTING || s->fd == CURL_SOCKET_BAD) {
		s->phase = PH_CLOSED;
		return;
	}
	if (s->phase >= PH_SCAN_SELECT && s->phase <= PH_RESELECT) {
		s->finishing = true;   /* let the sweep finish, then log out */
		return;
	}
	if (s->phase == PH_IDLING)
		queue_line(s, "DONE");
	if (!bounce_finish(s))
		session_logout(s);
}

void imap_step(struct imap_session *s, int64_t now)
{
	if (s->phase == PH_CONNECTING && s->close_by_ns && now >= s->close_by_ns)
		s->phase = PH_CLOSED;   /* finishing, and the connect is not even done */
	if (s->phase == PH_CONNECTING || s->phase == PH_CLOSED)
		return;
	flush_out(s);
	if (s->may_read) {
		/* pump_in reads until libcurl says AGAIN, so nothing is left
		 * buffered that the socket would not signal. */
		s->may_read = false;
		pump_in(s, now);
	}
	if (s->phase == PH_CLOSED)
		return;
	if (s->close_by_ns && now >= s->close_by_ns) {
		if (s->found && s->phase != PH_LOGOUT)
			log_warn("%s: cleanup of the found probe did not finish in time", s->watch.label);
		close_session(s);
		return;
	}
	watch_timer(s, now);
	evidence_timer(s, now);
}

void imap_io_ready(struct imap_session *s)
{
	s->may_read = true;
}

bool imap_found(const struct imap_session *s)
{
	return s->found;
}

enum imap_state imap_state(const struct imap_session *s)
{
	if (s->failed)
		return IMAP_FAILED;
	if (s->found)   /* once its headers are read (or given up on) */
		return s->evidence_pending && s->phase != PH_CLOSED ? IMAP_WATCHING : IMAP_FOUND;
	if (s->absent)
		return IMAP_ABSENT;
	switch (s->phase) {
	case PH_CONNECTING: return IMAP_CONNECTING;
	case PH_CAPABILITY:
	case PH_LIST:
	case PH_SELECT:
	case PH_UIDNEXT:
	case PH_JUNK_STATUS: return IMAP_PREPARING;
	case PH_SCAN_SELECT: case PH_SCAN_SEARCH: case PH_SCAN_FETCH: case PH_SCAN_STORE:
	case PH_SCAN_EXPUNGE: case PH_SCAN_MOVE: case PH_SCAN_TRASH_SELECT:
	case PH_SCAN_TRASH_STORE: case PH_SCAN_TRASH_EXPUNGE: case PH_RESELECT:
	case PH_READY: return s->token[0] ? IMAP_WATCHING : IMAP_READY;
	default: return IMAP_WATCHING;
	}
}

bool imap_closed(const struct imap_session *s)
{
	return s->phase == PH_CLOSED;
}

const struct imap_outcome *imap_outcome(const struct imap_session *s)
{
	return &s->res;
}

bool imap_awaiting_reply(const struct imap_session *s, int64_t *since, const char **what)
{
	switch (s->phase) {
	case PH_CONNECTING: case PH_READY: case PH_IDLING: case PH_SLEEP: case PH_CLOSED:
	case PH_LOGOUT:
		return false;
	default:
		*since = s->cmd_sent_ns;
		*what = s->cmd_name;
		return true;
	}
}

curl_socket_t imap_wait_fd(const struct imap_session *s, bool *want_write)
{
	*want_write = s->out_len > 0;
	if (s->phase == PH_CONNECTING || s->phase == PH_CLOSED)
		return CURL_SOCKET_BAD;
	return s->fd;
}

int64_t imap_next_timer(const struct imap_session *s)
{
	int64_t t;

	/* A closed session keeps its old cleanup bound; it must not count, or
	 * the cycle would spin on a timer in the past until every route is done. */
	if (s->phase == PH_CLOSED)
		return 0;
	t = watch_next_timer(s);
	if (evidence_next_timer(s) && (t == 0 || evidence_next_timer(s) < t))
		t = evidence_next_timer(s);
	if (s->close_by_ns && (t == 0 || s->close_by_ns < t))
		t = s->close_by_ns;
	return t;
}

void imap_free(struct imap_session *s)
{
	if (!s)
		return;
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
	free(s->whole_buf);
	free(s);
}
