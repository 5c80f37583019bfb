/*
 * oauth2_login.h - `mail-e2e -c FILE --oauth2-login ROUTE` (SPEC §10): the
 * one-time consent that puts a refresh token in the route's
 * oauth2_refresh_token_file.  Interactive and blocking (curl_easy_perform).
 *
 * With oauth2_device_url: the device grant (RFC 8628).  POST client_id and
 * scope to the device URL; print verification_uri (Google calls it
 * verification_url; verification_uri_complete as well when given) and the
 * user_code; poll oauth2_token_url with grant_type
 * urn:ietf:params:oauth:grant-type:device_code every `interval` seconds
 * (default 5), authorization_pending: poll on, slow_down: 5 s more from
 * then on, access_denied: "denied", expired_token or the device code's
 * expires_in passed: "expired".
 *
 * Else with oauth2_auth_url: the authorization-code grant with PKCE
 * (RFC 7636 S256: a verifier of 32 random bytes from getrandom(), base64url,
 * the challenge BASE64URL(SHA-256(verifier))) and a random state, the
 * redirect to http://127.0.0.1:PORT/ on a free port or the one given
 * (--oauth2-port, for `ssh -L PORT:127.0.0.1:PORT HOST` from a desktop,
 * a line that is printed too) (RFC 8252, oauth2_loopback.h).  The URL to open is oauth2_auth_url (+ '?' or '&')
 * response_type=code, client_id, redirect_uri, scope (when set), state,
 * code_challenge, code_challenge_method=S256; when the authorization URL's
 * host is accounts.google.com also access_type=offline and prompt=consent
 * (without them Google issues no refresh token on a second consent).  It
 * waits OAUTH2_LOGIN_WAIT_S for the browser.  A redirect is acted on only
 * when it carries the login's state (RFC 6749 §10.12), whatever else it
 * carries (an error= included): any other is answered 400 "State
 * mismatch", one W! line says so, and the wait goes on (a local process
 * cannot end or steer the login).  With the right state: an error is
 * "denied", else the code is exchanged (grant_type=authorization_code,
 * code, redirect_uri, client_id, code_verifier, scope when set) and the
 * browser answered with a short page.
 *
 * Both: a client secret goes in HTTP Basic only; TLS as the mail legs
 * (route tls_ca / insecure_skip_verify); each request bounded by the
 * route's timeout.  The token reply must carry a refresh_token; it is
 * written with secret_file_replace() (mode 0600, atomic).
 *
 * Interruption: when *o->stop becomes non-zero (SIGINT, SIGTERM) every
 * wait ends at once (the browser's, the device polls' sleep, a request
 * under way: o->wake_fd, the signal handler's non-blocking self-pipe, is
 * polled with each and drained), nothing is written, and the login ends
 * with "E! oauth2-login [ROUTE]: interrupted: nothing written".
 *
 * Contract: instructions go to tty_out as "I! " lines (the URL to open,
 * the code to enter); errors as one `E! ` line through log_error().  Never
 * prints a token, a code, the PKCE verifier, a device code or a secret
 * (an endpoint's error text is scrubbed of all of them).  Returns the exit
 * code: 0 (written), or 1.  libcurl must be initialised
 * (curl_global_init*) by the caller.
 */
#ifndef MAIL_E2E_OAUTH2_LOGIN_H
#define MAIL_E2E_OAUTH2_LOGIN_H

#include <signal.h>
#include <stdio.h>

#include "config.h"

#define OAUTH2_LOGIN_WAIT_S 300   /* for the browser's redirect */
#define OAUTH2_DEVICE_EXPIRES_MAX_S 3600   /* a device code's expires_in is cut to this */

struct oauth2_login_opts {
	int port;                       /* the loopback redirect's port, 0: a free one */
	int wake_fd;                    /* readable after a signal, -1: none */
	volatile sig_atomic_t *stop;    /* non-zero: the user wants out; NULL: never */
};

int oauth2_login_run(const struct route *r, FILE *tty_out, const struct oauth2_login_opts *o);

#endif
