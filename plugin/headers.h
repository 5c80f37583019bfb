/*
 * headers.h - what a delivered probe's header block says (SPEC section 7):
 * the Authentication-Results verdicts (RFC 8601) and the path its Received
 * headers describe.
 *
 * Contract:
 *  - block/len is the probe's header block as fetched (CRLF or bare LF line
 *    ends, no NUL needed, nothing read at or past block + len).  A body after
 *    the empty line is never read.
 *  - Results go into the caller's struct, which is cleared first; strings
 *    in it are NUL-terminated and cut safely.  No allocation, no state.
 */
#ifndef MAIL_E2E_HEADERS_H
#define MAIL_E2E_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "auth_methods.h"

struct auth_verdicts {
	bool found;              /* an Authentication-Results header was chosen */
	char authserv_id[128];   /* of the chosen header; "" for Microsoft 365's
	                          * form without an id */
	/* Per method of auth_methods.h: the lower-case result word as
	 * written, "" = not mentioned. */
	char verdict[AUTH_N][AUTH_WORD_MAX];
};

/* Read the verdicts of the topmost header named Authentication-Results
 * whose authserv-id is in from: the route key auth_results_from
 * (comma-separated ids, blanks around items allowed, compared without case,
 * "-" names the header without an id), or NULL / "" for the topmost header
 * of any id.  A version after the id ("mx.example 1;") is ignored; a header
 * whose first item holds "=" has no id (Microsoft 365).  The methods of
 * auth_methods.h are read (others ignored), each by its rule (several dkim
 * results give "pass" if any passed, else the first; for the other methods
 * the first counts); comments, reason and properties (quoted values too)
 * are skipped. */
void auth_results_read(const char *block, size_t len, const char *from, struct auth_verdicts *out);

/* For config validation of auth_results_from: every comma-separated item is
 * "-" or a plausible authserv-id (RFC 2045 token characters, no blanks
 * inside).  NULL and "" are valid.  On false, why (cap bytes) says which
 * item is wrong. */
bool auth_results_from_valid(const char *from, char *why, size_t cap);

struct path_summary {
	int hops;                /* headers named Received (unreadable ones too) */
	int plain_hops;          /* hops "with" SMTP, ESMTP, ESMTPA, UTF8SMTP,
	                          * UTF8SMTPA: SMTP without TLS */
	bool has_transit;        /* at least two Received dates were readable */
	double transit_time;     /* seconds: newest minus oldest readable date */
};

/* Count and read the Received headers.  The protocol is the value after the
 * received-token "with" (never one inside a comment or a host name); the
 * date is what follows the last ';'. */
void received_read(const char *block, size_t len, struct path_summary *out);

#endif
