/*
 * config_print.c - --check-config's listing (see config.h: config_print):
 * every route with its effective values, never a secret (passwords and
 * client secrets show as "(set)" or "(from FILE)"), and one W! line on
 * stderr for each thing a first run still lacks.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth_methods.h"
#include "config_rep.h"
#include "config_mx.h"
#include "log.h"
#include "result.h"

static const char *tls_name(enum tls_mode m)
{
	return m == TLS_STARTTLS ? "starttls" : m == TLS_IMPLICIT ? "tls" : "none";
}

/* A duration as written (issue 21: "1m30s" stays "1m30s"); a bare number
 * is seconds and says so; never set: "(none)". */
static const char *written(const char *text, char *buf, size_t cap)
{
	size_t n = strlen(text);

	if (n == 0)
		return "(none)";
	snprintf(buf, cap, "%s%s", text, text[n - 1] >= '0' && text[n - 1] <= '9' ? "s" : "");
	return buf;
}

static void print_secret(FILE *out, const char *key, const char *value, const char *file)
{
	if (file)
		fprintf(out, "  %s = (from %s)\n", key, file);
	else if (value)
		fprintf(out, "  %s = (set)\n", key);
}

/* The keys of SPEC §7, §8 and §10, where set. */
static void print_more(FILE *out, const struct route *r)
{
	const char *sep = "";

	fprintf(out, "  expect = %s\n  auth_results_from = %s\n  require_auth = ",
	        result_name((enum result_class)r->expect),
	        r->auth_results_from ? r->auth_results_from : "(the topmost of any id)");
	for (int m = 0; m < AUTH_N; m++)
		if (r->require_auth & AUTH_BIT(m)) {
			fprintf(out, "%s%s", sep, auth_method_name(m));
			sep = ", ";
		}
	fprintf(out, "%s\n", r->require_auth ? "" : "(none)");
	config_print_rep(out, r);
	if (r->oauth2_token_url) {
		fprintf(out, "  oauth2_token_url = %s\n  oauth2_client_id = %s\n", r->oauth2_token_url,
		        r->oauth2_client_id);
		print_secret(out, "oauth2_client_secret", r->oauth2_client_secret, r->oauth2_client_secret_file);
		fprintf(out, "  oauth2 grant = %s%s\n", r->oauth2_refresh_token_file ? "refresh token from "
		        : "client credentials", r->oauth2_refresh_token_file ? r->oauth2_refresh_token_file : "");
		if (r->oauth2_scope)
			fprintf(out, "  oauth2_scope = %s\n", r->oauth2_scope);
		fprintf(out, "  oauth2 token client for: %s%s%s\n", r->smtp_oauth2_client ? "smtp" : "",
		        r->smtp_oauth2_client && r->imap_oauth2_client ? ", " : "",
		        r->imap_oauth2_client ? "imap" : r->smtp_oauth2_client ? "" : "(no leg)");
	}
	if (r->bounce_imap_host) {
		fprintf(out, "  bounce_imap = %s:%d (%s)\n  bounce_imap_username = %s\n", r->bounce_imap_host,
		        r->bounce_imap_port, tls_name(r->bounce_imap_tls), r->bounce_imap_username);
		print_secret(out, "bounce_imap_password", r->bounce_imap_password, r->bounce_imap_password_file);
		fprintf(out, "  bounce_imap_mailbox = %s\n", r->bounce_imap_mailbox);
	}
}

static void print_submission(FILE *out, const struct route *r)
{
	fprintf(out, "  smtp = %s:%d (%s)\n", r->smtp_host, r->smtp_port, tls_name(r->smtp_tls));
	if (r->smtp_username)
		fprintf(out, "  smtp_username = %s\n", r->smtp_username);
	else
		fprintf(out, "  smtp_username = (none: no AUTH)\n");
	print_secret(out, "smtp_password", r->smtp_password, r->smtp_password_file);
	if (r->smtp_token_file)
		fprintf(out, "  smtp_oauth2_token_file = %s\n", r->smtp_token_file);
	fprintf(out, "  smtp_auth = %s\n", r->smtp_auth);
}

/* A first run from sample.conf (issue 19): the refresh-token file comes
 * from --oauth2-login, and the providers want a scope.  Valid either way,
 * so warnings, not errors. */
static void oauth2_advice(const struct config *cfg, const struct route *r)
{
	if (!r->oauth2_token_url)
		return;
	if (r->oauth2_refresh_token_file && access(r->oauth2_refresh_token_file, F_OK) != 0 && errno == ENOENT)
		log_warn("[%s] oauth2_refresh_token_file %s does not exist yet: run `mail-e2e -c %s "
		         "--oauth2-login %s` once, on a terminal", r->name, r->oauth2_refresh_token_file,
		         cfg->path, r->name);
	if (!r->oauth2_scope)
		log_warn("[%s] oauth2_scope is not set: Microsoft and Google need one (README, OAuth2, "
		         "has the values)", r->name);
}

void config_print(const struct config *cfg, FILE *out)
{
	char b1[DURATION_TEXT_MAX + 2];

	fprintf(out, "config %s: OK, %zu route(s)\n", cfg->path, cfg->n_routes);
	fprintf(out, "format = %s\nmeasurement = %s\n", cfg->format == FORMAT_JSON ? "json" : "influx",
	        cfg->measurement);
	fprintf(out, "interval = %s%s\n", written(cfg->interval_text, b1, sizeof(b1)),
	        cfg->interval_text[0] && !cfg->interval_ms ? " (off)" : "");
	fprintf(out, "shutdown_grace = %s\nserver_concurrency = %ld\n",
	        written(cfg->shutdown_grace_text, b1, sizeof(b1)), cfg->server_concurrency);
	config_mx_print_process(out, cfg);
	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct route *r = &cfg->routes[i];
		fprintf(out, "\n[%s]\n  from = %s\n  to = %s\n", r->name, r->from, r->to);
		if (r->smtp_via == SMTP_VIA_MX)
			config_mx_print_route(out, r);
		else
			print_submission(out, r);
		fprintf(out, "  imap = %s:%d (%s)\n  imap_username = %s\n", r->imap_host,
		        r->imap_port, tls_name(r->imap_tls), r->imap_username);
		print_secret(out, "imap_password", r->imap_password, r->imap_password_file);
		if (r->imap_token_file)
			fprintf(out, "  imap_oauth2_token_file = %s\n", r->imap_token_file);
		fprintf(out, "  imap_auth = %s\n", r->imap_auth);
		fprintf(out, "  imap_mailbox = %s\n  tls_ca = %s\n  insecure_skip_verify = %s\n",
		        r->imap_mailbox, r->tls_ca ? r->tls_ca : "(system store)",
		        r->insecure_skip_verify ? "true" : "false");
		fprintf(out, "  timeout = %s\n", written(r->timeout_text, b1, sizeof(b1)));
		fprintf(out, "  connect_timeout = %s\n", written(r->connect_timeout_text, b1, sizeof(b1)));
		fprintf(out, "  poll_interval = %s\n", written(r->poll_interval_text, b1, sizeof(b1)));
		fprintf(out, "  idle = %s\n  subject_prefix = %s\n  delete = %s\n",
		        r->idle == IDLE_AUTO ? "auto" : "off", r->subject_prefix,
		        r->delete_found ? "true" : "false");
		fprintf(out, "  sweep_after = %s%s\n", written(r->sweep_after_text, b1, sizeof(b1)),
		        r->sweep_after_ms ? "" : " (off)");
		fprintf(out, "  check_junk = %s\n  imap_junk_mailbox = %s\n"
		        "  junk_is_failure = %s\n", r->check_junk ? "true" : "false",
		        r->imap_junk_mailbox ? r->imap_junk_mailbox : "(\\Junk from LIST)",
		        r->junk_is_failure ? "true" : "false");
		print_more(out, r);
		oauth2_advice(cfg, r);
	}
}
