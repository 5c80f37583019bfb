/*
 * prepare.h - the task from login to a selected mailbox:
 *
 *   [LIST: the junk mailbox marked \Junk, Gmail's \Trash, \All; asked
 *    once per process (the route's ledger keeps the names); where the
 *    server has LIST-STATUS and SPECIAL-USE, one
 *    LIST (SPECIAL-USE) "" "*" RETURN (STATUS (UIDNEXT MESSAGES UIDVALIDITY))
 *    also says the junk mailbox's UIDNEXT]
 *   -> SELECT <mailbox>: UIDNEXT noted (without one, UID FETCH * (UID))
 *   -> [STATUS <junk> (UIDNEXT MESSAGES UIDVALIDITY)]  inbox, if LIST did not say
 *
 * The inbox session notes the junk mailbox's UIDNEXT before the send, so
 * the junk mailbox can be watched without a login of its own (watch.c
 * peeks at it), and its count, so an empty one is never swept.  A junk
 * mailbox the user named must exist: its STATUS refused fails the session;
 * one found through LIST that refuses STATUS is dropped with a warning (and
 * LIST asked again next cycle).  LIST is sent only where its answer is
 * used: never in the bounce mailbox.
 *
 * Contract: the caller owns struct prepare, fills `role`, `mailbox` (the
 * name to select, modified UTF-7; "" for a junk session that must find it
 * through LIST) and `junk` (the inbox session's named junk mailbox, "" to
 * find it), then calls prepare_start(); done(ctx) runs once the mailbox is
 * selected and uidnext known, or with `absent` set (a junk session, and
 * the account has no junk mailbox).  A refusal that ends the session goes
 * through session_fail() and done never runs; a refused SELECT first asks
 * LIST "" "*", so the error names the mailboxes that do exist and the key
 * that chooses one.
 */
#ifndef MAIL_E2E_IMAP_PREPARE_H
#define MAIL_E2E_IMAP_PREPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "imap.h"
#include "session.h"

struct prepare {
	enum imap_role role;
	char mailbox[SESSION_MAILBOX_MAX];
	char junk[SESSION_MAILBOX_MAX];     /* inbox: the junk mailbox to STATUS, "" none */
	char trash[SESSION_MAILBOX_MAX];    /* Gmail: \Trash, "" unknown */
	char allmail[SESSION_MAILBOX_MAX];  /* Gmail: \All, "" unknown */
	uint32_t uidnext;                   /* of the selected mailbox; at least 1 */
	uint32_t exists;                    /* its count at SELECT */
	int64_t select_sent_ns, select_ns;  /* SELECT went out; how long it took, -1: not yet */
	uint32_t junk_next;                 /* the junk mailbox's UIDNEXT, 0: unknown */
	uint32_t junk_messages;             /* ... how many messages it holds */
	uint32_t junk_validity;             /* ... its UIDVALIDITY, 0: unknown */
	bool absent;                        /* junk session: no junk mailbox */
	char refused[160];                  /* SELECT's refusal, while LIST says what exists */
	char listed[160];                   /* ... the selectable names it listed */
	void (*done)(void *ctx);
	void *ctx;
};

void prepare_start(struct prepare *p, struct imap_session *s);

#endif
