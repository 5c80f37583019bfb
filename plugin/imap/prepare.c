/*
 * prepare.c - see prepare.h.
 */
#include "prepare.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static void select_mailbox(struct prepare *p, struct imap_session *s);

static bool needs_list(const struct prepare *p, const struct imap_session *s)
{
	switch (p->role) {
	case IMAP_ROLE_JUNK:
		return !p->mailbox[0];
	case IMAP_ROLE_INBOX:
		return (session_route(s)->check_junk && !p->junk[0]) || session_has(s, IMAP_CAP_GMAIL);
	default:
		return false;   /* the bounce mailbox needs no special-use names */
	}
}

static void ready(struct prepare *p, struct imap_session *s)
{
	(void)s;
	if (p->uidnext == 0)
		p->uidnext = 1;   /* no UIDNEXT: the unique token still guards */
	p->done(p->ctx);
}

/* --- LIST ------------------------------------------------------------------ */

static void on_list(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct prepare *p = ctx;
	bool inbox = p->role == IMAP_ROLE_INBOX;
	const char *name = ev->list_name;

	if (ev->kind != IMAP_EV_LIST)
		return;
	if (!inbox && !p->mailbox[0] && (ev->list_attrs & IMAP_LIST_JUNK))
		snprintf(p->mailbox, sizeof(p->mailbox), "%s", name);
	if (inbox && session_route(s)->check_junk && !p->junk[0] && (ev->list_attrs & IMAP_LIST_JUNK) &&
	    strcmp(name, p->mailbox) != 0)
		snprintf(p->junk, sizeof(p->junk), "%s", name);
	if (inbox && !p->trash[0] && (ev->list_attrs & IMAP_LIST_TRASH))
		snprintf(p->trash, sizeof(p->trash), "%s", name);
	if (inbox && !p->allmail[0] && (ev->list_attrs & IMAP_LIST_ALL))
		snprintf(p->allmail, sizeof(p->allmail), "%s", name);
}

static void after_list(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct prepare *p = ctx;
	bool check_junk = session_route(s)->check_junk;

	if (p->role != IMAP_ROLE_INBOX && !p->mailbox[0]) {
		p->absent = true;
		p->done(p->ctx);
		return;
	}
	if (p->role == IMAP_ROLE_INBOX && r->status != IMAP_ST_OK)
		log_debug("%s: LIST refused: %s", session_label(s),
		          check_junk ? "junk mailbox not watched" : "Gmail's Trash unknown");
	else if (p->role == IMAP_ROLE_INBOX && check_junk && !p->junk[0])
		log_debug("%s: no mailbox marked \\Junk: not watched", session_label(s));
	select_mailbox(p, s);
}

static const struct session_handler list_handler = { .on_event = on_list, .on_done = after_list };

/* --- SELECT and the UIDNEXT --------------------------------------------- */

static void on_junk_status(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct prepare *p = ctx;

	(void)s;
	if (ev->kind == IMAP_EV_STATUS && ev->has_uidnext)
		p->junk_next = ev->uidnext;
}

static void after_junk_status(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct prepare *p = ctx;

	if (r->status != IMAP_ST_OK || !p->junk_next) {
		if (session_route(s)->imap_junk_mailbox) {
			session_fail(s, RESULT_IMAP_ERROR, "junk mailbox: STATUS %s: %s %s", p->junk,
			             session_status_word(r), r->text);
			return;
		}
		log_warn("%s: junk mailbox not watched: STATUS %s: %s %s", session_label(s), p->junk,
		         session_status_word(r), r->status == IMAP_ST_OK ? "no UIDNEXT" : r->text);
		p->junk[0] = '\0';
		p->junk_next = 0;
	}
	ready(p, s);
}

static const struct session_handler junk_status_handler = {
	.on_event = on_junk_status, .on_done = after_junk_status,
};

static void after_uidnext(struct imap_session *s, void *ctx, const struct imap_reply *r);

static void on_top_uid(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct prepare *p = ctx;

	(void)s;
	if (ev->kind == IMAP_EV_FETCH && ev->fetch.has_uid && ev->fetch.uid + 1 > p->uidnext)
		p->uidnext = ev->fetch.uid + 1;
}

static const struct session_handler top_uid_handler = { .on_event = on_top_uid, .on_done = after_uidnext };

static void after_uidnext(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct prepare *p = ctx;
	char mbox[SESSION_MAILBOX_MAX * 2 + 4];

	if (r->status != IMAP_ST_OK)
		log_debug("%s: no UIDNEXT and UID FETCH * refused: only the token guards", session_label(s));
	if (p->role != IMAP_ROLE_INBOX || !p->junk[0]) {
		ready(p, s);
		return;
	}
	session_quote(p->junk, mbox, sizeof(mbox));
	session_cmd(s, &junk_status_handler, p, "STATUS %s (UIDNEXT)", mbox);
}

static void after_select(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct prepare *p = ctx;
	const struct imap_selected *sel = session_selected(s);

	if (r->status != IMAP_ST_OK) {
		session_fail(s, RESULT_IMAP_ERROR, "SELECT %s: %s %s", p->mailbox, session_status_word(r),
		             r->text);
		return;
	}
	p->uidnext = sel->uidnext;
	if (p->uidnext == 0 && sel->exists > 0) {
		/* No [UIDNEXT] in SELECT (Courier): the highest UID tells it. */
		session_cmd(s, &top_uid_handler, p, "UID FETCH * (UID)");
		return;
	}
	after_uidnext(s, p, r);
}

static const struct session_handler select_handler = { .on_done = after_select };

static void select_mailbox(struct prepare *p, struct imap_session *s)
{
	session_select(s, p->mailbox, &select_handler, p);
}

void prepare_start(struct prepare *p, struct imap_session *s)
{
	if (needs_list(p, s))
		session_cmd(s, &list_handler, p, "LIST \"\" \"*\"");
	else
		select_mailbox(p, s);
}
