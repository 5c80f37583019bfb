/*
 * json.h - read one flat JSON object (RFC 8259): what an OAuth2 token or
 * device-authorization endpoint replies (RFC 6749 §5, RFC 8628 §3.2).
 *
 * Contract:
 *  - text/len is the whole reply: one object, blanks (space, tab, CR, LF)
 *    around it allowed, nothing else.  No NUL needed; nothing at or past
 *    text + len is read.  No allocation, no state; recursion is bounded by
 *    JSON_DEPTH_MAX.
 *  - Every call checks the WHOLE text first: a getter on a text that is not
 *    one well-formed object returns JSON_INVALID, whatever the key.  Members
 *    whose values are objects or arrays are checked and skipped (only
 *    top-level members can be read).  Strings must be valid UTF-8 without
 *    raw control characters; escapes \" \\ \/ \b \f \n \r \t and \uXXXX
 *    (surrogate pairs joined, a lone surrogate refused) are decoded to
 *    UTF-8; \u0000 is refused (values are C strings).
 *  - Keys compare byte for byte after unescaping; a key longer than
 *    JSON_KEY_MAX bytes matches nothing.  Duplicate keys: the FIRST member
 *    with the key counts, later ones are ignored (RFC 8259 leaves this
 *    open; the first is what a streaming reader would see).
 *  - A member whose value is null reads as absent (JSON_ABSENT).
 *  - json_get_string(): on JSON_OK out holds the NUL-terminated value.  On
 *    any other result out is "" (when cap > 0) and the bytes of out that a
 *    cut value may have touched are wiped (explicit_bzero): a token is
 *    never cut short, JSON_TOO_LONG says it did not fit.
 *  - json_get_number(): an integer (optionally negative, no fraction, no
 *    exponent) that fits a long; also a string holding 1 to 18 ASCII digits
 *    ("expires_in":"3599", as some providers send it).  A fraction or an
 *    exponent is JSON_TYPE, an integer beyond long is JSON_RANGE.  *out is
 *    written only on JSON_OK.
 */
#ifndef MAIL_E2E_JSON_H
#define MAIL_E2E_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_DEPTH_MAX 32    /* nesting of skipped objects/arrays */
#define JSON_KEY_MAX 255

enum json_result {
	JSON_OK = 0,
	JSON_ABSENT = -1,    /* no such member, or its value is null */
	JSON_TYPE = -2,      /* the member holds another type */
	JSON_TOO_LONG = -3,  /* the string does not fit in cap bytes (with its NUL) */
	JSON_RANGE = -4,     /* the integer does not fit a long */
	JSON_INVALID = -5    /* text is not one well-formed JSON object */
};

/* Is text/len one well-formed object (as above)? */
bool json_valid(const char *text, size_t len);

int json_get_string(const char *text, size_t len, const char *key, char *out, size_t cap);
int json_get_number(const char *text, size_t len, const char *key, long *out);

/* "absent", "not a string" ... for messages; never NULL. */
const char *json_result_text(int result);

#endif
