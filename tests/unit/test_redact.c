/*
 * test_redact.c - table-driven tests of the trace redaction of client lines
 * (conn_redact_client_line in plugin/conn.c): known harmless commands pass,
 * credentials never do.
 */
#include <string.h>

#include "conn.h"
#include "unit.h"

struct redact_case {
	enum conn_proto proto;
	const char *line, *want;
};

static const struct redact_case cases[] = {
	{ CONN_SMTP, "EHLO host", "EHLO host" },
	{ CONN_SMTP, "MAIL FROM:<a@b.test> SIZE=500", "MAIL FROM:<a@b.test> SIZE=500" },
	{ CONN_SMTP, "RCPT TO:<b@c.test>", "RCPT TO:<b@c.test>" },
	{ CONN_SMTP, "STARTTLS", "STARTTLS" },
	{ CONN_SMTP, "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "AUTH PLAIN ***" },
	{ CONN_SMTP, "auth login YWxpY2U=", "auth login ***" },
	{ CONN_SMTP, "AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVy", "AUTH XOAUTH2 ***" },
	{ CONN_SMTP, "c2VjcmV0", "***" },          /* AUTH LOGIN continuation */
	{ CONN_SMTP, "secret-password", "***" },
	{ CONN_SMTP, "", "***" },
	{ CONN_IMAP, "A001 CAPABILITY", "A001 CAPABILITY" },
	{ CONN_IMAP, "A002 LOGIN bob secret", "A002 LOGIN ***" },
	{ CONN_IMAP, "A002 login \"bob\" \"se cret\"", "A002 LOGIN ***" },
	{ CONN_IMAP, "A003 AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=", "A003 AUTHENTICATE PLAIN ***" },
	{ CONN_IMAP, "AGJvYgBzZWNyZXQ=", "***" },  /* SASL continuation */
	{ CONN_IMAP, "m4 UID SEARCH UID 5:* HEADER X-Mail-E2E-Probe abc", "m4 UID SEARCH UID 5:* HEADER X-Mail-E2E-Probe abc" },
	{ CONN_IMAP, "m2 SELECT \"INBOX\"", "m2 SELECT \"INBOX\"" },
	{ CONN_IMAP, "DONE", "DONE" },
	{ CONN_IMAP, "m9 XUNKNOWN secret", "***" },
};

static void test_challenges(void)
{
	static const struct { const char *line; bool ok; const char *want; } rows[] = {
		{ "334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=", true,
		  "{\"status\":\"401\",\"schemes\":\"bearer\"}" },
		{ "+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=", true, "{\"status\":\"invalid_token\"}" },
		{ "334 AAEC", true, "???" },                 /* control bytes hidden */
		{ "334 VXNlcm5hbWU6", true, "Username:" },
		{ "334 ", false, NULL },
		{ "535 5.7.8 nope", false, NULL },
		{ "334 not*base64", false, NULL },
		{ "+ idling", false, NULL },                  /* base64 letters, but not a padded word */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[64] = "";
		bool ok = conn_sasl_challenge_text(rows[i].line, out, sizeof(out));
		CHECK(ok == rows[i].ok && (!ok || strcmp(out, rows[i].want) == 0),
		      "challenge '%s' -> %d '%s'", rows[i].line, ok, out);
	}
}

int main(void)
{
	test_challenges();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256];
		conn_redact_client_line(cases[i].proto, cases[i].line, out, sizeof(out));
		CHECK(strcmp(out, cases[i].want) == 0, "%s '%s' -> '%s'",
		      cases[i].proto == CONN_SMTP ? "smtp" : "imap", cases[i].line, out);
	}
	{
		char small[8];
		size_t n = conn_redact_client_line(CONN_SMTP, "EHLO a-very-long-host-name", small, sizeof(small));
		CHECK(n == 7 && strlen(small) == 7, "a small buffer cuts, never overflows");
	}
	return unit_done();
}
