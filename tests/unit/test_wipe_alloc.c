/*
 * test_wipe_alloc.c - every block the libcurl allocator gives back is zeroed
 * first, the old block of a growing realloc included (issue 14, defect 11).
 */
#include <stdbool.h>
#include <string.h>

#include "wipe_alloc.h"
#include "unit.h"

static size_t freed_blocks, freed_dirty;

static void observe(const void *p, size_t n)
{
	const unsigned char *b = p;

	freed_blocks++;
	for (size_t i = 0; i < n; i++)
		if (b[i]) {
			freed_dirty++;
			return;
		}
}

int main(void)
{
	static const size_t grow[] = { 16, 64, 1000, 70000, 300000 };
	char *p = wipe_strdup("AUTH PLAIN AGJvYgBzZWNyZXQ=");
	char *q;

	wipe_free_observer = observe;
	CHECK(p != NULL, "strdup gives a copy");
	for (size_t i = 0; i < sizeof(grow) / sizeof(grow[0]); i++) {
		size_t before = freed_blocks;
		q = wipe_realloc(p, grow[i]);
		CHECK(q && strncmp(q, "AUTH PLAIN AGJvYgBzZWNyZXQ=", 10) == 0,
		      "realloc to %zu keeps the content", grow[i]);
		CHECK(freed_blocks == before + 1 && freed_dirty == 0,
		      "realloc to %zu: the old block was zeroed before it was freed", grow[i]);
		p = q;
	}
	q = wipe_realloc(p, 8);
	CHECK(q && memcmp(q, "AUTH PLA", 8) == 0 && freed_dirty == 0, "shrinking keeps the head, wipes the old");
	p = wipe_calloc(4, 100);
	CHECK(p && p[399] == 0, "calloc zeroes");
	memset(p, 'x', 400);
	wipe_free(p);
	wipe_free(q);
	wipe_free(NULL);
	CHECK(freed_dirty == 0 && freed_blocks >= 8, "every freed block was zero (%zu blocks)", freed_blocks);
	p = wipe_realloc(NULL, 10);
	CHECK(p != NULL, "realloc(NULL) allocates");
	wipe_free(p);
	return unit_done();
}
