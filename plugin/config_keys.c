/*
 * config_keys.c - see config_keys.h: the route keys, their types and
 * defaults, and how one value is checked and stored.
 */
#include "config_keys.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth_methods.h"
#include "config_rep.h"
#include "config_mx.h"
#include "headers.h"
#include "imap_utf7.h"
#include "log.h"
#include "parse.h"
#include "result.h"
#include "secret_file.h"

#define R(f) offsetof(struct route, f)

const struct keydef config_route_keys[] = {
	{ "from", K_ADDRESS, R(from), NULL },
	{ "to", K_ADDRESS, R(to), NULL },
	{ "smtp_host", K_HOST, R(smtp_host), NULL },
	{ "smtp_tls", K_TLS, R(smtp_tls), "starttls" },
	{ "smtp_port", K_PORT, R(smtp_port), NULL },
	{ "smtp_username", K_USER, R(smtp_username), NULL },
	{ "smtp_password", K_SECRET, R(smtp_password), NULL },
	{ "smtp_password_file", K_SECRET_FILE, R(smtp_password), NULL },
	{ "imap_host", K_HOST, R(imap_host), NULL },
	{ "imap_tls", K_TLS, R(imap_tls), "starttls" },
	{ "imap_port", K_PORT, R(imap_port), NULL },
	{ "imap_username", K_USER, R(imap_username), NULL },
	{ "imap_password", K_SECRET, R(imap_password), NULL },
	{ "imap_password_file", K_SECRET_FILE, R(imap_password), NULL },
	{ "imap_mailbox", K_MAILBOX, R(imap_mailbox), "INBOX" },
	{ "smtp_auth", K_AUTH, R(smtp_auth), "auto" },
	{ "imap_auth", K_AUTH, R(imap_auth), "auto" },
	{ "smtp_oauth2_token_file", K_TOKEN_FILE, R(smtp_token_file), NULL },
	{ "imap_oauth2_token_file", K_TOKEN_FILE, R(imap_token_file), NULL },
	{ "tls_ca", K_CA_FILE, R(tls_ca), NULL },
	{ "insecure_skip_verify", K_BOOL, R(insecure_skip_verify), "false" },
	{ "timeout", K_DURATION, R(timeout_ms), "60s", R(timeout_text) },
	{ "connect_timeout", K_DURATION, R(connect_timeout_ms), "10s", R(connect_timeout_text) },
	{ "poll_interval", K_DURATION, R(poll_interval_ms), "2s", R(poll_interval_text) },
	{ "subject_prefix", K_PREFIX, R(subject_prefix), "[e2e email monitoring]" },
	{ "delete", K_BOOL, R(delete_found), "true" },
	{ "idle", K_IDLE, R(idle), "auto" },
	{ "sweep_after", K_DURATION, R(sweep_after_ms), "1h", R(sweep_after_text) },
	{ "check_junk", K_BOOL, R(check_junk), "true" },
	{ "imap_junk_mailbox", K_MAILBOX, R(imap_junk_mailbox), NULL },
	{ "junk_is_failure", K_BOOL, R(junk_is_failure), "false" },
	{ "oauth2_token_url", K_URL, R(oauth2_token_url), NULL },
	{ "oauth2_client_id", K_USER, R(oauth2_client_id), NULL },
	{ "oauth2_client_secret_file", K_SECRET_FILE, R(oauth2_client_secret), NULL },
	{ "oauth2_refresh_token_file", K_PATH, R(oauth2_refresh_token_file), NULL },
	{ "oauth2_scope", K_PREFIX, R(oauth2_scope), NULL },
	{ "oauth2_auth_url", K_URL, R(oauth2_auth_url), NULL },
	{ "oauth2_device_url", K_URL, R(oauth2_device_url), NULL },
	{ "bounce_imap_host", K_HOST, R(bounce_imap_host), NULL },
	{ "bounce_imap_tls", K_TLS, R(bounce_imap_tls), "starttls" },
	{ "bounce_imap_port", K_PORT, R(bounce_imap_port), NULL },
	{ "bounce_imap_username", K_USER, R(bounce_imap_username), NULL },
	{ "bounce_imap_password", K_SECRET, R(bounce_imap_password), NULL },
	{ "bounce_imap_password_file", K_SECRET_FILE, R(bounce_imap_password), NULL },
	{ "bounce_imap_mailbox", K_MAILBOX, R(bounce_imap_mailbox), "INBOX" },
	{ "auth_results_from", K_AUTH_FROM, R(auth_results_from), NULL },
	{ "require_auth", K_AUTH_LIST, R(require_auth), "" },
	{ "expect", K_EXPECT, R(expect), "success" },
	{ "max_spam_score", K_SPAM_SCORE, R(max_spam_score), NULL },
	{ "spam_filter_from", K_SPAM_FILTER, R(spam_filter_from), "any" },
	{ "dnsbl", K_DNSBL, R(dnsbl), NULL },
	{ "dnsbl_hop", K_DNSBL_HOP, R(dnsbl_hop), NULL },
	{ "smtp_via", K_VIA, R(smtp_via), "submission" },
	{ "mx_port", K_PORT, R(mx_port), "25" },
	{ "require_tls_policy", K_TLS_POLICY, R(require_tls_policy), "" },
};
const size_t config_n_route_keys = sizeof(config_route_keys) / sizeof(config_route_keys[0]);

static const char *const process_keys[] = { "format", "measurement", "interval", "shutdown_grace",
                                            "server_concurrency", "resolver", "dnssec_trust_anchor",
                                            "helo_name" };

const struct keydef *config_route_key(const char *name)
{
	for (size_t i = 0; i < config_n_route_keys; i++)
		if (strcmp(config_route_keys[i].name, name) == 0)
			return &config_route_keys[i];
	return NULL;
}

bool config_is_process_key(const char *name)
{
	for (size_t i = 0; i < sizeof(process_keys) / sizeof(process_keys[0]); i++)
		if (strcmp(process_keys[i], name) == 0)
			return true;
	return false;
}

#define NEAREST_MAX 48   /* longer names are no slip of the finger */

/* Optimal string alignment distance between a and b (both shorter than
 * NEAREST_MAX): insertions, deletions, substitutions and swaps of two
 * neighbours cost 1. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[NEAREST_MAX + 1][NEAREST_MAX + 1];

	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

#define N_KEYS (config_n_route_keys + sizeof(process_keys) / sizeof(process_keys[0]))

static const char *key_at(size_t i)
{
	return i < config_n_route_keys ? config_route_keys[i].name : process_keys[i - config_n_route_keys];
}

/* The one known key that starts with name ("smtp_user" -> smtp_username). */
static const char *only_completion(const char *name, size_t n)
{
	const char *found = NULL;

	for (size_t i = 0; i < N_KEYS; i++)
		if (strncmp(key_at(i), name, n) == 0) {
			if (found)
				return NULL;
			found = key_at(i);
		}
	return found;
}

const char *config_key_nearest(const char *name)
{
	size_t n = strlen(name), limit = n < 6 ? 1 : n < 12 ? 2 : 3, best = limit + 1;
	const char *found = NULL;

	if (n == 0 || n >= NEAREST_MAX)
		return NULL;
	for (size_t i = 0; i < N_KEYS; i++) {
		size_t dist = strlen(key_at(i)) < NEAREST_MAX ? edit_distance(name, key_at(i)) : best;
		if (dist < best) {
			best = dist;
			found = key_at(i);
		}
	}
	return found ? found : n >= 4 ? only_completion(name, n) : NULL;
}

bool config_has_control(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return true;
	return false;
}

static bool valid_address(const char *v)
{
	const char *at = strrchr(v, '@');

	if (!at || at == v || !at[1] || strlen(v) > 254)
		return false;
	for (; *v; v++)
		if ((unsigned char)*v <= 0x20 || strchr("<>()[]\\,;:\"", *v))
			return false;
	return true;
}

static bool valid_host(const char *v)
{
	if (!*v || strlen(v) > 253)
		return false;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || *v == '.' || *v == '-' || *v == '_' || *v == ':'))
			return false;
	return true;
}

bool config_printable_ascii(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
			return false;
	return true;
}



/* "xoauth2" -> "XOAUTH2"; -1 if not a mechanism we can use. */
static int auth_mechanism(const char *value, char *dst, size_t dstlen)
{
	static const char *const known[] = {
		"AUTO", "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", NULL
	};
	size_t i;

	for (i = 0; value[i] && i + 1 < dstlen; i++)
		dst[i] = (char)toupper((unsigned char)value[i]);
	dst[i] = '\0';
	for (const char *const *k = known; *k; k++)
		if (strcmp(dst, *k) == 0)
			return 0;
	return -1;
}

bool config_is_oauth(const char *mech)
{
	return strcmp(mech, "XOAUTH2") == 0 || strcmp(mech, "OAUTHBEARER") == 0;
}

/* "expected a list of spf, dkim, ...; got WORD" */
static void auth_list_error(const char *word, char *why, size_t cap)
{
	size_t n = (size_t)snprintf(why, cap, "expected a list of");

	for (int m = 0; m < AUTH_N && n < cap; m++)
		n += (size_t)snprintf(why + n, cap - n, "%s %s", m ? "," : "", auth_method_name(m));
	if (n < cap)
		snprintf(why + n, cap - n, "; got \"%s\"", word);
}

/* require_auth: "dkim, dmarc" -> AUTH_BIT()s; empty is none.  Each method
 * once. */
static int parse_auth_list(const char *value, unsigned *bits, char *why, size_t cap)
{
	const char *p = value;

	*bits = 0;
	while (*p) {
		char word[16];
		size_t n = 0;
		unsigned bit = 0;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		while (*p && *p != ',' && *p != ' ' && *p != '\t')
			if (n + 1 < sizeof(word))
				word[n++] = (char)tolower((unsigned char)*p++);
			else
				p++;
		word[n] = '\0';
		for (int m = 0; m < AUTH_N; m++)
			if (strcmp(word, auth_method_name(m)) == 0)
				bit = AUTH_BIT(m);
		if (!bit) {
			auth_list_error(word, why, cap);
			return -1;
		}
		if (*bits & bit) {
			snprintf(why, cap, "%s named twice", word);
			return -1;
		}
		*bits |= bit;
	}
	return 0;
}

/* --- one rule per key type ------------------------------------------------
 *
 * A rule checks value for k and stores it in r: a string is copied into its
 * field (store()), anything else written as its own type.  0, or -1 with
 * why. */

#define FIELD(r, k, type) ((type *)((char *)(r) + (k)->off))

typedef int key_rule(struct route *r, const struct keydef *k, const char *value,
                     char *why, size_t cap);

static int store(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	return config_keep(FIELD(r, k, char *), value, why, cap);
}

static int rule_text(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	return store(r, k, value, why, cap);
}

static int rule_nonempty(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	if (!*value) {
		snprintf(why, cap, "empty");
		return -1;
	}
	return store(r, k, value, why, cap);
}

static int rule_address(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	if (!valid_address(value))
		return config_refuse("not an e-mail address:", value, why, cap);
	return store(r, k, value, why, cap);
}

static int rule_host(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	if (!valid_host(value))
		return config_refuse("not a host name or IP address:", value, why, cap);
	return store(r, k, value, why, cap);
}

static int rule_port(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	if (parse_port(value, FIELD(r, k, int)) != 0)
		return config_refuse("not a port (1-65535):", value, why, cap);
	return 0;
}

static int rule_tls(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	if (strcmp(value, "starttls") == 0)
		*FIELD(r, k, enum tls_mode) = TLS_STARTTLS;
	else if (strcmp(value, "tls") == 0)
		*FIELD(r, k, enum tls_mode) = TLS_IMPLICIT;
	else if (strcmp(value, "none") == 0)
		*FIELD(r, k, enum tls_mode) = TLS_NONE;
	else
		return config_refuse("expected starttls, tls or none, got", value, why, cap);
	return 0;
}

static int rule_idle(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	if (strcmp(value, "auto") == 0)
		*FIELD(r, k, enum idle_mode) = IDLE_AUTO;
	else if (strcmp(value, "off") == 0)
		*FIELD(r, k, enum idle_mode) = IDLE_OFF;
	else
		return config_refuse("expected auto or off, got", value, why, cap);
	return 0;
}

static int rule_bool(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	if (parse_bool(value, FIELD(r, k, bool)) != 0)
		return config_refuse("expected true/false, yes/no, on/off or 1/0, got", value, why, cap);
	return 0;
}

static int rule_duration(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	bool poll = k->off == R(poll_interval_ms);
	long ms;

	if (parse_duration_ms(value, &ms) != 0)
		return config_refuse("not a duration (250ms, 10s, 2m, 1h, 1m30s; at most 1 week):", value, why, cap);
	if (k->off == R(sweep_after_ms) && ms == 0) {
		/* 0 turns sweeping off */
	} else if ((poll && ms < 100) || ms < 1) {
		snprintf(why, cap, "too short: %s", poll ? "at least 100ms" : "must be above 0");
		return -1;
	}
	*FIELD(r, k, long) = ms;
	if (k->text_off)   /* parse_duration_ms() took it: it fits */
		snprintf((char *)r + k->text_off, DURATION_TEXT_MAX, "%s", value);
	return 0;
}

static int rule_mailbox(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	char utf7[256];

	if (*value && imap_utf7_encode(value, utf7, sizeof(utf7)) < 0) {
		/* IMAP names are sent in modified UTF-7 (RFC 3501 5.1.3). */
		snprintf(why, cap, "not UTF-8, or too long for a mailbox name");
		return -1;
	}
	return rule_nonempty(r, k, value, why, cap);
}

static int rule_prefix(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	if (!config_printable_ascii(value) || strlen(value) > 200) {
		snprintf(why, cap, "only printable ASCII, at most 200 characters");
		return -1;
	}
	return store(r, k, value, why, cap);
}

static int rule_ca_file(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	char b[80];

	if (access(value, R_OK) != 0) {
		snprintf(why, cap, "cannot read %s: %s", config_shown(value, b, sizeof(b)), strerror(errno));
		return -1;
	}
	return store(r, k, value, why, cap);
}

/* Stored in upper case: "xoauth2" -> "XOAUTH2". */
static int rule_auth(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	char upper[80];

	if (auth_mechanism(value, upper, sizeof(upper)) != 0)
		return config_refuse("expected auto, PLAIN, LOGIN, CRAM-MD5, XOAUTH2 or OAUTHBEARER, got", value, why, cap);
	return store(r, k, upper, why, cap);
}

/* The file is read once here, so a bad one fails the load; the probe reads
 * it again every time (it is rewritten by whoever refreshes it). */
static int rule_token_file(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	char *token;
	int rc = secret_file_read(value, SECRET_TOKEN, &token, why, cap);

	if (rc < 0)
		return -1;
	secret_free(token);
	if (rc > 0)
		log_warn("%s", why);
	return store(r, k, value, why, cap);
}

/* Tokens travel here: never in the clear (SPEC §10). */
static int rule_url(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	if (strncasecmp(value, "https://", 8) != 0 || !value[8] || strchr(value, ' ') ||
	    !config_printable_ascii(value))
		return config_refuse("not an https:// URL:", value, why, cap);
	return store(r, k, value, why, cap);
}

static int rule_auth_from(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	char b[80];

	if (!*value || !auth_results_from_valid(value, b, sizeof(b))) {
		snprintf(why, cap, "%s", *value ? b : "empty");
		return -1;
	}
	return store(r, k, value, why, cap);
}

static int rule_auth_list(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	return parse_auth_list(value, FIELD(r, k, unsigned), why, cap);
}

static int rule_expect(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	enum result_class rc;

	if (!result_from_name(value, &rc))
		return config_refuse("not a result name (success, smtp_rejected, smtp_auth_failed, timeout, ...):",
		              value, why, cap);
	*FIELD(r, k, int) = (int)rc;
	return 0;
}

static key_rule *const rules[] = {
	[K_TEXT] = rule_text, [K_ADDRESS] = rule_address, [K_HOST] = rule_host,
	[K_PORT] = rule_port, [K_TLS] = rule_tls, [K_BOOL] = rule_bool,
	[K_DURATION] = rule_duration, [K_USER] = rule_nonempty, [K_SECRET] = rule_nonempty,
	[K_SECRET_FILE] = rule_text, [K_CA_FILE] = rule_ca_file, [K_IDLE] = rule_idle,
	[K_MAILBOX] = rule_mailbox, [K_PREFIX] = rule_prefix, [K_AUTH] = rule_auth,
	[K_TOKEN_FILE] = rule_token_file, [K_AUTH_FROM] = rule_auth_from,
	[K_AUTH_LIST] = rule_auth_list, [K_EXPECT] = rule_expect, [K_URL] = rule_url,
	[K_SPAM_SCORE] = config_rule_spam_score,
	[K_SPAM_FILTER] = config_rule_spam_filter, [K_DNSBL] = config_rule_dnsbl,
	[K_DNSBL_HOP] = config_rule_dnsbl_hop,
	[K_PATH] = rule_nonempty, [K_VIA] = config_rule_smtp_via, [K_TLS_POLICY] = config_rule_tls_policy,
};

int config_key_apply(struct route *r, const struct keydef *k, const char *value,
                     char *why, size_t cap)
{
	if ((unsigned)k->type >= sizeof(rules) / sizeof(rules[0]) || !rules[k->type]) {
		snprintf(why, cap, "no rule for this key (a bug)");
		return -1;
	}
	if (k->type != K_SECRET_FILE && config_has_control(value)) {
		snprintf(why, cap, "contains a control character (CR/LF are never allowed)");
		return -1;
	}
	return rules[k->type](r, k, value, why, cap);
}

bool config_key_is_string(enum ktype t)
{
	return t != K_PORT && t != K_TLS && t != K_BOOL && t != K_DURATION &&
	       t != K_IDLE && t != K_SECRET_FILE && t != K_AUTH_LIST && t != K_EXPECT &&
	       t != K_SPAM_SCORE && t != K_SPAM_FILTER && t != K_DNSBL_HOP &&
	       t != K_VIA && t != K_TLS_POLICY;
}
