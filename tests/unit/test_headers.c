/*
 * test_headers.c - table-driven tests of the header-block basics
 * (plugin/mail_header.c) and of the evidence readers (plugin/headers.c):
 * Authentication-Results and Received, with real-world lines from Postfix,
 * Exim, Gmail, Microsoft 365 and Dovecot.  Linked alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "mail_header.h"
#include "unit.h"

#define D0 INT64_C(1796158800)   /* Tue, 1 Dec 2026 21:00:00 +0000 */

/* --- mail_field_next ------------------------------------------------------ */

static const struct field_case {
	const char *name, *block;
	int fields;                /* fields seen */
	const char *last_name;     /* name of the last one */
	const char *last_value;    /* its value, unfolded */
	const char *body;          /* what mail_body() finds after them, NULL: end */
} fields[] = {
	{ "two CRLF fields and a body", "A: 1\r\nB: 2\r\n\r\nbody", 2, "B", "2", "body" },
	{ "bare LF", "A: 1\nB:  two \n\nbody", 2, "B", "two", "body" },
	{ "folded value", "Subject: a\r\n b\r\n\tc\r\nX: y\r\n", 2, "X", "y", NULL },
	{ "fold kept in last value", "Subject: a\r\n   b\r\n\tc", 1, "Subject", "a b c", NULL },
	{ "last field without final CRLF", "A: 1\r\nB: end", 2, "B", "end", NULL },
	{ "last field ends in a lone CR", "A: 1\r", 1, "A", "1", NULL },
	{ "line without colon skipped", "A: 1\r\ngarbage line\r\nB: 2\r\n", 2, "B", "2", NULL },
	{ "mbox From line skipped", "From a@b Tue Dec  1 21:00:00 2026\nA: 1\n", 1, "A", "1", NULL },
	{ "orphan continuation skipped", " lost\r\nA: 1\r\n", 1, "A", "1", NULL },
	{ "blank before colon (obsolete)", "Received : x\r\n", 1, "Received", "x", NULL },
	{ "empty value", "A:\r\nB:\r\n\r\n", 2, "B", "", "" },
	{ "empty block", "", 0, NULL, NULL, NULL },
	{ "header ends at once", "\r\nA: 1\r\n", 0, NULL, NULL, "A: 1\r\n" },
	{ "LF empty line", "A: 1\n\nB: 2\n", 1, "A", "1", "B: 2\n" },
	{ "colon in value", "Date: Tue, 1 Dec 2026 21:00:00 +0000\r\n", 1, "Date", "Tue, 1 Dec 2026 21:00:00 +0000", NULL },
	{ "control byte in name skipped", "A\001B: 1\r\nC: 2\r\n", 1, "C", "2", NULL },
	{ "empty name skipped", ": x\r\nC: 2\r\n", 1, "C", "2", NULL },
};

static void test_fields(void)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct field_case *c = &fields[i];
		size_t len = strlen(c->block);
		/* A copy without a NUL: reading past len would be caught by ASan. */
		char *b = malloc(len ? len : 1);
		const char *cur = b, *end, *body;
		struct mail_field f, last = { 0 };
		char name[64] = "", value[256] = "";
		int n = 0;
		bool ok;

		memcpy(b, c->block, len);
		cur = b;
		end = b + len;
		while (mail_field_next(&cur, end, &f)) {
			last = f;
			n++;
		}
		if (n > 0) {
			mail_copy(name, sizeof(name), last.name, last.name_len);
			mail_unfold(last.value, last.value_len, value, sizeof(value));
		}
		body = mail_body(cur, end);
		ok = n == c->fields &&
		     (c->last_name == NULL || (strcmp(name, c->last_name) == 0 && mail_field_is(&last, c->last_name))) &&
		     (c->last_value == NULL || strcmp(value, c->last_value) == 0) &&
		     (c->body ? (size_t)(end - body) == strlen(c->body) && memcmp(body, c->body, strlen(c->body)) == 0
		              : body == end);
		CHECK(ok, "fields %s: %d fields, last '%s' = '%s'", c->name, n, name, value);
		free(b);
	}
}

static void test_field_is(void)
{
	struct mail_field f = { "authentication-RESULTS", 22, "", 0 };
	CHECK(mail_field_is(&f, "Authentication-Results"), "field name compared without case");
	CHECK(!mail_field_is(&f, "Authentication-Result"), "field name: a prefix is not equal");
}

/* --- mail_unfold ---------------------------------------------------------- */

static const struct { const char *in; size_t cap; const char *out; } unfolds[] = {
	{ "  a\r\n b\r\n\t c  ", 64, "a b c" },
	{ "a \r\n b", 64, "a  b" },
	{ "a\tb", 64, "a b" },
	{ "a\001\177b", 64, "ab" },
	{ "abcdef", 4, "abc" },
	{ "ab\xc3\xa9", 4, "ab" },                /* é would be cut: dropped whole */
	{ "ab\xc3\xa9", 5, "ab\xc3\xa9" },
	{ "\xe2\x82\xac\xe2\x82\xac", 6, "\xe2\x82\xac" },
	{ "", 8, "" },
	{ " \r\n \t ", 8, "" },
	{ "x", 1, "" },
};

static void test_unfold(void)
{
	for (size_t i = 0; i < sizeof(unfolds) / sizeof(unfolds[0]); i++) {
		char out[64];
		size_t n = mail_unfold(unfolds[i].in, strlen(unfolds[i].in), out, unfolds[i].cap);
		CHECK(strcmp(out, unfolds[i].out) == 0 && n == strlen(out), "unfold #%zu -> '%s'", i, out);
	}
	{
		char out[1] = { 'z' };
		CHECK(mail_unfold("abc", 3, out, 0) == 0 && out[0] == 'z', "unfold cap 0 writes nothing");
	}
}

/* --- mail_parse_date ------------------------------------------------------ */

static const struct { const char *in; bool ok; int64_t epoch; } dates[] = {
	{ "Tue, 1 Dec 2026 21:00:00 +0000", true, D0 },
	{ "Tue,  1 Dec 2026 21:00:00 +0000 (UTC)", true, D0 },
	{ "Tue, 01 Dec 2026 21:00:00 +0000", true, D0 },
	{ "1 Dec 2026 21:00:00 +0000", true, D0 },
	{ "Tue, 1 Dec 2026 13:00:00 -0800 (PST)", true, D0 },
	{ "Tue, 1 Dec 2026 22:30:00 +0130", true, D0 },
	{ "Tue, 1 Dec 2026 21:00 +0000", true, D0 },
	{ "Tue, 1 Dec 26 21:00:00 GMT", true, D0 },
	{ "Tue, 1 Dec 126 21:00:00 UT", true, D0 },
	{ "Tue, 1 Dec 2026 16:00:00 EST", true, D0 },
	{ "Tue, 1 Dec 2026 17:00:00 EDT", true, D0 },
	{ "Tue, 1 Dec 2026 15:00:00 CST", true, D0 },
	{ "Tue, 1 Dec 2026 16:00:00 CDT", true, D0 },
	{ "Tue, 1 Dec 2026 14:00:00 MST", true, D0 },
	{ "Tue, 1 Dec 2026 15:00:00 MDT", true, D0 },
	{ "Tue, 1 Dec 2026 13:00:00 PST", true, D0 },
	{ "Tue, 1 Dec 2026 14:00:00 pdt", true, D0 },
	{ "Tue, 1 Dec 2026 21:00:00 UTC", true, D0 },
	{ "Tue, 1 Dec 2026 21:00:00 Z", true, D0 },
	{ "Tue, 1 Dec 2026 21:00:00 A", true, D0 },      /* military: -0000 */
	{ "Tue, 1 Dec 2026 21:00:00 -0000", true, D0 },
	{ "Tuesday, 1 December 2026 21:00:00 +0000", true, D0 },
	{ "  tue ,\r\n 1  dec   2026\t21:00:00   +0000  ", true, D0 },
	{ "(comment) Tue, 1 (x) Dec 2026 21:00:00 +0000", true, D0 },
	{ "Tue, 1 Dec 2026 21:00:00 +0000 GMT trailing", true, D0 },
	{ "Thu, 1 Jan 1970 00:00:00 +0000", true, 0 },
	{ "Tue, 29 Feb 2000 00:00:00 +0000", true, INT64_C(951782400) },
	{ "Fri, 31 Dec 99 23:59:59 +0000", true, INT64_C(946684799) },
	{ "1 Jun 49 00:00:00 +0000", true, INT64_C(2506118400) },
	{ "1 Jun 50 00:00:00 +0000", true, INT64_C(-618105600) },
	{ "1 Mar 2026 00:00:60 +0000", true, INT64_C(1772323260) },
	{ "Tue, 1 Dec 2026 21:00:00", false, 0 },              /* no zone */
	{ "Tue, 1 Dec 2026 21:00:00 XYZ", false, 0 },
	{ "Tue, 1 Dec 2026 21:00:00 J", false, 0 },
	{ "Tue, 1 Dec 2026 21:00:00 +000", false, 0 },
	{ "Tue, 1 Dec 2026 21:00:00 +0060", false, 0 },
	{ "Tue, 32 Dec 2026 21:00:00 +0000", false, 0 },
	{ "Tue, 29 Feb 2026 21:00:00 +0000", false, 0 },
	{ "Tue, 0 Dec 2026 21:00:00 +0000", false, 0 },
	{ "Tue, 1 Foo 2026 21:00:00 +0000", false, 0 },
	{ "Tue, 1 Dec 2026 24:00:00 +0000", false, 0 },
	{ "Tue, 1 Dec 2026 21:60:00 +0000", false, 0 },
	{ "Tue, 1 Dec 20260 21:00:00 +0000", false, 0 },
	{ "Tue, 1 Dec 1899 21:00:00 +0000", false, 0 },
	{ "Xyz, 1 Dec 2026 21:00:00 +0000", false, 0 },
	{ "2026-12-01T21:00:00Z", false, 0 },
	{ "", false, 0 },
	{ "Tue, 1 Dec", false, 0 },
};

static void test_dates(void)
{
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		size_t len = strlen(dates[i].in);
		char *b = malloc(len ? len : 1);
		int64_t t = -1;
		bool ok;
		memcpy(b, dates[i].in, len);
		ok = mail_parse_date(b, len, &t);
		CHECK(ok == dates[i].ok && (!ok || t == dates[i].epoch), "date '%s' -> %d %lld",
		      dates[i].in, ok, (long long)t);
		free(b);
	}
}

/* --- Authentication-Results ----------------------------------------------- */

#define GMAIL_AR "Authentication-Results: mx.google.com;\r\n" \
	"       dkim=pass header.i=@example.com header.s=sel header.b=abc;\r\n" \
	"       spf=pass (google.com: domain of a@example.com designates 1.2.3.4 as permitted sender) smtp.mailfrom=a@example.com;\r\n" \
	"       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com\r\n"
#define M365_AR "Authentication-Results: spf=pass (sender IP is 1.2.3.4)\r\n" \
	" smtp.mailfrom=contoso.com; dkim=pass (signature was verified)\r\n" \
	" header.d=contoso.com;dmarc=pass action=none header.from=contoso.com;compauth=pass\r\n" \
	" reason=100\r\n"

static const struct auth_case {
	const char *name, *block, *from;
	bool found;
	const char *id;
	const char *verdict[AUTH_N];   /* per method of auth_methods.h; NULL: "" */
} auths[] = {
	{ "Gmail form", "Received: x\r\n" GMAIL_AR "Subject: s\r\n", NULL, true,
	  "mx.google.com", { "pass", "pass", "pass", "" } },
	{ "Microsoft 365 form without id", M365_AR, NULL, true, "", { "pass", "pass", "pass", "" } },
	{ "Microsoft 365 chosen by '-'", GMAIL_AR M365_AR, "-", true, "", { "pass", "pass", "pass", "" } },
	{ "Microsoft 365 not chosen by an id", M365_AR, "mx.google.com", false, "", { "", "", "", "" } },
	{ "no methods", "Authentication-Results: mx.example; none\r\n", NULL, true, "mx.example", { "", "", "", "" } },
	{ "version after id", "Authentication-Results: mx.example.com 1; spf=fail smtp.mailfrom=a@b\r\n", NULL, true,
	  "mx.example.com", { "fail", "", "", "" } },
	{ "topmost of any id",
	  "Authentication-Results: mx.outer; spf=fail\r\nAuthentication-Results: mx.inner; spf=pass\r\n", NULL, true,
	  "mx.outer", { "fail", "", "", "" } },
	{ "topmost of the listed id",
	  "Authentication-Results: mx.outer; spf=fail\r\nAuthentication-Results: mx.inner; spf=pass\r\n"
	  "Authentication-Results: mx.inner; spf=neutral\r\n", "mx.inner", true, "mx.inner", { "pass", "", "", "" } },
	{ "list with blanks and case",
	  "Authentication-Results: mx.outer; spf=fail\r\nAuthentication-Results: mx.inner; spf=pass\r\n",
	  "other.example,  MX.Inner ", true, "mx.inner", { "pass", "", "", "" } },
	{ "list id and '-'", M365_AR "Authentication-Results: mx.x; spf=fail\r\n", "mx.x, -", true,
	  "", { "pass", "pass", "pass", "" } },
	{ "listed id absent", GMAIL_AR, "mx.other", false, "", { "", "", "", "" } },
	{ "no header at all", "Subject: s\r\nReceived: x\r\n", NULL, false, "", { "", "", "", "" } },
	{ "ARC-Authentication-Results ignored",
	  "ARC-Authentication-Results: i=1; mx.arc; spf=pass\r\nX-Authentication-Results: mx.x; spf=pass\r\n"
	  "Authentication-Results: mx.real; spf=fail\r\n", NULL, true, "mx.real", { "fail", "", "", "" } },
	{ "several dkim, one passed",
	  "Authentication-Results: mx.x; dkim=fail header.d=a; dkim=pass header.d=b; dkim=neutral\r\n", NULL, true,
	  "mx.x", { "", "pass", "", "" } },
	{ "several dkim, none passed",
	  "Authentication-Results: mx.x; dkim=neutral header.d=a; dkim=fail header.d=b\r\n", NULL, true,
	  "mx.x", { "", "neutral", "", "" } },
	{ "spf twice: first counts", "Authentication-Results: mx.x; spf=none smtp.helo=h; spf=pass smtp.mailfrom=a\r\n",
	  NULL, true, "mx.x", { "none", "", "", "" } },
	{ "nested comment with ';' '=' and quoted-pair",
	  "Authentication-Results: mx.x; spf=pass (a (nested; x=y) \\) ;) smtp.mailfrom=a; dkim=fail\r\n", NULL, true,
	  "mx.x", { "pass", "fail", "", "" } },
	{ "quoted property value with ';'",
	  "Authentication-Results: mx.x; dkim=pass header.b=\"ab;c=d\"; spf=softfail\r\n", NULL, true,
	  "mx.x", { "softfail", "pass", "", "" } },
	{ "quoted reason with ';'",
	  "Authentication-Results: mx.x; dmarc=fail reason=\"p=reject; dkim=pass\" header.from=x\r\n", NULL, true,
	  "mx.x", { "", "", "fail", "" } },
	{ "folded with tabs", "Authentication-Results: mx.x;\r\n\tspf=pass\r\n\tsmtp.mailfrom=a;\r\n dkim=pass\r\n", NULL,
	  true, "mx.x", { "pass", "pass", "", "" } },
	{ "upper case words", "AUTHENTICATION-RESULTS: MX.X; SPF=PASS; DKIM=TempError; DMARC=PermError\r\n", NULL, true,
	  "MX.X", { "pass", "temperror", "permerror", "" } },
	{ "method version", "Authentication-Results: mx.x; dkim/1=pass; spf / 2 = fail\r\n", NULL, true,
	  "mx.x", { "fail", "pass", "", "" } },
	{ "arc", "Authentication-Results: mx.x; arc=pass (i=1 spf=pass dkim=pass); dmarc=policy\r\n", NULL, true,
	  "mx.x", { "", "", "policy", "pass" } },
	{ "long word cut", "Authentication-Results: mx.x; spf=averyveryverylongresultword\r\n", NULL, true,
	  "mx.x", { "averyveryverylo", "", "", "" } },
	{ "word as written", "Authentication-Results: mx.x; dmarc=bestguesspass; spf=hardfail\r\n", NULL, true,
	  "mx.x", { "hardfail", "", "bestguesspass", "" } },
	{ "quoted authserv-id", "Authentication-Results: \"mx.q\"; spf=pass\r\n", NULL, true, "mx.q", { "pass", "", "", "" } },
	{ "unknown methods ignored",
	  "Authentication-Results: mx.x 1; auth=pass smtp.auth=a; iprev=pass policy.iprev=1.2.3.4; x-foo=bar; compauth=fail\r\n",
	  NULL, true, "mx.x", { "", "", "", "" } },
	{ "empty header skipped", "Authentication-Results: \r\nAuthentication-Results: mx.x; spf=pass\r\n", NULL, true,
	  "mx.x", { "pass", "", "", "" } },
	{ "comment before id", "Authentication-Results: (sig) mx.x; spf=pass\r\n", NULL, true, "mx.x", { "pass", "", "", "" } },
	{ "no blanks", "Authentication-Results: mx.x;spf=pass;dkim=pass;dmarc=pass\r\n", NULL, true,
	  "mx.x", { "pass", "pass", "pass", "" } },
	{ "blanks around '='", "Authentication-Results: mx.x; dkim = pass; spf=\r\n fail\r\n", NULL, true,
	  "mx.x", { "fail", "pass", "", "" } },
	{ "LF line ends", "Authentication-Results: mx.x;\n spf=pass;\n dkim=fail\nX: y\n", NULL, true,
	  "mx.x", { "pass", "fail", "", "" } },
	{ "result missing", "Authentication-Results: mx.x; spf=; dkim=(c) ; dmarc\r\n", NULL, true, "mx.x", { "", "", "", "" } },
	{ "body not read", "Subject: s\r\n\r\nAuthentication-Results: mx.x; spf=pass\r\n", NULL, false, "", { "", "", "", "" } },
	{ "'-' alone skips id headers", "Authentication-Results: mx.x; spf=pass\r\n", "-", false, "", { "", "", "", "" } },
	{ "truncated header", "Authentication-Results: mx.x; spf=pa", NULL, true, "mx.x", { "pa", "", "", "" } },
};

static void test_auth(void)
{
	for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
		const struct auth_case *c = &auths[i];
		size_t len = strlen(c->block);
		char *b = malloc(len);
		struct auth_verdicts v;
		memcpy(b, c->block, len);
		memset(&v, 0x55, sizeof(v));
		auth_results_read(b, len, c->from, &v);
		bool same = v.found == c->found && strcmp(v.authserv_id, c->id) == 0;
		char got[200];
		size_t n = 0;
		for (int m = 0; m < AUTH_N; m++) {
			same = same && strcmp(v.verdict[m], c->verdict[m] ? c->verdict[m] : "") == 0;
			n += (size_t)snprintf(got + n, sizeof(got) - n, " %s='%s'", auth_method_name(m),
			                      v.verdict[m]);
		}
		CHECK(same, "auth %s: found=%d id='%s'%s", c->name, v.found, v.authserv_id, got);
		free(b);
	}
}

/* Every method of auth_methods.h is read into its own slot, and a second
 * result counts by the method's rule. */
static void test_auth_each_method(void)
{
	for (int m = 0; m < AUTH_N; m++) {
		const char *name = auth_method_name(m);
		bool any_pass = auth_method_rule(m) == AUTH_ANY_PASS;
		char block[200];
		struct auth_verdicts v;
		bool others_empty = true;

		snprintf(block, sizeof(block), "Authentication-Results: mx.x; %s=Fail x.y=z; %s=pass\r\n",
		         name, name);
		auth_results_read(block, strlen(block), NULL, &v);
		for (int o = 0; o < AUTH_N; o++)
			others_empty = others_empty && (o == m || v.verdict[o][0] == '\0');
		CHECK(v.found && strcmp(v.verdict[m], any_pass ? "pass" : "fail") == 0 && others_empty,
		      "method %s: read into its own slot, lower case, %s ('%s')", name,
		      any_pass ? "pass if any passed" : "the first counts", v.verdict[m]);
	}
}

static const struct { const char *in; bool ok; } froms[] = {
	{ NULL, true }, { "", true }, { "mx.google.com", true }, { "mx.a, mx.b", true }, { "-", true },
	{ "mx.a,-", true }, { " mx.a , mx_b-1.example ", true },
	{ "a,,b", false }, { "a,", false }, { "a b", false }, { "a;b", false }, { "mx@x", false },
	{ " , ", false }, { "(x)", false }, { "\"mx\"", false },
};

static void test_from_valid(void)
{
	for (size_t i = 0; i < sizeof(froms) / sizeof(froms[0]); i++) {
		char why[128];
		bool ok = auth_results_from_valid(froms[i].in, why, sizeof(why));
		CHECK(ok == froms[i].ok && (ok ? why[0] == '\0' : why[0] != '\0'), "from_valid '%s' -> %d (%s)",
		      froms[i].in ? froms[i].in : "(null)", ok, why);
	}
	{
		char why[8];
		CHECK(!auth_results_from_valid("a b c d e f", why, sizeof(why)) && strlen(why) < sizeof(why),
		      "from_valid: short why buffer cut");
	}
}

/* --- Received ------------------------------------------------------------- */

#define R_POSTFIX "Received: from mail.example.com (mail.example.com [192.0.2.1])\r\n" \
	"\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n" \
	"\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n" \
	"\t(No client certificate requested)\r\n" \
	"\tby mx.example.org (Postfix) with ESMTPS id 4Abc123\r\n" \
	"\tfor <bob@example.org>; Tue,  1 Dec 2026 21:00:00 +0000 (UTC)\r\n"
#define R_SUBMISSION "Received: from [192.0.2.10] (unknown [192.0.2.10])\r\n" \
	"\t(Authenticated sender: alice)\r\n" \
	"\tby smtp.example.org (Postfix) with ESMTPSA id 4Xyz987\r\n" \
	"\tfor <bob@example.org>; Tue,  1 Dec 2026 20:59:58 +0000 (UTC)\r\n"
#define R_EXIM "Received: from [127.0.0.1] (helo=a.test)\r\n" \
	"\tby mx.b.test with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\r\n" \
	"\t(Exim 4.96)\r\n\t(envelope-from <a@a.test>)\r\n\tid 1rAbCd-000123-4X\r\n" \
	"\tfor bob@b.test; Tue, 01 Dec 2026 21:00:01 +0000\r\n"
#define R_GMAIL "Received: by 2002:a05:6a10:9e4c:b0:5c1:2b3a:7f00 with SMTP id abc;\r\n" \
	"        Tue, 1 Dec 2026 13:00:00 -0800 (PST)\r\n"
#define R_M365_HTTPS "Received: from AM0PR01MB1234.eurprd01.prod.exchangelabs.com (2603:10a6:208:1::1)\r\n" \
	" by AM0PR01MB5678.eurprd01.prod.exchangelabs.com with HTTPS; Tue, 1 Dec 2026\r\n 21:00:00 +0000\r\n"
#define R_M365_SMTP "Received: from AM0PR01MB5678.eurprd01.prod.exchangelabs.com\r\n" \
	" (2603:10a6:208:1::2) by AM0PR01MB9999.eurprd01.prod.exchangelabs.com\r\n" \
	" (2603:10a6:208:1::3) with Microsoft SMTP Server (version=TLS1_2,\r\n" \
	" cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.1234.5; Tue, 1 Dec\r\n 2026 21:00:04 +0000\r\n"
#define R_LMTP "Received: from mx.example.org\r\n\tby mx.example.org with LMTP\r\n\tid abc\r\n" \
	"\t(envelope-from <a@example.com>)\r\n\tfor <bob@example.org>; Tue, 01 Dec 2026 21:00:02 +0000\r\n"

static const struct rcv_case {
	const char *name, *block;
	int hops, plain;
	bool transit;
	double seconds;
} rcvs[] = {
	{ "Postfix ESMTPS", R_POSTFIX, 1, 0, false, 0 },
	{ "Postfix submission ESMTPSA", R_SUBMISSION, 1, 0, false, 0 },
	{ "Postfix plain ESMTP",
	  "Received: from mail.a.test (mail.a.test [192.0.2.1])\r\n\tby mx.b.test (Postfix) with ESMTP id 4Q\r\n"
	  "\tfor <bob@b.test>; Tue,  1 Dec 2026 21:00:00 +0000 (UTC)\r\n", 1, 1, false, 0 },
	{ "Exim esmtps", R_EXIM, 1, 0, false, 0 },
	{ "Exim plain esmtp", "Received: from [192.0.2.1] (helo=a.test)\r\n\tby mx.b.test with esmtp (Exim 4.96)\r\n"
	  "\t(envelope-from <a@a.test>)\r\n\tid 1rAbCd-000123-4X; Tue, 01 Dec 2026 21:00:01 +0000\r\n", 1, 1, false, 0 },
	{ "Exim esmtpa", "Received: from a by b with esmtpa (Exim 4.96) id x; Tue, 1 Dec 2026 21:00:00 +0000\r\n",
	  1, 1, false, 0 },
	{ "Exim esmtpsa", "Received: from a by b with esmtpsa (TLS1.3) tls X (Exim 4.96) id x; Tue, 1 Dec 2026 21:00:00 +0000\r\n",
	  1, 0, false, 0 },
	{ "Gmail internal with SMTP", R_GMAIL, 1, 1, false, 0 },
	{ "Microsoft 365 HTTPS", R_M365_HTTPS, 1, 0, false, 0 },
	{ "Microsoft SMTP Server", R_M365_SMTP, 1, 0, false, 0 },
	{ "Dovecot LMTP", R_LMTP, 1, 0, false, 0 },
	{ "sendmail ESMTP",
	  "Received: from a.test (a.test [192.0.2.1]) by mx.b.test (8.17.1/8.17.1) with ESMTP id 1B1L00aa012345\r\n"
	  "\tfor <bob@b.test>; Tue, 1 Dec 2026 21:00:00 GMT\r\n", 1, 1, false, 0 },
	{ "qmail comment only", "Received: (qmail 12345 invoked by uid 1000); 1 Dec 2026 21:00:00 -0000\r\n",
	  1, 0, false, 0 },
	{ "whole path: submission, relay, LMTP", R_LMTP R_POSTFIX R_SUBMISSION, 3, 0, true, 4 },
	{ "Gmail then Exim across zones", R_EXIM R_GMAIL, 2, 1, true, 1 },
	{ "Microsoft 365 path", R_M365_SMTP R_M365_HTTPS, 2, 0, true, 4 },
	{ "one date only", R_POSTFIX "Received: from x by y with SMTP\r\n", 2, 1, false, 0 },
	{ "garbage lines still hops", "Received: garbage\r\nReceived: \r\nReceived: ;;;\r\n", 3, 0, false, 0 },
	{ "missing dates", "Received: from a by b with ESMTP id 1\r\nReceived: from c by d with SMTP;\r\n", 2, 2, false, 0 },
	{ "comment saying with SMTP",
	  "Received: from a.test (comment with SMTP inside) by b.test with ESMTPS id 1; Tue, 1 Dec 2026 21:00:00 +0000\r\n",
	  1, 0, false, 0 },
	{ "only a comment says with", "Received: from a.test (helo with SMTP) by b.test id 1; Tue, 1 Dec 2026 21:00:00 +0000\r\n",
	  1, 0, false, 0 },
	{ "with in host names", "Received: from with.example.com by mx.with.test with ESMTPS id 1;"
	  " Tue, 1 Dec 2026 21:00:00 +0000\r\n", 1, 0, false, 0 },
	{ "host named with", "Received: from with by with with SMTP; Tue, 1 Dec 2026 21:00:00 +0000\r\n", 1, 1, false, 0 },
	{ "with as a helo value", "Received: from mail.with.test (HELO with) by mx id x; Tue, 1 Dec 2026 21:00:00 +0000\r\n",
	  1, 0, false, 0 },
	{ "UTF8SMTPA plain", "Received: from a by b with UTF8SMTPA id x; Tue, 1 Dec 2026 21:00:00 +0000\r\n", 1, 1, false, 0 },
	{ "UTF8SMTP plain", "Received: from a by b with utf8smtp; Tue, 1 Dec 2026 21:00:00 +0000\r\n", 1, 1, false, 0 },
	{ "UTF8SMTPS, LMTPSA, local, HTTP not plain",
	  "Received: from a by b with UTF8SMTPS;\r\nReceived: from a by b with LMTPSA;\r\n"
	  "Received: by b with local;\r\nReceived: by b with HTTP;\r\nReceived: by b with UTF8SMTPSA;\r\n", 5, 0, false, 0 },
	{ "SMTPS not plain", "Received: from a by b with SMTPS;\r\n", 1, 0, false, 0 },
	{ "X-Received not a hop", "X-Received: by 2002:a05 with SMTP id x; Tue, 1 Dec 2026 21:00:00 +0000\r\n"
	  "ARC-Seal: i=1\r\n", 0, 0, false, 0 },
	{ "lower-case name", "received: from a by b with ESMTP; Tue, 1 Dec 2026 21:00:00 +0000\r\n"
	  "RECEIVED: from a by b with ESMTP; Tue, 1 Dec 2026 21:00:09 +0000\r\n", 2, 2, true, 9 },
	{ "date on a folded line", "Received: from a by b with ESMTPS id x;\r\n Tue, 1 Dec 2026\r\n 21:00:00 +0000\r\n"
	  "Received: from a by b with ESMTPS id x; Tue, 1 Dec 2026 21:00:30 +0000\r\n", 2, 0, true, 30 },
	{ "';' in a comment is not the date's",
	  "Received: from a (x; y) by b with ESMTP; Tue, 1 Dec 2026 21:00:00 +0000 (a;b)\r\n"
	  "Received: from a by b with ESMTP; Tue, 1 Dec 2026 21:00:01 +0000\r\n", 2, 2, true, 1 },
	{ "body not read", "Received: from a by b with SMTP; Tue, 1 Dec 2026 21:00:00 +0000\r\n\r\n"
	  "Received: from a by b with SMTP; Tue, 1 Dec 2026 22:00:00 +0000\r\n", 1, 1, false, 0 },
	{ "LF line ends", "Received: from a\n by b with ESMTP;\n Tue, 1 Dec 2026 21:00:00 +0000\nReceived: by c with"
	  " LMTP; Tue, 1 Dec 2026 21:00:02 +0000\n", 2, 1, true, 2 },
	{ "newest minus oldest, not top minus bottom",
	  "Received: by a with SMTP; Tue, 1 Dec 2026 21:00:05 +0000\r\n"
	  "Received: by a with SMTP; Tue, 1 Dec 2026 21:00:09 +0000\r\n"
	  "Received: by a with SMTP; Tue, 1 Dec 2026 21:00:00 +0000\r\n", 3, 3, true, 9 },
	{ "empty block", "", 0, 0, false, 0 },
	{ "truncated mid-line", "Received: from a by b wi", 1, 0, false, 0 },
	{ "unterminated comment", "Received: from a (never closed by b with SMTP; Tue, 1 Dec 2026 21:00:00 +0000",
	  1, 0, false, 0 },
	{ "unterminated quote", "Received: from \"a by b with SMTP; x\r\n", 1, 0, false, 0 },
};

static void test_received(void)
{
	for (size_t i = 0; i < sizeof(rcvs) / sizeof(rcvs[0]); i++) {
		const struct rcv_case *c = &rcvs[i];
		size_t len = strlen(c->block);
		char *b = malloc(len ? len : 1);
		struct path_summary s;
		memcpy(b, c->block, len);
		memset(&s, 0x55, sizeof(s));
		received_read(b, len, &s);
		CHECK(s.hops == c->hops && s.plain_hops == c->plain && s.has_transit == c->transit &&
		      (!c->transit ? s.transit_time == 0 : s.transit_time == c->seconds),
		      "received %s: hops=%d plain=%d transit=%d %.1f", c->name, s.hops, s.plain_hops,
		      s.has_transit, s.transit_time);
		free(b);
	}
}

int main(void)
{
	test_fields();
	test_field_is();
	test_unfold();
	test_dates();
	test_auth();
	test_auth_each_method();
	test_from_valid();
	test_received();
	return unit_done();
}
