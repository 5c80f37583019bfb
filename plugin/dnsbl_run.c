/*
 * dnsbl_run.c - see dnsbl_run.h.
 */
#include "dnsbl_run.h"

#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "log.h"

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

static void query_over(struct dnsbl_run *d, struct dnsbl_query *z)
{
	dns_free(z->q);
	z->q = NULL;
	if (d->pending > 0 && --d->pending == 0)
		finish(d);
}

/* The A records of an answer, judged. */
static void judge(const struct dnsbl_run *d, struct dnsbl_query *z, const struct dns_answer *a)
{
	const char *name = d->route->name;
	uint8_t rec[A_RECORDS_MAX][4];
	size_t n = 0;
	char note[120];

	for (size_t i = 0; i < a->n && n < A_RECORDS_MAX; i++)
		if (a->rr[i].len == 4)
			memcpy(rec[n++], a->rr[i].data, 4);
	switch (dnsbl_judge((const uint8_t (*)[4])rec, n, note, sizeof(note))) {
	case DNSBL_LISTED:
		z->listed = true;
		log_debug("%s: dnsbl %s lists %s: %s%s", name, z->zone, d->addr.text, note,
		          a->secure ? "" : " (DNSSEC-insecure answer)");
		break;
	case DNSBL_ERROR_CODE:
		log_warn("%s: dnsbl %s: error code %s; not counted as a listing", name, z->zone, note);
		break;
	default:
		if (note[0])
			log_warn("%s: dnsbl %s: %s (a resolver that rewrites NXDOMAIN?); not counted as a listing",
			         name, z->zone, note);
		else
			log_debug("%s: dnsbl %s does not list %s", name, z->zone, d->addr.text);
	}
}

/* What one finished lookup says (dns.c's ANSWERED covers NXDOMAIN and
 * NODATA: no record, not listed). */
static void read_answer(struct dnsbl_run *d, struct dnsbl_query *z)
{
	const struct dns_answer *a = dns_answer(z->q);
	const char *name = d->route->name;

	switch (a->status) {
	case DNS_ANSWERED:
		judge(d, z, a);
		break;
	case DNS_BOGUS:
		log_warn("%s: dnsbl %s: lookup of %s failed: DNSSEC validation failed (bogus): %s; "
		         "not counted as a listing", name, z->zone, z->name, a->why);
		break;
	case DNS_TIMEOUT:
		log_warn("%s: dnsbl %s: no answer for %s before the route's timeout (%lds); "
		         "not counted as a listing", name, z->zone, z->name, d->route->timeout_ms / 1000);
		break;
	default:
		log_warn("%s: dnsbl %s: lookup of %s failed: %s; not counted as a listing", name, z->zone,
		         z->name, a->why);
	}
	query_over(d, z);
}

/* One zone's lookup; one that cannot start is over at once. */
static void start_one(struct dnsbl_run *d, struct dnsbl_query *z)
{
	char err[200];

	if (!dnsbl_query_name(&d->addr, z->zone, z->name, sizeof(z->name))) {
		log_warn("%s: dnsbl %s: no query name for %s", d->route->name, z->zone, d->addr.text);
		query_over(d, z);
		return;
	}
	z->q = dns_start(z->name, DNS_T_A, d->until, err, sizeof(err));
	if (!z->q) {
		log_warn("%s: dnsbl %s: lookup not started: %s; not counted as a listing", d->route->name,
		         z->zone, err);
		query_over(d, z);
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
	for (size_t i = 0; i < d->n && d->running; i++)
		if (d->q[i].q && dns_done(d->q[i].q, now))
			read_answer(d, &d->q[i]);
}

bool dnsbl_run_pending(const struct dnsbl_run *d)
{
	return d->running;
}

int64_t dnsbl_run_timer(const struct dnsbl_run *d)
{
	return d->running ? d->until : 0;
}

void dnsbl_run_cancel(struct dnsbl_run *d)
{
	for (size_t i = 0; i < d->n; i++) {
		dns_free(d->q[i].q);
		d->q[i].q = NULL;
	}
	d->pending = 0;
	d->running = false;
}
