/*
 * dnsbl_run.h - one probe's DNSBL lookups (SPEC §13): the address its
 * header block named (dnsbl_pick) looked up in every zone of the route's
 * `dnsbl` at once, through dns.c (`resolver`, DNSSEC-validated),
 * judged by dnsbl_judge, and bounded by the route's deadline: the lookups
 * run while the probe is deleted and the sessions log out, and the line
 * waits for them at most until the route's timeout.
 *
 * What counts: an A record in 127.0.0.0/8 outside 127.255.255.0/24 lists
 * the address (insecure answers too); NXDOMAIN, no data, or only records
 * outside 127/8 do not.  An error code (127.255.255.x), SERVFAIL, REFUSED,
 * another rcode, a bogus answer, a lookup that could not start, and no
 * answer by the deadline do not list either, and each writes one W! line
 * naming the route and the zone (so does an answer outside 127/8: a
 * resolver that rewrites NXDOMAIN).
 *
 * Contract: the caller owns struct dnsbl_run (zeroed before the first
 * start) and rep; route is borrowed.  dnsbl_run_start() writes nothing
 * into rep until the run ends: dnsbl_run_step() reads the answers that
 * came (the cycle polls dns.c's pipe and delivers them) and gives up the
 * rest at `until`; then rep's dnsbl fields are set once.
 * dnsbl_run_cancel() frees pending lookups without writing (the probe is
 * abandoned); call it before the struct goes.
 */
#ifndef MAIL_E2E_DNSBL_RUN_H
#define MAIL_E2E_DNSBL_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "config_rep.h"
#include "dnsbl.h"
#include "reputation.h"

struct dns_query;

struct dnsbl_query {
	struct dns_query *q;         /* dns.c's while pending, else NULL */
	bool listed;
	char zone[DNSBL_ZONE_MAX];
	char name[DNSBL_NAME_MAX];   /* the query name */
};

struct dnsbl_run {
	const struct route *route;
	struct reputation *rep;
	struct dnsbl_addr addr;
	size_t n, pending;
	struct dnsbl_query q[CONFIG_DNSBL_ZONES_MAX];
	int64_t until;               /* monotonic ns: the route's deadline */
	bool running;
};

void dnsbl_run_start(struct dnsbl_run *d, const struct route *r, const struct dnsbl_addr *a,
                     int64_t until, struct reputation *rep);
/* The answers that came are judged; past `until`, the unanswered ones are
 * given up (W! each).  The run ends when none is left.  Call after every
 * wake-up. */
void dnsbl_run_step(struct dnsbl_run *d, int64_t now);
bool dnsbl_run_pending(const struct dnsbl_run *d);
int64_t dnsbl_run_timer(const struct dnsbl_run *d);   /* 0: none */
void dnsbl_run_cancel(struct dnsbl_run *d);

#endif
