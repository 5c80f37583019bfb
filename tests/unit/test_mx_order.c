/*
 * test_mx_order.c - table-driven tests of the MX order (plugin/mx_order.c,
 * RFC 5321 §5.1, RFC 7505): by preference, equal ones in the order the
 * random numbers give (a scripted sequence here, then arc4random over many
 * runs: both orders must come), duplicates once at their lowest
 * preference, unusable records skipped, a null MX, more records than
 * room.  Linked with dns_rr.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx_order.h"
#include "unit.h"

/* MX rdata for "pref name". */
static struct dns_rdata mx(unsigned pref, const char *name, unsigned char *buf)
{
	size_t o = 2;
	const char *p = name;

	buf[0] = (unsigned char)(pref >> 8);
	buf[1] = (unsigned char)pref;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		buf[o++] = (unsigned char)n;
		memcpy(buf + o, p, n);
		o += n;
		p += n + (dot ? 1 : 0);
	}
	buf[o++] = 0;
	return (struct dns_rdata){ buf, o };
}

struct script {
	const uint32_t *v;
	size_t i;
};

static uint32_t scripted(void *ctx)
{
	struct script *s = ctx;
	return s->v[s->i++];
}

static uint32_t real(void *ctx)
{
	(void)ctx;
	return arc4random();
}

static const struct row {
	const char *name;
	const char *in[6];         /* "pref name"; "0 ." a null MX */
	uint32_t rnd[6];
	int want_n;
	const char *want[6];
} rows[] = {
	{ "one", { "10 mx.plain.test" }, { 0 }, 1, { "mx.plain.test" } },
	{ "by preference", { "40 mx4.walk.test", "10 mx1.walk.test", "30 mx3.walk.test", "20 mx2.walk.test" },
	  { 0, 0, 0, 0 }, 4, { "mx1.walk.test", "mx2.walk.test", "mx3.walk.test", "mx4.walk.test" } },
	{ "equal: the random order (b first)", { "10 mxa.equal.test", "10 mxb.equal.test" }, { 9, 3 }, 2,
	  { "mxb.equal.test", "mxa.equal.test" } },
	{ "equal: the random order (a first)", { "10 mxa.equal.test", "10 mxb.equal.test" }, { 3, 9 }, 2,
	  { "mxa.equal.test", "mxb.equal.test" } },
	{ "equal ones among others", { "20 c.test", "10 b.test", "10 a.test", "5 z.test" }, { 1, 7, 2, 5 }, 4,
	  { "z.test", "a.test", "b.test", "c.test" } },
	{ "a duplicate at its lowest preference", { "20 a.test", "10 b.test", "5 A.test" }, { 1, 2, 3 }, 2,
	  { "a.test", "b.test" } },
	{ "preference 0 and 65535", { "65535 last.test", "0 first.test" }, { 1, 2 }, 2, { "first.test", "last.test" } },
	{ "null MX", { "0 ." }, { 0 }, MX_ORDER_NULL, { NULL } },
	{ "null MX among others", { "10 mx.test", "0 ." }, { 0, 0 }, MX_ORDER_NULL, { NULL } },
	{ "a name with a blank is skipped", { "10 bad name.test", "20 ok.test" }, { 0, 0 }, 1, { "ok.test" } },
	{ "more than room: the lowest kept", { "50 e.test", "40 d.test", "30 c.test", "20 b.test", "10 a.test" },
	  { 1, 2, 3, 4, 5 }, 3, { "a.test", "b.test", "c.test" } },
};

int main(void)
{
	unsigned char buf[6][300];
	struct dns_rdata rr[6];
	struct mx_name out[6];
	int seen_a_first = 0, seen_b_first = 0;

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct row *t = &rows[r];
		struct script s = { t->rnd, 0 };
		size_t n = 0, cap = strstr(t->name, "room") ? 3 : 6;
		int got;
		bool same = true;
		for (; n < 6 && t->in[n]; n++) {
			unsigned pref = (unsigned)strtoul(t->in[n], NULL, 10);
			const char *name = strchr(t->in[n], ' ') + 1;
			rr[n] = strcmp(name, ".") == 0 ? (struct dns_rdata){ (const unsigned char *)"\0\0\0", 3 }
			        : mx(pref, name, buf[n]);
		}
		got = mx_order(rr, n, out, cap, scripted, &s);
		for (int i = 0; got == t->want_n && i < got; i++)
			same &= strcmp(out[i].name, t->want[i]) == 0;
		CHECK(got == t->want_n && same, "%s: %d host(s)%s%s", t->name, got, got > 0 ? ", first " : "",
		      got > 0 ? out[0].name : "");
	}
	rr[0] = mx(10, "mxa.equal.test", buf[0]);
	rr[1] = mx(10, "mxb.equal.test", buf[1]);
	for (int i = 0; i < 200; i++) {
		mx_order(rr, 2, out, 6, real, NULL);
		seen_a_first += out[0].name[2] == 'a';
		seen_b_first += out[0].name[2] == 'b';
	}
	CHECK(seen_a_first > 20 && seen_b_first > 20, "equal preferences, 200 runs: a first %d times, b first %d",
	      seen_a_first, seen_b_first);
	return unit_done();
}
