/*
 * imap_parse.c - see imap_parse.h.  Written to be fuzzed: every index is
 * checked against the buffer it reads, numbers are parsed with overflow
 * checks, and nothing allocates.
 */
#include "imap_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <strings.h>

void imap_reader_init(struct imap_reader *r)
{
	memset(r, 0, sizeof(*r));
}

/* Where responses are kept, and how many bytes fit (NUL excluded). */
static char *reader_store(struct imap_reader *r)
{
	return r->big ? r->big : r->text;
}

static size_t reader_room(const struct imap_reader *r)
{
	return r->big ? r->big_cap - 1 : IMAP_KEEP;
}

void imap_reader_use(struct imap_reader *r, char *buf, size_t cap)
{
	char *from = reader_store(r);

	if (buf && cap < 2)
		buf = NULL;
	r->big = buf;
	r->big_cap = buf ? cap : 0;
	if (r->len > reader_room(r)) {
		r->len = reader_room(r);
		r->truncated = true;
	}
	memmove(reader_store(r), from, r->len);
}

static void reader_keep(struct imap_reader *r, char c)
{
	if (r->len < reader_room(r))
		reader_store(r)[r->len++] = c;
	else
		r->truncated = true;
}

static void tail_push(struct imap_reader *r, char c)
{
	if (r->tail_len == sizeof(r->tail)) {
		memmove(r->tail, r->tail + 1, sizeof(r->tail) - 1);
		r->tail_len--;
	}
	r->tail[r->tail_len++] = c;
}

/* Does the segment just ended finish with "{digits}" or "{digits+}"?  The
 * literal length is capped far above anything sane; a bigger number is
 * treated as no literal, which leaves the stream to the caller's timeout. */
static bool tail_literal(const struct imap_reader *r, uint64_t *size)
{
	size_t i = r->tail_len;
	uint64_t v = 0, mul = 1;
	size_t digits = 0;

	if (i == 0 || r->tail[i - 1] != '}')
		return false;
	i--;
	if (i > 0 && r->tail[i - 1] == '+')
		i--;
	while (i > 0 && isdigit((unsigned char)r->tail[i - 1])) {
		if (++digits > 12)
			return false;
		v += (uint64_t)(r->tail[i - 1] - '0') * mul;
		mul *= 10;
		i--;
	}
	if (digits == 0 || i == 0 || r->tail[i - 1] != '{')
		return false;
	*size = v;
	return true;
}

static void reader_reset(struct imap_reader *r)
{
	r->len = 0;
	r->truncated = false;
	r->tail_len = 0;
	r->in_literal = false;
	r->literal_left = 0;
}

int imap_reader_feed(struct imap_reader *r, const char *data, size_t n,
                     imap_response_cb cb, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		char c = data[i];
		uint64_t lit;

		if (r->in_literal) {
			/* Keep what fits (control bytes as blanks, so the text stays
			 * one printable line; in a caller's buffer line ends stay,
			 * only NUL turns blank), skip the rest in bulk. */
			size_t avail = n - i;
			size_t skip = r->literal_left < avail ? (size_t)r->literal_left : avail;
			size_t room = reader_room(r) - r->len;
			size_t keep = skip < room ? skip : room;
			char *dst = reader_store(r);
			for (size_t k = 0; k < keep; k++) {
				unsigned char b = (unsigned char)data[i + k];
				if (r->big)
					dst[r->len++] = b == 0 ? ' ' : (char)b;
				else
					dst[r->len++] = (b < 0x20 || b == 0x7f) ? ' ' : (char)b;
			}
			if (keep < skip)
				r->truncated = true;
			r->literal_left -= skip;
			i += skip - 1;
			if (r->literal_left == 0)
				r->in_literal = false;
			continue;
		}
		if (c == '\r')
			continue;       /* CR only matters as part of CRLF */
		if (c != '\n') {
			reader_keep(r, c);
			tail_push(r, c);
			continue;
		}
		if (tail_literal(r, &lit)) {
			r->tail_len = 0;
			if (lit > 0) {
				r->in_literal = true;
				r->literal_left = lit;
			}
			continue;       /* the response goes on after the literal */
		}
		reader_store(r)[r->len] = '\0';
		{
			bool truncated = r->truncated;
			int rc;
			reader_reset(r);
			rc = cb(ctx, reader_store(r), truncated);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* Copy the next space-delimited atom of *p into dst (at most dstlen-1
 * bytes, the rest skipped) and advance *p past it and one space. */
static size_t next_atom(const char **p, char *dst, size_t dstlen)
{
	size_t n = 0;
	const char *s = *p;

	while (*s && *s != ' ') {
		if (n + 1 < dstlen)
			dst[n++] = *s;
		s++;
	}
	if (dstlen)
		dst[n] = '\0';
	if (*s == ' ')
		s++;
	*p = s;
	return n;
}

static enum imap_status status_word(const char *w)
{
	if (strcasecmp(w, "OK") == 0) return IMAP_ST_OK;
	if (strcasecmp(w, "NO") == 0) return IMAP_ST_NO;
	if (strcasecmp(w, "BAD") == 0) return IMAP_ST_BAD;
	if (strcasecmp(w, "BYE") == 0) return IMAP_ST_BYE;
	if (strcasecmp(w, "PREAUTH") == 0) return IMAP_ST_PREAUTH;
	return IMAP_ST_NONE;
}

void imap_parse_response(const char *text, struct imap_response *out)
{
	const char *p = text;
	char word[16];

	memset(out, 0, sizeof(*out));
	out->rest = "";
	if (text[0] == '+' && (text[1] == ' ' || text[1] == '\0')) {
		out->kind = IMAP_CONTINUATION;
		out->rest = text[1] ? text + 2 : text + 1;
		return;
	}
	if (text[0] == '*' && text[1] == ' ') {
		out->kind = IMAP_UNTAGGED;
		p = text + 2;
	} else {
		if (next_atom(&p, out->tag, sizeof(out->tag)) == 0 || *p == '\0') {
			out->kind = IMAP_GARBAGE;
			out->rest = text;
			return;
		}
		out->kind = IMAP_TAGGED;
	}
	{
		const char *after = p;
		next_atom(&after, word, sizeof(word));
		out->status = status_word(word);
		out->rest = out->status == IMAP_ST_NONE ? p : after;
	}
	if (out->kind == IMAP_TAGGED && out->status == IMAP_ST_NONE)
		out->kind = IMAP_GARBAGE;
}

/* Servers may end any reply with blanks (Yahoo, AOL and GreenMail end
 * "* SEARCH 42 " so); a parser that wants the end of a line accepts them. */
static bool only_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0';
}

bool imap_parse_u32(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return false;
		s++;
	}
	*out = (uint32_t)v;
	*p = s;
	return true;
}

bool imap_parse_exists(const char *text, uint32_t *n)
{
	const char *p = text;
	uint32_t v;

	if (strncmp(p, "* ", 2) != 0)
		return false;
	p += 2;
	if (!imap_parse_u32(&p, &v) || *p != ' ')
		return false;
	p++;
	if (strncasecmp(p, "EXISTS", 6) != 0 || !only_blanks(p + 6))
		return false;
	*n = v;
	return true;
}

bool imap_parse_code_number(const char *rest, const char *name, uint32_t *out)
{
	size_t nl = strlen(name);
	const char *p = rest;

	if (*p != '[' || strncasecmp(p + 1, name, nl) != 0 || p[1 + nl] != ' ')
		return false;
	p += 2 + nl;
	if (!imap_parse_u32(&p, out) || *p != ']')
		return false;
	return true;
}

bool imap_parse_search(const char *text, uint32_t *uids, size_t max, size_t *count)
{
	const char *p = text;
	size_t n = 0;

	*count = 0;
	if (strncasecmp(p, "* SEARCH", 8) != 0 || (p[8] != '\0' && p[8] != ' '))
		return false;
	p += 8;
	while (*p == ' ') {
		uint32_t v;
		p++;
		if (*p == '(' || only_blanks(p))   /* (MODSEQ ...) is not ours */
			break;
		if (!imap_parse_u32(&p, &v))
			return false;
		if (n < max)
			uids[n++] = v;
	}
	if (!only_blanks(p) && *p != '(')
		return false;
	*count = n;
	return true;
}

/* Find the capability list in text: after "* CAPABILITY " or inside
 * "[CAPABILITY ...]".  Returns its start and sets *end, or NULL. */
static const char *capability_list(const char *text, const char **end)
{
	const char *p;

	if (strncasecmp(text, "* CAPABILITY ", 13) == 0) {
		p = text + 13;
		*end = p + strlen(p);
		return p;
	}
	p = strchr(text, '[');
	if (p && strncasecmp(p + 1, "CAPABILITY ", 11) == 0) {
		const char *close = strchr(p, ']');
		p += 12;
		*end = close ? close : p + strlen(p);
		return p;
	}
	return NULL;
}

bool imap_is_capability(const char *text)
{
	const char *end;
	return capability_list(text, &end) != NULL;
}

/* Does the blank-separated list [p, end) hold word (case-insensitive)? */
static bool list_has_word(const char *p, const char *end, const char *word)
{
	size_t wl = strlen(word);

	while (p < end) {
		const char *w = p;
		while (p < end && *p != ' ')
			p++;
		if ((size_t)(p - w) == wl && strncasecmp(w, word, wl) == 0)
			return true;
		while (p < end && *p == ' ')
			p++;
	}
	return false;
}

bool imap_capability_has(const char *text, const char *cap)
{
	const char *end;
	const char *p = capability_list(text, &end);

	return p && list_has_word(p, end, cap);
}

/* An IMAP string at *p: "quoted" (with \-escapes), {n} followed by the
 * literal kept inline, or an atom.  Copies at most dstlen-1 bytes. */
/* A "quoted" string or a {n} literal (kept inline) at *p, as the span of
 * its raw content (a quoted one with its backslashes); *p moves past it.
 * False if *p starts neither, or the text ends inside it. */
bool imap_string_span(const char **p, const char **val, size_t *len)
{
	const char *s = *p;

	if (*s == '"') {
		*val = ++s;
		for (; *s && *s != '"'; s++)
			if (*s == '\\' && s[1])
				s++;
		if (*s != '"')
			return false;
		*len = (size_t)(s - *val);
		s++;
	} else if (*s == '{') {
		uint32_t n;
		s++;
		if (!imap_parse_u32(&s, &n))
			return false;
		if (*s == '+')
			s++;
		if (*s != '}')
			return false;
		*val = ++s;
		if (strnlen(s, n) < n)
			return false;
		*len = n;
		s += n;
	} else {
		return false;
	}
	*p = s;
	return true;
}

static bool parse_astring(const char **p, char *dst, size_t dstlen)
{
	const char *s = *p, *val;
	size_t n = 0, len;

	if (*s == '"' || *s == '{') {
		bool quoted = *s == '"';
		if (!imap_string_span(&s, &val, &len))
			return false;
		for (size_t i = 0; i < len; i++) {
			if (quoted && val[i] == '\\' && i + 1 < len)
				i++;   /* \" and \\ stand for " and \ */
			if (n + 1 < dstlen)
				dst[n++] = val[i];
		}
	} else {
		while (*s && *s != ' ' && *s != '(' && *s != ')') {
			if (n + 1 < dstlen)
				dst[n++] = *s;
			s++;
		}
		if (n == 0)
			return false;
	}
	if (dstlen)
		dst[n] = '\0';
	*p = s;
	return true;
}

bool imap_parse_list(const char *text, unsigned *attrs, char *name, size_t namelen)
{
	const char *p = text, *close;
	char delim[8];

	*attrs = 0;
	if (strncasecmp(p, "* LIST (", 8) != 0)
		return false;
	p += 8;
	close = strchr(p, ')');
	if (!close)
		return false;
	if (list_has_word(p, close, "\\Junk"))
		*attrs |= IMAP_LIST_JUNK;
	if (list_has_word(p, close, "\\Trash"))
		*attrs |= IMAP_LIST_TRASH;
	if (list_has_word(p, close, "\\All"))
		*attrs |= IMAP_LIST_ALL;
	if (list_has_word(p, close, "\\Noselect") || list_has_word(p, close, "\\NonExistent"))
		*attrs |= IMAP_LIST_NOSELECT;
	p = close + 1;
	if (*p++ != ' ')
		return false;
	if (!parse_astring(&p, delim, sizeof(delim)))   /* "." or NIL */
		return false;
	if (*p++ != ' ')
		return false;
	return parse_astring(&p, name, namelen);
}

/* A UID set "4:6,9" into uids (at most max, ranges bounded by max too). */
static bool parse_uid_set(const char **p, uint32_t *uids, size_t max, size_t *count)
{
	const char *s = *p;

	*count = 0;
	for (;;) {
		uint32_t lo, hi;
		if (!imap_parse_u32(&s, &lo))
			return false;
		hi = lo;
		if (*s == ':') {
			s++;
			if (!imap_parse_u32(&s, &hi))
				return false;
		}
		if (hi < lo) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		for (uint64_t u = lo; u <= hi && *count < max; u++)
			uids[(*count)++] = (uint32_t)u;
		if (*s != ',')
			break;
		s++;
	}
	*p = s;
	return true;
}

bool imap_parse_copyuid(const char *rest, uint32_t *uids, size_t max, size_t *count)
{
	const char *p = strchr(rest, '[');
	uint32_t validity, src[1];
	size_t nsrc;

	*count = 0;
	if (!p || strncasecmp(p + 1, "COPYUID ", 8) != 0)
		return false;
	p += 9;
	if (!imap_parse_u32(&p, &validity) || *p++ != ' ' ||
	    !parse_uid_set(&p, src, 1, &nsrc) || *p++ != ' ' ||
	    !parse_uid_set(&p, uids, max, count) || *p != ']') {
		*count = 0;
		return false;
	}
	return true;
}

bool imap_parse_status(const char *text, struct imap_status_reply *out)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	if (strncasecmp(p, "* STATUS ", 9) != 0)
		return false;
	p += 9;
	if (!parse_astring(&p, out->name, sizeof(out->name)))
		return false;
	while (*p == ' ')
		p++;
	if (*p++ != '(')
		return false;
	while (*p && *p != ')') {
		char item[16];
		uint32_t *slot = NULL;
		bool *has = NULL;
		while (*p == ' ')
			p++;
		next_atom(&p, item, sizeof(item));
		if (strcasecmp(item, "UIDNEXT") == 0)
			slot = &out->uidnext, has = &out->has_uidnext;
		else if (strcasecmp(item, "MESSAGES") == 0)
			slot = &out->messages, has = &out->has_messages;
		else if (strcasecmp(item, "UIDVALIDITY") == 0)
			slot = &out->uidvalidity, has = &out->has_uidvalidity;
		if (slot && imap_parse_u32(&p, slot) && (*p == ' ' || *p == ')'))
			*has = true;
		/* Any other value (HIGHESTMODSEQ may pass 32 bits): skipped. */
		while (*p && *p != ' ' && *p != ')')
			p++;
	}
	return true;
}

bool imap_parse_status_uidnext(const char *text, uint32_t *uidnext)
{
	struct imap_status_reply st;

	if (!imap_parse_status(text, &st) || !st.has_uidnext)
		return false;
	*uidnext = st.uidnext;
	return true;
}
