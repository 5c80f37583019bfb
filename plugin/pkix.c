/*
 * pkix.c - see pkix.h.  Parsing the system bundle (~150 certificates)
 * costs tens of milliseconds, so each CA file's store is kept (like the
 * libcurl multi handle keeps its own, cycle.c).
 */
#include "pkix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#define PKIX_STORES 8

static struct store {
	char *path;
	unsigned long long stamp;
	X509_STORE *store;
} stores[PKIX_STORES];

static unsigned long long stamp_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	return (unsigned long long)st.st_mtim.tv_sec * 1000003ULL ^ (unsigned long long)st.st_mtim.tv_nsec * 31ULL ^
	       (unsigned long long)st.st_size * 7919ULL ^ (unsigned long long)st.st_ino;
}

static void drop(struct store *s)
{
	X509_STORE_free(s->store);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

/* The store for path, parsed once while the file is unchanged. */
static X509_STORE *store_for(const char *path, char *why, size_t cap)
{
	unsigned long long stamp = stamp_of(path);
	struct store *slot = &stores[0];

	for (int i = 0; i < PKIX_STORES; i++) {
		if (stores[i].path && strcmp(stores[i].path, path) == 0) {
			if (stores[i].stamp == stamp)
				return stores[i].store;
			drop(&stores[i]);
			slot = &stores[i];
			break;
		}
		if (!stores[i].path)
			slot = &stores[i];
	}
	if (slot->path)
		drop(slot);   /* all taken: the first goes */
	slot->store = X509_STORE_new();
	slot->path = strdup(path);
	if (!slot->store || !slot->path || X509_STORE_load_file(slot->store, path) != 1) {
		snprintf(why, cap, "cannot load the CA file %s", path);
		ERR_clear_error();
		drop(slot);
		return NULL;
	}
	slot->stamp = stamp;
	return slot->store;
}

static const char *system_bundle(void)
{
	const char *curl_ca = curl_version_info(CURLVERSION_NOW)->cainfo;

	return curl_ca ? curl_ca : X509_get_default_cert_file();
}

bool pkix_verify(STACK_OF(X509) *chain, const char *ca_file, const char *host, char *why, size_t cap)
{
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *rest;
	X509_VERIFY_PARAM *param;
	bool ok = false;

	if (!chain || sk_X509_num(chain) == 0) {
		snprintf(why, cap, "no certificate from the server");
		return false;
	}
	store = store_for(ca_file ? ca_file : system_bundle(), why, cap);
	if (!store)
		return false;
	ctx = X509_STORE_CTX_new();
	rest = sk_X509_dup(chain);
	if (!ctx || !rest || !sk_X509_shift(rest) ||
	    X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), rest) != 1) {
		snprintf(why, cap, "out of memory");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1) {
		snprintf(why, cap, "out of memory");
		goto out;
	}
	ok = X509_verify_cert(ctx) == 1;
	if (!ok)
		snprintf(why, cap, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
	ERR_clear_error();
	sk_X509_free(rest);
	X509_STORE_CTX_free(ctx);
	return ok;
}

void pkix_cleanup(void)
{
	for (int i = 0; i < PKIX_STORES; i++)
		drop(&stores[i]);
}
