/*
 * output_mx.c - see output_mx.h.
 */
#include "output_mx.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const char *mx_tls_name(enum mx_tls v)
{
	static const char *const n[] = { NULL, "verified", "unverified", "none" };
	return (unsigned)v < sizeof(n) / sizeof(n[0]) ? n[v] : NULL;
}

const char *mx_sts_name(enum mx_sts v)
{
	static const char *const n[] = { NULL, "none", "testing", "enforce", "invalid" };
	return (unsigned)v < sizeof(n) / sizeof(n[0]) ? n[v] : NULL;
}

const char *mx_dane_name(enum mx_dane v)
{
	static const char *const n[] = { NULL, "none", "pass", "fail", "unusable", "bogus" };
	return (unsigned)v < sizeof(n) / sizeof(n[0]) ? n[v] : NULL;
}

const char *mx_policy_name(enum mx_policy v)
{
	static const char *const n[] = { NULL, "none", "pass", "fail" };
	return (unsigned)v < sizeof(n) / sizeof(n[0]) ? n[v] : NULL;
}

struct frag {
	char *dst;
	size_t cap, len;
	bool over;
};

static void add(struct frag *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct frag *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(f->dst + f->len, f->cap - f->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= f->cap - f->len) {
		f->over = true;
		f->dst[f->len] = '\0';
		return;
	}
	f->len += (size_t)n;
}

static ssize_t done(struct frag *f)
{
	return f->over ? -1 : (ssize_t)f->len;
}

/* A host name as written by our DNS reader; anything else as '?'. */
static const char *safe(const char *s, char *buf, size_t cap)
{
	size_t i = 0;

	for (; s[i] && i + 1 < cap; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		          c == '-' || c == '_' || c == '.' || c == ':' || c == '[' || c == ']';
		buf[i] = ok ? c : '?';
	}
	buf[i] = '\0';
	return buf;
}

ssize_t output_mx_server(const struct mx_result *m, char *dst, size_t cap)
{
	struct frag f = { dst, cap, 0, cap == 0 };
	char b[sizeof(m->server)];

	if (cap)
		dst[0] = '\0';
	if (m->used && m->server[0])
		add(&f, "%s", safe(m->server, b, sizeof(b)));
	return done(&f);
}

static void lp_word(struct frag *f, const char *key, const char *v)
{
	if (v)
		add(f, ",%s=\"%s\"", key, v);
}

ssize_t output_mx_influx(const struct mx_result *m, char *dst, size_t cap)
{
	struct frag f = { dst, cap, 0, cap == 0 };
	char b[sizeof(m->mx)];

	if (cap)
		dst[0] = '\0';
	if (!m->used)
		return 0;
	if (m->mx[0])
		add(&f, ",mx=\"%s\"", safe(m->mx, b, sizeof(b)));
	add(&f, ",mx_tried=%di", m->tried);
	lp_word(&f, "mx_tls", mx_tls_name(m->tls));
	lp_word(&f, "mta_sts", mx_sts_name(m->mta_sts));
	lp_word(&f, "dane", mx_dane_name(m->dane));
	if (m->tlsrpt != MX_TLSRPT_ABSENT)
		add(&f, ",tlsrpt=%di", m->tlsrpt == MX_TLSRPT_YES);
	lp_word(&f, "tls_policy", mx_policy_name(m->policy));
	return done(&f);
}

static void json_word(struct frag *f, const char *key, const char *v)
{
	if (v)
		add(f, ",\"%s\":\"%s\"", key, v);
	else
		add(f, ",\"%s\":null", key);
}

ssize_t output_mx_json(const struct mx_result *m, char *dst, size_t cap)
{
	struct frag f = { dst, cap, 0, cap == 0 };
	char b[sizeof(m->mx)];

	if (cap)
		dst[0] = '\0';
	if (!m->used) {   /* not an mx route: the same keys, every one null */
		add(&f, ",\"mx\":null,\"mx_tried\":null,\"mx_tls\":null,\"mta_sts\":null,\"dane\":null,"
		    "\"tlsrpt\":null,\"tls_policy\":null");
		return done(&f);
	}
	json_word(&f, "mx", m->mx[0] ? safe(m->mx, b, sizeof(b)) : NULL);
	add(&f, ",\"mx_tried\":%d", m->tried);
	json_word(&f, "mx_tls", mx_tls_name(m->tls));
	json_word(&f, "mta_sts", mx_sts_name(m->mta_sts));
	json_word(&f, "dane", mx_dane_name(m->dane));
	if (m->tlsrpt != MX_TLSRPT_ABSENT)
		add(&f, ",\"tlsrpt\":%d", m->tlsrpt == MX_TLSRPT_YES);
	else
		add(&f, ",\"tlsrpt\":null");
	json_word(&f, "tls_policy", mx_policy_name(m->policy));
	return done(&f);
}
