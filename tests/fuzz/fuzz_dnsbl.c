/*
 * fuzz_dnsbl.c - libFuzzer target for the pure DNSBL parts: dnsbl_pick()
 * with dnsbl_hop unset and 1..3 and dnsbl_received_addr() on every field of
 * the input (in a buffer of exactly its size, so a read past len is an ASan
 * report), query names for the picked address, the input as A records for
 * dnsbl_judge(), and the input as a dnsbl zone list.  Checked: a picked
 * address is canonical text that parses back to itself, an unset hop only
 * picks public addresses, names fit DNS limits, the listed zones are a
 * subset of the list, strings stay terminated inside their buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"
#include "mail_header.h"

static void check_str(const char *s, size_t cap)
{
	if (cap > 0 && memchr(s, '\0', cap) == NULL)
		abort();
}

static void check_addr(const struct dnsbl_addr *a)
{
	static const char *const zones[] = { "bl.test", "zen.spamhaus.org.", "" };
	struct dnsbl_addr back;
	char name[DNSBL_NAME_MAX];

	check_str(a->text, sizeof(a->text));
	if (!dnsbl_parse_addr(a->text, strlen(a->text), &back) || back.family != a->family ||
	    memcmp(back.a, a->a, sizeof(a->a)) != 0 || strcmp(back.text, a->text) != 0)
		abort();
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		bool ok = dnsbl_query_name(a, zones[i], name, sizeof(name));
		if (ok != (zones[i][0] != '\0') || strlen(name) > 253)
			abort();
	}
	if (dnsbl_query_name(a, "bl.test", name, 5))
		abort();
}

static void fields(const char *b, size_t size)
{
	const char *cur = b, *end = b + size;
	struct mail_field f;
	struct dnsbl_addr a;

	while (mail_field_next(&cur, end, &f))
		if (dnsbl_received_addr(f.value, f.value_len, &a))
			check_addr(&a);
}

static void picks(const char *b, size_t size)
{
	struct dnsbl_addr a;

	for (int hop = 0; hop <= 3; hop++) {
		enum dnsbl_pick p = dnsbl_pick(b, size, hop, &a);
		if (p == DNSBL_PICKED) {
			check_addr(&a);
			if (hop == 0 && !dnsbl_is_public(&a))
				abort();
		} else if (a.text[0] != '\0' || (hop > 0 && p == DNSBL_NO_PUBLIC) ||
		           (hop == 0 && p == DNSBL_NO_ADDRESS)) {
			abort();
		}
	}
}

static void judge(const uint8_t *data, size_t size)
{
	char note[64];
	size_t n = size / 4 > 16 ? 16 : size / 4;

	dnsbl_judge((const uint8_t (*)[4])data, n, note, sizeof(note));
	check_str(note, sizeof(note));
	dnsbl_judge((const uint8_t (*)[4])data, n, note, 3);
	check_str(note, 3);
}

static void zone_list(const char *list)
{
	char why[96], zone[DNSBL_ZONE_MAX + 2], out[512];
	bool listed[64];
	size_t n = dnsbl_zone_count(list), got, len = strlen(list);
	bool valid = dnsbl_zones_valid(list, why, sizeof(why));
	struct dnsbl_addr a;

	check_str(why, sizeof(why));
	if (valid != (why[0] == '\0'))
		abort();
	dnsbl_parse_addr("2001:db8::1", 11, &a);
	for (size_t i = 0; i < n && i < 64; i++) {
		listed[i] = (i % 2) == 0;
		if (dnsbl_zone_at(list, i, zone, sizeof(zone))) {
			char name[DNSBL_NAME_MAX];
			if (valid && !dnsbl_query_name(&a, zone, name, sizeof(name)))
				abort();
		} else if (valid) {
			abort();
		}
	}
	if (n > 64 || len + 1 > sizeof(out))
		return;
	got = dnsbl_zones_join(list, listed, n, out, len + 1);
	check_str(out, len + 1);
	if (got != (n + 1) / 2 || strlen(out) > len)
		abort();
	got = dnsbl_zones_join(list, listed, n, out, 4);
	check_str(out, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = malloc(size ? size : 1), *s;

	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	picks(b, size);
	fields(b, size);
	judge((const uint8_t *)b, size);
	free(b);
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	zone_list(s);
	free(s);
	return 0;
}
