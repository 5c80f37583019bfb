/*
 * oauth2_reply.h - what a token endpoint's reply means (RFC 6749 §5.1,
 * §5.2): an access token, or an error named for the leg's `error` field.
 * Pure: no network, no state (json.h does the reading).
 *
 * Contract:
 *  - oauth2_reply_parse() reads the HTTP status and body of one reply.
 *    0: out->access_token is set (1 to SECRET_MAX - 1 bytes, no blank or
 *    control character: it goes into a SASL message); out->refresh_token
 *    is set when the reply carries one (same rules); out->expires_in is
 *    the lifetime in seconds (0 when the reply says 0 or less, at most
 *    OAUTH2_EXPIRES_MAX_S whatever it says: 9223372036854775807 must not
 *    overflow the cache's clock arithmetic), or -1 when the reply has none
 *    (a string of digits counts; anything else, and a number beyond a
 *    long, is none).  -1: no token; err holds one line:
 *      "invalid_grant: Token has been expired or revoked."  (the endpoint's
 *          error and error_description, whatever the HTTP status; blanks
 *          and control characters in them made single spaces)
 *      "token endpoint: HTTP 500"  (an error status without an error reply)
 *      "token endpoint: reply is not JSON", "... reply has no access_token",
 *      "... token_type mac is not Bearer", "... access_token ...".
 *    out->error holds the bare error code ("authorization_pending"), or "".
 *    err never holds the access or refresh token; oauth2_redact() removes
 *    any other secret (the caller's refresh token, client secret) an
 *    endpoint might echo in its error_description.
 *  - The strings in out are heap copies the caller releases with
 *    oauth2_reply_free() (wiped); out is always initialised, also on -1.
 */
#ifndef MAIL_E2E_OAUTH2_REPLY_H
#define MAIL_E2E_OAUTH2_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* A longer expires_in is cut to this: reuse is bounded by what the mail
 * server accepts anyway (a refused token is dropped), and a day keeps
 * every sum with a monotonic clock in nanoseconds far from overflow. */
#define OAUTH2_EXPIRES_MAX_S 86400L

struct oauth2_reply {
	char *access_token;    /* NULL unless parse returned 0 */
	char *refresh_token;   /* NULL: the reply has none */
	long expires_in;       /* seconds, -1: not given */
	char error[64];        /* the endpoint's "error" code, or "" */
};

int oauth2_reply_parse(long http_status, const char *body, size_t len,
                       struct oauth2_reply *out, char *err, size_t errlen);
void oauth2_reply_free(struct oauth2_reply *r);

/* An error reply (RFC 6749 §5.2, RFC 8628 §3.5) of any endpoint: 1 when
 * body is a JSON object with a non-empty "error", the code (printable
 * ASCII, others '?') in code and "error: description" in err as above;
 * else 0 with code "". */
int oauth2_reply_error(const char *body, size_t len, char *code, size_t codecap, char *err, size_t errlen);

/* Replace every occurrence of secret (any length; NULL and "" do
 * nothing) in the NUL-terminated text, in place: by "***" when it is 3
 * bytes or longer, else byte for byte by '*' (the text never grows; it may
 * read oddly, it never shows the secret). */
void oauth2_redact(char *text, const char *secret);

/* Plain words and the next step for an endpoint's error code (RFC 6749
 * §5.2) in out: "refresh token expired or revoked: run --oauth2-login
 * ROUTE again (invalid_grant: the endpoint's words)".  said is the
 * endpoint's own text (oauth2_reply_parse()'s err); refresh says the
 * request was the refresh-token grant (invalid_grant means something else
 * for client credentials).  1 when out was written, 0 when the code has no
 * plainer words (out untouched). */
int oauth2_error_words(const char *code, bool refresh, const char *route, const char *said,
                       char *out, size_t cap);

#endif
