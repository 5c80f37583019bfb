/*
 * prepare.c - see prepare.h.
 */
#include "prepare.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

static void select_mailbox(struct prepare *p, struct imap_session *s);

static struct imap_names *names_of(const struct imap_session *s)
{
	return &session_route(s)->ledger->names;
}

static bool needs_names(const struct prepare *p, const struct imap_session *s)
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

static void ready(struct prepare *p)
{
	if (p->uidnext == 0)
		p->uidnext = 1;   /* no UIDNEXT: the unique token still guards */
	p->done(p->ctx);
}

/* The names LIST gave (now, or in an earlier cycle), where they are wanted. */
static void take_names(struct prepare *p, const struct imap_session *s, const struct imap_names *n)
{
	if (p->role == IMAP_ROLE_JUNK) {
		if (!p->mailbox[0])
			snprintf(p->mailbox, sizeof(p->mailbox), "%s", n->junk);
		return;
	}
	if (session_route(s)->check_junk && !p->junk[0] && strcmp(n->junk, p->mailbox) != 0)
		snprintf(p->junk, sizeof(p->junk), "%s", n->junk);
	snprintf(p->trash, sizeof(p->trash), "%s", n->trash);
	snprintf(p->allmail, sizeof(p->allmail), "%s", n->allmail);
}

static void note_junk_status(struct prepare *p, const struct imap_status_reply *st)
{
	if (!st->has_uidnext)
		return;
	p->junk_next = st->uidnext;
	p->junk_messages = st->has_messages ? st->messages : 1;   /* unknown: maybe something */
	p->junk_validity = st->has_uidvalidity ? st->uidvalidity : 0;
}

/* --- LIST ------------------------------------------------------------------ */

static void on_list(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct prepare *p = ctx;
	struct imap_names *n = names_of(s);
	const char *name = ev->list_name;

	if (ev->kind == IMAP_EV_STATUS && n->junk[0] && strcmp(ev->status.name, n->junk) == 0)
		note_junk_status(p, &ev->status);   /* LIST-STATUS: it follows its LIST */
	if (ev->kind != IMAP_EV_LIST)
		return;
	if (!n->junk[0] && (ev->list_attrs & IMAP_LIST_JUNK))
		snprintf(n->junk, sizeof(n->junk), "%s", name);
	if (!n->trash[0] && (ev->list_attrs & IMAP_LIST_TRASH))
		snprintf(n->trash, sizeof(n->trash), "%s", name);
	if (!n->allmail[0] && (ev->list_attrs & IMAP_LIST_ALL))
		snprintf(n->allmail, sizeof(n->allmail), "%s", name);
}

static void after_list(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct prepare *p = ctx;
	struct imap_names *n = names_of(s);
	bool check_junk = session_route(s)->check_junk;

	n->listed = r->status == IMAP_ST_OK;
	take_names(p, s, n);
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

static void list_names(struct prepare *p, struct imap_session *s)
{
	memset(names_of(s), 0, sizeof(struct imap_names));
	if (p->role == IMAP_ROLE_INBOX && session_route(s)->check_junk &&
	    session_has(s, IMAP_CAP_LIST_STATUS) && session_has(s, IMAP_CAP_SPECIAL_USE))
		session_cmd(s, &list_handler, p,
		            "LIST (SPECIAL-USE) \"\" \"*\" RETURN (STATUS (UIDNEXT MESSAGES UIDVALIDITY))");
	else
		session_cmd(s, &list_handler, p, "LIST \"\" \"*\"");
}

/* --- a refused SELECT: what does exist ------------------------------------ */

static const char *mailbox_key(enum imap_role role)
{
	return role == IMAP_ROLE_INBOX ? "imap_mailbox"
	       : role == IMAP_ROLE_JUNK ? "imap_junk_mailbox" : "bounce_imap_mailbox";
}

static void on_existing(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	static const char more[] = ", ...";
	struct prepare *p = ctx;
	size_t n = strlen(p->listed), len;

	(void)s;
	if (ev->kind != IMAP_EV_LIST || (ev->list_attrs & IMAP_LIST_NOSELECT))
		return;
	if (n >= 3 && strcmp(p->listed + n - 3, "...") == 0)
		return;   /* full */
	len = strlen(ev->list_name);
	/* Room stays for ", ..." after every name. */
	if (n + 2 + len + sizeof(more) <= sizeof(p->listed))
		snprintf(p->listed + n, sizeof(p->listed) - n, "%s%.*s", n ? ", " : "", (int)len, ev->list_name);
	else
		snprintf(p->listed + n, sizeof(p->listed) - n, "%s", n ? more : "...");
}

static void after_existing(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct prepare *p = ctx;

	if (r->status == IMAP_ST_OK && p->listed[0])
		session_fail(s, RESULT_IMAP_ERROR, "%s; the server lists %s (%s names the one to watch)", p->refused,
		             p->listed, mailbox_key(p->role));
	else
		session_fail(s, RESULT_IMAP_ERROR, "%s", p->refused);
}

static const struct session_handler existing_handler = { .on_event = on_existing, .on_done = after_existing };

static void select_refused(struct prepare *p, struct imap_session *s, const struct imap_reply *r)
{
	if (p->role == IMAP_ROLE_JUNK)
		names_of(s)->listed = false;   /* the junk mailbox LIST named is gone */
	snprintf(p->refused, sizeof(p->refused), "SELECT %.60s: %s %.80s", p->mailbox, session_status_word(r),
	         r->text);
	p->listed[0] = '\0';
	if (r->status == IMAP_ST_NO)
		session_cmd(s, &existing_handler, p, "LIST \"\" \"*\"");
	else
		session_fail(s, RESULT_IMAP_ERROR, "%s", p->refused);
}

/* --- SELECT and the UIDNEXT --------------------------------------------- */

static void on_junk_status(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct prepare *p = ctx;

	(void)s;
	if (ev->kind == IMAP_EV_STATUS)
		note_junk_status(p, &ev->status);
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
		names_of(s)->listed = false;   /* renamed or gone: LIST again next time */
		p->junk[0] = '\0';
		p->junk_next = 0;
	}
	ready(p);
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
	if (p->role != IMAP_ROLE_INBOX || !p->junk[0] || p->junk_next) {
		ready(p);
		return;
	}
	session_quote(p->junk, mbox, sizeof(mbox));
	session_cmd(s, &junk_status_handler, p, "STATUS %s (UIDNEXT MESSAGES UIDVALIDITY)", mbox);
}

static void after_select(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct prepare *p = ctx;
	const struct imap_selected *sel = session_selected(s);

	if (r->status != IMAP_ST_OK) {
		select_refused(p, s, r);
		return;
	}
	p->uidnext = sel->uidnext;
	p->exists = sel->exists;
	p->select_ns = r->now - p->select_sent_ns;
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
	p->select_sent_ns = clock_mono_ns();
	session_select(s, p->mailbox, &select_handler, p);
}

void prepare_start(struct prepare *p, struct imap_session *s)
{
	if (!needs_names(p, s)) {
		select_mailbox(p, s);
	} else if (names_of(s)->listed) {
		/* Named by an earlier cycle's LIST. */
		take_names(p, s, names_of(s));
		if (p->role == IMAP_ROLE_JUNK && !p->mailbox[0]) {
			p->absent = true;
			p->done(p->ctx);
			return;
		}
		select_mailbox(p, s);
	} else {
		list_names(p, s);
	}
}
