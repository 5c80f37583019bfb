/*
 * expunge.h - the task that deletes given UIDs of the selected mailbox, and
 * nothing else: the found probe, the reports about it, and the earlier
 * probes the sweep found due.
 *
 *   UID STORE <uids> +FLAGS.SILENT (\Deleted) -> UID EXPUNGE <uids>
 *
 * Never a plain EXPUNGE, which would also purge what others flagged; a
 * server without UIDPLUS keeps the messages flagged \Deleted (a warning).
 *
 * Gmail only archives what is deleted from INBOX (it stays in All Mail),
 * so with `trash` set the messages go to Trash and are removed there (SPEC
 * §6): UID MOVE to Trash (or UID COPY, then the delete above), their Trash
 * UIDs from COPYUID (else searched for by `token` where one is given),
 * SELECT Trash, STORE and UID EXPUNGE there.  Trash is then the selected
 * mailbox.
 *
 * Contract: the caller owns struct expunge and fills `what` (for messages:
 * "the probe", "earlier probes"), `trash` ("" for none) and `token` (""
 * for none) before expunge_start(); the UIDs are copied.  done(ctx) runs
 * once, whatever happened (failures are warnings: the verdict is made);
 * `removed` tells whether the messages are gone.
 */
#ifndef MAIL_E2E_IMAP_EXPUNGE_H
#define MAIL_E2E_IMAP_EXPUNGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe_id.h"
#include "session.h"

struct expunge {
	const char *what;
	char trash[SESSION_MAILBOX_MAX];
	char token[PROBE_TOKEN_SIZE];
	void (*done)(void *ctx);
	void *ctx;
	bool removed;
	/* state */
	uint32_t uids[SESSION_UIDS_MAX];
	size_t n;
	uint32_t trash_uids[SESSION_UIDS_MAX];
	size_t n_trash;
	bool copied;                /* UID COPY (no MOVE): delete the originals next */
};

void expunge_start(struct expunge *x, struct imap_session *s, const uint32_t *uids, size_t n);

#endif
