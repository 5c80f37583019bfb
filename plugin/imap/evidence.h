/*
 * evidence.h - the task that reads what the found probe carries (SPEC §7):
 *
 *   UID FETCH <uid> (BODY.PEEK[HEADER])
 *
 * once, right after the probe is seen and before it is deleted, unless
 * the look that found it read the block already (evidence_take()).  The
 * header block is kept whole up to EVIDENCE_MAX bytes (a longer one is
 * read up to there, its last, maybe cut, field left out) and handed to
 * headers.c: the Authentication-Results verdicts and the Received path;
 * spam.c: the spam filter's verdict; dnsbl.c: the address to look up.
 * Evidence never changes whether the probe was found: a refused FETCH, or
 * one unanswered at `by`, costs a warning and the line goes out without
 * it.
 *
 * Contract: the caller owns struct evidence and `out`, which is filled
 * (out->read) only from a header block that came.  done(ctx) runs once.
 */
#ifndef MAIL_E2E_IMAP_EVIDENCE_H
#define MAIL_E2E_IMAP_EVIDENCE_H

#include <stdint.h>

#include "imap.h"
#include "session.h"

#define EVIDENCE_MAX (64 * 1024)   /* Gmail's headers are ~10 KiB */

struct evidence {
	uint32_t uid;
	struct imap_evidence *out;
	void (*done)(void *ctx);
	void *ctx;
	bool pending;
	int64_t started_ns;
};

void evidence_start(struct evidence *e, struct imap_session *s, uint32_t uid, int64_t now,
                    int64_t by);

/* Read a header block someone else fetched (the look that found the
 * probe read it whole) into out. */
void evidence_take(struct imap_evidence *out, struct imap_session *s, const struct imap_fetch *f);
/* A header block cut at the buffer's end: the length up to the start of
 * its last field, which may be cut. */
size_t evidence_whole_fields(const char *block, size_t len);

#endif
