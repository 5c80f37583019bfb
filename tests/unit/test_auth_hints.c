/*
 * test_auth_hints.c - the plain words added to a mail server's login
 * refusal (plugin/auth_hints.c, issue 19): which reply gets which hint,
 * enhanced status codes matched as whole codes, case-blind words, the
 * decoded SASL challenge in the error text, and the cut that keeps the
 * hint whole within the error field.
 */
#include <stdbool.h>
#include <string.h>

#include "auth_hints.h"
#include "unit.h"

#define MS_OFF "Microsoft 365 has SMTP AUTH turned off"
#define MS_POLICY "Microsoft 365 refused the login by policy"
#define MS_BASIC "Microsoft 365 no longer takes a password for SMTP"
#define GOOGLE "Google wants an app password or OAuth2"
#define TOKEN "the server refused the OAuth2 access token: expired or revoked, or not for this user"

static const struct { const char *reply, *err, *want; } rows[] = {
	{ "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
	  "Visit https://aka.ms/smtp_auth_disabled for more information.", "", MS_OFF },
	{ "535 5.7.139 Authentication unsuccessful, smtpclientauthentication IS DISABLED for the mailbox", "", MS_OFF },
	{ "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.", "",
	  "Microsoft 365 takes no password here" },
	{ "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy.", "",
	  "Microsoft 365's security defaults block SMTP AUTH" },
	{ "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.", "", MS_POLICY },
	{ "550 5.7.30 Basic authentication is not supported for Client Submission", "", MS_BASIC },
	{ "534-5.7.9 Application-specific password required. For more information, go to 534 5.7.9 "
	  "https://support.google.com/mail/?p=InvalidSecondFactor", "", GOOGLE },
	{ "B NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833",
	  "", GOOGLE },
	{ "534 5.7.9 Authentication mechanism is too weak", "", "the server finds this way of logging in too weak" },
	{ "534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1> Please log in via your web browser", "",
	  "Google blocked the login as unusual" },
	{ "334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=", "AUTH refused: {\"status\":\"401\",\"schemes\":\"bearer\"}",
	  TOKEN },
	{ "+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=", "login refused: {\"status\":\"invalid_token\"}", TOKEN },
	{ "", "login refused: {\"status\":\"insufficient_scope\",\"scope\":\"mail\"}",
	  "the OAuth2 access token lacks the mail scope" },
	{ "", "login refused: {\"status\":\"400\",\"schemes\":\"Bearer\",\"scope\":\"https://mail.google.com/\"}",
	  "the server refused the OAuth2 access token: expired or revoked, not for this user, or without" },
	/* no hint */
	{ "535 5.7.3 Authentication unsuccessful", "", NULL },
	{ "535 5.7.8 Username and Password not accepted", "", NULL },
	{ "550 15.7.30 made-up", "", NULL },
	{ "550 5.7.301 made-up", "", NULL },
	{ "550 5.7.1 Relaying denied", "RCPT TO refused", NULL },
	{ NULL, NULL, NULL },
	{ "", "", NULL },
};

static void table(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = auth_hint_for(rows[i].reply, rows[i].err);
		CHECK(rows[i].want ? got && strncmp(got, rows[i].want, strlen(rows[i].want)) == 0 : got == NULL,
		      "'%.60s' / '%.40s' -> %s", rows[i].reply ? rows[i].reply : "(null)",
		      rows[i].err ? rows[i].err : "(null)", got ? got : "(none)");
	}
}

static void adding(void)
{
	char err[256], want[512];
	const char *hint = auth_hint_for("550 5.7.30 x", "");
	size_t hl = strlen(hint);

	snprintf(err, sizeof(err), "AUTH refused: 550 5.7.30 Basic authentication is not supported for Client Submission");
	CHECK(auth_hint_add("550 5.7.30 Basic authentication is not supported for Client Submission", err, sizeof(err)) == 1,
	      "a hint is added");
	snprintf(want, sizeof(want), "AUTH refused: 550 5.7.30 Basic authentication is not supported for Client "
	         "Submission; %s", hint);
	CHECK(strcmp(err, want) == 0, "'<err>; <hint>': %s", err);

	memset(err, 'x', 250);
	err[0] = 'A';
	err[255 - (hl + 2) - 3 - 1] = (char)0xc3;   /* an é right across where the cut falls */
	err[255 - (hl + 2) - 3] = (char)0xa9;
	err[250] = '\0';
	CHECK(auth_hint_add("550 5.7.30", err, sizeof(err)) == 1 && strlen(err) <= 255 && strlen(err) >= 250,
	      "a long error: cut to fit the field (%zu bytes)", strlen(err));
	CHECK(strchr(err, (char)0xc3) == NULL && strchr(err, (char)0xa9) == NULL,
	      "a character the cut falls in goes whole");
	CHECK(strcmp(err + strlen(err) - hl, hint) == 0 && strstr(err, "...; ") != NULL,
	      "a long error is cut with ... and the hint stays whole");
	CHECK(((unsigned char)err[strstr(err, "...; ") - err - 1] & 0xC0) != 0xC0,
	      "the cut leaves no half UTF-8 character before the ...");
	{
		const char *p = strstr(err, "...; ");
		bool whole = true;
		size_t n = (size_t)(p - err);
		/* every lead byte before the cut has its continuation bytes */
		for (size_t i = 0; i < n; i++)
			if (((unsigned char)err[i] & 0xE0) == 0xC0)
				whole &= i + 1 < n && ((unsigned char)err[i + 1] & 0xC0) == 0x80;
		CHECK(whole, "no lead byte without its continuation before the cut");
	}
	snprintf(err, sizeof(err), "AUTH refused: 535 5.7.3 Authentication unsuccessful");
	CHECK(auth_hint_add("535 5.7.3 Authentication unsuccessful", err, sizeof(err)) == 0 &&
	      strcmp(err, "AUTH refused: 535 5.7.3 Authentication unsuccessful") == 0, "no row: the error stays as it was");
	{
		char tiny[40] = "AUTH refused: 550 5.7.30";
		CHECK(auth_hint_add("550 5.7.30", tiny, sizeof(tiny)) == 0 && strcmp(tiny, "AUTH refused: 550 5.7.30") == 0,
		      "no room for the hint at all: the error stays");
	}
}

/* A username set and no AUTH in the EHLO reply: the port and TLS say why. */
static void no_auth(void)
{
	static const struct { int port; bool tls; const char *want; } ports[] = {
		{ 25, true, "port 25 is for mail between servers: clients log in on the submission port, 587" },
		{ 25, false, "servers often offer AUTH only after STARTTLS: smtp_tls = starttls" },
		{ 587, false, "servers often offer AUTH only after STARTTLS" },
		{ 587, true, "the server takes no login here" },
		{ 465, true, "the server takes no login here" },
		{ 2525, true, "if this is a port for mail between servers (25), clients log in on the submission port" },
	};

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		const char *got = auth_hint_no_auth(ports[i].port, ports[i].tls);
		CHECK(got && strncmp(got, ports[i].want, strlen(ports[i].want)) == 0,
		      "no AUTH on port %d, TLS %s -> %s", ports[i].port, ports[i].tls ? "up" : "not up", got);
	}
}

int main(void)
{
	table();
	no_auth();
	adding();
	return unit_done();
}
