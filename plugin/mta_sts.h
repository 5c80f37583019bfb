/*
 * mta_sts.h - the pure readers of MTA-STS (RFC 8461) and TLS-RPT (RFC
 * 8460): the _mta-sts TXT record, the policy file, an MX host against the
 * policy's mx patterns, the _smtp._tls TXT record.  No I/O: the lookups and
 * the HTTPS fetch belong to the caller (plugin/smtp/mx_sts.c).
 *
 * Contract:
 *  - Strings are NUL-terminated unless a length is given; the policy body
 *    is (body, len), nothing read at or past body + len, no NUL needed.
 *  - Outputs are written only where the function says; why (cap bytes,
 *    NUL-terminated) says in words what is wrong.  No allocation, no state.
 *
 * What is read, and how strictly (a monitor should rather call a policy
 * invalid than guess):
 *  - TXT: records that do not start with "v=STSv1" (then ';', a blank or
 *    the end) are not ours; exactly one of ours must remain, with
 *    "id=" 1-32 letters and digits, once; other fields are ignored.
 *  - policy: lines end in LF or CRLF (blank lines are skipped); each is
 *    "key:" value; version (STSv1), mode (enforce, testing, none) and
 *    max_age (at most 31557600, RFC 8461 §3.2) exactly once; at least one
 *    mx unless mode is none, each a host name or "*." and one; keys are
 *    case-sensitive; unknown keys are ignored; control characters or bytes
 *    past ASCII anywhere make it invalid.
 *  - an MX host matches a pattern without regard to case; "*.d" matches
 *    exactly one label more than d (RFC 8461 §4.1).
 */
#ifndef MAIL_E2E_MTA_STS_H
#define MAIL_E2E_MTA_STS_H

#include <stdbool.h>
#include <stddef.h>

#include "dns_rr.h"

#define MTA_STS_ID_MAX 33              /* 32 characters and the NUL */
#define MTA_STS_MX_MAX 64              /* mx patterns kept; more is invalid */
#define MTA_STS_MAX_AGE_MAX 31557600L
#define MTA_STS_BODY_MAX (64 * 1024)   /* SPEC §12: at most 64 KiB */

enum mta_sts_mode { MTA_STS_MODE_NONE = 0, MTA_STS_MODE_TESTING, MTA_STS_MODE_ENFORCE };

struct mta_sts_policy {
	enum mta_sts_mode mode;
	long max_age;                  /* seconds */
	size_t n_mx;
	char mx[MTA_STS_MX_MAX][DNS_NAME_MAX];   /* patterns, lower case */
};

/* The TXT records at _mta-sts.<domain>: 0 none of them is an MTA-STS
 * record; 1 one valid record, its id in id; -1 invalid (why). */
int mta_sts_txt(const char *const *records, size_t n, char id[MTA_STS_ID_MAX], char *why, size_t cap);

/* The policy file: true with *p filled, or false with why. */
bool mta_sts_policy_parse(const char *body, size_t len, struct mta_sts_policy *p, char *why, size_t cap);

/* Does host (trailing dot allowed) match pattern / any of p's patterns? */
bool mta_sts_pattern_match(const char *pattern, const char *host);
bool mta_sts_mx_match(const struct mta_sts_policy *p, const char *host);

/* "enforce", "testing", "none". */
const char *mta_sts_mode_name(enum mta_sts_mode m);

/* The TXT records at _smtp._tls.<domain>: exactly one starts with
 * "v=TLSRPTv1" (RFC 8460 §3). */
bool tlsrpt_txt(const char *const *records, size_t n);

#endif
