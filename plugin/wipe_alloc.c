/*
 * wipe_alloc.c - see wipe_alloc.h.
 */
#include "wipe_alloc.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

void (*wipe_free_observer)(const void *p, size_t n);

void *wipe_malloc(size_t n)
{
	return malloc(n);
}

void *wipe_calloc(size_t count, size_t n)
{
	return calloc(count, n);
}

char *wipe_strdup(const char *s)
{
	return strdup(s);
}

void wipe_free(void *p)
{
	size_t n;

	if (!p)
		return;
	n = malloc_usable_size(p);
	explicit_bzero(p, n);
	if (wipe_free_observer)
		wipe_free_observer(p, n);
	free(p);
}

/* Never realloc() in place: a block that moves would be freed unwiped
 * by the C library. */
void *wipe_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(n);
	if (n == 0) {
		wipe_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	wipe_free(p);
	return q;
}
