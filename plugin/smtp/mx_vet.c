/*
 * mx_vet.c - a held MX connection's TLS session judged against the policy
 * that applies (SPEC §12), before MAIL FROM:
 *
 *   DANE (a usable, validated TLSA set for the host): the chain matches
 *        (dane.c); takes precedence over MTA-STS (RFC 8461 §2), unless
 *        require_tls_policy names mta-sts, which then must hold as well
 *   MTA-STS (mode enforce or testing): STARTTLS, and a certificate valid
 *        for the host name under the route's tls_ca (pkix.c), for a host
 *        the policy lists
 *   none: opportunistic, whatever the session
 *
 * A host that fails an enforced policy (DANE, MTA-STS enforce or a
 * required one) is refused: QUIT, nothing sent, the next host.  mx_tls
 * says what the session was: verified (by DANE where it applies, else by
 * tls_ca and the host name), unverified, none.
 */
#include "mx_int.h"

#include <stdio.h>
#include <string.h>

#include "dane.h"
#include "log.h"
#include "pkix.h"

struct verdict {
	bool tls, pkix, dane, sts_listed;
	char pkix_why[200], dane_why[300];
};

static void judge(struct mx_walk *w, struct mx_host *h, struct verdict *v)
{
	STACK_OF(X509) *chain = smtp_conn_peer_chain(w->conn);

	memset(v, 0, sizeof(*v));
	v->tls = chain != NULL;
	if (v->tls)
		v->pkix = pkix_verify(chain, w->route->tls_ca, h->name, v->pkix_why, sizeof(v->pkix_why));
	else
		snprintf(v->pkix_why, sizeof(v->pkix_why), "no STARTTLS");
	if (w->conn_dane && v->tls)
		v->dane = dane_verify(h->set, h->n_set, chain, h->name, v->dane_why, sizeof(v->dane_why));
	else if (w->conn_dane)
		snprintf(v->dane_why, sizeof(v->dane_why), "no STARTTLS: DANE needs TLS");
	v->sts_listed = w->policy && mta_sts_mx_match(w->policy, h->name);
}

/* Why an enforced policy refuses h, in words. */
static void refusal(struct mx_walk *w, struct mx_host *h, const struct verdict *v, bool sts_applies)
{
	if (w->conn_dane && !v->dane)
		snprintf(w->policy_why, sizeof(w->policy_why), "DANE: %.80s: %.160s", h->name, v->dane_why);
	else if (sts_applies && !v->sts_listed)
		snprintf(w->policy_why, sizeof(w->policy_why), "MTA-STS%s: %.100s is not listed in the policy",
		         w->sts_enforce ? " enforce" : "", h->name);
	else
		snprintf(w->policy_why, sizeof(w->policy_why), "MTA-STS%s: %.80s: %s%.120s", w->sts_enforce ? " enforce" : "",
		         h->name, v->tls ? "certificate not valid: " : "", v->pkix_why);
}

void mx_vet(struct mx_walk *w, struct mx_host *h)
{
	struct verdict v;
	bool sts_applies = w->policy && w->policy->mode != MTA_STS_MODE_NONE &&
	                   (!w->conn_dane || (w->route->require_tls_policy & TLS_POLICY_MTA_STS));
	bool sts_met, enforced;

	judge(w, h, &v);
	sts_met = v.tls && v.pkix && v.sts_listed;
	w->conn_met = (!w->conn_dane || v.dane) && (!sts_applies || sts_met);
	w->res.tls = !v.tls ? MX_TLS_NONE : (w->conn_dane ? v.dane : v.pkix) ? MX_TLS_VERIFIED : MX_TLS_UNVERIFIED;
	if (w->conn_dane || sts_applies) {
		w->policy_applied = true;
		w->policy_met |= w->conn_met;
	}
	w->dane_passed |= w->conn_dane && v.dane;
	enforced = w->conn_dane || (sts_applies && w->sts_enforce);
	if (enforced && !w->conn_met) {
		w->policy_failed++;
		w->dane_failed |= w->conn_dane && !v.dane;
		refusal(w, h, &v, sts_applies);
		log_debug("%s/smtp mx: %s refused, nothing sent: %s", w->route->name, h->name, w->policy_why);
		smtp_conn_refuse(w->conn, RESULT_TLS_POLICY_FAILED, "%s", w->policy_why);
		return;
	}
	log_debug("%s/smtp mx: %s: TLS %s%s%s%s", w->route->name, h->name,
	          v.tls ? (w->res.tls == MX_TLS_VERIFIED ? "verified" : "unverified") : "none",
	          w->conn_dane ? ", " : v.tls && !v.pkix ? " (" : "",
	          w->conn_dane ? v.dane_why : v.tls && !v.pkix ? v.pkix_why : "",
	          !w->conn_dane && v.tls && !v.pkix ? ")" : "");
	smtp_conn_release(w->conn);
}
