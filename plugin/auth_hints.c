/*
 * auth_hints.c - see auth_hints.h.
 */
#include "auth_hints.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A row matches when every needle it has occurs in the reply or in the
 * error text.  Rows that name a provider's words come before the bare
 * code of the same refusal. */
static const struct {
	const char *need[2];
	const char *hint;
} hints[] = {
	{ { "5.7.139", "SmtpClientAuthentication is disabled" },
	  "Microsoft 365 has SMTP AUTH turned off for this tenant or mailbox: an admin turns on "
	  "Authenticated SMTP (https://aka.ms/smtp_auth_disabled)" },
	{ { "5.7.139", "basic authentication is disabled" },
	  "Microsoft 365 takes no password here: log in with OAuth2 (README, OAuth2)" },
	{ { "5.7.139", "security defaults" },
	  "Microsoft 365's security defaults block SMTP AUTH for this user: log in with OAuth2 or ask "
	  "an admin (README, OAuth2)" },
	{ { "5.7.139", NULL },
	  "Microsoft 365 refused the login by policy: SMTP AUTH off for the mailbox or tenant, security "
	  "defaults, or wrong credentials (https://aka.ms/smtp_auth_disabled)" },
	{ { "5.7.30", NULL },
	  "Microsoft 365 no longer takes a password for SMTP (Basic authentication off): log in with "
	  "OAuth2 (README, OAuth2)" },
	{ { "5.7.9", "Application-specific password" },
	  "Google wants an app password or OAuth2 for this account, not its password (README, OAuth2)" },
	{ { "Application-specific password required", NULL },
	  "Google wants an app password or OAuth2 for this account, not its password (README, OAuth2)" },
	{ { "5.7.9", NULL },
	  "the server finds this way of logging in too weak: use OAuth2 or an app password (README, OAuth2)" },
	{ { "5.7.14", NULL },
	  "Google blocked the login as unusual: sign in once in a browser, or use OAuth2 (README, OAuth2)" },
	{ { "insufficient_scope", NULL },
	  "the OAuth2 access token lacks the mail scope: check oauth2_scope (README, OAuth2)" },
	{ { "\"status\":\"invalid_token\"", NULL },
	  "the server refused the OAuth2 access token: expired or revoked, or not for this user" },
	{ { "\"status\":\"401\"", NULL },
	  "the server refused the OAuth2 access token: expired or revoked, or not for this user" },
	{ { "\"status\":\"400\"", NULL },
	  "the server refused the OAuth2 access token: expired or revoked, not for this user, or without "
	  "the mail scope (oauth2_scope)" },
};

static bool code_char(char c)
{
	return isdigit((unsigned char)c) || c == '.';
}

/* needle in hay, ignoring case; a needle that starts with a digit (an
 * enhanced status code) only as a whole code. */
static bool has(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	bool code = isdigit((unsigned char)needle[0]);

	if (!hay)
		return false;
	for (const char *p = hay; *p; p++) {
		if (strncasecmp(p, needle, n) != 0)
			continue;
		if (!code || ((p == hay || !code_char(p[-1])) && !code_char(p[n])))
			return true;
	}
	return false;
}

const char *auth_hint_for(const char *reply, const char *err)
{
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		bool all = true;
		for (size_t k = 0; k < 2 && hints[i].need[k]; k++)
			all &= has(reply, hints[i].need[k]) || has(err, hints[i].need[k]);
		if (all)
			return hints[i].hint;
	}
	return NULL;
}

int auth_hint_add(const char *reply, char *err, size_t cap)
{
	const char *hint = auth_hint_for(reply, err);
	size_t len, need;

	if (!hint || !err || cap == 0)
		return 0;
	len = strlen(err);
	need = strlen(hint) + 2;   /* "; " */
	if (need + 4 >= cap)
		return 0;   /* no room even for a cut text: leave it */
	if (len + need >= cap) {
		len = cap - 1 - need - 3;
		while (len > 0 && ((unsigned char)err[len] & 0xC0) == 0x80)
			len--;   /* never half a UTF-8 character */
		memcpy(err + len, "...", 4);
		len += 3;
	}
	snprintf(err + len, cap - len, "%s%s", len ? "; " : "", hint);
	return 1;
}

const char *auth_hint_no_auth(int port, bool tls_up)
{
	if (!tls_up)
		return "servers often offer AUTH only after STARTTLS: smtp_tls = starttls";
	if (port == 25)
		return "port 25 is for mail between servers: clients log in on the submission port, "
		       "587 (smtp_tls = starttls) or 465 (smtp_tls = tls)";
	if (port == 587 || port == 465)
		return "the server takes no login here: is AUTH turned on for this port?";
	return "if this is a port for mail between servers (25), clients log in on the submission port, "
	       "587 (smtp_tls = starttls) or 465 (smtp_tls = tls)";
}
