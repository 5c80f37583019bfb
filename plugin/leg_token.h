/*
 * leg_token.h - where a leg's OAuth2 access token comes from: nowhere (the
 * leg logs in with a password), the route's *_oauth2_token_file (read
 * again for every probe, so an outside helper may refresh it), or the
 * built-in token client (oauth2.c, SPEC §10), whose request may take a
 * while on the cycle's multi handle.
 *
 * Contract:
 *  - leg_token_begin(): 1: *token is ready (NULL for a password leg; else a
 *    heap copy the caller frees with secret_free()); 0: a token request is
 *    under way, poll it with leg_token_poll() (same returns) after the
 *    multi handle moved; -1: err holds one line, starting "OAuth2 token: ".
 *  - leg_token_end() drops a wait still under way (its request is aborted
 *    when no other route waits for it); safe to call more than once.
 */
#ifndef MAIL_E2E_LEG_TOKEN_H
#define MAIL_E2E_LEG_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

#include "config.h"

struct oauth2_wait;

struct leg_token {
	struct oauth2_wait *wait;   /* NULL: nothing under way */
};

int leg_token_begin(struct leg_token *lt, CURLM *multi, const struct route *r, bool imap,
                    long timeout_ms, char **token, char *err, size_t errlen);
int leg_token_poll(struct leg_token *lt, char **token, char *err, size_t errlen);
bool leg_token_waiting(const struct leg_token *lt);
void leg_token_end(struct leg_token *lt);

/* The mail server refused the leg's login: a token from the built-in
 * client is dropped, so the next probe fetches a new one. */
void leg_token_refused(const struct route *r, bool imap);

#endif
