/*
 * verdict.c - see verdict.h.
 */
#include "verdict.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "auth_methods.h"

bool verdict_from_evidence(const struct route *r, const struct imap_evidence *ev,
                           struct probe_result *res, char *why, size_t cap)
{
	const char *id = ev->auth.authserv_id[0] ? ev->auth.authserv_id : "(no id)";

	if (ev->read) {
		for (int m = 0; m < AUTH_N; m++)
			snprintf(res->verdict[m], sizeof(res->verdict[m]), "%s", ev->auth.verdict[m]);
		res->hops = ev->path.hops;
		res->plain_hops = ev->path.plain_hops;
		res->has_transit = ev->path.has_transit;
		res->transit_time = ev->path.transit_time;
	}
	for (int m = 0; m < AUTH_N; m++) {
		const char *name = auth_method_name(m), *verdict = ev->auth.verdict[m];
		if (!(r->require_auth & AUTH_BIT(m)))
			continue;
		if (!ev->read)
			snprintf(why, cap, "%s=missing (required: pass): the probe's headers could not be read",
			         name);
		else if (!ev->auth.found)
			snprintf(why, cap, "%s=missing (required: pass): no Authentication-Results%s%s",
			         name, r->auth_results_from ? " from " : "",
			         r->auth_results_from ? r->auth_results_from : "");
		else if (!verdict[0])
			snprintf(why, cap, "%s=missing (required: pass): Authentication-Results from %s names no %s",
			         name, id, name);
		else if (strcmp(verdict, "pass") != 0)
			snprintf(why, cap, "%s=%s (required: pass), says Authentication-Results from %s",
			         name, verdict, id);
		else
			continue;
		return false;
	}
	return true;
}
