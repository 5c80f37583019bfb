/*
 * dns.c - see dns.h.
 *
 * libunbound in thread mode (ub_ctx_async(ctx, 1)): one background thread
 * resolves and validates; ub_process() in our thread runs the callbacks.
 * The thread is made at the first lookup, with every signal blocked, so
 * the process's signal handlers keep running in the main thread only.
 *
 * Built-in local zones: libunbound answers test., invalid., onion.,
 * localhost. and the other RFC 6761-style names itself (NXDOMAIN,
 * insecure) and never asks the resolver; "nodefault" does not undo that in
 * Debian 12's 1.17, "transparent" does (measured: tests/mailstack/
 * mxworld.notes.md).  So every such zone is made transparent: with no
 * local data in it, every name under it is resolved like any other.
 */
#include "dns.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "clock.h"
#include "log.h"

struct dns_query {
	int id;                    /* libunbound's async id */
	bool pending;              /* asked, no answer yet */
	unsigned long generation;  /* the context it was asked of */
	char name[DNS_NAME_MAX];
	int type;
	int64_t start_ns, deadline_ns;
	struct dns_answer ans;
	unsigned char *blob;       /* the records, copied */
};

static struct ub_ctx *ctx;
static unsigned long generation;   /* bumped when ctx is dropped */
static char want_resolver[64], want_anchor[4096];
static bool want_set;
static unsigned long lookups, in_flight;

static const char *const transparent[] = {
	"test.", "invalid.", "onion.", "localhost.", "home.arpa.", "resolver.arpa.",
	"service.arpa.",
};

static void drop_ctx(void)
{
	if (!ctx)
		return;
	ub_ctx_delete(ctx);   /* pending queries die with it: never called back */
	ctx = NULL;
	generation++;
	in_flight = 0;
}

void dns_configure(const char *resolver, const char *anchor)
{
	const char *a = anchor ? anchor : DNS_ROOT_KEY;
	const char *r = resolver ? resolver : "";

	if (want_set && strcmp(r, want_resolver) == 0 && strcmp(a, want_anchor) == 0)
		return;
	drop_ctx();
	snprintf(want_resolver, sizeof(want_resolver), "%s", r);
	snprintf(want_anchor, sizeof(want_anchor), "%s", a);
	want_set = true;
}

static int set_options(struct ub_ctx *c, char *err, size_t errlen)
{
	char ip[DNS_ADDR_TEXT_MAX], fwd[DNS_ADDR_TEXT_MAX + 8], zone[40];
	int port, rc = ub_ctx_async(c, 1);

	if (rc == 0 && want_resolver[0]) {
		if (!dns_parse_server(want_resolver, ip, sizeof(ip), &port)) {
			snprintf(err, errlen, "resolver %s: not IP[:port]", want_resolver);
			return -1;
		}
		snprintf(fwd, sizeof(fwd), "%s@%d", ip, port);
		rc = ub_ctx_set_fwd(c, fwd);
	} else if (rc == 0) {
		rc = ub_ctx_resolvconf(c, NULL);
	}
	for (size_t i = 0; rc == 0 && i < sizeof(transparent) / sizeof(transparent[0]); i++) {
		snprintf(zone, sizeof(zone), "%s transparent", transparent[i]);
		rc = ub_ctx_set_option(c, "local-zone:", zone);
	}
	if (rc == 0)
		rc = ub_ctx_add_ta_file(c, want_anchor);
	if (rc != 0) {
		snprintf(err, errlen, "DNS setup: %s", ub_strerror(rc));
		return -1;
	}
	return 0;
}

static struct ub_ctx *get_ctx(char *err, size_t errlen)
{
	struct ub_ctx *c;

	if (ctx)
		return ctx;
	if (!want_set)
		dns_configure(NULL, NULL);
	c = ub_ctx_create();
	if (!c) {
		snprintf(err, errlen, "DNS setup: out of memory");
		return NULL;
	}
	if (set_options(c, err, errlen) != 0) {
		ub_ctx_delete(c);
		return NULL;
	}
	ctx = c;
	return ctx;
}

/* Copy what libunbound found into the query, then free its result. */
static void take_result(struct dns_query *q, struct ub_result *r)
{
	struct dns_answer *a = &q->ans;
	size_t n = 0, bytes = 0;

	a->rcode = r->rcode;
	a->secure = r->secure != 0;
	a->nxdomain = r->nxdomain != 0;
	if (r->bogus) {
		a->status = DNS_BOGUS;
		snprintf(a->why, sizeof(a->why), "%s", r->why_bogus ? r->why_bogus : "DNSSEC validation failed");
	} else if (r->rcode != 0 && r->rcode != 3) {
		a->status = DNS_FAILED;
		snprintf(a->why, sizeof(a->why), "%s", r->rcode == 2 ? "SERVFAIL" : r->rcode == 5 ? "REFUSED"
		         : "the resolver's error");
	} else {
		a->status = DNS_ANSWERED;
	}
	for (; r->havedata && r->data[n]; n++)
		bytes += (size_t)r->len[n];
	if (a->status == DNS_ANSWERED && n > 0) {
		q->blob = malloc(bytes + n * sizeof(*a->rr));
		if (!q->blob) {
			a->status = DNS_FAILED;
			snprintf(a->why, sizeof(a->why), "out of memory");
		} else {
			unsigned char *p = q->blob + n * sizeof(*a->rr);
			a->rr = (struct dns_rdata *)(void *)q->blob;
			for (size_t i = 0; i < n; i++) {
				memcpy(p, r->data[i], (size_t)r->len[i]);
				a->rr[i].data = p;
				a->rr[i].len = (size_t)r->len[i];
				p += r->len[i];
			}
			a->n = n;
		}
	}
	ub_resolve_free(r);
}

static void on_result(void *ud, int err, struct ub_result *r)
{
	struct dns_query *q = ud;

	q->pending = false;
	in_flight--;
	q->ans.took_ns = clock_mono_ns() - q->start_ns;
	if (err != 0) {
		q->ans.status = DNS_FAILED;
		snprintf(q->ans.why, sizeof(q->ans.why), "%s", ub_strerror(err));
		if (r)
			ub_resolve_free(r);
	} else {
		take_result(q, r);
	}
	if (log_trace_enabled())
		log_debug("dns: %s %s: %s%s%s, %zu record(s), %.1f ms", dns_type_name(q->type), q->name,
		          q->ans.status == DNS_ANSWERED ? (q->ans.nxdomain ? "NXDOMAIN" : "answered")
		          : q->ans.status == DNS_BOGUS ? "BOGUS" : "failed",
		          q->ans.status == DNS_ANSWERED ? (q->ans.secure ? " (secure)" : " (insecure)") : ": ",
		          q->ans.status == DNS_ANSWERED ? "" : q->ans.why, q->ans.n,
		          (double)q->ans.took_ns / NS_PER_MS);
}

/* The first lookup makes libunbound's thread: it inherits a full signal
 * mask, so signals stay with the main thread. */
static int resolve(struct ub_ctx *c, struct dns_query *q)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = ub_resolve_async(c, q->name, q->type, 1 /* IN */, q, on_result, &q->id);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

struct dns_query *dns_start(const char *name, int type, int64_t deadline_ns, char *err, size_t errlen)
{
	struct dns_query *q;
	struct ub_ctx *c;
	int rc;

	if (!dns_name_valid(name)) {
		snprintf(err, errlen, "not a name to look up: %.80s", name);
		return NULL;
	}
	c = get_ctx(err, errlen);
	if (!c)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->type = type;
	q->start_ns = clock_mono_ns();
	q->deadline_ns = deadline_ns;
	q->generation = generation;
	q->pending = true;
	in_flight++;
	lookups++;
	rc = resolve(c, q);
	if (rc != 0) {
		in_flight--;
		snprintf(err, errlen, "DNS lookup of %s: %s%s", name, ub_strerror(rc),
		         rc == UB_INITFAIL ? " (is the trust anchor file valid?)" : "");
		free(q);
		return NULL;
	}
	return q;
}

bool dns_done(struct dns_query *q, int64_t now)
{
	if (q->pending && q->generation != generation) {
		q->pending = false;   /* its context was dropped */
		q->ans.status = DNS_FAILED;
		snprintf(q->ans.why, sizeof(q->ans.why), "the resolver settings changed");
	}
	if (q->pending && now >= q->deadline_ns) {
		if (ctx && ub_cancel(ctx, q->id) == 0)
			in_flight--;
		q->pending = false;
		q->ans.status = DNS_TIMEOUT;
		q->ans.took_ns = now - q->start_ns;
		snprintf(q->ans.why, sizeof(q->ans.why), "no answer within %.1fs",
		         (double)(now - q->start_ns) / NS_PER_S);
		log_debug("dns: %s %s: %s", dns_type_name(q->type), q->name, q->ans.why);
	}
	return !q->pending;
}

const struct dns_answer *dns_answer(const struct dns_query *q)
{
	return &q->ans;
}

int64_t dns_deadline(const struct dns_query *q)
{
	return q->deadline_ns;
}

void dns_free(struct dns_query *q)
{
	if (!q)
		return;
	if (q->pending && ctx && q->generation == generation && ub_cancel(ctx, q->id) == 0)
		in_flight--;
	free(q->blob);
	free(q);
}

int dns_wait_fd(void)
{
	return ctx && in_flight > 0 ? ub_fd(ctx) : -1;
}

void dns_process(void)
{
	if (ctx && ub_process(ctx) != 0)
		log_warn("dns: the resolver thread's pipe failed");
}

unsigned long dns_lookups(void)
{
	return lookups;
}

const char *dns_type_name(int type)
{
	switch (type) {
	case DNS_T_A: return "A";
	case DNS_T_AAAA: return "AAAA";
	case DNS_T_MX: return "MX";
	case DNS_T_TXT: return "TXT";
	case DNS_T_TLSA: return "TLSA";
	default: return "TYPE?";
	}
}

void dns_shutdown(void)
{
	drop_ctx();
	want_set = false;
}
