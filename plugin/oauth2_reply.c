/*
 * oauth2_reply.c - see oauth2_reply.h.
 */
#include "oauth2_reply.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "secret_file.h"

#define DESC_MAX 2048

/* Text from the endpoint made one tidy line: control characters and runs
 * of blanks become one space, no blank at either end. */
static void tidy(char *s)
{
	size_t o = 0;
	bool blank = true;

	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f) {
			if (!blank)
				s[o++] = ' ';
			blank = true;
		} else {
			s[o++] = (char)c;
			blank = false;
		}
	}
	while (o > 0 && s[o - 1] == ' ')
		o--;
	s[o] = '\0';
}

/* Drop a UTF-8 sequence that a cut left incomplete at the end of s. */
static void cut_utf8(char *s)
{
	size_t n = strlen(s), i = n, cont = 0;
	unsigned char lead;
	size_t want;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80 && cont < 4) {
		i--;
		cont++;
	}
	if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
		return;
	lead = (unsigned char)s[i - 1];
	want = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
	if (cont < want)
		s[i - 1] = '\0';
}

/* The error code as RFC 6749 §5.2 allows it (printable ASCII); anything
 * else becomes '?'. */
static void safe_code(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static bool token_chars_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t < 0x21 || (unsigned char)*t > 0x7e)
			return false;
	return true;
}

int oauth2_reply_error(const char *body, size_t len, char *code, size_t codecap, char *err, size_t errlen)
{
	char *desc;
	int rc;

	if (!json_valid(body, len) || json_get_string(body, len, "error", code, codecap) != JSON_OK || !code[0]) {
		if (codecap > 0)
			code[0] = '\0';
		return 0;
	}
	safe_code(code);
	snprintf(err, errlen, "%s", code);
	desc = malloc(DESC_MAX);
	if (!desc)
		return 1;
	rc = json_get_string(body, len, "error_description", desc, DESC_MAX);
	if (rc == JSON_OK) {
		tidy(desc);
		if (desc[0])
			snprintf(err, errlen, "%s: %s", code, desc);
	} else if (rc == JSON_TOO_LONG)
		snprintf(err, errlen, "%s: (error_description too long)", code);
	free(desc);
	cut_utf8(err);
	return 1;
}

/* A token member into a heap copy of its size; 0, or -1 with err set.
 * Absent is 0 with *dst NULL. */
static int get_token(const char *body, size_t len, const char *key, char **dst, char *err, size_t errlen)
{
	char *buf = malloc(SECRET_MAX);
	int rc;

	*dst = NULL;
	if (!buf) {
		snprintf(err, errlen, "token endpoint: out of memory");
		return -1;
	}
	rc = json_get_string(body, len, key, buf, SECRET_MAX);
	if (rc == JSON_OK && buf[0] && token_chars_ok(buf))
		*dst = strdup(buf);
	explicit_bzero(buf, SECRET_MAX);
	free(buf);
	if (rc == JSON_ABSENT || rc == JSON_TYPE)
		return 0;
	if (rc == JSON_TOO_LONG)
		snprintf(err, errlen, "token endpoint: %s is longer than %d bytes", key, SECRET_MAX - 1);
	else if (rc == JSON_OK && !*dst)
		snprintf(err, errlen, "token endpoint: %s is empty or holds a blank or control character", key);
	else if (rc != JSON_OK)
		snprintf(err, errlen, "token endpoint: reply is not JSON");
	return *dst ? 0 : -1;
}

int oauth2_reply_parse(long http_status, const char *body, size_t len,
                       struct oauth2_reply *out, char *err, size_t errlen)
{
	bool valid = json_valid(body, len);
	char type[33];
	long n;

	memset(out, 0, sizeof(*out));
	out->expires_in = -1;
	if (oauth2_reply_error(body, len, out->error, sizeof(out->error), err, errlen))
		return -1;
	if (http_status < 200 || http_status > 299) {
		snprintf(err, errlen, "token endpoint: HTTP %ld", http_status);
		return -1;
	}
	if (!valid) {
		snprintf(err, errlen, "token endpoint: reply is not JSON");
		return -1;
	}
	if (get_token(body, len, "access_token", &out->access_token, err, errlen) != 0)
		return -1;
	if (!out->access_token) {
		snprintf(err, errlen, "token endpoint: reply has no access_token");
		return -1;
	}
	if (json_get_string(body, len, "token_type", type, sizeof(type)) == JSON_OK &&
	    strcasecmp(type, "bearer") != 0) {
		safe_code(type);
		snprintf(err, errlen, "token endpoint: token_type %s is not Bearer", type);
		goto fail;
	}
	if (get_token(body, len, "refresh_token", &out->refresh_token, err, errlen) != 0)
		goto fail;
	if (json_get_number(body, len, "expires_in", &n) == JSON_OK)
		out->expires_in = n <= 0 ? 0 : n > OAUTH2_EXPIRES_MAX_S ? OAUTH2_EXPIRES_MAX_S : n;
	return 0;
fail:
	oauth2_reply_free(out);
	return -1;
}

void oauth2_reply_free(struct oauth2_reply *r)
{
	secret_free(r->access_token);
	secret_free(r->refresh_token);
	r->access_token = r->refresh_token = NULL;
}

void oauth2_redact(char *text, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p = text;

	if (n == 0)
		return;
	/* Search on after each replacement: a secret made of '*' (or one
	 * that "***" completes) must not match its own mask again. */
	while ((p = strstr(p, secret)) != NULL) {
		if (n < 3) {
			memset(p, '*', n);
			p += n;
			continue;
		}
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
		p += 3;
	}
}

/* What an endpoint's error code means to the person who reads the line,
 * and what to do; the route's name goes between words and after, where
 * after is set. */
static const struct {
	const char *code;
	bool refresh_only;
	const char *words, *after;
} error_words[] = {
	{ "invalid_grant", true, "refresh token expired or revoked: run --oauth2-login ", " again" },
	{ "invalid_client", false, "the token endpoint does not accept this client: check oauth2_client_id "
	  "and oauth2_client_secret_file", NULL },
	{ "unauthorized_client", false, "the client may not use this grant: check the app registration "
	  "(README, OAuth2)", NULL },
	{ "invalid_scope", false, "the token endpoint refused the scope: check oauth2_scope (README, OAuth2)", NULL },
};

int oauth2_error_words(const char *code, bool refresh, const char *route, const char *said,
                       char *out, size_t cap)
{
	for (size_t i = 0; i < sizeof(error_words) / sizeof(error_words[0]); i++) {
		if (strcmp(code, error_words[i].code) != 0 || (error_words[i].refresh_only && !refresh))
			continue;
		snprintf(out, cap, "%s%s%s (%s)", error_words[i].words,
		         error_words[i].after ? (route ? route : "ROUTE") : "",
		         error_words[i].after ? error_words[i].after : "", said);
		cut_utf8(out);
		return 1;
	}
	return 0;
}
