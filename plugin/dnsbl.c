/*
 * dnsbl.c - see dnsbl.h.  The Received reader walks the raw (folded) value
 * the way headers.c's protocol reader does: top-level tokens as clauses,
 * comments read word by word.  Written to be fuzzed: every scan is bounded
 * by its input's end, nothing allocates.
 */
#include "dnsbl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ascii.h"
#include "mail_header.h"

static bool prefix_is(const char *s, size_t n, const char *prefix)
{
	size_t pn = strlen(prefix);
	return n >= pn && ascii_span_is(s, pn, prefix);
}

/* --- addresses ------------------------------------------------------------- */

bool dnsbl_parse_addr(const char *s, size_t n, struct dnsbl_addr *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char buf[DNSBL_IP_MAX];
	struct dnsbl_addr a;

	if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(&a, 0, sizeof(a));
	if (memchr(buf, ':', n) != NULL) {
		if (inet_pton(AF_INET6, buf, a.a) != 1)
			return false;
		a.family = AF_INET6;
		if (memcmp(a.a, mapped, sizeof(mapped)) == 0) {
			memmove(a.a, a.a + 12, 4);
			memset(a.a + 4, 0, 12);
			a.family = AF_INET;
		}
	} else {
		if (inet_pton(AF_INET, buf, a.a) != 1)
			return false;
		a.family = AF_INET;
	}
	if (inet_ntop(a.family, a.a, a.text, sizeof(a.text)) == NULL)
		return false;
	*out = a;
	return true;
}

bool dnsbl_is_public(const struct dnsbl_addr *a)
{
	const uint8_t *b = a->a;

	if (a->family == AF_INET)
		return !(b[0] == 0 || b[0] == 10 || (b[0] == 100 && (b[1] & 0xc0) == 64) ||
		         b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
		         (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168));
	if (a->family == AF_INET6) {
		static const uint8_t zero[15] = { 0 };
		if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
			return false;        /* :: and ::1 */
		return !((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80));
	}
	return false;
}

/* --- Received ---------------------------------------------------------------- */

/* "[IP]", "[IPv6:IP]", "[IP]:PORT" as one word [w, w+n). */
static bool bracket_addr(const char *w, size_t n, struct dnsbl_addr *out)
{
	const char *close, *in;
	size_t in_n;

	if (n < 3 || w[0] != '[' || (close = memchr(w, ']', n)) == NULL)
		return false;
	if (close + 1 < w + n) {
		const char *t = close + 1;
		if (*t != ':' || t + 1 == w + n)
			return false;
		for (t++; t < w + n; t++)
			if (!ascii_is_digit(*t))
				return false;
	}
	in = w + 1;
	in_n = (size_t)(close - in);
	if (prefix_is(in, in_n, "IPv6:")) {
		in += 5;
		in_n -= 5;
	}
	return dnsbl_parse_addr(in, in_n, out);
}

/* A word inside a comment that names the client: "[IP]...", a bare IP, or
 * qmail's "user@IP". */
static bool comment_word_addr(const char *w, size_t n, struct dnsbl_addr *out)
{
	const char *at;

	if (n > 0 && w[0] == '[')
		return bracket_addr(w, n, out);
	if (dnsbl_parse_addr(w, n, out))
		return true;
	at = memchr(w, '@', n);
	if (at != NULL && memchr(at + 1, '@', (size_t)(w + n - at - 1)) == NULL)
		return dnsbl_parse_addr(at + 1, (size_t)(w + n - at - 1), out);
	return false;
}

static bool is_helo_word(const char *w, size_t n)
{
	while (n > 0 && *w == '"') {
		w++;
		n--;
	}
	while (n > 0 && w[n - 1] == '"')
		n--;
	return ascii_span_is(w, n, "HELO") || ascii_span_is(w, n, "EHLO");
}

/* The comment opening at p ('('), nested ones included, read word by word.
 * Returns the byte after its ')', or NULL when it is never closed (a cut
 * block: nothing in it is trusted).  *found is set by the first address
 * word that does not follow HELO/EHLO and is not "helo=...". */
static const char *scan_comment(const char *p, const char *e, bool *found, struct dnsbl_addr *out)
{
	int depth = 0;
	bool after_helo = false, got = false;
	struct dnsbl_addr a;

	while (p < e) {
		const char *w = p;
		size_t n;

		if (*p == '(' || *p == ')') {
			depth += *p == '(' ? 1 : -1;
			p++;
			if (depth == 0)
				break;
			continue;
		}
		if (ascii_is_blank(*p)) {
			p++;
			continue;
		}
		while (p < e && !ascii_is_blank(*p) && *p != '(' && *p != ')')
			p += (*p == '\\' && e - p >= 2) ? 2 : 1;
		n = (size_t)(p - w);
		if (!got && !after_helo && !prefix_is(w, n, "helo=") && comment_word_addr(w, n, &a))
			got = true;
		after_helo = is_helo_word(w, n);
	}
	if (depth != 0)
		return NULL;
	if (got && !*found) {
		*found = true;
		*out = a;
	}
	return p;
}

/* The next top-level token at p (after blanks): a quoted string or a run up
 * to a blank, '(' or ';'.  Its bounds go to *t and *n; returns where it ends. */
static const char *next_token(const char *p, const char *e, const char **t, size_t *n)
{
	*t = p;
	if (*p == '"') {
		for (p++; p < e && *p != '"'; p++)
			if (*p == '\\' && e - p >= 2)
				p++;
		if (p < e)
			p++;
	} else {
		while (p < e && !ascii_is_blank(*p) && *p != '(' && *p != ';')
			p++;
	}
	*n = (size_t)(p - *t);
	return p;
}

static bool clause_word(const char *t, size_t n)
{
	return ascii_span_is(t, n, "by") || ascii_span_is(t, n, "via") || ascii_span_is(t, n, "with") ||
	       ascii_span_is(t, n, "id") || ascii_span_is(t, n, "for");
}

bool dnsbl_received_addr(const char *v, size_t n, struct dnsbl_addr *out)
{
	const char *p = v, *e = v + n, *name = NULL, *t;
	size_t name_n = 0, tn;
	bool in_from = false, found = false, outside = false;
	struct dnsbl_addr lit;

	while (p < e) {
		if (ascii_is_blank(*p)) {
			p++;
			continue;
		}
		if (*p == ';')
			break;
		if (*p == '(') {
			if (!in_from) {
				const char *q = mail_skip_cfws(p, e);
				p = q > p ? q : p + 1;
				continue;
			}
			if ((p = scan_comment(p, e, &found, out)) == NULL)
				return false;
			if (found)
				return true;
			continue;
		}
		p = next_token(p, e, &t, &tn);
		if (!in_from) {
			if (!ascii_span_is(t, tn, "from"))
				return false;    /* no from clause: "by ...", "(qmail ...)" */
			in_from = true;
		} else if (name == NULL) {
			name = t;
			name_n = tn;
		} else if (clause_word(t, tn)) {
			break;
		} else if (!outside && bracket_addr(t, tn, &lit)) {
			outside = true;
		}
	}
	if (outside) {
		*out = lit;
		return true;
	}
	return name != NULL && bracket_addr(name, name_n, out);
}

enum dnsbl_pick dnsbl_pick(const char *block, size_t len, int hop, struct dnsbl_addr *out)
{
	const char *cur = block, *end = block + len;
	struct mail_field f;
	long idx = 0;

	memset(out, 0, sizeof(*out));
	while (mail_field_next(&cur, end, &f)) {
		struct dnsbl_addr a;
		bool got;

		if (!mail_field_is(&f, "Received"))
			continue;
		idx++;
		if (hop > 0 && idx < hop)
			continue;
		got = dnsbl_received_addr(f.value, f.value_len, &a);
		if (hop > 0 && !got)
			return DNSBL_NO_ADDRESS;
		if (got && (hop > 0 || dnsbl_is_public(&a))) {
			*out = a;
			return DNSBL_PICKED;
		}
	}
	return (hop > 0 || idx == 0) ? DNSBL_NO_HEADER : DNSBL_NO_PUBLIC;
}

/* --- zones and query names ------------------------------------------------------ */

static bool label_char(char c)
{
	return ascii_is_alnum(c) || c == '-' || c == '_';
}

/* Is [s, s+n) a zone?  On false, what is wrong (a phrase) in *what. */
static bool zone_ok(const char *s, size_t n, const char **what)
{
	size_t label = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0) {
		*what = "is empty";
		return false;
	}
	if (n > DNSBL_ZONE_MAX) {
		*what = "is longer than 189 bytes";
		return false;
	}
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0) {
				*what = "has an empty label";
				return false;
			}
			label = 0;
		} else if (!label_char(s[i])) {
			*what = "has a byte that is not a letter, digit, '-', '_' or '.'";
			return false;
		} else if (++label > 63) {
			*what = "has a label longer than 63 bytes";
			return false;
		}
	}
	return true;
}

bool dnsbl_query_name(const struct dnsbl_addr *a, const char *zone, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	char name[DNSBL_NAME_MAX + 70];
	size_t zn, len = 0;
	const char *what;

	if (cap)
		out[0] = '\0';
	if (zone == NULL || !zone_ok(zone, strlen(zone), &what))
		return false;
	zn = strlen(zone);
	if (zone[zn - 1] == '.')
		zn--;
	if (a->family == AF_INET) {
		len = (size_t)snprintf(name, sizeof(name), "%u.%u.%u.%u.",
		               (unsigned)a->a[3], (unsigned)a->a[2], (unsigned)a->a[1], (unsigned)a->a[0]);
	} else if (a->family == AF_INET6) {
		for (int i = 15; i >= 0; i--) {
			name[len++] = hex[a->a[i] & 0xf];
			name[len++] = '.';
			name[len++] = hex[a->a[i] >> 4];
			name[len++] = '.';
		}
	} else {
		return false;
	}
	memcpy(name + len, zone, zn);
	len += zn;
	if (len > DNSBL_NAME_MAX - 1 || len + 1 > cap)
		return false;
	memcpy(out, name, len);
	out[len] = '\0';
	return true;
}

/* --- answers ------------------------------------------------------------------------ */

static const char *error_meaning(uint8_t last)
{
	/* Spamhaus, "DNSBL return codes: technical update" (2019) and the
	 * typo code documented for its public mirrors since 2021. */
	switch (last) {
	case 252:
		return "typing error in the DNSBL name";
	case 254:
		return "query via a public/open resolver";
	case 255:
		return "excessive number of queries";
	default:
		return "error code";
	}
}

enum dnsbl_answer dnsbl_judge(const uint8_t (*rec)[4], size_t n, char *note, size_t cap)
{
	size_t listed = n, error = n, other = n;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = rec[i];
		if (r[0] != 127) {
			if (other == n)
				other = i;
		} else if (r[1] == 255 && r[2] == 255) {
			if (error == n)
				error = i;
		} else if (listed == n) {
			listed = i;
		}
	}
	if (cap)
		note[0] = '\0';
	if (listed < n) {
		if (cap)
			snprintf(note, cap, "127.%u.%u.%u", (unsigned)rec[listed][1],
			         (unsigned)rec[listed][2], (unsigned)rec[listed][3]);
		return DNSBL_LISTED;
	}
	if (error < n) {
		if (cap)
			snprintf(note, cap, "127.255.255.%u: %s", (unsigned)rec[error][3], error_meaning(rec[error][3]));
		return DNSBL_ERROR_CODE;
	}
	if (other < n && cap)
		snprintf(note, cap, "answer %u.%u.%u.%u is not in 127.0.0.0/8",
		         (unsigned)rec[other][0], (unsigned)rec[other][1], (unsigned)rec[other][2],
		         (unsigned)rec[other][3]);
	return DNSBL_NOT_LISTED;
}

/* --- the route key dnsbl ---------------------------------------------------------------- */

/* The item of list at p: [*s, *e) with blanks trimmed; returns the start of
 * the next item, or NULL after the last. */
static const char *list_item(const char *p, const char **s, const char **e)
{
	const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*s = p;
	*e = end;
	return comma ? comma + 1 : NULL;
}

static bool list_empty(const char *list)
{
	if (list == NULL)
		return true;
	for (; *list; list++)
		if (*list != ' ' && *list != '\t')
			return false;
	return true;
}

size_t dnsbl_zone_count(const char *list)
{
	size_t n = 1;

	if (list_empty(list))
		return 0;
	for (; *list; list++)
		n += *list == ',';
	return n;
}

bool dnsbl_zone_at(const char *list, size_t i, char *out, size_t cap)
{
	const char *p = list, *s, *e;

	if (cap)
		out[0] = '\0';
	if (list_empty(list))
		return false;
	for (size_t k = 0; p != NULL; k++) {
		p = list_item(p, &s, &e);
		if (k == i) {
			if ((size_t)(e - s) + 1 > cap)
				return false;
			memcpy(out, s, (size_t)(e - s));
			out[e - s] = '\0';
			return true;
		}
	}
	return false;
}

/* Same zone, without case and a trailing dot. */
static bool same_zone(const char *a, size_t an, const char *b, size_t bn)
{
	if (an > 0 && a[an - 1] == '.')
		an--;
	if (bn > 0 && b[bn - 1] == '.')
		bn--;
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

static bool seen_before(const char *list, const char *s, const char *e)
{
	const char *p = list, *ps, *pe;

	while (p != NULL) {
		p = list_item(p, &ps, &pe);
		if (ps == s)
			return false;
		if (same_zone(ps, (size_t)(pe - ps), s, (size_t)(e - s)))
			return true;
	}
	return false;
}

bool dnsbl_zones_valid(const char *list, char *why, size_t cap)
{
	const char *p = list, *s, *e, *what;
	int item = 0;

	if (cap)
		why[0] = '\0';
	if (list_empty(list))
		return true;
	while (p != NULL) {
		item++;
		p = list_item(p, &s, &e);
		if (!zone_ok(s, (size_t)(e - s), &what)) {
			if (cap)
				snprintf(why, cap, "dnsbl: item %d \"%.*s\" %s", item,
				         (int)(e - s > 64 ? 64 : e - s), s, what);
			return false;
		}
		if (seen_before(list, s, e)) {
			if (cap)
				snprintf(why, cap, "dnsbl: item %d \"%.*s\" is listed twice", item,
				         (int)(e - s > 64 ? 64 : e - s), s);
			return false;
		}
	}
	return true;
}

size_t dnsbl_zones_join(const char *list, const bool *listed, size_t n, char *out, size_t cap)
{
	const char *p = list, *s, *e;
	size_t count = 0, len = 0;
	bool full = false;

	if (cap)
		out[0] = '\0';
	if (list_empty(list))
		return 0;
	for (size_t i = 0; p != NULL; i++) {
		size_t zn, need;
		p = list_item(p, &s, &e);
		if (i >= n || !listed[i])
			continue;
		count++;
		zn = (size_t)(e - s);
		need = zn + (len > 0 ? 1 : 0);
		if (full || len + need + 1 > cap) {
			full = true;     /* whole zones only, a prefix of the list */
			continue;
		}
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, s, zn);
		len += zn;
		out[len] = '\0';
	}
	return count;
}
