/*
 * sweep.c - earlier probes in the selected mailbox (see imap_session.h).
 *
 * After SELECT, while the SMTP leg runs:
 *   UID SEARCH UID <cursor+1>:<uidnext-1> UNDELETED HEADER X-Mail-E2E-Probe ""
 *   UID FETCH <up to 64 of them> (UID INTERNALDATE BODY.PEEK[HEADER.FIELDS
 *             (X-Mail-E2E-Probe Message-ID)])
 *   [UID STORE <ours and due> +FLAGS.SILENT (\Deleted), UID EXPUNGE <same>]
 *
 * A message is touched only if its token verifies against this route's key
 * (probe_id.h) and its UID was in the set this session asked about.  Late
 * arrivals are counted once, duplicates of found probes and probes older
 * than sweep_after are deleted.  Messages already flagged \Deleted (a
 * server without UIDPLUS keeps them) are skipped, and the window rotates:
 * the next cycle goes on after the highest UID examined, and starts over
 * once a search comes back short, so every candidate gets its turn however
 * many there are.
 *
 * Gmail keeps what is deleted from INBOX in All Mail (archived), so there
 * the sweep looks in the \All mailbox, which holds INBOX's mail too, moves
 * what is due to \Trash and expunges it there, and selects INBOX again
 * before the watch begins (the UIDNEXT noted first still bounds it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "imap_session.h"
#include "log.h"
#include "message.h"
#include "probe_id.h"

static uint32_t *cursor_of(struct imap_session *s)
{
	return &s->route->ledger->scan_cursor[s->role == IMAP_ROLE_BOUNCE ? 3 : s->sweep_elsewhere ? 2
	                                      : s->role == IMAP_ROLE_JUNK ? 1 : 0];
}

/* The junk mailbox is visited only when it may hold something of ours:
 * remember how far this sweep got there. */
static void note_junk_sweep(struct imap_session *s)
{
	struct probe_ledger *l = s->route->ledger;

	if (s->role != IMAP_ROLE_JUNK)
		return;
	l->junk_swept = s->res.scanned && !s->sweep_trouble && *cursor_of(s) == 0;
	l->junk_swept_next = s->scan_next;
	l->junk_due_at = s->sweep_due_at;
}

bool sweep_junk_due(const struct probe_ledger *l, uint32_t junk_uidnext, time_t now)
{
	return !l->junk_swept || junk_uidnext != l->junk_swept_next ||
	       (l->junk_due_at && now >= l->junk_due_at);
}

static void sweep_done(struct imap_session *s)
{
	note_junk_sweep(s);
	s->n_trash = 0;
	if (s->finishing)
		session_logout(s);
	else if (s->token[0])
		watch_begin(s, clock_mono_ns());
	else
		s->phase = PH_READY;
}

/* Gmail: back to INBOX for the watch.  Its count is learnt afresh, and
 * the first look checks whatever came meanwhile. */
static void reselect_inbox(struct imap_session *s)
{
	s->exists_known = false;
	session_select(s, s->mailbox, PH_RESELECT);
}

static void sweep_over(struct imap_session *s)
{
	if (s->sweep_elsewhere)
		reselect_inbox(s);
	else
		sweep_done(s);
}

static void start_search(struct imap_session *s)
{
	uint32_t *cursor = cursor_of(s);

	s->n_scan = s->n_drop = 0;
	if (*cursor + 1 >= s->scan_next)
		*cursor = 0;            /* the mailbox shrank or was recreated */
	if (s->scan_next <= 1) {
		s->res.scanned = true;
		sweep_over(s);
		return;
	}
	if (s->role == IMAP_ROLE_BOUNCE)   /* delivery reports (bounce.c judges them) */
		session_send(s, PH_SCAN_SEARCH, "SEARCH",
		             "UID SEARCH UID %u:%u UNDELETED HEADER Content-Type \"report\"",
		             *cursor + 1, s->scan_next - 1);
	else
		session_send(s, PH_SCAN_SEARCH, "SEARCH",
		             "UID SEARCH UID %u:%u UNDELETED HEADER %s \"\"",
		             *cursor + 1, s->scan_next - 1, MESSAGE_TOKEN_HEADER);
}

void sweep_start(struct imap_session *s)
{

	if (s->is_gmail && s->role == IMAP_ROLE_INBOX && s->allmail[0] && s->trash[0] && s->has_move) {
		s->sweep_elsewhere = true;
		s->exists_known = false;
		s->scan_next = 0;
		session_select(s, s->allmail, PH_SCAN_SELECT);
		return;
	}
	start_search(s);
}

static bool was_asked(const struct imap_session *s, uint32_t uid)
{
	for (size_t i = 0; i < s->n_scan; i++)
		if (s->scan_uids[i] == uid)
			return true;
	return false;
}

/* One fetched header block: ours or not, late, duplicate, due for the
 * sweep.  A message we cannot prove ours is never touched. */
static void judge(struct imap_session *s, const struct imap_fetched *f)
{
	const struct route *r = s->route;
	struct probe_ledger *ledger = r->ledger;
	int64_t stamp, age_ms;
	bool late, drop = false;

	if (!was_asked(s, f->uid) || !probe_id_verify(ledger, f->token, f->message_id, &stamp))
		return;
	age_ms = ((int64_t)time(NULL) - stamp) * 1000;
	/* INTERNALDATE has whole seconds: an arrival in the last second
	 * before the timeout may count as late; a late one is never missed. */
	late = f->has_date && (f->internaldate - stamp) * 1000 >= r->timeout_ms;
	if (late && !ledger_was_counted(ledger, f->token)) {
		/* Once this cycle's line is out, the next line reports it. */
		if (s->finishing)
			ledger->late_pending++;
		else
			s->res.late++;
		ledger_note_counted(ledger, f->token);
		log_debug("%s: late arrival: probe %s landed %llds after it was sent",
		          s->watch.label, f->token, (long long)(f->internaldate - stamp));
	}
	if ((late || ledger_was_found(ledger, f->token)) && r->delete_found)
		drop = true;     /* its probe is over for good: nothing to wait for */
	if (r->sweep_after_ms > 0 && age_ms >= r->sweep_after_ms)
		drop = true;
	for (size_t i = 0; i < s->n_drop; i++)
		if (s->drop_uids[i] == f->uid)
			drop = false;   /* a server that answers twice */
	if (drop && s->n_drop < IMAP_SCAN_MAX)
		s->drop_uids[s->n_drop++] = f->uid;
	if (!drop && r->sweep_after_ms > 0) {
		int64_t due = stamp + (r->sweep_after_ms + 999) / 1000;
		if (!s->sweep_due_at || due < s->sweep_due_at)
			s->sweep_due_at = due;
	}
}

void sweep_on_untagged(struct imap_session *s, const char *text)
{
	if (s->phase == PH_SCAN_SEARCH) {
		uint32_t all[IMAP_SCAN_MAX];
		size_t count;
		uint32_t from = *cursor_of(s) + 1;
		if (imap_parse_search(text, all, IMAP_SCAN_MAX, &count))
			for (size_t i = 0; i < count && s->n_scan < IMAP_SCAN_MAX; i++)
				if (all[i] >= from && all[i] < s->scan_next && !was_asked(s, all[i]))
					s->scan_uids[s->n_scan++] = all[i];
	} else if (s->phase == PH_SCAN_FETCH && s->role == IMAP_ROLE_BOUNCE) {
		uint32_t uid = bounce_judge_old(s, text);
		if (uid && was_asked(s, uid) && s->n_drop < IMAP_SCAN_MAX)
			s->drop_uids[s->n_drop++] = uid;
	} else if (s->phase == PH_SCAN_FETCH) {
		struct imap_fetched f;
		if (imap_parse_fetch_probe(text, &f))
			judge(s, &f);
	}
}

/* Where the next cycle's window starts: after this one if it was full. */
static void advance_cursor(struct imap_session *s)
{
	uint32_t *cursor = cursor_of(s), top = 0;

	for (size_t i = 0; i < s->n_scan; i++)
		if (s->scan_uids[i] > top)
			top = s->scan_uids[i];
	*cursor = s->n_scan >= IMAP_SCAN_MAX ? top : 0;
}

static void after_fetch(struct imap_session *s, bool ok, const char *why)
{
	char uids[IMAP_SCAN_MAX * 11];

	session_keep_whole_done(s);   /* a bounce mailbox's reports were read whole */
	if (!ok) {
		log_warn("%s: could not read earlier probes (%s): nothing swept", s->watch.label, why);
		s->sweep_trouble = true;
		sweep_over(s);
		return;
	}
	s->res.scanned = true;
	advance_cursor(s);
	if (s->n_drop == 0) {
		sweep_over(s);
	} else if (s->sweep_elsewhere) {
		char mbox[300];
		session_uid_list(s->drop_uids, s->n_drop, uids, sizeof(uids));
		snprintf(mbox, sizeof(mbox), "\"%s\"", s->trash);
		s->n_trash = 0;
		session_send(s, PH_SCAN_MOVE, "MOVE", "UID MOVE %s %s", uids, mbox);
	} else if (!s->has_uidplus) {
		/* Plain EXPUNGE would also remove other messages marked \Deleted. */
		log_debug("%s: server lacks UIDPLUS: %zu earlier probe(s) left in place",
		          s->watch.label, s->n_drop);
		s->sweep_trouble = true;
		sweep_over(s);
	} else {
		session_uid_list(s->drop_uids, s->n_drop, uids, sizeof(uids));
		session_send(s, PH_SCAN_STORE, "STORE", "UID STORE %s +FLAGS.SILENT (\\Deleted)", uids);
	}
}

void sweep_on_tagged(struct imap_session *s, const struct imap_response *r)
{
	bool ok = r->status == IMAP_ST_OK;
	char uids[IMAP_SCAN_MAX * 11];

	switch (s->phase) {
	case PH_SCAN_SELECT:
		if (!ok) {
			log_warn("%s: could not select %s to sweep: %s", s->watch.label, s->allmail, r->rest);
			reselect_inbox(s);
		} else {
			start_search(s);
		}
		break;
	case PH_SCAN_SEARCH:
		if (!ok) {
			log_warn("%s: could not search for earlier probes: %s", s->watch.label, r->rest);
			s->sweep_trouble = true;
			sweep_over(s);
		} else if (s->n_scan == 0) {
			s->res.scanned = true;
			*cursor_of(s) = 0;
			sweep_over(s);
		} else if (s->role == IMAP_ROLE_BOUNCE) {
			session_uid_list(s->scan_uids, s->n_scan, uids, sizeof(uids));
			if (!session_keep_whole(s, BOUNCE_REPORT_MAX))   /* read as text: none is due */
				log_warn("%s: no memory to read a delivery report", s->watch.label);
			session_send(s, PH_SCAN_FETCH, "FETCH", "UID FETCH %s (UID BODY.PEEK[])", uids);
		} else {
			session_uid_list(s->scan_uids, s->n_scan, uids, sizeof(uids));
			session_send(s, PH_SCAN_FETCH, "FETCH",
			             "UID FETCH %s (UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (%s Message-ID)])",
			             uids, MESSAGE_TOKEN_HEADER);
		}
		break;
	case PH_SCAN_FETCH:
		after_fetch(s, ok, r->rest);
		break;
	case PH_SCAN_STORE:
		if (!ok) {
			log_warn("%s: could not flag earlier probes deleted: %s", s->watch.label, r->rest);
			s->sweep_trouble = true;
			sweep_over(s);
			break;
		}
		session_uid_list(s->drop_uids, s->n_drop, uids, sizeof(uids));
		session_send(s, PH_SCAN_EXPUNGE, "EXPUNGE", "UID EXPUNGE %s", uids);
		break;
	case PH_SCAN_EXPUNGE:
		if (ok)
			log_debug("%s: removed %zu earlier probe(s)", s->watch.label, s->n_drop);
		else
			log_warn("%s: UID EXPUNGE of earlier probes failed: %s", s->watch.label, r->rest);
		s->sweep_trouble |= !ok;
		sweep_done(s);
		break;
	case PH_SCAN_MOVE:
		if (!ok || s->n_trash == 0) {
			if (!ok)
				log_warn("%s: could not move earlier probes to %s: %s", s->watch.label,
				         s->trash, r->rest);
			reselect_inbox(s);
		} else {
			session_select(s, s->trash, PH_SCAN_TRASH_SELECT);
		}
		break;
	case PH_SCAN_TRASH_SELECT:
		session_uid_list(s->trash_uids, s->n_trash, uids, sizeof(uids));
		if (ok)
			session_send(s, PH_SCAN_TRASH_STORE, "STORE",
			             "UID STORE %s +FLAGS.SILENT (\\Deleted)", uids);
		else
			reselect_inbox(s);
		break;
	case PH_SCAN_TRASH_STORE:
		session_uid_list(s->trash_uids, s->n_trash, uids, sizeof(uids));
		if (ok)
			session_send(s, PH_SCAN_TRASH_EXPUNGE, "EXPUNGE", "UID EXPUNGE %s", uids);
		else
			reselect_inbox(s);
		break;
	case PH_SCAN_TRASH_EXPUNGE:
		if (ok)
			log_debug("%s: removed %zu earlier probe(s) through %s", s->watch.label,
			          s->n_trash, s->trash);
		reselect_inbox(s);
		break;
	case PH_RESELECT:
		if (!ok) {
			session_fail(s, RESULT_IMAP_ERROR, "SELECT %s after the sweep: %s", s->mailbox, r->rest);
			break;
		}
		s->changed = true;    /* look at once: mail may have come meanwhile */
		sweep_done(s);
		break;
	default:
		break;
	}
}
