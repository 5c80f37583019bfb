/*
 * dns_rr.c - see dns_rr.h.  Every read is bounded by the rdata's length:
 * written to be fuzzed (tests/fuzz/fuzz_dns_rr.c).
 */
#include "dns_rr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static bool ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

bool dns_name_valid(const char *name)
{
	size_t n = strlen(name), label = 0;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (!ldh(name[i]) || ++label > 63) {
			return false;
		}
	}
	return label > 0;
}

static bool is_ip(const char *s, size_t n, int family)
{
	unsigned char a[16];
	char buf[DNS_ADDR_TEXT_MAX];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(family, buf, a) == 1;
}

static bool port_of(const char *s, int *port)
{
	long v = 0;

	if (!*s || strlen(s) > 5)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

bool dns_parse_server(const char *s, char *ip, size_t cap, int *port)
{
	const char *colon = strchr(s, ':'), *start = s, *end;
	int family = AF_INET;

	*port = 53;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || (end[1] && (end[1] != ':' || !port_of(end + 2, port))))
			return false;
		start = s + 1;
		family = AF_INET6;
	} else if (colon && strchr(colon + 1, ':') == NULL) {
		if (!port_of(colon + 1, port))
			return false;
		end = colon;
	} else {
		end = s + strlen(s);
		family = colon ? AF_INET6 : AF_INET;
	}
	if (!is_ip(start, (size_t)(end - start), family) || (size_t)(end - start) >= cap)
		return false;
	memcpy(ip, start, (size_t)(end - start));
	ip[end - start] = '\0';
	return true;
}

/* An uncompressed wire-format name at rd[*at] as text without the
 * trailing dot; *at moves past it.  name is "" on failure. */
static bool wire_name_(const unsigned char *rd, size_t len, size_t *at, char *name, size_t cap);

static bool wire_name(const unsigned char *rd, size_t len, size_t *at, char *name, size_t cap)
{
	if (wire_name_(rd, len, at, name, cap))
		return true;
	if (cap)
		name[0] = '\0';
	return false;
}

static bool wire_name_(const unsigned char *rd, size_t len, size_t *at, char *name, size_t cap)
{
	size_t o = 0, i = *at;

	if (cap == 0)
		return false;
	name[0] = '\0';
	while (i < len) {
		size_t n = rd[i++];
		if (n == 0) {
			*at = i;
			name[o] = '\0';
			return o < 254;
		}
		if (n > 63 || n > len - i || o + n + 2 > cap)
			return false;   /* a compression pointer (0xc0..), or too long */
		if (o)
			name[o++] = '.';
		for (size_t k = 0; k < n; k++) {
			char c = (char)rd[i + k];
			if (!ldh(c))
				return false;
			name[o++] = c;
		}
		i += n;
	}
	return false;
}

bool dns_rr_mx(const unsigned char *rd, size_t len, unsigned *pref, char *name, size_t cap)
{
	size_t at = 2;

	if (cap)
		name[0] = '\0';
	if (len < 3)
		return false;
	*pref = (unsigned)rd[0] << 8 | rd[1];
	return wire_name(rd, len, &at, name, cap) && at == len;
}

bool dns_rr_addr(const unsigned char *rd, size_t len, char *text, size_t cap)
{
	if (cap)
		text[0] = '\0';
	if (len != 4 && len != 16)
		return false;
	return inet_ntop(len == 4 ? AF_INET : AF_INET6, rd, text, (socklen_t)cap) != NULL;
}

bool dns_rr_txt(const unsigned char *rd, size_t len, char *text, size_t cap)
{
	size_t o = 0, i = 0;

	if (cap == 0)
		return false;
	text[0] = '\0';
	while (i < len) {
		size_t n = rd[i++];
		if (n > len - i || o + n >= cap) {
			text[0] = '\0';
			return false;
		}
		for (size_t k = 0; k < n; k++) {
			unsigned char c = rd[i + k];
			text[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
		i += n;
	}
	text[o] = '\0';
	return true;
}

bool dns_rr_tlsa(const unsigned char *rd, size_t len, struct dns_tlsa *out)
{
	if (len < 3 || len - 3 > sizeof(out->data))
		return false;
	out->usage = rd[0];
	out->selector = rd[1];
	out->mtype = rd[2];
	out->len = len - 3;
	memcpy(out->data, rd + 3, out->len);
	return true;
}
