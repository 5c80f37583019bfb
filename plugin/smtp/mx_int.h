/*
 * mx_int.h - the inside of the MX walk (mx.h), shared by mx.c (the walk:
 * its phases, the connections, the verdict), mx_hosts.c (the MX hosts and
 * their lookups), mx_vet.c (a held connection's TLS session against the
 * policy) and mx_sts.c's face below (the MTA-STS discovery), and nobody
 * else.  All memory is the walk's; msg and token are the caller's.
 */
#ifndef MAIL_E2E_SMTP_MX_INT_H
#define MAIL_E2E_SMTP_MX_INT_H

#include "dns.h"
#include "mta_sts.h"
#include "mx.h"
#include "smtp_conn.h"

#define MX_HOSTS_MAX 10          /* MX hosts tried at most (Postfix: 5 addresses) */
#define MX_ADDRS_MAX 8           /* addresses per host */

enum mx_tlsa {
	MX_TLSA_NOT_ASKED = 0,   /* the MX answer was not secure: DANE cannot apply */
	MX_TLSA_NONE,            /* no TLSA, or not validated */
	MX_TLSA_USABLE,          /* validated, with a usable record */
	MX_TLSA_UNUSABLE,        /* validated, none usable (PKIX-TA/EE only, ...) */
	MX_TLSA_FAILED,          /* the lookup failed: the host cannot be used securely */
	MX_TLSA_BOGUS,
};

enum { MX_Q_A, MX_Q_AAAA, MX_Q_TLSA, MX_Q_N };

struct mx_host {
	char name[DNS_NAME_MAX];
	unsigned pref;
	struct dns_query *q[MX_Q_N];   /* NULL: not asked, or digested */
	bool ready;                    /* every answer digested */
	char addr[MX_ADDRS_MAX][DNS_ADDR_TEXT_MAX];
	size_t n_addr, next_addr;
	bool addr_secure;              /* every answer that gave an address was validated */
	bool bogus;                    /* an A, AAAA or TLSA answer was bogus (why) */
	char why[300];                 /* no address / bogus / TLSA failure: in words */
	enum mx_tlsa tlsa;
	struct dns_tlsa *set;          /* the TLSA records (tlsa USABLE/UNUSABLE), owned */
	size_t n_set;
	bool tried;                    /* a TCP connection was attempted */
};

/* --- the MTA-STS discovery (mx_sts.c) ------------------------------------- */

struct sts_discovery;
/* Starts with the _mta-sts TXT lookup; NULL (err) when it cannot start. */
struct sts_discovery *mx_sts_start(CURLM *multi, const struct route *r, const char *domain,
                            const struct budget *b, char *err, size_t errlen);
bool mx_sts_owns(const struct sts_discovery *s, CURL *easy);
void mx_sts_on_done(struct sts_discovery *s, CURL *easy, CURLcode code);
/* Advances; true once the outcome is in: state (none, testing, enforce,
 * invalid) and the policy that applies (NULL: none; valid until
 * mx_sts_free()), why says what made it invalid. */
bool mx_sts_step(struct sts_discovery *s, int64_t now);
enum mx_sts mx_sts_state(const struct sts_discovery *s);
const struct mta_sts_policy *mx_sts_policy(const struct sts_discovery *s);
const char *mx_sts_why(const struct sts_discovery *s);
int64_t mx_sts_next_timer(const struct sts_discovery *s);   /* 0: none */
/* The process's cached policies, dropped (at exit). */
void mx_sts_cache_free(void);
void mx_sts_free(struct sts_discovery *s);

/* --- the walk -------------------------------------------------------------- */

enum mx_phase { MX_LOOKUP, MX_HOSTS, MX_DONE };

struct mx_walk {
	CURLM *multi;
	const struct route *route;
	const struct budget *budget;
	const char *token, *msg;
	size_t msg_len;
	char domain[DNS_NAME_MAX];
	enum mx_phase phase;
	struct dns_query *q_mx, *q_rpt;
	bool have_hosts, mx_secure;
	struct mx_host *hosts;
	size_t n_hosts, cur;           /* the host tried now, or next */
	struct sts_discovery *sts;
	bool sts_done;
	const struct mta_sts_policy *policy;   /* that applies; NULL: none */
	bool sts_enforce;              /* follow it as enforce (mode, or require_tls_policy) */
	struct smtp_conn *conn;        /* the host under way */
	struct smtp_conn *closing;     /* the one before, saying QUIT */
	bool conn_dane;                /* DANE applies to the host under way */
	bool conn_met;                 /* its TLS session met the policy that applies */
	struct mx_result res;
	struct smtp_outcome out;
	bool done;
	/* for the verdict when no host accepts */
	struct smtp_outcome last;      /* the last host's outcome */
	bool have_last;
	int policy_failed;             /* hosts that failed an enforced policy */
	bool policy_applied, policy_met;   /* any tried host had a policy / met it */
	bool dane_failed, dane_passed, dane_unusable;
	char policy_why[RESULT_ERROR_MAX];
};

/* Why the walk ends before any host. */
struct mx_end {
	enum result_class result;
	char why[RESULT_ERROR_MAX];
};

/* mx_hosts.c: the MX answer into hosts (sorted, equal preferences
 * shuffled, the domain itself when there is no MX; mx_order.c); false
 * when the walk ends here (null MX, no such domain, a failed or bogus
 * lookup), with end saying why.  Starts each host's lookups. */
bool mx_hosts_from_answer(struct mx_walk *w, const struct dns_answer *a, struct mx_end *end);
/* Digest the answers that came for host h; true once h is ready. */
bool mx_host_poll(struct mx_walk *w, struct mx_host *h, int64_t now);
void mx_hosts_free(struct mx_walk *w);

/* mx_vet.c: a held connection to host h: judge its TLS session, then
 * release it (the transaction goes on) or refuse it (QUIT, nothing sent). */
void mx_vet(struct mx_walk *w, struct mx_host *h);

#endif
