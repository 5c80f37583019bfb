/*
 * prepare.c - from login to a selected mailbox (see imap_session.h):
 *
 *   [CAPABILITY, unless the login reply stated them]
 *   -> [LIST "" "*": the junk mailbox marked \Junk, Gmail's \Trash, \All]
 *   -> SELECT <mailbox>: UIDNEXT noted (without one, UID FETCH * (UID))
 *   -> [STATUS <junk> (UIDNEXT)]                      inbox session only
 *   -> the sweep (sweep.c), while the caller sends.
 *
 * The inbox session notes the junk mailbox's UIDNEXT before the send, so
 * the junk mailbox can be watched without a login of its own: the watch
 * peeks at it with STATUS (watch.c) and the caller opens a junk session
 * only when something landed there (probe.c).  A junk mailbox the user
 * named must exist: its STATUS refused fails the session.  One found
 * through LIST that refuses STATUS is dropped with a warning.
 */
#include <stdio.h>
#include <string.h>

#include "imap_session.h"
#include "log.h"

static const char *status_word(const struct imap_response *r)
{
	return r->status == IMAP_ST_NO ? "NO" : r->status == IMAP_ST_BAD ? "BAD" : "failed";
}

/* LIST finds the junk mailbox (none named) and, on Gmail, the \Trash
 * mailbox probes are deleted through. */
static bool needs_list(const struct imap_session *s)
{
	if (s->role == IMAP_ROLE_JUNK)
		return !s->mailbox[0];
	return (s->route->check_junk && !s->junk[0]) || s->is_gmail;
}

/* SELECT is done and UIDNEXT known: the send may go, the sweep begins. */
static void mailbox_ready(struct imap_session *s, int64_t now)
{
	if (s->uidnext == 0)
		s->uidnext = 1;   /* no UIDNEXT: the unique token still guards */
	s->scan_next = s->uidnext;
	if (s->role == IMAP_ROLE_JUNK && s->floor && s->floor < s->uidnext) {
		/* Opened after the send: what came since the inbox session noted
		 * UIDNEXT is this probe's to check, not the sweep's. */
		s->uidnext = s->floor;
		s->scan_next = s->floor;
	}
	s->res.t_ready_ns = now;
	sweep_start(s);
}

static void after_select(struct imap_session *s, int64_t now)
{
	char mbox[600];

	if (s->role != IMAP_ROLE_INBOX || !s->junk[0]) {
		mailbox_ready(s, now);
		return;
	}
	session_quote(s->junk, mbox, sizeof(mbox));
	session_send(s, PH_JUNK_STATUS, "STATUS", "STATUS %s (UIDNEXT)", mbox);
}

void prepare_begin(struct imap_session *s)
{
	if (needs_list(s))
		session_send(s, PH_LIST, "LIST", "LIST \"\" \"*\"");
	else
		session_select(s, s->mailbox, PH_SELECT);
}

static void after_list(struct imap_session *s, bool ok)
{
	if (s->role == IMAP_ROLE_INBOX) {
		if (!ok)
			log_debug("%s: LIST refused: %s", s->watch.label,
			          s->route->check_junk ? "junk mailbox not watched" : "Gmail's Trash unknown");
		else if (s->route->check_junk && !s->junk[0])
			log_debug("%s: no mailbox marked \\Junk: not watched", s->watch.label);
		session_select(s, s->mailbox, PH_SELECT);
	} else if (s->mailbox[0]) {
		session_select(s, s->mailbox, PH_SELECT);
	} else {
		s->absent = true;
		session_logout(s);
	}
}

static void after_junk_status(struct imap_session *s, const struct imap_response *r, int64_t now)
{
	if (r->status == IMAP_ST_OK && s->junk_next) {
		s->junk_seen = s->junk_next;
	} else if (s->route->imap_junk_mailbox) {
		session_fail(s, RESULT_IMAP_ERROR, "junk mailbox: STATUS %s: %s %s", s->junk,
		             status_word(r), r->rest);
		return;
	} else {
		log_warn("%s: junk mailbox not watched: STATUS %s: %s %s", s->watch.label, s->junk,
		         status_word(r), r->status == IMAP_ST_OK ? "no UIDNEXT" : r->rest);
		s->junk[0] = '\0';
	}
	mailbox_ready(s, now);
}

void prepare_on_tagged(struct imap_session *s, const struct imap_response *r, int64_t now)
{
	bool ok = r->status == IMAP_ST_OK;

	switch (s->phase) {
	case PH_CAPABILITY:
		prepare_begin(s);
		break;
	case PH_LIST:
		after_list(s, ok);
		break;
	case PH_SELECT:
		if (!ok) {
			session_fail(s, RESULT_IMAP_ERROR, "SELECT %s: %s %s", s->mailbox, status_word(r),
			             r->rest);
			break;
		}
		if (s->uidnext == 0 && s->exists > 0) {
			/* No [UIDNEXT] in SELECT (Courier): the highest UID tells it. */
			session_send(s, PH_UIDNEXT, "FETCH", "UID FETCH * (UID)");
			break;
		}
		after_select(s, now);
		break;
	case PH_UIDNEXT:
		if (!ok)
			log_debug("%s: no UIDNEXT and UID FETCH * refused: only the token guards", s->watch.label);
		after_select(s, now);
		break;
	case PH_JUNK_STATUS:
		after_junk_status(s, r, now);
		break;
	default:
		break;
	}
}

static void note_list(struct imap_session *s, const char *text)
{
	unsigned attrs;
	char name[sizeof(s->mailbox)];
	bool inbox = s->role == IMAP_ROLE_INBOX;

	if (!imap_parse_list(text, &attrs, name, sizeof(name)) || !(attrs & (IMAP_LIST_JUNK |
	    IMAP_LIST_TRASH | IMAP_LIST_ALL)))
		return;
	if (!inbox && !s->mailbox[0] && (attrs & IMAP_LIST_JUNK))
		snprintf(s->mailbox, sizeof(s->mailbox), "%s", name);
	if (inbox && s->route->check_junk && !s->junk[0] && (attrs & IMAP_LIST_JUNK) &&
	    strcmp(name, s->mailbox) != 0)
		snprintf(s->junk, sizeof(s->junk), "%s", name);
	if (inbox && !s->trash[0] && (attrs & IMAP_LIST_TRASH))
		snprintf(s->trash, sizeof(s->trash), "%s", name);
	if (inbox && !s->allmail[0] && (attrs & IMAP_LIST_ALL))
		snprintf(s->allmail, sizeof(s->allmail), "%s", name);
}

void prepare_on_untagged(struct imap_session *s, const char *text, const struct imap_response *r)
{
	uint32_t n;

	if (s->phase == PH_SELECT && imap_parse_code_number(r->rest, "UIDNEXT", &n))
		s->uidnext = n;
	if (s->phase == PH_UIDNEXT) {
		struct imap_fetched f;
		imap_parse_fetch_probe(text, &f);
		if (f.has_uid && f.uid + 1 > s->uidnext)
			s->uidnext = f.uid + 1;
	}
	if (s->phase == PH_LIST)
		note_list(s, text);
	if (s->phase == PH_JUNK_STATUS && imap_parse_status_uidnext(text, &n))
		s->junk_next = n;
}

/* --- the junk mailbox, for the caller (imap.h) ------------------------- */

bool imap_junk_status(const struct imap_session *s, const char **name, uint32_t *uidnext)
{
	if (s->role != IMAP_ROLE_INBOX || !s->junk[0] || !s->junk_next)
		return false;
	*name = s->junk;
	*uidnext = s->junk_next;
	return true;
}

void imap_peek_junk(struct imap_session *s, bool on)
{
	s->junk_peek = on && s->junk[0] && s->junk_next;
}

bool imap_junk_moved(const struct imap_session *s, int64_t *when, uint32_t *uidnext)
{
	if (!s->junk_moved_ns)
		return false;
	*when = s->junk_moved_ns;
	*uidnext = s->junk_seen;
	return true;
}

void imap_junk_target(struct imap_session *s, const char *mailbox, uint32_t floor)
{
	snprintf(s->mailbox, sizeof(s->mailbox), "%s", mailbox);
	s->floor = floor;
}
