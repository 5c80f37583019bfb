/*
 * mx_order.h - the MX hosts of a domain in the order they are tried
 * (RFC 5321 §5.1): the MX records by preference, lowest first, equal
 * preferences in random order; a name listed twice once (its lowest
 * preference); records that are no host name skipped; a null MX (RFC
 * 7505: "MX 0 .") is the answer itself.  Pure: the random numbers come
 * from the caller (tests give their own).
 */
#ifndef MAIL_E2E_MX_ORDER_H
#define MAIL_E2E_MX_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define MX_ORDER_NULL (-1)

struct mx_name {
	char name[DNS_NAME_MAX];
	unsigned pref;
	uint32_t shuffle;
};

/* n records (MX rdata) into out (cap at most, the lowest preferences
 * kept): how many, or MX_ORDER_NULL. */
int mx_order(const struct dns_rdata *rr, size_t n, struct mx_name *out, size_t cap,
             uint32_t (*rnd)(void *ctx), void *ctx);

#endif
