/*
 * config_mx.h - the keys of SPEC §12 (direct delivery to the recipient's
 * MX): route keys smtp_via, mx_port, require_tls_policy; process keys
 * resolver, dnssec_trust_anchor, helo_name; the rules that tie them to the
 * other SMTP keys; and how --check-config shows them.  Private to the
 * configuration (config_keys.c's table, config.c's process setters,
 * config_route.c, config_print.c).
 *
 * Contract: each rule checks value and stores it in r or cfg (strings are
 * copied and owned by the struct; config_free() frees them); 0, or -1 with
 * why (cap bytes) in words fit for "FILE:LINE: [section] key: why".
 */
#ifndef MAIL_E2E_CONFIG_MX_H
#define MAIL_E2E_CONFIG_MX_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* Where the system keeps the DNSSEC root key (Debian's dns-root-data). */
#define CONFIG_MX_ROOT_KEY "/usr/share/dns/root.key"

struct keydef;
struct loader;
struct section;

/* Route keys, with config_keys.c's rule signature. */
int config_rule_smtp_via(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap);
int config_rule_tls_policy(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap);

/* Process keys, with config.c's setter signature. */
int config_mx_set_resolver(struct config *cfg, const char *key, const char *value, char *why, size_t cap);
int config_mx_set_trust_anchor(struct config *cfg, const char *key, const char *value, char *why, size_t cap);
int config_mx_set_helo_name(struct config *cfg, const char *key, const char *value, char *why, size_t cap);

/* A route built from sec and defs (config_route.c): with smtp_via = mx
 * none of the submission keys may be set, and the §12 route keys belong
 * to mx routes only.  0, or -1 with loader_fail(). */
int config_mx_route(struct loader *L, const struct route *r, const struct section *sec,
                    const struct section *defs);
/* Every route built (config.c): mx routes get the EHLO name (helo_name,
 * else the host's FQDN); the default trust anchor must exist where an mx
 * route needs it.  Submission routes get helo_name only where it is set.
 * 0, or -1 with loader_fail(). */
int config_mx_finish(struct loader *L, struct config *cfg);

/* --check-config: the process keys (no indent) and a route's SMTP lines
 * for smtp_via = mx (two-blank indent). */
void config_mx_print_process(FILE *out, const struct config *cfg);
void config_mx_print_route(FILE *out, const struct route *r);

#endif
