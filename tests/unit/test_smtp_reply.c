/*
 * test_smtp_reply.c - the enhanced status code of an SMTP reply
 * (plugin/smtp_reply.c), table-driven.
 */
#include <string.h>

#include "smtp_reply.h"
#include "unit.h"

int main(void)
{
	static const struct { const char *line; const char *want; } rows[] = {
		{ "250 2.0.0 Ok: queued as 4Abc123", "2.0.0" },                       /* Postfix */
		{ "250 2.0.0 OK  1764622800 a1-20020a05600c000100b0041234567sor.123 - gsmtp", "2.0.0" },
		{ "550-5.7.26 Unauthenticated email from example.com is not accepted due", "5.7.26" },
		{ "550 5.7.26 domain's DMARC policy. Please contact the administrator", "5.7.26" },
		{ "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found", "5.1.10" },
		{ "451 4.7.1 Greylisting in action, please come back later", "4.7.1" },
		{ "554 5.7.1 <x@y>: Relay access denied", "5.7.1" },
		{ "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6", "5.7.8" },
		{ "250 2.1.5", "2.1.5" },                                             /* nothing after */
		{ "250 Ok", NULL },                                                   /* no code sent */
		{ "250 OK id=1rAbCd-000123-4X", NULL },                               /* Exim */
		{ "550 4.7.1 class differs from the reply", NULL },
		{ "550 5.7.1234 detail too long", NULL },
		{ "550 5..1 empty subject", NULL },
		{ "550 5.7.", NULL },
		{ "550 5.7.1x glued text", NULL },
		{ "55 5.7.1 short code", NULL },
		{ "550", NULL },
		{ "", NULL },
		{ "xyz 5.7.1", NULL },
		{ "354 3.0.0 go ahead", NULL },                                       /* 3 is no class */
		{ "250-2.0.0 first line of many", "2.0.0" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char got[16] = "unset";
		bool ok = smtp_reply_status(rows[i].line, got, sizeof(got));
		bool good = rows[i].want ? ok && strcmp(got, rows[i].want) == 0 : !ok;
		CHECK(good, "'%s' -> %s", rows[i].line, ok ? got : "(none)");
	}
	{
		char tiny[4];
		CHECK(!smtp_reply_status("250 2.0.0 ok", tiny, sizeof(tiny)), "no room: refused, not cut");
	}
	return unit_done();
}
