/*
 * resolve.c - see resolve.h.
 *
 * libunbound in threaded async mode: ub_resolve_async() hands a query to
 * its worker thread, whose answers come back through a pipe (ub_fd());
 * ub_process() reads what is there without blocking and calls back.  Each
 * query carries a small record of ours (the caller's done/ctx), kept in a
 * list so that a cancel or the shutdown frees what libunbound will never
 * call back for.
 */
#include "resolve.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unbound.h>

#include "config_rep.h"
#include "log.h"
#include "parse.h"

struct query {
	int id;                    /* ours (> 0), resolve.h's */
	int ub_id;                 /* libunbound's */
	resolve_done_fn *done;
	void *ctx;
	struct query *prev, *next;
};

static struct ub_ctx *ub;
static struct query *queries;          /* pending, newest first */
static char *want_resolver, *want_anchor;
static bool configured;
static int last_id;

/* libunbound's built-in local zones (1.17's defaults, RFC 6303 and
 * RFC 7686): made transparent, so the names under them are asked of the
 * resolver like any other (SPEC §12).  "nodefault" does not do it through
 * ub_ctx_set_option(): .test names stay NXDOMAIN (mxworld.notes.md). */
static const char *const local_zones[] = {
	"localhost.", "127.in-addr.arpa.", "onion.", "test.", "invalid.",
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
};

static void unlink_query(struct query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
}

static void drop_context(void);

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int resolve_configure(const char *resolver, const char *trust_anchor, char *err, size_t cap)
{
	char *r = NULL, *t = NULL;

	if (configured && same(resolver, want_resolver) && same(trust_anchor, want_anchor))
		return 0;
	if ((resolver && !(r = strdup(resolver))) || (trust_anchor && !(t = strdup(trust_anchor)))) {
		free(r);
		snprintf(err, cap, "out of memory");
		return -1;
	}
	drop_context();
	free(want_resolver);
	free(want_anchor);
	want_resolver = r;
	want_anchor = t;
	configured = true;
	return 0;
}

/* Where the questions go: `resolver`, or /etc/resolv.conf's servers. */
static int set_forwarder(struct ub_ctx *c, char *err, size_t cap)
{
	char ip[64], fwd[80];
	int port, rc;

	if (!want_resolver) {
		rc = ub_ctx_resolvconf(c, NULL);
		if (rc != 0)
			snprintf(err, cap, "reading /etc/resolv.conf: %s", rc == UB_READFILE ?
			         strerror(errno) : ub_strerror(rc));
		return rc == 0 ? 0 : -1;
	}
	if (parse_ip_port(want_resolver, 53, ip, sizeof(ip), &port) != 0) {
		snprintf(err, cap, "resolver %s: not IP[:port]", want_resolver);
		return -1;
	}
	snprintf(fwd, sizeof(fwd), "%s@%d", ip, port);
	if ((rc = ub_ctx_set_fwd(c, fwd)) != 0) {
		snprintf(err, cap, "resolver %s: %s", want_resolver, ub_strerror(rc));
		return -1;
	}
	return 0;
}

static int set_anchor(struct ub_ctx *c, char *err, size_t cap)
{
	const char *file = want_anchor ? want_anchor : CONFIG_SYSTEM_TRUST_ANCHOR;
	int rc;

	if (!want_anchor && access(file, R_OK) != 0) {
		log_warn("no DNSSEC trust anchor (%s: %s): DNS answers are used without validation; "
		         "set dnssec_trust_anchor", file, strerror(errno));
		return 0;
	}
	if ((rc = ub_ctx_add_ta_file(c, file)) != 0) {
		snprintf(err, cap, "dnssec_trust_anchor %s: %s", file, ub_strerror(rc));
		return -1;
	}
	return 0;
}

static struct ub_ctx *context(char *err, size_t cap)
{
	struct ub_ctx *c;
	int rc = 0;

	if (ub)
		return ub;
	if (!(c = ub_ctx_create())) {
		snprintf(err, cap, "cannot make a DNS resolver context");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(local_zones) / sizeof(local_zones[0]) && rc == 0; i++) {
		char zone[128];
		snprintf(zone, sizeof(zone), "%s transparent", local_zones[i]);
		rc = ub_ctx_set_option(c, "local-zone:", zone) == 0 ? 0 : -1;
	}
	if (rc == 0)
		rc = ub_ctx_set_option(c, "unblock-lan-zones:", "yes") == 0 &&
		     ub_ctx_async(c, 1) == 0 ? 0 : -1;
	if (rc != 0)
		snprintf(err, cap, "cannot set up the DNS resolver context");
	if (rc != 0 || set_forwarder(c, err, cap) != 0 || set_anchor(c, err, cap) != 0) {
		ub_ctx_delete(c);
		return NULL;
	}
	ub = c;
	return ub;
}

static const char *why_text(const struct ub_result *r)
{
	return r->why_bogus ? r->why_bogus : "DNSSEC validation failed";
}

/* What one libunbound result says, in resolve.h's terms. */
static void answer_from(struct resolve_answer *a, int err, const struct ub_result *r)
{
	memset(a, 0, sizeof(*a));
	if (err != 0 || !r) {
		a->status = RESOLVE_FAILED;
		snprintf(a->why, sizeof(a->why), "%s", ub_strerror(err));
		return;
	}
	a->rcode = r->rcode;
	a->secure = r->secure != 0;
	if (r->bogus) {
		a->status = RESOLVE_BOGUS;
		snprintf(a->why, sizeof(a->why), "%s", why_text(r));
	} else if (r->rcode == 0 && r->havedata) {
		a->status = RESOLVE_DATA;
		for (a->n = 0; r->data[a->n]; a->n++)
			;
		a->data = (const unsigned char *const *)r->data;
		a->len = r->len;
	} else {
		a->status = r->rcode == 0 ? RESOLVE_NODATA : r->rcode == 3 ? RESOLVE_NXDOMAIN :
		            r->rcode == 2 ? RESOLVE_SERVFAIL : r->rcode == 5 ? RESOLVE_REFUSED : RESOLVE_RCODE;
	}
}

static void on_result(void *mydata, int err, struct ub_result *r)
{
	struct query *q = mydata;
	struct resolve_answer a;

	unlink_query(q);
	answer_from(&a, err, r);
	q->done(q->ctx, &a);
	ub_resolve_free(r);
	free(q);
}

int resolve_start(const char *name, int rrtype, resolve_done_fn *done, void *ctx, char *err, size_t cap)
{
	struct query *q;
	sigset_t all, old;
	int rc;

	if (!context(err, cap))
		return 0;
	if (!(q = calloc(1, sizeof(*q)))) {
		snprintf(err, cap, "out of memory");
		return 0;
	}
	q->done = done;
	q->ctx = ctx;
	/* The first query starts libunbound's thread: it must take no signal
	 * (main.c's handlers expect to run in the main thread's loop). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = ub_resolve_async(ub, name, rrtype, 1, q, on_result, &q->ub_id);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, cap, "%s", ub_strerror(rc));
		free(q);
		return 0;
	}
	q->id = last_id = last_id >= 0x7fffffff - 1 ? 1 : last_id + 1;
	q->next = queries;
	if (queries)
		queries->prev = q;
	queries = q;
	return q->id;
}

void resolve_cancel(int id)
{
	for (struct query *q = queries; q; q = q->next)
		if (q->id == id) {
			unlink_query(q);
			(void)ub_cancel(ub, q->ub_id);   /* UB_NOID: answered meanwhile, not yet read */
			free(q);
			return;
		}
}

int resolve_fd(void)
{
	return ub && queries ? ub_fd(ub) : -1;
}

void resolve_process(void)
{
	int rc;

	if (ub && queries && (rc = ub_process(ub)) != 0)
		log_warn("DNS lookups: %s", ub_strerror(rc));
}

/* Every pending query cancelled, the context (and its thread) gone. */
static void drop_context(void)
{
	while (queries) {
		struct query *q = queries;
		unlink_query(q);
		if (ub)
			(void)ub_cancel(ub, q->ub_id);
		free(q);
	}
	if (ub)
		ub_ctx_delete(ub);
	ub = NULL;
}

void resolve_shutdown(void)
{
	drop_context();
	free(want_resolver);
	free(want_anchor);
	want_resolver = want_anchor = NULL;
	configured = false;
}

const char *resolve_status_name(const struct resolve_answer *a, char *buf, size_t cap)
{
	static const char *const names[] = {
		[RESOLVE_DATA] = "an answer", [RESOLVE_NXDOMAIN] = "NXDOMAIN", [RESOLVE_NODATA] = "no data",
		[RESOLVE_SERVFAIL] = "SERVFAIL", [RESOLVE_REFUSED] = "REFUSED",
		[RESOLVE_BOGUS] = "DNSSEC validation failed (bogus)",
	};

	if (a->status == RESOLVE_RCODE)
		snprintf(buf, cap, "rcode %d", a->rcode);
	else if (a->status == RESOLVE_FAILED)
		snprintf(buf, cap, "lookup failed: %s", a->why);
	else
		snprintf(buf, cap, "%s", names[a->status]);
	return buf;
}
