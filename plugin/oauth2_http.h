/*
 * oauth2_http.h - one HTTPS POST to an OAuth2 endpoint (token or device
 * authorization), as a libcurl easy handle: shared by the token client
 * (oauth2.c, on the cycle's multi handle) and --oauth2-login
 * (oauth2_login.c, curl_easy_perform).
 *
 * The handle verifies the endpoint like the mail legs do (conn.c): the
 * route's tls_ca as CURLOPT_CAINFO when set, CURLOPT_CAPATH unset (the
 * bundle alone is cached per multi handle), insecure_skip_verify turns the
 * peer and host checks off.  Only https, no redirects, the reply body
 * capped at OAUTH2_REPLY_MAX, connect bounded by the route's
 * connect_timeout and the whole request by timeout_ms.  The body is
 * application/x-www-form-urlencoded (oauth2_form.h), "Accept:
 * application/json".  A client secret goes in HTTP Basic only
 * (CURLAUTH_BASIC, RFC 6749 §2.3.1); the body must not carry it.
 *
 * Contract:
 *  - oauth2_http_new() takes the form (its buffer moves into h; the
 *    caller's struct is left empty) and returns a new easy handle that
 *    points into h: h must stay in place and alive until the handle is
 *    cleaned up.  NULL with err set (allocation, an option libcurl refused);
 *    h then needs oauth2_http_free() all the same.
 *  - oauth2_http_status(): after the transfer, 0 with the HTTP status in
 *    *status, or -1 with err "token endpoint: timed out after 2.5s",
 *    "token endpoint: reply larger than 64 KiB", "token endpoint: <libcurl's
 *    error>".  elapsed_ns is how long the request ran (for the timeout text).
 *  - oauth2_http_free() wipes and frees the body, the credentials, the
 *    reply; it does not clean up the easy handle (the caller does, first).
 *  - what names the endpoint in err: "token endpoint" / "device endpoint".
 */
#ifndef MAIL_E2E_OAUTH2_HTTP_H
#define MAIL_E2E_OAUTH2_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <curl/curl.h>

#include "config.h"
#include "oauth2_form.h"

#define OAUTH2_REPLY_MAX (64 * 1024)

struct oauth2_http {
	const char *what;          /* "token endpoint" */
	struct oauth2_form body;   /* owned */
	char *user, *password;     /* Basic credentials, form-urlencoded; owned */
	struct curl_slist *headers;
	char *reply;               /* body read so far, NUL-terminated; owned */
	size_t reply_len;
	bool reply_over;           /* the endpoint sent more than OAUTH2_REPLY_MAX */
	char errbuf[CURL_ERROR_SIZE];
};

CURL *oauth2_http_new(struct oauth2_http *h, const char *what, const struct route *r,
                      const char *url, struct oauth2_form *form, long timeout_ms,
                      char *err, size_t errlen);
int oauth2_http_status(struct oauth2_http *h, CURL *easy, CURLcode code, int64_t elapsed_ns,
                       long *status, char *err, size_t errlen);
void oauth2_http_free(struct oauth2_http *h);

#endif
