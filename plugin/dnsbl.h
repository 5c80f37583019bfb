/*
 * dnsbl.h - the pure parts of the DNSBL lookup (SPEC section 13): which
 * address the probe's Received path names, the query name for a zone, what
 * an answer means, and the dnsbl_zones field.  The lookup itself (through
 * `resolver`, concurrently, DNSSEC-aware) belongs to the caller.
 *
 * Contract:
 *  - block/len is the probe's header block as fetched (CRLF or bare LF line
 *    ends, folded values, no NUL needed, nothing read at or past block +
 *    len; possibly cut at any byte).  Other strings are NUL-terminated.
 *  - Output strings are NUL-terminated and never longer than cap - 1;
 *    nothing is written when cap is 0.  No allocation, no state, no network
 *    (inet_pton/inet_ntop only).
 *
 * The address of a Received header is the one in the TCP-info of its `from`
 * clause, never the HELO name.  Real forms read (see tests/unit/test_dnsbl.c
 * for the samples and where they come from):
 *   Postfix   from HELO (NAME [IP])           from HELO (NAME [IPv6:IP])
 *             from HELO (unknown [IP])        from [HELO-IP] (NAME [IP])
 *   Sendmail  from HELO (NAME [IP] (may be forged)) (authenticated ...)
 *   Exim      from NAME ([IP] helo=HELO)      from NAME ([IP]:PORT helo=HELO)
 *             from [IP] (helo=HELO)           from [IP] (port=P helo=HELO)
 *             from [IP]                       from NAME (helo=HELO) [IP]
 *   Microsoft from HELO (IP) by ...           (Exchange Online and on-premises)
 *   Gmail     from HELO (NAME. [IP]) by mx.google.com / smtp.gmail.com
 *   qmail, qpsmtpd, IronPort, Haraka: from NAME (HELO x) (IP) / ([IP]) /
 *             (user@IP);  zmailer (vger): from NAME ([IP]:PORT "EHLO x" ...)
 * Rules: the clause runs from "from" to the next by/via/with/id/for or ';'.
 * The first address in one of its comments counts: "[IP]" (an "IPv6:"
 * prefix dropped, a ":PORT" after "]" allowed), or a word that is a bare IP
 * or user@IP; except one right after "HELO"/"EHLO" or in "helo=".  Failing
 * that, a "[IP]" after the name outside comments (Exim's odd form), failing
 * that the name itself when it is "[IP]" (Exim writes the address there
 * when it has no verified host name; an MTA that wrote its client's HELO
 * literal there with no TCP-info comment would be taken at its word).  A
 * comment left open (a cut block) ends the reading: no address.  An
 * IPv4-mapped IPv6 address ([::ffff:192.0.2.1], a dual-stack listener's
 * view of an IPv4 client) is taken as the IPv4 address.
 */
#ifndef MAIL_E2E_DNSBL_H
#define MAIL_E2E_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSBL_IP_MAX 46        /* INET6_ADDRSTRLEN */
#define DNSBL_NAME_MAX 254     /* a DNS name as text (253) + NUL */
#define DNSBL_ZONE_MAX 189     /* so that 32 nibbles + zone fit in 253 */

struct dnsbl_addr {
	int family;                  /* AF_INET or AF_INET6 */
	uint8_t a[16];               /* network order; 4 bytes for AF_INET */
	char text[DNSBL_IP_MAX];     /* inet_ntop form: the dnsbl_ip field */
};

/* An IP address as text [s, s+n): dotted IPv4 or IPv6 (an "IPv6:" prefix is
 * not allowed here), IPv4-mapped IPv6 turned into IPv4. */
bool dnsbl_parse_addr(const char *s, size_t n, struct dnsbl_addr *out);

/* The TCP-info address of one Received value (as mail_field_next gives it:
 * raw, folds allowed), by the rules above.  False when there is none. */
bool dnsbl_received_addr(const char *v, size_t n, struct dnsbl_addr *out);

/* Not in 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16,
 * ::1, fc00::/7, fe80::/10 (SPEC 13), nor the unspecified ::. */
bool dnsbl_is_public(const struct dnsbl_addr *a);

enum dnsbl_pick {
	DNSBL_PICKED = 0,
	DNSBL_NO_HEADER,       /* no Received header (or fewer than hop) */
	DNSBL_NO_ADDRESS,      /* hop set: that header names no address */
	DNSBL_NO_PUBLIC,       /* hop unset: no Received header names a public one */
};

/* The address to look up: hop >= 1 (dnsbl_hop): the hop-th header named
 * Received from the top, counting every one (a "Received: by ..." or a
 * qmail comment-only line too, as SPEC 7's hops), whatever its address --
 * private ones included: the user named that hop, and the test worlds run
 * on 127.0.0.0/8.  hop <= 0 (unset): the topmost Received header whose
 * address is public.  Anything but DNSBL_PICKED: nothing is looked up and
 * the dnsbl fields are absent. */
enum dnsbl_pick dnsbl_pick(const char *block, size_t len, int hop, struct dnsbl_addr *out);

/* The query name for zone (RFC 5782 2.1, 2.4): reversed octets
 * ("2.0.0.127.zone") or the 32 reversed nibbles, lower-case hex, as in
 * ip6.arpa ("b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.zone").  A trailing
 * dot of zone is dropped.  False when zone is not a valid zone (see
 * dnsbl_zones_valid) or the name does not fit cap (DNSBL_NAME_MAX always
 * does). */
bool dnsbl_query_name(const struct dnsbl_addr *a, const char *zone, char *out, size_t cap);

enum dnsbl_answer {
	DNSBL_NOT_LISTED = 0,  /* no A record, or only ones outside 127.0.0.0/8 */
	DNSBL_LISTED,          /* an A record in 127/8 outside 127.255.255.0/24 */
	DNSBL_ERROR_CODE,      /* only 127.255.255.x: the zone refused the query */
};

/* Judge the A records of one answer (n of them, 4 bytes each).  note (cap
 * bytes) says what was seen: the listing code "127.0.0.2"; an error code
 * and its meaning where Spamhaus documents it ("127.255.255.254: query via
 * a public/open resolver"); "answer 10.0.0.1 is not in 127.0.0.0/8"; ""
 * for no record.  A listing code wins over error codes in the same answer. */
enum dnsbl_answer dnsbl_judge(const uint8_t (*rec)[4], size_t n, char *note, size_t cap);

/* The route key dnsbl: zones separated by commas, blanks around each
 * allowed; "" or NULL is no zone.  Each zone: labels of letters, digits,
 * '-' and '_', 1..63 bytes, joined by dots, one trailing dot allowed, at
 * most DNSBL_ZONE_MAX bytes; no zone twice (compared without case).  On
 * false, why (cap bytes) names the item and what is wrong. */
bool dnsbl_zones_valid(const char *list, char *why, size_t cap);

/* How many zones the list has (empty items count too: validate first). */
size_t dnsbl_zone_count(const char *list);

/* The i-th zone (from 0), blanks trimmed, into out; false when there is no
 * such item or it does not fit. */
bool dnsbl_zone_at(const char *list, size_t i, char *out, size_t cap);

/* The dnsbl_zones field: the zones i < n with listed[i], as written in the
 * list, comma-separated without blanks, in list order.  Returns how many
 * were listed (dnsbl_listed).  Only whole zones are written; cap of
 * strlen(list) + 1 always suffices. */
size_t dnsbl_zones_join(const char *list, const bool *listed, size_t n, char *out, size_t cap);

#endif
