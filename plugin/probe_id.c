/*
 * probe_id.c - see probe_id.h.
 */
#include "probe_id.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sha256.h"

static void put(struct sha256 *c, const char *s)
{
	sha256_update(c, s, strlen(s) + 1);   /* with the NUL: fields can't run together */
}

struct probe_ledger *probe_ledger_new(const char *secret, const char *route_name,
                                      const char *imap_username, const char *to)
{
	struct probe_ledger *l = calloc(1, sizeof(*l));
	unsigned char msg[SHA256_LEN];
	struct sha256 c;

	if (!l)
		return NULL;
	/* Hash the labels first so the HMAC message has a fixed size. */
	sha256_init(&c);
	put(&c, "mail-e2e-route-key/v1");
	put(&c, route_name ? route_name : "");
	put(&c, imap_username ? imap_username : "");
	put(&c, to ? to : "");
	sha256_final(&c, msg);
	hmac_sha256(secret ? secret : "", secret ? strlen(secret) : 0, msg, sizeof(msg), l->key);
	return l;
}

void probe_ledger_free(struct probe_ledger *l)
{
	if (!l)
		return;
	explicit_bzero(l, sizeof(*l));
	free(l);
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void token_for(const struct probe_ledger *l, long long stamp, const char *nonce,
                      char token[PROBE_TOKEN_SIZE])
{
	char msg[96];
	unsigned char mac[SHA256_LEN];
	int n = snprintf(msg, sizeof(msg), "mail-e2e-probe/v1/%lld/%s", stamp, nonce);

	hmac_sha256(l->key, sizeof(l->key), msg, (size_t)n, mac);
	hex(mac, PROBE_TOKEN_HEX / 2, token);
}

int probe_id_mint(const struct probe_ledger *l, time_t now,
                  char token[PROBE_TOKEN_SIZE], char local[PROBE_ID_LOCAL_MAX])
{
	unsigned char raw[8];
	char nonce[17];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	hex(raw, sizeof(raw), nonce);
	token_for(l, (long long)now, nonce, token);
	snprintf(local, PROBE_ID_LOCAL_MAX, "%lld.%s.mail-e2e", (long long)now, nonce);
	return 0;
}

/* "<1795467151.0123456789abcdef.mail-e2e@host>" -> stamp and nonce. */
static bool parse_message_id(const char *mid, long long *stamp, char nonce[17])
{
	long long v = 0;
	int digits = 0;

	while (*mid == ' ' || *mid == '\t')
		mid++;
	if (*mid == '<')
		mid++;
	for (; isdigit((unsigned char)*mid); mid++) {
		if (++digits > 12)
			return false;
		v = v * 10 + (*mid - '0');
	}
	if (digits == 0 || *mid++ != '.')
		return false;
	for (int i = 0; i < 16; i++, mid++) {
		if (!isxdigit((unsigned char)*mid) || isupper((unsigned char)*mid))
			return false;
		nonce[i] = *mid;
	}
	nonce[16] = '\0';
	if (strncmp(mid, ".mail-e2e@", 10) != 0)
		return false;
	*stamp = v;
	return true;
}

bool probe_id_verify(const struct probe_ledger *l, const char *token,
                     const char *message_id, int64_t *stamp)
{
	long long when;
	char nonce[17], expect[PROBE_TOKEN_SIZE];
	unsigned diff = 0;

	if (!token || !message_id || strlen(token) != PROBE_TOKEN_HEX ||
	    !parse_message_id(message_id, &when, nonce))
		return false;
	token_for(l, when, nonce, expect);
	for (size_t i = 0; i < PROBE_TOKEN_HEX; i++)
		diff |= (unsigned)(expect[i] ^ token[i]);
	if (diff != 0)
		return false;
	*stamp = when;
	return true;
}

static bool ring_has(const char (*ring)[PROBE_TOKEN_SIZE], unsigned n, const char *token)
{
	for (unsigned i = 0; i < n; i++)
		if (ring[i][0] && strcmp(ring[i], token) == 0)
			return true;
	return false;
}

void ledger_note_found(struct probe_ledger *l, const char *token)
{
	snprintf(l->found[l->found_next], sizeof(l->found[0]), "%s", token);
	l->found_next = (l->found_next + 1) % LEDGER_FOUND;
}

bool ledger_was_found(const struct probe_ledger *l, const char *token)
{
	return ring_has((const char (*)[PROBE_TOKEN_SIZE])l->found, LEDGER_FOUND, token);
}

void ledger_note_counted(struct probe_ledger *l, const char *token)
{
	snprintf(l->counted[l->counted_next], sizeof(l->counted[0]), "%s", token);
	l->counted_next = (l->counted_next + 1) % LEDGER_COUNTED;
}

bool ledger_was_counted(const struct probe_ledger *l, const char *token)
{
	return ring_has((const char (*)[PROBE_TOKEN_SIZE])l->counted, LEDGER_COUNTED, token);
}

void ledger_note_foreign(struct probe_ledger *l, uint32_t uidvalidity, uint32_t uid)
{
	if (l->foreign_validity != uidvalidity) {
		l->n_foreign = l->foreign_next = 0;
		l->foreign_validity = uidvalidity;
	}
	if (ledger_is_foreign(l, uidvalidity, uid))
		return;
	l->foreign[l->foreign_next] = uid;
	l->foreign_next = (l->foreign_next + 1) % LEDGER_FOREIGN;
	if (l->n_foreign < LEDGER_FOREIGN)
		l->n_foreign++;
}

bool ledger_is_foreign(const struct probe_ledger *l, uint32_t uidvalidity, uint32_t uid)
{
	if (l->foreign_validity != uidvalidity)
		return false;
	for (unsigned i = 0; i < l->n_foreign; i++)
		if (l->foreign[i] == uid)
			return true;
	return false;
}

void ledger_note_delivery(struct probe_ledger *l, int64_t after_ns, int64_t by_ns)
{
	l->delivered_after_ns[l->delivered_next] = after_ns < by_ns ? after_ns : by_ns;
	l->delivered_ns[l->delivered_next] = by_ns;
	l->delivered_next = (l->delivered_next + 1) % LEDGER_DELIVERIES;
	if (l->n_delivered < LEDGER_DELIVERIES)
		l->n_delivered++;
}
