/*
 * mta_sts.c - see mta_sts.h.  Written to be fuzzed
 * (tests/fuzz/fuzz_mta_sts.c): every scan is bounded by its input's end.
 */
#include "mta_sts.h"

#include <stdio.h>
#include <string.h>

#include "ascii.h"

static bool wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Does s start with the version tag v, then ';', a blank or the end? */
static bool tagged(const char *s, const char *v)
{
	size_t n = strlen(v);

	return strncmp(s, v, n) == 0 && (s[n] == '\0' || s[n] == ';' || wsp(s[n]));
}

/* --- the TXT record ----------------------------------------------------------- */

/* One "v=STSv1; id=...; ext=..." record: its id, or false with why. */
static bool txt_fields(const char *s, char id[MTA_STS_ID_MAX], char *why, size_t cap)
{
	const char *p = s + strlen("v=STSv1");
	bool have_id = false;

	for (;;) {
		const char *key, *eq, *val;
		size_t klen, vlen;
		while (wsp(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ';') {
			snprintf(why, cap, "TXT record: expected \";\" between fields");
			return false;
		}
		while (wsp(*p))
			p++;
		if (*p == '\0')
			break;   /* a trailing ';' is allowed */
		key = p;
		while (alnum(*p) || *p == '_' || *p == '-' || *p == '.')
			p++;
		klen = (size_t)(p - key);
		eq = p;
		if (klen == 0 || *eq != '=') {
			snprintf(why, cap, "TXT record: a field is not key=value");
			return false;
		}
		val = ++p;
		while (*p && *p != ';' && !wsp(*p))
			p++;
		vlen = (size_t)(p - val);
		if (klen == 2 && strncmp(key, "id", 2) == 0) {
			bool ok = vlen >= 1 && vlen < MTA_STS_ID_MAX && !have_id;
			for (size_t i = 0; ok && i < vlen; i++)
				ok = alnum(val[i]);
			if (!ok) {
				snprintf(why, cap, have_id ? "TXT record: id given twice"
				         : "TXT record: id must be 1 to 32 letters and digits");
				return false;
			}
			memcpy(id, val, vlen);
			id[vlen] = '\0';
			have_id = true;
		} else if (vlen == 0) {
			snprintf(why, cap, "TXT record: an empty field value");
			return false;
		}
	}
	if (!have_id)
		snprintf(why, cap, "TXT record without id=");
	return have_id;
}

int mta_sts_txt(const char *const *records, size_t n, char id[MTA_STS_ID_MAX], char *why, size_t cap)
{
	const char *ours = NULL;
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		if (tagged(records[i], "v=STSv1")) {
			ours = records[i];
			count++;
		}
	if (count == 0)
		return 0;
	if (count > 1) {
		snprintf(why, cap, "%zu TXT records start with v=STSv1 (there must be one)", count);
		return -1;
	}
	return txt_fields(ours, id, why, cap) ? 1 : -1;
}

/* --- the policy file ------------------------------------------------------------ */

struct reading {
	struct mta_sts_policy *p;
	bool version, mode, max_age;   /* seen */
	char *why;
	size_t cap;
};

static bool fail(struct reading *rd, const char *what, size_t line)
{
	snprintf(rd->why, rd->cap, "policy line %zu: %s", line, what);
	return false;
}

/* An mx value: a name, or "*." and a name; kept in lower case. */
static bool take_mx(struct reading *rd, const char *v, size_t n, size_t line)
{
	char name[DNS_NAME_MAX];
	const char *host = v;
	size_t hn = n;

	if (n >= 2 && v[0] == '*' && v[1] == '.') {
		host += 2;
		hn -= 2;
	}
	if (n == 0 || n >= sizeof(name))
		return fail(rd, "mx: not a host name", line);
	memcpy(name, host, hn);
	name[hn] = '\0';
	if (!dns_name_valid(name) || name[hn ? hn - 1 : 0] == '.' || strchr(name, '_'))
		return fail(rd, "mx: not a host name or *.name pattern", line);
	if (rd->p->n_mx == MTA_STS_MX_MAX)
		return fail(rd, "more than 64 mx patterns", line);
	for (size_t i = 0; i < n; i++)
		rd->p->mx[rd->p->n_mx][i] = ascii_lower(v[i]);
	rd->p->mx[rd->p->n_mx][n] = '\0';
	rd->p->n_mx++;
	return true;
}

static bool span_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncmp(s, word, n) == 0;
}

static bool take_max_age(struct reading *rd, const char *v, size_t n, size_t line)
{
	long age = 0;

	if (n == 0 || n > 10)
		return fail(rd, "max_age: expected 1 to 10 digits", line);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(rd, "max_age: expected 1 to 10 digits", line);
		age = age * 10 + (v[i] - '0');
		if (age > MTA_STS_MAX_AGE_MAX)
			return fail(rd, "max_age: above 31557600 (a year)", line);
	}
	rd->p->max_age = age;
	return true;
}

/* One "key: value" line (value without its blanks at either end). */
static bool take_field(struct reading *rd, const char *k, size_t kn, const char *v, size_t vn, size_t line)
{
	bool *seen = span_is(k, kn, "version") ? &rd->version : span_is(k, kn, "mode") ? &rd->mode
	             : span_is(k, kn, "max_age") ? &rd->max_age : NULL;

	if (seen && *seen)
		return fail(rd, "a field given twice", line);
	if (seen)
		*seen = true;
	if (span_is(k, kn, "version"))
		return span_is(v, vn, "STSv1") || fail(rd, "version: not STSv1", line);
	if (span_is(k, kn, "mode")) {
		if (span_is(v, vn, "enforce"))
			rd->p->mode = MTA_STS_MODE_ENFORCE;
		else if (span_is(v, vn, "testing"))
			rd->p->mode = MTA_STS_MODE_TESTING;
		else if (span_is(v, vn, "none"))
			rd->p->mode = MTA_STS_MODE_NONE;
		else
			return fail(rd, "mode: not enforce, testing or none", line);
		return true;
	}
	if (span_is(k, kn, "max_age"))
		return take_max_age(rd, v, vn, line);
	if (span_is(k, kn, "mx"))
		return take_mx(rd, v, vn, line);
	return true;   /* an extension field: ignored */
}

/* One line (without its line end). */
static bool take_line(struct reading *rd, const char *s, size_t n, size_t line)
{
	const char *colon = memchr(s, ':', n);
	size_t kn, vn;
	const char *v;

	while (n > 0 && wsp(s[n - 1]))
		n--;
	if (n == 0)
		return true;
	if (!colon || colon == s)
		return fail(rd, "not \"key: value\"", line);
	kn = (size_t)(colon - s);
	for (size_t i = 0; i < kn; i++)
		if (!alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return fail(rd, "not \"key: value\"", line);
	v = colon + 1;
	vn = n - kn - 1;
	while (vn > 0 && wsp(*v)) {
		v++;
		vn--;
	}
	return take_field(rd, s, kn, v, vn, line);
}

bool mta_sts_policy_parse(const char *body, size_t len, struct mta_sts_policy *p, char *why, size_t cap)
{
	struct reading rd = { .p = p, .why = why, .cap = cap };
	size_t start = 0, line = 1;

	memset(p, 0, sizeof(*p));
	if (len > MTA_STS_BODY_MAX)
		return fail(&rd, "larger than 64 KiB", 0);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)body[i];
		if (c == '\n') {
			size_t end = i > start && body[i - 1] == '\r' ? i - 1 : i;
			if (!take_line(&rd, body + start, end - start, line))
				return false;
			start = i + 1;
			line++;
		} else if ((c < 0x20 && c != '\t' && c != '\r') || c >= 0x7f) {
			return fail(&rd, "a control character or a byte past ASCII", line);
		}
	}
	if (start < len && !take_line(&rd, body + start, len - start, line))
		return false;
	if (!rd.version || !rd.mode || !rd.max_age) {
		snprintf(why, cap, "policy without %s", !rd.version ? "version" : !rd.mode ? "mode" : "max_age");
		return false;
	}
	if (p->mode != MTA_STS_MODE_NONE && p->n_mx == 0) {
		snprintf(why, cap, "policy in mode %s without mx", mta_sts_mode_name(p->mode));
		return false;
	}
	return true;
}

/* --- matching --------------------------------------------------------------------- */

static bool same(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

bool mta_sts_pattern_match(const char *pattern, const char *host)
{
	size_t pn = strlen(pattern), hn = strlen(host);
	const char *dot;

	if (hn > 0 && host[hn - 1] == '.')
		hn--;
	if (pn > 0 && pattern[pn - 1] == '.')
		pn--;
	if (pn >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* one label, then the rest exactly */
		dot = memchr(host, '.', hn);
		if (!dot || dot == host)
			return false;
		return same(dot + 1, hn - (size_t)(dot + 1 - host), pattern + 2, pn - 2);
	}
	return pn > 0 && same(pattern, pn, host, hn);
}

bool mta_sts_mx_match(const struct mta_sts_policy *p, const char *host)
{
	for (size_t i = 0; i < p->n_mx; i++)
		if (mta_sts_pattern_match(p->mx[i], host))
			return true;
	return false;
}

const char *mta_sts_mode_name(enum mta_sts_mode m)
{
	return m == MTA_STS_MODE_ENFORCE ? "enforce" : m == MTA_STS_MODE_TESTING ? "testing" : "none";
}

bool tlsrpt_txt(const char *const *records, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += tagged(records[i], "v=TLSRPTv1");
	return count == 1;
}
