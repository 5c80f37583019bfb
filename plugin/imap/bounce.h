/*
 * bounce.h - the bounce watch's task (SPEC §8): in the envelope sender's
 * mailbox (bounce_imap_*), watched like the inbox (watch.c), a check that
 * looks for delivery status notifications about this probe:
 *
 *   UID FETCH <new>:* (UID BODY.PEEK[HEADER.FIELDS (Content-Type)])
 *      -> the multipart/report ones, BOUNCE_BATCH at a time:
 *   UID FETCH <those> (UID BODY.PEEK[]<0.BOUNCE_REPORT_MAX>)
 *
 * and the sweep's judge for the reports left from earlier probes.  Only
 * the first BOUNCE_REPORT_MAX bytes of a report are fetched and read
 * (dsn.c): the delivery-status part and the returned headers come first.
 * A report counts only with proof: its returned headers carry a token and
 * Message-ID that verify under the route's key (probe_id.h) and the
 * token is this probe's, or its Original-Envelope-Id is this probe's token
 * (the SMTP leg sends it as ENVID where the server offers DSN); it is about this probe's failure only when its
 * recipient is the probe's `to` (a report about another recipient, a
 * `redirect :copy` elsewhere, is deleted with the probe but never counts).
 * Reports nobody can prove ours are never touched, and never fetched again
 * by this route (the ledger keeps their UIDs for the mailbox's
 * UIDVALIDITY).
 *
 * Contract: the caller owns struct bounce, fills `token` and `checked`
 * (called when a check is over: the next UID to look at, whether the probe
 * failed, whether reports were left for another check at once).  `about`
 * collects the UIDs to delete when the probe is over: reports about it,
 * and reports about this route's probes older than sweep_after.
 */
#ifndef MAIL_E2E_IMAP_BOUNCE_H
#define MAIL_E2E_IMAP_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap.h"
#include "probe_id.h"
#include "session.h"
#include "sweep.h"

#define BOUNCE_REPORT_MAX 65536   /* a number: it is written into the command */
#define BOUNCE_BATCH 16

struct bounce {
	char token[PROBE_TOKEN_SIZE];
	struct dsn_outcome *out;
	void (*checked)(void *ctx, uint32_t next_from, bool failed, bool more, int64_t now);
	void *ctx;
	struct sweep_kind kind;    /* for the sweep of this mailbox */
	/* results */
	uint32_t about[SESSION_UIDS_MAX];
	size_t n_about;
	/* a check's state */
	uint32_t from, top, untaken;
	uint32_t reports[BOUNCE_BATCH];
	size_t n_reports;
};

/* Ready struct bounce for use: its sweep kind and outcome. */
void bounce_init(struct bounce *b, struct dsn_outcome *out);
void bounce_check(struct bounce *b, struct imap_session *s, uint32_t from);

#endif
