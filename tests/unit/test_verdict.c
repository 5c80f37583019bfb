/*
 * test_verdict.c - require_auth and the evidence fields (plugin/verdict.c),
 * table-driven.
 */
#include <string.h>

#include "verdict.h"
#include "unit.h"

struct row {
	const char *name;
	unsigned require;
	const char *from;          /* auth_results_from */
	bool read, found;
	const char *id, *spf, *dkim, *dmarc, *arc;
	bool want_ok;
	const char *want_why;      /* substring, NULL: no check */
};

static const struct row rows[] = {
	{ "nothing required, all fail", 0, NULL, true, true, "mx.b", "fail", "fail", "fail", "", true, NULL },
	{ "dkim required, pass", REQUIRE_DKIM, NULL, true, true, "mx.b", "fail", "pass", "fail", "", true, NULL },
	{ "dkim required, fail", REQUIRE_DKIM, NULL, true, true, "mx.b", "pass", "fail", "pass", "", false,
	  "dkim=fail (required: pass), says Authentication-Results from mx.b" },
	{ "spf first of two failing", REQUIRE_SPF | REQUIRE_DMARC, NULL, true, true, "mx.b", "softfail", "pass",
	  "fail", "", false, "spf=softfail" },
	{ "dmarc missing in the header", REQUIRE_DMARC, NULL, true, true, "mx.b", "pass", "pass", "", "", false,
	  "dmarc=missing (required: pass): Authentication-Results from mx.b names no dmarc" },
	{ "no header at all", REQUIRE_DKIM, NULL, true, false, "", "", "", "", "", false,
	  "dkim=missing (required: pass): no Authentication-Results" },
	{ "no header from the listed ids", REQUIRE_DKIM, "mx.google.com", true, false, "", "", "", "", "", false,
	  "no Authentication-Results from mx.google.com" },
	{ "header not read", REQUIRE_SPF, NULL, false, false, "", "", "", "", "", false,
	  "could not be read" },
	{ "Microsoft 365 header without id", REQUIRE_DKIM, "-", true, true, "", "pass", "temperror", "pass", "",
	  false, "dkim=temperror (required: pass), says Authentication-Results from (no id)" },
	{ "arc required, pass", REQUIRE_ARC, NULL, true, true, "mx.b", "", "", "", "pass", true, NULL },
	{ "all four pass", REQUIRE_SPF | REQUIRE_DKIM | REQUIRE_DMARC | REQUIRE_ARC, NULL, true, true, "mx.b",
	  "pass", "pass", "pass", "pass", true, NULL },
	{ "not read, nothing required", 0, NULL, false, false, "", "", "", "", "", true, NULL },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct route r;
		struct imap_evidence ev;
		struct probe_result res;
		char why[256] = "";
		bool ok;

		memset(&r, 0, sizeof(r));
		memset(&ev, 0, sizeof(ev));
		result_init(&res, 0);
		r.require_auth = w->require;
		r.auth_results_from = (char *)w->from;
		ev.read = w->read;
		ev.auth.found = w->found;
		snprintf(ev.auth.authserv_id, sizeof(ev.auth.authserv_id), "%s", w->id);
		snprintf(ev.auth.spf, sizeof(ev.auth.spf), "%s", w->spf);
		snprintf(ev.auth.dkim, sizeof(ev.auth.dkim), "%s", w->dkim);
		snprintf(ev.auth.dmarc, sizeof(ev.auth.dmarc), "%s", w->dmarc);
		snprintf(ev.auth.arc, sizeof(ev.auth.arc), "%s", w->arc);
		ev.path.hops = 3;
		ev.path.plain_hops = 1;
		ev.path.has_transit = true;
		ev.path.transit_time = 2.5;
		ok = verdict_from_evidence(&r, &ev, &res, why, sizeof(why));
		CHECK(ok == w->want_ok && (!w->want_why || strstr(why, w->want_why)),
		      "%s -> %s '%s'", w->name, ok ? "ok" : "auth_failed", why);
		if (w->read)
			CHECK(res.hops == 3 && res.plain_hops == 1 && res.has_transit &&
			      strcmp(res.spf, w->spf) == 0 && strcmp(res.dkim, w->dkim) == 0,
			      "%s: fields copied (hops %d, dkim '%s')", w->name, res.hops, res.dkim);
		else
			CHECK(res.hops == -1 && !res.spf[0] && !res.has_transit,
			      "%s: nothing copied from an unread block", w->name);
	}
	return unit_done();
}
