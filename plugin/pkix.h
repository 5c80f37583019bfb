/*
 * pkix.h - the certificate check of an MX host done by us, not libcurl
 * (SPEC §12): the chain the server sent, against the route's tls_ca (or
 * the system's bundle, libcurl's default CA file), valid now, and valid
 * for the MX host name (a DNS name in subjectAltName; a wildcard for one
 * whole left-most label).  The MX leg turns libcurl's own check off so
 * that a policy that accepts a certificate libcurl would refuse (DANE-EE
 * with a self-signed one) and opportunistic TLS can both go on; this is
 * the check for mx_tls = verified and for MTA-STS.
 *
 * Contract: chain is the peer's, leaf first, borrowed; ca_file NULL: the
 * system bundle.  The parsed CA file is kept per process (one store per
 * file, parsed again when it changes on disk: size, time, inode), freed by
 * pkix_cleanup().  why (cap bytes): OpenSSL's reason in words.
 */
#ifndef MAIL_E2E_PKIX_H
#define MAIL_E2E_PKIX_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/x509.h>

bool pkix_verify(STACK_OF(X509) *chain, const char *ca_file, const char *host, char *why, size_t cap);
void pkix_cleanup(void);

#endif
