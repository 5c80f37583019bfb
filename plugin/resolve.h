/*
 * resolve.h - the program's own DNS lookups (SPEC §12, §13), through the
 * process key `resolver`, with libunbound: asynchronous on the cycle's
 * event loop, validated against `dnssec_trust_anchor`, none of them
 * answered by the system resolver or by libunbound's built-in local zones
 * (its answers for test., invalid., onion., home.arpa. ... are turned
 * off, so every name is asked of `resolver`).
 *
 * One validating context serves the process (and keeps its cache across
 * cycles); it is made at the first lookup, with a worker thread that
 * never takes a signal (they all go to the main thread's self-pipe).
 *
 * Contract:
 *  - resolve_configure() stores the settings (copied) for the context the
 *    next lookup makes; a change drops the existing context (its lookups
 *    are cancelled).  NULL resolver: /etc/resolv.conf's servers; NULL
 *    trust_anchor: CONFIG_SYSTEM_TRUST_ANCHOR where it exists, else no
 *    validation (every answer insecure, one W! line).
 *  - resolve_start() starts one lookup and returns its id (> 0), or 0 with
 *    err (cap bytes) filled.  done(ctx, answer) is called exactly once,
 *    later, from resolve_process() (never from resolve_start()), unless
 *    resolve_cancel(id) came first.  The answer and what it points to live
 *    only during the call.
 *  - resolve_fd() is the descriptor to poll for reading while lookups are
 *    pending (-1: none); when it is readable, call resolve_process().
 *  - resolve_shutdown() cancels everything, frees the context (and joins
 *    its thread) and forgets the settings.
 */
#ifndef MAIL_E2E_RESOLVE_H
#define MAIL_E2E_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESOLVE_TYPE_A 1
#define RESOLVE_TYPE_TXT 16
#define RESOLVE_WHY_MAX 200

enum resolve_status {
	RESOLVE_DATA,       /* records of the type asked */
	RESOLVE_NXDOMAIN,
	RESOLVE_NODATA,     /* the name exists, no record of that type */
	RESOLVE_SERVFAIL,
	RESOLVE_REFUSED,
	RESOLVE_RCODE,      /* another error rcode (rcode says which) */
	RESOLVE_BOGUS,      /* DNSSEC validation failed: why says how */
	RESOLVE_FAILED,     /* the library gave up (why says why) */
};

struct resolve_answer {
	enum resolve_status status;
	int rcode;
	bool secure;                 /* validated (else insecure, or bogus) */
	size_t n;                    /* records, RESOLVE_DATA only */
	const unsigned char *const *data;
	const int *len;
	char why[RESOLVE_WHY_MAX];
};

typedef void resolve_done_fn(void *ctx, const struct resolve_answer *answer);

int resolve_configure(const char *resolver, const char *trust_anchor, char *err, size_t cap);
int resolve_start(const char *name, int rrtype, resolve_done_fn *done, void *ctx, char *err, size_t cap);
void resolve_cancel(int id);
int resolve_fd(void);
void resolve_process(void);
void resolve_shutdown(void);

/* "SERVFAIL", "REFUSED", "NXDOMAIN", "rcode 9", ... for the W! lines. */
const char *resolve_status_name(const struct resolve_answer *answer, char *buf, size_t cap);

#endif
