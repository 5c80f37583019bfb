/*
 * result.h - the outcome of one route probe, as every output format sees it.
 *
 * Contract: a struct probe_result is plain data, filled in by the probe engine
 * and read by output.c.  It owns no heap memory: every string lives in a
 * fixed-size array inside the struct, so results can be copied by value.
 * Times are monotonic-clock seconds relative to the route's own start (the
 * cycle start, or later when it queued for a busy server); a negative
 * value means "not reached".  Wall-clock stamps (for JSON) are derived from
 * cycle_start_ns + queue_time + the monotonic offset, so they never
 * disagree with the durations.
 */
#ifndef MAIL_E2E_RESULT_H
#define MAIL_E2E_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "auth_methods.h"
#include "mx_result.h"
#include "probe_id.h"
#include "reputation.h"
#include "result_classes.h"

/* RESULT_SUCCESS = 0, RESULT_TIMEOUT = 1, ... (result_classes.h). */
enum result_class {
#define RESULT_ENUM(id, name, code, meaning) RESULT_##id = code,
	RESULT_CLASSES(RESULT_ENUM)
#undef RESULT_ENUM
};
#define RESULT_COUNT_ONE(id, name, code, meaning) + 1
enum { RESULT_N = 0 RESULT_CLASSES(RESULT_COUNT_ONE) };
#undef RESULT_COUNT_ONE

/* "success", "timeout", ... as in SPEC §5; never NULL. */
const char *result_name(enum result_class r);
/* The other way round; false for a name SPEC §5 does not list. */
bool result_from_name(const char *name, enum result_class *r);

#define RESULT_ERROR_MAX 256     /* error text, truncated, secrets never included */

/* The step times of SPEC §11, one table for the result and the output:
 * X(id, field name). */
#define STEP_FIELDS(X) \
	X(STEP_SMTP_CONNECT, "smtp_connect_time") \
	X(STEP_SMTP_GREETING, "smtp_greeting_time") \
	X(STEP_SMTP_TLS, "smtp_tls_time") \
	X(STEP_SMTP_AUTH, "smtp_auth_time") \
	X(STEP_SMTP_SEND, "smtp_send_time") \
	X(STEP_IMAP_CONNECT, "imap_connect_time") \
	X(STEP_IMAP_TLS, "imap_tls_time") \
	X(STEP_IMAP_LOGIN, "imap_login_time") \
	X(STEP_IMAP_SELECT, "imap_select_time")

enum step_field {
#define STEP_ID(id, name) id,
	STEP_FIELDS(STEP_ID)
#undef STEP_ID
	STEP_N
};

/* "smtp_connect_time", ...; never NULL. */
const char *step_field_name(enum step_field f);

struct probe_result {
	enum result_class result;      /* as observed */
	bool success;                  /* result is what the route expects (SPEC §8) */
	char token[PROBE_TOKEN_SIZE];  /* the probe token (probe_id.h), "" before it is made */
	char error[RESULT_ERROR_MAX];  /* "" on success */

	int64_t cycle_start_ns;        /* CLOCK_REALTIME at cycle start, ns */

	/* Offsets in seconds from the cycle start (monotonic); < 0: not reached. */
	double t_smtp_start;           /* SMTP connect begins */
	double t_smtp_done;            /* final reply after DATA read */
	double t_imap_start;           /* IMAP connect begins */
	double t_imap_search_start;    /* SMTP accepted: watching the mailbox begins */
	double t_found;                /* probe seen in the mailbox */
	double t_end;                  /* result known */
	double queue_time;             /* seconds the route waited for its turn at a
	                                  busy server (server_concurrency) before
	                                  its own start, which the offsets count
	                                  from; 0: none */

	int tries;                     /* checks made; < 0: IMAP not reached */
	int smtp_code;                 /* last SMTP reply code; < 0: none read */
	int late;                      /* earlier probes that arrived after their
	                                  timeout, counted now; < 0: not looked */
	char mailbox[8];               /* where it was found: "inbox", "junk", "" */

	/* TLS health per leg: version "" and expiry_known false where the leg
	 * did not get as far as a TLS session. */
	char smtp_tls_version[16], imap_tls_version[16];
	bool smtp_cert_known, imap_cert_known;
	int64_t smtp_cert_expiry, imap_cert_expiry;   /* seconds until notAfter */

	/* What the delivered probe says (SPEC §7); "" / < 0: absent. */
	char smtp_status[16];          /* enhanced status code of the deciding reply */
	char verdict[AUTH_N][AUTH_WORD_MAX];   /* per method of auth_methods.h */
	int hops, plain_hops;
	bool has_transit;
	double transit_time;

	/* Each step's time in seconds (SPEC §11); < 0: not reached. */
	double step[STEP_N];

	/* Bounces (SPEC §8). */
	char dsn_status[16];           /* "" none */
	bool delayed;                  /* a delay notice was seen */

	/* Spam verdicts and DNSBL listings (SPEC §13). */
	struct reputation rep;
	/* Direct delivery to the MX and its TLS policy (SPEC §12). */
	struct mx_result mx;
};

/* Initialise every time to "not reached", counters to -1, strings empty. */
void result_init(struct probe_result *r, int64_t cycle_start_ns);

#endif
