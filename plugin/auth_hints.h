/*
 * auth_hints.h - plain words and the next step for a mail server's login
 * refusal whose text alone leaves a first-time user guessing (issue 19):
 * Microsoft 365's policy refusals (535 5.7.139: SMTP AUTH turned off for
 * the mailbox or tenant; 550 5.7.30: no Basic authentication for client
 * submission, the default from the end of December 2026), Google's 534
 * 5.7.9 (an app password or OAuth2 wanted) and 5.7.14, and an OAuth2
 * access token the server refused (the SASL error challenge's
 * {"status":"401",...}, RFC 7628's "invalid_token", "insufficient_scope").
 * Pure and table-driven: one row per refusal, the first that matches wins.
 *
 * Contract:
 *  - auth_hint_add(reply, err, cap): reply is the server's last reply as
 *    conn_watch kept it (SMTP: the whole reply, its lines joined; IMAP: the
 *    tagged line), err the leg's error text so far (it may hold the decoded
 *    SASL challenge), both NUL-terminated, either may be NULL or "".  When a
 *    row matches, err becomes "<err>; <hint>"; when that does not fit in
 *    cap, err is cut (at a UTF-8 boundary, "..." marking the cut) so the
 *    hint stays whole.  Returns 1 when a hint was added, else 0 (err
 *    untouched).  An enhanced status code ("5.7.30") matches only as a whole
 *    code, so 5.7.3 never matches 5.7.30; words match without regard to case.
 *  - auth_hint_for(): the hint alone, or NULL (for tests and docs).
 *  - auth_hint_no_auth(): the next step when a username is set and the
 *    EHLO reply lists no AUTH, from the port and whether TLS was up (a
 *    relay port, AUTH only after STARTTLS); never NULL, a static string.
 */
#ifndef MAIL_E2E_AUTH_HINTS_H
#define MAIL_E2E_AUTH_HINTS_H

#include <stdbool.h>
#include <stddef.h>

const char *auth_hint_for(const char *reply, const char *err);
int auth_hint_add(const char *reply, char *err, size_t cap);
const char *auth_hint_no_auth(int port, bool tls_up);

#endif
