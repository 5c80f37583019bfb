/*
 * config_keys.h - the keys a route may set (SPEC §4 and on): name, type,
 * field and built-in default, and how one value is checked and stored.
 * Private to the configuration (config.c loads the file and builds routes
 * with it); pure, no file is read here except what a key names (tls_ca,
 * token files are checked for readability).
 *
 * Contract:
 *  - config_key_apply() checks value for k and stores it in r: strings are
 *    copied (the route owns them; config_key_is_string() says which fields
 *    to free).  Returns 0, or -1 with why (cap bytes) saying what is wrong
 *    in words fit for "FILE:LINE: [section] key: why".
 */
#ifndef MAIL_E2E_CONFIG_KEYS_H
#define MAIL_E2E_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "config_value.h"

enum ktype {
	K_TEXT, K_ADDRESS, K_HOST, K_PORT, K_TLS, K_BOOL, K_DURATION, K_USER,
	K_SECRET, K_SECRET_FILE, K_CA_FILE, K_IDLE, K_MAILBOX, K_PREFIX,
	K_AUTH, K_TOKEN_FILE, K_AUTH_FROM, K_AUTH_LIST, K_EXPECT, K_URL, K_PATH,
	K_SPAM_SCORE, K_SPAM_FILTER, K_DNSBL, K_DNSBL_HOP,   /* config_rep.c */
	K_VIA, K_TLS_POLICY,
};

struct keydef {
	const char *name;
	enum ktype type;
	size_t off;          /* field in struct route */
	const char *def;     /* built-in default, NULL: none */
	size_t text_off;     /* K_DURATION: the char[DURATION_TEXT_MAX] field that
	                        keeps the value as written; 0: none */
};

extern const struct keydef config_route_keys[];
extern const size_t config_n_route_keys;

const struct keydef *config_route_key(const char *name);   /* NULL: no such key */
bool config_is_process_key(const char *name);
/* The known key (route or process-wide) nearest to an unknown name, by
 * edit distance (a swap of two neighbours counts one), if near enough to
 * be a slip: at most 1 edit for names under 6 characters, 2 under 12, else
 * 3; ties go to the first in the table.  Else the one key that starts
 * with name, if only one does (at least 4 characters).  NULL: none near. */
const char *config_key_nearest(const char *name);
bool config_key_is_string(enum ktype t);
int config_key_apply(struct route *r, const struct keydef *k, const char *value,
                     char *why, size_t cap);

/* Shared checks: a control character anywhere; only printable ASCII; an
 * OAuth2 mechanism name (config_shown() is config_value.h's). */
bool config_has_control(const char *v);
bool config_printable_ascii(const char *v);
bool config_is_oauth(const char *mech);

#endif
