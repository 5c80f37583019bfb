/*
 * mail_header.h - pure readers of RFC 5322 header blocks and the MIME header
 * fields (RFC 2045) that the evidence and bounce readers share.
 *
 * Contract:
 *  - Every input is (pointer, length): nothing is read at or past the end,
 *    and no input needs a NUL.  Line ends may be CRLF or a bare LF.
 *  - struct mail_field points into the caller's block (borrowed, never
 *    copied): it is valid as long as the block is.
 *  - Functions that write text write a NUL-terminated string of at most
 *    cap-1 bytes, cut at a UTF-8 character boundary, and never write more
 *    than cap bytes (nothing at all when cap is 0).
 *  - Nothing allocates and nothing keeps state between calls.
 */
#ifndef MAIL_E2E_MAIL_HEADER_H
#define MAIL_E2E_MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mail_field {
	const char *name;       /* field name, without the colon or blanks */
	size_t name_len;
	const char *value;      /* raw, right after the colon: may hold folds
	                         * (CRLF + WSP); no final line end */
	size_t value_len;
};

/* Iterate the fields of a header block starting at *cursor (start of a
 * line).  Returns true and fills f for the next field, advancing *cursor
 * past it and its continuation lines.  Returns false at the end: at the
 * empty line that ends the header (*cursor is left on that line, so
 * mail_body() finds the body) or at end.  Lines without a colon, with an
 * empty name or a blank or control byte in it, and continuation lines with
 * no field before them are skipped. */
bool mail_field_next(const char **cursor, const char *end, struct mail_field *f);

/* The field's name equals name, without regard to case. */
bool mail_field_is(const struct mail_field *f, const char *name);

/* Where the body starts, given the cursor mail_field_next() left: past the
 * one empty line at cursor, or cursor itself when there is none. */
const char *mail_body(const char *cursor, const char *end);

/* Unfold (a line end and the blanks after it -> one blank), turn tabs into
 * blanks, drop other control bytes, trim blanks at both ends; write into
 * out.  Returns the length written. */
size_t mail_unfold(const char *v, size_t n, char *out, size_t cap);

/* RFC 5322 date-time, also its obsolete and common forms: no weekday,
 * 2- and 3-digit years, named zones (UT, UTC, GMT, Z, EST/EDT, CST/CDT,
 * MST/MDT, PST/PDT; military letters as -0000), missing seconds, comments
 * such as "(UTC)", folds and runs of blanks.  Anything after the zone is
 * ignored.  -> Unix seconds UTC.  False if unreadable (no zone, bad field
 * ranges, a day the month does not have). */
bool mail_parse_date(const char *s, size_t n, int64_t *epoch);

/* Content-Type (or any "type/subtype; params" field) value -> the lower-case
 * "type/subtype" into out.  False when the value has no type/subtype or it
 * does not fit. */
bool mail_content_type(const char *v, size_t n, char *out, size_t cap);

/* The value of parameter name (case-insensitive) of a Content-Type style
 * value: a token or a quoted string (quoted-pairs undone), comments skipped.
 * False when absent or when it does not fit in cap (a cut boundary would be
 * a wrong one). */
bool mail_param(const char *v, size_t n, const char *name, char *out, size_t cap);

/* Copy n bytes of s into out as a string (cut safely, see above);
 * returns the length written. */
size_t mail_copy(char *out, size_t cap, const char *s, size_t n);

/* Skip blanks, line ends and comments "( ... )" (nested, with
 * quoted-pairs) from p; returns where the next thing starts, or end. */
const char *mail_skip_cfws(const char *p, const char *end);

/* The next ';' from p that is outside comments and quoted strings, or end. */
const char *mail_find_semicolon(const char *p, const char *end);

/* The lower-case first MIME token of a value (comments skipped) into out:
 * Content-Transfer-Encoding "base64", Action "failed"; "" when there is
 * none. */
void mail_token_lower(const char *v, size_t n, char *out, size_t cap);

#endif
