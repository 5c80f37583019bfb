/*
 * smtp.h - the SMTP leg of a probe, the only face of plugin/smtp/ that
 * probe.c sees.
 *
 * Submission (smtp_via = submission): one connection to smtp_host with
 * AUTH (smtp_conn.h: libcurl connects, starts TLS and logs in, then the
 * leg speaks MAIL FROM .. QUIT itself, DSN parameters and every step
 * timed, SPEC §8, §11).  Direct delivery (smtp_via = mx, SPEC §12): the
 * MX walk (mx.h): our own DNSSEC-validated lookups, the domain's MTA-STS
 * policy fetched over HTTPS and its DANE TLSA records, then one such
 * connection per MX host in turn until one accepts or the policy says
 * stop; to probe.c it is one leg all the same.
 *
 * Contract:
 *  - smtp_open() starts the leg on `multi` and keeps pointers to msg and
 *    token (the caller keeps them alive until smtp_free()).  `bearer`, if
 *    not NULL, is an OAuth2 access token for AUTH instead of the password
 *    (libcurl copies it).  NULL with err filled when it cannot start.
 *  - The leg may run several libcurl transfers on the multi, one after
 *    another (MX hosts, the policy fetch): when the multi reports
 *    CURLMSG_DONE for an easy handle smtp_owns(), the caller hands it to
 *    smtp_on_done(); smtp_step() after every wake-up (smtp_wait_fd(),
 *    smtp_io_ready(), smtp_next_timer() as for IMAP).
 *  - smtp_outcome() returns true once the leg has its verdict (the message
 *    accepted, or the failure classified, SPEC §5, §12), with out filled;
 *    the leg then says QUIT by itself and is done.
 *  - smtp_free() cuts the sockets (libcurl cannot block on a polite QUIT),
 *    removes the handles and frees everything; NULL is accepted.
 */
#ifndef MAIL_E2E_SMTP_H
#define MAIL_E2E_SMTP_H

#include <stdbool.h>
#include <stdint.h>
#include <curl/curl.h>

#include "budget.h"
#include "config.h"
#include "conn.h"
#include "mx_result.h"
#include "result.h"

struct smtp_outcome {
	bool ok;                    /* message accepted (final 2xx after the data) */
	enum result_class result;   /* when !ok */
	int code;                   /* last SMTP reply code, or -1 */
	char status[16];            /* its enhanced status code (RFC 3463), "" none */
	char error[RESULT_ERROR_MAX];
	int64_t t_done_ns;          /* monotonic: the final reply after the data */
	char tls_version[16];
	int64_t cert_not_after;     /* 0: unknown */
	struct conn_steps steps;    /* connect, greeting, TLS, AUTH (ns, -1: not reached) */
	int64_t send_ns;            /* MAIL FROM -> the final reply, -1: not reached */
	bool dsn;                   /* the DSN parameters went with the envelope */
	struct mx_result mx;        /* smtp_via = mx: the walk and the policy (SPEC §12) */
};

struct smtp_leg;

struct smtp_leg *smtp_open(CURLM *multi, const struct route *r, const char *bearer,
                           const char *token, const char *msg, size_t len,
                           const struct budget *budget, char *err, size_t errlen);
bool smtp_owns(const struct smtp_leg *l, CURL *easy);
void smtp_on_done(struct smtp_leg *l, CURL *easy, CURLcode code);
void smtp_step(struct smtp_leg *l, int64_t now);
void smtp_io_ready(struct smtp_leg *l);
curl_socket_t smtp_wait_fd(const struct smtp_leg *l, bool *want_write);
int64_t smtp_next_timer(const struct smtp_leg *l);   /* 0: none */
bool smtp_outcome(const struct smtp_leg *l, struct smtp_outcome *out);
/* A reply awaited since *since, to the command the words name ("MAIL
 * FROM", "message data"): the probe's deadline calls that a stall. */
bool smtp_awaiting(const struct smtp_leg *l, int64_t *since, const char **what);
/* The probe has its verdict without the leg's (a stall): cut it, unless
 * only its QUIT is under way. */
void smtp_abandon(struct smtp_leg *l);
/* QUIT is over (or the connection is gone): nothing left to do. */
bool smtp_closed(const struct smtp_leg *l);
void smtp_free(struct smtp_leg *l);
/* At exit: what the legs keep per process (MTA-STS policies, parsed CA
 * files for the MX certificate checks). */
void smtp_cleanup(void);

#endif
