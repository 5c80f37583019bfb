/*
 * oauth2_login.c - see oauth2_login.h.
 */
#include "oauth2_login.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "oauth2_form.h"
#include "oauth2_http.h"
#include "oauth2_loopback.h"
#include "oauth2_reply.h"
#include "secret_file.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define SLOW_DOWN_S 5
#define DEVICE_INTERVAL_S 5
#define DEVICE_EXPIRES_S 900   /* when the reply does not say (it must) */

struct reply_buf {
	long status;
	char *body;      /* NUL-terminated, or NULL: empty */
	size_t len;
};

static void say(FILE *out, const struct route *r, const char *fmt, ...) LOG_PRINTF(3, 4);

static void say(FILE *out, const struct route *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "I! oauth2-login [%s]: ", r->name);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}

static void reply_buf_free(struct reply_buf *b)
{
	if (b->body) {
		explicit_bzero(b->body, b->len);
		free(b->body);
	}
	memset(b, 0, sizeof(*b));
}

/* POST form to url and wait for the reply: 0, or -1 with err. */
static int post(const struct route *r, const char *what, const char *url, struct oauth2_form *f,
                struct reply_buf *out, char *err, size_t errlen)
{
	struct oauth2_http h;
	CURL *e;
	CURLcode code;
	int64_t t0;
	int rc;

	memset(out, 0, sizeof(*out));
	e = oauth2_http_new(&h, what, r, url, f, r->timeout_ms > 0 ? r->timeout_ms : 60000, err, errlen);
	if (!e) {
		oauth2_http_free(&h);
		return -1;
	}
	t0 = clock_mono_ns();
	code = curl_easy_perform(e);
	rc = oauth2_http_status(&h, e, code, clock_mono_ns() - t0, &out->status, err, errlen);
	if (rc == 0) {
		out->body = h.reply;
		out->len = h.reply_len;
		h.reply = NULL;
		h.reply_len = 0;
	}
	curl_easy_cleanup(e);
	oauth2_http_free(&h);
	return rc;
}

static const char *body_of(const struct reply_buf *b)
{
	return b->body ? b->body : "";
}

/* A token reply: its refresh token into the file.  The exit code. */
static int store(const struct route *r, const struct reply_buf *b, FILE *out)
{
	struct oauth2_reply rep;
	char err[512], why[512];
	int rc;

	if (oauth2_reply_parse(b->status, body_of(b), b->len, &rep, err, sizeof(err)) != 0) {
		oauth2_redact(err, r->oauth2_client_secret);
		log_error("oauth2-login [%s]: %s", r->name, err);
		oauth2_reply_free(&rep);
		return 1;
	}
	if (!rep.refresh_token) {
		log_error("oauth2-login [%s]: the token endpoint issued no refresh token (scope offline_access? Google: consent again)",
		          r->name);
		oauth2_reply_free(&rep);
		return 1;
	}
	rc = secret_file_replace(r->oauth2_refresh_token_file, rep.refresh_token, why, sizeof(why));
	oauth2_reply_free(&rep);
	if (rc < 0) {
		log_error("oauth2-login [%s]: cannot write the refresh token: %s", r->name, why);
		return 1;
	}
	if (rc == 1)
		log_warn("oauth2-login [%s]: %s", r->name, why);
	say(out, r, "refresh token written to %s (mode 0600)", r->oauth2_refresh_token_file);
	return 0;
}

static bool printable(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void sleep_s(long s)
{
	struct timespec ts = { s, 0 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --- device grant (RFC 8628) ------------------------------------------- */

struct device {
	char *device_code;          /* secret until used: heap, wiped */
	char user_code[128];
	char uri[1024];
	char uri_complete[1024];
	long expires_in, interval;
};

static int device_fields(const struct reply_buf *b, struct device *d, char *err, size_t errlen)
{
	const char *body = body_of(b);
	char *dc = malloc(SECRET_MAX);
	int rc;

	if (!dc) {
		snprintf(err, errlen, "device endpoint: out of memory");
		return -1;
	}
	rc = json_get_string(body, b->len, "device_code", dc, SECRET_MAX);
	if (rc == JSON_OK && printable(dc))
		d->device_code = strdup(dc);
	explicit_bzero(dc, SECRET_MAX);
	free(dc);
	if (json_get_string(body, b->len, "verification_uri", d->uri, sizeof(d->uri)) != JSON_OK)
		json_get_string(body, b->len, "verification_url", d->uri, sizeof(d->uri));   /* Google */
	if (json_get_string(body, b->len, "verification_uri_complete", d->uri_complete, sizeof(d->uri_complete)) != JSON_OK ||
	    !printable(d->uri_complete))
		d->uri_complete[0] = '\0';
	json_get_string(body, b->len, "user_code", d->user_code, sizeof(d->user_code));
	if (!d->device_code || !printable(d->user_code) || !printable(d->uri)) {
		snprintf(err, errlen, "device endpoint: reply lacks a usable device_code, user_code or verification_uri");
		return -1;
	}
	if (json_get_number(body, b->len, "expires_in", &d->expires_in) != JSON_OK || d->expires_in <= 0)
		d->expires_in = DEVICE_EXPIRES_S;
	if (json_get_number(body, b->len, "interval", &d->interval) != JSON_OK || d->interval <= 0)
		d->interval = DEVICE_INTERVAL_S;
	if (d->interval > 3600)
		d->interval = 3600;
	return 0;
}

static int device_start(const struct route *r, struct device *d, char *err, size_t errlen)
{
	struct oauth2_form f;
	struct reply_buf b;
	char code[64];
	int rc = -1;

	oauth2_form_init(&f);
	oauth2_form_add(&f, "client_id", r->oauth2_client_id);
	oauth2_form_add(&f, "scope", r->oauth2_scope);
	if (post(r, "device endpoint", r->oauth2_device_url, &f, &b, err, errlen) != 0)
		return -1;
	if (oauth2_reply_error(body_of(&b), b.len, code, sizeof(code), err, errlen) == 1)
		rc = -1;   /* err says what the endpoint said */
	else if (b.status < 200 || b.status > 299)
		snprintf(err, errlen, "device endpoint: HTTP %ld", b.status);
	else if (!json_valid(body_of(&b), b.len))
		snprintf(err, errlen, "device endpoint: reply is not JSON");
	else
		rc = device_fields(&b, d, err, errlen);
	reply_buf_free(&b);
	return rc;
}

/* One poll: -1 to poll again, else the exit code. */
static int device_poll_once(const struct route *r, struct device *d, FILE *out)
{
	struct oauth2_form f;
	struct reply_buf b;
	char code[64], err[512];
	int rc = 1;

	oauth2_form_init(&f);
	oauth2_form_add(&f, "grant_type", DEVICE_GRANT);
	oauth2_form_add(&f, "device_code", d->device_code);
	oauth2_form_add(&f, "client_id", r->oauth2_client_id);
	oauth2_form_add(&f, "scope", r->oauth2_scope);
	if (post(r, "token endpoint", r->oauth2_token_url, &f, &b, err, sizeof(err)) != 0) {
		log_error("oauth2-login [%s]: %s", r->name, err);
		return 1;
	}
	if (!oauth2_reply_error(body_of(&b), b.len, code, sizeof(code), err, sizeof(err)))
		rc = store(r, &b, out);
	else if (strcmp(code, "authorization_pending") == 0)
		rc = -1;
	else if (strcmp(code, "slow_down") == 0) {
		d->interval += SLOW_DOWN_S;
		rc = -1;
	} else if (strcmp(code, "access_denied") == 0)
		log_error("oauth2-login [%s]: the sign-in was denied (%s)", r->name, err);
	else if (strcmp(code, "expired_token") == 0)
		log_error("oauth2-login [%s]: the code expired before the sign-in was completed", r->name);
	else {
		oauth2_redact(err, r->oauth2_client_secret);
		log_error("oauth2-login [%s]: %s", r->name, err);
	}
	reply_buf_free(&b);
	return rc;
}

static int device_flow(const struct route *r, FILE *out)
{
	struct device d;
	char err[512];
	int64_t deadline;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	if (device_start(r, &d, err, sizeof(err)) != 0) {
		oauth2_redact(err, r->oauth2_client_secret);
		log_error("oauth2-login [%s]: %s", r->name, err);
		secret_free(d.device_code);
		return 1;
	}
	deadline = clock_mono_ns() + (int64_t)d.expires_in * NS_PER_S;
	say(out, r, "open %s and enter the code %s", d.uri, d.user_code);
	if (d.uri_complete[0])
		say(out, r, "or open %s", d.uri_complete);
	say(out, r, "waiting for the sign-in (the code expires in %ld s)", d.expires_in);
	while (rc < 0) {
		if (clock_mono_ns() + (int64_t)d.interval * NS_PER_S > deadline) {
			log_error("oauth2-login [%s]: the code expired before the sign-in was completed", r->name);
			rc = 1;
			break;
		}
		sleep_s(d.interval);
		rc = device_poll_once(r, &d, out);
	}
	secret_free(d.device_code);
	return rc;
}

/* --- authorization code + PKCE (RFC 6749 §4.1, RFC 7636, RFC 8252) ----- */

static int random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = getrandom(buf + got, n - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (got < n) {   /* no getrandom(): the device */
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		while (fd >= 0 && got < n) {
			ssize_t k = read(fd, buf + got, n - got);
			if (k <= 0 && errno != EINTR)
				break;
			if (k > 0)
				got += (size_t)k;
		}
		if (fd >= 0)
			close(fd);
	}
	return got == n ? 0 : -1;
}

/* A random base64url word of n bytes of entropy into out. */
static int random_word(size_t n, char *out, size_t cap)
{
	unsigned char raw[48];
	int rc = -1;

	if (n <= sizeof(raw) && random_bytes(raw, n) == 0 && oauth2_base64url(raw, n, out, cap) > 0)
		rc = 0;
	explicit_bzero(raw, sizeof(raw));
	return rc;
}

static bool is_google(const char *url)
{
	const char *h = strstr(url, "://");
	size_t n;

	h = h ? h + 3 : url;
	n = strcspn(h, "/:?#");
	return n == strlen("accounts.google.com") && strncasecmp(h, "accounts.google.com", n) == 0;
}

/* The URL the user opens; heap, or NULL. */
static char *auth_request_url(const struct route *r, const char *redirect, const char *state, const char *challenge)
{
	struct oauth2_form q;
	char *url = NULL;
	size_t n;

	oauth2_form_init(&q);
	oauth2_form_add(&q, "response_type", "code");
	oauth2_form_add(&q, "client_id", r->oauth2_client_id);
	oauth2_form_add(&q, "redirect_uri", redirect);
	oauth2_form_add(&q, "scope", r->oauth2_scope);
	oauth2_form_add(&q, "state", state);
	oauth2_form_add(&q, "code_challenge", challenge);
	oauth2_form_add(&q, "code_challenge_method", "S256");
	if (is_google(r->oauth2_auth_url)) {
		oauth2_form_add(&q, "access_type", "offline");
		oauth2_form_add(&q, "prompt", "consent");
	}
	if (!q.failed && q.buf) {
		n = strlen(r->oauth2_auth_url) + q.len + 2;
		url = malloc(n);
		if (url)
			snprintf(url, n, "%s%c%s", r->oauth2_auth_url, strchr(r->oauth2_auth_url, '?') ? '&' : '?', q.buf);
	}
	oauth2_form_free(&q);
	return url;
}

/* The browser came back: check it, exchange the code.  The exit code. */
static int code_exchange(const struct route *r, struct oauth2_redirect *rd, const char *state,
                         const char *redirect, const char *verifier, FILE *out)
{
	struct oauth2_form f;
	struct reply_buf b;
	char err[512];
	int rc;

	if (rd->error[0]) {
		oauth2_loopback_answer(rd, 200, "Sign-in refused", "mail-e2e got no access. You can close this tab.");
		log_error("oauth2-login [%s]: the sign-in was denied (%s%s%s)", r->name, rd->error,
		          rd->error_description[0] ? ": " : "", rd->error_description);
		return 1;
	}
	if (strcmp(rd->state, state) != 0) {
		oauth2_loopback_answer(rd, 400, "State mismatch",
		                       "This answer does not belong to the sign-in mail-e2e started. Nothing was stored.");
		log_error("oauth2-login [%s]: state mismatch: the redirect does not belong to this login, nothing stored", r->name);
		return 1;
	}
	if (!rd->code[0]) {
		oauth2_loopback_answer(rd, 400, "No code", "The redirect carried no authorization code.");
		log_error("oauth2-login [%s]: the redirect carried no authorization code", r->name);
		return 1;
	}
	oauth2_form_init(&f);
	oauth2_form_add(&f, "grant_type", "authorization_code");
	oauth2_form_add(&f, "code", rd->code);
	oauth2_form_add(&f, "redirect_uri", redirect);
	oauth2_form_add(&f, "client_id", r->oauth2_client_id);
	oauth2_form_add(&f, "code_verifier", verifier);
	oauth2_form_add(&f, "scope", r->oauth2_scope);
	if (post(r, "token endpoint", r->oauth2_token_url, &f, &b, err, sizeof(err)) != 0) {
		oauth2_loopback_answer(rd, 200, "Sign-in failed", "mail-e2e could not reach the token endpoint; see the terminal.");
		log_error("oauth2-login [%s]: %s", r->name, err);
		return 1;
	}
	rc = store(r, &b, out);
	reply_buf_free(&b);
	oauth2_loopback_answer(rd, 200, rc == 0 ? "Signed in" : "Sign-in failed",
	                       rc == 0 ? "mail-e2e stored its refresh token. You can close this tab."
	                               : "mail-e2e could not complete the sign-in; see the terminal.");
	return rc;
}

static int code_flow(const struct route *r, FILE *out)
{
	char verifier[64], state[32], challenge[OAUTH2_PKCE_CHALLENGE_LEN + 1], redirect[64], err[512];
	struct oauth2_loopback lb = { -1, 0 };
	struct oauth2_redirect rd;
	char *url = NULL;
	int rc = 1;

	memset(&rd, 0, sizeof(rd));
	rd.fd = -1;
	if (random_word(32, verifier, sizeof(verifier)) != 0 || random_word(16, state, sizeof(state)) != 0) {
		log_error("oauth2-login [%s]: no random bytes", r->name);
		goto done;
	}
	oauth2_pkce_challenge(verifier, challenge);
	if (oauth2_loopback_listen(&lb, err, sizeof(err)) != 0) {
		log_error("oauth2-login [%s]: %s", r->name, err);
		goto done;
	}
	snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%d/", lb.port);
	url = auth_request_url(r, redirect, state, challenge);
	if (!url) {
		log_error("oauth2-login [%s]: out of memory", r->name);
		goto done;
	}
	say(out, r, "open this URL in a browser on this machine: %s", url);
	say(out, r, "waiting for the browser at %s (up to %d s)", redirect, OAUTH2_LOGIN_WAIT_S);
	if (oauth2_loopback_wait(&lb, OAUTH2_LOGIN_WAIT_S * 1000L, &rd, err, sizeof(err)) != 0) {
		log_error("oauth2-login [%s]: %s", r->name, err);
		goto done;
	}
	oauth2_loopback_close(&lb);
	rc = code_exchange(r, &rd, state, redirect, verifier, out);
done:
	oauth2_loopback_answer(&rd, 500, "Error", "mail-e2e stopped.");
	oauth2_loopback_close(&lb);
	oauth2_redirect_wipe(&rd);
	explicit_bzero(verifier, sizeof(verifier));
	free(url);
	return rc;
}

int oauth2_login_run(const struct route *r, FILE *tty_out)
{
	if (!r->oauth2_token_url || !r->oauth2_refresh_token_file) {
		log_error("oauth2-login [%s]: the route needs oauth2_token_url and oauth2_refresh_token_file", r->name);
		return 1;
	}
	if (r->oauth2_device_url)
		return device_flow(r, tty_out);
	if (r->oauth2_auth_url)
		return code_flow(r, tty_out);
	log_error("oauth2-login [%s]: the route needs oauth2_device_url or oauth2_auth_url", r->name);
	return 1;
}
