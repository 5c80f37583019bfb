/*
 * config_mx_route.c - see config_mx.h: the rules of SPEC §12 across keys,
 * for one route (which SMTP keys an mx route must not have) and for all
 * (the EHLO name, the default trust anchor).  Part of the loader's pass 2.
 */
#include "config_int.h"
#include "config_mx.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns_rr.h"

/* With smtp_via = mx the message goes to the MX hosts, without AUTH:
 * these keys would be silently ignored, so they must be absent, wherever
 * they were written (SPEC §12); the port and TLS keys only in the route's
 * own section ([defaults] may hold them for the submission routes). */
static int mx_keys_absent(struct loader *L, const struct route *r, const struct section *sec,
                          const struct section *defs)
{
	static const char *const absent[] = { "smtp_host", "smtp_username", "smtp_password",
		"smtp_password_file", "smtp_oauth2_token_file" };
	static const char *const own[] = { "smtp_port", "smtp_tls", "smtp_auth" };
	struct kv *kv;

	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		const struct section *from = loader_kv(sec, absent[i]) ? sec : defs;
		if ((kv = loader_kv(from, absent[i])) == NULL)
			continue;
		if (from == sec)
			loader_fail(L, kv->line, sec->name, absent[i], "must be absent with smtp_via = mx "
			            "(the message goes to the MX hosts of %s, without AUTH)", strrchr(r->to, '@') + 1);
		else
			loader_fail(L, kv->line, from->name, absent[i], "must be absent: route [%s] has "
			            "smtp_via = mx (set it in the submission routes instead)", sec->name);
		return -1;
	}
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if ((kv = loader_kv(sec, own[i])) != NULL) {
			loader_fail(L, kv->line, sec->name, own[i], "has no meaning with smtp_via = mx "
			            "(mx_port sets the port; STARTTLS is used whenever offered)");
			return -1;
		}
	return 0;
}

int config_mx_route(struct loader *L, const struct route *r, const struct section *sec,
                    const struct section *defs)
{
	static const char *const mx_only[] = { "mx_port", "require_tls_policy" };
	const char *domain = r->to ? strrchr(r->to, '@') : NULL;
	struct kv *kv;

	if (r->smtp_via != SMTP_VIA_MX) {
		for (size_t i = 0; i < sizeof(mx_only) / sizeof(mx_only[0]); i++)
			if ((kv = loader_kv(sec, mx_only[i])) != NULL) {
				loader_fail(L, kv->line, sec->name, mx_only[i], "only with smtp_via = mx");
				return -1;
			}
		return 0;
	}
	if (!domain)
		return 0;   /* check_required names the missing `to` */
	if (mx_keys_absent(L, r, sec, defs) != 0)
		return -1;
	if (!dns_name_valid(domain + 1) || domain[strlen(domain) - 1] == '.') {
		kv = loader_kv(sec, "to") ? loader_kv(sec, "to") : loader_kv(defs, "to");
		loader_fail(L, kv ? kv->line : sec->line, kv && !loader_kv(sec, "to") ? defs->name : sec->name,
		            "to", "smtp_via = mx needs a domain name whose MX can be looked up, not \"%s\"",
		            domain + 1);
		return -1;
	}
	return 0;
}

/* The host's FQDN: its name where that has a dot, else the canonical
 * name the system gives it (as hostname -f does: /etc/hosts first).
 * Asked once, at load, never during a cycle. */
static void host_fqdn(char *out, size_t cap)
{
	struct addrinfo hints = { .ai_flags = AI_CANONNAME, .ai_family = AF_UNSPEC }, *ai = NULL;
	char name[256];

	if (gethostname(name, sizeof(name)) != 0 || !name[0])
		snprintf(name, sizeof(name), "localhost");
	name[sizeof(name) - 1] = '\0';
	snprintf(out, cap, "%s", name);
	if (strchr(name, '.'))
		return;
	if (getaddrinfo(name, NULL, &hints, &ai) == 0 && ai && ai->ai_canonname &&
	    strchr(ai->ai_canonname, '.') && dns_name_valid(ai->ai_canonname))
		snprintf(out, cap, "%s", ai->ai_canonname);
	if (ai)
		freeaddrinfo(ai);
}

int config_mx_finish(struct loader *L, struct config *cfg)
{
	char fqdn[256] = "";
	bool any_mx = false, any_dnsbl = false;

	for (size_t i = 0; i < cfg->n_routes; i++) {
		struct route *r = &cfg->routes[i];
		const char *helo = cfg->helo_name;
		any_dnsbl |= r->dnsbl != NULL;
		if (r->smtp_via == SMTP_VIA_MX) {
			any_mx = true;
			if (!helo && !fqdn[0])
				host_fqdn(fqdn, sizeof(fqdn));
			if (!helo)
				helo = fqdn;
		}
		if (helo && !(r->helo_name = strdup(helo))) {
			loader_fail(L, 0, NULL, NULL, "out of memory");
			return -1;
		}
	}
	if ((any_mx || any_dnsbl) && !cfg->dnssec_trust_anchor && access(CONFIG_MX_ROOT_KEY, R_OK) != 0) {
		loader_fail(L, 0, DEFAULTS, "dnssec_trust_anchor", "not set, and the system's root key %s "
		            "cannot be read (%s; Debian package dns-root-data)", CONFIG_MX_ROOT_KEY, strerror(errno));
		return -1;
	}
	return 0;
}

