/*
 * mx_order.c - see mx_order.h.
 */
#include "mx_order.h"

#include <stdlib.h>
#include <strings.h>

static int by_preference(const void *a, const void *b)
{
	const struct mx_name *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return x->shuffle < y->shuffle ? -1 : x->shuffle > y->shuffle;
}

/* Where name already is in out[0..k), or -1. */
static int find(const struct mx_name *out, size_t k, const char *name)
{
	for (size_t i = 0; i < k; i++)
		if (strcasecmp(out[i].name, name) == 0)
			return (int)i;
	return -1;
}

int mx_order(const struct dns_rdata *rr, size_t n, struct mx_name *out, size_t cap,
             uint32_t (*rnd)(void *ctx), void *ctx)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct mx_name m = { .pref = 0 };
		int at;
		if (!dns_rr_mx(rr[i].data, rr[i].len, &m.pref, m.name, sizeof(m.name)))
			continue;
		if (!m.name[0])
			return MX_ORDER_NULL;
		if (!dns_name_valid(m.name))
			continue;
		m.shuffle = rnd(ctx);
		at = find(out, k, m.name);
		if (at >= 0) {
			if (m.pref < out[at].pref)
				out[at].pref = m.pref;
			continue;
		}
		if (k < cap) {
			out[k++] = m;
			continue;
		}
		/* Full: a lower preference takes the place of the highest. */
		qsort(out, k, sizeof(*out), by_preference);
		if (k > 0 && m.pref < out[k - 1].pref)
			out[k - 1] = m;
	}
	qsort(out, k, sizeof(*out), by_preference);
	return (int)k;
}
