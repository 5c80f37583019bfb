/*
 * config_route.c - pass 2 of the loader (see config.c): one route built
 * from its own section, [defaults] and the built-in defaults, each value
 * checked where it was written; then the rules that tie keys together
 * (passwords or tokens per leg, OAuth2 client legs, the bounce mailbox).
 */
#include "config_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config_keys.h"
#include "config_mx.h"
#include "probe_id.h"

/* One leg's credentials: a password or a token file, and a mechanism that
 * fits what is there. */
static int check_login(struct loader *L, const struct section *sec, const char *leg,
                       const char *password, const char *token_file, const char *mech,
                       bool token_client)
{
	char key[40];

	if (token_client)
		return 0;   /* set up by oauth2_legs(): no password, no token file */
	if (password && token_file) {
		snprintf(key, sizeof(key), "%s_oauth2_token_file", leg);
		loader_fail(L, sec->line, sec->name, key, "set together with %s_password: keep one", leg);
		return -1;
	}
	if (config_is_oauth(mech) && !token_file) {
		snprintf(key, sizeof(key), "%s_auth", leg);
		loader_fail(L, sec->line, sec->name, key, "%s needs %s_oauth2_token_file or oauth2_token_url",
		            mech, leg);
		return -1;
	}
	if (token_file && strcmp(mech, "AUTO") != 0 && !config_is_oauth(mech)) {
		snprintf(key, sizeof(key), "%s_auth", leg);
		loader_fail(L, sec->line, sec->name, key,
		            "%s cannot use a token: use auto, XOAUTH2 or OAUTHBEARER with %s_oauth2_token_file",
		            mech, leg);
		return -1;
	}
	return 0;
}

/* Which of KEY / KEY_file supplies a password: the route's own section
 * decides if it names either, else [defaults]; both in one section is an
 * error. */
static int pick_password(struct loader *L, struct route *r, const struct section *route_sec,
                         const struct section *defs, const char *key, char **file_field)
{
	char file_key[40];
	const struct section *from = route_sec;
	struct kv *inline_kv, *file_kv;

	snprintf(file_key, sizeof(file_key), "%s_file", key);
	if (!loader_kv(route_sec, key) && !loader_kv(route_sec, file_key))
		from = defs;
	inline_kv = loader_kv(from, key);
	file_kv = loader_kv(from, file_key);
	if (inline_kv && file_kv) {
		loader_fail(L, file_kv->line, from->name, file_key, "set together with %s (line %d): keep one",
		            key, inline_kv->line);
		return -1;
	}
	if (inline_kv)
		return loader_apply_key(L, r, config_route_key(key), inline_kv->value, inline_kv->line, from->name);
	if (file_kv) {
		char *secret = loader_read_secret(L, file_kv, from->name, SECRET_PASSWORD);
		char **field = (char **)((char *)r + config_route_key(key)->off);
		if (!secret)
			return -1;
		*field = secret;
		*file_field = strdup(file_kv->value);
		if (!*file_field) {
			loader_fail(L, 0, NULL, NULL, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* A route that names its own way to log in (password or token file) wins
 * over the other way inherited from [defaults]; both in the route itself
 * stay, for check_login to refuse. */
static void prefer_own_login(const struct section *sec, const char *leg, char **password,
                             char **password_file, char **token_file)
{
	char key[48], file_key[48], token_key[48];
	bool own_password, own_token;

	snprintf(key, sizeof(key), "%s_password", leg);
	snprintf(file_key, sizeof(file_key), "%s_password_file", leg);
	snprintf(token_key, sizeof(token_key), "%s_oauth2_token_file", leg);
	own_password = loader_kv(sec, key) || loader_kv(sec, file_key);
	own_token = loader_kv(sec, token_key) != NULL;
	if (own_token && !own_password) {
		config_drop_string(password);
		config_drop_string(password_file);
	} else if (own_password && !own_token) {
		config_drop_string(token_file);
	}
}

/* oauth2_client_secret_file (password-file rules) and
 * oauth2_refresh_token_file (the same rules where it exists: it is read at
 * every refresh; before the first --oauth2-login it does not exist yet,
 * and a probe then fails its login saying so). */
static int oauth2_files(struct loader *L, struct route *r, const struct section *sec,
                        const struct section *defs)
{
	const struct section *from = loader_kv(sec, "oauth2_client_secret_file") ? sec : defs;
	struct kv *kv = loader_kv(from, "oauth2_client_secret_file");

	if (kv) {
		r->oauth2_client_secret = loader_read_secret(L, kv, from->name, SECRET_CLIENT_SECRET);
		r->oauth2_client_secret_file = r->oauth2_client_secret ? strdup(kv->value) : NULL;
		if (!r->oauth2_client_secret_file) {
			if (r->oauth2_client_secret)
				loader_fail(L, 0, NULL, NULL, "out of memory");
			return -1;
		}
	}
	from = loader_kv(sec, "oauth2_refresh_token_file") ? sec : defs;
	kv = loader_kv(from, "oauth2_refresh_token_file");
	if (kv && !(access(kv->value, F_OK) != 0 && errno == ENOENT) &&
	    loader_check_secret(L, kv->value, kv->line, from->name, kv->key, SECRET_REFRESH_TOKEN) != 0)
		return -1;
	return 0;
}

/* Which legs get their token from the built-in client (SPEC §10): those
 * with oauth2_token_url, no password and no token file, logging in with
 * auto (then XOAUTH2), XOAUTH2 or OAUTHBEARER. */
static int oauth2_legs(struct loader *L, struct route *r, const struct section *sec)
{
	static const char *const needs_url[] = { "oauth2_client_id", "oauth2_client_secret_file",
		"oauth2_refresh_token_file", "oauth2_scope", "oauth2_auth_url", "oauth2_device_url" };
	char **auth[2] = { &r->smtp_auth, &r->imap_auth };
	bool *client[2] = { &r->smtp_oauth2_client, &r->imap_oauth2_client };
	bool has_login[2] = { r->smtp_username && !r->smtp_password && !r->smtp_token_file,
	                      !r->imap_password && !r->imap_token_file };

	if (!r->oauth2_token_url) {
		for (size_t i = 0; i < sizeof(needs_url) / sizeof(needs_url[0]); i++)
			if (*(char **)((char *)r + config_route_key(needs_url[i])->off)) {
				loader_fail(L, sec->line, sec->name, needs_url[i], "set, but no oauth2_token_url");
				return -1;
			}
		return 0;
	}
	if (!r->oauth2_client_id) {
		loader_fail(L, sec->line, sec->name, "oauth2_client_id", "required with oauth2_token_url");
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		bool usable = strcmp(*auth[i], "AUTO") == 0 || config_is_oauth(*auth[i]);
		if (!has_login[i] || !usable)
			continue;
		*client[i] = true;
		if (strcmp(*auth[i], "AUTO") == 0) {
			char *x = strdup("XOAUTH2");
			if (!x) {
				loader_fail(L, 0, NULL, NULL, "out of memory");
				return -1;
			}
			config_drop_string(auth[i]);
			*auth[i] = x;
		}
	}
	return 0;
}

/* The bounce mailbox: all or nothing. */
static int check_bounce(struct loader *L, struct route *r, const struct section *sec)
{
	if (!r->bounce_imap_host) {
		if (r->bounce_imap_username || r->bounce_imap_password) {
			loader_fail(L, sec->line, sec->name, r->bounce_imap_username ? "bounce_imap_username"
			            : "bounce_imap_password", "set, but no bounce_imap_host");
			return -1;
		}
		return 0;
	}
	if (!r->bounce_imap_username || !r->bounce_imap_password) {
		loader_fail(L, sec->line, sec->name, !r->bounce_imap_username ? "bounce_imap_username"
		            : "bounce_imap_password", "required with bounce_imap_host%s",
		            r->bounce_imap_username ? " (or bounce_imap_password_file)" : "");
		return -1;
	}
	if (!r->bounce_imap_port)
		r->bounce_imap_port = r->bounce_imap_tls == TLS_IMPLICIT ? 993 : 143;
	return 0;
}

/* Key types whose route field is a heap string (K_SECRET_FILE shares its
 * field with K_SECRET, so it is not counted twice). */
void config_free_route(struct route *r)
{
	for (size_t i = 0; i < config_n_route_keys; i++) {
		char **field = (char **)((char *)r + config_route_keys[i].off);
		if (config_key_is_string(config_route_keys[i].type))
			config_drop_string(field);
	}
	probe_ledger_free(r->ledger);
	free(r->name);
	free(r->smtp_password_file);
	free(r->imap_password_file);
	free(r->bounce_imap_password_file);
	config_drop_string(&r->oauth2_client_secret);   /* only a _file key names it */
	free(r->oauth2_client_secret_file);
	free(r->helo_name);
	memset(r, 0, sizeof(*r));
}

/* Every key in the section is a route key. */
static int check_keys_known(struct loader *L, const struct section *sec)
{
	for (size_t i = 0; i < sec->n; i++) {
		const char *key = sec->kvs[i].key;
		if (config_is_process_key(key)) {
			loader_fail(L, sec->kvs[i].line, sec->name, key, "allowed only in [%s]", DEFAULTS);
			return -1;
		}
		if (!config_route_key(key)) {
			const char *near = config_key_nearest(key);
			loader_fail(L, sec->kvs[i].line, sec->name, key, "unknown key%s%s%s",
			            near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
			return -1;
		}
	}
	return 0;
}

/* Each key from the route's section, else [defaults], else its built-in
 * default; passwords are left to pick_password(). */
static int apply_keys(struct loader *L, struct route *r, const struct section *sec,
                      const struct section *defs)
{
	for (size_t i = 0; i < config_n_route_keys; i++) {
		const struct keydef *k = &config_route_keys[i];
		const struct section *from = sec;
		struct kv *kv = loader_kv(sec, k->name);
		if (k->type == K_SECRET || k->type == K_SECRET_FILE)
			continue;
		if (!kv) {
			kv = loader_kv(defs, k->name);
			from = defs;
		}
		if (kv) {
			if (loader_apply_key(L, r, k, kv->value, kv->line, from->name) != 0)
				return -1;
		} else if (k->def) {
			if (loader_apply_key(L, r, k, k->def, 0, NULL) != 0)
				return -1;
		}
	}
	return 0;
}

static int check_required(struct loader *L, struct route *r, const struct section *sec)
{
	static const char *const required[] = { "from", "to", "smtp_host", "imap_host", "imap_username" };

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		char **field = (char **)((char *)r + config_route_key(required[i])->off);
		if (r->smtp_via == SMTP_VIA_MX && strcmp(required[i], "smtp_host") == 0)
			continue;   /* the MX hosts of `to` */
		if (!*field) {
			loader_fail(L, sec->line, sec->name, required[i], "required, not set here or in [%s]",
			            DEFAULTS);
			return -1;
		}
	}
	return 0;
}

/* Each leg has a way to log in where it needs one, and no way where it
 * has no username. */
static int check_credentials(struct loader *L, struct route *r, const struct section *sec)
{
	if (!r->imap_password && !r->imap_token_file && !r->imap_oauth2_client) {
		loader_fail(L, sec->line, sec->name, "imap_password",
		            "required: set imap_password, imap_password_file, imap_oauth2_token_file or oauth2_token_url");
		return -1;
	}
	if (r->smtp_username && !r->smtp_password && !r->smtp_token_file && !r->smtp_oauth2_client) {
		loader_fail(L, sec->line, sec->name, "smtp_password",
		            "smtp_username is set: set smtp_password, smtp_password_file, smtp_oauth2_token_file "
		            "or oauth2_token_url");
		return -1;
	}
	if (!r->smtp_username && (r->smtp_password || r->smtp_token_file ||
	                          strcmp(r->smtp_auth, "AUTO") != 0)) {
		loader_fail(L, sec->line, sec->name, "smtp_username",
		            r->smtp_password ? "a password is set but no smtp_username"
		            : r->smtp_token_file ? "a token file is set but no smtp_username"
		            : "smtp_auth is set but no smtp_username (no username: no AUTH)");
		return -1;
	}
	if (check_login(L, sec, "smtp", r->smtp_password, r->smtp_token_file, r->smtp_auth,
	                r->smtp_oauth2_client) != 0 ||
	    check_login(L, sec, "imap", r->imap_password, r->imap_token_file, r->imap_auth,
	                r->imap_oauth2_client) != 0)
		return -1;
	return 0;
}

/* Ports from the TLS modes, the junk mailbox apart from the inbox, and the
 * ledger. */
static int finish_route(struct loader *L, struct route *r, const struct section *sec)
{
	if (!r->smtp_port)
		r->smtp_port = r->smtp_tls == TLS_IMPLICIT ? 465 : r->smtp_tls == TLS_NONE ? 25 : 587;
	if (!r->imap_port)
		r->imap_port = r->imap_tls == TLS_IMPLICIT ? 993 : 143;
	if (r->imap_junk_mailbox && strcasecmp(r->imap_junk_mailbox, r->imap_mailbox) == 0) {
		loader_fail(L, sec->line, sec->name, "imap_junk_mailbox", "the same as imap_mailbox (%s)",
		            r->imap_mailbox);
		return -1;
	}
	/* OAuth2-only routes have no stable secret: their key comes from the
	 * route's identity alone (README: keeping the mailbox clean). */
	r->ledger = probe_ledger_new(r->imap_password ? r->imap_password : r->smtp_password,
	                             r->name, r->imap_username, r->to);
	if (!r->ledger) {
		loader_fail(L, 0, NULL, NULL, "out of memory");
		return -1;
	}
	return 0;
}

int config_build_route(struct loader *L, struct route *r, const struct section *sec,
                       const struct section *defs)
{
	memset(r, 0, sizeof(*r));
	r->name = strdup(sec->name);
	if (!r->name) {
		loader_fail(L, 0, NULL, NULL, "out of memory");
		return -1;
	}
	if (check_keys_known(L, sec) != 0 || apply_keys(L, r, sec, defs) != 0)
		return -1;
	if (pick_password(L, r, sec, defs, "smtp_password", &r->smtp_password_file) != 0 ||
	    pick_password(L, r, sec, defs, "imap_password", &r->imap_password_file) != 0 ||
	    pick_password(L, r, sec, defs, "bounce_imap_password", &r->bounce_imap_password_file) != 0 ||
	    oauth2_files(L, r, sec, defs) != 0)
		return -1;
	prefer_own_login(sec, "smtp", &r->smtp_password, &r->smtp_password_file, &r->smtp_token_file);
	prefer_own_login(sec, "imap", &r->imap_password, &r->imap_password_file, &r->imap_token_file);
	if (check_required(L, r, sec) != 0 || config_mx_route(L, r, sec, defs) != 0 || oauth2_legs(L, r, sec) != 0 ||
	    check_credentials(L, r, sec) != 0 || check_bounce(L, r, sec) != 0)
		return -1;
	return finish_route(L, r, sec);
}
