/*
 * output.h - render one probe result as one line (SPEC §5).
 *
 * Contract:
 *  - output_format_line() writes exactly one line, ending in "\n", into buf
 *    (NUL-terminated) and returns its length, or -1 if buf is too small
 *    (OUTPUT_LINE_MAX is always enough).  Pure: no I/O, no allocation.
 *  - Influx: measurement,tags fields timestamp(ns = cycle start).  Tags in
 *    the order probe, from, to, smtp_server, imap_server, result; fields in
 *    the order of SPEC §5; absent fields ("not reached") are omitted.
 *  - JSON: one object, keys as SPEC §5, null where not reached.
 *  - The escaping helpers are exposed for unit tests; each writes at most
 *    dstlen bytes including the NUL and returns the length written, or -1 if
 *    it would not fit.
 */
#ifndef MAIL_E2E_OUTPUT_H
#define MAIL_E2E_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "result.h"

#define OUTPUT_LINE_MAX 8192

ssize_t output_format_line(enum out_format fmt, const char *measurement,
                           const struct route *route,
                           const struct probe_result *res,
                           char *buf, size_t buflen);

/* Line protocol: measurement names escape ',' and ' '; tag keys/values and
 * field keys escape ',', ' ', '='; string field values escape '"' and '\'.
 * CR, LF and TAB become a space (line protocol has no escape for them);
 * bytes that are not UTF-8 become U+FFFD (line protocol is UTF-8);
 * an empty tag value is written as "-" (empty tag values are invalid). */
ssize_t lp_escape_measurement(const char *s, char *dst, size_t dstlen);
ssize_t lp_escape_tag(const char *s, char *dst, size_t dstlen);
ssize_t lp_escape_field_string(const char *s, char *dst, size_t dstlen);

/* JSON string body (without the surrounding quotes), RFC 8259 escaping;
 * invalid UTF-8 bytes become U+FFFD. */
ssize_t json_escape(const char *s, char *dst, size_t dstlen);

#endif
