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
 */
#include "config.h"
#include "config_keys.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"
#include "result.h"
#include "token_file.h"

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

/* --- errors -------------------------------------------------------------- */

static void failf(struct loader *L, int line, const char *section, const char *key,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Record the first error only: later ones are usually its consequences. */
static void failf(struct loader *L, int line, const char *section, const char *key,
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

/* A value quoted in an error: cut, control characters made visible. */
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
		failf(L, L->line, NULL, NULL, "bad section name [%s]: use letters, digits, '-', '_', '.'",
		      config_shown(name, b, sizeof(b)));
		L->cur = NULL;
		return;
	}
	if (s) {
		failf(L, L->line, name, NULL, "duplicate section (first at line %d)", s->line);
		L->cur = s;
		return;
	}
	if (L->nsecs == L->cap) {
		size_t cap = L->cap ? L->cap * 2 : 8;
		struct section *n = realloc(L->secs, cap * sizeof(*n));
		if (!n) {
			failf(L, 0, NULL, NULL, "out of memory");
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
		failf(L, 0, NULL, NULL, "out of memory");
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
		failf(L, L->line, NULL, NULL, "section header without ']'");
		return;
	}
	n = (size_t)(end - line - 1);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, line + 1, n);
	name[n] = '\0';
	add_section(L, name);
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
		failf(L, L->line, L->cur ? L->cur->name : NULL, NULL, "line contains a NUL byte");
		p = "";
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if ((ssize_t)strlen(p) + 2 > num) {
		failf(L, L->line, L->cur ? L->cur->name : NULL, NULL,
		      "line too long (at most %d characters; put long secrets in a *_password_file)",
		      num - 2);
		p = "";
	}
	if (*p == '[')
		see_header(L, p);
	snprintf(str, (size_t)num, "%s\n", p);
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
	size_t vlen = strlen(value);

	(void)section;
	if (!s) {
		if (!L->failed)
			failf(L, L->line, NULL, key, "key outside any [section]");
		return 0;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->kvs[i].key, key) == 0) {
			failf(L, L->line, s->name, key, "duplicate key (first at line %d)", s->kvs[i].line);
			return 0;
		}
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct kv *n = realloc(s->kvs, cap * sizeof(*n));
		if (!n) {
			failf(L, 0, NULL, NULL, "out of memory");
			return 0;
		}
		s->kvs = n;
		s->cap = cap;
	}
	kv = &s->kvs[s->n];
	if (value[0] == '"' && (vlen < 2 || value[vlen - 1] != '"')) {
		/* inih ends a value at " ;" (a comment), inside quotes too. */
		failf(L, L->line, s->name, key, "unterminated quote (a ';' after a blank "
		      "starts a comment, even inside quotes: put such a value in a file)");
		return 0;
	}
	/* One pair of surrounding double quotes is a common habit: drop it. */
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"')
		kv->value = strndup(value + 1, vlen - 2);
	else
		kv->value = strdup(value);
	kv->key = strdup(key);
	kv->line = L->line;
	if (!kv->key || !kv->value) {
		free(kv->key);
		free(kv->value);
		failf(L, 0, NULL, NULL, "out of memory");
		return 0;
	}
	s->n++;
	if (is_secret_key(key))
		L->holds_password = true;
	return 1;
}

/* Wipe (values may be secrets) and free a heap string; NULL stays NULL. */
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
		failf(L, 0, NULL, NULL, "out of memory");
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
				failf(L, kv->line, s->name, kv->key, "unterminated or empty ${...}");
				goto fail;
			}
			memcpy(name, p + 2, n);
			name[n] = '\0';
			v = getenv(name);
			if (!v) {
				failf(L, kv->line, s->name, kv->key,
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
		failf(L, 0, NULL, NULL, "out of memory");
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

static struct kv *find_kv(const struct section *s, const char *key)
{
	if (s)
		for (size_t i = 0; i < s->n; i++)
			if (strcmp(s->kvs[i].key, key) == 0)
				return &s->kvs[i];
	return NULL;
}

/* Refuse a file holding a password that others may read or write; warn
 * when the group may read it. */
static int check_secret_mode(struct loader *L, const char *path, int line,
                             const char *section, const char *key)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		failf(L, line, section, key, "cannot stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		/* A FIFO would block the process on open, a directory mislead. */
		failf(L, line, section, key, "%s is not a regular file", path);
		return -1;
	}
	if (st.st_mode & 0007) {
		failf(L, line, section, key,
		      "%s%sholds a password and is accessible by others (mode %04o): chmod 600 it",
		      path == L->path ? "" : path, path == L->path ? "" : " ",
		      (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_mode & 0040)
		log_warn("%s holds a password and is readable by its group (mode %04o)",
		         path, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* The password is the file's first line, without its line ending. */
static char *read_secret_file(struct loader *L, const struct kv *kv, const char *section)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (check_secret_mode(L, kv->value, kv->line, section, kv->key) != 0)
		return NULL;
	f = fopen(kv->value, "r");
	if (!f) {
		failf(L, kv->line, section, kv->key, "cannot read %s: %s", kv->value, strerror(errno));
		return NULL;
	}
	n = getline(&line, &cap, f);
	fclose(f);
	if (n < 0) {
		free(line);
		failf(L, kv->line, section, kv->key, "%s is empty", kv->value);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n == 0 || config_has_control(line)) {
		failf(L, kv->line, section, kv->key, "%s: %s", kv->value,
		      n == 0 ? "the password (first line) is empty"
		             : "the password contains a control character");
		explicit_bzero(line, cap);
		free(line);
		return NULL;
	}
	return line;
}

/* One leg's credentials: a password or a token file, and a mechanism that
 * fits what is there. */
static int check_login(struct loader *L, const struct section *sec, const char *leg,
                       const char *password, const char *token_file, const char *mech,
                       bool token_client)
{
	char key[40];

	if (token_client)
		return 0;   /* set up by oauth2_legs(): no password, no token file */
	if (password && token_file) {
		snprintf(key, sizeof(key), "%s_oauth2_token_file", leg);
		failf(L, sec->line, sec->name, key, "set together with %s_password: keep one", leg);
		return -1;
	}
	if (config_is_oauth(mech) && !token_file) {
		snprintf(key, sizeof(key), "%s_auth", leg);
		failf(L, sec->line, sec->name, key, "%s needs %s_oauth2_token_file or oauth2_token_url",
		      mech, leg);
		return -1;
	}
	if (token_file && strcmp(mech, "AUTO") != 0 && !config_is_oauth(mech)) {
		snprintf(key, sizeof(key), "%s_auth", leg);
		failf(L, sec->line, sec->name, key,
		      "%s cannot use a token: use auto, XOAUTH2 or OAUTHBEARER with %s_oauth2_token_file",
		      mech, leg);
		return -1;
	}
	return 0;
}

/* One value into its route field; an error names where it was written. */
static int apply_key(struct loader *L, struct route *r, const struct keydef *k,
                     const char *value, int line, const char *section)
{
	char why[400];

	if (config_key_apply(r, k, value, why, sizeof(why)) == 0)
		return 0;
	failf(L, line, section, k->name, "%s", why);
	return -1;
}

/* Which of KEY / KEY_file supplies a password: the route's own section
 * decides if it names either, else [defaults]; both in one section is an
 * error. */
static int pick_password(struct loader *L, struct route *r, const struct section *route_sec,
                         const struct section *defs, const char *key, char **file_field)
{
	char file_key[40];
	const struct section *from = route_sec;
	struct kv *inline_kv, *file_kv;

	snprintf(file_key, sizeof(file_key), "%s_file", key);
	if (!find_kv(route_sec, key) && !find_kv(route_sec, file_key))
		from = defs;
	inline_kv = find_kv(from, key);
	file_kv = find_kv(from, file_key);
	if (inline_kv && file_kv) {
		failf(L, file_kv->line, from->name, file_key, "set together with %s (line %d): keep one",
		      key, inline_kv->line);
		return -1;
	}
	if (inline_kv)
		return apply_key(L, r, config_route_key(key), inline_kv->value, inline_kv->line, from->name);
	if (file_kv) {
		char *secret = read_secret_file(L, file_kv, from->name);
		char **field = (char **)((char *)r + config_route_key(key)->off);
		if (!secret)
			return -1;
		*field = secret;
		*file_field = strdup(file_kv->value);
		if (!*file_field) {
			failf(L, 0, NULL, NULL, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* A route that names its own way to log in (password or token file) wins
 * over the other way inherited from [defaults]; both in the route itself
 * stay, for check_login to refuse. */
static void prefer_own_login(const struct section *sec, const char *leg, char **password,
                             char **password_file, char **token_file)
{
	char key[48], file_key[48], token_key[48];
	bool own_password, own_token;

	snprintf(key, sizeof(key), "%s_password", leg);
	snprintf(file_key, sizeof(file_key), "%s_password_file", leg);
	snprintf(token_key, sizeof(token_key), "%s_oauth2_token_file", leg);
	own_password = find_kv(sec, key) || find_kv(sec, file_key);
	own_token = find_kv(sec, token_key) != NULL;
	if (own_token && !own_password) {
		config_drop_string(password);
		config_drop_string(password_file);
	} else if (own_password && !own_token) {
		config_drop_string(token_file);
	}
}

/* oauth2_client_secret_file (password-file rules) and
 * oauth2_refresh_token_file (the same rules where it exists: it is read at
 * every refresh; before the first --oauth2-login it does not exist yet,
 * and a probe then fails its login saying so). */
static int oauth2_files(struct loader *L, struct route *r, const struct section *sec,
                        const struct section *defs)
{
	const struct section *from = find_kv(sec, "oauth2_client_secret_file") ? sec : defs;
	struct kv *kv = find_kv(from, "oauth2_client_secret_file");

	if (kv) {
		r->oauth2_client_secret = read_secret_file(L, kv, from->name);
		r->oauth2_client_secret_file = r->oauth2_client_secret ? strdup(kv->value) : NULL;
		if (!r->oauth2_client_secret_file) {
			if (r->oauth2_client_secret)
				failf(L, 0, NULL, NULL, "out of memory");
			return -1;
		}
	}
	from = find_kv(sec, "oauth2_refresh_token_file") ? sec : defs;
	kv = find_kv(from, "oauth2_refresh_token_file");
	if (kv && !(access(kv->value, F_OK) != 0 && errno == ENOENT) &&
	    check_secret_mode(L, kv->value, kv->line, from->name, kv->key) != 0)
		return -1;
	return 0;
}

/* Which legs get their token from the built-in client (SPEC §10): those
 * with oauth2_token_url, no password and no token file, logging in with
 * auto (then XOAUTH2), XOAUTH2 or OAUTHBEARER. */
static int oauth2_legs(struct loader *L, struct route *r, const struct section *sec)
{
	static const char *const needs_url[] = { "oauth2_client_id", "oauth2_client_secret_file",
		"oauth2_refresh_token_file", "oauth2_scope", "oauth2_auth_url", "oauth2_device_url" };
	char **auth[2] = { &r->smtp_auth, &r->imap_auth };
	bool *client[2] = { &r->smtp_oauth2_client, &r->imap_oauth2_client };
	bool has_login[2] = { r->smtp_username && !r->smtp_password && !r->smtp_token_file,
	                      !r->imap_password && !r->imap_token_file };

	if (!r->oauth2_token_url) {
		for (size_t i = 0; i < sizeof(needs_url) / sizeof(needs_url[0]); i++)
			if (*(char **)((char *)r + config_route_key(needs_url[i])->off)) {
				failf(L, sec->line, sec->name, needs_url[i], "set, but no oauth2_token_url");
				return -1;
			}
		return 0;
	}
	if (!r->oauth2_client_id) {
		failf(L, sec->line, sec->name, "oauth2_client_id", "required with oauth2_token_url");
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		bool usable = strcmp(*auth[i], "AUTO") == 0 || config_is_oauth(*auth[i]);
		if (!has_login[i] || !usable)
			continue;
		*client[i] = true;
		if (strcmp(*auth[i], "AUTO") == 0) {
			char *x = strdup("XOAUTH2");
			if (!x) {
				failf(L, 0, NULL, NULL, "out of memory");
				return -1;
			}
			config_drop_string(auth[i]);
			*auth[i] = x;
		}
	}
	return 0;
}

/* The bounce mailbox: all or nothing. */
static int check_bounce(struct loader *L, struct route *r, const struct section *sec)
{
	if (!r->bounce_imap_host) {
		if (r->bounce_imap_username || r->bounce_imap_password) {
			failf(L, sec->line, sec->name, r->bounce_imap_username ? "bounce_imap_username"
			      : "bounce_imap_password", "set, but no bounce_imap_host");
			return -1;
		}
		return 0;
	}
	if (!r->bounce_imap_username || !r->bounce_imap_password) {
		failf(L, sec->line, sec->name, !r->bounce_imap_username ? "bounce_imap_username"
		      : "bounce_imap_password", "required with bounce_imap_host%s",
		      r->bounce_imap_username ? " (or bounce_imap_password_file)" : "");
		return -1;
	}
	if (!r->bounce_imap_port)
		r->bounce_imap_port = r->bounce_imap_tls == TLS_IMPLICIT ? 993 : 143;
	return 0;
}

/* Key types whose route field is a heap string (K_SECRET_FILE shares its
 * field with K_SECRET, so it is not counted twice). */
static void free_route(struct route *r)
{
	for (size_t i = 0; i < config_n_route_keys; i++) {
		char **field = (char **)((char *)r + config_route_keys[i].off);
		if (config_key_is_string(config_route_keys[i].type))
			config_drop_string(field);
	}
	probe_ledger_free(r->ledger);
	free(r->name);
	free(r->smtp_password_file);
	free(r->imap_password_file);
	free(r->bounce_imap_password_file);
	config_drop_string(&r->oauth2_client_secret);   /* only a _file key names it */
	free(r->oauth2_client_secret_file);
	memset(r, 0, sizeof(*r));
}

static int build_route(struct loader *L, struct route *r, const struct section *sec,
                       const struct section *defs)
{
	memset(r, 0, sizeof(*r));
	r->name = strdup(sec->name);
	if (!r->name) {
		failf(L, 0, NULL, NULL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < sec->n; i++) {
		const char *key = sec->kvs[i].key;
		if (config_is_process_key(key)) {
			failf(L, sec->kvs[i].line, sec->name, key, "allowed only in [%s]", DEFAULTS);
			return -1;
		}
		if (!config_route_key(key)) {
			failf(L, sec->kvs[i].line, sec->name, key, "unknown key");
			return -1;
		}
	}
	for (size_t i = 0; i < config_n_route_keys; i++) {
		const struct keydef *k = &config_route_keys[i];
		const struct section *from = sec;
		struct kv *kv = find_kv(sec, k->name);
		if (k->type == K_SECRET || k->type == K_SECRET_FILE)
			continue;   /* pick_password below */
		if (!kv) {
			kv = find_kv(defs, k->name);
			from = defs;
		}
		if (kv) {
			if (apply_key(L, r, k, kv->value, kv->line, from->name) != 0)
				return -1;
		} else if (k->def) {
			if (apply_key(L, r, k, k->def, 0, NULL) != 0)
				return -1;
		}
	}
	if (pick_password(L, r, sec, defs, "smtp_password", &r->smtp_password_file) != 0 ||
	    pick_password(L, r, sec, defs, "imap_password", &r->imap_password_file) != 0 ||
	    pick_password(L, r, sec, defs, "bounce_imap_password", &r->bounce_imap_password_file) != 0 ||
	    oauth2_files(L, r, sec, defs) != 0)
		return -1;
	prefer_own_login(sec, "smtp", &r->smtp_password, &r->smtp_password_file, &r->smtp_token_file);
	prefer_own_login(sec, "imap", &r->imap_password, &r->imap_password_file, &r->imap_token_file);

	{
		static const char *const required[] = { "from", "to", "smtp_host", "imap_host", "imap_username" };
		for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
			char **field = (char **)((char *)r + config_route_key(required[i])->off);
			if (!*field) {
				failf(L, sec->line, sec->name, required[i], "required, not set here or in [%s]", DEFAULTS);
				return -1;
			}
		}
	}
	if (oauth2_legs(L, r, sec) != 0)
		return -1;
	if (!r->imap_password && !r->imap_token_file && !r->imap_oauth2_client) {
		failf(L, sec->line, sec->name, "imap_password",
		      "required: set imap_password, imap_password_file, imap_oauth2_token_file or oauth2_token_url");
		return -1;
	}
	if (r->smtp_username && !r->smtp_password && !r->smtp_token_file && !r->smtp_oauth2_client) {
		failf(L, sec->line, sec->name, "smtp_password",
		      "smtp_username is set: set smtp_password, smtp_password_file, smtp_oauth2_token_file "
		      "or oauth2_token_url");
		return -1;
	}
	if (!r->smtp_username && (r->smtp_password || r->smtp_token_file ||
	                          strcmp(r->smtp_auth, "AUTO") != 0)) {
		failf(L, sec->line, sec->name, "smtp_username",
		      r->smtp_password ? "a password is set but no smtp_username"
		      : r->smtp_token_file ? "a token file is set but no smtp_username"
		      : "smtp_auth is set but no smtp_username (no username: no AUTH)");
		return -1;
	}
	if (check_login(L, sec, "smtp", r->smtp_password, r->smtp_token_file, r->smtp_auth,
	                r->smtp_oauth2_client) != 0 ||
	    check_login(L, sec, "imap", r->imap_password, r->imap_token_file, r->imap_auth,
	                r->imap_oauth2_client) != 0 ||
	    check_bounce(L, r, sec) != 0)
		return -1;
	if (!r->smtp_port)
		r->smtp_port = r->smtp_tls == TLS_IMPLICIT ? 465 : r->smtp_tls == TLS_NONE ? 25 : 587;
	if (!r->imap_port)
		r->imap_port = r->imap_tls == TLS_IMPLICIT ? 993 : 143;
	if (r->imap_junk_mailbox && strcasecmp(r->imap_junk_mailbox, r->imap_mailbox) == 0) {
		failf(L, sec->line, sec->name, "imap_junk_mailbox", "the same as imap_mailbox (%s)",
		      r->imap_mailbox);
		return -1;
	}
	/* OAuth2-only routes have no stable secret: their key comes from the
	 * route's identity alone (README: keeping the mailbox clean). */
	r->ledger = probe_ledger_new(r->imap_password ? r->imap_password : r->smtp_password,
	                             r->name, r->imap_username, r->to);
	if (!r->ledger) {
		failf(L, 0, NULL, NULL, "out of memory");
		return -1;
	}
	return 0;
}

/* [defaults]: process-wide keys, and every route key checked once where it
 * is written, even if each route overrides it. */
static int build_process(struct loader *L, struct config *cfg, const struct section *defs)
{
	struct route scratch;
	char b[80];

	cfg->format = FORMAT_INFLUX;
	cfg->shutdown_grace_ms = 3000;
	cfg->interval_ms = 0;
	cfg->server_concurrency = 20;
	cfg->measurement = strdup("mail_e2e");
	if (!cfg->measurement) {
		failf(L, 0, NULL, NULL, "out of memory");
		return -1;
	}
	if (!defs)
		return 0;
	memset(&scratch, 0, sizeof(scratch));
	for (size_t i = 0; i < defs->n; i++) {
		const struct kv *kv = &defs->kvs[i];
		const struct keydef *k = config_route_key(kv->key);
		int rc = 0;

		if (config_has_control(kv->value)) {
			failf(L, kv->line, defs->name, kv->key, "contains a control character (CR/LF are never allowed)");
			rc = -1;
		} else if (strcmp(kv->key, "format") == 0) {
			if (strcmp(kv->value, "influx") == 0)
				cfg->format = FORMAT_INFLUX;
			else if (strcmp(kv->value, "json") == 0)
				cfg->format = FORMAT_JSON;
			else {
				failf(L, kv->line, defs->name, kv->key, "expected influx or json, got \"%s\"",
				      config_shown(kv->value, b, sizeof(b)));
				rc = -1;
			}
		} else if (strcmp(kv->key, "measurement") == 0) {
			if (!*kv->value || !config_printable_ascii(kv->value)) {
				failf(L, kv->line, defs->name, kv->key, "must be non-empty printable ASCII");
				rc = -1;
			} else {
				free(cfg->measurement);
				cfg->measurement = strdup(kv->value);
				if (!cfg->measurement) {
					failf(L, 0, NULL, NULL, "out of memory");
					rc = -1;
				}
			}
		} else if (strcmp(kv->key, "interval") == 0 || strcmp(kv->key, "shutdown_grace") == 0) {
			long ms;
			bool interval = kv->key[0] == 'i';
			if (parse_duration_ms(kv->value, &ms) != 0) {
				failf(L, kv->line, defs->name, kv->key, "not a duration (250ms, 10s, 2m, 1h): \"%s\"",
				      config_shown(kv->value, b, sizeof(b)));
				rc = -1;
			} else if (interval && ms != 0 && ms < 1000) {
				failf(L, kv->line, defs->name, kv->key, "at least 1s (or 0 for none)");
				rc = -1;
			} else if (!interval && ms > 4000) {
				failf(L, kv->line, defs->name, kv->key,
				      "at most 4s: Telegraf sends SIGTERM 5s after closing stdin");
				rc = -1;
			} else if (interval) {
				cfg->interval_ms = ms;
			} else {
				cfg->shutdown_grace_ms = ms;
			}
		} else if (strcmp(kv->key, "server_concurrency") == 0) {
			if (parse_count(kv->value, 1, 100000, &cfg->server_concurrency) != 0) {
				failf(L, kv->line, defs->name, kv->key, "expected a whole number from 1 to 100000, got \"%s\"",
				      config_shown(kv->value, b, sizeof(b)));
				rc = -1;
			}
		} else if (!k) {
			failf(L, kv->line, defs->name, kv->key, "unknown key");
			rc = -1;
		} else if (k->type != K_SECRET && k->type != K_SECRET_FILE) {
			rc = apply_key(L, &scratch, k, kv->value, kv->line, defs->name);
		}
		if (rc != 0) {
			free_route(&scratch);
			return -1;
		}
	}
	free_route(&scratch);
	return 0;
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
	if (L->buf) {
		explicit_bzero(L->buf, L->bufcap);
		free(L->buf);
	}
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
	L.f = fopen(path, "r");
	if (!L.f) {
		failf(&L, 0, NULL, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	rc = ini_parse_stream(read_line, &L, on_pair, &L);
	fclose(L.f);
	if (rc > 0)
		failf(&L, rc, NULL, NULL, "syntax error: expected \"key = value\", \"[section]\" or a comment");
	else if (rc < 0)
		failf(&L, 0, NULL, NULL, "could not parse (out of memory)");
	for (size_t i = 0; i < L.nsecs && !L.failed; i++)
		for (size_t j = 0; j < L.secs[i].n && !L.failed; j++)
			expand(&L, &L.secs[i], &L.secs[i].kvs[j]);
	if (L.failed)
		goto fail;
	if (L.holds_password && check_secret_mode(&L, path, 0, NULL, NULL) != 0)
		goto fail;

	defs = find_section(&L, DEFAULTS);
	for (size_t i = 0; i < L.nsecs; i++)
		n_routes += strcmp(L.secs[i].name, DEFAULTS) != 0;
	if (n_routes == 0) {
		failf(&L, 0, NULL, NULL, "no route defined: add a [NAME] section with from, to, smtp_host, imap_host ...");
		goto fail;
	}
	cfg->path = strdup(path);
	cfg->routes = calloc(n_routes, sizeof(*cfg->routes));
	if (!cfg->path || !cfg->routes) {
		failf(&L, 0, NULL, NULL, "out of memory");
		goto fail;
	}
	if (build_process(&L, cfg, defs) != 0)
		goto fail;
	for (size_t i = 0; i < L.nsecs; i++) {
		if (strcmp(L.secs[i].name, DEFAULTS) == 0)
			continue;
		if (build_route(&L, &cfg->routes[cfg->n_routes], &L.secs[i], defs) != 0) {
			free_route(&cfg->routes[cfg->n_routes]);
			goto fail;
		}
		cfg->n_routes++;
	}
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
		free_route(&cfg->routes[i]);
	free(cfg->routes);
	free(cfg->path);
	free(cfg->measurement);
	memset(cfg, 0, sizeof(*cfg));
}

static const char *tls_name(enum tls_mode m)
{
	return m == TLS_STARTTLS ? "starttls" : m == TLS_IMPLICIT ? "tls" : "none";
}

static void print_secret(FILE *out, const char *key, const char *value, const char *file)
{
	if (file)
		fprintf(out, "  %s = (from %s)\n", key, file);
	else if (value)
		fprintf(out, "  %s = (set)\n", key);
}

/* The keys of SPEC §7, §8 and §10, where set. */
static void print_more(FILE *out, const struct route *r)
{
	static const char *const methods[] = { "spf", "dkim", "dmarc", "arc" };
	const char *sep = "";

	fprintf(out, "  expect = %s\n  auth_results_from = %s\n  require_auth = ",
	        result_name((enum result_class)r->expect),
	        r->auth_results_from ? r->auth_results_from : "(the topmost of any id)");
	for (unsigned i = 0; i < 4; i++)
		if (r->require_auth & (1u << i)) {
			fprintf(out, "%s%s", sep, methods[i]);
			sep = ", ";
		}
	fprintf(out, "%s\n", r->require_auth ? "" : "(none)");
	if (r->oauth2_token_url) {
		fprintf(out, "  oauth2_token_url = %s\n  oauth2_client_id = %s\n", r->oauth2_token_url,
		        r->oauth2_client_id);
		print_secret(out, "oauth2_client_secret", r->oauth2_client_secret, r->oauth2_client_secret_file);
		fprintf(out, "  oauth2 grant = %s%s\n", r->oauth2_refresh_token_file ? "refresh token from "
		        : "client credentials", r->oauth2_refresh_token_file ? r->oauth2_refresh_token_file : "");
		if (r->oauth2_scope)
			fprintf(out, "  oauth2_scope = %s\n", r->oauth2_scope);
		fprintf(out, "  oauth2 token client for: %s%s%s\n", r->smtp_oauth2_client ? "smtp" : "",
		        r->smtp_oauth2_client && r->imap_oauth2_client ? ", " : "",
		        r->imap_oauth2_client ? "imap" : r->smtp_oauth2_client ? "" : "(no leg)");
	}
	if (r->bounce_imap_host) {
		fprintf(out, "  bounce_imap = %s:%d (%s)\n  bounce_imap_username = %s\n", r->bounce_imap_host,
		        r->bounce_imap_port, tls_name(r->bounce_imap_tls), r->bounce_imap_username);
		print_secret(out, "bounce_imap_password", r->bounce_imap_password, r->bounce_imap_password_file);
		fprintf(out, "  bounce_imap_mailbox = %s\n", r->bounce_imap_mailbox);
	}
}

void config_print(const struct config *cfg, FILE *out)
{
	fprintf(out, "config %s: OK, %zu route(s)\n", cfg->path, cfg->n_routes);
	fprintf(out, "format = %s\nmeasurement = %s\ninterval = %ldms\nshutdown_grace = %ldms\n"
	        "server_concurrency = %ld\n",
	        cfg->format == FORMAT_JSON ? "json" : "influx", cfg->measurement,
	        cfg->interval_ms, cfg->shutdown_grace_ms, cfg->server_concurrency);
	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct route *r = &cfg->routes[i];
		fprintf(out, "\n[%s]\n  from = %s\n  to = %s\n", r->name, r->from, r->to);
		fprintf(out, "  smtp = %s:%d (%s)\n", r->smtp_host, r->smtp_port, tls_name(r->smtp_tls));
		if (r->smtp_username)
			fprintf(out, "  smtp_username = %s\n", r->smtp_username);
		else
			fprintf(out, "  smtp_username = (none: no AUTH)\n");
		print_secret(out, "smtp_password", r->smtp_password, r->smtp_password_file);
		if (r->smtp_token_file)
			fprintf(out, "  smtp_oauth2_token_file = %s\n", r->smtp_token_file);
		fprintf(out, "  smtp_auth = %s\n", r->smtp_auth);
		fprintf(out, "  imap = %s:%d (%s)\n  imap_username = %s\n", r->imap_host,
		        r->imap_port, tls_name(r->imap_tls), r->imap_username);
		print_secret(out, "imap_password", r->imap_password, r->imap_password_file);
		if (r->imap_token_file)
			fprintf(out, "  imap_oauth2_token_file = %s\n", r->imap_token_file);
		fprintf(out, "  imap_auth = %s\n", r->imap_auth);
		fprintf(out, "  imap_mailbox = %s\n  tls_ca = %s\n  insecure_skip_verify = %s\n",
		        r->imap_mailbox, r->tls_ca ? r->tls_ca : "(system store)",
		        r->insecure_skip_verify ? "true" : "false");
		fprintf(out, "  timeout = %ldms\n  connect_timeout = %ldms\n  poll_interval = %ldms\n",
		        r->timeout_ms, r->connect_timeout_ms, r->poll_interval_ms);
		fprintf(out, "  idle = %s\n  subject_prefix = %s\n  delete = %s\n",
		        r->idle == IDLE_AUTO ? "auto" : "off", r->subject_prefix,
		        r->delete_found ? "true" : "false");
		fprintf(out, "  sweep_after = %ldms\n  check_junk = %s\n  imap_junk_mailbox = %s\n"
		        "  junk_is_failure = %s\n", r->sweep_after_ms, r->check_junk ? "true" : "false",
		        r->imap_junk_mailbox ? r->imap_junk_mailbox : "(\\Junk from LIST)",
		        r->junk_is_failure ? "true" : "false");
		print_more(out, r);
	}
}
