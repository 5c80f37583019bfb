/*
 * bounce.c - see bounce.h.
 */
#include "bounce.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "dsn.h"
#include "log.h"

#define STR(x) #x
#define XSTR(x) STR(x)

static void add_uid(uint32_t *uids, size_t *n, size_t max, uint32_t uid)
{
	for (size_t i = 0; i < *n; i++)
		if (uids[i] == uid)
			return;
	if (*n < max)
		uids[(*n)++] = uid;
}

/* A fetched report this route proves is about one of its probes: the
 * report and the probe's send time (Unix seconds).  False for anything
 * else, which is remembered as not ours and never touched. */
static bool proved_report(struct imap_session *s, const struct imap_fetch *f, const char *current,
                          struct dsn_report *d, int64_t *stamp)
{
	const struct route *r = session_route(s);

	if (!f->has_body || !f->has_uid || strncasecmp(f->section, "BODY[]", 6) != 0)
		return false;
	if (!dsn_read(f->body, f->body_len, r->to, d))
		d->is_dsn = false;
	else if (d->probe_token[0] && probe_id_verify(r->ledger, d->probe_token, d->message_id, stamp))
		return true;
	else if (current && d->envid[0] && strcmp(d->envid, current) == 0) {
		/* Its Original-Envelope-Id is this probe's token (sent as ENVID):
		 * 128 bits nobody else knows, even without returned headers. */
		snprintf(d->probe_token, sizeof(d->probe_token), "%s", current);
		*stamp = (int64_t)time(NULL);
		return true;
	}
	ledger_note_foreign(r->ledger, session_selected(s)->uidvalidity, f->uid);
	return false;
}

/* About a probe of ours sent longer ago than sweep_after: due for the sweep. */
static bool report_due(const struct imap_session *s, const struct dsn_report *d, int64_t stamp)
{
	const struct route *r = session_route(s);

	if (r->sweep_after_ms <= 0 || ((int64_t)time(NULL) - stamp) * 1000 < r->sweep_after_ms)
		return false;
	log_debug("%s: delivery report about an old probe (%s): swept", session_label(s), d->probe_token);
	return true;
}

static void take_report(struct bounce *b, struct imap_session *s, const struct dsn_report *d)
{
	struct dsn_outcome *o = b->out;

	log_debug("%s: delivery report about this probe: %s %s for %s (%s)", session_label(s), d->action,
	          d->status, d->recipient, d->remote_mta[0] ? d->remote_mta : d->reporting_mta);
	if (!d->rcpt_matched) {
		log_debug("%s: the report is about another recipient than %s: not counted", session_label(s),
		          session_route(s)->to);
		return;
	}
	if (strcmp(d->action, "failed") == 0 && !o->failed) {
		o->failed = true;
		snprintf(o->status, sizeof(o->status), "%s", d->status);
		snprintf(o->diagnostic, sizeof(o->diagnostic), "%.*s", (int)sizeof(o->diagnostic) - 1,
		         d->diagnostic[0] ? d->diagnostic : d->status[0] ? d->status : "delivery failed");
	} else if (strcmp(d->action, "delayed") == 0) {
		o->delayed = true;
		if (!o->status[0])
			snprintf(o->status, sizeof(o->status), "%s", d->status);
	}
}

/* --- the sweep's judge: reports left from earlier probes ----------------- */

static bool skip_foreign(void *ctx, const struct imap_session *s, uint32_t uid)
{
	(void)ctx;
	return ledger_is_foreign(session_route(s)->ledger, session_selected(s)->uidvalidity, uid);
}

static bool judge_old(void *ctx, struct imap_session *s, struct sweep *w, const struct imap_fetch *f)
{
	struct dsn_report d;
	int64_t stamp;

	(void)ctx;
	(void)w;
	return proved_report(s, f, NULL, &d, &stamp) && report_due(s, &d, stamp);
}

void bounce_init(struct bounce *b, struct dsn_outcome *out)
{
	b->out = out;
	b->kind = (struct sweep_kind){
		.criteria = "HEADER Content-Type \"report\"",
		.items = "(UID BODY.PEEK[]<0." XSTR(BOUNCE_REPORT_MAX) ">)",
		/* the reply's own framing comes on top of the report */
		.keep_whole = BOUNCE_REPORT_MAX + 4096,
		.skip = skip_foreign,
		.judge = judge_old,
		.ctx = b,
	};
}

/* --- the check: new reports about this probe ------------------------------- */

static void check_over(struct bounce *b, int64_t now)
{
	bool more = b->untaken != 0;

	b->checked(b->ctx, more ? b->untaken : b->top, b->out->failed, more, now);
}

static void on_report(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct bounce *b = ctx;
	struct dsn_report d;
	int64_t stamp;

	if (ev->kind != IMAP_EV_FETCH || !proved_report(s, &ev->fetch, b->token, &d, &stamp))
		return;
	if (strcmp(d.probe_token, b->token) == 0) {
		add_uid(b->about, &b->n_about, SESSION_UIDS_MAX, ev->fetch.uid);
		take_report(b, s, &d);
	} else if (report_due(s, &d, stamp)) {
		add_uid(b->about, &b->n_about, SESSION_UIDS_MAX, ev->fetch.uid);
	}
}

static void after_reports(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct bounce *b = ctx;

	if (r->status != IMAP_ST_OK)
		log_warn("%s: could not read delivery reports: %s %s", session_label(s),
		         session_status_word(r), r->text);
	check_over(b, r->now);
}

static const struct session_handler reports_handler = {
	.on_event = on_report, .on_done = after_reports, .keep_whole = BOUNCE_REPORT_MAX + 4096,
};

static void on_content_type(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct bounce *b = ctx;
	const struct imap_fetch *f = &ev->fetch;

	(void)s;
	if (ev->kind != IMAP_EV_FETCH || !f->has_uid || !f->has_body || f->uid < b->from)
		return;
	if (f->uid + 1 > b->top)
		b->top = f->uid + 1;
	for (size_t i = 0; i + 16 <= f->body_len; i++) {
		if (strncasecmp(f->body + i, "multipart/report", 16) != 0)
			continue;
		/* A batch at a time; the next check starts at the first left. */
		if (b->n_reports < BOUNCE_BATCH)
			add_uid(b->reports, &b->n_reports, BOUNCE_BATCH, f->uid);
		else if (!b->untaken || f->uid < b->untaken)
			b->untaken = f->uid;
		break;
	}
}

static void after_content_type(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct bounce *b = ctx;
	char uids[BOUNCE_BATCH * 11];

	if (r->status != IMAP_ST_OK) {
		session_fail(s, RESULT_IMAP_ERROR, "FETCH: %s %s", session_status_word(r), r->text);
		return;
	}
	if (b->n_reports == 0) {
		check_over(b, r->now);
		return;
	}
	session_uid_list(b->reports, b->n_reports, uids, sizeof(uids));
	session_cmd(s, &reports_handler, b, "UID FETCH %s %s", uids, b->kind.items);
}

static const struct session_handler content_type_handler = {
	.on_event = on_content_type, .on_done = after_content_type,
};

void bounce_check(struct bounce *b, struct imap_session *s, uint32_t from)
{
	b->from = from;
	b->top = from;
	b->untaken = 0;
	b->n_reports = 0;
	session_cmd(s, &content_type_handler, b,
	            "UID FETCH %u:* (UID BODY.PEEK[HEADER.FIELDS (Content-Type)])", from);
}
