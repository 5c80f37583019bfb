/*
 * fuzz_headers.c - libFuzzer target for the header-block readers: the
 * field iterator, unfold, the date parser, Authentication-Results (with a
 * few auth_results_from lists) and Received.  The input is copied into a
 * buffer of exactly its size, so any read past len is an ASan report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "mail_header.h"

static void check_str(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const froms[] = { NULL, "", "-", "mx.google.com", "mx.x, -,  MX.Inner" };
	char *b = malloc(size ? size : 1);
	const char *cur, *end;
	struct mail_field f;
	struct path_summary ps;
	char out[64], why[32];
	int64_t t;
	int fields = 0;

	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	end = b + size;
	for (size_t i = 0; i < sizeof(froms) / sizeof(froms[0]); i++) {
		struct auth_verdicts v;
		auth_results_read(b, size, froms[i], &v);
		check_str(v.authserv_id, sizeof(v.authserv_id));
		for (int m = 0; m < AUTH_N; m++)
			check_str(v.verdict[m], AUTH_WORD_MAX);
	}
	received_read(b, size, &ps);
	if (ps.plain_hops > ps.hops || ps.hops < 0 || (ps.has_transit && ps.transit_time < 0))
		abort();
	cur = b;
	while (mail_field_next(&cur, end, &f)) {
		if (f.name < b || f.value + f.value_len > end || cur > end || f.name_len == 0)
			abort();
		if (mail_unfold(f.value, f.value_len, out, sizeof(out)) >= sizeof(out))
			abort();
		mail_parse_date(f.value, f.value_len, &t);
		mail_field_is(&f, "Received");
		fields++;
	}
	if (mail_body(cur, end) > end)
		abort();
	mail_parse_date(b, size, &t);
	if (mail_unfold(b, size, out, 7) >= 7)
		abort();
	/* The input as a NUL-terminated auth_results_from list. */
	{
		char *s = malloc(size + 1);
		if (s) {
			memcpy(s, data, size);
			s[size] = '\0';
			auth_results_from_valid(s, why, sizeof(why));
			check_str(why, sizeof(why));
			{
				struct auth_verdicts v;
				auth_results_read(b, size, s, &v);
			}
			free(s);
		}
	}
	(void)fields;
	free(b);
	return 0;
}
