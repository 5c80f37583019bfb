/*
 * test_oauth2_loopback.c - the parser of the browser's redirect request
 * (plugin/oauth2_loopback.c, oauth2_redirect_parse), linked alone, with
 * the redirects Google and the Microsoft identity platform send (code,
 * state, scope, session_state, iss), refusals, and malformed requests.
 * Every sample is also parsed at every cut length from a buffer of exactly
 * that size.  The listening side runs in tests/t/oauth2_login.py.
 */
#include <stdlib.h>
#include <string.h>

#include "oauth2_loopback.h"
#include "unit.h"

#define H " HTTP/1.1\r\nHost: 127.0.0.1:41234\r\nUser-Agent: Mozilla/5.0\r\n\r\n"

struct row {
	const char *name, *head;
	int want;
	const char *code, *state, *error, *desc;
};

static const struct row rows[] = {
	{ "Google redirect", "GET /?state=Zx8_k-Q2&code=4%2F0AeaYSHB-x_Yz&scope=https%3A%2F%2Fmail.google.com%2F" H, 1,
	  "4/0AeaYSHB-x_Yz", "Zx8_k-Q2", "", "" },
	{ "Microsoft redirect with session_state", "GET /?code=0.AXoAtnbKq2-dQUaN&state=abc&session_state=9f1c-2b" H, 1,
	  "0.AXoAtnbKq2-dQUaN", "abc", "", "" },
	{ "refusal with description (+ is a space)",
	  "GET /?error=access_denied&error_description=The+user+has+denied+access%2E&state=s1" H, 1,
	  "", "s1", "access_denied", "The user has denied access." },
	{ "no query at all", "GET /" H, 1, "", "", "", "" },
	{ "HTTP/1.0, bare LF", "GET /?code=c1&state=s HTTP/1.0\n\n", 1, "c1", "s", "", "" },
	{ "empty pairs skipped", "GET /?&&code=x&&state=y&" H, 1, "x", "y", "", "" },
	{ "a key without '='", "GET /?code&state=y" H, 1, "", "y", "", "" },
	{ "similar key names ignored", "GET /?codex=1&xstate=2&code=3" H, 1, "3", "", "", "" },
	{ "other path: 404", "GET /favicon.ico" H, 0 },
	{ "other path with query", "GET /callback?code=x&state=y" H, 0 },
	{ "path prefix is not /", "GET //?code=x" H, 0 },
	{ "POST refused", "POST /?code=x" H, -1 },
	{ "no HTTP version", "GET /?code=x\r\n\r\n", -1 },
	{ "HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -1 },
	{ "bad escape", "GET /?code=%zz" H, -1 },
	{ "cut escape", "GET /?code=ab%4" H, -1 },
	{ "escaped NUL", "GET /?code=a%00b" H, -1 },
	{ "escaped LF", "GET /?state=a%0Ab" H, -1 },
	{ "code twice", "GET /?code=a&code=b" H, -1 },
	{ "state too long",
	  "GET /?state="
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
	  "01234567890123456789012345678901234567890123456789012345678901234567" H, -1 },
	{ "no line end", "GET /?code=x HTTP/1.1", -1 },
	{ "empty", "", -1 },
};

static void run(const struct row *r)
{
	struct oauth2_redirect rd;
	size_t len = strlen(r->head);
	char *b = malloc(len ? len : 1);
	int rc;

	if (!b)
		return;
	memcpy(b, r->head, len);
	memset(&rd, 'X', sizeof(rd));
	rc = oauth2_redirect_parse(b, len, &rd);
	if (r->want == 1)
		CHECK(rc == 1 && strcmp(rd.code, r->code) == 0 && strcmp(rd.state, r->state) == 0 &&
		      strcmp(rd.error, r->error) == 0 && strcmp(rd.error_description, r->desc) == 0,
		      "%s: parsed (rc %d, code \"%.20s\", state \"%.20s\")", r->name, rc, rd.code, rd.state);
	else
		CHECK(rc == r->want && rd.code[0] == '\0', "%s: %s (rc %d)", r->name, r->want == 0 ? "another path" : "refused", rc);
	free(b);
}

static void cuts(void)
{
	struct oauth2_redirect rd;
	size_t bad = 0, total = 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = strlen(rows[i].head);
		for (size_t n = 0; n < len; n++) {
			char *b = malloc(n ? n : 1);
			if (!b)
				return;
			memcpy(b, rows[i].head, n);
			if (oauth2_redirect_parse(b, n, &rd) > 1)
				bad++;
			total++;
			free(b);
		}
	}
	CHECK(bad == 0 && total > 1000, "every cut of every sample parsed within its buffer (%zu cuts)", total);
}

int main(void)
{
	struct oauth2_redirect rd;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run(&rows[i]);
	cuts();
	oauth2_redirect_parse("GET /?code=secret-code" H, strlen("GET /?code=secret-code" H), &rd);
	oauth2_redirect_wipe(&rd);
	CHECK(rd.code[0] == '\0' && rd.code[5] == '\0', "oauth2_redirect_wipe: the code is zeroed");
	return unit_done();
}
