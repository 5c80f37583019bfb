/*
 * conn.c - see conn.h.  The debug callback is always installed (VERBOSE on)
 * because classification needs it even when nobody reads the trace; it
 * costs a few string compares per protocol line.
 */
/* strptime() is X/Open, strcasestr() GNU. */
#define _GNU_SOURCE
#include "conn.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "smtp_reply.h"

/* Copy the n-th (0-based) space-separated word of line into dst. */
static void nth_word(const char *line, int n, char *dst, size_t dstlen)
{
	const char *p = line;
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	while (p[len] && p[len] != ' ' && p[len] != '\r' && p[len] != '\n')
		len++;
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, p, len);
	dst[len] = '\0';
}

static bool word_in(const char *word, const char *const *list)
{
	for (; *list; list++)
		if (strcasecmp(word, *list) == 0)
			return true;
	return false;
}

static const char *const smtp_safe[] = {
	"EHLO", "HELO", "STARTTLS", "MAIL", "RCPT", "DATA", "QUIT", "RSET",
	"NOOP", NULL
};
static const char *const imap_safe[] = {
	"CAPABILITY", "STARTTLS", "SELECT", "EXAMINE", "NOOP", "LOGOUT", "IDLE",
	"UID", "SEARCH", "STORE", "EXPUNGE", "LIST", "STATUS", "CHECK", "ENABLE",
	"NAMESPACE", NULL
};

size_t conn_redact_client_line(enum conn_proto proto, const char *line,
                               char *dst, size_t dstlen)
{
	char tag[32], verb[32], mech[32];
	int verb_at = proto == CONN_IMAP ? 1 : 0;
	int n;

	nth_word(line, verb_at, verb, sizeof(verb));
	if (proto == CONN_IMAP && strcasecmp(line, "DONE") == 0)
		n = snprintf(dst, dstlen, "DONE");
	else if (word_in(verb, proto == CONN_IMAP ? imap_safe : smtp_safe))
		n = snprintf(dst, dstlen, "%s", line);
	else if (strcasecmp(verb, "AUTH") == 0 || strcasecmp(verb, "AUTHENTICATE") == 0) {
		nth_word(line, verb_at + 1, mech, sizeof(mech));
		nth_word(line, 0, tag, sizeof(tag));
		if (proto == CONN_IMAP)
			n = snprintf(dst, dstlen, "%s %s %s ***", tag, verb, mech);
		else
			n = snprintf(dst, dstlen, "%s %s ***", verb, mech);
	} else if (proto == CONN_IMAP && strcasecmp(verb, "LOGIN") == 0) {
		nth_word(line, 0, tag, sizeof(tag));
		n = snprintf(dst, dstlen, "%s LOGIN ***", tag);
	} else
		n = snprintf(dst, dstlen, "***");
	if (n < 0)
		return 0;
	return (size_t)n < dstlen ? (size_t)n : dstlen - 1;
}

void conn_trace_line(const struct conn_watch *w, const char *dir, const char *line)
{
	if (log_trace_enabled())
		log_debug("%s %s %s", w->label, dir, line);
}

static void copy_line(char *dst, size_t dstlen, const char *src, size_t n)
{
	while (n > 0 && (src[n - 1] == '\r' || src[n - 1] == '\n'))
		n--;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The EHLO reply is complete.  With a username set and no AUTH offered
 * (after TLS, where TLS is wanted) libcurl would go on without logging in
 * and send MAIL, RCPT and DATA unauthenticated: to a server that relays
 * for anyone, the message would go out.  Cut the connection here, so the
 * server sees nothing after EHLO. */
static void on_ehlo_done(struct conn_watch *w)
{
	if (!w->needs_auth || w->auth_offered || (w->tls_wanted && !w->tls_up))
		return;
	w->stopped_no_auth = true;
	if (w->fd != CURL_SOCKET_BAD)
		shutdown(w->fd, SHUT_RDWR);
}

/* We make libcurl's sockets, to know why one could not be made: libcurl
 * reports EMFILE as a bare "Couldn't connect to server", which would read
 * as the server's fault. */
static curl_socket_t opensocket_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct conn_watch *w = ud;
	curl_socket_t fd;

	(void)purpose;
	fd = socket(a->family, a->socktype, a->protocol);
	if (fd == CURL_SOCKET_BAD)
		w->socket_errno = errno;
	return fd;
}

/* libcurl's socket, as it is made: ACTIVESOCKET only knows it once the
 * transfer is over, too late to stop one. */
static int sockopt_cb(void *ud, curl_socket_t fd, curlsocktype purpose)
{
	struct conn_watch *w = ud;

	(void)purpose;
	w->fd = fd;
	return CURL_SOCKOPT_OK;
}

/* IMAP: the capabilities a server states with its login reply (Dovecot
 * and Cyrus send "OK [CAPABILITY ...]"), so the session need not ask
 * again.  A line cut at our buffer's end is not used: a capability could
 * be missing from it. */
static void note_login_capabilities(struct conn_watch *w, const char *line)
{
	bool login = strcasecmp(w->last_verb, "LOGIN") == 0 ||
	             strcasecmp(w->last_verb, "AUTHENTICATE") == 0;

	if (!login || strlen(line) + 1 >= CONN_LINE_MAX || !strcasestr(line, "CAPABILITY "))
		return;
	if (line[0] == '*' ? strncasecmp(line, "* CAPABILITY ", 13) == 0 : strcasestr(line, " OK [CAPABILITY ") != NULL)
		snprintf(w->login_caps, sizeof(w->login_caps), "%s", line);
}

/* An SMTP reply is kept whole: "550-5.7.1 Rejected by the DMARC policy"
 * + "550 of d.test" reads "550 5.7.1 Rejected by the DMARC policy of
 * d.test", each line's own copy of the enhanced code left out (Gmail
 * repeats it, Exim does not). */
static void note_smtp_reply(struct conn_watch *w, const char *line)
{
	size_t len = strlen(line), n;
	bool coded = len >= 4 && isdigit((unsigned char)line[0]) && (line[3] == '-' || line[3] == ' ');
	const char *text = coded ? line + 4 : line;
	char status[16];

	if (!w->reply_open) {
		snprintf(w->last_reply, sizeof(w->last_reply), "%s", line);
		if (coded)
			w->last_reply[3] = ' ';
	} else {
		if (coded && smtp_reply_status(line, status, sizeof(status))) {
			text += strlen(status);
			while (*text == ' ')
				text++;
		}
		n = strlen(w->last_reply);
		if (*text && n + 2 < sizeof(w->last_reply))
			snprintf(w->last_reply + n, sizeof(w->last_reply) - n, " %s", text);
	}
	w->reply_open = coded && line[3] == '-';
}

/* SMTP: the extensions of an EHLO reply line the transaction uses. */
static void note_ehlo_caps(struct conn_watch *w, const char *line, size_t len)
{
	static const struct { const char *word; unsigned bit; } caps[] = {
		{ "DSN", CONN_EHLO_DSN }, { "SIZE", CONN_EHLO_SIZE },
		{ "SMTPUTF8", CONN_EHLO_SMTPUTF8 }, { "8BITMIME", CONN_EHLO_8BITMIME },
	};

	if (len < 5)
		return;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		size_t n = strlen(caps[i].word);
		if (strncasecmp(line + 4, caps[i].word, n) == 0 && (line[4 + n] == '\0' || line[4 + n] == ' '))
			w->ehlo_caps |= caps[i].bit;
	}
}

/* The login's end: SMTP's final reply to AUTH (not a 334 challenge, not a
 * line of a longer reply), IMAP's tagged one. */
static void note_auth_end(struct conn_watch *w, const char *line, size_t len)
{
	bool done;

	if (!w->t_auth_ns || w->t_auth_done_ns)
		return;
	if (w->proto == CONN_SMTP)
		done = len >= 4 && line[3] == ' ' && strncmp(line, "334", 3) != 0;
	else
		done = line[0] != '*' && line[0] != '+';
	if (done)
		w->t_auth_done_ns = clock_mono_ns();
}

static void on_server_line(struct conn_watch *w, const char *line)
{
	size_t len = strlen(line);

	if (!w->t_greeting_ns)
		w->t_greeting_ns = clock_mono_ns();
	w->greeting_seen = true;
	if (w->proto == CONN_IMAP && !w->quit_sent)
		note_login_capabilities(w, line);
	conn_trace_line(w, "<", line);
	/* libcurl says QUIT after a refusal; its 221 must not hide the refusal. */
	if (w->quit_sent)
		return;
	w->answered = true;
	note_auth_end(w, line, len);
	if (w->proto != CONN_SMTP) {
		snprintf(w->last_reply, sizeof(w->last_reply), "%s", line);
		return;
	}
	note_smtp_reply(w, line);
	/* Lines shorter than "250" are garbage; nothing past their end is read. */
	if (len >= 3 && isdigit((unsigned char)line[0]) && isdigit((unsigned char)line[1]) &&
	    isdigit((unsigned char)line[2]))
		w->last_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (strcasecmp(w->last_verb, "EHLO") == 0) {
		w->ehlo_seen = true;
		note_ehlo_caps(w, line, len);
		if (len >= 9 && (strncasecmp(line + 3, "-AUTH", 5) == 0 ||
		                 strncasecmp(line + 3, " AUTH", 5) == 0) &&
		    (line[8] == ' ' || line[8] == '=')) {
			w->auth_offered = true;
			snprintf(w->auth_mechs, sizeof(w->auth_mechs), "%s", line + 9);
		}
		if (len >= 4 && line[0] == '2' && line[3] == ' ')
			on_ehlo_done(w);
	}
}

static void on_client_line(struct conn_watch *w, const char *line)
{
	char shown[256];
	char verb[sizeof(w->last_verb)];
	/* A line answering the server's SASL challenge (334, "+") is data of
	 * the AUTH under way, a password maybe: never taken for a verb. */
	bool sasl_data = (w->proto == CONN_SMTP && w->last_code == 334) ||
	                 (w->proto == CONN_IMAP && w->last_reply[0] == '+');

	nth_word(line, w->proto == CONN_IMAP ? 1 : 0, verb, sizeof(verb));
	/* Remember the command a refusal answers, not libcurl's QUIT after it. */
	if (sasl_data)
		w->answered = false;
	else if (strcasecmp(verb, "QUIT") == 0 || strcasecmp(verb, "LOGOUT") == 0)
		w->quit_sent = true;
	else {
		snprintf(w->last_verb, sizeof(w->last_verb), "%s", verb);
		w->answered = false;
	}
	if (!sasl_data && strcasecmp(verb, "STARTTLS") == 0 && !w->t_starttls_ns)
		w->t_starttls_ns = clock_mono_ns();
	if (!sasl_data && !w->t_auth_ns && (strcasecmp(verb, "AUTH") == 0 || strcasecmp(verb, "LOGIN") == 0 ||
	                                    strcasecmp(verb, "AUTHENTICATE") == 0))
		w->t_auth_ns = clock_mono_ns();
	if (w->proto == CONN_SMTP && strcasecmp(w->last_verb, "EHLO") == 0) {
		w->auth_offered = false;
		w->auth_mechs[0] = '\0';
		w->ehlo_caps = 0;
		w->ehlo_seen = false;
	}
	conn_redact_client_line(w->proto, line, shown, sizeof(shown));
	conn_trace_line(w, ">", shown);
}

/* libcurl reports the server certificate as " expire date: Nov 25 23:41:07
 * 2026 GMT"; keep the first one seen (the server's, not a chain member). */
static void note_expiry(struct conn_watch *w, const char *line)
{
	const char *p = strstr(line, "expire date: ");
	struct tm tm;

	if (!p || w->cert_not_after)
		return;
	memset(&tm, 0, sizeof(tm));
	p = strptime(p + strlen("expire date: "), "%b %d %H:%M:%S %Y GMT", &tm);
	if (p && *p == '\0')
		w->cert_not_after = (int64_t)timegm(&tm);
}

static void on_text(struct conn_watch *w, const char *line)
{
	const char *p = strstr(line, "SSL connection using ");

	note_expiry(w, line);
	/* libcurl's OpenSSL trace: "TLSv1.3 (IN), TLS handshake, Certificate (11):". */
	if (strstr(line, " (IN), TLS ")) {
		w->tls_record_in = true;
		if (strstr(line, "TLS handshake, Certificate ("))
			w->cert_seen = true;
	}
	if (!w->t_connect_ns && strncmp(line, "Connected to ", 13) == 0)
		w->t_connect_ns = clock_mono_ns();
	if (p) {
		w->tls_up = true;
		if (!w->t_tls_ns)
			w->t_tls_ns = clock_mono_ns();
		nth_word(p + strlen("SSL connection using "), 0, w->tls_version,
		         sizeof(w->tls_version));
	}
	/* libcurl's "reached easy.c:NNN" notes on every recv are noise. */
	if (log_trace_enabled() && strncmp(line, "reached ", 8) != 0)
		log_debug("%s * %s", w->label, line);
}

/* Split data into lines and hand each to fn. */
static void each_line(struct conn_watch *w, const char *data, size_t size,
                      void (*fn)(struct conn_watch *, const char *))
{
	char line[CONN_LINE_MAX];

	while (size > 0) {
		const char *nl = memchr(data, '\n', size);
		size_t n = nl ? (size_t)(nl - data) + 1 : size;
		copy_line(line, sizeof(line), data, n);
		if (line[0])
			fn(w, line);
		data += n;
		size -= n;
	}
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
	(void)h;
	conn_watch_feed(ud, type, data, size);
	return 0;
}

void conn_watch_feed(struct conn_watch *w, curl_infotype type, const char *data, size_t size)
{
	switch (type) {
	case CURLINFO_TEXT:
		each_line(w, data, size, on_text);
		break;
	case CURLINFO_HEADER_IN:
		each_line(w, data, size, on_server_line);
		break;
	case CURLINFO_HEADER_OUT:
		each_line(w, data, size, on_client_line);
		break;
	default:
		break;
	}
}

void conn_watch_init(struct conn_watch *w, enum conn_proto proto, const char *route_name)
{
	memset(w, 0, sizeof(*w));
	w->proto = proto;
	snprintf(w->label, sizeof(w->label), "%s/%s", route_name,
	         proto == CONN_SMTP ? "smtp" : "imap");
}

int conn_multi_add(CURLM *multi, CURL *easy, char *err, size_t errlen)
{
	CURLMcode mc = curl_multi_add_handle(multi, easy);

	if (mc == CURLM_OK)
		return 0;
	snprintf(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
	return -1;
}

#define SET(opt, val) CONN_SETOPT(h, opt, val)

int conn_set_tls(CURL *h, const struct route *r, char *err, size_t errlen)
{
	if (r->tls_ca)
		SET(CURLOPT_CAINFO, r->tls_ca);
	/* Debian's libcurl also has a CA path; with one set it parses the
	 * whole bundle for every connection.  The bundle alone is cached
	 * per multi handle (one per process, conn_multi_*). */
	SET(CURLOPT_CAPATH, NULL);
	SET(CURLOPT_SSL_VERIFYPEER, r->insecure_skip_verify ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, r->insecure_skip_verify ? 0L : 2L);
	return 0;
fail:
	return -1;
}

CURL *conn_easy_new(const struct conn_params *p, struct conn_watch *watch,
                    char *err, size_t errlen)
{
	char url[600];
	bool v6 = strchr(p->host, ':') != NULL;
	const struct route *r = p->route;
	long connect_ms = r->connect_timeout_ms < p->timeout_ms ? r->connect_timeout_ms : p->timeout_ms;
	CURL *h;

	if (snprintf(url, sizeof(url), "%s://%s%s%s:%d/",
	             p->tls == TLS_IMPLICIT ? p->scheme_tls : p->scheme_plain,
	             v6 ? "[" : "", p->host, v6 ? "]" : "", p->port) >= (int)sizeof(url)) {
		snprintf(err, errlen, "host name too long");
		return NULL;
	}
	h = curl_easy_init();
	if (!h) {
		snprintf(err, errlen, "curl_easy_init failed");
		return NULL;
	}
	watch->errbuf[0] = '\0';
	watch->fd = CURL_SOCKET_BAD;
	watch->t_start_ns = clock_mono_ns();   /* added to the multi right after */
	watch->needs_auth = watch->proto == CONN_SMTP && p->username != NULL;
	watch->tls_wanted = p->tls != TLS_NONE;
	watch->tls_implicit = p->tls == TLS_IMPLICIT;
	watch->ca_set = r->tls_ca != NULL;
	watch->tls_key = p->tls_key ? p->tls_key : "tls";
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, p->proto_list);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, watch->errbuf);
	SET(CURLOPT_VERBOSE, 1L);
	SET(CURLOPT_DEBUGFUNCTION, debug_cb);
	SET(CURLOPT_DEBUGDATA, watch);
	SET(CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	SET(CURLOPT_SOCKOPTDATA, watch);
	SET(CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	SET(CURLOPT_OPENSOCKETDATA, watch);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms > 0 ? connect_ms : 1L);
	SET(CURLOPT_TIMEOUT_MS, p->timeout_ms > 0 ? p->timeout_ms : 1L);
	SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, (long)((p->timeout_ms + 999) / 1000));
	/* Each probe measures a fresh connection, never one left by another route. */
	SET(CURLOPT_FRESH_CONNECT, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700
	/* A resolver thread stuck in getaddrinfo is left behind, not joined:
	 * joining would block every other route and the shutdown. */
	SET(CURLOPT_QUICK_EXIT, 1L);
#endif
	SET(CURLOPT_USE_SSL, p->tls == TLS_STARTTLS ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	if (p->tls != TLS_NONE && conn_set_tls(h, r, err, errlen) != 0)
		goto fail;
	if (p->username) {
		char opts[40] = "";
		SET(CURLOPT_USERNAME, p->username);
		if (p->bearer)
			SET(CURLOPT_XOAUTH2_BEARER, p->bearer);
		else
			SET(CURLOPT_PASSWORD, p->password ? p->password : "");
		/* A token with auth = auto means XOAUTH2: what Gmail and
		 * Microsoft 365 both accept. */
		if (p->auth && strcmp(p->auth, "AUTO") != 0)
			snprintf(opts, sizeof(opts), "AUTH=%s", p->auth);
		else if (p->bearer)
			snprintf(opts, sizeof(opts), "AUTH=XOAUTH2");
		if (opts[0])
			SET(CURLOPT_LOGIN_OPTIONS, opts);
		SET(CURLOPT_SASL_IR, 1L);
	}
	return h;
fail:
	curl_easy_cleanup(h);
	return NULL;
}
