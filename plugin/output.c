/*
 * output.c - see output.h.
 *
 * A small append-only writer (struct out) collects the line; any overflow
 * marks it failed, so the caller gets -1 rather than a silently cut line.
 */
#include "output.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth_methods.h"
#include "output_rep.h"
#include "output_mx.h"

struct out {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->overflow || o->len + n >= o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	/* Straight into the line: no intermediate buffer to outgrow. */
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = true;
		o->buf[o->len] = '\0';
		return;
	}
	o->len += (size_t)n;
}

/* --- line protocol escaping ---------------------------------------------- */

static size_t utf8_len(const unsigned char *s);

/* Escape s, backslash-escaping every byte in `special`; control characters
 * become a space (line protocol cannot carry them). */
static ssize_t escape_set(const char *s, const char *special, bool backslash_to_slash,
                          const char *empty_as, char *dst, size_t dstlen)
{
	struct out o = { dst, dstlen, 0, false };
	const unsigned char *p;

	if (dstlen == 0)
		return -1;
	dst[0] = '\0';
	if (!*s && empty_as)
		s = empty_as;
	for (p = (const unsigned char *)s; *p; ) {
		size_t n = utf8_len(p);
		char ch = (char)*p;
		if (n == 0) {
			/* Line protocol is UTF-8: a server's stray byte becomes U+FFFD. */
			puts_(&o, "\xef\xbf\xbd");
			p++;
			continue;
		}
		if (n > 1) {
			put(&o, (const char *)p, n);
			p += n;
			continue;
		}
		p++;
		if ((unsigned char)ch < 0x20 || ch == 0x7f)
			ch = ' ';
		if (ch == '\\' && backslash_to_slash)
			ch = '/';
		if (strchr(special, ch))
			put(&o, "\\", 1);
		put(&o, &ch, 1);
	}
	return o.overflow ? -1 : (ssize_t)o.len;
}

ssize_t lp_escape_measurement(const char *s, char *dst, size_t dstlen)
{
	return escape_set(s, ", ", true, "-", dst, dstlen);
}

/* A backslash in a tag value would escape the separator after it if it came
 * last; no valid config puts one there (addresses and hosts are checked), so
 * the rare one left is written as '/'. */
ssize_t lp_escape_tag(const char *s, char *dst, size_t dstlen)
{
	return escape_set(s, ", =", true, "-", dst, dstlen);
}

ssize_t lp_escape_field_string(const char *s, char *dst, size_t dstlen)
{
	return escape_set(s, "\"\\", false, NULL, dst, dstlen);
}

/* --- JSON escaping ------------------------------------------------------- */

/* Length of a valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned cp;

	if (s[0] < 0x80) return 1;
	if ((s[0] & 0xe0) == 0xc0) { n = 2; cp = s[0] & 0x1f; }
	else if ((s[0] & 0xf0) == 0xe0) { n = 3; cp = s[0] & 0x0f; }
	else if ((s[0] & 0xf8) == 0xf0) { n = 4; cp = s[0] & 0x07; }
	else return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

ssize_t json_escape(const char *s, char *dst, size_t dstlen)
{
	struct out o = { dst, dstlen, 0, false };
	const unsigned char *p = (const unsigned char *)s;

	if (dstlen == 0)
		return -1;
	dst[0] = '\0';
	while (*p) {
		size_t n;
		if (*p == '"' || *p == '\\') {
			put(&o, "\\", 1);
			put(&o, (const char *)p, 1);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			putf(&o, "\\u%04x", *p);
			p++;
		} else if ((n = utf8_len(p)) > 0) {
			put(&o, (const char *)p, n);
			p += n;
		} else {
			puts_(&o, "\xef\xbf\xbd");   /* U+FFFD */
			p++;
		}
	}
	return o.overflow ? -1 : (ssize_t)o.len;
}

/* --- shared pieces -------------------------------------------------------- */

static void server_name(const char *host, int port, char *dst, size_t dstlen)
{
	bool v6 = strchr(host, ':') != NULL;
	snprintf(dst, dstlen, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

/* The smtp_server tag: the submission server, or the MX host (SPEC §12);
 * false when there is none (no MX host tried). */
static bool smtp_server(const struct route *r, const struct probe_result *res, char *dst, size_t dstlen)
{
	if (r->smtp_via == SMTP_VIA_MX)
		return output_mx_server(&res->mx, dst, dstlen) > 0;
	server_name(r->smtp_host, r->smtp_port, dst, dstlen);
	return true;
}

/* A fragment output_mx.c wrote (-1: it did not fit). */
static void put_fragment(struct out *o, ssize_t n, const char *frag)
{
	if (n < 0)
		o->overflow = true;
	else
		put(o, frag, (size_t)n);
}

static bool reached(double t) { return t >= 0 && isfinite(t); }

/* Durations in the output: only when both ends were reached. */
static bool span(double from, double to, double *out)
{
	if (!reached(from) || !reached(to) || to < from)
		return false;
	*out = to - from;
	return true;
}

/* SPEC §13's fields, where they go in either format (output_rep.c). */
static void rep_fields(struct out *o, enum out_format fmt, const struct probe_result *res)
{
	char buf[OUTPUT_REP_MAX];
	ssize_t n = output_rep(fmt, &res->rep, buf, sizeof(buf));

	if (n < 0)
		o->overflow = true;
	else
		put(o, buf, (size_t)n);
}

/* --- influx --------------------------------------------------------------- */

static void lp_tag(struct out *o, const char *key, const char *value)
{
	char esc[1024];

	if (lp_escape_tag(value, esc, sizeof(esc)) < 0) {
		o->overflow = true;
		return;
	}
	putf(o, ",%s=%s", key, esc);
}

static void lp_float(struct out *o, bool *first, const char *key, double v)
{
	if (!isfinite(v))
		return;
	putf(o, "%s%s=%.6f", *first ? " " : ",", key, v);
	*first = false;
}

static void lp_int(struct out *o, bool *first, const char *key, long long v)
{
	putf(o, "%s%s=%lldi", *first ? " " : ",", key, v);
	*first = false;
}

/* A string field of status-code characters only (digits and dots, checked
 * where it was read), or nothing when empty. */
static void lp_word(struct out *o, const char *key, const char *v)
{
	if (v[0])
		putf(o, ",%s=\"%s\"", key, v);
}

static void format_influx(struct out *o, const char *measurement, const struct route *r,
                          const struct probe_result *res)
{
	char esc[RESULT_ERROR_MAX * 3 + 8], server[600];   /* 3: a stray byte is U+FFFD */
	bool first = true;
	double d = 0;

	if (lp_escape_measurement(measurement, esc, sizeof(esc)) < 0) {
		o->overflow = true;
		return;
	}
	puts_(o, esc);
	lp_tag(o, "probe", r->name);
	lp_tag(o, "from", r->from);
	lp_tag(o, "to", r->to);
	if (smtp_server(r, res, server, sizeof(server)))
		lp_tag(o, "smtp_server", server);
	server_name(r->imap_host, r->imap_port, server, sizeof(server));
	lp_tag(o, "imap_server", server);
	lp_tag(o, "result", result_name(res->result));
	if (res->mailbox[0])
		lp_tag(o, "mailbox", res->mailbox);
	for (int m = 0; m < AUTH_N; m++)
		if (res->verdict[m][0])
			lp_tag(o, auth_method_name(m), res->verdict[m]);

	lp_int(o, &first, "success", res->success);
	lp_int(o, &first, "result_code", res->result);
	lp_float(o, &first, "total_time", reached(res->t_end) ? res->t_end : 0.0);
	if (res->queue_time > 0)
		lp_float(o, &first, "queue_time", res->queue_time);
	if (span(res->t_smtp_start, res->t_smtp_done, &d))
		lp_float(o, &first, "smtp_time", d);
	if (span(res->t_smtp_done, res->t_found, &d))
		lp_float(o, &first, "delivery_time", d);
	for (int i = 0; i < STEP_N; i++)
		if (res->step[i] >= 0)
			lp_float(o, &first, step_field_name(i), res->step[i]);
	if (res->tries >= 0)
		lp_int(o, &first, "tries", res->tries);
	if (res->smtp_code >= 0)
		lp_int(o, &first, "smtp_code", res->smtp_code);
	if (res->late >= 0)
		lp_int(o, &first, "late", res->late);
	if (res->smtp_cert_known)
		lp_int(o, &first, "smtp_cert_expiry", res->smtp_cert_expiry);
	if (res->imap_cert_known)
		lp_int(o, &first, "imap_cert_expiry", res->imap_cert_expiry);
	if (res->smtp_tls_version[0])
		putf(o, ",smtp_tls_version=\"%s\"", res->smtp_tls_version);
	if (res->imap_tls_version[0])
		putf(o, ",imap_tls_version=\"%s\"", res->imap_tls_version);
	if (res->hops >= 0) {
		lp_int(o, &first, "hops", res->hops);
		lp_int(o, &first, "plain_hops", res->plain_hops);
	}
	if (res->has_transit)
		lp_float(o, &first, "transit_time", res->transit_time);
	lp_word(o, "smtp_status", res->smtp_status);
	lp_word(o, "dsn_status", res->dsn_status);
	if (res->delayed)
		lp_int(o, &first, "delayed", 1);
	rep_fields(o, FORMAT_INFLUX, res);
	put_fragment(o, output_mx_influx(&res->mx, server, sizeof(server)), server);
	if (res->result != RESULT_SUCCESS && res->error[0]) {
		if (lp_escape_field_string(res->error, esc, sizeof(esc)) < 0) {
			o->overflow = true;
			return;
		}
		putf(o, ",error=\"%s\"", esc);
	}
	putf(o, " %lld\n", (long long)res->cycle_start_ns);
}

/* --- JSON ----------------------------------------------------------------- */

static void json_str(struct out *o, const char *key, const char *value)
{
	char esc[RESULT_ERROR_MAX * 6 + 8];

	if (!value) {
		putf(o, ",\"%s\":null", key);
		return;
	}
	if (json_escape(value, esc, sizeof(esc)) < 0) {
		o->overflow = true;
		return;
	}
	putf(o, ",\"%s\":\"%s\"", key, esc);
}

/* ISO 8601 UTC with microseconds, for cycle start + offset seconds. */
static void json_time(struct out *o, const char *key, int64_t start_ns, double offset)
{
	int64_t ns;
	time_t secs;
	struct tm tm;
	char stamp[40];

	if (!reached(offset)) {
		putf(o, ",\"%s\":null", key);
		return;
	}
	ns = start_ns + (int64_t)llround(offset * 1e9);   /* start_ns: the route's own start */
	secs = (time_t)(ns / 1000000000);
	if (!gmtime_r(&secs, &tm) || strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		putf(o, ",\"%s\":null", key);
		return;
	}
	putf(o, ",\"%s\":\"%s.%06lldZ\"", key, stamp, (long long)((ns % 1000000000) / 1000));
}

static void json_num(struct out *o, const char *key, bool present, double v)
{
	if (present && isfinite(v))
		putf(o, ",\"%s\":%.6f", key, v);
	else
		putf(o, ",\"%s\":null", key);
}

/* A duration between two offsets, or null when either end was not reached. */
static void json_span(struct out *o, const char *key, double from, double to)
{
	double d = 0;
	bool present = span(from, to, &d);

	json_num(o, key, present, d);
}

static void json_int(struct out *o, const char *key, bool present, long long v)
{
	if (present)
		putf(o, ",\"%s\":%lld", key, v);
	else
		putf(o, ",\"%s\":null", key);
}

static void format_json(struct out *o, const struct route *r, const struct probe_result *res)
{
	char server[600], probe[512];
	bool ok = res->success;
	int64_t own_start = res->cycle_start_ns + (int64_t)llround(res->queue_time * 1e9);

	if (json_escape(r->name, probe, sizeof(probe)) < 0) {
		o->overflow = true;
		return;
	}
	putf(o, "{\"probe\":\"%s\",\"success\":%s", probe, ok ? "true" : "false");
	json_str(o, "result", result_name(res->result));
	json_int(o, "result_code", true, res->result);
	json_str(o, "hash", res->token[0] ? res->token : NULL);
	json_time(o, "start", res->cycle_start_ns, 0.0);
	json_time(o, "start_time_smtp", own_start, res->t_smtp_start);
	json_time(o, "start_time_imap", own_start, res->t_imap_start);
	json_time(o, "start_time_imap_search", own_start, res->t_imap_search_start);
	json_time(o, "found", own_start, res->t_found);
	json_time(o, "end", own_start, res->t_end);
	json_int(o, "tries", res->tries >= 0, res->tries);
	json_num(o, "total_duration", reached(res->t_end), res->t_end);
	json_num(o, "queue_time", res->queue_time > 0, res->queue_time);
	json_span(o, "smtp_duration", res->t_smtp_start, res->t_smtp_done);
	json_span(o, "delivery_duration", res->t_smtp_done, res->t_found);
	json_span(o, "imap_duration", res->t_imap_start, res->t_end);
	for (int i = 0; i < STEP_N; i++)
		json_num(o, step_field_name(i), res->step[i] >= 0, res->step[i]);
	json_int(o, "smtp_code", res->smtp_code >= 0, res->smtp_code);
	json_str(o, "error", res->result == RESULT_SUCCESS || !res->error[0] ? NULL : res->error);
	json_str(o, "mailbox", res->mailbox[0] ? res->mailbox : NULL);
	json_int(o, "late", res->late >= 0, res->late);
	json_int(o, "smtp_cert_expiry", res->smtp_cert_known, res->smtp_cert_expiry);
	json_int(o, "imap_cert_expiry", res->imap_cert_known, res->imap_cert_expiry);
	json_str(o, "smtp_tls_version", res->smtp_tls_version[0] ? res->smtp_tls_version : NULL);
	json_str(o, "imap_tls_version", res->imap_tls_version[0] ? res->imap_tls_version : NULL);
	json_str(o, "from", r->from);
	json_str(o, "to", r->to);
	json_str(o, "smtp_server", smtp_server(r, res, server, sizeof(server)) ? server : NULL);
	server_name(r->imap_host, r->imap_port, server, sizeof(server));
	json_str(o, "imap_server", server);
	json_str(o, "smtp_status", res->smtp_status[0] ? res->smtp_status : NULL);
	for (int m = 0; m < AUTH_N; m++)
		json_str(o, auth_method_name(m), res->verdict[m][0] ? res->verdict[m] : NULL);
	json_int(o, "hops", res->hops >= 0, res->hops);
	json_int(o, "plain_hops", res->hops >= 0, res->plain_hops);
	json_num(o, "transit_time", res->has_transit, res->transit_time);
	json_str(o, "dsn_status", res->dsn_status[0] ? res->dsn_status : NULL);
	json_int(o, "delayed", res->delayed, 1);
	rep_fields(o, FORMAT_JSON, res);
	put_fragment(o, output_mx_json(&res->mx, server, sizeof(server)), server);
	puts_(o, "}\n");
}

ssize_t output_format_line(enum out_format fmt, const char *measurement,
                           const struct route *route,
                           const struct probe_result *res,
                           char *buf, size_t buflen)
{
	struct out o = { buf, buflen, 0, false };

	if (buflen == 0)
		return -1;
	buf[0] = '\0';
	if (fmt == FORMAT_JSON)
		format_json(&o, route, res);
	else
		format_influx(&o, measurement, route, res);
	return o.overflow ? -1 : (ssize_t)o.len;
}
