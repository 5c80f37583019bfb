/*
 * config.h - load and validate the INI file (SPEC §4).
 *
 * Contract:
 *  - config_load() parses FILE with inih, applies [defaults] to every route,
 *    expands ${VAR}, reads *_password_file, checks file permissions, and
 *    validates every value.  On success it returns 0 and fills *cfg; the
 *    caller owns *cfg and releases it with config_free().
 *  - On any error it returns -1, leaves *cfg empty (nothing to free), and
 *    writes ONE line into err (at most errlen bytes, NUL-terminated, no
 *    newline) naming the file, the line where there is one, the section and
 *    the key:   "mail-e2e.conf:12: [outbound] smtp_port: not a port: 70000"
 *    The message never contains a secret value.
 *  - Warnings (group-readable password file) are written through log_warn().
 *  - Every string in struct config / struct route is heap-allocated and owned
 *    by the struct; config_free() wipes passwords with explicit_bzero before
 *    freeing them.
 */
#ifndef MAIL_E2E_CONFIG_H
#define MAIL_E2E_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "parse.h"
#include "probe_id.h"

#define CONFIG_DEFAULT_PATH "/etc/mail-e2e/mail-e2e.conf"

enum tls_mode { TLS_STARTTLS = 0, TLS_IMPLICIT, TLS_NONE };
enum out_format { FORMAT_INFLUX = 0, FORMAT_JSON };
enum idle_mode { IDLE_AUTO = 0, IDLE_OFF };
/* SPEC §12: how the message goes out (config_mx.c). */
enum smtp_via { SMTP_VIA_SUBMISSION = 0, SMTP_VIA_MX };
#define TLS_POLICY_MTA_STS 1u   /* require_tls_policy bits */
#define TLS_POLICY_DANE    2u

/* Durations are kept in milliseconds. */
struct route {
	char *name;               /* section name: [A-Za-z0-9._-]+ */
	char *from, *to;

	char *smtp_host;
	int smtp_port;            /* default from smtp_tls: 587 / 465 / 25 */
	enum tls_mode smtp_tls;
	char *smtp_username;      /* NULL: no AUTH */
	char *smtp_password;      /* secret; from smtp_password or _file; may be NULL */
	char *smtp_password_file; /* path it came from, or NULL (not secret) */

	char *imap_host;
	int imap_port;            /* default from imap_tls: 143 / 993 / 143 */
	enum tls_mode imap_tls;
	char *imap_username;
	char *imap_password;      /* secret; required (inline or _file) */
	char *imap_password_file; /* path it came from, or NULL (not secret) */
	char *imap_mailbox;       /* default "INBOX" */

	/* SASL mechanism per leg, upper case: "AUTO" (default), "PLAIN",
	 * "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER" (issue 6). */
	char *smtp_auth, *imap_auth;
	/* OAuth2 access token files, read again for every probe (secret_file.h);
	 * NULL: password login.  Paths, not secrets. */
	char *smtp_token_file, *imap_token_file;

	char *tls_ca;             /* NULL: system store */
	bool insecure_skip_verify;

	long timeout_ms;          /* default 60000 */
	long connect_timeout_ms;  /* default 10000 */
	long poll_interval_ms;    /* default 2000 */
	char *subject_prefix;     /* default "[e2e email monitoring]" */
	bool delete_found;        /* key "delete", default true */
	enum idle_mode idle;      /* key "idle", default auto (issue 4) */

	long sweep_after_ms;      /* default 1h; 0: never sweep (issue 5) */
	/* The durations as written ("1m30s", "90s"; defaults as in the key
	 * table), for --check-config (issue 21). */
	char timeout_text[DURATION_TEXT_MAX], connect_timeout_text[DURATION_TEXT_MAX],
	     poll_interval_text[DURATION_TEXT_MAX], sweep_after_text[DURATION_TEXT_MAX];
	bool check_junk;          /* default true: also watch the junk mailbox */
	char *imap_junk_mailbox;  /* NULL: the one LIST marks \Junk */
	bool junk_is_failure;     /* default false: junk placement is result junk */

	/* OAuth2 tokens fetched by the program itself (SPEC §10). */
	char *oauth2_token_url;          /* https; NULL: no built-in token client */
	char *oauth2_client_id;
	char *oauth2_client_secret;      /* secret, from oauth2_client_secret_file; NULL: public client */
	char *oauth2_client_secret_file; /* path it came from (not secret) */
	char *oauth2_refresh_token_file; /* path; NULL: the client-credentials grant */
	char *oauth2_scope;              /* space-separated, NULL: none */
	char *oauth2_auth_url, *oauth2_device_url;   /* for --oauth2-login */
	bool smtp_oauth2_client, imap_oauth2_client; /* the leg gets its token from the client */

	/* Bounces (SPEC §8): the envelope sender's mailbox; host NULL: no watch. */
	char *bounce_imap_host;
	int bounce_imap_port;            /* default from bounce_imap_tls */
	enum tls_mode bounce_imap_tls;
	char *bounce_imap_username;
	char *bounce_imap_password;      /* secret */
	char *bounce_imap_password_file; /* path it came from, or NULL */
	char *bounce_imap_mailbox;       /* default "INBOX" */

	/* What the delivered probe says (SPEC §7). */
	char *auth_results_from;  /* NULL: the topmost Authentication-Results of any id */
	unsigned require_auth;    /* AUTH_BIT(m) per method (auth_methods.h) whose verdict
	                           * must be "pass"; default none */
	int expect;               /* enum result_class this route should get (SPEC §8), default success */

	/* Spam verdicts and DNSBL listings (SPEC §13; config_rep.c). */
	bool has_max_spam_score;  /* max_spam_score set: spam_flagged applies */
	double max_spam_score;
	int spam_filter_from;     /* enum spam_filter (spam.h); 0: any */
	char *dnsbl;              /* zones, comma-separated as written; NULL: no lookup */
	int dnsbl_hop;            /* the n-th Received header from the top; 0: unset */
	/* Direct delivery to the recipient's MX (SPEC §12; config_mx.c). */
	int smtp_via;             /* enum smtp_via, default submission */
	int mx_port;              /* default 25 */
	unsigned require_tls_policy;   /* TLS_POLICY_* bits, default none */
	char *helo_name;          /* the EHLO name: the process key's value, or for an mx
	                             route its default (the host's FQDN); NULL: libcurl's */

	/* Process-lifetime memory of this route's probes (probe_id.h); owned,
	 * allocated by config_load, wiped by config_free.  Not const through a
	 * const route on purpose: every cycle updates it. */
	struct probe_ledger *ledger;
};

struct config {
	char *path;               /* the file as given */
	enum out_format format;   /* default influx */
	char *measurement;        /* default "mail_e2e" */
	long interval_ms;         /* 0: unset */
	long shutdown_grace_ms;   /* default 3000 */
	char interval_text[DURATION_TEXT_MAX], shutdown_grace_text[DURATION_TEXT_MAX];   /* as written */
	long server_concurrency;  /* routes per server (host:port) at once, default 20 */
	/* SPEC §12 process keys (config_mx.c); NULL: unset. */
	char *resolver;           /* "IP[:port]" every own lookup asks; NULL: /etc/resolv.conf's */
	char *dnssec_trust_anchor;   /* file of DS/DNSKEY records; NULL: the system's root key */
	char *helo_name;          /* as written; NULL: the host's FQDN for mx routes */

	struct route *routes;     /* in file order */
	size_t n_routes;          /* >= 1 after a successful load */
};

int config_load(const char *path, struct config *cfg, char *err, size_t errlen);
void config_free(struct config *cfg);

/* Print the routes for --check-config: one block per route, never a secret
 * (passwords show as "(set)" / "(from file)"). */
void config_print(const struct config *cfg, FILE *out);

#endif
