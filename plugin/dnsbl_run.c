/*
 * dnsbl_run.c - see dnsbl_run.h.
 */
#include "dnsbl_run.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "resolve.h"

#define A_RECORDS_MAX 16   /* a DNSBL answers with one or a few codes */

/* The last answer is in (or the rest given up): the fields, once. */
static void finish(struct dnsbl_run *d)
{
	bool listed[CONFIG_DNSBL_ZONES_MAX];

	if (!d->running)
		return;
	d->running = false;
	for (size_t i = 0; i < d->n; i++)
		listed[i] = d->q[i].listed;
	d->rep->dnsbl_looked = true;
	snprintf(d->rep->dnsbl_ip, sizeof(d->rep->dnsbl_ip), "%s", d->addr.text);
	d->rep->dnsbl_listed = (int)dnsbl_zones_join(d->route->dnsbl, listed, d->n, d->rep->dnsbl_zones,
	                                             sizeof(d->rep->dnsbl_zones));
}

static void query_over(struct dnsbl_query *q)
{
	struct dnsbl_run *d = q->run;

	q->id = 0;
	if (d->pending > 0 && --d->pending == 0)
		finish(d);
}

/* The A records of an answer, judged. */
static void judge(struct dnsbl_query *q, const struct resolve_answer *a)
{
	const struct route *r = q->run->route;
	uint8_t rec[A_RECORDS_MAX][4];
	size_t n = 0;
	char note[120];

	for (size_t i = 0; i < a->n && n < A_RECORDS_MAX; i++)
		if (a->len[i] == 4)
			memcpy(rec[n++], a->data[i], 4);
	switch (dnsbl_judge((const uint8_t (*)[4])rec, n, note, sizeof(note))) {
	case DNSBL_LISTED:
		q->listed = true;
		log_debug("%s: dnsbl %s lists %s: %s%s", r->name, q->zone, q->run->addr.text, note,
		          a->secure ? "" : " (DNSSEC-insecure answer)");
		break;
	case DNSBL_ERROR_CODE:
		log_warn("%s: dnsbl %s: error code %s; not counted as a listing", r->name, q->zone, note);
		break;
	default:
		if (note[0])
			log_warn("%s: dnsbl %s: %s (a resolver that rewrites NXDOMAIN?); not counted as a listing",
			         r->name, q->zone, note);
	}
}

static void on_answer(void *ctx, const struct resolve_answer *a)
{
	struct dnsbl_query *q = ctx;
	const struct route *r = q->run->route;
	char what[RESOLVE_WHY_MAX + 40];

	switch (a->status) {
	case RESOLVE_DATA:
		judge(q, a);
		break;
	case RESOLVE_NXDOMAIN:
	case RESOLVE_NODATA:
		log_debug("%s: dnsbl %s does not list %s", r->name, q->zone, q->run->addr.text);
		break;
	case RESOLVE_BOGUS:
		log_warn("%s: dnsbl %s: lookup of %s failed: DNSSEC validation failed (bogus): %s; "
		         "not counted as a listing", r->name, q->zone, q->name, a->why);
		break;
	default:
		log_warn("%s: dnsbl %s: lookup of %s failed: %s; not counted as a listing", r->name, q->zone,
		         q->name, resolve_status_name(a, what, sizeof(what)));
	}
	query_over(q);
}

/* One zone's lookup; one that cannot start is over at once. */
static void start_one(struct dnsbl_run *d, struct dnsbl_query *q)
{
	char err[200];

	q->run = d;
	if (!dnsbl_query_name(&d->addr, q->zone, q->name, sizeof(q->name))) {
		log_warn("%s: dnsbl %s: no query name for %s", d->route->name, q->zone, d->addr.text);
		query_over(q);
		return;
	}
	q->id = resolve_start(q->name, RESOLVE_TYPE_A, on_answer, q, err, sizeof(err));
	if (!q->id) {
		log_warn("%s: dnsbl %s: lookup not started: %s; not counted as a listing", d->route->name,
		         q->zone, err);
		query_over(q);
	}
}

void dnsbl_run_start(struct dnsbl_run *d, const struct route *r, const struct dnsbl_addr *a,
                     int64_t until, struct reputation *rep)
{
	memset(d, 0, sizeof(*d));
	d->route = r;
	d->rep = rep;
	d->addr = *a;
	d->until = until;
	d->n = dnsbl_zone_count(r->dnsbl);
	if (d->n > CONFIG_DNSBL_ZONES_MAX)
		d->n = CONFIG_DNSBL_ZONES_MAX;   /* config_rep.c refuses more */
	for (size_t i = 0; i < d->n; i++)
		if (!dnsbl_zone_at(r->dnsbl, i, d->q[i].zone, sizeof(d->q[i].zone)))
			d->q[i].zone[0] = '\0';
	d->pending = d->n;
	d->running = true;
	log_debug("%s: dnsbl: looking up %s in %zu zone(s)", r->name, a->text, d->n);
	for (size_t i = 0; i < d->n && d->running; i++)
		start_one(d, &d->q[i]);
	if (d->n == 0)
		finish(d);
}

void dnsbl_run_step(struct dnsbl_run *d, int64_t now)
{
	if (!d->running || now < d->until)
		return;
	for (size_t i = 0; i < d->n && d->running; i++) {
		struct dnsbl_query *q = &d->q[i];
		if (!q->id)
			continue;
		resolve_cancel(q->id);
		log_warn("%s: dnsbl %s: no answer for %s before the route's timeout (%lds); "
		         "not counted as a listing", d->route->name, q->zone, q->name,
		         d->route->timeout_ms / 1000);
		query_over(q);
	}
}

bool dnsbl_run_pending(const struct dnsbl_run *d)
{
	return d->running;
}

int dnsbl_run_fd(const struct dnsbl_run *d)
{
	return d->running ? resolve_fd() : -1;
}

void dnsbl_run_io(struct dnsbl_run *d, int fd)
{
	if (d->running && fd >= 0 && fd == resolve_fd())
		resolve_process();
}

int64_t dnsbl_run_timer(const struct dnsbl_run *d)
{
	return d->running ? d->until : 0;
}

void dnsbl_run_cancel(struct dnsbl_run *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->q[i].id) {
			resolve_cancel(d->q[i].id);
			d->q[i].id = 0;
		}
	d->pending = 0;
	d->running = false;
}
