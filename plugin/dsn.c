/*
 * dsn.c - see dsn.h.  Written to be fuzzed: every scan is bounded by the
 * end of the part it reads, decoding never writes past its buffer, and
 * nothing allocates.
 */
#include "dsn.h"

#include <string.h>

#include "ascii.h"
#include "mail_header.h"

struct rcpt {
	char action[16], status[16];
	char diagnostic[512], remote_mta[256];
	char final[256], orig[256];
	bool seen;               /* the group has a recipient field */
};

struct dsn_ctx {
	struct dsn_report *out;
	const char *want;        /* normalised want_rcpt, "" for none */
	int best_rank;           /* of the group copied into out, -1 for none */
	char buf[DSN_DECODE_MAX];
};

static bool eq_nocase(const char *a, const char *b)
{
	while (*a && ascii_lower(*a) == ascii_lower(*b))
		a++, b++;
	return *a == '\0' && *b == '\0';
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl : end;
}

static const char *next_line(const char *eol, const char *end)
{
	return eol < end ? eol + 1 : end;
}

/* --- value helpers -------------------------------------------------------- */

/* In place: drop a leading "type;" (a word without blanks, such as
 * "rfc822;", "dns;", "smtp;", "X-Postfix;") and the blanks after it. */
static void strip_type(char *s)
{
	char *semi = strchr(s, ';'), *p = s;

	if (semi == NULL || semi == s)
		return;
	for (; p < semi; p++)
		if (*p == ' ')
			return;
	p = semi + 1;
	while (*p == ' ')
		p++;
	memmove(s, p, strlen(p) + 1);
}

/* In place: "<a@b>" -> "a@b". */
static void strip_angles(char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
}

/* An address field value ("rfc822; <a@b>") into out: bare address. */
static void read_address(const char *v, size_t n, char *out, size_t cap)
{
	char tmp[1024];

	mail_unfold(v, n, tmp, sizeof(tmp));
	strip_type(tmp);
	strip_angles(tmp);
	mail_copy(out, cap, tmp, strlen(tmp));
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* xtext (RFC 3461): "+XX" is the byte XX.  Control bytes are dropped. */
static void read_xtext(const char *v, size_t n, char *out, size_t cap)
{
	char tmp[256], dec[256];
	size_t len = mail_unfold(v, n, tmp, sizeof(tmp)), k = 0;

	for (size_t i = 0; i < len; i++) {
		char c = tmp[i];
		if (c == '+' && i + 2 < len && hex_val(tmp[i + 1]) >= 0 && hex_val(tmp[i + 2]) >= 0) {
			c = (char)(hex_val(tmp[i + 1]) * 16 + hex_val(tmp[i + 2]));
			i += 2;
		}
		if ((unsigned char)c < 0x20 || c == 0x7f)
			continue;
		dec[k++] = c;
	}
	mail_copy(out, cap, dec, k);
}

/* Status "5.1.1 (comment)" -> "5.1.1". */
static void read_status(const char *v, size_t n, char *out, size_t cap)
{
	char tmp[64];
	size_t len = mail_unfold(v, n, tmp, sizeof(tmp)), k = 0;

	while (k < len && ((tmp[k] >= '0' && tmp[k] <= '9') || tmp[k] == '.'))
		k++;
	mail_copy(out, cap, tmp, k);
}

/* "dns; mx.b.test. (192.0.2.2, the server ...)" -> "mx.b.test". */
static void read_mta(const char *v, size_t n, char *out, size_t cap)
{
	char tmp[1024], *sp;
	size_t len;

	mail_unfold(v, n, tmp, sizeof(tmp));
	strip_type(tmp);
	if ((sp = strchr(tmp, ' ')) != NULL)
		*sp = '\0';
	len = strlen(tmp);
	if (len > 1 && tmp[len - 1] == '.')
		tmp[--len] = '\0';
	mail_copy(out, cap, tmp, len);
}

static void read_diagnostic(const char *v, size_t n, char *out, size_t cap)
{
	char tmp[1024];

	mail_unfold(v, n, tmp, sizeof(tmp));
	strip_type(tmp);
	mail_copy(out, cap, tmp, strlen(tmp));
}

/* --- recipient choice ----------------------------------------------------- */

static int rank(const struct dsn_ctx *c, const struct rcpt *r)
{
	if (c->want[0] && (eq_nocase(r->final, c->want) || eq_nocase(r->orig, c->want)))
		return 3;
	if (strcmp(r->action, "failed") == 0)
		return 2;
	if (strcmp(r->action, "delayed") == 0)
		return 1;
	return 0;
}

static void consider(struct dsn_ctx *c, const struct rcpt *r)
{
	struct dsn_report *o = c->out;
	int k = rank(c, r);

	if (o->recipients < 1000000)
		o->recipients++;
	if (k <= c->best_rank)
		return;
	c->best_rank = k;
	o->rcpt_matched = k == 3;
	memcpy(o->action, r->action, sizeof(o->action));
	memcpy(o->status, r->status, sizeof(o->status));
	memcpy(o->diagnostic, r->diagnostic, sizeof(o->diagnostic));
	memcpy(o->remote_mta, r->remote_mta, sizeof(o->remote_mta));
	memcpy(o->recipient, r->final[0] ? r->final : r->orig, sizeof(o->recipient));
}

/* --- the delivery-status part --------------------------------------------- */

static void group_field(struct dsn_ctx *c, const struct mail_field *f, struct rcpt *r)
{
	struct dsn_report *o = c->out;

	if (mail_field_is(f, "Original-Envelope-Id")) {
		if (o->envid[0] == '\0')
			read_xtext(f->value, f->value_len, o->envid, sizeof(o->envid));
	} else if (mail_field_is(f, "Reporting-MTA")) {
		if (o->reporting_mta[0] == '\0')
			read_mta(f->value, f->value_len, o->reporting_mta, sizeof(o->reporting_mta));
	} else if (mail_field_is(f, "Final-Recipient")) {
		read_address(f->value, f->value_len, r->final, sizeof(r->final));
		r->seen = true;
	} else if (mail_field_is(f, "Original-Recipient")) {
		read_address(f->value, f->value_len, r->orig, sizeof(r->orig));
		r->seen = true;
	} else if (mail_field_is(f, "Action")) {
		mail_token_lower(f->value, f->value_len, r->action, sizeof(r->action));
		r->seen = true;
	} else if (mail_field_is(f, "Status")) {
		read_status(f->value, f->value_len, r->status, sizeof(r->status));
	} else if (mail_field_is(f, "Remote-MTA")) {
		read_mta(f->value, f->value_len, r->remote_mta, sizeof(r->remote_mta));
	} else if (mail_field_is(f, "Diagnostic-Code")) {
		read_diagnostic(f->value, f->value_len, r->diagnostic, sizeof(r->diagnostic));
	}
}

/* Skip empty lines (and lines of blanks only) at p. */
static const char *skip_empty_lines(const char *p, const char *end)
{
	while (p < end) {
		const char *eol = line_end(p, end), *q = p;
		while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q != eol)
			break;
		p = next_line(eol, end);
	}
	return p;
}

/* Groups of fields separated by empty lines; a group with a recipient
 * field is a per-recipient group (the per-message one has none). */
static void read_delivery_status(struct dsn_ctx *c, const char *p, const char *end)
{
	struct rcpt r;
	struct mail_field f;

	while ((p = skip_empty_lines(p, end)) < end) {
		const char *start = p;
		memset(&r, 0, sizeof(r));
		while (mail_field_next(&p, end, &f))
			group_field(c, &f, &r);
		if (r.seen)
			consider(c, &r);
		if (p == start)
			break;         /* cannot happen; never loop without progress */
	}
	c->out->is_dsn = true;
}

/* --- returned headers ----------------------------------------------------- */

static void read_returned(struct dsn_ctx *c, const char *p, const char *end)
{
	struct dsn_report *o = c->out;
	struct mail_field f;

	while (mail_field_next(&p, end, &f)) {
		if (mail_field_is(&f, "Message-ID") && o->message_id[0] == '\0')
			mail_unfold(f.value, f.value_len, o->message_id, sizeof(o->message_id));
		else if (mail_field_is(&f, "X-Mail-E2E-Probe") && o->probe_token[0] == '\0')
			mail_unfold(f.value, f.value_len, o->probe_token, sizeof(o->probe_token));
	}
}

/* --- transfer encodings --------------------------------------------------- */

static size_t decode_qp(const char *p, const char *end, char *out, size_t cap)
{
	size_t k = 0;

	while (p < end && k < cap) {
		if (*p != '=') {
			out[k++] = *p++;
			continue;
		}
		if (end - p >= 3 && hex_val(p[1]) >= 0 && hex_val(p[2]) >= 0) {
			out[k++] = (char)(hex_val(p[1]) * 16 + hex_val(p[2]));
			p += 3;
			continue;
		}
		{
			/* A soft line break: "=", blanks, line end. */
			const char *q = p + 1;
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			if (q < end && *q == '\r')
				q++;
			if (q >= end || *q == '\n') {
				p = q < end ? q + 1 : end;
				continue;
			}
		}
		out[k++] = *p++;
	}
	return k;
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

static size_t decode_b64(const char *p, const char *end, char *out, size_t cap)
{
	size_t k = 0;
	unsigned acc = 0;
	int bits = 0;

	for (; p < end && *p != '=' && k < cap; p++) {
		int v = b64_val(*p);
		if (v < 0)
			continue;      /* line ends, blanks, junk */
		acc = ((acc << 6) | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (char)((acc >> bits) & 0xff);
		}
	}
	return k;
}

/* The part body [*p, *end), decoded into c->buf when its encoding asks. */
static void decode_body(struct dsn_ctx *c, const char *cte, const char **p, const char **end)
{
	size_t n;

	if (strcmp(cte, "quoted-printable") == 0)
		n = decode_qp(*p, *end, c->buf, sizeof(c->buf));
	else if (strcmp(cte, "base64") == 0)
		n = decode_b64(*p, *end, c->buf, sizeof(c->buf));
	else
		return;
	*p = c->buf;
	*end = c->buf + n;
}

/* --- MIME ----------------------------------------------------------------- */

static void read_part(struct dsn_ctx *c, const char *p, const char *end)
{
	char type[64] = "text/plain", cte[32] = "";
	struct mail_field f;
	bool have_type = false;

	while (mail_field_next(&p, end, &f)) {
		if (mail_field_is(&f, "Content-Type") && !have_type)
			have_type = mail_content_type(f.value, f.value_len, type, sizeof(type));
		else if (mail_field_is(&f, "Content-Transfer-Encoding") && cte[0] == '\0')
			mail_token_lower(f.value, f.value_len, cte, sizeof(cte));
	}
	if (!have_type)
		strcpy(type, "text/plain");
	p = mail_body(p, end);
	if (strcmp(type, "message/delivery-status") == 0 ||
	    strcmp(type, "message/global-delivery-status") == 0) {
		decode_body(c, cte, &p, &end);
		read_delivery_status(c, p, end);
	} else if (strcmp(type, "text/rfc822-headers") == 0 || strcmp(type, "message/rfc822") == 0 ||
	           strcmp(type, "message/global") == 0 || strcmp(type, "message/global-headers") == 0) {
		decode_body(c, cte, &p, &end);
		read_returned(c, p, end);
	}
}

/* Is the line [p, ce) "--boundary" (+ blanks) or "--boundary--"? */
static bool delimiter(const char *p, const char *ce, const char *b, size_t bn, bool *close)
{
	const char *q;

	if ((size_t)(ce - p) < bn + 2 || p[0] != '-' || p[1] != '-' || memcmp(p + 2, b, bn) != 0)
		return false;
	q = p + 2 + bn;
	*close = ce - q >= 2 && q[0] == '-' && q[1] == '-';
	if (*close)
		return true;
	while (q < ce && (*q == ' ' || *q == '\t'))
		q++;
	return q == ce;
}

/* Walk the top-level parts of a multipart body. */
static void read_parts(struct dsn_ctx *c, const char *p, const char *end, const char *b)
{
	size_t bn = strlen(b);
	const char *part = NULL;

	while (p < end) {
		const char *eol = line_end(p, end), *ce = eol;
		bool close;
		if (ce > p && ce[-1] == '\r')
			ce--;
		if (delimiter(p, ce, b, bn, &close)) {
			if (part) {
				const char *pe = p;   /* the line end before belongs to it */
				if (pe > part && pe[-1] == '\n')
					pe--;
				if (pe > part && pe[-1] == '\r')
					pe--;
				read_part(c, part, pe);
			}
			if (close)
				return;
			part = next_line(eol, end);
		}
		p = next_line(eol, end);
	}
	if (part)
		read_part(c, part, end);  /* cut short: no close delimiter */
}

/* Top-level header: a multipart/report of delivery status with a boundary.
 * *body is set to where the body starts. */
static bool top_is_report(const char *msg, const char *end, char *b, size_t cap, const char **body)
{
	const char *p = msg;
	struct mail_field f;
	bool seen = false, ok = false;

	while (mail_field_next(&p, end, &f)) {
		char type[32], rtype[32];
		if (seen || !mail_field_is(&f, "Content-Type"))
			continue;
		seen = true;
		ok = mail_content_type(f.value, f.value_len, type, sizeof(type)) &&
		     strcmp(type, "multipart/report") == 0 &&
		     mail_param(f.value, f.value_len, "report-type", rtype, sizeof(rtype)) &&
		     (eq_nocase(rtype, "delivery-status") || eq_nocase(rtype, "global-delivery-status")) &&
		     mail_param(f.value, f.value_len, "boundary", b, cap) && b[0] != '\0';
	}
	*body = mail_body(p, end);
	return ok;
}

/* want_rcpt without blanks, "rfc822;" and <>. */
static void normalise_want(const char *want, char *out, size_t cap)
{
	if (want == NULL) {
		out[0] = '\0';
		return;
	}
	read_address(want, strlen(want), out, cap);
}

bool dsn_read(const char *msg, size_t len, const char *want_rcpt, struct dsn_report *out)
{
	struct dsn_ctx c;
	char boundary[128], want[256];
	const char *body, *end = msg + len;

	memset(out, 0, sizeof(*out));
	if (!top_is_report(msg, end, boundary, sizeof(boundary), &body))
		return false;
	normalise_want(want_rcpt, want, sizeof(want));
	c.out = out;
	c.want = want;
	c.best_rank = -1;
	read_parts(&c, body, end, boundary);
	return out->is_dsn;
}
