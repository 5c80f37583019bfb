/*
 * tls_chain.c - see tls_chain.h.
 */
#include "tls_chain.h"

#include <stdio.h>
#include <openssl/ssl.h>

static int ex_index = -1;

/* The handshake is done (also after TLS 1.3's session tickets): keep a
 * copy of what the server sent. */
static void on_info(const SSL *ssl, int where, int ret)
{
	struct tls_chain *keep;
	STACK_OF(X509) *sent;

	(void)ret;
	if (!(where & SSL_CB_HANDSHAKE_DONE) || ex_index < 0)
		return;
	keep = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index);
	sent = SSL_get_peer_cert_chain(ssl);
	if (!keep || !sent)
		return;
	sk_X509_pop_free(keep->chain, X509_free);
	keep->chain = X509_chain_up_ref(sent);
}

static CURLcode on_ctx(CURL *easy, void *ssl_ctx, void *ud)
{
	(void)easy;
	if (SSL_CTX_set_ex_data(ssl_ctx, ex_index, ud) != 1)
		return CURLE_OUT_OF_MEMORY;
	SSL_CTX_set_info_callback(ssl_ctx, on_info);
	return CURLE_OK;
}

int tls_chain_watch(CURL *easy, struct tls_chain *keep, char *err, size_t errlen)
{
	if (ex_index < 0)
		ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ex_index < 0) {
		snprintf(err, errlen, "OpenSSL: no ex_data index");
		return -1;
	}
	if (curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, on_ctx) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, keep) != CURLE_OK) {
		snprintf(err, errlen, "libcurl does not use OpenSSL: the MX certificate cannot be judged "
		         "(smtp_via = mx needs libcurl4-openssl)");
		return -1;
	}
	return 0;
}

void tls_chain_free(struct tls_chain *keep)
{
	sk_X509_pop_free(keep->chain, X509_free);
	keep->chain = NULL;
}
