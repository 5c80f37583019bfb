/*
 * message.h - the probe token and the probe message (SPEC §6).
 *
 * Contract:
 *  - The token and the Message-ID local part come from probe_id_mint()
 *    (probe_id.h), which makes them provably ours.
 *  - message_build() renders the RFC 5322 message, CRLF line endings, into a
 *    heap buffer the caller owns and frees; *len receives its length.  It
 *    returns NULL on allocation failure.  `now` is the Date header time.
 */
#ifndef MAIL_E2E_MESSAGE_H
#define MAIL_E2E_MESSAGE_H

#include <stddef.h>
#include <time.h>

#define MESSAGE_TOKEN_HEADER "X-Mail-E2E-Probe"

char *message_build(const char *from, const char *to, const char *subject_prefix,
                    const char *route_name, const char *token,
                    const char *msgid_local, time_t now, size_t *len);

#endif
