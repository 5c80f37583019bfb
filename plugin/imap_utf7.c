/*
 * imap_utf7.c - see imap_utf7.h.  Pure, no allocation; written to be fuzzed.
 */
#include "imap_utf7.h"

#include <stdbool.h>

/* RFC 3501 §5.1.3: printable ASCII as itself ("&" as "&-"), everything else
 * as UTF-16 in modified base64 between "&" and "-". */
static const char MB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* Next code point of UTF-8 at *s, or -1 if the bytes are not UTF-8. */
static long utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	unsigned long cp;
	int n;

	if (p[0] < 0x80) { cp = p[0]; n = 1; }
	else if ((p[0] & 0xe0) == 0xc0) { cp = p[0] & 0x1f; n = 2; }
	else if ((p[0] & 0xf0) == 0xe0) { cp = p[0] & 0x0f; n = 3; }
	else if ((p[0] & 0xf8) == 0xf0) { cp = p[0] & 0x07; n = 4; }
	else return -1;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*s = p + n;
	return (long)cp;
}

int imap_utf7_encode(const char *utf8, char *dst, size_t dstlen)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t n = 0;
	unsigned bits = 0, nbits = 0;
	bool in_b64 = false;

#define EMIT(c) do { if (n + 1 >= dstlen) return -1; dst[n++] = (char)(c); } while (0)
	if (dstlen == 0)
		return -1;
	while (*s) {
		long cp = *s >= 0x20 && *s < 0x7f ? (long)*s++ : utf8_next(&s);
		if (cp < 0)
			return -1;
		if (cp >= 0x20 && cp < 0x7f) {
			if (in_b64) {
				if (nbits > 0)
					EMIT(MB64[(bits << (6 - nbits)) & 0x3f]);
				EMIT('-');
				in_b64 = false;
				bits = nbits = 0;
			}
			EMIT(cp);
			if (cp == '&')
				EMIT('-');
			continue;
		}
		if (!in_b64) {
			EMIT('&');
			in_b64 = true;
		}
		{
			unsigned units[2];
			int nu = 1;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				units[0] = 0xd800 | (unsigned)(cp >> 10);
				units[1] = 0xdc00 | (unsigned)(cp & 0x3ff);
				nu = 2;
			} else {
				units[0] = (unsigned)cp;
			}
			for (int u = 0; u < nu; u++) {
				bits = (bits << 16) | units[u];
				nbits += 16;
				while (nbits >= 6) {
					EMIT(MB64[(bits >> (nbits - 6)) & 0x3f]);
					nbits -= 6;
				}
				bits &= (1u << nbits) - 1;
			}
		}
	}
	if (in_b64) {
		if (nbits > 0)
			EMIT(MB64[(bits << (6 - nbits)) & 0x3f]);
		EMIT('-');
	}
#undef EMIT
	dst[n] = '\0';
	return (int)n;
}
