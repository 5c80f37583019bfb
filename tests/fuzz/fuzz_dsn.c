/*
 * fuzz_dsn.c - libFuzzer target for the delivery status notification
 * reader: dsn_read() on the input (in a buffer of exactly its size, so a
 * read past len is an ASan report) with no recipient, a fixed one, and the
 * input's first line as the recipient; every string must stay terminated
 * inside its field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"

static void check_str(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static void check(const struct dsn_report *r)
{
	check_str(r->envid, sizeof(r->envid));
	check_str(r->action, sizeof(r->action));
	check_str(r->status, sizeof(r->status));
	check_str(r->diagnostic, sizeof(r->diagnostic));
	check_str(r->remote_mta, sizeof(r->remote_mta));
	check_str(r->recipient, sizeof(r->recipient));
	check_str(r->message_id, sizeof(r->message_id));
	check_str(r->probe_token, sizeof(r->probe_token));
	check_str(r->reporting_mta, sizeof(r->reporting_mta));
	if (r->recipients < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = malloc(size ? size : 1);
	char want[64];
	struct dsn_report r;
	size_t n = 0;

	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	if (dsn_read(b, size, NULL, &r) != r.is_dsn)
		abort();
	check(&r);
	dsn_read(b, size, "bob@b.test", &r);
	check(&r);
	while (n < size && n + 1 < sizeof(want) && data[n] != '\n' && data[n] != '\0') {
		want[n] = (char)data[n];
		n++;
	}
	want[n] = '\0';
	dsn_read(b, size, want, &r);
	check(&r);
	free(b);
	return 0;
}
