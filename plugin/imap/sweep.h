/*
 * sweep.h - the task that looks at earlier probes in a mailbox, while the
 * SMTP leg runs (so it costs the measurement nothing):
 *
 *   [SELECT <elsewhere>]                          Gmail: All Mail
 *   UID SEARCH UID <cursor+1>:<uidnext-1> UNDELETED <criteria>
 *   UID FETCH <up to SWEEP_MAX of them> <items>
 *
 * and says which of them are due for deletion (expunge.c deletes them).
 * A message is judged only if its UID was in the set this sweep asked
 * about, and it is touched only if the judge proves it ours.  Messages
 * already flagged \Deleted are skipped, and the window rotates: the next
 * cycle goes on after the highest UID examined, and starts over once a
 * search comes back short, so every candidate gets its turn however many
 * there are.  After a whole sweep only what came since is searched (the
 * route's probes found and deleted meanwhile do not count as new), until a
 * probe of ours left there becomes due: then the whole mailbox again; with
 * nothing new no command is sent at all.
 *
 * What is looked for and how a message is judged is a `struct sweep_kind`:
 * sweep_probes (this file: earlier probes, by their verified token; late
 * ones counted once, duplicates of found probes and probes older than
 * sweep_after due), or the bounce watch's (bounce.c: delivery reports).
 *
 * Contract: the caller owns struct sweep, fills the fields above "state"
 * and calls sweep_start(); done(ctx) runs once, with `drop` holding the
 * UIDs to delete.  The ledger (the route's) keeps the window's cursor
 * between cycles.
 */
#ifndef MAIL_E2E_IMAP_SWEEP_H
#define MAIL_E2E_IMAP_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "probe_id.h"
#include "session.h"

#define SWEEP_MAX SESSION_UIDS_MAX   /* messages examined per cycle; the rest rotate */

enum sweep_box { SWEEP_INBOX, SWEEP_JUNK, SWEEP_ALLMAIL, SWEEP_BOUNCE };

struct sweep;

struct sweep_kind {
	const char *criteria;      /* after UNDELETED: "HEADER X-Mail-E2E-Probe \"\"" */
	const char *items;         /* what UID FETCH asks for, with its parentheses */
	size_t keep_whole;         /* > 0: replies kept whole up to this */
	/* A UID not worth fetching (known not to be ours), or NULL. */
	bool (*skip)(void *ctx, const struct imap_session *s, uint32_t uid);
	/* One fetched message: due for deletion? */
	bool (*judge)(void *ctx, struct imap_session *s, struct sweep *w, const struct imap_fetch *f);
	void *ctx;
};

struct sweep {
	const struct sweep_kind *kind;
	enum sweep_box box;
	char elsewhere[SESSION_MAILBOX_MAX];   /* "" : the selected mailbox */
	uint32_t uidnext;          /* of the selected mailbox (not with elsewhere) */
	bool line_out;             /* the probe's line is written: late ones count next time */
	void (*done)(void *ctx);
	void *ctx;
	/* results */
	bool scanned;              /* earlier probes were examined */
	bool trouble;              /* something was left to look at again */
	int late;                  /* late arrivals counted now */
	int64_t due_at;            /* Unix seconds the first one left becomes due, 0: none */
	uint32_t drop[SWEEP_MAX];
	size_t n_drop;
	/* state */
	struct session_handler fetch_handler;   /* the kind's items and buffer */
	uint32_t scan_next;
	uint32_t from;             /* the first UID searched */
	bool new_only;             /* only what came since the last whole sweep */
	uint32_t asked[SWEEP_MAX];
	size_t n_asked;
};

extern const struct sweep_kind sweep_probes;

void sweep_start(struct sweep *w, struct imap_session *s);
/* Note the outcome in the route's ledger once the deletion is over
 * (deleted: it went well, or there was nothing to delete). */
void sweep_record(struct sweep *w, const struct imap_session *s, bool deleted);
/* Must a junk session sweep the junk mailbox this cycle?  Yes, unless the
 * last sweep there was whole, nothing arrived since (its UIDNEXT is the
 * same) and no probe of ours left there is due yet. */
bool sweep_junk_due(const struct probe_ledger *l, uint32_t junk_uidnext, time_t now);
/* These UIDs of the box, probes of ours found, were deleted. */
void sweep_forget_found(struct probe_ledger *l, enum sweep_box box, const uint32_t *uids, size_t n);
/* Was this UID in the set the sweep asked about? */
bool sweep_asked(const struct sweep *w, uint32_t uid);
/* A due UID for deletion (once). */
void sweep_drop(struct sweep *w, uint32_t uid);

#endif
