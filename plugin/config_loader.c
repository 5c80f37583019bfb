/*
 * config_loader.c - the loader's core, below both passes (see config_int.h):
 * errors that name file, line, section and key; looking keys up in a
 * section; one value applied to a route; secret files read by the rules of
 * secret_file.h.  config.c (pass 1, [defaults], config_load) and
 * config_route.c (pass 2) both call down here; nothing here calls them.
 */
#include "config_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "secret_file.h"

/* --- errors -------------------------------------------------------------- */

/* Record the first error only: later ones are usually its consequences. */
void loader_fail(struct loader *L, int line, const char *section, const char *key,
                 const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	int n = 0;

	if (L->failed)
		return;
	L->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(L->err, L->errlen, "%s:", L->path);
	if (line > 0 && n >= 0 && (size_t)n < L->errlen)
		n += snprintf(L->err + n, L->errlen - (size_t)n, "%d:", line);
	if (section && n >= 0 && (size_t)n < L->errlen)
		n += snprintf(L->err + n, L->errlen - (size_t)n, " [%s]", section);
	if (key && n >= 0 && (size_t)n < L->errlen)
		n += snprintf(L->err + n, L->errlen - (size_t)n, " %s:", key);
	if (n >= 0 && (size_t)n < L->errlen)
		snprintf(L->err + n, L->errlen - (size_t)n, " %s", msg);
}

/* A secret file's error: why names the file already, so the config file
 * itself is not named twice. */
static void secret_fail(struct loader *L, const char *path, int line, const char *section,
                        const char *key, const char *why)
{
	if (path == L->path && !L->failed) {
		L->failed = true;
		snprintf(L->err, L->errlen, "%s", why);
		return;
	}
	loader_fail(L, line, section, key, "%s", why);
}

struct kv *loader_kv(const struct section *s, const char *key)
{
	if (s)
		for (size_t i = 0; i < s->n; i++)
			if (strcmp(s->kvs[i].key, key) == 0)
				return &s->kvs[i];
	return NULL;
}

/* The mode rules of secret_file.h for path (a secret file named by key, or
 * the configuration file itself); the group may read it: one W! line. */
int loader_check_secret(struct loader *L, const char *path, int line,
                      const char *section, const char *key, enum secret_kind kind)
{
	char why[600];
	int rc = secret_file_check(path, kind, why, sizeof(why));

	if (rc < 0)
		secret_fail(L, path, line, section, key, why);
	else if (rc > 0)
		log_warn("%s", why);
	return rc < 0 ? -1 : 0;
}

/* The secret is the file's first line, without its line ending. */
char *loader_read_secret(struct loader *L, const struct kv *kv, const char *section,
                       enum secret_kind kind)
{
	char why[600], *secret;
	int rc = secret_file_read(kv->value, kind, &secret, why, sizeof(why));

	if (rc < 0)
		secret_fail(L, kv->value, kv->line, section, kv->key, why);
	else if (rc > 0)
		log_warn("%s", why);
	return secret;
}

/* One value into its route field; an error names where it was written. */
int loader_apply_key(struct loader *L, struct route *r, const struct keydef *k,
                     const char *value, int line, const char *section)
{
	char why[400];

	if (config_key_apply(r, k, value, why, sizeof(why)) == 0)
		return 0;
	loader_fail(L, line, section, k->name, "%s", why);
	return -1;
}

