/*
 * dsn.h - pure reader of delivery status notifications (SPEC section 8):
 * RFC 3464 delivery-status inside an RFC 6522 (was 3462) multipart/report,
 * also the RFC 6533 "global" variants.
 *
 * Contract:
 *  - msg/len is a whole message as fetched (header and body), CRLF or bare
 *    LF line ends, no NUL needed; nothing is read at or past msg + len.  A
 *    message cut short is read as far as it goes.
 *  - The caller owns *out; it is cleared first, then filled.  Every string
 *    in it is NUL-terminated, cut safely (never inside a UTF-8 character).
 *    Fields are meaningful only when dsn_read() returns true.
 *  - No allocation, no state: a decode buffer of DSN_DECODE_MAX bytes lives
 *    on the stack during the call.
 *
 * What is read:
 *  - The top-level Content-Type must be multipart/report with report-type
 *    delivery-status (or global-delivery-status) and a boundary (quoted or
 *    not; names and values compared without case, comments skipped).  Only
 *    the top-level parts are walked (nested multiparts, such as a text and
 *    HTML notice, are skipped whole); a preamble and epilogue are ignored; a
 *    boundary string that is not a whole delimiter line is body text.
 *  - The message/delivery-status (or message/global-delivery-status) part:
 *    a per-message group, blank line(s), then per-recipient groups; fields
 *    may be folded.  Content-Transfer-Encoding 7bit, 8bit, binary, and also
 *    quoted-printable and base64 (decoded, the first DSN_DECODE_MAX bytes).
 *  - Returned headers: the first text/rfc822-headers, message/rfc822,
 *    message/global or message/global-headers part(s): their (own) header
 *    block's Message-ID and X-Mail-E2E-Probe.
 */
#ifndef MAIL_E2E_DSN_H
#define MAIL_E2E_DSN_H

#include <stdbool.h>
#include <stddef.h>

#include "probe_id.h"

#define DSN_DECODE_MAX 16384

struct dsn_report {
	bool is_dsn;             /* a delivery-status report with its part */
	char envid[128];         /* Original-Envelope-Id, xtext-decoded, "" if absent */
	char action[16];         /* of the chosen recipient, lower-case: failed,
	                          * delayed, delivered, relayed, expanded */
	char status[16];         /* "5.1.1" (digits and dots only) */
	char diagnostic[512];    /* Diagnostic-Code text without its type
	                          * ("smtp;"), unfolded, control bytes removed */
	char remote_mta[256];    /* Remote-MTA name without its type ("dns;"):
	                          * the first word, a final dot dropped */
	char recipient[256];     /* Final-Recipient address (else the
	                          * Original-Recipient) without "rfc822;" or <> */
	int recipients;          /* per-recipient groups seen */
	bool rcpt_matched;       /* the chosen group is want_rcpt's: only then is
	                          * the report about the probe's recipient */
	char message_id[256];    /* Message-ID of the returned headers, trimmed */
	char probe_token[PROBE_TOKEN_READ_SIZE];   /* X-Mail-E2E-Probe of the returned headers */
	char reporting_mta[256]; /* (added) Reporting-MTA without "dns;" */
};

/* want_rcpt: the probe's recipient or NULL.  The chosen per-recipient group
 * is the first whose Final-Recipient or Original-Recipient equals want_rcpt
 * (without case, "rfc822;" and angle brackets; rcpt_matched then), else the
 * first with Action failed, else the first delayed, else the first.
 * Returns out->is_dsn. */
bool dsn_read(const char *msg, size_t len, const char *want_rcpt, struct dsn_report *out);

#endif
