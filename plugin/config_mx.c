/*
 * config_mx.c - see config_mx.h: the keys of SPEC §12, each value's rule
 * and --check-config's lines (the rules across keys: config_mx_route.c).
 */
#include "config_mx.h"


#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config_value.h"
#include "dns_rr.h"

int config_rule_smtp_via(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	(void)k;
	if (strcmp(value, "submission") == 0)
		r->smtp_via = SMTP_VIA_SUBMISSION;
	else if (strcmp(value, "mx") == 0)
		r->smtp_via = SMTP_VIA_MX;
	else
		return config_refuse("expected submission or mx, got", value, why, cap);
	return 0;
}

/* "mta-sts, dane" -> TLS_POLICY_* bits; empty is none; each once. */
int config_rule_tls_policy(struct route *r, const struct keydef *k, const char *value, char *why, size_t cap)
{
	const char *p = value;
	unsigned bits = 0;

	(void)k;
	while (*p) {
		char word[16];
		size_t n = 0;
		unsigned bit = 0;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		while (*p && *p != ',' && *p != ' ' && *p != '\t') {
			if (n + 1 < sizeof(word))
				word[n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		word[n] = '\0';
		bit = strcmp(word, "mta-sts") == 0 ? TLS_POLICY_MTA_STS : strcmp(word, "dane") == 0 ? TLS_POLICY_DANE : 0;
		if (!bit)
			return config_refuse("expected a list of mta-sts, dane; got", word, why, cap);
		if (bits & bit) {
			snprintf(why, cap, "%s named twice", word);
			return -1;
		}
		bits |= bit;
	}
	r->require_tls_policy = bits;
	return 0;
}

/* --- process keys ------------------------------------------------------------ */

int config_mx_set_resolver(struct config *cfg, const char *key, const char *value, char *why, size_t cap)
{
	char ip[DNS_ADDR_TEXT_MAX];
	int port;

	(void)key;
	if (!dns_parse_server(value, ip, sizeof(ip), &port))
		return config_refuse("expected an IP address, IP:port or [IPv6]:port, got", value, why, cap);
	return config_keep(&cfg->resolver, value, why, cap);
}

/* A line of a zone file that holds a DS or DNSKEY record (its type as a
 * word before any comment). */
static bool anchor_line(const char *line)
{
	char copy[1024], *save = NULL, *w;

	snprintf(copy, sizeof(copy), "%s", line);
	copy[strcspn(copy, ";")] = '\0';
	for (w = strtok_r(copy, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save))
		if (strcmp(w, "DS") == 0 || strcmp(w, "DNSKEY") == 0)
			return true;
	return false;
}

int config_mx_set_trust_anchor(struct config *cfg, const char *key, const char *value, char *why, size_t cap)
{
	char line[1024], b[80];
	bool found = false;
	FILE *f;

	(void)key;
	f = fopen(value, "r");
	if (!f) {
		snprintf(why, cap, "cannot read %s: %s", config_shown(value, b, sizeof(b)), strerror(errno));
		return -1;
	}
	while (!found && fgets(line, sizeof(line), f))
		found = anchor_line(line);
	fclose(f);
	if (!found) {
		snprintf(why, cap, "%s holds no DS or DNSKEY record (zone-file syntax: \". IN DS 20326 8 2 E06D...\")",
		         config_shown(value, b, sizeof(b)));
		return -1;
	}
	return config_keep(&cfg->dnssec_trust_anchor, value, why, cap);
}

/* A name, or an address literal "[192.0.2.1]" / "[IPv6:2001:db8::1]". */
static bool helo_valid(const char *v)
{
	size_t n = strlen(v);
	unsigned char a[16];
	char ip[DNS_ADDR_TEXT_MAX];

	if (n > 2 && v[0] == '[' && v[n - 1] == ']') {
		bool v6 = strncmp(v + 1, "IPv6:", 5) == 0;
		const char *at = v6 ? v + 6 : v + 1;
		size_t len = (size_t)(v + n - 1 - at);
		if (len == 0 || len >= sizeof(ip))
			return false;
		memcpy(ip, at, len);
		ip[len] = '\0';
		return inet_pton(v6 ? AF_INET6 : AF_INET, ip, a) == 1;
	}
	return n > 0 && v[n - 1] != '.' && dns_name_valid(v);
}

int config_mx_set_helo_name(struct config *cfg, const char *key, const char *value, char *why, size_t cap)
{
	(void)key;
	if (!helo_valid(value))
		return config_refuse("not a host name or address literal ([192.0.2.1]):", value, why, cap);
	return config_keep(&cfg->helo_name, value, why, cap);
}

/* --- --check-config ------------------------------------------------------------ */

void config_mx_print_process(FILE *out, const struct config *cfg)
{
	char fqdn[256];

	fprintf(out, "resolver = %s\n", cfg->resolver ? cfg->resolver : "(the system's: /etc/resolv.conf)");
	fprintf(out, "dnssec_trust_anchor = %s%s\n", cfg->dnssec_trust_anchor ? cfg->dnssec_trust_anchor
	        : "(the system's root key: " CONFIG_MX_ROOT_KEY, cfg->dnssec_trust_anchor ? "" : ")");
	if (cfg->helo_name) {
		fprintf(out, "helo_name = %s\n", cfg->helo_name);
		return;
	}
	for (size_t i = 0; i < cfg->n_routes; i++)
		if (cfg->routes[i].smtp_via == SMTP_VIA_MX) {
			snprintf(fqdn, sizeof(fqdn), "%s", cfg->routes[i].helo_name ? cfg->routes[i].helo_name : "");
			fprintf(out, "helo_name = %s (the host's FQDN%s)\n", fqdn,
			        strchr(fqdn, '.') ? "" : "; not fully qualified: many MX hosts refuse it, set helo_name");
			return;
		}
	fprintf(out, "helo_name = (libcurl's: the host name)\n");
}

void config_mx_print_route(FILE *out, const struct route *r)
{
	fprintf(out, "  smtp_via = mx\n  smtp = the MX hosts of %s, port %d (STARTTLS whenever offered, no AUTH)\n",
	        strrchr(r->to, '@') + 1, r->mx_port);
	fprintf(out, "  require_tls_policy = %s%s%s\n",
	        r->require_tls_policy & TLS_POLICY_MTA_STS ? "mta-sts" : "",
	        r->require_tls_policy == (TLS_POLICY_MTA_STS | TLS_POLICY_DANE) ? ", " : "",
	        r->require_tls_policy & TLS_POLICY_DANE ? "dane" : r->require_tls_policy ? "" : "(none)");
}
