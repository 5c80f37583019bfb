/*
 * oauth2_form.c - see oauth2_form.h.
 */
#include "oauth2_form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "sha256.h"
#include "secret_file.h"

void oauth2_form_init(struct oauth2_form *f)
{
	memset(f, 0, sizeof(*f));
}

void oauth2_form_free(struct oauth2_form *f)
{
	if (f->buf) {
		explicit_bzero(f->buf, f->cap);
		free(f->buf);
	}
	memset(f, 0, sizeof(*f));
}

static void form_fail(struct oauth2_form *f)
{
	oauth2_form_free(f);
	f->failed = true;
}

/* Room for n more bytes and a NUL; the outgrown buffer is wiped. */
static bool form_reserve(struct oauth2_form *f, size_t n)
{
	size_t cap = f->cap ? f->cap : 256;
	char *nb;

	if (f->len + n + 1 <= f->cap)
		return true;
	while (cap < f->len + n + 1)
		cap *= 2;
	nb = malloc(cap);
	if (!nb)
		return false;
	if (f->buf) {
		memcpy(nb, f->buf, f->len + 1);
		explicit_bzero(f->buf, f->cap);
		free(f->buf);
	}
	f->buf = nb;
	f->cap = cap;
	return true;
}

void oauth2_form_add(struct oauth2_form *f, const char *key, const char *value)
{
	char *esc;
	size_t klen, elen;

	if (f->failed || !value)
		return;
	esc = curl_easy_escape(NULL, value, 0);
	if (!esc) {
		form_fail(f);
		return;
	}
	klen = strlen(key);
	elen = strlen(esc);
	if (!form_reserve(f, klen + elen + 2)) {
		explicit_bzero(esc, elen);
		curl_free(esc);
		form_fail(f);
		return;
	}
	if (f->len > 0)
		f->buf[f->len++] = '&';
	memcpy(f->buf + f->len, key, klen);
	f->len += klen;
	f->buf[f->len++] = '=';
	memcpy(f->buf + f->len, esc, elen);
	f->len += elen;
	f->buf[f->len] = '\0';
	explicit_bzero(esc, elen);
	curl_free(esc);
}

/* A heap copy of curl_easy_escape(s), the escaped copy wiped. */
static char *escape_dup(const char *s)
{
	char *esc = curl_easy_escape(NULL, s, 0), *dup;

	if (!esc)
		return NULL;
	dup = strdup(esc);
	explicit_bzero(esc, strlen(esc));
	curl_free(esc);
	return dup;
}

int oauth2_basic_credentials(const char *client_id, const char *secret, char **user, char **password)
{
	*user = escape_dup(client_id ? client_id : "");
	*password = escape_dup(secret ? secret : "");
	if (*user && *password)
		return 0;
	secret_free(*user);
	secret_free(*password);
	*user = *password = NULL;
	return -1;
}

char *oauth2_cache_key(const struct route *r)
{
	const char *url = r->oauth2_token_url ? r->oauth2_token_url : "";
	const char *id = r->oauth2_client_id ? r->oauth2_client_id : "";
	const char *kind = r->oauth2_refresh_token_file ? "refresh-token-file" : "scope";
	const char *what = r->oauth2_refresh_token_file ? r->oauth2_refresh_token_file
	                 : (r->oauth2_scope ? r->oauth2_scope : "");
	size_t n = strlen(url) + strlen(id) + strlen(kind) + strlen(what) + 4;
	char *key = malloc(n);

	if (key)
		snprintf(key, n, "%s\n%s\n%s=%s", url, id, kind, what);
	return key;
}

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t oauth2_base64url(const unsigned char *in, size_t n, char *out, size_t cap)
{
	size_t need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0), o = 0;
	unsigned bits = 0, nbits = 0;

	if (need + 1 > cap || cap == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		bits = (bits << 8) | in[i];
		nbits += 8;
		while (nbits >= 6) {
			nbits -= 6;
			out[o++] = B64URL[(bits >> nbits) & 0x3F];
		}
		bits &= (1u << nbits) - 1;
	}
	if (nbits > 0)
		out[o++] = B64URL[(bits << (6 - nbits)) & 0x3F];
	out[o] = '\0';
	return o;
}

void oauth2_pkce_challenge(const char *verifier, char out[OAUTH2_PKCE_CHALLENGE_LEN + 1])
{
	unsigned char digest[SHA256_LEN];
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, verifier, strlen(verifier));
	sha256_final(&c, digest);
	sha256_wipe(&c);
	oauth2_base64url(digest, sizeof(digest), out, OAUTH2_PKCE_CHALLENGE_LEN + 1);
	explicit_bzero(digest, sizeof(digest));
}
