/*
 * sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for signing
 * probe tokens (probe_id.h).  Self-contained so that the program needs no
 * crypto library of its own beyond what libcurl links privately.
 *
 * Contract: pure functions on caller-owned buffers; no allocation.  The
 * context structs may hold key material: sha256_wipe() / the HMAC function
 * itself clear them with explicit_bzero.
 */
#ifndef MAIL_E2E_SHA256_H
#define MAIL_E2E_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t total;            /* bytes hashed so far */
	unsigned char block[64];
	size_t used;               /* bytes waiting in block */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t n);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);
void sha256_wipe(struct sha256 *c);

void hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                 unsigned char out[SHA256_LEN]);

#endif
