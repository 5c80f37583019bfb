/*
 * config_int.h - the loader's inside, shared by config.c (pass 1: the INI
 * file into sections; [defaults]; config_load) and config_route.c (pass
 * 2: routes).  Nobody else includes it.  All memory is the loader's until
 * config_load() hands the routes to the caller's struct config.
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
};

/* An error naming file, line, section and key; the first one wins. */
void failf(struct loader *L, int line, const char *section, const char *key,
           const char *fmt, ...) __attribute__((format(printf, 5, 6)));
struct kv *find_kv(const struct section *s, const char *key);   /* NULL: absent (s may be NULL) */
/* A file holding a secret, by the rules of secret_file.h: a regular file
 * others cannot read (group: one W! line); -1 (and failf) if refused. */
int check_secret_mode(struct loader *L, const char *path, int line,
                      const char *section, const char *key, enum secret_kind kind);
/* The secret in the file kv names: its first line, without the line end;
 * NULL (and failf) on error. */
char *read_secret_file(struct loader *L, const struct kv *kv, const char *section,
                       enum secret_kind kind);

/* config_route.c */
int config_apply_key(struct loader *L, struct route *r, const struct keydef *k,
                     const char *value, int line, const char *section);
int config_build_route(struct loader *L, struct route *r, const struct section *sec,
                       const struct section *defs);
void config_free_route(struct route *r);

#endif
