/*
 * config.c - see config.h.
 *
 * Two passes.  First inih reads the file into sections of key/value pairs,
 * through our own line reader, which counts lines (inih 55 as Debian builds
 * it reports none to the handler), rejects lines longer than inih's buffer
 * instead of letting inih split them, strips leading blanks (so indented
 * keys are keys, not inih "continuation lines") and sees every [section]
 * header, empty ones included.  Then every route is built from its own keys,
 * the [defaults] keys and the built-in defaults, validating each value where
 * it was written, so an error names the line that holds it.
 *
 * Here: pass 1, ${VAR} expansion, [defaults] and the entry points.  Pass 2
 * (a route) is config_route.c; the core both passes call (errors, key
 * lookup, applying a value, secret files) config_loader.c; the key table
 * and each value's rules config_keys.c; --check-config's listing
 * config_print.c; config_int.h is what the loader's files share.
 */
#include "config.h"
#include "config_keys.h"
#include "config_line.h"
#include "config_mx.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "secret_file.h"

#include "config_int.h"

/* --- pass 1: reading ------------------------------------------------------ */

static bool valid_section_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static struct section *find_section(struct loader *L, const char *name)
{
	for (size_t i = 0; i < L->nsecs; i++)
		if (strcmp(L->secs[i].name, name) == 0)
			return &L->secs[i];
	return NULL;
}

static void add_section(struct loader *L, const char *name)
{
	struct section *s = find_section(L, name);

	if (!valid_section_name(name)) {
		char b[64];
		loader_fail(L, L->line, NULL, NULL, "bad section name [%s]: use letters, digits, '-', '_', '.'",
		            config_shown(name, b, sizeof(b)));
		L->cur = NULL;
		return;
	}
	if (s) {
		loader_fail(L, L->line, name, NULL, "duplicate section (first at line %d)", s->line);
		L->cur = s;
		return;
	}
	if (L->nsecs == L->cap) {
		size_t cap = L->cap ? L->cap * 2 : 8;
		struct section *n = realloc(L->secs, cap * sizeof(*n));
		if (!n) {
			loader_fail(L, 0, NULL, NULL, "out of memory");
			return;
		}
		L->secs = n;
		L->cap = cap;
	}
	s = &L->secs[L->nsecs];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	s->line = L->line;
	if (!s->name) {
		loader_fail(L, 0, NULL, NULL, "out of memory");
		return;
	}
	L->nsecs++;
	L->cur = s;
}

/* Looks at a "[name]" line the way inih will, to register the section. */
static void see_header(struct loader *L, const char *line)
{
	const char *end = strchr(line, ']');
	char name[256];
	size_t n;

	if (!end) {
		loader_fail(L, L->line, NULL, NULL, "section header without ']'");
		return;
	}
	n = (size_t)(end - line - 1);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, line + 1, n);
	name[n] = '\0';
	add_section(L, name);
}

/* What inih gets of a line (config_line.h): comments cut; of a pair only
 * "key=", its value kept in L->pending for on_pair, so that inih's own
 * rules (a value cut at " ;" even inside quotes) never see it. */
static void hand_to_inih(struct loader *L, const char *p, char *str, size_t num)
{
	struct config_line cl;
	char key[256];

	switch (config_line_split(p, &cl)) {
	case CONFIG_LINE_PAIR:
		config_drop_string(&L->pending);
		L->pending = strndup(cl.value, cl.value_len);
		L->pending_line = L->line;
		if (!L->pending)
			loader_fail(L, 0, NULL, NULL, "out of memory");
		snprintf(str, num, "%.*s=\n", (int)cl.key_len, cl.key);
		return;
	case CONFIG_LINE_BAD:
		snprintf(key, sizeof(key), "%.*s", (int)cl.key_len, cl.key);
		loader_fail(L, L->line, L->cur ? L->cur->name : NULL, cl.key_len ? key : NULL,
		            "%s", cl.error);
		snprintf(str, num, "\n");
		return;
	case CONFIG_LINE_SECTION:
	case CONFIG_LINE_OTHER:
		snprintf(str, num, "%.*s\n", (int)cl.text_len, p);
		if (cl.text_len && p[0] == '[')
			see_header(L, str);
		return;
	case CONFIG_LINE_EMPTY:
		break;
	}
	snprintf(str, num, "\n");
}

/* inih's line reader (fgets-like).  num is inih's buffer size. */
static char *read_line(char *str, int num, void *stream)
{
	struct loader *L = stream;
	ssize_t len = getline(&L->buf, &L->bufcap, L->f);
	char *p;

	if (len < 0)
		return NULL;
	L->line++;
	while (len > 0 && (L->buf[len - 1] == '\n' || L->buf[len - 1] == '\r'))
		L->buf[--len] = '\0';
	p = L->buf;
	if (strlen(p) != (size_t)len) {
		/* inih would see the line end at the NUL and keep a cut value. */
		loader_fail(L, L->line, L->cur ? L->cur->name : NULL, NULL, "line contains a NUL byte");
		p = "";
	}
	if (L->line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;   /* a UTF-8 byte order mark, as inih allows */
	while (*p == ' ' || *p == '\t')
		p++;
	if ((ssize_t)strlen(p) + 2 > num) {
		loader_fail(L, L->line, L->cur ? L->cur->name : NULL, NULL,
		            "line too long (at most %d characters; put long secrets in a *_password_file)",
		            num - 2);
		p = "";
	}
	hand_to_inih(L, p, str, (size_t)num);
	return str;
}

static bool is_secret_key(const char *key)
{
	size_t n = strlen(key);
	return n >= 9 && strcmp(key + n - 9, "_password") == 0;
}

static int on_pair(void *user, const char *section, const char *key, const char *value)
{
	struct loader *L = user;
	struct section *s = L->cur;
	struct kv *kv;
	char *v = L->pending;

	(void)section;
	(void)value;   /* "": the value is L->pending (hand_to_inih) */
	L->pending = NULL;
	if (!v || L->pending_line != L->line) {
		config_drop_string(&v);
		if (!L->failed)
			loader_fail(L, L->line, s ? s->name : NULL, key, "could not read this line");
		return 0;
	}
	if (!s) {
		config_drop_string(&v);
		if (!L->failed)
			loader_fail(L, L->line, NULL, key, "key outside any [section]");
		return 0;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->kvs[i].key, key) == 0) {
			config_drop_string(&v);
			loader_fail(L, L->line, s->name, key, "duplicate key (first at line %d)", s->kvs[i].line);
			return 0;
		}
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct kv *n = realloc(s->kvs, cap * sizeof(*n));
		if (!n) {
			config_drop_string(&v);
			loader_fail(L, 0, NULL, NULL, "out of memory");
			return 0;
		}
		s->kvs = n;
		s->cap = cap;
	}
	kv = &s->kvs[s->n];
	kv->value = v;
	kv->key = strdup(key);
	kv->line = L->line;
	if (!kv->key) {
		config_drop_string(&kv->value);
		loader_fail(L, 0, NULL, NULL, "out of memory");
		return 0;
	}
	s->n++;
	if (is_secret_key(key))
		L->holds_password = true;
	return 1;
}

/* --- ${VAR} expansion ------------------------------------------------------ */

/* Expands kv->value in place.  "$$" is a literal "$"; a "$" not followed by
 * "{" or "$" is kept as is. */
static int expand(struct loader *L, const struct section *s, struct kv *kv)
{
	const char *p = kv->value;
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	if (!m) {
		loader_fail(L, 0, NULL, NULL, "out of memory");
		return -1;
	}
	while (*p) {
		if (p[0] == '$' && p[1] == '$') {
			fputc('$', m);
			p += 2;
		} else if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			char name[128];
			const char *v;
			size_t n = end ? (size_t)(end - p - 2) : 0;
			if (!end || n == 0 || n >= sizeof(name)) {
				loader_fail(L, kv->line, s->name, kv->key, "unterminated or empty ${...}");
				goto fail;
			}
			memcpy(name, p + 2, n);
			name[n] = '\0';
			v = getenv(name);
			if (!v) {
				loader_fail(L, kv->line, s->name, kv->key,
				            "environment variable %s is not set", name);
				goto fail;
			}
			fputs(v, m);
			p = end + 1;
		} else {
			fputc(*p++, m);
		}
	}
	if (fclose(m) != 0) {
		free(out);
		loader_fail(L, 0, NULL, NULL, "out of memory");
		return -1;
	}
	config_drop_string(&kv->value);
	kv->value = out;
	return 0;
fail:
	fclose(m);
	if (out) {
		explicit_bzero(out, len);
		free(out);
	}
	return -1;
}

/* --- pass 2: building routes ---------------------------------------------- */

/* --- [defaults] -------------------------------------------------------------
 *
 * The process-wide keys (config_is_process_key()), one setter each: 0, or
 * -1 with why. */

typedef int process_setter(struct config *cfg, const char *key, const char *value,
                           char *why, size_t cap);

static int set_format(struct config *cfg, const char *key, const char *value, char *why, size_t cap)
{
	char b[80];

	(void)key;
	if (strcmp(value, "influx") == 0)
		cfg->format = FORMAT_INFLUX;
	else if (strcmp(value, "json") == 0)
		cfg->format = FORMAT_JSON;
	else {
		snprintf(why, cap, "expected influx or json, got \"%s\"", config_shown(value, b, sizeof(b)));
		return -1;
	}
	return 0;
}

static int set_measurement(struct config *cfg, const char *key, const char *value, char *why, size_t cap)
{
	(void)key;
	if (!*value || !config_printable_ascii(value)) {
		snprintf(why, cap, "must be non-empty printable ASCII");
		return -1;
	}
	return config_keep(&cfg->measurement, value, why, cap);
}

/* interval and shutdown_grace */
static int set_duration(struct config *cfg, const char *key, const char *value, char *why, size_t cap)
{
	bool interval = strcmp(key, "interval") == 0;
	char b[80];
	long ms;

	if (parse_duration_ms(value, &ms) != 0) {
		snprintf(why, cap, "not a duration (250ms, 10s, 2m, 1h, 1m30s): \"%s\"", config_shown(value, b, sizeof(b)));
		return -1;
	}
	if (interval && ms != 0 && ms < 1000) {
		snprintf(why, cap, "at least 1s (or 0 for none)");
		return -1;
	}
	if (!interval && ms > 4000) {
		snprintf(why, cap, "at most 4s: Telegraf sends SIGTERM 5s after closing stdin");
		return -1;
	}
	*(interval ? &cfg->interval_ms : &cfg->shutdown_grace_ms) = ms;
	snprintf(interval ? cfg->interval_text : cfg->shutdown_grace_text, DURATION_TEXT_MAX, "%s", value);
	return 0;
}

static int set_concurrency(struct config *cfg, const char *key, const char *value, char *why, size_t cap)
{
	char b[80];

	(void)key;
	if (parse_count(value, 1, 100000, &cfg->server_concurrency) != 0) {
		snprintf(why, cap, "expected a whole number from 1 to 100000, got \"%s\"",
		         config_shown(value, b, sizeof(b)));
		return -1;
	}
	return 0;
}

static const struct {
	const char *key;
	process_setter *set;
} process_setters[] = {
	{ "format", set_format }, { "measurement", set_measurement }, { "interval", set_duration },
	{ "shutdown_grace", set_duration }, { "server_concurrency", set_concurrency },
	{ "resolver", config_mx_set_resolver }, { "dnssec_trust_anchor", config_mx_set_trust_anchor },
	{ "helo_name", config_mx_set_helo_name },
};

/* One [defaults] pair: a process-wide key set, or a route key checked
 * (into scratch) where it is written, even if each route overrides it. */
static int defaults_pair(struct loader *L, struct config *cfg, struct route *scratch,
                         const struct section *defs, const struct kv *kv)
{
	const struct keydef *k = config_route_key(kv->key);
	char why[300];

	if (config_has_control(kv->value)) {
		loader_fail(L, kv->line, defs->name, kv->key, "contains a control character (CR/LF are never allowed)");
		return -1;
	}
	for (size_t i = 0; i < sizeof(process_setters) / sizeof(process_setters[0]); i++) {
		if (strcmp(kv->key, process_setters[i].key) != 0)
			continue;
		if (process_setters[i].set(cfg, kv->key, kv->value, why, sizeof(why)) == 0)
			return 0;
		loader_fail(L, kv->line, defs->name, kv->key, "%s", why);
		return -1;
	}
	if (!k) {
		const char *near = config_key_nearest(kv->key);
		loader_fail(L, kv->line, defs->name, kv->key, "unknown key%s%s%s", near ? " (did you mean " : "",
		            near ? near : "", near ? "?)" : "");
		return -1;
	}
	if (k->type == K_SECRET || k->type == K_SECRET_FILE)
		return 0;   /* read per route (pick_password) */
	return loader_apply_key(L, scratch, k, kv->value, kv->line, defs->name);
}

/* The process-wide settings: built-in defaults, then [defaults]. */
static int build_process(struct loader *L, struct config *cfg, const struct section *defs)
{
	struct route scratch;
	int rc = 0;

	cfg->format = FORMAT_INFLUX;
	cfg->shutdown_grace_ms = 3000;
	snprintf(cfg->shutdown_grace_text, sizeof(cfg->shutdown_grace_text), "3s");
	cfg->interval_ms = 0;
	cfg->server_concurrency = 20;
	cfg->measurement = strdup("mail_e2e");
	if (!cfg->measurement) {
		loader_fail(L, 0, NULL, NULL, "out of memory");
		return -1;
	}
	if (!defs)
		return 0;
	memset(&scratch, 0, sizeof(scratch));
	for (size_t i = 0; i < defs->n && rc == 0; i++)
		rc = defaults_pair(L, cfg, &scratch, defs, &defs->kvs[i]);
	config_free_route(&scratch);
	return rc;
}

static void free_loader(struct loader *L)
{
	for (size_t i = 0; i < L->nsecs; i++) {
		struct section *s = &L->secs[i];
		for (size_t j = 0; j < s->n; j++) {
			config_drop_string(&s->kvs[j].value);
			free(s->kvs[j].key);
		}
		free(s->kvs);
		free(s->name);
	}
	free(L->secs);
	config_drop_string(&L->pending);
	if (L->buf) {
		explicit_bzero(L->buf, L->bufcap);
		free(L->buf);
	}
}

/* The file named by -c: a directory is a common slip (-c /etc/mail-e2e). */
static int open_config(struct loader *L)
{
	struct stat st;

	char sample[4096];

	L->f = fopen(L->path, "r");
	if (!L->f) {
		int e = errno;
		/* make install leaves the sample beside the file it looks for. */
		bool hint = e == ENOENT && (size_t)snprintf(sample, sizeof(sample), "%s.sample", L->path)
		            < sizeof(sample) && access(sample, F_OK) == 0;
		loader_fail(L, 0, NULL, NULL, "cannot open: %s%s%s%s%s%s", strerror(e),
		            hint ? " (start from " : "", hint ? sample : "", hint ? ": copy it to " : "",
		            hint ? L->path : "", hint ? ", fill it in, chmod 600)" : "");
		return -1;
	}
	if (fstat(fileno(L->f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(L->f);
		L->f = NULL;
		loader_fail(L, 0, NULL, NULL, "is a directory: -c takes the configuration file itself, "
		            "e.g. %s%s%s", L->path, L->path[0] && L->path[strlen(L->path) - 1] == '/' ? "" : "/",
		            "mail-e2e.conf");
		return -1;
	}
	return 0;
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct loader L = { .path = path, .err = err, .errlen = errlen };
	const struct section *defs;
	size_t n_routes = 0;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (errlen)
		err[0] = '\0';
	if (open_config(&L) != 0)
		return -1;
	rc = ini_parse_stream(read_line, &L, on_pair, &L);
	if (ferror(L.f))
		loader_fail(&L, L.line + 1, NULL, NULL, "cannot read: %s", strerror(errno));
	fclose(L.f);
	if (rc > 0)
		loader_fail(&L, rc, NULL, NULL, "syntax error: expected \"key = value\", \"[section]\" or a comment");
	else if (rc < 0)
		loader_fail(&L, 0, NULL, NULL, "could not parse (out of memory)");
	for (size_t i = 0; i < L.nsecs && !L.failed; i++)
		for (size_t j = 0; j < L.secs[i].n && !L.failed; j++)
			expand(&L, &L.secs[i], &L.secs[i].kvs[j]);
	if (L.failed)
		goto fail;
	if (L.holds_password && loader_check_secret(&L, path, 0, NULL, NULL, SECRET_PASSWORD) != 0)
		goto fail;

	defs = find_section(&L, DEFAULTS);
	for (size_t i = 0; i < L.nsecs; i++)
		n_routes += strcmp(L.secs[i].name, DEFAULTS) != 0;
	if (n_routes == 0) {
		loader_fail(&L, 0, NULL, NULL, "no route defined: add a [NAME] section with from, to, smtp_host, imap_host ...");
		goto fail;
	}
	cfg->path = strdup(path);
	cfg->routes = calloc(n_routes, sizeof(*cfg->routes));
	if (!cfg->path || !cfg->routes) {
		loader_fail(&L, 0, NULL, NULL, "out of memory");
		goto fail;
	}
	if (build_process(&L, cfg, defs) != 0)
		goto fail;
	for (size_t i = 0; i < L.nsecs; i++) {
		if (strcmp(L.secs[i].name, DEFAULTS) == 0)
			continue;
		if (config_build_route(&L, &cfg->routes[cfg->n_routes], &L.secs[i], defs) != 0) {
			config_free_route(&cfg->routes[cfg->n_routes]);
			goto fail;
		}
		cfg->n_routes++;
	}
	if (config_mx_finish(&L, cfg) != 0)
		goto fail;
	free_loader(&L);
	return 0;
fail:
	free_loader(&L);
	config_free(cfg);
	return -1;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_routes; i++)
		config_free_route(&cfg->routes[i]);
	free(cfg->routes);
	free(cfg->path);
	free(cfg->measurement);
	free(cfg->resolver);
	free(cfg->dnssec_trust_anchor);
	free(cfg->helo_name);
	memset(cfg, 0, sizeof(*cfg));
}
