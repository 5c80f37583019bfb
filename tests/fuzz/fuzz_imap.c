/*
 * fuzz_imap.c - libFuzzer target for every parser of IMAP server replies:
 * the framing reader (fed in two chunks split at a fuzzer-chosen point) and
 * each per-response parser on every response it frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_parse.h"
#include "imap_utf7.h"

static int on_response(void *ctx, const char *text, bool truncated)
{
	struct imap_response r;
	uint32_t n, uids[16];
	size_t count;

	(void)ctx;
	(void)truncated;
	imap_parse_response(text, &r);
	imap_parse_exists(text, &n);
	imap_parse_code_number(r.rest, "UIDNEXT", &n);
	imap_parse_status_uidnext(text, &n);
	imap_parse_search(text, uids, 16, &count);
	if (count > 16)
		abort();
	imap_is_capability(text);
	imap_capability_has(text, "IDLE");
	{
		char name[64];
		unsigned attrs;
		struct imap_fetched f;
		uint32_t dst[8];
		size_t ndst;
		char utf7[64];
		if (imap_parse_list(text, &attrs, name, sizeof(name)) && strlen(name) >= sizeof(name))
			abort();
		if (imap_parse_copyuid(text, dst, 8, &ndst) && ndst > 8)
			abort();
		if (imap_utf7_encode(text, utf7, sizeof(utf7)) >= (int)sizeof(utf7))
			abort();
		if (imap_parse_fetch_probe(text, &f) &&
		    (strlen(f.token) >= sizeof(f.token) || strlen(f.message_id) >= sizeof(f.message_id)))
			abort();
		{
			const char *block;
			size_t len;
			uint32_t uid;
			/* The block must lie inside the response it came from. */
			if (imap_parse_fetch_header(text, &uid, &block, &len) &&
			    (block < text || block + len > text + strlen(text)))
				abort();
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct imap_reader r;
	static char big[8192];
	size_t split;

	if (size == 0)
		return 0;
	split = data[0] % size;
	imap_reader_init(&r);
	if (data[0] & 1)   /* half the runs read into a caller's buffer, raw literals */
		imap_reader_use(&r, big, sizeof(big));
	imap_reader_feed(&r, (const char *)data + 1, split ? split - 1 : 0, on_response, NULL);
	if (data[0] & 2)   /* and some switch back in the middle */
		imap_reader_use(&r, NULL, 0);
	imap_reader_feed(&r, (const char *)data + (split ? split : 1),
	                 size - (split ? split : 1), on_response, NULL);
	return 0;
}
