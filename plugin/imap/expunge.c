/*
 * expunge.c - see expunge.h.
 */
#include "expunge.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "message.h"

#define UIDS_TEXT (SESSION_UIDS_MAX * 11)

static void finish(struct expunge *x, bool removed)
{
	x->removed = removed;
	x->done(x->ctx);
}

static void removed_log(struct expunge *x, struct imap_session *s, size_t n)
{
	log_debug("%s: removed %zu %s%s%s", session_label(s), n, x->what,
	          x->trash[0] ? " through " : "", x->trash);
}

/* --- the messages removed where they are ------------------------------- */

static void after_trash_expunge(struct imap_session *s, void *ctx, const struct imap_reply *r);
static void select_trash(struct expunge *x, struct imap_session *s);

static void after_expunge(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct expunge *x = ctx;

	if (r->status != IMAP_ST_OK) {
		log_warn("%s: UID EXPUNGE of %s failed: %s", session_label(s), x->what, r->text);
		finish(x, false);
	} else if (x->copied) {
		select_trash(x, s);   /* the copies in Trash go next */
	} else {
		removed_log(x, s, x->n);
		finish(x, true);
	}
}

static const struct session_handler expunge_handler = { .on_done = after_expunge };

static void after_store(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct expunge *x = ctx;
	char uids[UIDS_TEXT];

	if (r->status != IMAP_ST_OK) {
		log_warn("%s: could not flag %s deleted: %s", session_label(s), x->what, r->text);
		finish(x, false);
	} else if (!session_has(s, IMAP_CAP_UIDPLUS)) {
		/* A plain EXPUNGE would also remove what others flagged. */
		log_warn("%s: server lacks UIDPLUS: %s flagged \\Deleted, not expunged", session_label(s),
		         x->what);
		finish(x, false);
	} else {
		session_uid_list(x->uids, x->n, uids, sizeof(uids));
		session_cmd(s, &expunge_handler, x, "UID EXPUNGE %s", uids);
	}
}

static const struct session_handler store_handler = { .on_done = after_store };

static void delete_here(struct expunge *x, struct imap_session *s)
{
	char uids[UIDS_TEXT];

	session_uid_list(x->uids, x->n, uids, sizeof(uids));
	session_cmd(s, &store_handler, x, "UID STORE %s +FLAGS.SILENT (\\Deleted)", uids);
}

/* --- Gmail: through Trash --------------------------------------------- */

static void after_trash_expunge(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct expunge *x = ctx;

	if (r->status != IMAP_ST_OK)
		log_warn("%s: UID EXPUNGE in %s failed: %s", session_label(s), x->trash, r->text);
	else
		removed_log(x, s, x->n_trash);
	finish(x, r->status == IMAP_ST_OK);
}

static const struct session_handler trash_expunge_handler = { .on_done = after_trash_expunge };

static void after_trash_store(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct expunge *x = ctx;
	char uids[UIDS_TEXT];

	if (r->status != IMAP_ST_OK) {
		log_warn("%s: could not flag %s deleted in %s: %s", session_label(s), x->what, x->trash,
		         r->text);
		finish(x, false);
		return;
	}
	session_uid_list(x->trash_uids, x->n_trash, uids, sizeof(uids));
	session_cmd(s, &trash_expunge_handler, x, "UID EXPUNGE %s", uids);
}

static const struct session_handler trash_store_handler = { .on_done = after_trash_store };

static void store_in_trash(struct expunge *x, struct imap_session *s)
{
	char uids[UIDS_TEXT];

	session_uid_list(x->trash_uids, x->n_trash, uids, sizeof(uids));
	session_cmd(s, &trash_store_handler, x, "UID STORE %s +FLAGS.SILENT (\\Deleted)", uids);
}

static void on_trash_search(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct expunge *x = ctx;

	(void)s;
	if (ev->kind != IMAP_EV_SEARCH)
		return;
	for (size_t i = 0; i < ev->n_uids && x->n_trash < SESSION_UIDS_MAX; i++)
		x->trash_uids[x->n_trash++] = ev->uids[i];
}

static void after_trash_search(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct expunge *x = ctx;

	if (r->status != IMAP_ST_OK || x->n_trash == 0) {
		log_warn("%s: %s not found in %s to remove it", session_label(s), x->what, x->trash);
		finish(x, false);
		return;
	}
	store_in_trash(x, s);
}

static const struct session_handler trash_search_handler = {
	.on_event = on_trash_search, .on_done = after_trash_search,
};

static void after_trash_select(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct expunge *x = ctx;

	if (r->status != IMAP_ST_OK) {
		log_warn("%s: could not select %s to remove %s: %s", session_label(s), x->trash, x->what,
		         r->text);
		finish(x, false);
	} else if (x->n_trash > 0) {
		store_in_trash(x, s);
	} else if (x->token[0]) {
		session_cmd(s, &trash_search_handler, x, "UID SEARCH HEADER %s %s", MESSAGE_TOKEN_HEADER,
		            x->token);
	} else {
		log_warn("%s: the server named no copies of %s in %s: left there", session_label(s),
		         x->what, x->trash);
		finish(x, false);
	}
}

static const struct session_handler trash_select_handler = { .on_done = after_trash_select };

static void select_trash(struct expunge *x, struct imap_session *s)
{
	session_select(s, x->trash, &trash_select_handler, x);
}

static void after_move(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct expunge *x = ctx;

	for (size_t i = 0; i < r->n_copy && x->n_trash < SESSION_UIDS_MAX; i++)
		x->trash_uids[x->n_trash++] = r->copy_uids[i];
	if (r->status != IMAP_ST_OK) {
		log_warn("%s: could not move %s to %s: %s", session_label(s), x->what, x->trash, r->text);
		x->trash[0] = '\0';
		x->n_trash = 0;
		delete_here(x, s);
	} else if (session_has(s, IMAP_CAP_MOVE)) {
		select_trash(x, s);
	} else {
		x->copied = true;   /* copied: the originals go, then the copies */
		delete_here(x, s);
	}
}

static const struct session_handler move_handler = { .on_done = after_move };

void expunge_start(struct expunge *x, struct imap_session *s, const uint32_t *uids, size_t n)
{
	char uids_text[UIDS_TEXT], mbox[SESSION_MAILBOX_MAX * 2 + 4];

	x->n = n < SESSION_UIDS_MAX ? n : SESSION_UIDS_MAX;
	memcpy(x->uids, uids, x->n * sizeof(*uids));
	x->n_trash = 0;
	x->copied = false;
	x->removed = false;
	if (x->n == 0) {
		finish(x, true);
		return;
	}
	if (!x->trash[0]) {
		delete_here(x, s);
		return;
	}
	session_uid_list(x->uids, x->n, uids_text, sizeof(uids_text));
	session_quote(x->trash, mbox, sizeof(mbox));
	session_cmd(s, &move_handler, x, "UID %s %s %s", session_has(s, IMAP_CAP_MOVE) ? "MOVE" : "COPY",
	            uids_text, mbox);
}
