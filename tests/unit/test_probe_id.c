/*
 * test_probe_id.c - SHA-256 / HMAC against published vectors, and probe
 * tokens: minted ones verify, anything altered or foreign does not.
 */
#include <stdio.h>
#include <string.h>

#include "probe_id.h"
#include "sha256.h"
#include "unit.h"

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

static void test_sha256(void)
{
	static const struct { const char *in; const char *want; } rows[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	unsigned char out[SHA256_LEN];
	char got[65];
	struct sha256 c;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		sha256_init(&c);
		sha256_update(&c, rows[i].in, strlen(rows[i].in));
		sha256_final(&c, out);
		to_hex(out, sizeof(out), got);
		CHECK(strcmp(got, rows[i].want) == 0, "sha256(\"%.10s\") = %s", rows[i].in, got);
	}
	/* One million 'a', fed in uneven pieces: exercises block carry-over. */
	sha256_init(&c);
	for (int fed = 0; fed < 1000000; ) {
		static const char a[997] = { [0 ... 996] = 'a' };
		int n = 1000000 - fed < 997 ? 1000000 - fed : 997;
		sha256_update(&c, a, (size_t)n);
		fed += n;
	}
	sha256_final(&c, out);
	to_hex(out, sizeof(out), got);
	CHECK(strcmp(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
	      "sha256(10^6 x 'a') = %s", got);
}

static void test_hmac(void)
{
	unsigned char k1[20], k6[131], out[SHA256_LEN];
	char got[65];
	static const char *long_data = "Test Using Larger Than Block-Size Key - Hash Key First";
	const struct { const void *key; size_t keylen; const char *data; const char *want; } rows[] = {
		{ k1, sizeof(k1), "Hi There",
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "Jefe", 4, "what do ya want for nothing?",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ k6, sizeof(k6), long_data,
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	};

	memset(k1, 0x0b, sizeof(k1));
	memset(k6, 0xaa, sizeof(k6));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		hmac_sha256(rows[i].key, rows[i].keylen, rows[i].data, strlen(rows[i].data), out);
		to_hex(out, sizeof(out), got);
		CHECK(strcmp(got, rows[i].want) == 0, "RFC 4231 HMAC case %zu = %s", i, got);
	}
}

static void test_tokens(void)
{
	struct probe_ledger *a = probe_ledger_new("secret", "outbound", "bob", "bob@x.test");
	struct probe_ledger *other_route = probe_ledger_new("secret", "inbound", "bob", "bob@x.test");
	struct probe_ledger *other_secret = probe_ledger_new("secret2", "outbound", "bob", "bob@x.test");
	char token[PROBE_TOKEN_SIZE], local[PROBE_ID_LOCAL_MAX], mid[128], bad[128];
	int64_t stamp = 0;

	CHECK(a && other_route && other_secret, "ledgers allocated");
	if (!a || !other_route || !other_secret)
		return;
	CHECK(probe_id_mint(a, 1795467151, token, local) == 0, "mint");
	CHECK(strlen(token) == 32 && strspn(token, "0123456789abcdef") == 32, "token is 128 bits of hex: %s", token);
	snprintf(mid, sizeof(mid), "<%s@example.test>", local);
	CHECK(probe_id_verify(a, token, mid, &stamp) && stamp == 1795467151,
	      "own token verifies, stamp %lld", (long long)stamp);
	CHECK(probe_id_verify(a, token, local[0] ? mid + 1 : mid, &stamp), "without the angle bracket");
	CHECK(!probe_id_verify(other_route, token, mid, &stamp), "another route's key refuses it");
	CHECK(!probe_id_verify(other_secret, token, mid, &stamp), "another secret refuses it");

	struct { const char *what; const char *mid; int flip; } rows[] = {
		{ "token with one digit changed", NULL, 1 },
		{ "stamp moved by one second", "<1795467152.%s@example.test>", 0 },
		{ "no Message-ID", "", 0 },
		{ "foreign Message-ID", "<CAF=abc@mail.gmail.com>", 0 },
		{ "upper-case nonce", "<1795467151.ABCDEF0123456789.mail-e2e@x>", 0 },
		{ "13-digit stamp", "<1795467151000.0123456789abcdef.mail-e2e@x>", 0 },
		{ "nonce too short", "<1795467151.0123.mail-e2e@x>", 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char t[PROBE_TOKEN_SIZE];
		snprintf(t, sizeof(t), "%s", token);
		if (rows[i].flip)
			t[5] = t[5] == '0' ? '1' : '0';
		if (!rows[i].mid)
			snprintf(bad, sizeof(bad), "%s", mid);
		else if (strstr(rows[i].mid, "%s"))
			snprintf(bad, sizeof(bad), "<1795467152.%s@example.test>", strchr(local, '.') + 1);
		else
			snprintf(bad, sizeof(bad), "%s", rows[i].mid);
		CHECK(!probe_id_verify(a, t, bad, &stamp), "refused: %s", rows[i].what);
	}
	CHECK(!probe_id_verify(a, "short", mid, &stamp), "refused: short token");
	CHECK(!probe_id_verify(a, NULL, mid, &stamp), "refused: no token");

	/* Two mints in the same second differ (the nonce). */
	char t2[PROBE_TOKEN_SIZE], l2[PROBE_ID_LOCAL_MAX];
	CHECK(probe_id_mint(a, 1795467151, t2, l2) == 0 && strcmp(t2, token) != 0 && strcmp(l2, local) != 0,
	      "same second, new token");

	ledger_note_found(a, token);
	CHECK(ledger_was_found(a, token) && !ledger_was_found(a, t2), "found ring");
	for (int i = 0; i < LEDGER_FOUND; i++)
		ledger_note_found(a, "00000000000000000000000000000000");
	CHECK(!ledger_was_found(a, token), "found ring forgets the oldest");
	ledger_note_counted(a, t2);
	CHECK(ledger_was_counted(a, t2) && !ledger_was_counted(a, token), "counted ring");

	probe_ledger_free(a);
	probe_ledger_free(other_route);
	probe_ledger_free(other_secret);
}

int main(void)
{
	test_sha256();
	test_hmac();
	test_tokens();
	return unit_done();
}
