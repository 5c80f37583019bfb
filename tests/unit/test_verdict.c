/*
 * test_verdict.c - require_auth and the evidence fields (plugin/verdict.c),
 * max_spam_score and the spam fields (plugin/verdict_spam.c), table-driven.
 */
#include <string.h>

#include "auth_methods.h"
#include "verdict.h"
#include "verdict_spam.h"
#include "unit.h"

struct row {
	const char *name;
	unsigned require;
	const char *from;          /* auth_results_from */
	bool read, found;
	const char *id;
	const char *verdict[AUTH_N];   /* per method of auth_methods.h; NULL: "" */
	bool want_ok;
	const char *want_why;      /* substring, NULL: no check */
};

#define B(m) AUTH_BIT(AUTH_##m)

static const struct row rows[] = {
	{ "nothing required, all fail", 0, NULL, true, true, "mx.b", { "fail", "fail", "fail", "" }, true, NULL },
	{ "dkim required, pass", B(DKIM), NULL, true, true, "mx.b", { "fail", "pass", "fail", "" }, true, NULL },
	{ "dkim required, fail", B(DKIM), NULL, true, true, "mx.b", { "pass", "fail", "pass", "" }, false,
	  "dkim=fail (required: pass), says Authentication-Results from mx.b" },
	{ "spf first of two failing", B(SPF) | B(DMARC), NULL, true, true, "mx.b",
	  { "softfail", "pass", "fail", "" }, false, "spf=softfail" },
	{ "dmarc missing in the header", B(DMARC), NULL, true, true, "mx.b", { "pass", "pass", "", "" }, false,
	  "dmarc=missing (required: pass): Authentication-Results from mx.b names no dmarc" },
	{ "no header at all", B(DKIM), NULL, true, false, "", { "", "", "", "" }, false,
	  "dkim=missing (required: pass): no Authentication-Results" },
	{ "no header from the listed ids", B(DKIM), "mx.google.com", true, false, "", { "", "", "", "" },
	  false, "no Authentication-Results from mx.google.com" },
	{ "header not read", B(SPF), NULL, false, false, "", { "", "", "", "" }, false,
	  "could not be read" },
	{ "Microsoft 365 header without id", B(DKIM), "-", true, true, "", { "pass", "temperror", "pass", "" },
	  false, "dkim=temperror (required: pass), says Authentication-Results from (no id)" },
	{ "arc required, pass", B(ARC), NULL, true, true, "mx.b", { "", "", "", "pass" }, true, NULL },
	{ "all four pass", B(SPF) | B(DKIM) | B(DMARC) | B(ARC), NULL, true, true, "mx.b",
	  { "pass", "pass", "pass", "pass" }, true, NULL },
	{ "not read, nothing required", 0, NULL, false, false, "", { "", "", "", "" }, true, NULL },
};

/* verdict_spam(): a read block's verdict copied, flagged against max. */
static const struct spam_row {
	const char *name;
	bool read, has_max;
	double max;
	enum spam_filter filter;
	enum spam_flag spam;
	bool has_score;
	double score;
	bool want;
	const char *want_why;
} spam_rows[] = {
	{ "no max: only reported", true, false, 0, SPAM_FILTER_RSPAMD, SPAM_SPAM, true, 10, false, "" },
	{ "spam under max", true, true, 15, SPAM_FILTER_RSPAMD, SPAM_SPAM, true, 10, true,
	  "rspamd: X-Spam: Yes, score 10" },
	{ "ham over max", true, true, 5, SPAM_FILTER_SPAMASSASSIN, SPAM_HAM, true, 5.5, true,
	  "spamassassin: score 5.5 > max_spam_score 5" },
	{ "ham at max", true, true, 5, SPAM_FILTER_SPAMASSASSIN, SPAM_HAM, true, 5, false, "" },
	{ "no filter header", true, true, -100, SPAM_FILTER_NONE, SPAM_NONE, false, 0, false, "" },
	{ "block not read", false, true, -100, SPAM_FILTER_RSPAMD, SPAM_SPAM, true, 10, false, "" },
};

static void test_spam(void)
{
	for (size_t i = 0; i < sizeof(spam_rows) / sizeof(spam_rows[0]); i++) {
		const struct spam_row *w = &spam_rows[i];
		struct route r;
		struct imap_evidence ev;
		struct probe_result res;
		char why[256] = "x";
		bool flagged;

		memset(&r, 0, sizeof(r));
		memset(&ev, 0, sizeof(ev));
		result_init(&res, 0);
		r.has_max_spam_score = w->has_max;
		r.max_spam_score = w->max;
		ev.read = w->read;
		ev.spam.filter = w->filter;
		ev.spam.spam = w->spam;
		ev.spam.has_score = w->has_score;
		ev.spam.score = w->score;
		snprintf(ev.spam.why, sizeof(ev.spam.why), "%s", w->spam == SPAM_SPAM ? "X-Spam: Yes" : "");
		flagged = verdict_spam(&r, &ev, &res, why, sizeof(why));
		CHECK(flagged == w->want && strncmp(why, w->want_why, strlen(w->want_why)) == 0 && (w->want || !why[0]),
		      "spam %s -> %s '%s'", w->name, flagged ? "spam_flagged" : "not flagged", why);
		CHECK(res.rep.spam.filter == (w->read ? w->filter : SPAM_FILTER_NONE) &&
		      (!w->read || res.rep.spam.score == w->score),
		      "spam %s: the verdict copied only from a read block", w->name);
	}
}

int main(void)
{
	test_spam();
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct route r;
		struct imap_evidence ev;
		struct probe_result res;
		char why[256] = "";
		bool ok, copied;

		memset(&r, 0, sizeof(r));
		memset(&ev, 0, sizeof(ev));
		result_init(&res, 0);
		r.require_auth = w->require;
		r.auth_results_from = (char *)w->from;
		ev.read = w->read;
		ev.auth.found = w->found;
		snprintf(ev.auth.authserv_id, sizeof(ev.auth.authserv_id), "%s", w->id);
		for (int m = 0; m < AUTH_N; m++)
			snprintf(ev.auth.verdict[m], sizeof(ev.auth.verdict[m]), "%s",
			         w->verdict[m] ? w->verdict[m] : "");
		ev.path.hops = 3;
		ev.path.plain_hops = 1;
		ev.path.has_transit = true;
		ev.path.transit_time = 2.5;
		ok = verdict_from_evidence(&r, &ev, &res, why, sizeof(why));
		CHECK(ok == w->want_ok && (!w->want_why || strstr(why, w->want_why)),
		      "%s -> %s '%s'", w->name, ok ? "ok" : "auth_failed", why);
		copied = true;
		for (int m = 0; m < AUTH_N; m++)
			copied = copied && strcmp(res.verdict[m], w->read && w->verdict[m] ? w->verdict[m] : "") == 0;
		if (w->read)
			CHECK(res.hops == 3 && res.plain_hops == 1 && res.has_transit && copied,
			      "%s: fields copied (hops %d, dkim '%s')", w->name, res.hops, res.verdict[AUTH_DKIM]);
		else
			CHECK(res.hops == -1 && copied && !res.has_transit,
			      "%s: nothing copied from an unread block", w->name);
	}
	return unit_done();
}
