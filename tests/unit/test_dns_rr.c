/*
 * test_dns_rr.c - table-driven tests of the pure DNS parts
 * (plugin/dns_rr.c): names, the resolver key, and rdata of MX (RFC 1035
 * §3.3.9; a null MX, RFC 7505), A/AAAA, TXT (several strings) and TLSA
 * (RFC 6698 §2.1), each cut short and with a compression pointer.  The
 * rdata are what libunbound handed us in the MX world (mxworld.notes.md).
 * Linked alone.
 */
#include <stdio.h>
#include <string.h>

#include "dns_rr.h"
#include "unit.h"

static const struct name_case {
	const char *name;
	bool ok;
} names[] = {
	{ "mx.plain.test", true }, { "mx.plain.test.", true }, { "_25._tcp.mx.dane-ee.test", true },
	{ "localhost", true }, { "a", true }, { "", false }, { ".", false }, { "a..b", false },
	{ ".a", false }, { "a.b..", false }, { "a b.test", false }, { "m\xc3\xa9.test", false },
	{ "xn--m-bga.test", true }, { "a@b.test", false },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", true },    /* 63 */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", false },   /* 64 */
};

static const struct server_case {
	const char *in, *ip;
	int port;
} servers[] = {
	{ "127.0.60.2", "127.0.60.2", 53 }, { "127.0.60.2:5353", "127.0.60.2", 5353 },
	{ "::1", "::1", 53 }, { "[::1]", "::1", 53 }, { "[2001:db8::1]:853", "2001:db8::1", 853 },
	{ "2001:db8::1", "2001:db8::1", 53 },
	{ "1.2.3.4:0", NULL, 0 }, { "1.2.3.4:65536", NULL, 0 }, { "1.2.3.4:", NULL, 0 },
	{ "dns.example", NULL, 0 }, { "[::1]53", NULL, 0 }, { "1.2.3", NULL, 0 }, { "", NULL, 0 },
	{ "[1.2.3.4]:53", NULL, 0 }, { "1.2.3.4:53x", NULL, 0 },
};

static void test_names(void)
{
	char ip[DNS_ADDR_TEXT_MAX];
	int port;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(dns_name_valid(names[i].name) == names[i].ok, "name '%s' %s", names[i].name,
		      names[i].ok ? "valid" : "refused");
	for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++) {
		const struct server_case *c = &servers[i];
		bool ok = dns_parse_server(c->in, ip, sizeof(ip), &port);
		CHECK(c->ip ? ok && strcmp(ip, c->ip) == 0 && port == c->port : !ok,
		      "resolver '%s' -> %s %s:%d", c->in, ok ? "ok" : "refused", ok ? ip : "", ok ? port : 0);
	}
}

#define RD(...) (const unsigned char[]){ __VA_ARGS__ }, sizeof((const unsigned char[]){ __VA_ARGS__ })

static void test_mx(void)
{
	char name[DNS_NAME_MAX];
	unsigned pref = 99;

	CHECK(dns_rr_mx(RD(0, 10, 2, 'm', 'x', 5, 'p', 'l', 'a', 'i', 'n', 4, 't', 'e', 's', 't', 0),
	                &pref, name, sizeof(name)) && pref == 10 && strcmp(name, "mx.plain.test") == 0,
	      "MX 10 mx.plain.test: %u %s", pref, name);
	CHECK(dns_rr_mx(RD(0, 0, 0), &pref, name, sizeof(name)) && pref == 0 && name[0] == '\0',
	      "null MX: 0 and the root");
	CHECK(dns_rr_mx(RD(1, 0, 1, 'a', 0), &pref, name, sizeof(name)) && pref == 256, "preference in network order");
	CHECK(!dns_rr_mx(RD(0, 10, 2, 'm', 'x', 5, 'p'), &pref, name, sizeof(name)), "MX cut in a label");
	CHECK(!dns_rr_mx(RD(0, 10, 2, 'm', 'x'), &pref, name, sizeof(name)), "MX without the root label");
	CHECK(!dns_rr_mx(RD(0, 10, 0xc0, 12), &pref, name, sizeof(name)), "MX with a compression pointer");
	CHECK(!dns_rr_mx(RD(0, 10, 1, 'a', 0, 0), &pref, name, sizeof(name)), "MX with bytes after the name");
	CHECK(!dns_rr_mx(RD(0, 10, 1, ' ', 0), &pref, name, sizeof(name)), "MX with a blank in the name");
	CHECK(!dns_rr_mx(RD(0, 10), &pref, name, sizeof(name)), "MX of two bytes");
	CHECK(!dns_rr_mx(RD(0, 10, 2, 'm', 'x', 1, 'a', 0), &pref, name, 4), "MX name longer than the buffer");
}

static void test_addr_txt_tlsa(void)
{
	char text[300];
	static struct dns_tlsa t;

	CHECK(dns_rr_addr(RD(127, 0, 61, 10), text, sizeof(text)) && strcmp(text, "127.0.61.10") == 0, "A: %s", text);
	CHECK(dns_rr_addr(RD(0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25), text, sizeof(text)) &&
	      strcmp(text, "2001:db8::25") == 0, "AAAA: %s", text);
	CHECK(!dns_rr_addr(RD(1, 2, 3), text, sizeof(text)), "A of 3 bytes");
	CHECK(dns_rr_txt(RD(7, 'v', '=', 'S', 'T', 'S', 'v', '1', 6, ';', ' ', 'i', 'd', '=', '1'), text, sizeof(text)) &&
	      strcmp(text, "v=STSv1; id=1") == 0, "TXT of two strings joined: %s", text);
	CHECK(dns_rr_txt(RD(0), text, sizeof(text)) && text[0] == '\0', "TXT of one empty string");
	CHECK(dns_rr_txt(RD(2, 'a', 0x07), text, sizeof(text)) && strcmp(text, "a?") == 0, "TXT control byte as ?");
	CHECK(!dns_rr_txt(RD(5, 'a', 'b'), text, sizeof(text)), "TXT string cut short");
	CHECK(!dns_rr_txt(RD(3, 'a', 'b', 'c'), text, 3), "TXT longer than the buffer");
	CHECK(dns_rr_tlsa(RD(3, 1, 1, 0xda, 0xb6), &t) && t.usage == 3 && t.selector == 1 && t.mtype == 1 &&
	      t.len == 2 && t.data[0] == 0xda, "TLSA 3 1 1");
	CHECK(dns_rr_tlsa(RD(2, 0, 0), &t) && t.len == 0, "TLSA without data (unusable, but read)");
	CHECK(!dns_rr_tlsa(RD(3, 1), &t), "TLSA of two bytes");
}

int main(void)
{
	test_names();
	test_mx();
	test_addr_txt_tlsa();
	return unit_done();
}
