/*
 * verdict.c - see verdict.h.
 */
#include "verdict.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

bool verdict_from_evidence(const struct route *r, const struct imap_evidence *ev,
                           struct probe_result *res, char *why, size_t cap)
{
	static const struct { unsigned bit; const char *name; size_t off; } methods[] = {
		{ REQUIRE_SPF, "spf", offsetof(struct auth_verdicts, spf) },
		{ REQUIRE_DKIM, "dkim", offsetof(struct auth_verdicts, dkim) },
		{ REQUIRE_DMARC, "dmarc", offsetof(struct auth_verdicts, dmarc) },
		{ REQUIRE_ARC, "arc", offsetof(struct auth_verdicts, arc) },
	};
	if (ev->read) {
		snprintf(res->spf, sizeof(res->spf), "%s", ev->auth.spf);
		snprintf(res->dkim, sizeof(res->dkim), "%s", ev->auth.dkim);
		snprintf(res->dmarc, sizeof(res->dmarc), "%s", ev->auth.dmarc);
		snprintf(res->arc, sizeof(res->arc), "%s", ev->auth.arc);
		res->hops = ev->path.hops;
		res->plain_hops = ev->path.plain_hops;
		res->has_transit = ev->path.has_transit;
		res->transit_time = ev->path.transit_time;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		const char *verdict = (const char *)&ev->auth + methods[i].off;
		if (!(r->require_auth & methods[i].bit))
			continue;
		if (!ev->read)
			snprintf(why, cap, "%s=missing (required: pass): the probe's headers could not be read",
			         methods[i].name);
		else if (!ev->auth.found)
			snprintf(why, cap, "%s=missing (required: pass): no Authentication-Results%s%s",
			         methods[i].name, r->auth_results_from ? " from " : "",
			         r->auth_results_from ? r->auth_results_from : "");
		else if (!verdict[0])
			snprintf(why, cap, "%s=missing (required: pass): Authentication-Results from %s names no %s",
			         methods[i].name, ev->auth.authserv_id[0] ? ev->auth.authserv_id : "(no id)",
			         methods[i].name);
		else if (strcmp(verdict, "pass") != 0)
			snprintf(why, cap, "%s=%s (required: pass), says Authentication-Results from %s",
			         methods[i].name, verdict, ev->auth.authserv_id[0] ? ev->auth.authserv_id : "(no id)");
		else
			continue;
		return false;
	}
	return true;
}
