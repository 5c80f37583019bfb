/*
 * imap.c - see imap.h.
 *
 * One command is outstanding at a time (tag "m<N>"), except LOGOUT, which
 * may follow an unanswered command when the probe is over.  Every server
 * line goes through imap_reader, so literals and overlong lines are framed
 * correctly and cost no memory.
 */
#include "imap.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "conn.h"
#include "imap_parse.h"
#include "log.h"
#include "message.h"
#include "probe_id.h"

#define MAX_FOUND 16
#define SCAN_MAX 64        /* earlier probes examined per cycle; more wait */
#define IDLE_REFRESH_NS (300 * NS_PER_S)   /* RFC 2177 asks for < 29 min */
#define CLEANUP_NS (5 * NS_PER_S)          /* delete + logout after found */

enum phase {
	PH_CONNECTING, PH_CAPABILITY, PH_LIST, PH_SELECT,
	PH_SCAN_SEARCH, PH_SCAN_FETCH, PH_SCAN_STORE, PH_SCAN_EXPUNGE, PH_READY,
	PH_NOOP, PH_SEARCH, PH_IDLE_START, PH_IDLING, PH_IDLE_DONE, PH_SLEEP,
	PH_STORE, PH_EXPUNGE, PH_LOGOUT, PH_CLOSED,
};

struct imap_session {
	CURLM *multi;
	CURL *easy;
	bool added;
	const struct route *route;
	enum imap_role role;
	char mailbox[256];          /* to SELECT; "" for junk until LIST names it */
	bool absent;                /* junk role: the account has no junk mailbox */
	bool finishing;             /* imap_finish() came during the scan */
	bool may_read;              /* socket polled ready, or we just wrote/connected */
	struct conn_watch watch;
	curl_socket_t fd;
	enum phase phase;
	bool found, failed;

	struct imap_reader reader;
	char outbuf[1200];
	size_t out_len;
	unsigned tag_seq;
	char tag[16];               /* tag of the command we wait for */
	const char *cmd_name;       /* its name, for errors */
	int64_t cmd_sent_ns;

	bool has_idle, has_uidplus;
	uint32_t uidnext;
	char token[33];
	uint32_t found_uids[MAX_FOUND];
	size_t n_found;
	uint32_t scan_uids[SCAN_MAX];   /* earlier probe candidates (SEARCH) */
	size_t n_scan;
	uint32_t drop_uids[SCAN_MAX];   /* of those, ours and due for deletion */
	size_t n_drop;
	bool pending_exists;        /* EXISTS seen outside IDLE: search again */
	int64_t t_watch_ns;         /* searching began */
	int64_t t_last_exists_ns;   /* last EXISTS announcement */
	int64_t next_poll_ns;
	int64_t idle_since_ns;
	int64_t close_by_ns;        /* cleanup / logout bound, 0: none */
	struct imap_outcome res;
};

static void fail(struct imap_session *s, enum result_class r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void close_session(struct imap_session *s)
{
	if (s->fd != CURL_SOCKET_BAD)
		shutdown(s->fd, SHUT_RDWR);
	s->phase = PH_CLOSED;
}

static void fail(struct imap_session *s, enum result_class r, const char *fmt, ...)
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
			fail(s, RESULT_IMAP_ERROR, "connection lost while sending %s: %s",
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
		fail(s, RESULT_INTERNAL_ERROR, "IMAP output buffer full");
		return;
	}
	memcpy(s->outbuf + s->out_len, line, n);
	memcpy(s->outbuf + s->out_len + n, "\r\n", 2);
	s->out_len += n + 2;
	conn_redact_client_line(CONN_IMAP, line, shown, sizeof(shown));
	conn_trace_line(&s->watch, ">", shown);
}

static void send_cmd(struct imap_session *s, enum phase next, const char *name,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void send_cmd(struct imap_session *s, enum phase next, const char *name,
                     const char *fmt, ...)
{
	char line[1100];
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

/* An IMAP quoted string: mailbox names are validated free of CR/LF by the
 * config; quotes and backslashes are escaped here. */
static void quote(const char *in, char *dst, size_t dstlen)
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

static void send_search(struct imap_session *s)
{
	s->res.tries++;
	s->n_found = 0;
	send_cmd(s, PH_SEARCH, "SEARCH", "UID SEARCH UID %u:* HEADER %s %s",
	         s->uidnext, MESSAGE_TOKEN_HEADER, s->token);
}

static void uid_list(const uint32_t *uids, size_t count, char *dst, size_t dstlen)
{
	size_t n = 0;

	dst[0] = '\0';
	for (size_t i = 0; i < count && n + 12 < dstlen; i++)
		n += (size_t)snprintf(dst + n, dstlen - n, "%s%u", i ? "," : "", uids[i]);
}

static void send_logout(struct imap_session *s)
{
	send_cmd(s, PH_LOGOUT, "LOGOUT", "LOGOUT");
}

/* --- earlier probes: late arrivals, duplicates, leftovers --------------- */

static void begin_watch(struct imap_session *s)
{
	/* NOOP first: Dovecot adds a message delivered after SELECT to the
	 * session's view only at the end of a command, so a bare SEARCH would
	 * find each probe one poll late (MAILSTACK-NOTES, gotcha 12). */
	send_cmd(s, PH_NOOP, "NOOP", "NOOP");
}

static void scan_done(struct imap_session *s)
{
	if (s->finishing)
		send_logout(s);
	else if (s->token[0])
		begin_watch(s);
	else
		s->phase = PH_READY;
}

/* Every message older than the send that carries our header, oldest
 * first; the FETCH that follows decides which are provably ours. */
static void start_scan(struct imap_session *s)
{
	s->n_scan = s->n_drop = 0;
	if (s->uidnext <= 1) {
		s->res.scanned = true;
		scan_done(s);
		return;
	}
	send_cmd(s, PH_SCAN_SEARCH, "SEARCH", "UID SEARCH UID 1:%u HEADER %s \"\"",
	         s->uidnext - 1, MESSAGE_TOKEN_HEADER);
}

/* One fetched header block: ours or not, late, duplicate, due for the
 * sweep.  A message we cannot prove ours is never touched. */
static void judge_earlier(struct imap_session *s, const struct imap_fetched *f)
{
	const struct route *r = s->route;
	struct probe_ledger *ledger = r->ledger;
	int64_t stamp, age_ms;
	bool late, drop = false;

	if (!probe_id_verify(ledger, f->token, f->message_id, &stamp))
		return;
	age_ms = ((int64_t)time(NULL) - stamp) * 1000;
	/* INTERNALDATE has whole seconds: an arrival in the last second
	 * before the timeout may count as late; a late one is never missed. */
	late = f->has_date && (f->internaldate - stamp) * 1000 >= r->timeout_ms;
	if (late && s->finishing)
		return;   /* this cycle's line is out: count it next cycle */
	if (late && !ledger_was_counted(ledger, f->token)) {
		s->res.late++;
		ledger_note_counted(ledger, f->token);
		log_debug("%s: late arrival: probe %s landed %llds after it was sent",
		          s->watch.label, f->token, (long long)(f->internaldate - stamp));
	}
	if ((late || ledger_was_found(ledger, f->token)) && r->delete_found)
		drop = true;     /* its probe is over for good: nothing to wait for */
	if (r->sweep_after_ms > 0 && age_ms >= r->sweep_after_ms)
		drop = true;
	if (drop && s->n_drop < SCAN_MAX)
		s->drop_uids[s->n_drop++] = f->uid;
}

static void after_scan_fetch(struct imap_session *s, bool ok, const char *why)
{
	char uids[SCAN_MAX * 11];

	if (!ok) {
		log_warn("%s: could not read earlier probes (%s): nothing swept", s->watch.label, why);
		scan_done(s);
		return;
	}
	s->res.scanned = true;
	if (s->n_drop == 0) {
		scan_done(s);
	} else if (!s->has_uidplus) {
		/* Plain EXPUNGE would also remove other messages marked \Deleted. */
		log_debug("%s: server lacks UIDPLUS: %zu earlier probe(s) left in place",
		          s->watch.label, s->n_drop);
		scan_done(s);
	} else {
		uid_list(s->drop_uids, s->n_drop, uids, sizeof(uids));
		send_cmd(s, PH_SCAN_STORE, "STORE", "UID STORE %s +FLAGS.SILENT (\\Deleted)", uids);
	}
}

static void on_scan_tagged(struct imap_session *s, const struct imap_response *r)
{
	bool ok = r->status == IMAP_ST_OK;
	char uids[SCAN_MAX * 11];

	switch (s->phase) {
	case PH_SCAN_SEARCH:
		if (!ok) {
			log_warn("%s: could not search for earlier probes: %s", s->watch.label, r->rest);
			scan_done(s);
		} else if (s->n_scan == 0) {
			s->res.scanned = true;
			scan_done(s);
		} else {
			uid_list(s->scan_uids, s->n_scan, uids, sizeof(uids));
			send_cmd(s, PH_SCAN_FETCH, "FETCH",
			         "UID FETCH %s (UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (%s Message-ID)])",
			         uids, MESSAGE_TOKEN_HEADER);
		}
		break;
	case PH_SCAN_FETCH:
		after_scan_fetch(s, ok, r->rest);
		break;
	case PH_SCAN_STORE:
		if (!ok) {
			log_warn("%s: could not flag earlier probes deleted: %s", s->watch.label, r->rest);
			scan_done(s);
			break;
		}
		uid_list(s->drop_uids, s->n_drop, uids, sizeof(uids));
		send_cmd(s, PH_SCAN_EXPUNGE, "EXPUNGE", "UID EXPUNGE %s", uids);
		break;
	case PH_SCAN_EXPUNGE:
		if (ok)
			log_debug("%s: removed %zu earlier probe(s)", s->watch.label, s->n_drop);
		else
			log_warn("%s: UID EXPUNGE of earlier probes failed: %s", s->watch.label, r->rest);
		scan_done(s);
		break;
	default:
		break;
	}
}

/* --- what to do after each completed command ---------------------------- */

static void after_search_miss(struct imap_session *s, int64_t now)
{
	if (s->pending_exists) {
		/* Something arrived while we searched: it is in our view now. */
		s->pending_exists = false;
		send_search(s);
	} else if (s->has_idle && s->route->idle == IDLE_AUTO) {
		send_cmd(s, PH_IDLE_START, "IDLE", "IDLE");
	} else {
		s->phase = PH_SLEEP;
		s->next_poll_ns = now + s->route->poll_interval_ms * NS_PER_MS;
	}
}

static void on_found(struct imap_session *s, int64_t now)
{
	char uids[MAX_FOUND * 11];

	s->found = true;
	ledger_note_found(s->route->ledger, s->token);
	s->res.t_found_ns = s->t_last_exists_ns > s->t_watch_ns ? s->t_last_exists_ns : now;
	s->close_by_ns = now + CLEANUP_NS;
	if (!s->route->delete_found) {
		send_logout(s);
		return;
	}
	uid_list(s->found_uids, s->n_found, uids, sizeof(uids));
	send_cmd(s, PH_STORE, "STORE", "UID STORE %s +FLAGS.SILENT (\\Deleted)", uids);
}

static void on_tagged(struct imap_session *s, const struct imap_response *r, int64_t now)
{
	bool ok = r->status == IMAP_ST_OK;
	char uids[MAX_FOUND * 11];
	char mbox[300];

	switch (s->phase) {
	case PH_CAPABILITY:
		if (!s->mailbox[0]) {
			send_cmd(s, PH_LIST, "LIST", "LIST \"\" \"*\"");
			break;
		}
		quote(s->mailbox, mbox, sizeof(mbox));
		send_cmd(s, PH_SELECT, "SELECT", "SELECT %s", mbox);
		break;
	case PH_LIST:
		if (!ok || !s->mailbox[0]) {
			log_debug("%s: %s", s->watch.label, ok ? "no mailbox marked \\Junk: not watched"
			          : "LIST refused: junk mailbox not watched");
			s->absent = true;
			send_logout(s);
			break;
		}
		quote(s->mailbox, mbox, sizeof(mbox));
		send_cmd(s, PH_SELECT, "SELECT", "SELECT %s", mbox);
		break;
	case PH_SELECT:
		if (!ok) {
			fail(s, RESULT_IMAP_ERROR, "SELECT %s: %s %s", s->mailbox,
			     r->status == IMAP_ST_NO ? "NO" : r->status == IMAP_ST_BAD ? "BAD" : "failed",
			     r->rest);
			break;
		}
		if (s->uidnext == 0)
			s->uidnext = 1;   /* no UIDNEXT: the unique token still guards */
		s->res.t_ready_ns = now;
		start_scan(s);
		break;
	case PH_SCAN_SEARCH: case PH_SCAN_FETCH: case PH_SCAN_STORE: case PH_SCAN_EXPUNGE:
		on_scan_tagged(s, r);
		break;
	case PH_NOOP:
		send_search(s);
		break;
	case PH_SEARCH:
		if (!ok)
			fail(s, RESULT_IMAP_ERROR, "SEARCH: %s %s",
			     r->status == IMAP_ST_NO ? "NO" : "BAD", r->rest);
		else if (s->n_found > 0)
			on_found(s, now);
		else
			after_search_miss(s, now);
		break;
	case PH_IDLE_START:
		/* IDLE refused outright: fall back to polling for this session. */
		log_debug("%s: IDLE refused (%s), polling", s->watch.label, r->rest);
		s->has_idle = false;
		s->res.used_idle = false;
		s->phase = PH_SLEEP;
		s->next_poll_ns = now;
		break;
	case PH_IDLING:
	case PH_IDLE_DONE:
		send_search(s);
		break;
	case PH_STORE:
		if (!ok)
			log_warn("%s: could not flag the probe deleted: %s", s->watch.label, r->rest);
		if (ok && s->has_uidplus) {
			uid_list(s->found_uids, s->n_found, uids, sizeof(uids));
			send_cmd(s, PH_EXPUNGE, "EXPUNGE", "UID EXPUNGE %s", uids);
		} else {
			if (ok)
				log_warn("%s: server lacks UIDPLUS: probe flagged \\Deleted, not expunged",
				         s->watch.label);
			send_logout(s);
		}
		break;
	case PH_EXPUNGE:
		if (!ok)
			log_warn("%s: UID EXPUNGE failed: %s", s->watch.label, r->rest);
		send_logout(s);
		break;
	case PH_LOGOUT:
		close_session(s);
		break;
	default:
		break;
	}
}

static void on_untagged(struct imap_session *s, const char *text,
                        const struct imap_response *r, int64_t now)
{
	uint32_t n, uids[MAX_FOUND];
	size_t count;

	if (r->status == IMAP_ST_BYE) {
		if (s->phase != PH_LOGOUT)
			fail(s, RESULT_IMAP_ERROR, "server ended the session during %s: BYE %s",
			     s->cmd_name ? s->cmd_name : "login", r->rest);
		return;
	}
	if (imap_is_capability(text)) {
		s->has_idle = imap_capability_has(text, "IDLE");
		s->has_uidplus = imap_capability_has(text, "UIDPLUS");
	}
	if (imap_parse_code_number(r->rest, "UIDNEXT", &n))
		s->uidnext = n;
	/* EXISTS before the search began (SELECT's count) says nothing new. */
	if (imap_parse_exists(text, &n) && s->t_watch_ns != 0) {
		s->t_last_exists_ns = now;
		if (s->phase == PH_IDLING) {
			queue_line(s, "DONE");
			s->phase = PH_IDLE_DONE;
			flush_out(s);
		} else {
			s->pending_exists = true;
		}
	}
	if (s->phase == PH_LIST && !s->mailbox[0]) {
		bool junk;
		char name[sizeof(s->mailbox)];
		if (imap_parse_list(text, &junk, name, sizeof(name)) && junk)
			snprintf(s->mailbox, sizeof(s->mailbox), "%s", name);
	}
	if (s->phase == PH_SCAN_SEARCH) {
		uint32_t all[SCAN_MAX];
		if (imap_parse_search(text, all, SCAN_MAX, &count))
			for (size_t i = 0; i < count && s->n_scan < SCAN_MAX; i++)
				if (all[i] < s->uidnext)
					s->scan_uids[s->n_scan++] = all[i];
	}
	if (s->phase == PH_SCAN_FETCH) {
		struct imap_fetched f;
		if (imap_parse_fetch_probe(text, &f))
			judge_earlier(s, &f);
	}
	if (s->phase == PH_SEARCH && imap_parse_search(text, uids, MAX_FOUND, &count)) {
		for (size_t i = 0; i < count && s->n_found < MAX_FOUND; i++)
			if (uids[i] >= s->uidnext)
				s->found_uids[s->n_found++] = uids[i];
	}
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
		if (s->phase == PH_IDLE_START) {
			s->phase = PH_IDLING;
			s->idle_since_ns = c->now;
			s->res.used_idle = true;
		}
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
				fail(s, RESULT_IMAP_ERROR, "connection lost%s%s: %s",
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

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->multi = multi;
	s->route = r;
	s->role = role;
	if (role == IMAP_ROLE_INBOX)
		snprintf(s->mailbox, sizeof(s->mailbox), "%s", r->imap_mailbox);
	else if (r->imap_junk_mailbox)
		snprintf(s->mailbox, sizeof(s->mailbox), "%s", r->imap_junk_mailbox);
	s->fd = CURL_SOCKET_BAD;
	conn_watch_init(&s->watch, CONN_IMAP, r->name);
	if (role == IMAP_ROLE_JUNK)
		snprintf(s->watch.label, sizeof(s->watch.label), "%s/junk", r->name);
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

	curl_easy_getinfo(s->easy, CURLINFO_CONNECT_TIME_T, &tcp_us);
	if (code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT)
		fail(s, RESULT_IMAP_CONNECT_FAILED, "%s", why);
	else if (conn_is_tls_error(code)) {
		conn_tls_error_text(s->easy, w, code, said, sizeof(said));
		fail(s, RESULT_IMAP_TLS_FAILED, "%s", said);
	}
	else if ((code == CURLE_LOGIN_DENIED || login_sent) &&
	         conn_sasl_challenge_text(w->last_reply, said, sizeof(said)))
		fail(s, RESULT_IMAP_AUTH_FAILED, "login refused: %s", said);
	else if (code == CURLE_LOGIN_DENIED || login_sent)
		fail(s, RESULT_IMAP_AUTH_FAILED, "%s%s",
		     w->last_reply[0] && login_sent ? "login refused: " : "",
		     w->last_reply[0] && login_sent ? w->last_reply : why);
	else if (!w->greeting_seen && code == CURLE_OPERATION_TIMEDOUT && tcp_us > 0 &&
	         s->route->imap_tls == TLS_IMPLICIT && !w->tls_up)
		fail(s, RESULT_IMAP_TLS_FAILED, "TLS handshake timed out");
	else if (!w->greeting_seen)
		fail(s, RESULT_IMAP_CONNECT_FAILED, "%s%s",
		     code == CURLE_OPERATION_TIMEDOUT && tcp_us > 0 ? "no greeting: " : "", why);
	else if (w->last_verb[0] == '\0')
		fail(s, RESULT_IMAP_CONNECT_FAILED, "greeting: %s", w->last_reply);
	else
		fail(s, RESULT_IMAP_ERROR, "%s: %s", w->last_verb, why);
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
		fail(s, RESULT_INTERNAL_ERROR, "libcurl gave no IMAP socket");
		return;
	}
	s->res.logged_in = true;
	s->may_read = true;    /* libcurl may hold bytes read past the login */
	send_cmd(s, PH_CAPABILITY, "CAPABILITY", "CAPABILITY");
}

void imap_watch(struct imap_session *s, const char *token)
{
	if (s->failed || s->absent || s->phase < PH_SCAN_SEARCH || s->phase > PH_READY)
		return;
	snprintf(s->token, sizeof(s->token), "%s", token);
	s->t_watch_ns = clock_mono_ns();
	log_debug("%s: waiting with %s", s->watch.label,
	          s->has_idle && s->route->idle == IDLE_AUTO ? "IDLE" :
	          s->route->idle == IDLE_OFF ? "polling (idle = off)" :
	          "polling (server offers no IDLE)");
	if (s->phase == PH_READY)
		begin_watch(s);
	/* else the scan of earlier probes is finishing; it starts the watch */
}

void imap_finish(struct imap_session *s, int64_t now, int64_t until)
{
	if (s->found || s->phase == PH_CLOSED || s->phase == PH_LOGOUT)
		return;
	if (s->phase == PH_CONNECTING || s->fd == CURL_SOCKET_BAD) {
		s->phase = PH_CLOSED;
		return;
	}
	s->close_by_ns = until > now ? until : now;
	if (s->phase >= PH_SCAN_SEARCH && s->phase <= PH_SCAN_EXPUNGE) {
		s->finishing = true;   /* let the sweep finish, then log out */
		return;
	}
	if (s->phase == PH_IDLING)
		queue_line(s, "DONE");
	send_logout(s);
}

void imap_step(struct imap_session *s, int64_t now)
{
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
	if (s->phase == PH_SLEEP && now >= s->next_poll_ns)
		send_cmd(s, PH_NOOP, "NOOP", "NOOP");
	else if (s->phase == PH_IDLING && now - s->idle_since_ns >= IDLE_REFRESH_NS) {
		queue_line(s, "DONE");
		s->phase = PH_IDLE_DONE;
		flush_out(s);
	}
}

void imap_io_ready(struct imap_session *s)
{
	s->may_read = true;
}

enum imap_state imap_state(const struct imap_session *s)
{
	if (s->failed)
		return IMAP_FAILED;
	if (s->found)
		return IMAP_FOUND;
	if (s->absent)
		return IMAP_ABSENT;
	switch (s->phase) {
	case PH_CONNECTING: return IMAP_CONNECTING;
	case PH_CAPABILITY:
	case PH_LIST:
	case PH_SELECT: return IMAP_PREPARING;
	case PH_SCAN_SEARCH: case PH_SCAN_FETCH: case PH_SCAN_STORE: case PH_SCAN_EXPUNGE:
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
	case PH_CAPABILITY: case PH_LIST: case PH_SELECT: case PH_NOOP: case PH_SEARCH:
	case PH_SCAN_SEARCH: case PH_SCAN_FETCH: case PH_SCAN_STORE: case PH_SCAN_EXPUNGE:
	case PH_IDLE_START: case PH_IDLE_DONE: case PH_STORE: case PH_EXPUNGE:
		*since = s->cmd_sent_ns;
		*what = s->cmd_name;
		return true;
	default:
		return false;
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
	int64_t t = 0;

	/* A closed session keeps its old cleanup bound; it must not count, or
	 * the cycle would spin on a timer in the past until every route is done. */
	if (s->phase == PH_CLOSED)
		return 0;

	if (s->phase == PH_SLEEP)
		t = s->next_poll_ns;
	else if (s->phase == PH_IDLING)
		t = s->idle_since_ns + IDLE_REFRESH_NS;
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
	free(s);
}
