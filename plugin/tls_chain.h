/*
 * tls_chain.h - the certificate chain a server sent, kept from the TLS
 * handshake libcurl's OpenSSL does.  With CURLOPT_CONNECT_ONLY the
 * transfer is over by the time we may judge the session, and
 * CURLINFO_TLS_SSL_PTR then no longer reaches the SSL object (measured
 * with Debian 12's libcurl 7.88: internals NULL); so the chain is copied
 * when the handshake completes (CURLOPT_SSL_CTX_FUNCTION installs an info
 * callback on the connection's SSL_CTX).
 *
 * Contract: tls_chain_watch() sets the options on easy; keep must stay in
 * place until the handle is cleaned up and is freed with tls_chain_free()
 * after that.  keep->chain is the peer's chain, leaf first, or NULL (no
 * TLS); it owns its certificates.  -1 with err when libcurl does not use
 * OpenSSL (no SSL_CTX callback).
 */
#ifndef MAIL_E2E_TLS_CHAIN_H
#define MAIL_E2E_TLS_CHAIN_H

#include <stddef.h>
#include <curl/curl.h>
#include <openssl/x509.h>

struct tls_chain {
	STACK_OF(X509) *chain;
};

int tls_chain_watch(CURL *easy, struct tls_chain *keep, char *err, size_t errlen);
void tls_chain_free(struct tls_chain *keep);

#endif
