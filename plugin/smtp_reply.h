/*
 * smtp_reply.h - reading an SMTP server's reply line: the enhanced status
 * code (RFC 3463, announced by ENHANCEDSTATUSCODES, RFC 2034) that follows
 * the reply code, e.g. "550 5.7.26 Unauthenticated email ..." -> "5.7.26".
 *
 * Contract: pure; line is one NUL-terminated reply line ("250 ..." or the
 * "550-..." lines of a multi-line reply).  Writes out (cap bytes) only on
 * success.
 */
#ifndef MAIL_E2E_SMTP_REPLY_H
#define MAIL_E2E_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

/* True, with the code in out, when line is "NNN[ -]C.S.D ..." where C is
 * the reply code's own class (2, 4 or 5), S 1-3 digits and D 1-3 digits
 * (RFC 3463 §2), followed by a blank or the end. */
bool smtp_reply_status(const char *line, char *out, size_t cap);

#endif
