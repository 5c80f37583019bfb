/*
 * test_config_keys.c - an unknown key's nearest known one
 * (config_key_nearest in plugin/config_keys.c): slips of the finger get a
 * suggestion, other words none.
 */
#include <string.h>

#include "config_keys.h"
#include "unit.h"

static const struct { const char *in, *want; } rows[] = {
	/* one edit, or a swap of neighbours */
	{ "smtp_hots", "smtp_host" }, { "Timeout", "timeout" }, { "imap_pasword", "imap_password" },
	{ "timout", "timeout" }, { "deleet", "delete" }, { "formatt", "format" }, { "tls-ca", "tls_ca" },
	{ "idel", "idle" }, { "expcet", "expect" }, { "intreval", "interval" },
	/* two or three edits in longer names */
	{ "smtp_password_fil", "smtp_password_file" }, { "bounce_imap_hots", "bounce_imap_host" },
	{ "imap-user-name", "imap_username" }, { "server_concurency", "server_concurrency" },
	{ "shutdown_grace_", "shutdown_grace" }, { "sweepafter", "sweep_after" },
	/* a unique beginning */
	{ "smtp_user", "smtp_username" }, { "imap_junk", "imap_junk_mailbox" },
	{ "require_a", "require_auth" }, { "require_tls", "require_tls_policy" }, { "helo", "helo_name" },
	/* SPEC §12's keys */
	{ "smtp_vai", "smtp_via" }, { "resolvr", "resolver" }, { "mx_prot", "mx_port" },
	{ "dnssec_trust_ancor", "dnssec_trust_anchor" },
	/* nothing near */
	{ "require", NULL },   /* require_auth or require_tls_policy */
	{ "colour", NULL }, { "smtp", NULL }, { "tls", NULL }, { "x", NULL }, { "", NULL },
	{ "smtp_server", NULL }, { "password", NULL }, { "imap", NULL },
	{ "a_very_long_key_name_that_is_nothing_like_any_key_at_all", NULL },
	{ "timeout_timeout_timeout_timeout_timeout_timeout_timeout", NULL },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = config_key_nearest(rows[i].in);
		CHECK(rows[i].want ? got && strcmp(got, rows[i].want) == 0 : got == NULL,
		      "'%s' -> %s (want %s)", rows[i].in, got ? got : "none", rows[i].want ? rows[i].want : "none");
	}
	/* Every known key is its own nearest. */
	for (size_t i = 0; i < config_n_route_keys; i++) {
		const char *got = config_key_nearest(config_route_keys[i].name);
		CHECK(got && strcmp(got, config_route_keys[i].name) == 0, "%s -> itself", config_route_keys[i].name);
	}
	return unit_done();
}
