/*
 * config_rep.c - see config_rep.h.
 */
#include "config_rep.h"

#include <stdlib.h>
#include <string.h>

#include "config_value.h"
#include "dnsbl.h"
#include "parse.h"
#include "spam.h"

int config_rule_spam_score(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	double d;

	(void)k;
	if (!spam_score_parse(value, &d))
		return config_refuse("expected a number such as 5 or 4.5 (at most 9 digits before the point), got",
		              value, why, cap);
	r->has_max_spam_score = true;
	r->max_spam_score = d;
	return 0;
}

int config_rule_spam_filter(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	enum spam_filter f;

	(void)k;
	if (!*value || !spam_filter_parse(value, &f))
		return config_refuse("expected spamassassin, rspamd, microsoft or any, got", value, why, cap);
	r->spam_filter_from = (int)f;
	return 0;
}

int config_rule_dnsbl(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	char b[200];

	(void)k;
	if (!*value) {
		snprintf(why, cap, "empty");
		return -1;
	}
	if (strlen(value) > CONFIG_DNSBL_TEXT_MAX) {
		snprintf(why, cap, "too long: at most %d characters", CONFIG_DNSBL_TEXT_MAX);
		return -1;
	}
	if (!dnsbl_zones_valid(value, b, sizeof(b))) {
		snprintf(why, cap, "%s", strncmp(b, "dnsbl: ", 7) == 0 ? b + 7 : b);
		return -1;
	}
	if (dnsbl_zone_count(value) > CONFIG_DNSBL_ZONES_MAX) {
		snprintf(why, cap, "%zu zones: at most %d", dnsbl_zone_count(value), CONFIG_DNSBL_ZONES_MAX);
		return -1;
	}
	return config_keep(&r->dnsbl, value, why, cap);
}

int config_rule_dnsbl_hop(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	long hop;

	(void)k;
	if (parse_count(value, 1, CONFIG_DNSBL_HOP_MAX, &hop) != 0) {
		char text[80];
		snprintf(text, sizeof(text), "expected a Received header's place from the top, 1 to %d, got",
		         CONFIG_DNSBL_HOP_MAX);
		return config_refuse(text, value, why, cap);
	}
	r->dnsbl_hop = (int)hop;
	return 0;
}

/* A score as written back: "5", "4.5", "-0.25" (six decimals at most,
 * trailing zeros dropped). */
static const char *score_text(double d, char *buf, size_t cap)
{
	size_t n;

	snprintf(buf, cap, "%.6f", d);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

void config_print_rep(FILE *out, const struct route *r)
{
	const char *from = spam_filter_name((enum spam_filter)r->spam_filter_from);
	char b[40];

	if (r->has_max_spam_score)
		fprintf(out, "  max_spam_score = %s\n", score_text(r->max_spam_score, b, sizeof(b)));
	else
		fprintf(out, "  max_spam_score = (none: spam verdicts are only reported)\n");
	fprintf(out, "  spam_filter_from = %s\n", *from ? from : "any");
	fprintf(out, "  dnsbl = %s\n", r->dnsbl ? r->dnsbl : "(none: no lookup)");
	if (r->dnsbl && r->dnsbl_hop)
		fprintf(out, "  dnsbl_hop = %d\n", r->dnsbl_hop);
	else if (r->dnsbl)
		fprintf(out, "  dnsbl_hop = (the topmost Received header with a public address)\n");
}
