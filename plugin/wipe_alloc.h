/*
 * wipe_alloc.h - the allocator handed to libcurl (curl_global_init_mem).
 *
 * libcurl keeps its own copies of passwords, tokens and SASL messages and
 * grows its buffers with realloc.  Every block these functions give back to
 * the C library is zeroed first, also the old block of a realloc that
 * moved, so no credential outlives its use in freed heap.
 *
 * Contract: the functions behave as their C library namesakes (NULL on
 * failure, the old block untouched when realloc fails).  Memory comes from
 * and goes to malloc/free, so mixing with plain free() is safe, only not
 * wiped.  wipe_free_observer is for tests: when set, it sees every block
 * just after it was zeroed and just before it is freed.
 */
#ifndef MAIL_E2E_WIPE_ALLOC_H
#define MAIL_E2E_WIPE_ALLOC_H

#include <stddef.h>

void *wipe_malloc(size_t n);
void *wipe_calloc(size_t count, size_t n);
void *wipe_realloc(void *p, size_t n);
char *wipe_strdup(const char *s);
void wipe_free(void *p);

extern void (*wipe_free_observer)(const void *p, size_t n);

#endif
