/*
 * config_rep.h - the route keys of SPEC §13 (spam verdicts, DNSBL): how
 * each value is checked and stored, and how --check-config shows them.
 * Private to the configuration (config_keys.c's table, config_print.c).
 * The lookups go through the process keys of §12, resolver and
 * dnssec_trust_anchor (config_mx.c).
 *
 * Contract: each rule checks value and stores it in r (strings are
 * copied with strdup and owned by the struct; config_free() frees them);
 * 0, or -1 with why (cap bytes) in words fit for "FILE:LINE: [section]
 * key: why".  An empty value is an error, as for every key (README: there
 * is no "unset" for an inherited default).
 */
#ifndef MAIL_E2E_CONFIG_REP_H
#define MAIL_E2E_CONFIG_REP_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

#define CONFIG_DNSBL_ZONES_MAX 16     /* zones in one dnsbl list */
#define CONFIG_DNSBL_TEXT_MAX 1000    /* bytes of the whole list */
#define CONFIG_DNSBL_HOP_MAX 100

struct keydef;

/* Route keys, with config_keys.c's rule signature (k is not used: each
 * rule knows its own fields). */
int config_rule_spam_score(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap);
int config_rule_spam_filter(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap);
int config_rule_dnsbl(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap);
int config_rule_dnsbl_hop(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap);

/* --check-config's lines for the route's keys (two-blank indent). */
void config_print_rep(FILE *out, const struct route *r);

#endif
