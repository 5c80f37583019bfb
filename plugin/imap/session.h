/*
 * imap_session.h - the inside of one IMAP session, shared by the modules
 * that speak on it and by nobody else:
 *
 *   imap.c   the session: connect hand-over, I/O, untagged data in every
 *            state, logout
 *   prepare.c  from login to the selected mailbox: CAPABILITY, LIST,
 *            SELECT, the junk mailbox's UIDNEXT
 *   evidence.c  the found probe's header block: verdicts and path
 *   found.c  deleting the found probe (on Gmail through Trash)
 *   sweep.c  earlier probes in the mailbox: late ones, duplicates, leftovers
 *   bounce.c the bounce watch's check: delivery reports about the probe
 *   watch.c  how the mailbox is watched for the token: quick NOOPs, then IDLE
 *            or polling, the FETCH that checks what is new, and STATUS
 *            peeks at the junk mailbox
 *
 * Each tagged reply goes to the module that owns the phase it answers
 * (prepare_on_tagged, sweep_on_tagged, watch_on_tagged); they call back into imap.c only
 * through the functions declared here.  All memory is the session's.
 */
#ifndef MAIL_E2E_IMAP_SESSION_H
#define MAIL_E2E_IMAP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "imap.h"
#include "imap_parse.h"

#define IMAP_MAX_FOUND 16
#define IMAP_SCAN_MAX 64      /* earlier probes examined per cycle; the rest rotate */

enum phase {
	PH_CONNECTING, PH_CAPABILITY, PH_LIST, PH_SELECT, PH_UIDNEXT, PH_JUNK_STATUS,
	PH_SCAN_SELECT, PH_SCAN_SEARCH, PH_SCAN_FETCH, PH_SCAN_STORE, PH_SCAN_EXPUNGE,
	PH_SCAN_MOVE, PH_SCAN_TRASH_SELECT, PH_SCAN_TRASH_STORE, PH_SCAN_TRASH_EXPUNGE,
	PH_RESELECT,
	PH_READY,
	PH_NOOP, PH_CHECK, PH_DSN, PH_PEEK, PH_IDLE_START, PH_IDLING, PH_IDLE_DONE, PH_SLEEP,
	PH_EVIDENCE, PH_STORE, PH_EXPUNGE, PH_MOVE, PH_TRASH_SELECT, PH_TRASH_FIND,
	PH_TRASH_STORE, PH_TRASH_EXPUNGE,
	PH_LOGOUT, PH_CLOSED,
};

struct imap_session {
	CURLM *multi;
	CURL *easy;
	bool added;
	const struct route *route;
	enum imap_role role;
	char mailbox[256];          /* to SELECT; "" for junk until LIST names it */
	char trash[256];            /* Gmail: the \Trash mailbox, "" if unknown */
	char allmail[256];          /* Gmail: the \All mailbox, where the sweep looks */
	bool absent;                /* junk role: the account has no junk mailbox */
	bool finishing;             /* imap_finish() came during the sweep */
	bool may_read;              /* socket polled ready, or we just wrote/connected */
	struct conn_watch watch;
	curl_socket_t fd;
	enum phase phase;
	bool found, failed;
	int64_t deadline_ns;        /* the route's: bounds the cleanup too */

	struct imap_reader reader;
	bool last_truncated;        /* the response being handled was cut */
	char outbuf[1400];
	size_t out_len;
	unsigned tag_seq;
	char tag[16];               /* tag of the command we wait for */
	const char *cmd_name;       /* its name, for errors */
	int64_t cmd_sent_ns;        /* when it (or DONE) went out: the stall clock */

	/* what the server offers */
	bool has_idle, has_uidplus, has_move, is_gmail;

	/* the selected mailbox */
	uint32_t uidnext;           /* before the send: only UIDs from here count */
	uint32_t exists;            /* message count as the server last said */
	bool exists_known;
	bool changed;               /* EXISTS grew since the last check went out */

	/* the junk mailbox, seen from the inbox session (prepare.c, watch.c) */
	char junk[256];             /* to STATUS (modified UTF-7), "" none */
	uint32_t junk_next;         /* its UIDNEXT before the send, 0: unknown */
	uint32_t junk_seen;         /* its UIDNEXT as last seen */
	bool junk_peek;             /* STATUS it during the watch */
	int64_t junk_moved_ns;      /* a STATUS first showed it grew, 0: not yet */
	int64_t next_peek_ns;
	unsigned peek_step;
	uint32_t floor;             /* junk role: the UIDNEXT the inbox session noted */

	/* the watch (watch.c) */
	char token[33];
	uint32_t check_from;        /* next UID a check looks at */
	uint32_t check_top;         /* highest UID + 1 the check under way saw */
	int64_t check_news_ns;      /* the EXISTS that made this check, 0: none */
	uint32_t found_uids[IMAP_MAX_FOUND];   /* bounce role: the reports to delete */
	size_t n_found;
	uint32_t reports[IMAP_MAX_FOUND];      /* bounce role: multipart/report UIDs to read */
	size_t n_reports;
	unsigned quick_step;        /* quick NOOPs sent so far */
	int64_t t_watch_ns;         /* watching began (the SMTP reply) */
	int64_t t_last_exists_ns;   /* last EXISTS that grew the count */
	int64_t t_last_check_ns;
	int64_t t_last_noop_ns;     /* IDLE is left for a NOOP some time after it */
	int64_t next_poll_ns;
	int64_t close_by_ns;        /* cleanup / logout bound, 0: none */

	/* earlier probes (sweep.c) */
	bool sweep_elsewhere;       /* Gmail: the sweep runs in allmail, INBOX is selected again after */
	uint32_t scan_next;         /* UIDNEXT of the mailbox the sweep looks at */
	uint32_t scan_uids[IMAP_SCAN_MAX];
	size_t n_scan;
	uint32_t drop_uids[IMAP_SCAN_MAX];
	size_t n_drop;
	bool sweep_trouble;         /* something was left to look at again */
	int64_t sweep_due_at;       /* Unix seconds the first probe of ours left becomes due */

	/* the found probe's header block (evidence.c) */
	char *whole_buf;            /* session_keep_whole()'s buffer, or NULL */
	bool evidence_pending;
	int64_t evidence_by_ns;

	/* the found probe's copies in Gmail's Trash (from COPYUID) */
	uint32_t trash_uids[IMAP_MAX_FOUND];
	size_t n_trash;

	struct imap_outcome res;
};

/* imap.c */
void session_fail(struct imap_session *s, enum result_class r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void session_send(struct imap_session *s, enum phase next, const char *name,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void session_send_done(struct imap_session *s, int64_t now);   /* ends IDLE */
void session_logout(struct imap_session *s);
void session_on_found(struct imap_session *s, int64_t now);
void session_uid_list(const uint32_t *uids, size_t count, char *dst, size_t dstlen);
/* Keep the next responses whole, line ends included, in a buffer of cap
 * bytes the session owns (a header block, a delivery report): false
 * without memory.  _done frees it; safe to call when none is in use. */
bool session_keep_whole(struct imap_session *s, size_t cap);
void session_keep_whole_done(struct imap_session *s);
void session_select(struct imap_session *s, const char *mailbox, enum phase next);
void session_quote(const char *in, char *dst, size_t dstlen);   /* an IMAP quoted string */

/* bounce.c: the check of the bounce role (see there). */
void bounce_send_check(struct imap_session *s);
void bounce_on_check_untagged(struct imap_session *s, const char *text);
bool bounce_after_check(struct imap_session *s);
void bounce_on_dsn_untagged(struct imap_session *s, const char *text);
bool bounce_after_dsn(struct imap_session *s, int64_t now);
bool bounce_finish(struct imap_session *s);
#define BOUNCE_REPORT_MAX (64 * 1024)   /* a delivery report is read up to this */
uint32_t bounce_judge_old(struct imap_session *s, const char *text);

/* prepare.c: from the capabilities to the sweep. */
void prepare_begin(struct imap_session *s);
void prepare_on_tagged(struct imap_session *s, const struct imap_response *r, int64_t now);
void prepare_on_untagged(struct imap_session *s, const char *text, const struct imap_response *r);

/* found.c: the found probe deleted (on Gmail through Trash), then logout. */
void found_cleanup(struct imap_session *s);
void found_on_tagged(struct imap_session *s, const struct imap_response *r);

/* evidence.c: the found probe's header block read once, before cleanup. */
void evidence_start(struct imap_session *s, int64_t now);
void evidence_on_untagged(struct imap_session *s, const char *text, bool truncated);
void evidence_on_tagged(struct imap_session *s, const struct imap_response *r);
void evidence_timer(struct imap_session *s, int64_t now);
int64_t evidence_next_timer(const struct imap_session *s);
/* The latest moment cleanup may go on: want, but never later than 0.75 s
 * after the route's deadline, nor earlier than now. */
int64_t session_cleanup_bound(const struct imap_session *s, int64_t now, int64_t want);

/* sweep.c: runs between SELECT and the watch, then calls watch_begin or
 * logs out.  On Gmail it looks in All Mail (archived probes are there too),
 * deletes through Trash, and selects INBOX again before the watch. */
void sweep_start(struct imap_session *s);
void sweep_on_untagged(struct imap_session *s, const char *text);
void sweep_on_tagged(struct imap_session *s, const struct imap_response *r);

/* watch.c */
void watch_begin(struct imap_session *s, int64_t now);
void watch_on_untagged(struct imap_session *s, const char *text, int64_t now);
void watch_on_tagged(struct imap_session *s, const struct imap_response *r, int64_t now);
void watch_on_continuation(struct imap_session *s, int64_t now);
void watch_on_news(struct imap_session *s, int64_t now);   /* EXISTS grew */
void watch_timer(struct imap_session *s, int64_t now);
int64_t watch_next_timer(const struct imap_session *s);
const char *watch_describe(const struct imap_session *s);

#endif
