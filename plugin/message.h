/*
 * message.h - the probe token and the probe message (SPEC §6).
 *
 * Contract:
 *  - message_new_token() fills token with 32 lower-case hex characters
 *    (128 bits from getrandom) plus a NUL; returns 0, or -1 if the kernel
 *    could not supply randomness (never falls back to a weak source).
 *  - message_build() renders the RFC 5322 message, CRLF line endings, into a
 *    heap buffer the caller owns and frees; *len receives its length.  It
 *    returns NULL on allocation failure.  `now` is the Date header time.
 */
#ifndef MAIL_E2E_MESSAGE_H
#define MAIL_E2E_MESSAGE_H

#include <stddef.h>
#include <time.h>

#define MESSAGE_TOKEN_HEADER "X-Mail-E2E-Probe"

int message_new_token(char token[33]);

char *message_build(const char *from, const char *to, const char *subject_prefix,
                    const char *route_name, const char *token, time_t now,
                    size_t *len);

#endif
