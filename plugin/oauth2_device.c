/*
 * oauth2_device.c - the device grant of --oauth2-login (RFC 8628), see
 * oauth2_login.h: POST client_id and scope to oauth2_device_url, print
 * where to go and the code to enter, poll the token endpoint every
 * `interval` seconds (authorization_pending: on; slow_down: 5 s more from
 * then on; access_denied: "denied"; expired_token or expires_in passed:
 * "expired").  The device code is a secret until used: heap, wiped, and
 * scrubbed from every error text.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "oauth2_login_io.h"
#include "oauth2_reply.h"
#include "secret_file.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define SLOW_DOWN_S 5
#define DEVICE_INTERVAL_S 5
#define DEVICE_EXPIRES_S 900   /* when the reply does not say (it must) */

struct device {
	char *device_code;          /* secret until used: heap, wiped */
	char user_code[128];
	char uri[1024];
	char uri_complete[1024];
	long expires_in, interval;
};

/* The numbers of the device reply, within sane bounds: a huge expires_in
 * (99999999999) must not overflow the deadline's nanoseconds. */
static void device_numbers(const struct login_reply *b, struct device *d)
{
	if (json_get_number(login_body(b), b->len, "expires_in", &d->expires_in) != JSON_OK || d->expires_in <= 0)
		d->expires_in = DEVICE_EXPIRES_S;
	if (d->expires_in > OAUTH2_DEVICE_EXPIRES_MAX_S)
		d->expires_in = OAUTH2_DEVICE_EXPIRES_MAX_S;
	if (json_get_number(login_body(b), b->len, "interval", &d->interval) != JSON_OK || d->interval <= 0)
		d->interval = DEVICE_INTERVAL_S;
	if (d->interval > 3600)
		d->interval = 3600;
}

static int device_fields(const struct login_reply *b, struct device *d, char *err, size_t errlen)
{
	const char *body = login_body(b);
	char *dc = malloc(SECRET_MAX);
	int rc;

	if (!dc) {
		snprintf(err, errlen, "device endpoint: out of memory");
		return -1;
	}
	rc = json_get_string(body, b->len, "device_code", dc, SECRET_MAX);
	if (rc == JSON_OK && login_printable(dc))
		d->device_code = strdup(dc);
	explicit_bzero(dc, SECRET_MAX);
	free(dc);
	if (json_get_string(body, b->len, "verification_uri", d->uri, sizeof(d->uri)) != JSON_OK)
		json_get_string(body, b->len, "verification_url", d->uri, sizeof(d->uri));   /* Google */
	if (json_get_string(body, b->len, "verification_uri_complete", d->uri_complete, sizeof(d->uri_complete)) != JSON_OK ||
	    !login_printable(d->uri_complete))
		d->uri_complete[0] = '\0';
	json_get_string(body, b->len, "user_code", d->user_code, sizeof(d->user_code));
	if (!d->device_code || !login_printable(d->user_code) || !login_printable(d->uri)) {
		snprintf(err, errlen, "device endpoint: reply lacks a usable device_code, user_code or verification_uri");
		return -1;
	}
	device_numbers(b, d);
	return 0;
}

/* 0, LOGIN_INTERRUPTED, or -1 with err. */
static int device_start(const struct login *lg, struct device *d, char *err, size_t errlen)
{
	const struct route *r = lg->r;
	struct oauth2_form f;
	struct login_reply b;
	char code[64];
	int rc = -1;

	oauth2_form_init(&f);
	oauth2_form_add(&f, "client_id", r->oauth2_client_id);
	oauth2_form_add(&f, "scope", r->oauth2_scope);
	rc = login_post(lg, "device endpoint", r->oauth2_device_url, &f, &b, err, errlen);
	if (rc != 0)
		return rc;
	rc = -1;
	if (oauth2_reply_error(login_body(&b), b.len, code, sizeof(code), err, errlen) == 1)
		rc = -1;   /* err says what the endpoint said */
	else if (b.status < 200 || b.status > 299)
		snprintf(err, errlen, "device endpoint: HTTP %ld", b.status);
	else if (!json_valid(login_body(&b), b.len))
		snprintf(err, errlen, "device endpoint: reply is not JSON");
	else
		rc = device_fields(&b, d, err, errlen);
	login_reply_free(&b);
	return rc;
}

/* One poll: -1 to poll again, else the exit code. */
static int device_poll_once(const struct login *lg, struct device *d)
{
	const struct route *r = lg->r;
	struct oauth2_form f;
	struct login_reply b;
	char code[64], err[512];
	int rc = 1;

	oauth2_form_init(&f);
	oauth2_form_add(&f, "grant_type", DEVICE_GRANT);
	oauth2_form_add(&f, "device_code", d->device_code);
	oauth2_form_add(&f, "client_id", r->oauth2_client_id);
	oauth2_form_add(&f, "scope", r->oauth2_scope);
	rc = login_post(lg, "token endpoint", r->oauth2_token_url, &f, &b, err, sizeof(err));
	if (rc == LOGIN_INTERRUPTED)
		return login_stopped(lg);
	if (rc != 0) {
		login_fail(lg, err);
		return 1;
	}
	rc = 1;
	if (!oauth2_reply_error(login_body(&b), b.len, code, sizeof(code), err, sizeof(err)))
		rc = login_store(lg, &b);
	else if (strcmp(code, "authorization_pending") == 0)
		rc = -1;
	else if (strcmp(code, "slow_down") == 0) {
		d->interval += SLOW_DOWN_S;
		rc = -1;
	} else if (strcmp(code, "access_denied") == 0) {
		char denied[600];
		snprintf(denied, sizeof(denied), "the sign-in was denied (%s)", err);
		login_fail(lg, denied);
	} else if (strcmp(code, "expired_token") == 0)
		log_error("oauth2-login [%s]: the code expired before the sign-in was completed", r->name);
	else
		login_fail(lg, err);
	login_reply_free(&b);
	return rc;
}

int oauth2_device_flow(struct login *lg)
{
	const struct route *r = lg->r;
	struct device d;
	char err[512];
	int64_t deadline;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	rc = device_start(lg, &d, err, sizeof(err));
	if (rc != 0) {
		if (rc == LOGIN_INTERRUPTED)
			login_stopped(lg);
		else
			login_fail(lg, err);
		secret_free(d.device_code);
		return 1;
	}
	lg->hide[0] = d.device_code;
	deadline = clock_mono_ns() + (int64_t)d.expires_in * NS_PER_S;
	login_say(lg, "open %s and enter the code %s", d.uri, d.user_code);
	if (d.uri_complete[0])
		login_say(lg, "or open %s", d.uri_complete);
	login_say(lg, "waiting for the sign-in (the code expires in %ld s)", d.expires_in);
	rc = -1;
	while (rc < 0) {
		if (clock_mono_ns() + (int64_t)d.interval * NS_PER_S > deadline) {
			log_error("oauth2-login [%s]: the code expired before the sign-in was completed", r->name);
			rc = 1;
			break;
		}
		if (!login_pause_ms(lg, (int64_t)d.interval * 1000)) {
			rc = login_stopped(lg);
			break;
		}
		rc = device_poll_once(lg, &d);
	}
	lg->hide[0] = NULL;
	secret_free(d.device_code);
	return rc;
}

