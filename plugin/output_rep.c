/*
 * output_rep.c - see output_rep.h.
 */
#include "output_rep.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct w {
	char *buf;
	size_t cap, len;
	bool json, overflow;
};

static void add(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct w *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->cap - w->len) {
		w->overflow = true;
		w->buf[w->len] = '\0';
		return;
	}
	w->len += (size_t)n;
}

/* Only what needs no escaping in either format (see output_rep.h). */
static bool plain(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '-' || *s == '_' || *s == ':' || *s == ','))
			return false;
	return true;
}

static void num(struct w *w, const char *key, bool present, double v)
{
	present = present && isfinite(v);
	if (w->json && present)
		add(w, ",\"%s\":%.6f", key, v);
	else if (w->json)
		add(w, ",\"%s\":null", key);
	else if (present)
		add(w, ",%s=%.6f", key, v);
}

static void integer(struct w *w, const char *key, bool present, long long v)
{
	if (w->json && present)
		add(w, ",\"%s\":%lld", key, v);
	else if (w->json)
		add(w, ",\"%s\":null", key);
	else if (present)
		add(w, ",%s=%lldi", key, v);
}

static void str(struct w *w, const char *key, const char *v)
{
	bool present = v && *v && plain(v);

	if (w->json && present)
		add(w, ",\"%s\":\"%s\"", key, v);
	else if (w->json)
		add(w, ",\"%s\":null", key);
	else if (present)
		add(w, ",%s=\"%s\"", key, v);
}

ssize_t output_rep(enum out_format fmt, const struct reputation *rep, char *buf, size_t cap)
{
	struct w w = { buf, cap, 0, fmt == FORMAT_JSON, false };
	const struct spam_verdict *s = &rep->spam;
	bool any = s->filter != SPAM_FILTER_NONE;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	num(&w, "spam_score", any && s->has_score, s->score);
	num(&w, "spam_threshold", any && s->has_threshold, s->threshold);
	str(&w, "spam", any ? spam_flag_name(s->spam) : NULL);
	str(&w, "spam_filter", any ? spam_filter_name(s->filter) : NULL);
	integer(&w, "scl", any && s->has_scl, s->scl);
	str(&w, "dnsbl_ip", rep->dnsbl_looked ? rep->dnsbl_ip : NULL);
	integer(&w, "dnsbl_listed", rep->dnsbl_looked, rep->dnsbl_listed);
	str(&w, "dnsbl_zones", rep->dnsbl_looked ? rep->dnsbl_zones : NULL);
	return w.overflow ? -1 : (ssize_t)w.len;
}
