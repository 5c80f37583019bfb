/*
 * reputation.h - SPEC §13's part of a probe's line: what the receiver's
 * spam filter said of the probe and where the sending host is listed.
 * The probe fills it (verdict_spam.c from the header block, dnsbl_run.c
 * from the lookups); output_rep.c writes it.
 *
 * Contract: plain data inside struct probe_result (one member), no heap;
 * all zero is "nothing to report" (every field absent).
 */
#ifndef MAIL_E2E_REPUTATION_H
#define MAIL_E2E_REPUTATION_H

#include <stdbool.h>

#include "dnsbl.h"
#include "spam.h"

#define REPUTATION_ZONES_MAX 1001   /* config_rep.h's CONFIG_DNSBL_TEXT_MAX + 1 */

struct reputation {
	/* spam_score, spam_threshold, spam, spam_filter, scl: filter
	 * SPAM_FILTER_NONE means none of them. */
	struct spam_verdict spam;
	/* dnsbl_ip and dnsbl_listed, where an address was looked up. */
	bool dnsbl_looked;
	char dnsbl_ip[DNSBL_IP_MAX];
	int dnsbl_listed;
	char dnsbl_zones[REPUTATION_ZONES_MAX];   /* the listing zones; "" none */
};

#endif
