/*
 * config_int.h - the loader's inside, shared by config.c (pass 1: the INI
 * file into sections; [defaults]; config_load), config_route.c (pass 2:
 * routes) and config_loader.c (the core both call: errors, key lookup,
 * applying a value, secret files).  Nobody else includes it.  All memory
 * is the loader's until config_load() hands the routes to the caller's
 * struct config.
 *
 * Every arrow points down: config.c -> config_route.c -> config_loader.c
 * -> config_keys.c, secret_file.c; config.c -> config_loader.c.
 */
#ifndef MAIL_E2E_CONFIG_INT_H
#define MAIL_E2E_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "config_keys.h"
#include "secret_file.h"

#define DEFAULTS "defaults"

struct kv {
	char *key, *value;
	int line;
};

struct section {
	char *name;
	int line;
	struct kv *kvs;
	size_t n, cap;
};

struct loader {
	const char *path;
	FILE *f;
	int line;
	char *buf;
	size_t bufcap;
	struct section *secs;
	size_t nsecs, cap;
	struct section *cur;
	char *err;
	size_t errlen;
	bool failed;
	bool holds_password;
	char *pending;          /* the value of line pending_line, split by
	                           config_line.c, waiting for inih's on_pair */
	int pending_line;
};

/* config_loader.c */

/* An error naming file, line, section and key (line 0, section or key
 * NULL: left out); the first one wins, later ones are usually its
 * consequences. */
void loader_fail(struct loader *L, int line, const char *section, const char *key,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
struct kv *loader_kv(const struct section *s, const char *key);   /* NULL: absent (s may be NULL) */
/* One value into its route field (config_key_apply); an error names where
 * it was written (line 0, section NULL: a built-in default). */
int loader_apply_key(struct loader *L, struct route *r, const struct keydef *k,
                     const char *value, int line, const char *section);
/* A file holding a secret, by the rules of secret_file.h: a regular file
 * others cannot read (group: one W! line); -1 (and loader_fail) if
 * refused.  path may be the configuration file itself (L->path). */
int loader_check_secret(struct loader *L, const char *path, int line,
                        const char *section, const char *key, enum secret_kind kind);
/* The secret in the file kv names: its first line, without the line end,
 * on the heap (the caller frees it with secret_free()); NULL (and
 * loader_fail) on error. */
char *loader_read_secret(struct loader *L, const struct kv *kv, const char *section,
                         enum secret_kind kind);

/* config_route.c */
int config_build_route(struct loader *L, struct route *r, const struct section *sec,
                       const struct section *defs);
void config_free_route(struct route *r);

#endif
