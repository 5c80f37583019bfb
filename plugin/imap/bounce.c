/*
 * bounce.c - the bounce watch (SPEC §8; see imap_session.h): a session in
 * the envelope sender's mailbox (bounce_imap_*), watched like the inbox
 * (watch.c: NOOPs, IDLE or polling), whose check looks for delivery status
 * notifications about this probe:
 *
 *   UID FETCH <new>:* (UID BODY.PEEK[HEADER.FIELDS (Content-Type)])
 *      -> the multipart/report ones:
 *   UID FETCH <those> (UID BODY.PEEK[])         (BOUNCE_REPORT_MAX bytes each)
 *
 * Each is read by dsn.c.  It counts only with proof: its returned headers
 * carry this probe's X-Mail-E2E-Probe token and a Message-ID that verifies
 * under the route's key (probe_id.h).  The token alone is not enough, nor
 * is an Original-Envelope-Id: the probe is sent without ENVID (libcurl
 * writes MAIL FROM itself), so an ENVID that matches was copied.  Action
 * failed ends the probe (IMAP_FOUND for this role: bounced); delayed is
 * noted and the watch goes on.  Notifications about this probe, and those
 * about this route's own probes older than sweep_after, are deleted with
 * delete = true (found.c), when the probe is over; anything else in the
 * mailbox is never touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "dsn.h"
#include "imap_session.h"
#include "log.h"
#include "probe_id.h"

static void add_uid(uint32_t *uids, size_t *n, uint32_t uid)
{
	for (size_t i = 0; i < *n; i++)
		if (uids[i] == uid)
			return;
	if (*n < IMAP_MAX_FOUND)
		uids[(*n)++] = uid;
}

void bounce_send_check(struct imap_session *s)
{
	s->n_reports = 0;
	session_send(s, PH_CHECK, "FETCH", "UID FETCH %u:* (UID BODY.PEEK[HEADER.FIELDS (Content-Type)])",
	             s->check_from);
}

/* One reply to the check: a report is worth reading whole. */
void bounce_on_check_untagged(struct imap_session *s, const char *text)
{
	uint32_t uid;
	const char *block;
	size_t len;

	if (!imap_parse_fetch_section(text, "BODY[HEADER.FIELDS", &uid, &block, &len) ||
	    uid < s->check_from)
		return;
	if (uid + 1 > s->check_top)
		s->check_top = uid + 1;
	for (size_t i = 0; i + 16 <= len; i++)
		if (strncasecmp(block + i, "multipart/report", 16) == 0) {
			add_uid(s->reports, &s->n_reports, uid);
			break;
		}
}

/* After the check: read the reports, or go on waiting (false). */
bool bounce_after_check(struct imap_session *s)
{
	char uids[IMAP_MAX_FOUND * 11];

	if (s->n_reports == 0)
		return false;
	if (!session_keep_whole(s, BOUNCE_REPORT_MAX)) {
		log_warn("%s: no memory to read a delivery report", s->watch.label);
		return false;
	}
	session_uid_list(s->reports, s->n_reports, uids, sizeof(uids));
	session_send(s, PH_DSN, "FETCH", "UID FETCH %s (UID BODY.PEEK[])", uids);
	return true;
}

static void take_report(struct imap_session *s, uint32_t uid, const struct dsn_report *d)
{
	struct dsn_outcome *o = &s->res.dsn;
	bool failed = strcmp(d->action, "failed") == 0;

	add_uid(s->found_uids, &s->n_found, uid);
	if (failed && !o->failed) {
		o->failed = true;
		snprintf(o->status, sizeof(o->status), "%s", d->status);
		snprintf(o->diagnostic, sizeof(o->diagnostic), "%.*s", (int)sizeof(o->diagnostic) - 1,
		         d->diagnostic[0] ? d->diagnostic : d->status[0] ? d->status : "delivery failed");
	} else if (strcmp(d->action, "delayed") == 0) {
		o->delayed = true;
		if (!o->status[0])
			snprintf(o->status, sizeof(o->status), "%s", d->status);
	}
	log_debug("%s: delivery report about this probe: %s %s (%s)", s->watch.label, d->action,
	          d->status, d->remote_mta[0] ? d->remote_mta : d->reporting_mta);
}

/* A fetched report this route proves is about one of its probes: its UID,
 * the report and the probe's send time (Unix seconds).  False for
 * anything else, which is never counted and never touched. */
static bool proved_report(const struct imap_session *s, const char *text, uint32_t *uid,
                          struct dsn_report *d, int64_t *stamp)
{
	const struct route *r = s->route;
	const char *msg;
	size_t len;

	return imap_parse_fetch_section(text, "BODY[]", uid, &msg, &len) && dsn_read(msg, len, r->to, d) &&
	       d->probe_token[0] && probe_id_verify(r->ledger, d->probe_token, d->message_id, stamp);
}

/* About a probe of ours sent longer ago than sweep_after: due for the sweep. */
static bool report_due(const struct imap_session *s, const struct dsn_report *d, int64_t stamp)
{
	const struct route *r = s->route;

	if (r->sweep_after_ms <= 0 || ((int64_t)time(NULL) - stamp) * 1000 < r->sweep_after_ms)
		return false;
	log_debug("%s: delivery report about an old probe (%s): swept", s->watch.label, d->probe_token);
	return true;
}

void bounce_on_dsn_untagged(struct imap_session *s, const char *text)
{
	struct dsn_report d;
	uint32_t uid;
	int64_t stamp;

	if (!proved_report(s, text, &uid, &d, &stamp))
		return;
	if (strcmp(d.probe_token, s->token) == 0)
		take_report(s, uid, &d);
	else if (report_due(s, &d, stamp))
		add_uid(s->found_uids, &s->n_found, uid);
}

/* The sweep before the send: a report due (its UID returned, else 0). */
uint32_t bounce_judge_old(struct imap_session *s, const char *text)
{
	struct dsn_report d;
	uint32_t uid;
	int64_t stamp;

	return proved_report(s, text, &uid, &d, &stamp) && report_due(s, &d, stamp) ? uid : 0;
}

/* The reports are read: bounced (true), or the watch goes on. */
bool bounce_after_dsn(struct imap_session *s, int64_t now)
{
	session_keep_whole_done(s);
	if (!s->res.dsn.failed)
		return false;
	s->found = true;
	s->res.t_found_ns = now;
	s->close_by_ns = session_cleanup_bound(s, now, now + 5 * NS_PER_S);
	found_cleanup(s);
	return true;
}

/* The probe is over: delete what was collected (delay notices, old
 * reports) before logging out.  True if that is under way. */
bool bounce_finish(struct imap_session *s)
{
	if (s->role != IMAP_ROLE_BOUNCE || s->n_found == 0 || !s->route->delete_found ||
	    s->phase == PH_CONNECTING)
		return false;
	s->found = true;   /* its cleanup: problems are warnings now */
	found_cleanup(s);
	return true;
}
