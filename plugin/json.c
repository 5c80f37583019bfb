/*
 * json.c - see json.h.  One recursive-descent walk checks the whole text
 * and remembers where the wanted member's value starts; the value is then
 * decoded from there.  Every read is bounded by the cursor's end.
 */
#include "json.h"

#include <limits.h>
#include <string.h>

struct jp {
	const unsigned char *p, *end;
};

/* Where a decoded string goes: buf of cap bytes (room for the NUL kept),
 * or nowhere (buf NULL: check only). */
struct sink {
	char *buf;
	size_t cap, len;
	bool over;
};

static bool scan_value(struct jp *j, int depth);

static void sink_put(struct sink *s, const unsigned char *b, size_t n)
{
	if (!s || s->over)
		return;
	if (n >= s->cap - s->len) {
		s->over = true;
		return;
	}
	memcpy(s->buf + s->len, b, n);
	s->len += n;
}

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool expect(struct jp *j, unsigned char c)
{
	if (j->p >= j->end || *j->p != c)
		return false;
	j->p++;
	return true;
}

/* Length of the well-formed UTF-8 sequence (RFC 3629 §4) of 2 to 4 bytes
 * at p, or 0: no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		lo = c == 0xE0 ? 0xA0 : 0x80;
		hi = c == 0xED ? 0x9F : 0xBF;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF;
	} else
		return 0;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

static size_t utf8_encode(unsigned cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Four hex digits at the cursor. */
static bool hex4(struct jp *j, unsigned *v)
{
	*v = 0;
	if (j->end - j->p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		unsigned char c = *j->p++;
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		*v = *v << 4 | d;
	}
	return true;
}

/* The cursor is just past "\u". */
static bool scan_u(struct jp *j, struct sink *s)
{
	unsigned char b[4];
	unsigned cp, lo;

	if (!hex4(j, &cp) || cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
		return false;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
			return false;
		j->p += 2;
		if (!hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF)
			return false;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	sink_put(s, b, utf8_encode(cp, b));
	return true;
}

/* The cursor is at a backslash. */
static bool scan_escape(struct jp *j, struct sink *s)
{
	unsigned char c;

	if (j->end - j->p < 2)
		return false;
	c = j->p[1];
	j->p += 2;
	switch (c) {
	case '"': case '\\': case '/':
		break;
	case 'b': c = '\b'; break;
	case 'f': c = '\f'; break;
	case 'n': c = '\n'; break;
	case 'r': c = '\r'; break;
	case 't': c = '\t'; break;
	case 'u':
		return scan_u(j, s);
	default:
		return false;
	}
	sink_put(s, &c, 1);
	return true;
}

/* The cursor is at the opening quote; decoded bytes go to s (may be NULL). */
static bool scan_string(struct jp *j, struct sink *s)
{
	j->p++;
	while (j->p < j->end) {
		unsigned char c = *j->p;
		size_t n;

		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (!scan_escape(j, s))
				return false;
			continue;
		}
		n = c < 0x80 ? 1 : utf8_seq(j->p, j->end);
		if (n == 0)
			return false;
		sink_put(s, j->p, n);
		j->p += n;
	}
	return false;
}

static bool digits(struct jp *j)
{
	const unsigned char *start = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start;
}

/* RFC 8259 §6 number; *integer: no fraction, no exponent. */
static bool scan_number(struct jp *j, bool *integer)
{
	*integer = true;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (j->p >= j->end || *j->p < '1' || *j->p > '9' || !digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		*integer = false;
		if (!digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		*integer = false;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digits(j))
			return false;
	}
	return true;
}

static bool scan_literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool scan_array(struct jp *j, int depth)
{
	if (depth > JSON_DEPTH_MAX)
		return false;
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return true;
	}
	for (;;) {
		skip_ws(j);
		if (!scan_value(j, depth))
			return false;
		skip_ws(j);
		if (expect(j, ']'))
			return true;
		if (!expect(j, ','))
			return false;
	}
}

/* The cursor is at '{'.  With key set, *found gets the start of the value
 * of the first member so named (left alone if none). */
static bool scan_object(struct jp *j, int depth, const char *key, const unsigned char **found)
{
	if (depth > JSON_DEPTH_MAX)
		return false;
	j->p++;
	skip_ws(j);
	if (expect(j, '}'))
		return true;
	for (;;) {
		char name[JSON_KEY_MAX + 1];
		struct sink s = { name, sizeof(name), 0, false };

		skip_ws(j);
		if (j->p >= j->end || *j->p != '"' || !scan_string(j, &s))
			return false;
		skip_ws(j);
		if (!expect(j, ':'))
			return false;
		skip_ws(j);
		if (key && !*found && !s.over && s.len == strlen(key) && memcmp(name, key, s.len) == 0)
			*found = j->p;
		if (!scan_value(j, depth))
			return false;
		skip_ws(j);
		if (expect(j, '}'))
			return true;
		if (!expect(j, ','))
			return false;
	}
}

static bool scan_value(struct jp *j, int depth)
{
	bool integer;

	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '"': return scan_string(j, NULL);
	case '{': return scan_object(j, depth + 1, NULL, NULL);
	case '[': return scan_array(j, depth + 1);
	case 't': return scan_literal(j, "true");
	case 'f': return scan_literal(j, "false");
	case 'n': return scan_literal(j, "null");
	default: return scan_number(j, &integer);
	}
}

/* Check the whole text; *found: the value of key, or NULL. */
static bool walk(const char *text, size_t len, const char *key, const unsigned char **found)
{
	struct jp j = { (const unsigned char *)text, (const unsigned char *)text + len };

	*found = NULL;
	if (!text)
		return false;
	skip_ws(&j);
	if (j.p >= j.end || *j.p != '{' || !scan_object(&j, 1, key, found))
		return false;
	skip_ws(&j);
	return j.p == j.end;
}

bool json_valid(const char *text, size_t len)
{
	const unsigned char *found;

	return walk(text, len, NULL, &found);
}

int json_get_string(const char *text, size_t len, const char *key, char *out, size_t cap)
{
	const unsigned char *v;
	struct jp j;
	struct sink s = { out, cap, 0, false };

	if (cap > 0)
		out[0] = '\0';
	if (!walk(text, len, key, &v))
		return JSON_INVALID;
	if (!v || *v == 'n')
		return JSON_ABSENT;
	if (*v != '"')
		return JSON_TYPE;
	if (cap == 0)
		return JSON_TOO_LONG;
	j.p = v;
	j.end = (const unsigned char *)text + len;
	(void)scan_string(&j, &s);   /* checked by walk() */
	if (s.over) {
		explicit_bzero(out, cap);
		return JSON_TOO_LONG;
	}
	out[s.len] = '\0';
	return JSON_OK;
}

/* Decimal digits at p..end (all digits, checked by the caller), with the
 * sign, into *out without overflow. */
static int to_long(const unsigned char *p, const unsigned char *end, bool neg, long *out)
{
	unsigned long limit = neg ? (unsigned long)LONG_MAX + 1 : (unsigned long)LONG_MAX;
	unsigned long v = 0;

	for (; p < end; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (limit - d) / 10)
			return JSON_RANGE;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (unsigned long)LONG_MAX + 1 ? LONG_MIN : -(long)v;
	else
		*out = (long)v;
	return JSON_OK;
}

int json_get_number(const char *text, size_t len, const char *key, long *out)
{
	const unsigned char *v;
	struct jp j;
	bool integer, neg;

	if (!walk(text, len, key, &v))
		return JSON_INVALID;
	if (!v || *v == 'n')
		return JSON_ABSENT;
	if (*v == '"') {
		char buf[20];
		size_t n;
		int rc = json_get_string(text, len, key, buf, sizeof(buf));
		if (rc == JSON_TOO_LONG)
			return JSON_TYPE;
		n = strlen(buf);
		if (rc != JSON_OK || n == 0 || n > 18 || strspn(buf, "0123456789") != n)
			return JSON_TYPE;
		return to_long((const unsigned char *)buf, (const unsigned char *)buf + n, false, out);
	}
	if (*v != '-' && (*v < '0' || *v > '9'))
		return JSON_TYPE;
	j.p = v;
	j.end = (const unsigned char *)text + len;
	(void)scan_number(&j, &integer);   /* checked by walk() */
	if (!integer)
		return JSON_TYPE;
	neg = *v == '-';
	return to_long(v + neg, j.p, neg, out);
}

const char *json_result_text(int result)
{
	switch (result) {
	case JSON_OK: return "ok";
	case JSON_ABSENT: return "absent";
	case JSON_TYPE: return "of the wrong type";
	case JSON_TOO_LONG: return "too long";
	case JSON_RANGE: return "out of range";
	case JSON_INVALID: return "not a JSON object";
	default: return "unknown result";
	}
}
