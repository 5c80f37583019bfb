/*
 * mx_hosts.c - the MX hosts of a walk (mx_int.h): from the MX answer
 * (RFC 5321 §5.1: by preference, equal ones in random order; no MX
 * record: the domain itself; RFC 7505: a null MX refuses mail), and each
 * host's lookups: A and AAAA, and TLSA at _<mx_port>._tcp.<host> where the
 * MX answer was validated (RFC 7672 §2.2: DANE needs a secure MX RRset, a
 * secure address RRset and a secure TLSA RRset).
 */
#include "mx_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dane.h"
#include "log.h"
#include "mx_order.h"

static uint32_t random32(void *ctx)
{
	(void)ctx;
	return arc4random();
}

static bool ended(struct mx_end *end, enum result_class r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool ended(struct mx_end *end, enum result_class r, const char *fmt, ...)
{
	va_list ap;

	end->result = r;
	va_start(ap, fmt);
	vsnprintf(end->why, sizeof(end->why), fmt, ap);
	va_end(ap);
	return false;
}

/* Each host's A, AAAA and (MX answer secure) TLSA lookups. */
static bool start_lookups(struct mx_walk *w, struct mx_end *end)
{
	int64_t deadline = w->budget->deadline_ns;
	char name[DNS_NAME_MAX + 16], err[RESULT_ERROR_MAX];

	for (size_t i = 0; i < w->n_hosts; i++) {
		struct mx_host *h = &w->hosts[i];
		h->addr_secure = true;
		h->q[MX_Q_A] = dns_start(h->name, DNS_T_A, deadline, err, sizeof(err));
		h->q[MX_Q_AAAA] = h->q[MX_Q_A] ? dns_start(h->name, DNS_T_AAAA, deadline, err, sizeof(err)) : NULL;
		if (!h->q[MX_Q_A] || !h->q[MX_Q_AAAA])
			return ended(end, RESULT_INTERNAL_ERROR, "%s", err);
		if (!w->mx_secure)
			continue;
		snprintf(name, sizeof(name), "_%d._tcp.%s", w->route->mx_port, h->name);
		h->tlsa = MX_TLSA_NONE;
		if (dns_name_valid(name) && !(h->q[MX_Q_TLSA] = dns_start(name, DNS_T_TLSA, deadline, err, sizeof(err))))
			return ended(end, RESULT_INTERNAL_ERROR, "%s", err);
	}
	return true;
}

/* Does the answer end the walk before any host?  Then end says why. */
static bool mx_answer_ends(struct mx_walk *w, const struct dns_answer *a, struct mx_end *end)
{
	if (a->status == DNS_BOGUS) {
		w->res.dane = MX_DANE_BOGUS;
		w->res.policy = MX_POLICY_FAIL;
		ended(end, RESULT_TLS_POLICY_FAILED, "DNSSEC: the MX records of %s are bogus: %s", w->domain, a->why);
	} else if (a->status != DNS_ANSWERED) {
		ended(end, RESULT_SMTP_CONNECT_FAILED, "DNS: MX lookup of %s: %s", w->domain, a->why);
	} else if (a->nxdomain) {
		ended(end, RESULT_SMTP_CONNECT_FAILED, "DNS: %s does not exist (NXDOMAIN)", w->domain);
	} else {
		return false;
	}
	return true;
}

bool mx_hosts_from_answer(struct mx_walk *w, const struct dns_answer *a, struct mx_end *end)
{
	struct mx_name found[MX_HOSTS_MAX];
	int n = 1;

	if (mx_answer_ends(w, a, end))
		return false;
	w->mx_secure = a->secure;
	if (a->n == 0) {
		/* RFC 5321 §5.1: no MX, the domain itself (the implicit MX). */
		memset(&found[0], 0, sizeof(found[0]));
		snprintf(found[0].name, sizeof(found[0].name), "%s", w->domain);
	} else if ((n = mx_order(a->rr, a->n, found, MX_HOSTS_MAX, random32, NULL)) == MX_ORDER_NULL) {
		return ended(end, RESULT_SMTP_REJECTED, "%s publishes a null MX (RFC 7505: \"MX 0 .\"): it accepts "
		             "no mail", w->domain);
	} else if (n == 0) {
		return ended(end, RESULT_SMTP_CONNECT_FAILED, "DNS: no usable MX record for %s", w->domain);
	}
	w->hosts = calloc((size_t)n, sizeof(*w->hosts));
	if (!w->hosts)
		return ended(end, RESULT_INTERNAL_ERROR, "out of memory");
	for (int i = 0; i < n; i++) {
		memcpy(w->hosts[i].name, found[i].name, sizeof(w->hosts[i].name));   /* both DNS_NAME_MAX */
		w->hosts[i].pref = found[i].pref;
		log_debug("%s/smtp mx: %d. %s (preference %u)%s", w->route->name, i + 1, w->hosts[i].name,
		          w->hosts[i].pref, a->n == 0 ? " (no MX record: the domain itself)" : "");
	}
	w->n_hosts = (size_t)n;
	return start_lookups(w, end);
}

/* An A or AAAA answer: its addresses. */
static void take_addrs(struct mx_host *h, const struct dns_answer *a, const char *type)
{
	if (a->status == DNS_BOGUS) {
		h->bogus = true;
		snprintf(h->why, sizeof(h->why), "DNSSEC: the %s records of %.80s are bogus: %.160s", type, h->name, a->why);
		return;
	}
	if (a->status != DNS_ANSWERED || a->n == 0) {
		if (!h->why[0])
			snprintf(h->why, sizeof(h->why), "%.80s: no address (%s %.80s)", h->name, type,
			         a->status != DNS_ANSWERED ? a->why : a->nxdomain ? "NXDOMAIN" : "none");
		return;
	}
	if (!a->secure)
		h->addr_secure = false;
	for (size_t i = 0; i < a->n && h->n_addr < MX_ADDRS_MAX; i++)
		if (dns_rr_addr(a->rr[i].data, a->rr[i].len, h->addr[h->n_addr], sizeof(h->addr[0])))
			h->n_addr++;
}

/* The TLSA answer (RFC 7672 §2.2). */
static void take_tlsa(struct mx_host *h, const struct dns_answer *a)
{
	if (a->status == DNS_BOGUS) {
		h->bogus = true;
		h->tlsa = MX_TLSA_BOGUS;
		snprintf(h->why, sizeof(h->why), "DNSSEC: the TLSA records of %.80s are bogus: %.160s", h->name, a->why);
		return;
	}
	if (a->status != DNS_ANSWERED) {
		h->tlsa = MX_TLSA_FAILED;
		snprintf(h->why, sizeof(h->why), "%.80s: TLSA lookup: %.100s", h->name, a->why);
		return;
	}
	if (!a->secure || a->n == 0)
		return;   /* MX_TLSA_NONE */
	h->set = calloc(a->n, sizeof(*h->set));
	if (!h->set) {
		h->tlsa = MX_TLSA_FAILED;
		snprintf(h->why, sizeof(h->why), "out of memory");
		return;
	}
	for (size_t i = 0; i < a->n; i++)
		if (dns_rr_tlsa(a->rr[i].data, a->rr[i].len, &h->set[h->n_set]))
			h->n_set++;
	h->tlsa = dane_set_usable(h->set, h->n_set) ? MX_TLSA_USABLE : MX_TLSA_UNUSABLE;
}

bool mx_host_poll(struct mx_walk *w, struct mx_host *h, int64_t now)
{
	static const char *const type[MX_Q_N] = { "A", "AAAA", "TLSA" };

	(void)w;
	if (h->ready)
		return true;
	for (int k = 0; k < MX_Q_N; k++) {
		/* A before AAAA, whichever came first: the addresses in one order. */
		if (!h->q[k] || !dns_done(h->q[k], now) || (k == MX_Q_AAAA && h->q[MX_Q_A]))
			continue;
		if (k == MX_Q_TLSA)
			take_tlsa(h, dns_answer(h->q[k]));
		else
			take_addrs(h, dns_answer(h->q[k]), type[k]);
		dns_free(h->q[k]);
		h->q[k] = NULL;
	}
	for (int k = 0; k < MX_Q_N; k++)
		if (h->q[k])
			return false;
	/* An address from an insecure answer: its TLSA records cannot be
	 * trusted to name the host (RFC 7672 §2.2.2). */
	if (!h->addr_secure && !h->bogus && h->tlsa != MX_TLSA_NOT_ASKED)
		h->tlsa = MX_TLSA_NONE;
	h->ready = true;
	return true;
}

void mx_hosts_free(struct mx_walk *w)
{
	for (size_t i = 0; i < w->n_hosts; i++) {
		for (int k = 0; k < MX_Q_N; k++)
			dns_free(w->hosts[i].q[k]);
		free(w->hosts[i].set);
	}
	free(w->hosts);
	w->hosts = NULL;
	w->n_hosts = 0;
}
