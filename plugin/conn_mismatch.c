/*
 * conn_mismatch.c - see conn_mismatch.h.
 */
#include "conn_mismatch.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "budget.h"
#include "clock.h"
#include "log.h"

void conn_mismatch_init(struct conn_mismatch *m, const struct conn_params *p)
{
	memset(m, 0, sizeof(*m));
	m->params = *p;
	m->params.username = NULL;
	m->params.password = NULL;
	m->params.bearer = NULL;
	m->tls_key = p->tls_key;
}

/* Only a leg that waits for a plain-text greeting can be on the wrong side. */
static bool may_mismatch(const struct conn_mismatch *m, const struct conn_watch *main)
{
	return !m->tried && m->params.tls != TLS_IMPLICIT && main->t_connect_ns &&
	       !main->greeting_seen;
}

/* The main transfer's connect deadline: libcurl gives up on the greeting then. */
static int64_t connect_deadline(const struct conn_mismatch *m, const struct conn_watch *main)
{
	const struct route *r = m->params.route;
	long ms = r->connect_timeout_ms < m->params.timeout_ms ? r->connect_timeout_ms
	                                                        : m->params.timeout_ms;

	return main->t_start_ns + (int64_t)ms * NS_PER_MS;
}

int64_t conn_mismatch_next_timer(const struct conn_mismatch *m, const struct conn_watch *main)
{
	int64_t half;

	if (!may_mismatch(m, main))
		return 0;
	half = (connect_deadline(m, main) - main->t_start_ns) / 2;
	return main->t_connect_ns + (half < BUDGET_GREETING_PATIENCE_NS ? half : BUDGET_GREETING_PATIENCE_NS);
}

/* The side transfer goes where the leg's went: the address libcurl used. */
static void pin_address(CURL *side, CURL *main_easy, const struct conn_params *p,
                        struct curl_slist **resolve)
{
	char *ip = NULL;
	char entry[600];

	if (curl_easy_getinfo(main_easy, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK || !ip || !*ip)
		return;
	if (snprintf(entry, sizeof(entry), "%s:%d:%s%s%s", p->host, p->port, strchr(ip, ':') ? "[" : "",
	             ip, strchr(ip, ':') ? "]" : "") >= (int)sizeof(entry))
		return;
	*resolve = curl_slist_append(NULL, entry);
	if (*resolve && curl_easy_setopt(side, CURLOPT_RESOLVE, *resolve) != CURLE_OK) {
		curl_slist_free_all(*resolve);
		*resolve = NULL;
	}
}

static void start_side(struct conn_mismatch *m, CURLM *multi, CURL *main_easy,
                       const struct conn_watch *main, int64_t now)
{
	struct conn_params p = m->params;
	char err[160];

	m->tried = true;
	p.tls = TLS_IMPLICIT;
	p.timeout_ms = (connect_deadline(m, main) - now) / NS_PER_MS;
	if (p.timeout_ms < 100)
		return;   /* no time left to learn anything */
	conn_watch_init(&m->watch, main->proto, "mismatch");
	/* The leg's label, so the trace shows whose side connection this is. */
	memcpy(m->watch.label, main->label, sizeof(m->watch.label));
	m->easy = conn_easy_new(&p, &m->watch, err, sizeof(err));
	if (!m->easy ||
	    curl_easy_setopt(m->easy, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK ||
	    curl_easy_setopt(m->easy, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK ||
	    curl_easy_setopt(m->easy, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK) {
		log_debug("%s: no side connection to test for TLS: %s", main->label, m->easy ? "setopt" : err);
		conn_mismatch_free(m);
		return;
	}
	pin_address(m->easy, main_easy, &m->params, &m->resolve);
	if (conn_multi_add(multi, m->easy, err, sizeof(err)) != 0) {
		log_debug("%s: %s", main->label, err);
		conn_mismatch_free(m);
		return;
	}
	m->multi = multi;
	log_debug("%s: no greeting yet: testing whether the port speaks TLS first", main->label);
}

void conn_mismatch_tick(struct conn_mismatch *m, CURLM *multi, CURL *main_easy,
                        const struct conn_watch *main, int64_t now)
{
	int64_t due = conn_mismatch_next_timer(m, main);

	if (due && now >= due)
		start_side(m, multi, main_easy, main, now);
}

static const char *plain_port(enum conn_proto proto)
{
	return proto == CONN_SMTP ? "587" : "143";
}

bool conn_mismatch_found(const struct conn_mismatch *m, char *dst, size_t dstlen)
{
	if (!m->easy || !m->watch.t_tls_ns)
		return false;
	snprintf(dst, dstlen,
	         "%s = %s, but %s:%d sends no greeting and answers a TLS handshake: it wants implicit TLS; "
	         "set %s = tls (or use the STARTTLS port, usually %s)",
	         m->tls_key, m->params.tls == TLS_NONE ? "none" : "starttls", m->params.host, m->params.port,
	         m->tls_key, plain_port(m->watch.proto));
	return true;
}

void conn_mismatch_free(struct conn_mismatch *m)
{
	if (m->easy) {
		if (m->multi)
			curl_multi_remove_handle(m->multi, m->easy);
		curl_easy_cleanup(m->easy);
	}
	curl_slist_free_all(m->resolve);
	m->easy = NULL;
	m->multi = NULL;
	m->resolve = NULL;
}

/* OpenSSL's words when the first bytes from the server were not TLS. */
static const char *const not_tls_words[] = {
	"wrong version number", "unknown protocol", "packet length too long",
};

bool conn_mismatch_implicit_text(CURL *h, const struct conn_watch *w, char *dst, size_t dstlen)
{
	const char *why = w->errbuf;
	const char *words = NULL;
	char *host = NULL;
	long port = 0;

	if (!w->tls_implicit || w->tls_record_in)
		return false;
	for (size_t i = 0; i < sizeof(not_tls_words) / sizeof(not_tls_words[0]); i++)
		if (strstr(why, not_tls_words[i]))
			words = not_tls_words[i];
	if (!words)
		return false;
	if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &host) != CURLE_OK || !host)
		host = "the server";
	curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port);
	snprintf(dst, dstlen,
	         "%s = tls, but %s:%ld speaks plain text first (OpenSSL: %s): set %s = starttls "
	         "(implicit TLS is usually port %s)",
	         w->tls_key, host, port, words, w->tls_key, w->proto == CONN_SMTP ? "465" : "993");
	return true;
}
