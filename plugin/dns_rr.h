/*
 * dns_rr.h - the pure parts of our own DNS (SPEC §12, §13): names as we
 * accept them, the `resolver` value, and the record data (rdata) of the
 * types we ask for, decoded from DNS wire format (RFC 1035 §3.3, RFC 3596,
 * RFC 6698 §2.1).  dns.c hands libunbound's rdata here; nothing in this
 * file knows libunbound.
 *
 * Contract:
 *  - Input rdata is (data, len): nothing read at or past data + len; no
 *    NUL needed.  Names inside rdata are uncompressed (libunbound gives
 *    them so; a compression pointer is refused).
 *  - Output strings are NUL-terminated, never longer than cap - 1; on
 *    failure (false) outputs are unspecified but terminated when cap > 0.
 *  - No allocation, no state, no I/O (inet_pton/inet_ntop only).
 */
#ifndef MAIL_E2E_DNS_RR_H
#define MAIL_E2E_DNS_RR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 256          /* a name as text, with its NUL */
#define DNS_ADDR_TEXT_MAX 46      /* INET6_ADDRSTRLEN */
#define DNS_TLSA_DATA_MAX 4096    /* longest TLSA data we keep (a full certificate) */

/* Record types we ask for. */
enum { DNS_T_A = 1, DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_TLSA = 52 };

/* A host name we will look up or connect to: LDH labels (and '_', for
 * _mta-sts and _25._tcp), 1..63 bytes each, at most 253 in all, one
 * trailing dot allowed, not empty. */
bool dns_name_valid(const char *name);

/* The `resolver` key: "IP", "IP:port", "[IPv6]" or "[IPv6]:port", or a
 * bare IPv6 address; port 53 when none.  ip gets the address alone. */
bool dns_parse_server(const char *s, char *ip, size_t cap, int *port);

/* MX rdata: preference and exchange name (text, no trailing dot; "" for
 * the root, i.e. a null MX "0 ."). */
bool dns_rr_mx(const unsigned char *rd, size_t len, unsigned *pref, char *name, size_t cap);

/* A or AAAA rdata (by length: 4 or 16) as text. */
bool dns_rr_addr(const unsigned char *rd, size_t len, char *text, size_t cap);

/* TXT rdata: its character-strings joined without separator (RFC 7208
 * §3.3, RFC 8461 §3.1 read them so).  Bytes that are not printable ASCII
 * become '?'. */
bool dns_rr_txt(const unsigned char *rd, size_t len, char *text, size_t cap);

struct dns_tlsa {
	uint8_t usage, selector, mtype;
	size_t len;                        /* of data */
	unsigned char data[DNS_TLSA_DATA_MAX];
};

/* TLSA rdata: at least the three octets; data longer than the buffer is
 * refused (no usable record is that long). */
bool dns_rr_tlsa(const unsigned char *rd, size_t len, struct dns_tlsa *out);

#endif
