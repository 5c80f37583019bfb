/*
 * headers.c - see headers.h.  Works on the raw (folded) values: line ends
 * count as blanks, so no value is ever cut by an unfold buffer.  Written
 * to be fuzzed: every scan is bounded by its value's end, nothing allocates.
 */
#include "headers.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ascii.h"
#include "mail_header.h"

/* RFC 8601 Keyword characters (methods, results): ALPHA, DIGIT, "-", "_". */
static bool is_keyword(char c)
{
	return ascii_is_alnum(c) || c == '-' || c == '_';
}

/* --- Authentication-Results ----------------------------------------------- */

/* Is there an '=' in [p, e) outside comments and quoted strings? */
static bool has_top_equals(const char *p, const char *e)
{
	while (p < e) {
		if (*p == '(') {
			p = mail_skip_cfws(p, e);
			continue;
		}
		if (*p == '"') {
			for (p++; p < e && *p != '"'; p++)
				if (*p == '\\' && e - p >= 2)
					p++;
			if (p < e)
				p++;
			continue;
		}
		if (*p++ == '=')
			return true;
	}
	return false;
}

/* The authserv-id at the start of [p, e): a quoted string or a run of
 * non-blank bytes; a version after it is left unread. */
static void read_authserv_id(const char *p, const char *e, char *out, size_t cap)
{
	const char *s = mail_skip_cfws(p, e);
	char tmp[256];
	size_t n = 0;

	if (s < e && *s == '"') {
		for (s++; s < e && *s != '"' && n + 1 < sizeof(tmp); s++) {
			if (*s == '\\' && e - s >= 2)
				s++;
			tmp[n++] = *s;
		}
	} else {
		while (s < e && !ascii_is_blank(*s) && *s != '(' && n + 1 < sizeof(tmp))
			tmp[n++] = *s++;
	}
	mail_unfold(tmp, n, out, cap);
}

/* One item of the comma-separated list at p, without blanks around it, as
 * [*s, *e); returns where it ends (its comma or the end of the list). */
static const char *list_item(const char *p, const char **s, const char **e)
{
	while (*p == ' ' || *p == '\t')
		p++;
	*s = p;
	while (*p && *p != ',')
		p++;
	*e = p;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
	return p;
}

/* Is id (the header's authserv-id, "" for none) listed in from? */
static bool from_lists(const char *from, const char *id)
{
	const char *p = from;

	if (from == NULL || *from == '\0')
		return true;
	while (*p) {
		const char *item, *end;
		size_t n;
		p = list_item(p, &item, &end);
		n = (size_t)(end - item);
		if (n == 1 && item[0] == '-' ? id[0] == '\0' : (n > 0 && ascii_span_is(item, n, id)))
			return true;
		if (*p == ',')
			p++;
	}
	return false;
}

/* Store one method's result word into the verdicts, by its rule. */
static void take_result(struct auth_verdicts *out, const char *m, size_t mn, const char *r, size_t rn)
{
	char word[AUTH_WORD_MAX];
	size_t n = rn < AUTH_WORD_MAX - 1 ? rn : AUTH_WORD_MAX - 1;

	for (size_t i = 0; i < n; i++)
		word[i] = ascii_lower(r[i]);
	word[n] = '\0';
	for (int i = 0; i < AUTH_N; i++) {
		char *slot = out->verdict[i];
		if (!ascii_span_is(m, mn, auth_method_name(i)))
			continue;
		if (slot[0] == '\0' || (auth_method_rule(i) == AUTH_ANY_PASS && strcmp(word, "pass") == 0))
			memcpy(slot, word, n + 1);
		return;
	}
}

/* One resinfo "method[/version]=result ..." in [p, e); the rest (reason,
 * properties, comments) is not needed. */
static void read_resinfo(const char *p, const char *e, struct auth_verdicts *out)
{
	const char *m, *r;
	size_t mn, rn;

	p = mail_skip_cfws(p, e);
	m = p;
	while (p < e && is_keyword(*p))
		p++;
	mn = (size_t)(p - m);
	p = mail_skip_cfws(p, e);
	if (p < e && *p == '/') {
		p = mail_skip_cfws(p + 1, e);
		while (p < e && is_keyword(*p))
			p++;
		p = mail_skip_cfws(p, e);
	}
	if (mn == 0 || p >= e || *p != '=')
		return;
	p = mail_skip_cfws(p + 1, e);
	r = p;
	while (p < e && is_keyword(*p))
		p++;
	rn = (size_t)(p - r);
	if (rn > 0)
		take_result(out, m, mn, r, rn);
}

/* One header's value: true (and out filled) if its id is listed. */
static bool read_one_ar(const char *v, const char *e, const char *from, struct auth_verdicts *out)
{
	const char *seg = mail_find_semicolon(v, e);
	const char *p = v;

	if (mail_skip_cfws(v, e) >= e)
		return false;          /* an empty header names nothing */
	memset(out, 0, sizeof(*out));
	if (!has_top_equals(v, seg)) {
		read_authserv_id(v, seg, out->authserv_id, sizeof(out->authserv_id));
		p = seg < e ? seg + 1 : e;
	}
	if (!from_lists(from, out->authserv_id))
		return false;
	while (p < e) {
		seg = mail_find_semicolon(p, e);
		read_resinfo(p, seg, out);
		p = seg < e ? seg + 1 : e;
	}
	out->found = true;
	return true;
}

void auth_results_read(const char *block, size_t len, const char *from, struct auth_verdicts *out)
{
	const char *cur = block, *end = block + len;
	struct mail_field f;

	memset(out, 0, sizeof(*out));
	while (mail_field_next(&cur, end, &f)) {
		if (!mail_field_is(&f, "Authentication-Results"))
			continue;
		if (read_one_ar(f.value, f.value + f.value_len, from, out))
			return;
	}
	memset(out, 0, sizeof(*out));
}

static bool id_char(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

bool auth_results_from_valid(const char *from, char *why, size_t cap)
{
	const char *p = from;
	int item = 0;

	if (cap)
		why[0] = '\0';
	if (from == NULL || *from == '\0')
		return true;
	for (;;) {
		const char *s, *e;
		item++;
		p = list_item(p, &s, &e);
		if (e == s) {
			if (cap)
				snprintf(why, cap, "auth_results_from: item %d is empty", item);
			return false;
		}
		if (!(e - s == 1 && *s == '-'))
			for (const char *q = s; q < e; q++)
				if (!id_char(*q)) {
					if (cap)
						snprintf(why, cap, "auth_results_from: item %d \"%.*s\" is not an authserv-id (or \"-\")",
						         item, (int)(e - s > 64 ? 64 : e - s), s);
					return false;
				}
		if (*p == '\0')
			return true;
		p++;
	}
}

/* --- Received ------------------------------------------------------------- */

/* The protocol after the received-token "with" in [p, e), the part before
 * the first ';'.  Tokens are walked as clauses: from, by, via, with, id and
 * for take the next token as their value, so a host named "with" is a
 * value and a comment is never a token.  False if there is no with clause. */
static bool read_protocol(const char *p, const char *e, const char **proto, size_t *pn)
{
	bool expect_value = false, is_with = false;

	while ((p = mail_skip_cfws(p, e)) < e) {
		const char *t = p;
		size_t tn;
		if (*p == '"') {
			for (p++; p < e && *p != '"'; p++)
				if (*p == '\\' && e - p >= 2)
					p++;
			if (p < e)
				p++;
		} else {
			while (p < e && !ascii_is_blank(*p) && *p != '(' && *p != ';')
				p++;
			if (p == t)
				p++;
		}
		tn = (size_t)(p - t);
		if (expect_value) {
			if (is_with) {
				*proto = t;
				*pn = tn;
				return true;
			}
			expect_value = false;
		} else if (ascii_span_is(t, tn, "from") || ascii_span_is(t, tn, "by") || ascii_span_is(t, tn, "via") ||
		           ascii_span_is(t, tn, "with") || ascii_span_is(t, tn, "id") || ascii_span_is(t, tn, "for")) {
			expect_value = true;
			is_with = ascii_span_is(t, tn, "with");
		}
	}
	return false;
}

static bool plain_protocol(const char *t, size_t n)
{
	static const char *const plain[] = { "SMTP", "ESMTP", "ESMTPA", "UTF8SMTP", "UTF8SMTPA" };

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (ascii_span_is(t, n, plain[i]))
			return true;
	return false;
}

/* The date after the last ';' outside comments, if it parses. */
static bool received_date(const char *v, const char *e, int64_t *when)
{
	const char *p = v, *last = NULL;

	while ((p = mail_find_semicolon(p, e)) < e)
		last = ++p;
	return last != NULL && mail_parse_date(last, (size_t)(e - last), when);
}

void received_read(const char *block, size_t len, struct path_summary *out)
{
	const char *cur = block, *end = block + len;
	struct mail_field f;
	int64_t oldest = 0, newest = 0;
	int dates = 0;

	memset(out, 0, sizeof(*out));
	while (mail_field_next(&cur, end, &f)) {
		const char *v = f.value, *e = f.value + f.value_len, *proto;
		size_t pn;
		int64_t when;

		if (!mail_field_is(&f, "Received") || out->hops == INT_MAX)
			continue;
		out->hops++;
		if (read_protocol(v, mail_find_semicolon(v, e), &proto, &pn) && plain_protocol(proto, pn))
			out->plain_hops++;
		if (received_date(v, e, &when)) {
			if (dates == 0 || when < oldest)
				oldest = when;
			if (dates == 0 || when > newest)
				newest = when;
			dates++;
		}
	}
	if (dates >= 2) {
		out->has_transit = true;
		out->transit_time = (double)(newest - oldest);
	}
}
