/*
 * imap.h - the IMAP legs of a probe, the only face of plugin/imap/ that
 * probe.c sees.  One leg is one IMAP session in one role (the inbox, the
 * junk mailbox, the bounce mailbox) with its plan (plan.c):
 *
 *   libcurl's connect and login -> [CAPABILITY] (session.c, handover.c)
 *   -> prepare: [LIST], SELECT, UIDNEXT, [the junk mailbox's UIDNEXT]
 *   -> sweep of earlier probes (or reports) -> expunge of the due ones
 *      [Gmail: in All Mail, through Trash, then SELECT INBOX again]
 *                                                  [caller sends meanwhile]
 *   -> watch: quick NOOPs, then IDLE or polling; a check on news
 *   -> found: evidence (the header block) -> expunge (Gmail through Trash)
 *   -> LOGOUT
 *
 * Contract:
 *  - imap_open() adds a connect transfer to `multi` and returns the leg,
 *    or NULL with err filled.  `bearer`, if not NULL, is an OAuth2 access
 *    token used instead of the password (libcurl copies it: the caller may
 *    wipe it).  `budget` is the probe's (borrowed: it outlives the leg);
 *    it bounds the leg's cleanup.  The caller owns the leg and frees it
 *    with imap_free() (which cuts the socket so libcurl cannot block on its
 *    own LOGOUT).
 *  - When the multi reports CURLMSG_DONE for imap_easy(l), the caller calls
 *    imap_connected(l, code).
 *  - imap_step(l, now) does all pending I/O and timers; call it after every
 *    wake-up.  It reads from the server only after imap_io_ready() (the
 *    socket polled readable) or its own sending, so a hundred idle
 *    sessions cost no system call per wake-up.  imap_wait_fd() says which
 *    socket and events to wait for, imap_next_timer() when the leg next
 *    needs a step without I/O.
 *  - imap_state() tells how far the leg got; FOUND and FAILED stick once
 *    reached.  On IMAP_FAILED, imap_outcome() holds the classified failure.
 *    On IMAP_FOUND the leg goes on by itself: it deletes what it found (if
 *    configured) and logs out.  imap_closed() is true once the leg has
 *    nothing left to do.
 */
#ifndef MAIL_E2E_IMAP_H
#define MAIL_E2E_IMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <curl/curl.h>

#include "budget.h"
#include "config.h"
#include "conn.h"
#include "dnsbl.h"
#include "headers.h"
#include "result.h"
#include "spam.h"

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
	IMAP_ROLE_BOUNCE,  /* bounce_imap_*: the envelope sender's mailbox;
	                      IMAP_FOUND there means a report proved the probe failed */
	IMAP_ROLES
};

/* What the bounce watch learnt (SPEC §8). */
struct dsn_outcome {
	bool failed;               /* Action: failed */
	bool delayed;              /* Action: delayed */
	char status[16];           /* of the failure (else of the delay) */
	char diagnostic[RESULT_ERROR_MAX];
};

/* What the found probe's header block said (SPEC §7, §13). */
struct imap_evidence {
	bool read;                  /* the header block was fetched and read */
	struct auth_verdicts auth;
	struct path_summary path;
	struct spam_verdict spam;   /* by the route's spam_filter_from */
	enum dnsbl_pick dnsbl;      /* DNSBL_PICKED: dnsbl_addr is the one to look up */
	struct dnsbl_addr dnsbl_addr;   /* (by the route's dnsbl_hop) */
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
	struct conn_steps steps;    /* connect, TLS, login (ns, -1: not reached) */
	int64_t select_ns;          /* SELECT of the watched mailbox, -1: not reached */
	bool scanned;               /* earlier probes were examined */
	int late;                   /* of those, late arrivals counted now */
};

struct imap_leg;

struct imap_leg *imap_open(CURLM *multi, const struct route *r, enum imap_role role,
                           const char *bearer, const struct budget *budget, char *err, size_t errlen);
CURL *imap_easy(const struct imap_leg *l);
void imap_connected(struct imap_leg *l, CURLcode code);

/* Start looking for token (the message was just accepted). */
void imap_watch(struct imap_leg *l, const char *token);

/* The junk mailbox, seen from the inbox leg (check_junk).  Once the leg is
 * READY: the junk mailbox it found (modified UTF-7) and its UIDNEXT before
 * the send; false if none is watched. */
bool imap_junk_status(const struct imap_leg *l, const char **name, uint32_t *uidnext);
/* Peek at it with STATUS during the watch (on; say so before imap_watch),
 * or stop (a junk leg took over). */
void imap_peek_junk(struct imap_leg *l, bool on);
/* A peek saw it grow: when (monotonic ns) and its UIDNEXT then. */
bool imap_junk_moved(const struct imap_leg *l, int64_t *when, uint32_t *uidnext);
/* A junk leg: the mailbox to select (modified UTF-7) and the UIDNEXT the
 * inbox leg noted before the send, from which its checks start.  Call
 * right after imap_open(). */
void imap_junk_target(struct imap_leg *l, const char *mailbox, uint32_t floor);

/* Stop: the probe has its result (or was abandoned); log out politely if
 * the connection is usable, bounded by `until` (monotonic ns, never past
 * the budget's cleanup bound). */
void imap_finish(struct imap_leg *l, int64_t now, int64_t until);

void imap_step(struct imap_leg *l, int64_t now);
void imap_io_ready(struct imap_leg *l);
enum imap_state imap_state(const struct imap_leg *l);
bool imap_closed(const struct imap_leg *l);
/* Seen, though its header block may still be on the way (IMAP_FOUND waits
 * for it, within the budget's cleanup bound). */
bool imap_found(const struct imap_leg *l);
const struct imap_outcome *imap_outcome(struct imap_leg *l);

/* Does a look for the probe await its answer, made for news the server
 * gave before `before` (monotonic ns)?  What it finds arrived in time. */
bool imap_news_in_check(const struct imap_leg *l, int64_t before);
/* Is a command reply outstanding, and since when (monotonic ns)? */
bool imap_awaiting_reply(const struct imap_leg *l, int64_t *since, const char **what);

/* fd to poll (or CURL_SOCKET_BAD) and whether to wait for writability. */
curl_socket_t imap_wait_fd(const struct imap_leg *l, bool *want_write);
int64_t imap_next_timer(const struct imap_leg *l);   /* 0: none */

void imap_free(struct imap_leg *l);

#endif
