/*
 * mx_sts.c - the MTA-STS discovery of one walk (mx_int.h; RFC 8461 §3):
 * the TXT record at _mta-sts.<domain>, then, unless the process already
 * holds the policy of that id (and its max_age has not passed), the
 * addresses of mta-sts.<domain> from our own DNS and the policy from
 * https://mta-sts.<domain>/.well-known/mta-sts.txt over the cycle's multi
 * handle: the address pinned (CURLOPT_CONNECT_TO, never the system
 * resolver), the certificate verified with the route's tls_ca rules, no
 * redirect followed, at most 64 KiB, status 200, text/plain.
 *
 * The cache (process-wide, MX_STS_CACHE domains, the oldest dropped) also
 * serves RFC 8461 §5.1's rule: when no live policy can be had (no TXT
 * record, a failed lookup or fetch) an unexpired cached one still applies.
 * A bogus TXT record gives invalid (SPEC §12), cache or not.
 */
#include "mx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "log.h"

#define MX_STS_CACHE 32

struct cached {
	char domain[DNS_NAME_MAX];
	char id[MTA_STS_ID_MAX];
	int64_t fetched_ns, expires_ns;   /* monotonic */
	struct mta_sts_policy policy;
};

static struct cached *cache[MX_STS_CACHE];

enum stage { S_TXT, S_ADDR, S_FETCH, S_DONE };

struct sts_discovery {
	CURLM *multi;
	const struct route *route;
	const struct budget *budget;
	char domain[DNS_NAME_MAX], host[DNS_NAME_MAX + 8];
	enum stage stage;
	struct dns_query *q_txt, *q_addr[2];
	char id[MTA_STS_ID_MAX];
	CURL *easy;
	bool added;
	struct curl_slist *connect_to;
	char *body;
	size_t len;
	bool over;
	char errbuf[CURL_ERROR_SIZE];
	enum mx_sts state;
	struct mta_sts_policy *policy;    /* owned copy; NULL: none applies */
	char why[200];
};

static struct cached *cache_find(const char *domain, int64_t now)
{
	for (int i = 0; i < MX_STS_CACHE; i++)
		if (cache[i] && strcasecmp(cache[i]->domain, domain) == 0)
			return cache[i]->expires_ns > now ? cache[i] : NULL;
	return NULL;
}

/* The slot for domain: its own, else an empty one, else the oldest. */
static int cache_slot(const char *domain)
{
	int empty = -1, oldest = 0;

	for (int i = 0; i < MX_STS_CACHE; i++) {
		if (!cache[i]) {
			if (empty < 0)
				empty = i;
			continue;
		}
		if (strcasecmp(cache[i]->domain, domain) == 0)
			return i;
		if (cache[oldest] && cache[i]->fetched_ns < cache[oldest]->fetched_ns)
			oldest = i;
	}
	return empty >= 0 ? empty : oldest;
}

static void cache_store(const char *domain, const char *id, const struct mta_sts_policy *p, int64_t now)
{
	int slot = cache_slot(domain);

	if (!cache[slot] && !(cache[slot] = malloc(sizeof(*cache[slot]))))
		return;   /* not cached: fetched again next time */
	snprintf(cache[slot]->domain, sizeof(cache[slot]->domain), "%s", domain);
	snprintf(cache[slot]->id, sizeof(cache[slot]->id), "%s", id);
	cache[slot]->policy = *p;
	cache[slot]->fetched_ns = now;
	cache[slot]->expires_ns = now + (int64_t)p->max_age * NS_PER_S;
}

/* The outcome: a policy (copied), or none with state and why. */
static void finish(struct sts_discovery *s, const struct mta_sts_policy *p, enum mx_sts none_state, const char *why)
{
	s->stage = S_DONE;
	if (p && p->mode != MTA_STS_MODE_NONE && (s->policy = malloc(sizeof(*s->policy))) != NULL) {
		*s->policy = *p;
		s->state = p->mode == MTA_STS_MODE_ENFORCE ? MX_STS_ENFORCE : MX_STS_TESTING;
	} else {
		s->state = p ? MX_STS_NONE : none_state;
	}
	if (why)
		snprintf(s->why, sizeof(s->why), "%s", why);
	log_debug("%s/smtp mta-sts %s: %s%s%s", s->route->name, s->domain,
	          s->state == MX_STS_ENFORCE ? "enforce" : s->state == MX_STS_TESTING ? "testing"
	          : s->state == MX_STS_INVALID ? "invalid" : "none", why ? ": " : "", why ? why : "");
}

/* No live policy: an unexpired cached one applies (RFC 8461 §5.1). */
static void cached_or(struct sts_discovery *s, enum mx_sts state, const char *why, int64_t now)
{
	const struct cached *c = cache_find(s->domain, now);
	char text[300];

	if (!c) {
		finish(s, NULL, state, why);
		return;
	}
	snprintf(text, sizeof(text), "the cached policy (id %s) applies%s%s", c->id, why ? "; " : "", why ? why : "");
	finish(s, &c->policy, state, text);
}

struct sts_discovery *mx_sts_start(CURLM *multi, const struct route *r, const char *domain,
                            const struct budget *b, char *err, size_t errlen)
{
	struct sts_discovery *s = calloc(1, sizeof(*s));
	char name[DNS_NAME_MAX + 16];

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->multi = multi;
	s->route = r;
	s->budget = b;
	snprintf(s->domain, sizeof(s->domain), "%s", domain);
	snprintf(s->host, sizeof(s->host), "mta-sts.%s", domain);
	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	s->q_txt = dns_start(name, DNS_T_TXT, b->deadline_ns, err, errlen);
	if (!s->q_txt) {
		free(s);
		return NULL;
	}
	return s;
}

/* The TXT answer: the id, or the outcome. */
static void on_txt(struct sts_discovery *s, const struct dns_answer *a, int64_t now)
{
	char text[8][512], why[200] = "";
	const char *rec[8];
	size_t n = 0;
	int rc;
	const struct cached *c;

	if (a->status == DNS_BOGUS) {
		snprintf(why, sizeof(why), "the _mta-sts TXT record is bogus (DNSSEC): %.150s", a->why);
		finish(s, NULL, MX_STS_INVALID, why);
		return;
	}
	if (a->status != DNS_ANSWERED) {
		snprintf(why, sizeof(why), "TXT lookup: %.150s", a->why);
		cached_or(s, MX_STS_INVALID, why, now);
		return;
	}
	for (size_t i = 0; i < a->n && n < 8; i++)
		if (dns_rr_txt(a->rr[i].data, a->rr[i].len, text[n], sizeof(text[n])))
			rec[n] = text[n], n++;
	rc = mta_sts_txt(rec, n, s->id, why, sizeof(why));
	if (rc <= 0) {
		cached_or(s, rc == 0 ? MX_STS_NONE : MX_STS_INVALID, rc == 0 ? NULL : why, now);
		return;
	}
	c = cache_find(s->domain, now);
	if (c && strcmp(c->id, s->id) == 0) {
		finish(s, &c->policy, MX_STS_NONE, NULL);   /* the same id: no fetch */
		return;
	}
	s->q_addr[0] = dns_start(s->host, DNS_T_A, s->budget->deadline_ns, why, sizeof(why));
	s->q_addr[1] = s->q_addr[0] ? dns_start(s->host, DNS_T_AAAA, s->budget->deadline_ns, why, sizeof(why)) : NULL;
	if (!s->q_addr[1]) {
		cached_or(s, MX_STS_INVALID, why, now);
		return;
	}
	s->stage = S_ADDR;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sts_discovery *s = ud;
	size_t n = size * nmemb;

	if (n > MTA_STS_BODY_MAX - s->len) {
		s->over = true;
		return 0;   /* CURLE_WRITE_ERROR */
	}
	if (!s->body && !(s->body = malloc(MTA_STS_BODY_MAX)))
		return 0;
	memcpy(s->body + s->len, data, n);
	s->len += n;
	return n;
}

#define SET(opt, val) CONN_SETOPT(s->easy, opt, val)

/* GET the policy from addr, pinned. */
static int start_fetch(struct sts_discovery *s, const char *addr, char *err, size_t errlen)
{
	char url[DNS_NAME_MAX + 64], entry[DNS_NAME_MAX + 80];
	bool v6 = strchr(addr, ':') != NULL;
	long left = budget_left_ms(s->budget, clock_mono_ns());
	long connect_ms = s->route->connect_timeout_ms < left ? s->route->connect_timeout_ms : left;

	snprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", s->host);
	snprintf(entry, sizeof(entry), "%s:443:%s%s%s:443", s->host, v6 ? "[" : "", addr, v6 ? "]" : "");
	s->connect_to = curl_slist_append(NULL, entry);
	s->easy = curl_easy_init();
	if (!s->connect_to || !s->easy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_CONNECT_TO, s->connect_to);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, s->errbuf);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms > 0 ? connect_ms : 1L);
	SET(CURLOPT_TIMEOUT_MS, left > 0 ? left : 1L);
#if LIBCURL_VERSION_NUM >= 0x075700
	SET(CURLOPT_QUICK_EXIT, 1L);
#endif
	SET(CURLOPT_USERAGENT, "mail-e2e");
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, s);
	if (conn_set_tls(s->easy, s->route, err, errlen) != 0 || conn_multi_add(s->multi, s->easy, err, errlen) != 0)
		return -1;
	s->added = true;
	s->stage = S_FETCH;
	log_debug("%s/smtp mta-sts: GET %s from [%s]:443", s->route->name, url, addr);
	return 0;
fail:
	return -1;
}

/* The addresses of mta-sts.<domain>: the fetch, or the outcome. */
static void on_addrs(struct sts_discovery *s, int64_t now)
{
	char addr[DNS_ADDR_TEXT_MAX] = "", why[200] = "";

	for (int k = 0; k < 2; k++) {
		const struct dns_answer *a = dns_answer(s->q_addr[k]);
		if (a->status == DNS_BOGUS && !why[0])
			snprintf(why, sizeof(why), "the address of %.60s is bogus (DNSSEC): %.100s", s->host, a->why);
		else if (a->status == DNS_ANSWERED && !addr[0] && a->n > 0)
			dns_rr_addr(a->rr[0].data, a->rr[0].len, addr, sizeof(addr));
		dns_free(s->q_addr[k]);
		s->q_addr[k] = NULL;
	}
	if (!why[0] && !addr[0])
		snprintf(why, sizeof(why), "%.100s has no address", s->host);
	if (why[0] || start_fetch(s, addr, why, sizeof(why)) != 0)
		cached_or(s, MX_STS_INVALID, why, now);
}

bool mx_sts_step(struct sts_discovery *s, int64_t now)
{
	if (s->stage == S_TXT && dns_done(s->q_txt, now)) {
		on_txt(s, dns_answer(s->q_txt), now);
		dns_free(s->q_txt);
		s->q_txt = NULL;
	}
	if (s->stage == S_ADDR && dns_done(s->q_addr[0], now) && dns_done(s->q_addr[1], now))
		on_addrs(s, now);
	return s->stage == S_DONE;
}

bool mx_sts_owns(const struct sts_discovery *s, CURL *easy)
{
	return s->easy && s->easy == easy;
}

/* What the fetch gave: the policy, or why not. */
static bool fetched(struct sts_discovery *s, CURLcode code, struct mta_sts_policy *p, char *why, size_t cap)
{
	long status = 0;
	char *type = NULL;

	if (code == CURLE_WRITE_ERROR && s->over)
		snprintf(why, cap, "the policy is larger than %d KiB", MTA_STS_BODY_MAX / 1024);
	else if (code != CURLE_OK)
		snprintf(why, cap, "policy fetch: %.150s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(code));
	else if (curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
		snprintf(why, cap, "policy fetch: HTTP %ld%s", status,
		         status >= 300 && status < 400 ? " (a redirect: not followed, RFC 8461 §3.3)" : "");
	else if (curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &type) != CURLE_OK || !type ||
	         strncasecmp(type, "text/plain", 10) != 0 || (type[10] && type[10] != ';' && type[10] != ' '))
		snprintf(why, cap, "the policy is served as %.60s, not text/plain", type ? type : "(no type)");
	else
		return mta_sts_policy_parse(s->body ? s->body : "", s->len, p, why, cap);
	return false;
}

void mx_sts_on_done(struct sts_discovery *s, CURL *easy, CURLcode code)
{
	struct mta_sts_policy *p = malloc(sizeof(*p));
	int64_t now = clock_mono_ns();
	char why[200] = "out of memory";

	if (easy != s->easy || s->stage != S_FETCH) {
		free(p);
		return;
	}
	if (p && fetched(s, code, p, why, sizeof(why))) {
		log_debug("%s/smtp mta-sts: %s: policy id %s fetched (%zu bytes, max_age %ld)", s->route->name,
		          s->domain, s->id, s->len, p->max_age);
		cache_store(s->domain, s->id, p, now);
		finish(s, p, MX_STS_NONE, NULL);
	} else {
		cached_or(s, MX_STS_INVALID, why, now);
	}
	free(p);
}

enum mx_sts mx_sts_state(const struct sts_discovery *s) { return s->state; }
const struct mta_sts_policy *mx_sts_policy(const struct sts_discovery *s) { return s->policy; }
const char *mx_sts_why(const struct sts_discovery *s) { return s->why; }

int64_t mx_sts_next_timer(const struct sts_discovery *s)
{
	return s->stage == S_TXT || s->stage == S_ADDR ? s->budget->deadline_ns : 0;
}

void mx_sts_free(struct sts_discovery *s)
{
	if (!s)
		return;
	dns_free(s->q_txt);
	dns_free(s->q_addr[0]);
	dns_free(s->q_addr[1]);
	if (s->easy) {
		if (s->added)
			curl_multi_remove_handle(s->multi, s->easy);
		curl_easy_cleanup(s->easy);
	}
	curl_slist_free_all(s->connect_to);
	free(s->body);
	free(s->policy);
	free(s);
}

void mx_sts_cache_free(void)
{
	for (int i = 0; i < MX_STS_CACHE; i++) {
		free(cache[i]);
		cache[i] = NULL;
	}
}
