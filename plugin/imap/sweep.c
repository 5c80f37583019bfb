/*
 * sweep.c - see sweep.h.
 */
#include "sweep.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "message.h"

static struct sweep_memory *memory_of(const struct sweep *w, const struct imap_session *s)
{
	return &session_route(s)->ledger->sweep[w->box];
}

static uint32_t *cursor_of(const struct sweep *w, const struct imap_session *s)
{
	return &memory_of(w, s)->cursor;
}

static int64_t earliest(int64_t a, int64_t b)
{
	return a && (!b || a < b) ? a : b;
}

bool sweep_asked(const struct sweep *w, uint32_t uid)
{
	for (size_t i = 0; i < w->n_asked; i++)
		if (w->asked[i] == uid)
			return true;
	return false;
}

void sweep_drop(struct sweep *w, uint32_t uid)
{
	for (size_t i = 0; i < w->n_drop; i++)
		if (w->drop[i] == uid)
			return;   /* a server that answers twice */
	if (w->n_drop < SWEEP_MAX)
		w->drop[w->n_drop++] = uid;
}

bool sweep_junk_due(const struct probe_ledger *l, uint32_t junk_uidnext, time_t now)
{
	const struct sweep_memory *m = &l->sweep[SWEEP_JUNK];

	return !m->clean_next || junk_uidnext != m->clean_next || (m->due_at && now >= m->due_at);
}

void sweep_record(struct sweep *w, const struct imap_session *s, bool deleted)
{
	struct sweep_memory *m = memory_of(w, s);

	w->trouble |= !deleted;
	/* Whole: every UID below scan_next was looked at (now, or before
	 * clean_next by an earlier whole sweep). */
	if (w->scanned && !w->trouble && m->cursor == 0)
		m->clean_next = w->scan_next;
	m->due_at = w->new_only || w->trouble ? earliest(m->due_at, w->due_at) : w->due_at;
}

void sweep_forget_found(struct probe_ledger *l, enum sweep_box box, const uint32_t *uids, size_t n)
{
	struct sweep_memory *m = &l->sweep[box];
	bool moved = true;

	/* Our own probe, found and deleted, is the next UID as often as not:
	 * the clean part grows past it, and the next sweep has nothing new. */
	while (moved && m->clean_next) {
		moved = false;
		for (size_t i = 0; i < n; i++)
			if (uids[i] == m->clean_next) {
				m->clean_next++;
				moved = true;
			}
	}
}

/* --- the probes' own judge ---------------------------------------------- */

static bool judge_probe(void *ctx, struct imap_session *s, struct sweep *w, const struct imap_fetch *f)
{
	const struct route *r = session_route(s);
	struct probe_ledger *ledger = r->ledger;
	char token[PROBE_TOKEN_READ_SIZE], message_id[200];
	int64_t stamp, age_ms;
	bool late, drop = false;

	(void)ctx;
	if (!f->has_body)
		return false;
	imap_fetch_field_word(f->body, f->body_len, MESSAGE_TOKEN_HEADER ":", token, sizeof(token));
	imap_fetch_field_word(f->body, f->body_len, "Message-ID:", message_id, sizeof(message_id));
	if (!probe_id_verify(ledger, token, message_id, &stamp))
		return false;
	age_ms = ((int64_t)time(NULL) - stamp) * 1000;
	/* INTERNALDATE has whole seconds: an arrival in the last second
	 * before the timeout may count as late; a late one is never missed. */
	late = f->has_date && (f->internaldate - stamp) * 1000 >= r->timeout_ms;
	if (late && !ledger_was_counted(ledger, token)) {
		/* Once this cycle's line is out, the next line reports it. */
		if (w->line_out)
			ledger->late_pending++;
		else
			w->late++;
		ledger_note_counted(ledger, token);
		log_debug("%s: late arrival: probe %s landed %llds after it was sent", session_label(s),
		          token, (long long)(f->internaldate - stamp));
	}
	if ((late || ledger_was_found(ledger, token)) && r->delete_found)
		drop = true;     /* its probe is over for good: nothing to wait for */
	if (r->sweep_after_ms > 0 && age_ms >= r->sweep_after_ms)
		drop = true;
	if (!drop && r->sweep_after_ms > 0) {
		int64_t due = stamp + (r->sweep_after_ms + 999) / 1000;
		if (!w->due_at || due < w->due_at)
			w->due_at = due;
	}
	return drop;
}

const struct sweep_kind sweep_probes = {
	.criteria = "HEADER " MESSAGE_TOKEN_HEADER " \"\"",
	.items = "(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (" MESSAGE_TOKEN_HEADER " Message-ID)])",
	.judge = judge_probe,
};

/* --- the dialogue --------------------------------------------------------- */

static void over(struct sweep *w)
{
	w->done(w->ctx);
}

/* Where the next cycle's window starts: after this one if it was full. */
static void advance_cursor(struct sweep *w, struct imap_session *s)
{
	uint32_t top = 0;

	for (size_t i = 0; i < w->n_asked; i++)
		if (w->asked[i] > top)
			top = w->asked[i];
	*cursor_of(w, s) = w->n_asked >= SWEEP_MAX ? top : 0;
}

static void on_fetch(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct sweep *w = ctx;

	if (ev->kind != IMAP_EV_FETCH || !ev->fetch.has_uid || !sweep_asked(w, ev->fetch.uid))
		return;
	if (w->kind->judge(w->kind->ctx, s, w, &ev->fetch))
		sweep_drop(w, ev->fetch.uid);
}

static void after_fetch(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct sweep *w = ctx;

	if (r->status != IMAP_ST_OK) {
		log_warn("%s: could not read earlier probes (%s %s): nothing swept", session_label(s),
		         session_status_word(r), r->text);
		w->trouble = true;
		w->n_drop = 0;
	} else {
		w->scanned = true;
		advance_cursor(w, s);
	}
	over(w);
}

static void on_search(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct sweep *w = ctx;

	if (ev->kind != IMAP_EV_SEARCH)
		return;
	for (size_t i = 0; i < ev->n_uids && w->n_asked < SWEEP_MAX; i++) {
		uint32_t uid = ev->uids[i];
		if (uid >= w->from && uid < w->scan_next && !sweep_asked(w, uid) &&
		    !(w->kind->skip && w->kind->skip(w->kind->ctx, s, uid)))
			w->asked[w->n_asked++] = uid;
	}
}

static void after_search(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct sweep *w = ctx;
	char uids[SWEEP_MAX * 11];
	struct session_handler *h = &w->fetch_handler;

	if (r->status != IMAP_ST_OK) {
		log_warn("%s: could not search for earlier probes: %s", session_label(s), r->text);
		w->trouble = true;
		over(w);
		return;
	}
	if (w->n_asked == 0) {
		w->scanned = true;
		*cursor_of(w, s) = 0;
		over(w);
		return;
	}
	h->on_event = on_fetch;
	h->on_done = after_fetch;
	h->keep_whole = w->kind->keep_whole;
	session_uid_list(w->asked, w->n_asked, uids, sizeof(uids));
	session_cmd(s, h, w, "UID FETCH %s %s", uids, w->kind->items);
}

static const struct session_handler search_handler = { .on_event = on_search, .on_done = after_search };

/* Where this sweep's search starts: after the window of the last one if
 * that was full; else, when the last sweep was whole and nothing of ours
 * left is due, only at what came since. */
static void pick_start(struct sweep *w, struct imap_session *s)
{
	struct sweep_memory *m = memory_of(w, s);
	uint32_t validity = session_selected(s)->uidvalidity;

	if (m->validity != validity) {
		memset(m, 0, sizeof(*m));   /* a new mailbox under the old name */
		m->validity = validity;
	}
	if (m->cursor + 1 >= w->scan_next)
		m->cursor = 0;            /* the mailbox shrank or was recreated */
	if (m->clean_next > w->scan_next)
		m->clean_next = 0;
	w->from = m->cursor + 1;
	w->new_only = m->cursor == 0 && m->clean_next && !(m->due_at && time(NULL) >= m->due_at);
	if (w->new_only)
		w->from = m->clean_next;
}

static void search(struct sweep *w, struct imap_session *s)
{
	const struct imap_selected *sel = session_selected(s);

	pick_start(w, s);
	/* An empty mailbox (SELECT said 0 EXISTS) holds nothing to sweep. */
	if (w->from >= w->scan_next || (sel->exists_known && sel->exists == 0)) {
		w->scanned = true;      /* nothing there, or nothing new */
		over(w);
		return;
	}
	session_cmd(s, &search_handler, w, "UID SEARCH UID %u:%u UNDELETED %s", w->from,
	            w->scan_next - 1, w->kind->criteria);
}

static void after_select(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct sweep *w = ctx;

	if (r->status != IMAP_ST_OK) {
		log_warn("%s: could not select %s to sweep: %s", session_label(s), w->elsewhere, r->text);
		w->trouble = true;
		over(w);
		return;
	}
	w->scan_next = session_selected(s)->uidnext;
	search(w, s);
}

static const struct session_handler select_handler = { .on_done = after_select };

void sweep_start(struct sweep *w, struct imap_session *s)
{
	w->scanned = w->trouble = false;
	w->late = 0;
	w->due_at = 0;
	w->n_drop = w->n_asked = 0;
	if (w->elsewhere[0]) {
		session_select(s, w->elsewhere, &select_handler, w);
		return;
	}
	w->scan_next = w->uidnext;
	search(w, s);
}
