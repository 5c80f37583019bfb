/*
 * session.h - the IMAP engine: one connection, the commands sent on it and
 * what the server says, for the tasks that speak on it (prepare, sweep,
 * watch, evidence, bounce, expunge) and the plan that chains them.  The
 * engine never names a task: everything it reports goes up through the
 * callbacks its callers hand it (isync's imap_exec continuations,
 * OpenSMTPD's smtp_client callbacks).
 *
 * Hand-over: libcurl connects, negotiates TLS or STARTTLS and logs in
 * (CONNECT_ONLY on the shared multi handle).  session_connected() then
 * classifies a failure (SPEC §5), or takes the socket over, learns the
 * capabilities (from the login reply, else CAPABILITY) and calls the
 * owner's on_ready.  From then on the engine speaks IMAP itself over
 * curl_easy_send/recv, non-blocking, so one event loop serves every route.
 *
 * Commands: session_cmd(s, h, ctx, fmt, ...) sends "<tag> <command>" with
 * its own continuation: the tagged reply goes to h->on_done, every untagged
 * response that arrives while it runs to h->on_event, a "+" to
 * h->on_continuation (IDLE).  One command runs at a time: a task sends the
 * next one from on_done.  A session that fails or closes calls no more
 * handlers.
 *
 * Events: each untagged line is parsed once into a struct imap_event.  The
 * engine keeps what belongs to the session itself (capabilities; the
 * selected mailbox's count, UIDNEXT and UIDVALIDITY; COPYUID; BYE) and
 * passes the event on.  A count that grows is news: it sets a flag that
 * stays until session_take_news(), and goes to the listener (at most one,
 * session_listen()) at once, whatever command runs.
 *
 * Time: the engine owns the session's cleanup bound (session_logout's
 * `until`) and one timer for the task in charge (session_timer()); the
 * route's deadline itself belongs to the probe (budget.h).
 *
 * Memory: the caller of session_new() owns the session and frees it with
 * session_free().  Event and reply texts point into the engine's buffers
 * and live until the callback returns; a command sent with keep_whole gets
 * a buffer of that size for its responses (line ends kept), allocated when
 * it is sent and freed after its on_done returned, so nothing a handler
 * reads can be freed under it.
 */
#ifndef MAIL_E2E_IMAP_SESSION_H
#define MAIL_E2E_IMAP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "config.h"
#include "conn.h"
#include "imap_parse.h"
#include "result.h"

#define SESSION_UIDS_MAX 64        /* UIDs one SEARCH or COPYUID hands on */
#define SESSION_MAILBOX_MAX 256    /* a mailbox name, modified UTF-7 */

/* What a server offers, as bits; filled by one parse of its capability
 * list (the table in session.c says which name gives which bit and the
 * quirk it signals). */
enum {
	IMAP_CAP_IDLE = 1u << 0,
	IMAP_CAP_UIDPLUS = 1u << 1,
	IMAP_CAP_MOVE = 1u << 2,
	IMAP_CAP_GMAIL = 1u << 3,
	IMAP_CAP_LIST_STATUS = 1u << 4,
	IMAP_CAP_SPECIAL_USE = 1u << 5,
};

enum imap_event_kind {
	IMAP_EV_EXISTS, IMAP_EV_EXPUNGE, IMAP_EV_FETCH, IMAP_EV_SEARCH, IMAP_EV_STATUS,
	IMAP_EV_LIST, IMAP_EV_CAPABILITY, IMAP_EV_OTHER,
};

struct imap_event {
	enum imap_event_kind kind;
	const char *text;          /* the whole response */
	bool truncated;            /* it passed the buffer and was cut */
	int64_t now;               /* when it was read (monotonic ns) */
	uint32_t number;           /* EXISTS: the count; EXPUNGE: the sequence number */
	bool grew;                 /* EXISTS: more than the count known before */
	bool first;                /* EXISTS: no count was known before */
	struct imap_fetch fetch;   /* FETCH */
	const uint32_t *uids;      /* SEARCH: the first SESSION_UIDS_MAX numbers */
	size_t n_uids;
	struct imap_status_reply status;   /* STATUS */
	unsigned list_attrs;       /* LIST: IMAP_LIST_* bits and the name */
	char list_name[SESSION_MAILBOX_MAX];
};

struct imap_reply {
	enum imap_status status;   /* OK, NO or BAD */
	const char *text;          /* after the status word */
	const uint32_t *copy_uids; /* COPYUID of this command (tagged or untagged), destination UIDs */
	size_t n_copy;
	int64_t now;
};

struct imap_session;

struct session_handler {
	void (*on_event)(struct imap_session *s, void *ctx, const struct imap_event *ev);
	void (*on_continuation)(struct imap_session *s, void *ctx, int64_t now);
	void (*on_done)(struct imap_session *s, void *ctx, const struct imap_reply *r);
	size_t keep_whole;         /* > 0: responses kept whole up to this many bytes */
};

/* The selected mailbox, as the server last described it. */
struct imap_selected {
	uint32_t exists;
	bool exists_known;
	uint32_t uidnext;          /* 0: SELECT gave none */
	uint32_t uidvalidity;      /* 0: unknown */
};

struct session_params {
	const struct route *route;
	const char *label;         /* "route", "route/junk": for logs */
	const char *host;
	int port;
	enum tls_mode tls;
	const char *tls_key;       /* the key that set tls ("imap_tls"), for words */
	const char *username, *password;
	const char *bearer;        /* OAuth2 access token, or NULL (libcurl copies it) */
	const char *auth;          /* SASL mechanism, "AUTO" */
	long timeout_ms;           /* bound on libcurl's connect and login */
	void (*on_ready)(struct imap_session *s, void *ctx);
	void *ctx;
};

struct imap_session *session_new(CURLM *multi, const struct session_params *p,
                                 char *err, size_t errlen);
CURL *session_easy(const struct imap_session *s);
/* libcurl's connect transfer is over (CURLMSG_DONE). */
void session_connected(struct imap_session *s, CURLcode code);

void session_cmd(struct imap_session *s, const struct session_handler *h, void *ctx,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* SELECT mailbox (modified UTF-7, quoted here); what the engine knew of
 * the selected mailbox is forgotten first. */
void session_select(struct imap_session *s, const char *mailbox,
                    const struct session_handler *h, void *ctx);
/* End an IDLE: DONE; its tagged reply goes to the IDLE's handler. */
void session_idle_done(struct imap_session *s, int64_t now);

void session_listen(struct imap_session *s,
                    void (*fn)(struct imap_session *s, void *ctx, const struct imap_event *ev),
                    void *ctx);
/* Did the count grow since the last call?  *when: the last growth. */
bool session_take_news(struct imap_session *s, int64_t *when);
/* Look at once: the next session_take_news() says yes (after a SELECT
 * of a mailbox where mail may have come meanwhile). */
void session_force_news(struct imap_session *s, int64_t now);

/* The one timer: fn runs once at `when` (0 cancels). */
void session_timer(struct imap_session *s, int64_t when,
                   void (*fn)(struct imap_session *s, void *ctx, int64_t now), void *ctx);

/* The session failed with this result (SPEC §5); the connection is cut.
 * Once settled (the probe has its verdict) a failure is a warning only. */
void session_fail(struct imap_session *s, enum result_class r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void session_settle(struct imap_session *s);
/* Say LOGOUT (after DONE if in IDLE; at once if a command is unanswered,
 * whose reply is then ignored) and close when answered, or at `until` (0:
 * the bound already set). */
void session_logout(struct imap_session *s, int64_t until);
/* Cut the connection now. */
void session_close(struct imap_session *s);
/* The cleanup bound, without ending the session (the task under way ends
 * it when done).  Also bounds a connect still under way. */
void session_bound(struct imap_session *s, int64_t until);

/* What the engine knows. */
const struct route *session_route(const struct imap_session *s);
const char *session_label(const struct imap_session *s);
bool session_has(const struct imap_session *s, unsigned cap);
void session_drop_cap(struct imap_session *s, unsigned cap);
const struct imap_selected *session_selected(const struct imap_session *s);
bool session_logged_in(const struct imap_session *s);
bool session_failed(const struct imap_session *s, enum result_class *r, const char **error);
bool session_closed(const struct imap_session *s);
bool session_connecting(const struct imap_session *s);
bool session_logging_out(const struct imap_session *s);
/* The steps of libcurl's connect and login (SPEC §11). */
void session_steps(const struct imap_session *s, struct conn_steps *out);
/* TLS details libcurl reported for the connection. */
const char *session_tls_version(const struct imap_session *s);
int64_t session_cert_not_after(const struct imap_session *s);
/* A command (an IDLE too) runs. */
bool session_busy(const struct imap_session *s);
/* A command (not an IDLE already under way) awaits its reply since *since. */
bool session_awaiting(const struct imap_session *s, int64_t *since, const char **what);

/* The event loop's side.  While libcurl connects, session_connect_step()
 * (handover.c) names a TLS mode that does not fit the port without waiting
 * for the connect timeout: the owner calls it before session_step() and
 * counts session_connect_timer() with session_next_timer(). */
void session_connect_step(struct imap_session *s, int64_t now);
int64_t session_connect_timer(const struct imap_session *s);   /* 0: none */
void session_step(struct imap_session *s, int64_t now);
void session_io_ready(struct imap_session *s);
curl_socket_t session_wait_fd(const struct imap_session *s, bool *want_write);
int64_t session_next_timer(const struct imap_session *s);   /* 0: none */
void session_free(struct imap_session *s);

/* Writing commands: an IMAP quoted string (the config keeps CR and LF out
 * of names); a UID list "4,7,9" of as many as fit. */
void session_quote(const char *in, char *dst, size_t dstlen);
void session_uid_list(const uint32_t *uids, size_t count, char *dst, size_t dstlen);
/* "NO", "BAD" or "failed", for messages. */
const char *session_status_word(const struct imap_reply *r);

#endif
