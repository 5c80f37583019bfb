/*
 * oauth2_form.h - the pure encodings of the OAuth2 token client (issue 12):
 * a request body (application/x-www-form-urlencoded), the HTTP Basic
 * credentials of a confidential client, the token cache key, base64url
 * and the PKCE S256 challenge.  No network, no state.
 *
 * Contract:
 *  - oauth2_form_add() appends "key=VALUE" (with "&" between pairs) to the
 *    body, VALUE percent-encoded by curl_easy_escape() (everything but
 *    A-Z a-z 0-9 - . _ ~; so a space is %20, which form decoding reads as
 *    a space too).  A NULL value adds nothing.  keys are fixed ASCII names.
 *    Any failure (memory) is sticky: f->failed, and buf is then NULL.
 *    buf holds secrets (refresh tokens, codes): oauth2_form_free() wipes
 *    it, and every buffer it outgrew was wiped before it was freed.
 *  - oauth2_basic_credentials(): RFC 6749 §2.3.1: client id and secret,
 *    each form-urlencoded, for CURLOPT_USERNAME / CURLOPT_PASSWORD with
 *    CURLAUTH_BASIC (libcurl then base64-encodes "user:password").  Heap
 *    strings the caller owns and frees with secret_free(); 0, or -1 (memory)
 *    with nothing allocated.
 *  - oauth2_cache_key(): one cache entry per account (SPEC §10): token URL,
 *    client id and the refresh-token file, or for the client-credentials
 *    grant token URL, client id and scope.  A heap string (no secret in
 *    it) the caller frees, or NULL (memory).
 *  - oauth2_base64url(): RFC 4648 §5 without padding; writes a NUL-terminated
 *    string and returns its length, or 0 if it does not fit in cap (or n is 0).
 *  - oauth2_pkce_challenge(): RFC 7636 §4.2 S256, BASE64URL(SHA256(verifier)),
 *    43 characters and a NUL.
 */
#ifndef MAIL_E2E_OAUTH2_FORM_H
#define MAIL_E2E_OAUTH2_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define OAUTH2_PKCE_CHALLENGE_LEN 43

struct oauth2_form {
	char *buf;      /* NUL-terminated body, or NULL (empty or failed) */
	size_t len, cap;
	bool failed;
};

void oauth2_form_init(struct oauth2_form *f);
void oauth2_form_add(struct oauth2_form *f, const char *key, const char *value);
void oauth2_form_free(struct oauth2_form *f);

int oauth2_basic_credentials(const char *client_id, const char *secret, char **user, char **password);

char *oauth2_cache_key(const struct route *r);

size_t oauth2_base64url(const unsigned char *in, size_t n, char *out, size_t cap);
void oauth2_pkce_challenge(const char *verifier, char out[OAUTH2_PKCE_CHALLENGE_LEN + 1]);

#endif
