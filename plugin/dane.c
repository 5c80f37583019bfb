/*
 * dane.c - see dane.h.
 */
#include "dane.h"

#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

bool dane_usable(const struct dns_tlsa *t)
{
	if ((t->usage != 2 && t->usage != 3) || t->selector > 1)
		return false;
	switch (t->mtype) {
	case 0: return t->len > 0;
	case 1: return t->len == 32;
	case 2: return t->len == 64;
	default: return false;
	}
}

bool dane_set_usable(const struct dns_tlsa *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (dane_usable(&set[i]))
			return true;
	return false;
}

/* Does cert match record t (its selector and matching type)? */
static bool match(const struct dns_tlsa *t, X509 *cert)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len = t->selector == 0 ? i2d_X509(cert, &der) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	bool ok = false;

	if (len <= 0)
		return false;
	if (t->mtype == 0)
		ok = (size_t)len == t->len && memcmp(der, t->data, t->len) == 0;
	else if (EVP_Digest(der, (size_t)len, md, &mdlen, t->mtype == 1 ? EVP_sha256() : EVP_sha512(), NULL) == 1)
		ok = mdlen == t->len && memcmp(md, t->data, mdlen) == 0;
	OPENSSL_free(der);
	return ok;
}

/* The leaf chains to ta (sent by the server at some depth above it)
 * through the certificates between, and is valid for host. */
static bool ta_chain(STACK_OF(X509) *chain, int ta_depth, const char *host, char *why, size_t cap)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *between = sk_X509_new_null();
	X509_VERIFY_PARAM *param;
	bool ok = false;

	if (!store || !ctx || !between || X509_STORE_add_cert(store, sk_X509_value(chain, ta_depth)) != 1) {
		snprintf(why, cap, "out of memory");
		goto out;
	}
	for (int d = 1; d < ta_depth; d++)
		if (!sk_X509_push(between, sk_X509_value(chain, d)))
			goto out;
	if (X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), between) != 1)
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1)
		goto out;
	ok = X509_verify_cert(ctx) == 1;
	if (!ok)
		snprintf(why, cap, "a DANE-TA record matches the certificate at depth %d, but the chain does not "
		         "verify for %s: %s", ta_depth, host, X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
	sk_X509_free(between);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

bool dane_verify(const struct dns_tlsa *set, size_t n, STACK_OF(X509) *chain, const char *host,
                 char *why, size_t cap)
{
	int depth = chain ? sk_X509_num(chain) : 0;
	bool ta_tried = false;

	if (depth == 0) {
		snprintf(why, cap, "no certificate from the server");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (set[i].usage == 3 && dane_usable(&set[i]) && match(&set[i], sk_X509_value(chain, 0))) {
			snprintf(why, cap, "DANE-EE %u %u %u matches the certificate", set[i].usage, set[i].selector,
			         set[i].mtype);
			return true;
		}
	for (size_t i = 0; i < n; i++) {
		if (set[i].usage != 2 || !dane_usable(&set[i]))
			continue;
		for (int d = 1; d < depth; d++) {
			if (!match(&set[i], sk_X509_value(chain, d)))
				continue;
			ta_tried = true;
			if (ta_chain(chain, d, host, why, cap)) {
				snprintf(why, cap, "DANE-TA %u %u %u matches the certificate at depth %d", set[i].usage,
				         set[i].selector, set[i].mtype, d);
				return true;
			}
		}
	}
	if (!ta_tried)
		snprintf(why, cap, "no TLSA record matches the certificate%s the server sent",
		         depth > 1 ? "s" : "");
	return false;
}
