/*
 * smtp.h - the SMTP leg of a probe: one message sent through libcurl's
 * multi interface, and the failure classified into a SPEC §5 result.
 *
 * Contract:
 *  - smtp_send_start() sets up the transfer and adds it to `multi`; it keeps
 *    a pointer to msg (the caller keeps msg alive until smtp_send_free()).
 *    `bearer`, if not NULL, is an OAuth2 access token for AUTH instead of
 *    the password (libcurl copies it).  Returns NULL with err filled if the
 *    transfer could not be set up.
 *  - When the multi reports CURLMSG_DONE for smtp_send_easy(s), the owner
 *    calls smtp_send_finish(s, code, &outcome) exactly once.
 *  - smtp_send_free() removes the handle from the multi (aborting a running
 *    transfer), makes sure libcurl cannot block on a polite QUIT, and frees
 *    everything.  NULL is accepted.
 */
#ifndef MAIL_E2E_SMTP_H
#define MAIL_E2E_SMTP_H

#include <stdbool.h>
#include <stdint.h>
#include <curl/curl.h>

#include "config.h"
#include "result.h"

struct smtp_send;

struct smtp_outcome {
	bool ok;                    /* message accepted (final 250) */
	enum result_class result;   /* when !ok */
	int code;                   /* last SMTP reply code, or -1 */
	char status[16];            /* its enhanced status code (RFC 3463), "" none */
	char error[RESULT_ERROR_MAX];
	int64_t t_done_ns;          /* monotonic: final reply after DATA read */
	char tls_version[16];
	int64_t cert_not_after;     /* 0: unknown */
};

struct smtp_send *smtp_send_start(CURLM *multi, const struct route *r, const char *bearer,
                                  const char *msg, size_t len,
                                  long timeout_ms, char *err, size_t errlen);
CURL *smtp_send_easy(const struct smtp_send *s);
void smtp_send_finish(struct smtp_send *s, CURLcode code, struct smtp_outcome *out);
void smtp_send_free(struct smtp_send *s);

#endif
