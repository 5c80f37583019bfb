/*
 * fuzz_json.c - libFuzzer target for the flat JSON object reader: every
 * getter on the input (in a buffer of exactly its size, so a read past len
 * is an ASan report), with keys a token reply has and with the input's
 * first line as a key.  Invariants: getters agree with json_valid(); a
 * decoded string is NUL-terminated inside out, holds no NUL and is valid
 * UTF-8; a small buffer gives the same string or JSON_TOO_LONG with out
 * wiped, never a cut one.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define SMALL 24
#define BIG 8192

static char big[BIG];

/* Well-formed UTF-8 (RFC 3629), by an independent, slow check. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t k;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xE0) == 0xC0) {
			k = 2;
			cp = s[i] & 0x1F;
		} else if ((s[i] & 0xF0) == 0xE0) {
			k = 3;
			cp = s[i] & 0x0F;
		} else if ((s[i] & 0xF8) == 0xF0) {
			k = 4;
			cp = s[i] & 0x07;
		} else
			return false;
		if (i + k > n)
			return false;
		for (size_t j = 1; j < k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k;
	}
	return true;
}

static void check_key(const char *b, size_t size, bool valid, const char *key)
{
	char small[SMALL];
	long num = 0;
	int rc, rs, rn;

	/* Set first: MemorySanitizer does not see explicit_bzero() write. */
	memset(small, 'X', sizeof(small));
	rc = json_get_string(b, size, key, big, sizeof(big));
	rs = json_get_string(b, size, key, small, sizeof(small));
	rn = json_get_number(b, size, key, &num);

	if (!valid && (rc != JSON_INVALID || rs != JSON_INVALID || rn != JSON_INVALID))
		abort();
	if (valid && (rc == JSON_INVALID || rs == JSON_INVALID || rn == JSON_INVALID))
		abort();
	if (rc == JSON_OK) {
		size_t n = strlen(big);
		if (!utf8_ok((const unsigned char *)big, n))
			abort();
		if (n < SMALL ? (rs != JSON_OK || strcmp(small, big) != 0) : rs != JSON_TOO_LONG)
			abort();
	} else if (big[0] != '\0' || rs != rc)
		abort();
	if (rs == JSON_TOO_LONG)
		for (size_t i = 0; i < SMALL; i++)
			if (small[i] != '\0')
				abort();
	if (rn == JSON_OK && rc != JSON_OK && rc != JSON_TYPE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"access_token", "refresh_token", "expires_in", "error", "error_description", "k", "",
	};
	char *b = malloc(size ? size : 1);
	char first[64];
	size_t n = 0;
	bool valid;

	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	valid = json_valid(b, size);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		check_key(b, size, valid, keys[i]);
	while (n < size && n + 1 < sizeof(first) && data[n] != '\n' && data[n] != '\0') {
		first[n] = (char)data[n];
		n++;
	}
	first[n] = '\0';
	check_key(b, size, valid, first);
	free(b);
	return 0;
}
