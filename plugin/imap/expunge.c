/*
 * found.c - the found probe: deleted (UID STORE \\Deleted + UID EXPUNGE, only
 * the UIDs found), on Gmail through Trash, then logout; and how long that
 * cleanup may take (see imap_session.h).
 *
 * Gmail only archives what is deleted from INBOX (it stays in All Mail):
 * there the probe is moved to \\Trash (UID MOVE, or COPY where MOVE is not
 * offered), its Trash UIDs read from COPYUID (else searched for by token),
 * and expunged from Trash.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "imap_session.h"
#include "log.h"
#include "message.h"
#include "probe_id.h"

#define CLEANUP_NS (5 * NS_PER_S)          /* delete + logout after found */
/* --once ends within timeout + 1 s whatever the server does: cleanup of a
 * stalled connection is abandoned this long after the route's deadline. */
#define PAST_DEADLINE_NS (750 * NS_PER_MS)

int64_t session_cleanup_bound(const struct imap_session *s, int64_t now, int64_t want)
{
	int64_t latest = s->deadline_ns + PAST_DEADLINE_NS;

	if (want > latest)
		want = latest;
	return want > now ? want : now;
}

/* Gmail: deleting from INBOX only archives (the message stays in All Mail).
 * Moved to \Trash and removed there, it is gone (SPEC §6). */
static bool delete_by_trash(const struct imap_session *s)
{
	return s->is_gmail && s->trash[0];
}

static void delete_in_inbox(struct imap_session *s)
{
	char uids[IMAP_MAX_FOUND * 11];

	session_uid_list(s->found_uids, s->n_found, uids, sizeof(uids));
	session_send(s, PH_STORE, "STORE", "UID STORE %s +FLAGS.SILENT (\\Deleted)", uids);
}

void session_on_found(struct imap_session *s, int64_t now)
{
	s->found = true;
	ledger_note_found(s->route->ledger, s->token);
	s->res.t_found_ns = s->check_news_ns > s->t_watch_ns ? s->check_news_ns : now;
	s->res.found_uid = s->found_uids[0];
	s->close_by_ns = session_cleanup_bound(s, now, now + CLEANUP_NS);
	evidence_start(s, now);
}

void found_cleanup(struct imap_session *s)
{
	char uids[IMAP_MAX_FOUND * 11], mbox[600];

	if (!s->route->delete_found) {
		session_logout(s);
		return;
	}
	if (!delete_by_trash(s)) {
		delete_in_inbox(s);
		return;
	}
	session_uid_list(s->found_uids, s->n_found, uids, sizeof(uids));
	session_quote(s->trash, mbox, sizeof(mbox));
	if (s->has_move)
		session_send(s, PH_MOVE, "MOVE", "UID MOVE %s %s", uids, mbox);
	else
		session_send(s, PH_MOVE, "COPY", "UID COPY %s %s", uids, mbox);
}

void found_on_tagged(struct imap_session *s, const struct imap_response *r)
{
	bool ok = r->status == IMAP_ST_OK;
	char uids[IMAP_MAX_FOUND * 11];
	size_t n;

	switch (s->phase) {
	case PH_MOVE:
		if (imap_parse_copyuid(r->rest, s->trash_uids, IMAP_MAX_FOUND, &n))
			s->n_trash = n;
		if (!ok) {
			log_warn("%s: could not move the probe to %s: %s", s->watch.label, s->trash, r->rest);
			s->trash[0] = '\0';
			delete_in_inbox(s);
		} else if (s->has_move) {
			session_select(s, s->trash, PH_TRASH_SELECT);
		} else {
			delete_in_inbox(s);   /* COPY done; trash follows the expunge */
		}
		break;
	case PH_STORE:
		if (!ok)
			log_warn("%s: could not flag the probe deleted: %s", s->watch.label, r->rest);
		if (ok && s->has_uidplus) {
			session_uid_list(s->found_uids, s->n_found, uids, sizeof(uids));
			session_send(s, PH_EXPUNGE, "EXPUNGE", "UID EXPUNGE %s", uids);
		} else {
			if (ok)
				log_warn("%s: server lacks UIDPLUS: probe flagged \\Deleted, not expunged",
				         s->watch.label);
			session_logout(s);
		}
		break;
	case PH_EXPUNGE:
		if (!ok)
			log_warn("%s: UID EXPUNGE failed: %s", s->watch.label, r->rest);
		if (ok && delete_by_trash(s))
			session_select(s, s->trash, PH_TRASH_SELECT);
		else
			session_logout(s);
		break;
	case PH_TRASH_SELECT:
		if (!ok) {
			log_warn("%s: could not select %s to remove the probe: %s", s->watch.label,
			         s->trash, r->rest);
			session_logout(s);
		} else if (s->n_trash == 0) {
			session_send(s, PH_TRASH_FIND, "SEARCH", "UID SEARCH HEADER %s %s",
			             MESSAGE_TOKEN_HEADER, s->token);
		} else {
			session_uid_list(s->trash_uids, s->n_trash, uids, sizeof(uids));
			session_send(s, PH_TRASH_STORE, "STORE", "UID STORE %s +FLAGS.SILENT (\\Deleted)", uids);
		}
		break;
	case PH_TRASH_FIND:
		if (!ok || s->n_trash == 0) {
			log_warn("%s: the probe was not found in %s to remove it", s->watch.label, s->trash);
			session_logout(s);
			break;
		}
		session_uid_list(s->trash_uids, s->n_trash, uids, sizeof(uids));
		session_send(s, PH_TRASH_STORE, "STORE", "UID STORE %s +FLAGS.SILENT (\\Deleted)", uids);
		break;
	case PH_TRASH_STORE:
		session_uid_list(s->trash_uids, s->n_trash, uids, sizeof(uids));
		if (ok)
			session_send(s, PH_TRASH_EXPUNGE, "EXPUNGE", "UID EXPUNGE %s", uids);
		else
			session_logout(s);
		break;
	case PH_TRASH_EXPUNGE:
		if (!ok)
			log_warn("%s: UID EXPUNGE in %s failed: %s", s->watch.label, s->trash, r->rest);
		session_logout(s);
		break;
	default:
		break;
	}
}

