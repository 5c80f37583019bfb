/*
 * dane.h - DANE for SMTP (RFC 7672, RFC 7671, RFC 6698): which TLSA
 * records are usable, and whether a usable set authenticates the chain an
 * MX host presented.  Our own match on the chain libcurl's OpenSSL session
 * exposes after the handshake (no hook before it exists in libcurl);
 * tests/unit/test_dane.c checks every row against OpenSSL's own DANE
 * verifier (SSL_dane_*, offline) and measures both.
 *
 *  - usable: DANE-TA(2) or DANE-EE(3), selector 0 (the certificate) or 1
 *    (its SubjectPublicKeyInfo), matching type 0 (exact), 1 (SHA-256, 32
 *    bytes) or 2 (SHA-512, 64 bytes).  PKIX-TA(0) and PKIX-EE(1) are not
 *    usable for SMTP (RFC 7672 §3.1.3), nor are other values.
 *  - DANE-EE: the leaf matches a record; nothing else is checked: no name,
 *    no chain, no dates (RFC 7672 §3.1.1).
 *  - DANE-TA: a certificate the server sent above the leaf matches a
 *    record, and the leaf chains to it (dates checked, a partial chain
 *    allowed: the match is the trust anchor) and is valid for the MX host
 *    name (RFC 7672 §3.2.2).  A TA the server did not send (a bare key) is
 *    not found.
 *
 * Contract: chain is the peer's chain, leaf first (SSL_get_peer_cert_chain
 * on the client side), borrowed.  why (cap bytes) says in words what
 * matched or why nothing did.  No state, no I/O.
 */
#ifndef MAIL_E2E_DANE_H
#define MAIL_E2E_DANE_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/x509.h>

#include "dns_rr.h"

bool dane_usable(const struct dns_tlsa *t);
/* Is any record of the set usable? */
bool dane_set_usable(const struct dns_tlsa *set, size_t n);
/* Does the usable part of the set authenticate chain for host? */
bool dane_verify(const struct dns_tlsa *set, size_t n, STACK_OF(X509) *chain, const char *host,
                 char *why, size_t cap);

#endif
