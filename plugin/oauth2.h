/*
 * oauth2.h - the built-in OAuth2 token client (SPEC §10, issue 12): access
 * tokens for the XOAUTH2 / OAUTHBEARER legs of routes that set
 * oauth2_token_url, fetched on the cycle's own multi handle so a slow
 * endpoint delays no other route.
 *
 * Grants: with oauth2_refresh_token_file the refresh-token grant (RFC 6749
 * §6: grant_type, refresh_token, client_id, scope when set), else the
 * client-credentials grant (§4.4: grant_type, client_id, scope when set).
 * A client secret goes in HTTP Basic only (oauth2_http.h).  The refresh
 * token is read from its file for every request (secret_file_read(): first
 * line, refused if others may read it, one W! line per account if its
 * group may).  A reply with a new refresh_token replaces the file
 * atomically (secret_file_replace()); if that fails: one E! line, the old
 * file stays, and the new token is kept in memory and used (and written
 * again) while the file still holds the token it replaced.
 *
 * Cache: one entry per account (oauth2_cache_key(): token URL + client id
 * + refresh-token file, or + scope for client credentials), shared by all
 * routes of the process.  A token is reused until 60 s before its
 * expires_in, counted from the moment its request started; a reply without
 * expires_in serves until the next oauth2_cycle_begin(); one whose
 * expires_in is 60 s or less serves only the routes that waited for it.
 * Routes of one account that ask while a request is under way share it.
 * Tokens are wiped when dropped.
 *
 * Contract (one thread; none of these may be called from inside a libcurl
 * callback):
 *  - oauth2_token(): 1: *token is a heap copy of a cached token, the caller
 *    frees it with secret_free().  0: a request is under way (started now,
 *    or one of the same account joined): *w is the caller's wait; poll it
 *    with oauth2_wait_result() after each oauth2_on_done() (any time is
 *    safe), release it with oauth2_wait_free().  timeout_ms bounds a
 *    request this call starts (a joined request keeps its own bound).
 *    -1: err holds one line (refresh-token file unreadable, no token URL,
 *    the request could not be started; a missing refresh-token file says
 *    "no refresh token yet (FILE does not exist): run --oauth2-login ROUTE
 *    once, on a terminal").  *token and *w are NULL unless set as above.
 *    timeout_ms also bounds the caller's wait (oauth2_wait_result()).
 *  - oauth2_owns(easy): is easy one of the token requests?  The cycle asks
 *    for each CURLMSG_DONE and then calls oauth2_on_done(easy, result),
 *    which removes easy from its multi handle and cleans it up (the caller
 *    must not touch easy afterwards), caches the token, rotates the file,
 *    and makes every wait of that request ready.
 *  - oauth2_wait_result(): 1: *token set (caller frees with secret_free());
 *    0: still under way; -1: the request failed, err says why (oauth2_reply.h
 *    texts, an endpoint's error code in plain words first: "refresh token
 *    expired or revoked: run --oauth2-login ROUTE again (invalid_grant:
 *    Token has been expired or revoked.)", "token endpoint: HTTP 500",
 *    "token endpoint: timed out after 10.0s", ...), or the wait's own
 *    bound passed with the request still under way ("token endpoint: timed
 *    out after 10.0s": the route gets its line on time).  A result once
 *    given stays: every later call returns the same (a fresh copy of the
 *    token each time).
 *  - oauth2_wait_free(w): the route is done with w (NULL is fine).  The
 *    last wait of a client-credentials request still under way aborts it.
 *    A refresh-token request runs on without waits (issue 19: once sent,
 *    the endpoint may have rotated the refresh token, and only its reply
 *    carries the new one), bounded by OAUTH2_FINISH_MS or the route's
 *    timeout if longer; it stays the account's request, so a route that
 *    asks meanwhile joins it, and when it ends its token is cached, its
 *    refresh token stored, and one I! (or W!) line says so.  The caller
 *    keeps driving the multi handle while oauth2_busy().
 *  - oauth2_busy(): a request is on the multi handle (the handle must not
 *    be cleaned up before it ends, unless by oauth2_shutdown()).
 *  - oauth2_token_refused(r, token): the mail server refused token; the
 *    account's cached token is dropped if it is that token (NULL: whatever
 *    is cached), so the next oauth2_token() fetches a new one.
 *  - oauth2_cycle_begin(): call at the start of every cycle: drops tokens
 *    without expires_in and expired ones.
 *  - oauth2_shutdown(): at exit: aborts requests under way (call it before
 *    the multi handle is cleaned up; let them finish first while
 *    oauth2_busy(), as long as the exit may wait), makes one last attempt
 *    to store a rotated refresh token the file did not take (else an E!
 *    line says it is lost), wipes and frees every entry.  Waits still held
 *    stay valid (they report -1 "shut down") until freed.  Nothing else
 *    drops the cache: a new multi handle (a CA file changed) keeps it.
 *  - err texts and logs never hold a token or a secret: the endpoint's
 *    error_description is scrubbed of the refresh token and client secret.
 */
#ifndef MAIL_E2E_OAUTH2_H
#define MAIL_E2E_OAUTH2_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

#include "config.h"

#define OAUTH2_EARLY_S 60   /* reuse a token until this long before it expires */
/* A refresh-token request, once sent, may run this long (or the route's
 * timeout, if longer) with no route waiting for it. */
#define OAUTH2_FINISH_MS 60000

struct oauth2_wait;

int oauth2_token(CURLM *multi, const struct route *r, long timeout_ms, char **token,
                 struct oauth2_wait **w, char *err, size_t errlen);
bool oauth2_owns(CURL *easy);
void oauth2_on_done(CURL *easy, CURLcode code);
int oauth2_wait_result(struct oauth2_wait *w, char **token, char *err, size_t errlen);
void oauth2_wait_free(struct oauth2_wait *w);
bool oauth2_busy(void);
void oauth2_token_refused(const struct route *r, const char *token);
void oauth2_cycle_begin(void);
void oauth2_shutdown(void);

#endif
