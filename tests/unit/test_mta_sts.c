/*
 * test_mta_sts.c - table-driven tests of the MTA-STS and TLS-RPT readers
 * (plugin/mta_sts.c): _mta-sts TXT records (RFC 8461 §3.1, its examples
 * and what real domains publish), policy files (RFC 8461 §3.2: Google's and
 * Microsoft's published policies, the RFC's example, every field wrong in
 * turn), mx patterns (§4.1), _smtp._tls records (RFC 8460 §3).  Linked
 * alone with dns_rr.c.
 */
#include <stdio.h>
#include <string.h>

#include "mta_sts.h"
#include "unit.h"

static const struct txt_case {
	const char *name;
	const char *rec[3];
	int want;              /* 0 none, 1 valid, -1 invalid */
	const char *id;
} txts[] = {
	{ "RFC 8461 example", { "v=STSv1; id=20160831085700Z;" }, 1, "20160831085700Z" },
	{ "no trailing ;", { "v=STSv1; id=20190429T010101" }, 1, "20190429T010101" },
	{ "blanks around ;", { "v=STSv1 ;id=abc ; ext=x" }, 1, "abc" },
	{ "gmail.com", { "v=STSv1; id=20190429T010101;" }, 1, "20190429T010101" },
	{ "others ignored", { "google-site-verification=x", "v=STSv1; id=1", "v=spf1 -all" }, 1, "1" },
	{ "no record of ours", { "v=spf1 -all", "v=STSv10; id=1" }, 0, NULL },
	{ "nothing", { NULL }, 0, NULL },
	{ "two records", { "v=STSv1; id=1", "v=STSv1; id=2" }, -1, NULL },
	{ "no id", { "v=STSv1;" }, -1, NULL },
	{ "bare version", { "v=STSv1" }, -1, NULL },
	{ "id too long", { "v=STSv1; id=123456789012345678901234567890123" }, -1, NULL },
	{ "id of 32", { "v=STSv1; id=12345678901234567890123456789012" }, 1, "12345678901234567890123456789012" },
	{ "id with a dash", { "v=STSv1; id=2019-04-29" }, -1, NULL },
	{ "id twice", { "v=STSv1; id=1; id=2" }, -1, NULL },
	{ "no ; between fields", { "v=STSv1 id=1" }, -1, NULL },
	{ "empty value", { "v=STSv1; id=1; x=" }, -1, NULL },
	{ "case matters", { "V=stsv1; id=1" }, 0, NULL },
};

static void test_txt(void)
{
	for (size_t i = 0; i < sizeof(txts) / sizeof(txts[0]); i++) {
		const struct txt_case *c = &txts[i];
		char id[MTA_STS_ID_MAX] = "", why[200] = "";
		size_t n = 0;
		int got;
		while (n < 3 && c->rec[n])
			n++;
		got = mta_sts_txt(c->rec, n, id, why, sizeof(why));
		CHECK(got == c->want && (!c->id || strcmp(id, c->id) == 0) && (got >= 0 || why[0]),
		      "TXT %s: %d (want %d) id '%s' %s", c->name, got, c->want, id, why);
	}
}

static const char google[] = "version: STSv1\nmode: enforce\nmx: gmail-smtp-in.l.google.com\n"
	"mx: *.gmail-smtp-in.l.google.com\nmax_age: 86400\n";
static const char microsoft[] = "version: STSv1\r\nmode: enforce\r\nmx: *.mail.protection.outlook.com\r\n"
	"max_age: 604800\r\n";

static const struct pol_case {
	const char *name, *body;
	bool ok;
	int mode;
	long max_age;
	size_t n_mx;
	const char *why;       /* part of the reason when !ok */
} pols[] = {
	{ "Google (LF)", google, true, MTA_STS_MODE_ENFORCE, 86400, 2, NULL },
	{ "Microsoft (CRLF)", microsoft, true, MTA_STS_MODE_ENFORCE, 604800, 1, NULL },
	{ "RFC example, testing", "version: STSv1\nmode: testing\nmx: mail.example.com\nmx: *.example.net\n"
	  "mx: backupmx.example.com\nmax_age: 604800", true, MTA_STS_MODE_TESTING, 604800, 3, NULL },
	{ "mode none without mx", "version: STSv1\nmode: none\nmax_age: 86400\n", true, MTA_STS_MODE_NONE, 86400, 0, NULL },
	{ "blank lines, blanks, an extension", "\nversion:STSv1  \n\nmode:   enforce\t\nfoo: bar baz\nmx: a.test\nmax_age: 0\n",
	  true, MTA_STS_MODE_ENFORCE, 0, 1, NULL },
	{ "no version", "mode: enforce\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0, "without version" },
	{ "no mode", "version: STSv1\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0, "without mode" },
	{ "no max_age", "version: STSv1\nmode: enforce\nmx: a.test\n", false, 0, 0, 0, "without max_age" },
	{ "enforce without mx", "version: STSv1\nmode: enforce\nmax_age: 1\n", false, 0, 0, 0, "without mx" },
	{ "wrong version", "version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0, "not STSv1" },
	{ "wrong mode", "version: STSv1\nmode: Enforce\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0, "mode:" },
	{ "mode twice", "version: STSv1\nmode: testing\nmode: enforce\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0, "twice" },
	{ "max_age too big", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557601\n", false, 0, 0, 0, "a year" },
	{ "max_age at the bound", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557600\n",
	  true, MTA_STS_MODE_ENFORCE, 31557600, 1, NULL },
	{ "max_age not a number", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 1d\n", false, 0, 0, 0, "digits" },
	{ "max_age 11 digits", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 00000000001\n", false, 0, 0, 0, "digits" },
	{ "mx wildcard in the middle", "version: STSv1\nmode: enforce\nmx: a.*.test\nmax_age: 1\n", false, 0, 0, 0, "mx:" },
	{ "mx bare *", "version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n", false, 0, 0, 0, "mx:" },
	{ "mx empty", "version: STSv1\nmode: enforce\nmx:\nmax_age: 1\n", false, 0, 0, 0, "mx:" },
	{ "no colon", "version STSv1\n", false, 0, 0, 0, "key: value" },
	{ "keys are case-sensitive", "Version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 1\n", false, 0, 0, 0,
	  "without version" },
	{ "a NUL byte", "version: STSv1\nmode: enforce\nmx: a.test\0\nmax_age: 1\n", false, 0, 0, 0, "control" },
	{ "UTF-8", "version: STSv1\nmode: enforce\nmx: \xc3\xa9.test\nmax_age: 1\n", false, 0, 0, 0, "past ASCII" },
	{ "HTML error page", "<html><body>404</body></html>\n", false, 0, 0, 0, "key: value" },
};

static void test_policy(void)
{
	static struct mta_sts_policy p;

	for (size_t i = 0; i < sizeof(pols) / sizeof(pols[0]); i++) {
		const struct pol_case *c = &pols[i];
		char why[200] = "";
		size_t len = strlen(c->body);
		bool ok;
		if (strcmp(c->name, "a NUL byte") == 0)
			len = sizeof("version: STSv1\nmode: enforce\nmx: a.test\0\nmax_age: 1\n") - 1;
		ok = mta_sts_policy_parse(c->body, len, &p, why, sizeof(why));
		if (c->ok)
			CHECK(ok && (int)p.mode == c->mode && p.max_age == c->max_age && p.n_mx == c->n_mx,
			      "policy %s: mode %s, max_age %ld, %zu mx %s", c->name, mta_sts_mode_name(p.mode),
			      p.max_age, p.n_mx, why);
		else
			CHECK(!ok && strstr(why, c->why), "policy %s: refused: %s", c->name, why);
	}
	CHECK(mta_sts_policy_parse(google, strlen(google), &p, NULL, 0) &&
	      strcmp(p.mx[1], "*.gmail-smtp-in.l.google.com") == 0, "patterns kept as written: %s", p.mx[1]);
}

static void test_big(void)
{
	static char body[MTA_STS_BODY_MAX + 100];
	static struct mta_sts_policy p;
	char why[200] = "";
	size_t n = (size_t)snprintf(body, sizeof(body), "version: STSv1\nmode: enforce\nmax_age: 1\n");

	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "mx: mx%d.test\n", i);
	CHECK(!mta_sts_policy_parse(body, n, &p, why, sizeof(why)) && strstr(why, "64 mx"), "65 mx: %s", why);
	memset(body + n, '#', sizeof(body) - n);
	CHECK(!mta_sts_policy_parse(body, MTA_STS_BODY_MAX + 1, &p, why, sizeof(why)) && strstr(why, "64 KiB"),
	      "over 64 KiB: %s", why);
}

static const struct match_case {
	const char *pattern, *host;
	bool match;
} matches[] = {
	{ "mx.example.com", "mx.example.com", true },
	{ "mx.example.com", "MX.Example.COM.", true },
	{ "mx.example.com", "mx2.example.com", false },
	{ "*.example.com", "mx1.example.com", true },
	{ "*.example.com", "example.com", false },
	{ "*.example.com", "a.b.example.com", false },     /* one label only (§4.1) */
	{ "*.example.com", ".example.com", false },
	{ "*.sts-walk.test", "deep.mx.sts-walk.test", false },
	{ "*.sts-walk.test", "good.sts-walk.test", true },
	{ "*.mail.protection.outlook.com", "contoso-com.mail.protection.outlook.com", true },
	{ "example.com", "*.example.com", false },
};

static void test_match(void)
{
	for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++)
		CHECK(mta_sts_pattern_match(matches[i].pattern, matches[i].host) == matches[i].match,
		      "'%s' %s '%s'", matches[i].pattern, matches[i].match ? "matches" : "does not match",
		      matches[i].host);
}

static void test_tlsrpt(void)
{
	const char *one[] = { "v=TLSRPTv1; rua=mailto:tlsrpt@example.com" };
	const char *two[] = { "v=TLSRPTv1; rua=mailto:a@b", "v=TLSRPTv1;rua=https://x" };
	const char *other[] = { "v=spf1 -all", "v=TLSRPTv10; rua=mailto:a@b" };
	const char *mixed[] = { "v=spf1 -all", "v=TLSRPTv1;rua=mailto:a@b" };

	CHECK(tlsrpt_txt(one, 1), "TLS-RPT: one record");
	CHECK(!tlsrpt_txt(two, 2), "TLS-RPT: two records are none (RFC 8460 §3)");
	CHECK(!tlsrpt_txt(other, 2), "TLS-RPT: no record of ours");
	CHECK(tlsrpt_txt(mixed, 2), "TLS-RPT: ours among others");
	CHECK(!tlsrpt_txt(NULL, 0), "TLS-RPT: nothing");
}

int main(void)
{
	test_txt();
	test_policy();
	test_big();
	test_match();
	test_tlsrpt();
	return unit_done();
}
