/*
 * imap_fetch.c - replies to the FETCH commands the probe sends (see
 * imap_parse.h).  Items are read in order at the top level of the FETCH
 * list and each value is skipped by its own syntax, so nothing quoted
 * inside a header block is ever taken for an item.  Written to be fuzzed
 * like imap_parse.c: every index checked, nothing allocates.
 */
#include "imap_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* "25-Nov-2026 14:00:00 +0100" -> Unix seconds. */
static bool parse_internaldate(const char *s, int64_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	char mon[4];
	int day, year, hh, mm, ss, zone, consumed = 0;
	char sign;
	const char *m;

	memset(&tm, 0, sizeof(tm));
	while (*s == ' ')
		s++;
	if (sscanf(s, "%2d-%3s-%4d %2d:%2d:%2d %c%4d%n", &day, mon, &year, &hh, &mm, &ss,
	           &sign, &zone, &consumed) != 8 || consumed == 0 || (sign != '+' && sign != '-'))
		return false;
	m = strstr(months, mon);
	if (!m || strlen(mon) != 3 || (m - months) % 3 != 0 || day < 1 || day > 31 ||
	    year < 1970 || year > 9999 || hh > 23 || mm > 59 || ss > 60 || zone > 1459 || zone < 0)
		return false;
	tm.tm_mday = day;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*out = (int64_t)timegm(&tm) - (sign == '-' ? -1 : 1) * (int64_t)((zone / 100) * 3600 + (zone % 100) * 60);
	return true;
}

/* The value of header field `name` (with its colon) in a header block of
 * len bytes whose line ends the reader turned into blanks: the first word
 * after a field name that starts the block or follows a blank; at most
 * dstlen-1 bytes, "" when absent. */
static void header_word(const char *block, size_t len, const char *name,
                        char *dst, size_t dstlen)
{
	size_t nl = strlen(name), i, n = 0;

	dst[0] = '\0';
	for (i = 0; i + nl <= len; i++)
		if ((i == 0 || block[i - 1] == ' ' || block[i - 1] == '\n') &&
		    strncasecmp(block + i, name, nl) == 0)
			break;
	if (i + nl > len)
		return;
	for (i += nl; i < len && block[i] == ' '; i++)
		;
	while (i < len && block[i] != ' ' && block[i] != ')' && block[i] != '\r' && block[i] != '\n' &&
	       n + 1 < dstlen)
		dst[n++] = block[i++];
	dst[n] = '\0';
}

/* One FETCH item value at *p: a number or atom, NIL, a "quoted" string, a
 * {n} literal (whose n bytes the reader kept inline), or a parenthesised
 * list (skipped whole, strings and literals inside included).  val and len
 * give the content of a string or literal, else the atom.  False where
 * the text ends inside the value (a truncated response). */
static bool fetch_value(const char **p, const char **val, size_t *len)
{
	const char *s = *p;
	int depth = 0;

	do {
		if (*s == '(') {
			depth++;
			s++;
		} else if (*s == ')' && depth > 0) {
			depth--;
			s++;
		} else if (*s == '"' || *s == '{') {
			if (!imap_string_span(&s, val, len))
				return false;
		} else if (*s == ' ') {
			s++;
		} else if (*s == '\0') {
			return false;
		} else {
			*val = s;
			while (*s && *s != ' ' && *s != '(' && *s != ')')
				s++;
			*len = (size_t)(s - *val);
		}
	} while (depth > 0);
	*p = s;
	return true;
}

/* One FETCH item name: an atom, with a [section] (which may hold blanks and
 * parentheses) and a <partial> where present. */
static bool fetch_item_name(const char **p, char *dst, size_t dstlen)
{
	const char *s = *p;
	size_t n = 0;

	while (*s && *s != ' ' && *s != ')' && *s != '(') {
		char close = *s == '[' ? ']' : *s == '<' ? '>' : '\0';
		if (n + 1 < dstlen)
			dst[n++] = *s;
		s++;
		if (close) {
			for (; *s && *s != close; s++)
				if (n + 1 < dstlen)
					dst[n++] = *s;
			if (*s != close)
				return false;
			if (n + 1 < dstlen)
				dst[n++] = *s;
			s++;
		}
	}
	dst[n] = '\0';
	*p = s;
	return n > 0;
}

/* What one item of a FETCH reply says, into out. */
static void fetch_take(struct imap_fetch *out, const char *name, const char *val, size_t len, bool cut)
{
	char tmp[64];

	if (strcasecmp(name, "UID") == 0) {
		const char *q = tmp;
		uint32_t uid;
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(len < 63 ? len : 63), val);
		if (imap_parse_u32(&q, &uid) && *q == '\0' && uid > 0) {
			out->uid = uid;
			out->has_uid = true;
		}
	} else if (strcasecmp(name, "INTERNALDATE") == 0) {
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(len < 63 ? len : 63), val);
		out->has_date = parse_internaldate(tmp, &out->internaldate);
	} else if (strncasecmp(name, "BODY[", 5) == 0 && !out->has_body) {
		snprintf(out->section, sizeof(out->section), "%s", name);
		out->body = val;
		out->body_len = len;
		out->body_cut = cut;
		out->has_body = true;
	}
}

/* A {n} literal the reader cut short (the response passed its cap): its
 * content runs to the end of the text.  Only at the end of a truncated
 * response; anywhere else a short literal is malformed. */
static bool cut_literal(const char *s, const char **val, size_t *len)
{
	uint32_t n;

	if (*s != '{')
		return false;
	s++;
	if (!imap_parse_u32(&s, &n))
		return false;
	if (*s == '+')
		s++;
	if (*s != '}')
		return false;
	*val = ++s;
	*len = strlen(s);
	return *len < n;
}

bool imap_parse_fetch(const char *text, bool truncated, struct imap_fetch *out)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	if (strncmp(p, "* ", 2) != 0)
		return false;
	p += 2;
	if (!imap_parse_u32(&p, &out->seq) || strncasecmp(p, " FETCH (", 8) != 0)
		return false;
	p += 8;
	/* Items in order, each value skipped by its own syntax, so a header
	 * literal that holds "UID 42" can never be read as the message's UID. */
	for (;;) {
		char name[64];
		const char *val = "";
		size_t len = 0;

		while (*p == ' ')
			p++;
		if (*p == ')' || *p == '\0')
			break;
		if (!fetch_item_name(&p, name, sizeof(name)))
			break;
		while (*p == ' ')
			p++;
		if (fetch_value(&p, &val, &len)) {
			fetch_take(out, name, val, len, false);
			continue;
		}
		if (truncated && cut_literal(p, &val, &len))
			fetch_take(out, name, val, len, true);
		break;
	}
	return true;
}

void imap_fetch_field_word(const char *block, size_t len, const char *name, char *dst, size_t dstlen)
{
	header_word(block, len, name, dst, dstlen);
}

bool imap_parse_fetch_probe(const char *text, struct imap_fetched *out)
{
	struct imap_fetch f;

	memset(out, 0, sizeof(*out));
	if (!imap_parse_fetch(text, false, &f))
		return false;
	out->uid = f.uid;
	out->has_uid = f.has_uid;
	out->has_date = f.has_date;
	out->internaldate = f.internaldate;
	if (f.has_body && strncasecmp(f.section, "BODY[HEADER.FIELDS", 18) == 0) {
		out->has_header = true;
		header_word(f.body, f.body_len, "X-Mail-E2E-Probe:", out->token, sizeof(out->token));
		header_word(f.body, f.body_len, "Message-ID:", out->message_id, sizeof(out->message_id));
	}
	return out->has_uid && out->has_header;
}

bool imap_parse_fetch_section(const char *text, const char *section, uint32_t *uid,
                              const char **block, size_t *len)
{
	struct imap_fetch f;

	if (!imap_parse_fetch(text, false, &f) || !f.has_body || !f.has_uid ||
	    strncasecmp(f.section, section, strlen(section)) != 0)
		return false;
	*uid = f.uid;
	*block = f.body;
	*len = f.body_len;
	return true;
}
