/*
 * plan.c - the IMAP legs (see imap.h): per role, the order of the tasks,
 * and the only place that chains them.  Each task reports to the plan
 * through the callback it was given; the plan decides what comes next:
 *
 *   inbox, junk: prepare -> sweep (earlier probes; Gmail: in All Mail)
 *                -> expunge (due ones) -> [inbox: the junk mailbox swept
 *                too, where it may hold something of ours] -> [SELECT the
 *                watched mailbox again, if a sweep left it] -> ready
 *                -> watch -> [evidence, unless the look that found it read
 *                the header block] -> expunge (the found probe) -> LOGOUT
 *   bounce:      prepare -> sweep (earlier reports) -> expunge -> ready
 *                -> watch (the bounce check) -> expunge (reports about the
 *                   probe, failed or delayed) -> LOGOUT
 */
#include "leg_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

static void start_watch(struct imap_leg *l, int64_t now);

static void end(struct imap_leg *l, int64_t until)
{
	l->step = STEP_ENDING;
	session_logout(l->s, until);
}

static int64_t cleanup_until(const struct imap_leg *l, int64_t now, int64_t wait)
{
	return budget_cleanup_bound(l->budget, now, now + wait);
}

/* --- after the sweep ----------------------------------------------------- */

static void swept_ready(struct imap_leg *l, int64_t now)
{
	if (l->finishing)
		end(l, l->finish_until);
	else if (l->token[0])
		start_watch(l, now);
	else
		l->step = STEP_READY;
}

static void after_reselect(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct imap_leg *l = ctx;

	if (r->status != IMAP_ST_OK) {
		session_fail(s, RESULT_IMAP_ERROR, "SELECT %s after the sweep: %s", l->prep.mailbox, r->text);
		return;
	}
	l->look_first = true;     /* mail may have come meanwhile */
	swept_ready(l, r->now);
}

static const struct session_handler reselect_handler = { .on_done = after_reselect };

static void sweep_next(struct imap_leg *l);

static void sweep_deleted(void *ctx)
{
	struct imap_leg *l = ctx;

	sweep_record(&l->sweep, l->s, l->sweep.n_drop == 0 || l->expunge.removed);
	l->res.scanned |= l->sweep.scanned;
	l->res.late += l->sweep.late;
	l->left_mailbox |= l->sweep.elsewhere[0] != '\0';
	sweep_next(l);
}

static void swept(void *ctx)
{
	struct imap_leg *l = ctx;

	l->expunge.removed = false;
	if (l->sweep.n_drop == 0) {
		sweep_deleted(l);
		return;
	}
	l->expunge.what = "earlier probe(s)";
	snprintf(l->expunge.trash, sizeof(l->expunge.trash), "%s",
	         l->sweep.box == SWEEP_ALLMAIL ? l->prep.trash : "");
	l->expunge.token[0] = '\0';
	l->expunge.done = sweep_deleted;
	l->expunge.ctx = l;
	expunge_start(&l->expunge, l->s, l->sweep.drop, l->sweep.n_drop);
}

static void sweep_in(struct imap_leg *l, enum sweep_box box, const char *elsewhere)
{
	struct sweep *w = &l->sweep;

	w->kind = box == SWEEP_BOUNCE ? &l->bounce.kind : &sweep_probes;
	w->box = box;
	snprintf(w->elsewhere, sizeof(w->elsewhere), "%s", elsewhere);
	w->uidnext = l->uidnext;
	w->line_out = l->finishing;
	w->done = swept;
	w->ctx = l;
	l->step = STEP_SWEEPING;
	sweep_start(w, l->s);
}

/* The inbox leg sweeps the junk mailbox too, when it may hold something
 * of ours, instead of a second login: not when it is empty, nor when
 * nothing came there since its last whole sweep and nothing left is due. */
static bool junk_wanted(struct imap_leg *l)
{
	struct sweep_memory *m = &l->route->ledger->sweep[SWEEP_JUNK];

	if (l->role != IMAP_ROLE_INBOX || l->sweep.box == SWEEP_JUNK || !l->prep.junk[0] ||
	    !l->prep.junk_next)
		return false;
	if (l->prep.junk_messages == 0) {
		memset(m, 0, sizeof(*m));
		m->validity = l->prep.junk_validity;
		m->clean_next = l->prep.junk_next;   /* empty: nothing to sweep */
		return false;
	}
	return (l->prep.junk_validity && l->prep.junk_validity != m->validity) ||
	       sweep_junk_due(l->route->ledger, l->prep.junk_next, time(NULL));
}

static void sweep_next(struct imap_leg *l)
{
	if (!session_closed(l->s) && junk_wanted(l))
		sweep_in(l, SWEEP_JUNK, l->prep.junk);
	else if (l->left_mailbox)   /* back to the watched mailbox */
		session_select(l->s, l->prep.mailbox, &reselect_handler, l);
	else
		swept_ready(l, clock_mono_ns());
}

/* --- from login to the sweep --------------------------------------------- */

static void sweep_begin(struct imap_leg *l)
{
	bool gmail = session_has(l->s, IMAP_CAP_GMAIL) && session_has(l->s, IMAP_CAP_MOVE);

	l->res.late = 0;
	if (l->role == IMAP_ROLE_BOUNCE)
		sweep_in(l, SWEEP_BOUNCE, "");
	else if (l->role == IMAP_ROLE_JUNK)
		sweep_in(l, SWEEP_JUNK, "");
	else if (gmail && l->prep.allmail[0] && l->prep.trash[0])
		/* Gmail keeps what is deleted from INBOX in All Mail: look there. */
		sweep_in(l, SWEEP_ALLMAIL, l->prep.allmail);
	else
		sweep_in(l, SWEEP_INBOX, "");
}

static void prepared(void *ctx)
{
	struct imap_leg *l = ctx;
	int64_t now = clock_mono_ns();

	if (l->prep.absent) {
		l->absent = true;
		end(l, cleanup_until(l, now, BUDGET_FINISH_NS));
		return;
	}
	l->uidnext = l->prep.uidnext;
	l->res.t_ready_ns = now;
	if (l->role == IMAP_ROLE_JUNK && l->floor && l->floor < l->uidnext) {
		/* Opened after the send: what came since the inbox leg noted
		 * UIDNEXT is this probe's to check, not the sweep's, and at once:
		 * that it came is why this leg was opened. */
		l->uidnext = l->floor;
		l->look_first = true;
	}
	sweep_begin(l);
}

void plan_on_ready(struct imap_session *s, void *ctx)
{
	struct imap_leg *l = ctx;

	l->step = STEP_PREPARING;
	l->prep.done = prepared;
	l->prep.ctx = l;
	prepare_start(&l->prep, s);
}

/* --- the watch and what follows the finding ------------------------------- */

static void cleaned(void *ctx)
{
	struct imap_leg *l = ctx;

	if (l->expunge.removed && l->role != IMAP_ROLE_BOUNCE && !session_has(l->s, IMAP_CAP_GMAIL))
		sweep_forget_found(l->route->ledger, l->role == IMAP_ROLE_JUNK ? SWEEP_JUNK : SWEEP_INBOX,
		                   l->expunge.uids, l->expunge.n);
	end(l, 0);   /* within the bound the finding set */
}

static void delete_found(struct imap_leg *l, const uint32_t *uids, size_t n, int64_t now)
{
	l->step = STEP_CLEANUP;
	if (!l->route->delete_found || n == 0) {
		end(l, cleanup_until(l, now, BUDGET_CLEANUP_NS));
		return;
	}
	l->expunge.what = l->role == IMAP_ROLE_BOUNCE ? "delivery report(s)" : "found probe(s)";
	snprintf(l->expunge.trash, sizeof(l->expunge.trash), "%s",
	         session_has(l->s, IMAP_CAP_GMAIL) ? l->prep.trash : "");
	snprintf(l->expunge.token, sizeof(l->expunge.token), "%s",
	         l->role == IMAP_ROLE_BOUNCE ? "" : l->token);
	l->expunge.done = cleaned;
	l->expunge.ctx = l;
	expunge_start(&l->expunge, l->s, uids, n);
}

static void evidence_read(void *ctx)
{
	struct imap_leg *l = ctx;

	delete_found(l, l->watch.found_uids, l->watch.n_found, clock_mono_ns());
}

static void watch_found(void *ctx)
{
	struct imap_leg *l = ctx;
	int64_t now = clock_mono_ns();

	l->found = true;
	/* The verdict is in: from now on a problem is a warning. */
	session_settle(l->s);
	session_bound(l->s, cleanup_until(l, now, BUDGET_CLEANUP_NS));
	if (l->role == IMAP_ROLE_BOUNCE) {
		l->res.t_found_ns = l->watch.found_ns;
		delete_found(l, l->bounce.about, l->bounce.n_about, now);
		return;
	}
	ledger_note_found(l->route->ledger, l->token);
	if (l->role == IMAP_ROLE_INBOX)
		ledger_note_delivery(l->route->ledger, l->watch.quiet_ns - l->watch.start_ns,
		                     l->watch.found_ns - l->watch.start_ns);
	l->res.t_found_ns = l->watch.found_ns;
	l->res.found_uid = l->watch.found_uids[0];
	if (l->res.ev.read) {   /* the look that found it read its header block */
		delete_found(l, l->watch.found_uids, l->watch.n_found, now);
		return;
	}
	l->step = STEP_EVIDENCE;
	l->evidence.out = &l->res.ev;
	l->evidence.done = evidence_read;
	l->evidence.ctx = l;
	evidence_start(&l->evidence, l->s, l->res.found_uid, now,
	               cleanup_until(l, now, BUDGET_EVIDENCE_NS));
}

static void header_read(void *ctx, struct imap_session *s, const struct imap_fetch *f)
{
	struct imap_leg *l = ctx;

	evidence_take(&l->res.ev, s, f);
}

static void bounce_check_start(void *ctx, struct imap_session *s, struct watch *w, uint32_t from)
{
	struct imap_leg *l = ctx;

	(void)w;
	bounce_check(&l->bounce, s, from);
}

static void bounce_checked(void *ctx, uint32_t next_from, bool failed, bool more, int64_t now)
{
	struct imap_leg *l = ctx;

	watch_check_done(&l->watch, next_from, failed, more, now);
}

static void start_watch(struct imap_leg *l, int64_t now)
{
	struct watch *w = &l->watch;

	log_debug("%s: waiting with %s", session_label(l->s), watch_describe(l->s));
	memcpy(w->token, l->token, sizeof(w->token));
	w->from = l->uidnext;
	w->look_first = l->look_first;
	w->slow = l->role == IMAP_ROLE_BOUNCE;
	memset(&w->window, 0, sizeof(w->window));
	if (l->role == IMAP_ROLE_INBOX && !l->look_first)
		budget_learn_window(l->route->ledger->delivered_after_ns, l->route->ledger->delivered_ns,
		                    l->route->ledger->n_delivered, &w->window);
	w->check = NULL;
	if (l->role == IMAP_ROLE_BOUNCE) {
		l->bounce_glue = (struct watch_check){ bounce_check_start, l };
		memcpy(l->bounce.token, l->token, sizeof(l->bounce.token));
		l->bounce.checked = bounce_checked;
		l->bounce.ctx = l;
		w->check = &l->bounce_glue;
	}
	w->peek[0] = '\0';
	if (l->role == IMAP_ROLE_INBOX && l->peek_wanted && l->prep.junk[0] && l->prep.junk_next) {
		snprintf(w->peek, sizeof(w->peek), "%s", l->prep.junk);
		w->peek_floor = l->prep.junk_next;
	}
	w->header = l->role == IMAP_ROLE_BOUNCE ? NULL : header_read;
	w->exists_seen = l->prep.exists;
	w->found = watch_found;
	w->ctx = l;
	l->step = STEP_WATCHING;
	watch_start(w, l->s, now);
}

/* --- what the face asks of the plan --------------------------------------- */

void plan_watch(struct imap_leg *l, const char *token)
{
	enum result_class r;
	const char *e;

	if (session_failed(l->s, &r, &e) || l->absent || l->step > STEP_READY)
		return;
	snprintf(l->token, sizeof(l->token), "%s", token);
	if (l->step == STEP_READY)
		start_watch(l, clock_mono_ns());
	/* else still preparing or sweeping: the end of the sweep starts it */
}

void plan_finish(struct imap_leg *l, int64_t now, int64_t until)
{
	int64_t bound;

	if (l->found || l->step >= STEP_EVIDENCE || session_closed(l->s) || session_logging_out(l->s))
		return;
	bound = budget_cleanup_bound(l->budget, now, until);
	/* A junk leg is opened when its sweep is due: it sweeps (bounded)
	 * even when the probe is over.  Any leg lets a sweep under way end. */
	bool sweep_on = l->role == IMAP_ROLE_JUNK ? l->step <= STEP_SWEEPING : l->step == STEP_SWEEPING;
	if (!sweep_on && session_connecting(l->s)) {
		session_close(l->s);
		return;
	}
	if (sweep_on) {
		/* Let the sweep finish (bounded), then log out. */
		l->finishing = true;
		l->finish_until = bound;
		l->sweep.line_out = true;
		session_bound(l->s, bound);
		return;
	}
	watch_stop(&l->watch);
	if (l->role == IMAP_ROLE_BOUNCE && l->bounce.n_about > 0 && l->route->delete_found) {
		/* Delay notices and old reports go with the probe. */
		session_settle(l->s);
		session_bound(l->s, bound);
		delete_found(l, l->bounce.about, l->bounce.n_about, now);
		return;
	}
	end(l, bound);
}
