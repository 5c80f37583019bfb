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
	{ "timeout", K_DURATION, R(timeout_ms), "60s" },
	{ "connect_timeout", K_DURATION, R(connect_timeout_ms), "10s" },
	{ "poll_interval", K_DURATION, R(poll_interval_ms), "2s" },
	{ "subject_prefix", K_PREFIX, R(subject_prefix), "[e2e email monitoring]" },
	{ "delete", K_BOOL, R(delete_found), "true" },
	{ "idle", K_IDLE, R(idle), "auto" },
	{ "sweep_after", K_DURATION, R(sweep_after_ms), "1h" },
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
};
const size_t config_n_route_keys = sizeof(config_route_keys) / sizeof(config_route_keys[0]);

static const char *const process_keys[] = { "format", "measurement", "interval", "shutdown_grace",
                                            "server_concurrency" };

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

const char *config_shown(const char *v, char *buf, size_t len)
{
	size_t i = 0;

	for (; *v && i + 4 < len; v++)
		buf[i++] = ((unsigned char)*v < 0x20 || *v == 0x7f) ? '?' : *v;
	if (*v && len > 4) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
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

int config_key_apply(struct route *r, const struct keydef *k, const char *value,
                     char *why, size_t cap)
{
	char *base = (char *)r;
	char b[80];
	bool bv;
	long ms;
	int port;

	if (k->type != K_SECRET_FILE && config_has_control(value)) {
		snprintf(why, cap, "contains a control character (CR/LF are never allowed)");
		return -1;
	}
	switch (k->type) {
	case K_ADDRESS:
		if (!valid_address(value)) {
			snprintf(why, cap, "not an e-mail address: \"%s\"", config_shown(value, b, sizeof(b)));
			return -1;
		}
		break;
	case K_HOST:
		if (!valid_host(value)) {
			snprintf(why, cap, "not a host name or IP address: \"%s\"",
			      config_shown(value, b, sizeof(b)));
			return -1;
		}
		break;
	case K_PORT:
		if (parse_port(value, &port) != 0) {
			snprintf(why, cap, "not a port (1-65535): \"%s\"", config_shown(value, b, sizeof(b)));
			return -1;
		}
		*(int *)(base + k->off) = port;
		return 0;
	case K_TLS:
		if (strcmp(value, "starttls") == 0)
			*(enum tls_mode *)(base + k->off) = TLS_STARTTLS;
		else if (strcmp(value, "tls") == 0)
			*(enum tls_mode *)(base + k->off) = TLS_IMPLICIT;
		else if (strcmp(value, "none") == 0)
			*(enum tls_mode *)(base + k->off) = TLS_NONE;
		else {
			snprintf(why, cap, "expected starttls, tls or none, got \"%s\"",
			      config_shown(value, b, sizeof(b)));
			return -1;
		}
		return 0;
	case K_IDLE:
		if (strcmp(value, "auto") == 0)
			*(enum idle_mode *)(base + k->off) = IDLE_AUTO;
		else if (strcmp(value, "off") == 0)
			*(enum idle_mode *)(base + k->off) = IDLE_OFF;
		else {
			snprintf(why, cap, "expected auto or off, got \"%s\"", config_shown(value, b, sizeof(b)));
			return -1;
		}
		return 0;
	case K_BOOL:
		if (parse_bool(value, &bv) != 0) {
			snprintf(why, cap, "expected true/false, yes/no, on/off or 1/0, got \"%s\"",
			      config_shown(value, b, sizeof(b)));
			return -1;
		}
		*(bool *)(base + k->off) = bv;
		return 0;
	case K_DURATION:
		if (parse_duration_ms(value, &ms) != 0) {
			snprintf(why, cap, "not a duration (250ms, 10s, 2m, 1h, at most 1 week): \"%s\"", config_shown(value, b, sizeof(b)));
			return -1;
		}
		if (k->off == R(sweep_after_ms) && ms == 0) {
			/* 0 turns sweeping off */
		} else if ((k->off == R(poll_interval_ms) && ms < 100) || ms < 1) {
			snprintf(why, cap, "too short: %s", k->off == R(poll_interval_ms) ? "at least 100ms" : "must be above 0");
			return -1;
		}
		*(long *)(base + k->off) = ms;
		return 0;
	case K_MAILBOX: {
		char utf7[256];
		if (*value && imap_utf7_encode(value, utf7, sizeof(utf7)) < 0) {
			/* IMAP names are sent in modified UTF-7 (RFC 3501 5.1.3). */
			snprintf(why, cap, "not UTF-8, or too long for a mailbox name");
			return -1;
		}
	}
		/* fall through */
	case K_USER:
	case K_SECRET:
		if (!*value) {
			snprintf(why, cap, "empty");
			return -1;
		}
		break;
	case K_PREFIX:
		if (!config_printable_ascii(value) || strlen(value) > 200) {
			snprintf(why, cap, "only printable ASCII, at most 200 characters");
			return -1;
		}
		break;
	case K_CA_FILE:
		if (access(value, R_OK) != 0) {
			snprintf(why, cap, "cannot read %s: %s", config_shown(value, b, sizeof(b)), strerror(errno));
			return -1;
		}
		break;
	case K_AUTH:
		if (auth_mechanism(value, b, sizeof(b)) != 0) {
			snprintf(why, cap, "expected auto, PLAIN, LOGIN, CRAM-MD5, XOAUTH2 or OAUTHBEARER, got \"%s\"",
			      config_shown(value, b, sizeof(b)));
			return -1;
		}
		value = b;   /* stored in upper case */
		break;
	case K_TOKEN_FILE: {
		char *token;
		int rc = secret_file_read(value, SECRET_TOKEN, &token, why, cap);
		if (rc < 0)
			return -1;
		secret_free(token);
		if (rc > 0)
			log_warn("%s", why);
		break;
	}
	case K_URL:
		/* Tokens travel here: never in the clear (SPEC §10). */
		if (strncasecmp(value, "https://", 8) != 0 || !value[8] || strchr(value, ' ') ||
		    !config_printable_ascii(value)) {
			snprintf(why, cap, "not an https:// URL: \"%s\"", config_shown(value, b, sizeof(b)));
			return -1;
		}
		break;
	case K_PATH:
		if (!*value) {
			snprintf(why, cap, "empty");
			return -1;
		}
		break;
	case K_AUTH_FROM:
		if (!*value || !auth_results_from_valid(value, b, sizeof(b))) {
			snprintf(why, cap, "%s", *value ? b : "empty");
			return -1;
		}
		break;
	case K_AUTH_LIST:
		return parse_auth_list(value, (unsigned *)(base + k->off), why, cap);
	case K_EXPECT: {
		enum result_class rc;
		if (!result_from_name(value, &rc)) {
			snprintf(why, cap, "not a result name (success, smtp_rejected, smtp_auth_failed, timeout, ...): \"%s\"",
			         config_shown(value, b, sizeof(b)));
			return -1;
		}
		*(int *)(base + k->off) = (int)rc;
		return 0;
	}
	case K_SECRET_FILE:
	case K_TEXT:
		break;
	}
	{
		char **field = (char **)(base + k->off);
		char *copy = strdup(value);
		if (!copy) {
			snprintf(why, cap, "out of memory");
			return -1;
		}
		config_drop_string(field);
		*field = copy;
	}
	return 0;
}

void config_drop_string(char **field)
{
	if (*field) {
		explicit_bzero(*field, strlen(*field));
		free(*field);
		*field = NULL;
	}
}

bool config_key_is_string(enum ktype t)
{
	return t != K_PORT && t != K_TLS && t != K_BOOL && t != K_DURATION &&
	       t != K_IDLE && t != K_SECRET_FILE && t != K_AUTH_LIST && t != K_EXPECT;
}
