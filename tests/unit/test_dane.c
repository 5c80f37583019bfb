/*
 * test_dane.c - table-driven tests of DANE (plugin/dane.c) and the MX
 * certificate check (plugin/pkix.c) on certificates made here, in memory
 * (no key or certificate file is kept): a CA, leaves for the right name and
 * another, self-signed, expired, a wildcard, a private DANE-TA CA with an
 * intermediate.  Every DANE row is also run through OpenSSL's own DANE
 * verifier (SSL_dane_enable/SSL_dane_tlsa_add, offline through
 * X509_STORE_CTX_set0_dane, as OpenSSL's test/danetest.c does, with
 * DANE_FLAG_NO_DANE_EE_NAMECHECKS as RFC 7672 wants): both must agree.
 * With DANE_BENCH=N in the environment it times both N times a row
 * (README's figures).  Linked with dane.c, pkix.c, dns_rr.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dane.h"
#include "pkix.h"
#include "unit.h"

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	if (!k) {
		fprintf(stderr, "no EC key\n");
		exit(2);
	}
	return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e || !X509_add_ext(x, e, -1)) {
		fprintf(stderr, "extension %d\n", nid);
		exit(2);
	}
	X509_EXTENSION_free(e);
}

/* A certificate for key: issued by issuer (NULL: self-signed), names
 * "DNS:..." (NULL: a CA), valid from days_from to days_to from now. */
static X509 *make(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *cn, const char *names,
                  long days_from, long days_to)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), days_from * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), days_to * 86400);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	add_ext(x, issuer ? issuer : x, NID_basic_constraints, names ? "critical,CA:FALSE" : "critical,CA:TRUE");
	if (names)
		add_ext(x, issuer ? issuer : x, NID_subject_alt_name, names);
	else
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

static STACK_OF(X509) *chain_of(X509 *a, X509 *b, X509 *c)
{
	STACK_OF(X509) *s = sk_X509_new_null();
	sk_X509_push(s, a);
	if (b)
		sk_X509_push(s, b);
	if (c)
		sk_X509_push(s, c);
	return s;
}

static struct dns_tlsa rec(int u, int s, int m, X509 *cert)
{
	struct dns_tlsa t = { .usage = (uint8_t)u, .selector = (uint8_t)s, .mtype = (uint8_t)m };
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int len = s == 0 ? i2d_X509(cert, &der) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);

	if (m == 0) {
		memcpy(t.data, der, (size_t)len);
		t.len = (size_t)len;
	} else {
		EVP_Digest(der, (size_t)len, t.data, &mdlen, m == 1 ? EVP_sha256() : EVP_sha512(), NULL);
		t.len = mdlen;
	}
	OPENSSL_free(der);
	return t;
}

static SSL_CTX *openssl_ctx(void)
{
	static SSL_CTX *sctx;

	if (!sctx) {
		sctx = SSL_CTX_new(TLS_client_method());
		if (!sctx || SSL_CTX_dane_enable(sctx) <= 0)
			exit(2);
	}
	return sctx;
}

/* OpenSSL's verdict on the usable records of set (-1: none usable). */
static int openssl_dane(const struct dns_tlsa *set, size_t n, STACK_OF(X509) *chain, const char *host)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	SSL *ssl;
	int added = 0, ok;

	ssl = SSL_new(openssl_ctx());
	if (!ssl || SSL_dane_enable(ssl, host) <= 0)
		exit(2);
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (size_t i = 0; i < n; i++)
		if (dane_usable(&set[i]) &&
		    SSL_dane_tlsa_add(ssl, set[i].usage, set[i].selector, set[i].mtype, set[i].data, set[i].len) > 0)
			added++;
	if (added == 0) {
		ok = -1;
	} else {
		X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), chain);
		X509_STORE_CTX_set_default(ctx, "ssl_server");
		X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(ctx), SSL_get0_param(ssl));
		X509_STORE_CTX_set0_dane(ctx, SSL_get0_dane(ssl));
		ok = X509_verify_cert(ctx) == 1;
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	SSL_free(ssl);
	return ok;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

struct world {
	EVP_PKEY *ca_k, *ta_k, *int_k, *good_k, *old_k, *bad_k, *self_k, *exp_k, *tal_k, *tabad_k, *deep_k, *taexp_k, *wild_k;
	X509 *ca, *ta, *inter, *good, *old, *bad, *self, *exp, *tal, *tabad, *deep, *taexp, *wild;
};

static void make_world(struct world *w)
{
	w->ca_k = new_key(); w->ta_k = new_key(); w->int_k = new_key(); w->good_k = new_key();
	w->old_k = new_key(); w->bad_k = new_key(); w->self_k = new_key(); w->exp_k = new_key();
	w->tal_k = new_key(); w->tabad_k = new_key(); w->deep_k = new_key(); w->taexp_k = new_key();
	w->wild_k = new_key();
	w->ca = make(w->ca_k, NULL, NULL, "test CA", NULL, -1, 30);
	w->ta = make(w->ta_k, NULL, NULL, "DANE-TA CA", NULL, -1, 30);
	w->inter = make(w->int_k, w->ta, w->ta_k, "DANE-TA intermediate", NULL, -1, 30);
	w->good = make(w->good_k, w->ca, w->ca_k, "mx.good.test", "DNS:mx.good.test", -1, 3);
	w->old = make(w->old_k, w->ca, w->ca_k, "mx.good.test", "DNS:mx.good.test", -1, 3);
	w->bad = make(w->bad_k, w->ca, w->ca_k, "not-the-mx.test", "DNS:not-the-mx.test", -1, 3);
	w->self = make(w->self_k, NULL, NULL, "mx.good.test", "DNS:mx.good.test", -1, 3);
	w->exp = make(w->exp_k, w->ca, w->ca_k, "mx.good.test", "DNS:mx.good.test", -400, -399);
	w->tal = make(w->tal_k, w->ta, w->ta_k, "mx.ta.test", "DNS:mx.ta.test", -1, 3);
	w->tabad = make(w->tabad_k, w->ta, w->ta_k, "not-the-mx.test", "DNS:not-the-mx.test", -1, 3);
	w->deep = make(w->deep_k, w->inter, w->int_k, "mx.ta.test", "DNS:mx.ta.test", -1, 3);
	w->taexp = make(w->taexp_k, w->ta, w->ta_k, "mx.ta.test", "DNS:mx.ta.test", -400, -399);
	w->wild = make(w->wild_k, w->ca, w->ca_k, "*.good.test", "DNS:*.good.test", -1, 3);
}

static void free_world(struct world *w)
{
	EVP_PKEY *k[] = { w->ca_k, w->ta_k, w->int_k, w->good_k, w->old_k, w->bad_k, w->self_k, w->exp_k,
	                  w->tal_k, w->tabad_k, w->deep_k, w->taexp_k, w->wild_k };
	X509 *x[] = { w->ca, w->ta, w->inter, w->good, w->old, w->bad, w->self, w->exp, w->tal, w->tabad,
	              w->deep, w->taexp, w->wild };

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		EVP_PKEY_free(k[i]);
	for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++)
		X509_free(x[i]);
}

struct dane_row {
	const char *name;
	struct dns_tlsa set[3];
	size_t n;
	STACK_OF(X509) *chain;
	const char *host;
	int want;              /* 1 pass, 0 fail, -1 unusable set */
};

static void run_dane(struct dane_row *rows, size_t n_rows)
{
	for (size_t i = 0; i < n_rows; i++) {
		struct dane_row *r = &rows[i];
		char why[300] = "";
		bool usable = dane_set_usable(r->set, r->n);
		bool ok = dane_verify(r->set, r->n, r->chain, r->host, why, sizeof(why));
		int openssl = openssl_dane(r->set, r->n, r->chain, r->host);
		int got = usable ? ok : -1;
		CHECK(got == r->want, "DANE %s: %s (%s)", r->name, got == 1 ? "pass" : got == 0 ? "fail" : "unusable", why);
		CHECK(openssl == got, "DANE %s: OpenSSL's verifier agrees (%d)", r->name, openssl);
	}
}

static void bench(struct dane_row *rows, size_t n_rows, long times)
{
	for (size_t i = 0; i < n_rows; i++) {
		char why[300];
		double t0 = now_us(), t1, t2;
		for (long k = 0; k < times; k++)
			dane_verify(rows[i].set, rows[i].n, rows[i].chain, rows[i].host, why, sizeof(why));
		t1 = now_us();
		for (long k = 0; k < times; k++)
			openssl_dane(rows[i].set, rows[i].n, rows[i].chain, rows[i].host);
		t2 = now_us();
		printf("# bench %-28s own %7.1f us, OpenSSL SSL_dane_* %7.1f us (per verification, %ld times)\n",
		       rows[i].name, (t1 - t0) / (double)times, (t2 - t1) / (double)times, times);
	}
}

static void run_pkix(const struct world *w, const char *ca_file)
{
	static const struct { const char *name; int which; const char *host; bool want; const char *why; } rows[] = {
		{ "good", 0, "mx.good.test", true, NULL },
		{ "good, name in other case", 0, "MX.Good.Test", true, NULL },
		{ "good, another name", 0, "mx2.good.test", false, "mismatch" },
		{ "badname", 1, "mx.good.test", false, "mismatch" },
		{ "expired", 2, "mx.good.test", false, "expired" },
		{ "self-signed", 3, "mx.good.test", false, "self-signed" },
		{ "DANE-TA chain (not the test CA)", 4, "mx.ta.test", false, "self-signed" },
		{ "wildcard, one label", 5, "a.good.test", true, NULL },
		{ "wildcard, two labels", 5, "a.b.good.test", false, "mismatch" },
	};
	X509 *certs[] = { w->good, w->bad, w->exp, w->self, w->tal, w->wild };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		STACK_OF(X509) *chain = rows[i].which == 4 ? chain_of(w->tal, w->ta, NULL) : chain_of(certs[rows[i].which], NULL, NULL);
		char why[300] = "";
		bool ok = pkix_verify(chain, ca_file, rows[i].host, why, sizeof(why));
		CHECK(ok == rows[i].want && (ok || strstr(why, rows[i].why)), "PKIX %s for %s: %s %s", rows[i].name,
		      rows[i].host, ok ? "valid" : "refused", why);
		sk_X509_free(chain);
	}
}

int main(void)
{
	static struct world w;
	char ca_file[] = "/tmp/me2e-test-dane-ca.XXXXXX";
	int fd;
	FILE *f;
	const char *b = getenv("DANE_BENCH");

	make_world(&w);
	struct dns_tlsa ee = rec(3, 1, 1, w.good), stale = rec(3, 1, 1, w.old), short_ee = ee;
	short_ee.len = 31;
	struct dane_row rows[] = {
		{ "EE 3 1 1", { ee }, 1, chain_of(w.good, NULL, NULL), "mx.good.test", 1 },
		{ "EE 3 0 0 (the whole certificate)", { rec(3, 0, 0, w.good) }, 1, chain_of(w.good, NULL, NULL), "mx.good.test", 1 },
		{ "EE 3 1 2 (SHA-512)", { rec(3, 1, 2, w.good) }, 1, chain_of(w.good, NULL, NULL), "mx.good.test", 1 },
		{ "EE 3 0 1 on another name", { rec(3, 0, 1, w.bad) }, 1, chain_of(w.bad, NULL, NULL), "mx.good.test", 1 },
		{ "EE on a self-signed one", { rec(3, 1, 1, w.self) }, 1, chain_of(w.self, NULL, NULL), "mx.good.test", 1 },
		{ "EE on an expired one", { rec(3, 1, 1, w.exp) }, 1, chain_of(w.exp, NULL, NULL), "mx.good.test", 1 },
		{ "EE stale (an old key)", { stale }, 1, chain_of(w.good, NULL, NULL), "mx.good.test", 0 },
		{ "EE during a key roll", { stale, ee }, 2, chain_of(w.good, NULL, NULL), "mx.good.test", 1 },
		{ "EE 3 1 1 of 31 bytes", { short_ee }, 1, chain_of(w.good, NULL, NULL), "mx.good.test", -1 },
		{ "TA 2 0 1", { rec(2, 0, 1, w.ta) }, 1, chain_of(w.tal, w.ta, NULL), "mx.ta.test", 1 },
		{ "TA 2 1 2", { rec(2, 1, 2, w.ta) }, 1, chain_of(w.tal, w.ta, NULL), "mx.ta.test", 1 },
		{ "TA 2 0 0", { rec(2, 0, 0, w.ta) }, 1, chain_of(w.tal, w.ta, NULL), "mx.ta.test", 1 },
		{ "TA, the leaf for another name", { rec(2, 0, 1, w.ta) }, 1, chain_of(w.tabad, w.ta, NULL), "mx.ta.test", 0 },
		{ "TA, an expired leaf", { rec(2, 0, 1, w.ta) }, 1, chain_of(w.taexp, w.ta, NULL), "mx.ta.test", 0 },
		{ "TA not sent by the server", { rec(2, 0, 1, w.ta) }, 1, chain_of(w.tal, NULL, NULL), "mx.ta.test", 0 },
		{ "TA of another CA", { rec(2, 0, 1, w.ca) }, 1, chain_of(w.tal, w.ta, NULL), "mx.ta.test", 0 },
		{ "TA at depth 2 via an intermediate", { rec(2, 1, 1, w.ta) }, 1, chain_of(w.deep, w.inter, w.ta), "mx.ta.test", 1 },
		{ "TA = the intermediate (depth 1)", { rec(2, 0, 1, w.inter) }, 1, chain_of(w.deep, w.inter, w.ta), "mx.ta.test", 1 },
		{ "TA then EE, the EE one matches", { rec(2, 0, 1, w.ca), ee }, 2, chain_of(w.good, NULL, NULL), "mx.good.test", 1 },
		{ "PKIX only (0 0 1, 1 1 1)", { rec(0, 0, 1, w.ca), rec(1, 1, 1, w.good) }, 2, chain_of(w.good, NULL, NULL),
		  "mx.good.test", -1 },
		{ "usage 4, selector 2, type 3", { { .usage = 4, .selector = 1, .mtype = 1, .len = 32 },
		  { .usage = 3, .selector = 2, .mtype = 1, .len = 32 }, { .usage = 3, .selector = 1, .mtype = 3, .len = 32 } }, 3,
		  chain_of(w.good, NULL, NULL), "mx.good.test", -1 },
	};
	size_t n_rows = sizeof(rows) / sizeof(rows[0]);

	run_dane(rows, n_rows);
	/* The test CA as a file, as tls_ca names one; removed right after. */
	fd = mkstemp(ca_file);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || PEM_write_X509(f, w.ca) != 1 || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", ca_file);
		return 2;
	}
	run_pkix(&w, ca_file);
	CHECK(!pkix_verify(NULL, ca_file, "mx.good.test", (char[80]){ 0 }, 80), "PKIX without a chain: refused");
	CHECK(!pkix_verify(rows[0].chain, "/nonexistent/ca.pem", "mx.good.test", (char[80]){ 0 }, 80),
	      "PKIX with a CA file that cannot be read: refused");
	unlink(ca_file);
	if (b && atol(b) > 0)
		bench(rows, 12, atol(b));
	pkix_cleanup();
	for (size_t i = 0; i < n_rows; i++)
		sk_X509_free(rows[i].chain);
	free_world(&w);
	SSL_CTX_free(openssl_ctx());
	return unit_done();
}
