/*
 * conn.h - what the SMTP and IMAP legs share: a libcurl easy handle set up
 * for one server (TLS mode, CA, verification, timeouts, credentials), and a
 * debug callback that both traces the dialogue (secrets redacted) and
 * remembers where the dialogue got to, so a failure can be classified.
 *
 * Contract:
 *  - conn_easy_new() returns a new easy handle, or NULL (allocation or an
 *    option libcurl refused; err says which).  The caller owns the handle and
 *    `watch` must outlive it (libcurl calls back into it).  Credentials are
 *    copied by libcurl; the caller's strings may be wiped right after.
 *  - conn_redact_client_line() writes a trace-safe copy of a line the client
 *    sends: only known harmless verbs are shown in full; LOGIN, AUTH and
 *    AUTHENTICATE keep their verb and mechanism and lose the rest; anything
 *    else (SASL continuation data) becomes "***".
 *  - conn_trace_line() logs one dialogue line at D! level when --trace is on.
 */
#ifndef MAIL_E2E_CONN_H
#define MAIL_E2E_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <curl/curl.h>

#include "config.h"

enum conn_proto { CONN_SMTP, CONN_IMAP };

/* SMTP extensions the transaction uses, from the last EHLO reply. */
enum {
	CONN_EHLO_DSN = 1u << 0,
	CONN_EHLO_SIZE = 1u << 1,
	CONN_EHLO_SMTPUTF8 = 1u << 2,
	CONN_EHLO_8BITMIME = 1u << 3,
};

/* The steps of a connect and login (SPEC §11), in ns; -1: not reached. */
struct conn_steps {
	int64_t connect;           /* name resolution + TCP connect */
	int64_t greeting;          /* connected (TLS up, for implicit TLS) -> first server line */
	int64_t tls;               /* the handshake, with the STARTTLS exchange where used */
	int64_t auth;              /* the AUTH / LOGIN exchange */
};

#define CONN_LINE_MAX 2048         /* longest dialogue line the watch reads whole */

struct conn_watch {
	char label[96];            /* "route/smtp", for logs */
	enum conn_proto proto;
	bool greeting_seen;        /* a server line was read */
	bool tls_up;               /* libcurl reported a TLS session */
	char tls_version[16];      /* "TLSv1.3", or "" */
	int64_t cert_not_after;    /* server certificate's notAfter (Unix s), 0: unknown */
	char last_verb[16];        /* verb of the last client command */
	bool answered;             /* a server line came after that command: a
	                              connection lost without one is not a refusal */
	char last_reply[400];      /* last server line; SMTP: the last whole reply, its
	                              lines joined (no secrets: servers' own text) */
	bool reply_open;           /* SMTP: a multi-line reply ("250-...") goes on */
	int last_code;             /* SMTP reply code of that line, or 0 */
	bool ehlo_seen;            /* an EHLO reply was read */
	bool auth_offered;         /* SMTP: the last EHLO reply listed AUTH */
	char auth_mechs[96];       /* SMTP: the mechanisms it listed */
	bool quit_sent;            /* QUIT/LOGOUT sent: later replies are not news */
	/* Where the time went (monotonic ns, 0: not reached), SPEC §11. */
	int64_t t_start_ns;        /* the transfer was handed to libcurl */
	int64_t t_connect_ns;      /* libcurl said "Connected to" (name resolved, TCP up) */
	int64_t t_greeting_ns;     /* the first server line */
	int64_t t_starttls_ns;     /* STARTTLS sent */
	int64_t t_tls_ns;          /* the TLS handshake done */
	int64_t t_auth_ns;         /* AUTH / LOGIN / AUTHENTICATE sent */
	int64_t t_auth_done_ns;    /* ... its final answer read */
	unsigned ehlo_caps;        /* SMTP: CONN_EHLO_* of the last EHLO reply */
	bool needs_auth;           /* SMTP: a username is set, so AUTH must happen */
	bool tls_wanted;           /* the leg uses TLS (implicit or STARTTLS) */
	bool tls_implicit;         /* ... implicit: the handshake comes first */
	bool tls_record_in;        /* the server sent a TLS record (a hello, an alert) */
	bool cert_seen;            /* ... and its certificate: a verify result means something */
	bool ca_set;               /* the route names its CA (tls_ca) */
	const char *tls_key;       /* the key that sets this leg's TLS mode, for words */
	bool stopped_no_auth;      /* SMTP: cut right after an EHLO without AUTH */
	curl_socket_t fd;          /* libcurl's socket for this leg, once made */
	int socket_errno;          /* why a socket could not be made, 0: it could */
	char login_caps[CONN_LINE_MAX];  /* IMAP: capabilities stated with the login reply, or "" */
	char errbuf[CURL_ERROR_SIZE];
};

/* curl_easy_setopt(h, opt, val), or err filled and `goto fail`: for setup
 * functions with (err, errlen) parameters and a fail label. */
#define CONN_SETOPT(h, opt, val) do {                                       \
	CURLcode rc_ = curl_easy_setopt(h, opt, val);                       \
	if (rc_ != CURLE_OK) {                                              \
		snprintf(err, errlen, "libcurl refused %s: %s", #opt,       \
		         curl_easy_strerror(rc_));                          \
		goto fail;                                                  \
	}                                                                   \
} while (0)

/* Certificate checks as every connection of a route has them: tls_ca or
 * the system store, never a CA path (so the bundle is parsed once per
 * process), insecure_skip_verify honoured.  0, or -1 with err filled. */
int conn_set_tls(CURL *h, const struct route *r, char *err, size_t errlen);

struct conn_params {
	const char *scheme_plain;  /* "smtp" / "imap" */
	const char *scheme_tls;    /* "smtps" / "imaps" */
	const char *proto_list;    /* CURLOPT_PROTOCOLS_STR: "smtp,smtps" */
	const char *host;
	int port;
	enum tls_mode tls;
	const char *tls_key;       /* "smtp_tls", "imap_tls", "bounce_imap_tls": for words */
	const char *username;      /* NULL: no login */
	const char *password;
	const char *bearer;        /* OAuth2 access token instead of a password */
	const char *auth;          /* SASL mechanism, "AUTO": libcurl's choice */
	const struct route *route; /* CA, verification, connect timeout */
	long timeout_ms;           /* whole transfer bound */
};

/* The text for a TLS failure.  libcurl's first error can be a bystander
 * ("Send failure: Broken pipe" when the server hung up on our alert);
 * OpenSSL's verify result (its own words) says what really went wrong, so
 * it comes first once a certificate came, with the fix where the cause is
 * known (tls_ca).  Implicit TLS that met plain text names the key to
 * change (conn_mismatch.h). */
void conn_tls_error_text(CURL *h, const struct conn_watch *w, CURLcode code,
                         char *dst, size_t dstlen);

/* A SASL error challenge as readable text: "334 eyJzdGF0dXMiOiI0MDEifQ=="
 * or "+ eyJ..." -> {"status":"401"} (RFC 7628: OAuth servers explain a
 * refused token that way).  Non-printable bytes become '?'.  Returns false
 * if line is not such a challenge. */
bool conn_sasl_challenge_text(const char *line, char *dst, size_t dstlen);

/* Empty watch for one leg of route route_name; label "route/smtp". */
void conn_watch_init(struct conn_watch *w, enum conn_proto proto, const char *route_name);

CURL *conn_easy_new(const struct conn_params *p, struct conn_watch *watch,
                    char *err, size_t errlen);

/* curl_multi_add_handle with its failure written into err; 0 or -1. */
int conn_multi_add(CURLM *multi, CURL *easy, char *err, size_t errlen);

size_t conn_redact_client_line(enum conn_proto proto, const char *line,
                               char *dst, size_t dstlen);

void conn_trace_line(const struct conn_watch *w, const char *dir,
                     const char *line);

/* What the debug callback does with one chunk of libcurl's dialogue:
 * tracks the dialogue in w and traces it.  Exposed for the fuzzer. */
void conn_watch_feed(struct conn_watch *w, curl_infotype type, const char *data, size_t size);

/* The steps of h's connect and login so far, from libcurl's connect time
 * and the watch's stamps. */
void conn_steps(CURL *h, const struct conn_watch *w, struct conn_steps *out);

/* Is this libcurl error a TLS failure (handshake, certificate, STARTTLS
 * refused or not offered)?  Both legs classify with it. */
bool conn_is_tls_error(CURLcode c);

/* A failure of this machine, not of the server: no descriptor left
 * (EMFILE), no memory, a CA or CRL file that cannot be loaded.  True with
 * the reason in dst; such a leg is internal_error, never a server fault. */
bool conn_local_resource_error(CURLcode code, const struct conn_watch *w,
                               char *dst, size_t dstlen);

/* The text of a failed transfer: libcurl's error buffer, else its strerror. */
const char *conn_error_text(const struct conn_watch *w, CURLcode code);

#endif
