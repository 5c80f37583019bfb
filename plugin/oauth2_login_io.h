/*
 * oauth2_login_io.h - what the two grants of --oauth2-login share
 * (oauth2_login.c: authorization code + PKCE; oauth2_device.c: the device
 * grant): one login's context, its I! and E! lines, interruptible waits
 * and requests, and storing the refresh token.  Internal to those three
 * files; see oauth2_login.h for the contract the user sees.
 *
 *  - login_say(): one "I! oauth2-login [ROUTE]: ..." line on lg->out.
 *  - login_fail(): one E! line from an endpoint's or libcurl's text,
 *    scrubbed of the client secret and of lg->hide[] (the code, the PKCE
 *    verifier, the device code: an endpoint may quote what it was sent;
 *    short ones too).
 *  - login_interrupted(): the user asked to stop (SIGINT, SIGTERM);
 *    login_stopped() says "interrupted: nothing written" and returns 1.
 *  - login_pause_ms(): sleeps, but false at once when interrupted.
 *  - login_post(): one POST, bounded by the route's timeout, on a private
 *    multi handle that also watches lg->o->wake_fd: 0 with *out (free it
 *    with login_reply_free()), LOGIN_INTERRUPTED, or -1 with err.
 *  - login_store(): a token reply's refresh token into the route's file
 *    (never when interrupted); the exit code, with its I! or E! line.
 */
#ifndef MAIL_E2E_OAUTH2_LOGIN_IO_H
#define MAIL_E2E_OAUTH2_LOGIN_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "oauth2_form.h"
#include "oauth2_login.h"

#define LOGIN_INTERRUPTED 2

struct login {
	const struct route *r;
	FILE *out;
	const struct oauth2_login_opts *o;
	const char *hide[2];
};

struct login_reply {
	long status;
	char *body;      /* NUL-terminated, or NULL: empty */
	size_t len;
};

void login_say(const struct login *lg, const char *fmt, ...) LOG_PRINTF(2, 3);
void login_fail(const struct login *lg, const char *text);
bool login_interrupted(const struct login *lg);
int login_stopped(const struct login *lg);
bool login_pause_ms(const struct login *lg, int64_t ms);
int login_post(const struct login *lg, const char *what, const char *url, struct oauth2_form *f,
               struct login_reply *out, char *err, size_t errlen);
const char *login_body(const struct login_reply *b);
void login_reply_free(struct login_reply *b);
int login_store(const struct login *lg, const struct login_reply *b);
bool login_printable(const char *s);

/* The device grant (oauth2_device.c); the exit code. */
int oauth2_device_flow(struct login *lg);

#endif
