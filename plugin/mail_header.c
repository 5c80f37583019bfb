/*
 * mail_header.c - see mail_header.h.  Written to be fuzzed: every read is
 * checked against the end of its input, numbers have digit limits, and
 * nothing allocates.
 */
#include "mail_header.h"

#include <string.h>

#include "ascii.h"

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 2045 token character: printable ASCII except tspecials. */
static bool is_token(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

const char *mail_skip_cfws(const char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		if (depth > 0 && *p == '\\') {
			p += (end - p >= 2) ? 2 : 1;
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !ascii_is_blank(*p))
			break;
		p++;
	}
	return p;
}

/* --- output with safe truncation ----------------------------------------- */

struct outbuf {
	char *s;
	size_t cap, len;
	bool cut;
};

static void out_init(struct outbuf *o, char *s, size_t cap)
{
	o->s = s;
	o->cap = cap;
	o->len = 0;
	o->cut = false;
	if (cap)
		s[0] = '\0';
}

static void out_put(struct outbuf *o, char c)
{
	if (o->len + 1 < o->cap)
		o->s[o->len++] = c;
	else
		o->cut = true;
}

/* After a cut, drop a UTF-8 sequence left incomplete at the end. */
static size_t out_finish(struct outbuf *o)
{
	if (o->cap == 0)
		return 0;
	if (o->cut && o->len > 0) {
		size_t i = o->len, back = 0;
		unsigned char lead;
		size_t need;
		while (i > 0 && back < 3 && ((unsigned char)o->s[i - 1] & 0xc0) == 0x80) {
			i--;
			back++;
		}
		if (i > 0) {
			lead = (unsigned char)o->s[i - 1];
			need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
			if (lead >= 0x80 && back + 1 < need)
				o->len = i - 1;
		}
	}
	o->s[o->len] = '\0';
	return o->len;
}

size_t mail_copy(char *out, size_t cap, const char *s, size_t n)
{
	struct outbuf o;

	out_init(&o, out, cap);
	for (size_t i = 0; i < n && !o.cut; i++)
		out_put(&o, s[i]);
	return out_finish(&o);
}

/* --- header fields -------------------------------------------------------- */

/* The '\n' ending the line at p, or end. */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl : end;
}

/* The line's content end: before a CR that precedes the line end. */
static const char *content_end(const char *p, const char *eol)
{
	return (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
}

static const char *next_line(const char *eol, const char *end)
{
	return eol < end ? eol + 1 : end;
}

static bool is_name_char(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u < 0x7f && c != ':';
}

bool mail_field_next(const char **cursor, const char *end, struct mail_field *f)
{
	const char *p = *cursor;

	while (p < end) {
		const char *eol = line_end(p, end), *ce = content_end(p, eol);
		const char *q = p, *name_end, *next;

		if (ce == p) {
			*cursor = p;       /* the empty line ending the header */
			return false;
		}
		if (is_wsp(*p)) {          /* continuation without a field */
			p = next_line(eol, end);
			continue;
		}
		while (q < ce && is_name_char(*q))
			q++;
		name_end = q;
		while (q < ce && is_wsp(*q))
			q++;               /* obsolete: blanks before the colon */
		if (q >= ce || *q != ':' || name_end == p) {
			p = next_line(eol, end);
			continue;
		}
		f->name = p;
		f->name_len = (size_t)(name_end - p);
		f->value = q + 1;
		next = next_line(eol, end);
		while (next < end && is_wsp(*next)) {
			eol = line_end(next, end);
			ce = content_end(next, eol);
			next = next_line(eol, end);
		}
		f->value_len = (size_t)(ce - f->value);
		*cursor = next;
		return true;
	}
	*cursor = p;
	return false;
}

bool mail_field_is(const struct mail_field *f, const char *name)
{
	size_t n = strlen(name);

	if (f->name_len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(f->name[i]) != ascii_lower(name[i]))
			return false;
	return true;
}

const char *mail_body(const char *cursor, const char *end)
{
	if (cursor < end && *cursor == '\n')
		return cursor + 1;
	if (cursor < end && *cursor == '\r') {
		if (end - cursor >= 2 && cursor[1] == '\n')
			return cursor + 2;
		if (end - cursor == 1)
			return end;
	}
	return cursor;
}

size_t mail_unfold(const char *v, size_t n, char *out, size_t cap)
{
	struct outbuf o;
	bool in_fold = false;

	out_init(&o, out, cap);
	for (size_t i = 0; i < n && !o.cut; i++) {
		char c = v[i];
		unsigned char u = (unsigned char)c;

		if (c == '\r' || c == '\n') {
			in_fold = true;
			continue;
		}
		if (in_fold && is_wsp(c))
			continue;
		if (in_fold && o.len > 0)
			out_put(&o, ' ');
		in_fold = false;
		if (c == '\t')
			c = ' ';
		else if (u < 0x20 || u == 0x7f)
			continue;
		if (c == ' ' && o.len == 0)
			continue;
		out_put(&o, c);
	}
	while (o.len > 0 && o.s[o.len - 1] == ' ')
		o.len--;
	return out_finish(&o);
}

/* --- dates ---------------------------------------------------------------- */

/* Read 1..max digits at *p. */
static bool read_num(const char **p, const char *end, int max, int *val, int *digits)
{
	const char *s = *p;
	int v = 0, d = 0;

	while (s < end && ascii_is_digit(*s)) {
		if (++d > max)
			return false;
		v = v * 10 + (*s - '0');
		s++;
	}
	if (d == 0)
		return false;
	*val = v;
	if (digits)
		*digits = d;
	*p = s;
	return true;
}

/* An alphabetic word at *p: its length, *p advanced past it. */
static size_t read_word(const char **p, const char *end, const char **w)
{
	const char *s = *p;

	*w = s;
	while (s < end && ascii_is_alpha(*s))
		s++;
	*p = s;
	return (size_t)(s - *w);
}

static bool word_is(const char *w, size_t n, const char *name)
{
	size_t len = strlen(name);

	if (n != len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(w[i]) != ascii_lower(name[i]))
			return false;
	return true;
}

/* A name by its first three letters: "Tue", "Tuesday", "Dec"; -1 if none. */
static int name_index(const char *w, size_t n, const char *names)
{
	if (n < 3)
		return -1;
	for (int i = 0; names[i * 3]; i++)
		if (ascii_lower(w[0]) == names[i * 3] && ascii_lower(w[1]) == names[i * 3 + 1] &&
		    ascii_lower(w[2]) == names[i * 3 + 2])
			return i;
	return -1;
}

static const char MONTHS[] = "janfebmaraprmayjunjulaugsepoctnovdec";
static const char WEEKDAYS[] = "montuewedthufrisatsun";

/* Zone word -> offset in minutes east of UTC. */
static bool zone_word(const char *w, size_t n, int *minutes)
{
	static const struct { const char *name; int hours; } zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};

	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (word_is(w, n, zones[i].name)) {
			*minutes = zones[i].hours * 60;
			return true;
		}
	if (n == 1 && ascii_lower(w[0]) != 'j') {   /* military: read as -0000 */
		*minutes = 0;
		return true;
	}
	return false;
}

static bool read_zone(const char **p, const char *end, int *minutes)
{
	const char *s = *p, *w;
	size_t n;

	if (s < end && (*s == '+' || *s == '-')) {
		int v, d;
		bool neg = *s == '-';
		s++;
		if (!read_num(&s, end, 4, &v, &d) || d != 4 || v % 100 > 59)
			return false;
		*minutes = (neg ? -1 : 1) * ((v / 100) * 60 + v % 100);
		*p = s;
		return true;
	}
	n = read_word(&s, end, &w);
	if (n == 0 || !zone_word(w, n, minutes))
		return false;
	*p = s;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "hh:mm[:ss]", blanks and comments allowed around the colons. */
static bool read_time(const char **p, const char *end, int *h, int *mi, int *sec)
{
	const char *s = *p;

	*sec = 0;
	if (!read_num(&s, end, 2, h, NULL))
		return false;
	s = mail_skip_cfws(s, end);
	if (s >= end || *s != ':')
		return false;
	s = mail_skip_cfws(s + 1, end);
	if (!read_num(&s, end, 2, mi, NULL))
		return false;
	{
		const char *t = mail_skip_cfws(s, end);
		if (t < end && *t == ':') {
			t = mail_skip_cfws(t + 1, end);
			if (!read_num(&t, end, 2, sec, NULL))
				return false;
			s = t;
		}
	}
	*p = s;
	return *h <= 23 && *mi <= 59 && *sec <= 60;
}

/* "Tue," or "Tuesday" before the day: skipped when it is a weekday. */
static bool skip_weekday(const char **p, const char *end)
{
	const char *s = *p, *w;
	size_t n = read_word(&s, end, &w);

	if (n == 0)
		return true;
	if (name_index(w, n, WEEKDAYS) < 0)
		return false;
	s = mail_skip_cfws(s, end);
	if (s < end && *s == ',')
		s = mail_skip_cfws(s + 1, end);
	*p = s;
	return true;
}

bool mail_parse_date(const char *s, size_t n, int64_t *epoch)
{
	const char *p = s, *end = s + n, *w;
	int day, month, year, ydigits, h, mi, sec, zone;
	size_t wn;

	p = mail_skip_cfws(p, end);
	if (!skip_weekday(&p, end) || !read_num(&p, end, 2, &day, NULL))
		return false;
	p = mail_skip_cfws(p, end);
	wn = read_word(&p, end, &w);
	if ((month = name_index(w, wn, MONTHS)) < 0)
		return false;
	month++;
	p = mail_skip_cfws(p, end);
	if (!read_num(&p, end, 4, &year, &ydigits))
		return false;
	if (ydigits == 2)
		year += year < 50 ? 2000 : 1900;
	else if (ydigits == 3)
		year += 1900;
	if (year < 1900 || day < 1 || day > days_in_month(year, month))
		return false;
	p = mail_skip_cfws(p, end);
	if (!read_time(&p, end, &h, &mi, &sec))
		return false;
	p = mail_skip_cfws(p, end);
	if (!read_zone(&p, end, &zone))
		return false;
	*epoch = days_from_civil(year, month, day) * 86400 +
	         (int64_t)h * 3600 + mi * 60 + sec - (int64_t)zone * 60;
	return true;
}

/* --- MIME ----------------------------------------------------------------- */

/* A token at *p (after comments and blanks): its bounds. */
static size_t read_token(const char **p, const char *end, const char **t)
{
	const char *s = mail_skip_cfws(*p, end);

	*t = s;
	while (s < end && is_token(*s))
		s++;
	*p = s;
	return (size_t)(s - *t);
}

bool mail_content_type(const char *v, size_t n, char *out, size_t cap)
{
	const char *p = v, *end = v + n, *type, *sub;
	size_t tn, sn;
	struct outbuf o;

	tn = read_token(&p, end, &type);
	p = mail_skip_cfws(p, end);
	if (tn == 0 || p >= end || *p != '/')
		return false;
	p++;
	sn = read_token(&p, end, &sub);
	if (sn == 0 || tn + sn + 1 >= cap)
		return false;
	out_init(&o, out, cap);
	for (size_t i = 0; i < tn; i++)
		out_put(&o, ascii_lower(type[i]));
	out_put(&o, '/');
	for (size_t i = 0; i < sn; i++)
		out_put(&o, ascii_lower(sub[i]));
	out_finish(&o);
	return true;
}

const char *mail_find_semicolon(const char *p, const char *end)
{
	while (p < end) {
		if (*p == '(') {
			const char *q = mail_skip_cfws(p, end);
			p = q > p ? q : p + 1;
			continue;
		}
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\' && end - p >= 2)
					p++;
			if (p < end)
				p++;
			continue;
		}
		if (*p == ';')
			return p;
		p++;
	}
	return end;
}

/* Past the next ';' outside quotes and comments, or end. */
static const char *after_semicolon(const char *p, const char *end)
{
	p = mail_find_semicolon(p, end);
	return p < end ? p + 1 : end;
}

/* A parameter value at *p (token or quoted string) into o. */
static void read_value(const char **p, const char *end, struct outbuf *o)
{
	const char *s = *p;

	if (s < end && *s == '"') {
		for (s++; s < end && *s != '"'; s++) {
			if (*s == '\\' && end - s >= 2)
				s++;
			if (*s != '\r' && *s != '\n')
				out_put(o, *s);
		}
		if (s < end)
			s++;
	} else {
		while (s < end && is_token(*s))
			out_put(o, *s++);
	}
	*p = s;
}

bool mail_param(const char *v, size_t n, const char *name, char *out, size_t cap)
{
	const char *p = v, *end = v + n, *attr;
	size_t an;

	if (cap)
		out[0] = '\0';
	p = after_semicolon(p, end);
	while (p < end) {
		an = read_token(&p, end, &attr);
		p = mail_skip_cfws(p, end);
		if (an > 0 && p < end && *p == '=' && word_is(attr, an, name)) {
			struct outbuf o;
			p = mail_skip_cfws(p + 1, end);
			out_init(&o, out, cap);
			read_value(&p, end, &o);
			out_finish(&o);
			if (o.cut && cap)
				out[0] = '\0';
			return !o.cut && cap > 0;
		}
		p = after_semicolon(p, end);
	}
	return false;
}

void mail_token_lower(const char *v, size_t n, char *out, size_t cap)
{
	const char *p = v, *t;
	size_t tn = read_token(&p, v + n, &t);
	struct outbuf o;

	out_init(&o, out, cap);
	for (size_t i = 0; i < tn; i++)
		out_put(&o, ascii_lower(t[i]));
	out_finish(&o);
}
