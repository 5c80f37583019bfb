/*
 * imap.h - the IMAP leg of a probe.
 *
 * libcurl connects, negotiates TLS or STARTTLS and logs in (CONNECT_ONLY on
 * the shared multi handle); from then on this module speaks IMAP itself over
 * curl_easy_send/recv, non-blocking, so one event loop serves every route:
 *
 *   [CAPABILITY, unless the login reply stated them] -> [LIST: the junk
 *   mailbox, Gmail's \Trash and \All] -> SELECT (note UIDNEXT; without one,
 *   UID FETCH * (UID))
 *   -> sweep of earlier probes (sweep.c): UID SEARCH ... UNDELETED HEADER
 *      X-Mail-E2E-Probe "" + UID FETCH their Message-ID and INTERNALDATE;
 *      count late ones, delete the provably ours that are due (on Gmail in
 *      All Mail, through Trash)                    [caller sends meanwhile]
 *   -> watch (watch.c): quick NOOPs for 3 s, then IDLE or polling; on an
 *      EXISTS that grows the count, UID FETCH <new UIDs> of the probe header
 *   -> found (found.c): UID STORE \Deleted + UID EXPUNGE (UIDPLUS), on
 *      Gmail UID MOVE to \Trash and expunge there -> LOGOUT
 *
 * Contract:
 *  - imap_open() adds a connect transfer to `multi` and returns the session,
 *    or NULL with err filled.  `role` picks the mailbox (the route's, or its
 *    junk mailbox); `bearer`, if not NULL, is an OAuth2 access token used
 *    instead of the password (libcurl copies it: the caller may wipe it).  The caller owns the session and frees it with
 *    imap_free() (which removes the handle from the multi, after cutting the
 *    socket so libcurl cannot block on its own LOGOUT).
 *  - When the multi reports CURLMSG_DONE for imap_easy(s), the caller calls
 *    imap_connected(s, code).
 *  - imap_step(s, now) does all pending I/O and timers; call it after every
 *    wake-up.  It reads from the server only after imap_io_ready() (the
 *    socket polled readable) or its own sending, so a hundred idle
 *    sessions cost no system call per wake-up.  imap_wait_fd() says which socket and events to wait for, and
 *    imap_next_timer() when the session next needs a step without I/O.
 *  - imap_state() tells how far the probe got; FOUND and FAILED stick once
 *    reached.  On IMAP_FAILED, imap_outcome() holds the classified failure.
 *    On IMAP_FOUND the session goes on by itself: it deletes the probe (if
 *    configured) and logs out.  imap_closed() is true once the session has
 *    nothing left to do.
 */
#ifndef MAIL_E2E_IMAP_H
#define MAIL_E2E_IMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <curl/curl.h>

#include "config.h"
#include "headers.h"
#include "result.h"

enum imap_state {
	IMAP_CONNECTING,   /* libcurl is connecting and logging in */
	IMAP_PREPARING,    /* CAPABILITY / SELECT under way */
	IMAP_READY,        /* mailbox selected, UIDNEXT noted: send now */
	IMAP_WATCHING,     /* watching for the token */
	IMAP_FOUND,        /* seen; deleting and logging out */
	IMAP_FAILED,       /* see imap_outcome() */
	IMAP_ABSENT,       /* junk role: the account has no junk mailbox */
};

enum imap_role {
	IMAP_ROLE_INBOX,   /* route's imap_mailbox */
	IMAP_ROLE_JUNK,    /* imap_junk_mailbox, or the one LIST marks \Junk */
	IMAP_ROLE_BOUNCE,  /* bounce_imap_*: the envelope sender's mailbox (bounce.c);
	                      IMAP_FOUND there means a report proved the probe failed */
};

/* What the bounce watch learnt (SPEC §8). */
struct dsn_outcome {
	bool failed;               /* Action: failed */
	bool delayed;              /* Action: delayed */
	char status[16];           /* of the failure (else of the delay) */
	char diagnostic[RESULT_ERROR_MAX];
};

/* What the found probe's header block said (SPEC §7). */
struct imap_evidence {
	bool read;                  /* the header block was fetched and read */
	struct auth_verdicts auth;
	struct path_summary path;
};

struct imap_outcome {
	enum result_class result;  /* for IMAP_FAILED */
	char error[RESULT_ERROR_MAX];
	bool logged_in;            /* libcurl's connect and login succeeded */
	int tries;                 /* checks (FETCH of new messages) sent */
	int64_t t_found_ns;        /* monotonic moment the probe was seen */
	uint32_t found_uid;        /* its UID */
	int64_t t_ready_ns;        /* mailbox selected */
	bool used_idle;
	char tls_version[16];
	int64_t cert_not_after;     /* 0: unknown */
	struct imap_evidence ev;    /* once found */
	struct dsn_outcome dsn;     /* bounce role */
	bool scanned;               /* earlier probes were examined */
	int late;                   /* of those, late arrivals counted now */
};

struct imap_session;

struct imap_session *imap_open(CURLM *multi, const struct route *r, enum imap_role role,
                               const char *bearer, long timeout_ms, char *err, size_t errlen);
CURL *imap_easy(const struct imap_session *s);
void imap_connected(struct imap_session *s, CURLcode code);

/* Start looking for token (the message was just accepted). */
void imap_watch(struct imap_session *s, const char *token);

/* The junk mailbox, seen from the inbox session (check_junk).  Once the
 * session is READY: the junk mailbox it found (modified UTF-7) and its
 * UIDNEXT before the send; false if none is watched. */
bool imap_junk_status(const struct imap_session *s, const char **name, uint32_t *uidnext);
/* Peek at it with STATUS during the watch (on), or stop. */
void imap_peek_junk(struct imap_session *s, bool on);
/* A peek saw it grow: when (monotonic ns) and its UIDNEXT then. */
bool imap_junk_moved(const struct imap_session *s, int64_t *when, uint32_t *uidnext);
/* A junk session: the mailbox to select (modified UTF-7) and the UIDNEXT
 * the inbox session noted before the send, from which its checks start.
 * Call right after imap_open(). */
void imap_junk_target(struct imap_session *s, const char *mailbox, uint32_t floor);

/* Must a junk session sweep the junk mailbox this cycle?  Yes, unless the
 * last sweep there was whole, nothing arrived since (its UIDNEXT is the
 * same) and no probe of ours left there is due yet. */
struct probe_ledger;
bool sweep_junk_due(const struct probe_ledger *l, uint32_t junk_uidnext, time_t now);

/* Stop: the probe has its result (or was abandoned); log out politely if the
 * connection is usable, bounded by `until` (monotonic ns). */
void imap_finish(struct imap_session *s, int64_t now, int64_t until);

void imap_step(struct imap_session *s, int64_t now);
void imap_io_ready(struct imap_session *s);
enum imap_state imap_state(const struct imap_session *s);
bool imap_closed(const struct imap_session *s);
/* Seen, though its header block may still be on the way (IMAP_FOUND waits
 * for it, at most a couple of seconds). */
bool imap_found(const struct imap_session *s);
const struct imap_outcome *imap_outcome(const struct imap_session *s);

/* Is a command reply outstanding, and since when (monotonic ns)? */
bool imap_awaiting_reply(const struct imap_session *s, int64_t *since, const char **what);

/* fd to poll (or CURL_SOCKET_BAD) and whether to wait for writability. */
curl_socket_t imap_wait_fd(const struct imap_session *s, bool *want_write);
int64_t imap_next_timer(const struct imap_session *s);   /* 0: none */

void imap_free(struct imap_session *s);

#endif
