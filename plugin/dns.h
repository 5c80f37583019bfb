/*
 * dns.h - our own DNS lookups (SPEC §12, §13): asynchronous, through the
 * process key `resolver`, DNSSEC-validated in this process against
 * `dnssec_trust_anchor`, by Debian's libunbound.  Never the system
 * resolver (no getaddrinfo, no /etc/hosts), never libunbound's built-in
 * answers for special-use names (test., invalid., onion., localhost., ...:
 * turned off, so the resolver is asked like for any name).
 *
 * One libunbound context per process (per resolver + anchor), shared by
 * every route, made at the first lookup; its answers are cached inside it
 * by their TTLs.  Its background thread resolves; the answers come back
 * through a pipe the event loop polls (dns_wait_fd) and hands to us
 * (dns_process), so no lookup ever blocks another route.
 *
 * Contract:
 *  - dns_configure() (from the cycle, every time: cheap when unchanged)
 *    names the resolver ("IP[:port]", NULL: /etc/resolv.conf's
 *    nameservers) and the trust anchor file (NULL: DNS_ROOT_KEY); a change
 *    drops the context (and every lookup under way: their queries fail).
 *  - dns_start() returns a query the caller owns (free it with dns_free(),
 *    which cancels it if it is still under way), or NULL with err.  The
 *    query holds its own copy of the answer.
 *  - dns_done() says whether the answer is in; at or past the deadline a
 *    lookup without one is DNS_TIMEOUT (libunbound's own give-up can take
 *    17 s and more: the route's deadline is the bound).
 *  - dns_shutdown() cancels what is left and frees the context (process end).
 */
#ifndef MAIL_E2E_DNS_H
#define MAIL_E2E_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_rr.h"

#define DNS_ROOT_KEY "/usr/share/dns/root.key"   /* Debian's dns-root-data */

enum dns_status {
	DNS_PENDING = 0,
	DNS_ANSWERED,      /* NOERROR with data, NODATA or NXDOMAIN; not bogus */
	DNS_FAILED,        /* SERVFAIL, REFUSED, ..., or the lookup could not run */
	DNS_BOGUS,         /* DNSSEC says the answer is forged or broken */
	DNS_TIMEOUT,       /* no answer by the deadline */
};

struct dns_rdata {
	const unsigned char *data;   /* wire format, uncompressed names */
	size_t len;
};

struct dns_answer {
	enum dns_status status;
	int rcode;                   /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
	bool secure;                 /* validated against the trust anchor */
	bool nxdomain;
	size_t n;                    /* records of the type asked (0: none) */
	struct dns_rdata *rr;        /* into the query's own memory */
	char why[200];               /* not ANSWERED: in words */
	int64_t took_ns;             /* start to answer */
};

struct dns_query;

void dns_configure(const char *resolver, const char *anchor);
struct dns_query *dns_start(const char *name, int type, int64_t deadline_ns, char *err, size_t errlen);
bool dns_done(struct dns_query *q, int64_t now);
const struct dns_answer *dns_answer(const struct dns_query *q);
int64_t dns_deadline(const struct dns_query *q);
void dns_free(struct dns_query *q);

/* The event loop's side: the fd to poll for answers (-1: no lookup under
 * way); dns_process() delivers what came (non-blocking, any time). */
int dns_wait_fd(void);
void dns_process(void);

/* Lookups started since the process began (the figures of README). */
unsigned long dns_lookups(void);
/* "MX", "TLSA", ... for logs; "TYPE<n>" otherwise (static or buf). */
const char *dns_type_name(int type);

void dns_shutdown(void);

#endif
