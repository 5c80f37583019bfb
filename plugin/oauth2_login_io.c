/*
 * oauth2_login_io.c - see oauth2_login_io.h.
 */
#include "oauth2_login_io.h"

#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>

#include "clock.h"
#include "oauth2_http.h"
#include "oauth2_reply.h"
#include "secret_file.h"

void login_say(const struct login *lg, const char *fmt, ...)
{
	va_list ap;

	fprintf(lg->out, "I! oauth2-login [%s]: ", lg->r->name);
	va_start(ap, fmt);
	vfprintf(lg->out, fmt, ap);
	va_end(ap);
	fputc('\n', lg->out);
	fflush(lg->out);
}

bool login_interrupted(const struct login *lg)
{
	return lg->o->stop && *lg->o->stop;
}

int login_stopped(const struct login *lg)
{
	log_error("oauth2-login [%s]: interrupted: nothing written", lg->r->name);
	return 1;
}

/* One E! line from an endpoint's or libcurl's text, scrubbed. */
void login_fail(const struct login *lg, const char *text)
{
	char err[512];

	snprintf(err, sizeof(err), "%s", text);
	oauth2_redact(err, lg->r->oauth2_client_secret);
	for (size_t i = 0; i < sizeof(lg->hide) / sizeof(lg->hide[0]); i++)
		oauth2_redact(err, lg->hide[i]);
	log_error("oauth2-login [%s]: %s", lg->r->name, err);
}

static void drain(int fd)
{
	char buf[64];

	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Wait ms, or less when the user asks to stop: false then. */
bool login_pause_ms(const struct login *lg, int64_t ms)
{
	int64_t end = clock_mono_ns() + ms * NS_PER_MS;

	while (!login_interrupted(lg)) {
		int64_t left = (end - clock_mono_ns()) / NS_PER_MS;
		struct pollfd p = { lg->o->wake_fd, POLLIN, 0 };

		if (left <= 0)
			return true;
		if (poll(&p, 1, left > 1000 ? 1000 : (int)left + 1) > 0 && p.revents)
			drain(lg->o->wake_fd);
	}
	return false;
}

void login_reply_free(struct login_reply *b)
{
	if (b->body) {
		explicit_bzero(b->body, b->len);
		free(b->body);
	}
	memset(b, 0, sizeof(*b));
}

/* curl_easy_perform(), but on a private multi handle whose wait also
 * watches the signal pipe: LOGIN_INTERRUPTED at once, else 0 with *code. */
static int perform(const struct login *lg, CURL *e, CURLcode *code)
{
	CURLM *m = curl_multi_init();
	struct curl_waitfd w = { lg->o->wake_fd, CURL_WAIT_POLLIN, 0 };
	int rc = -1, running;
	CURLMsg *msg;

	*code = CURLE_OUT_OF_MEMORY;
	if (!m || curl_multi_add_handle(m, e) != CURLM_OK) {
		if (m)
			curl_multi_cleanup(m);
		return 0;
	}
	while (rc < 0) {
		int left;
		if (curl_multi_perform(m, &running) != CURLM_OK)
			rc = 0;
		while ((msg = curl_multi_info_read(m, &left)))
			if (msg->msg == CURLMSG_DONE) {
				*code = msg->data.result;
				rc = 0;
			}
		if (rc < 0 && login_interrupted(lg))
			rc = LOGIN_INTERRUPTED;
		if (rc < 0 && curl_multi_wait(m, lg->o->wake_fd >= 0 ? &w : NULL, lg->o->wake_fd >= 0 ? 1 : 0,
		                              1000, NULL) != CURLM_OK)
			rc = 0;
		if (w.revents)
			drain(lg->o->wake_fd);
		w.revents = 0;
	}
	curl_multi_remove_handle(m, e);
	curl_multi_cleanup(m);
	return rc;
}

/* POST form to url and wait for the reply: 0, LOGIN_INTERRUPTED, or -1 with err. */
int login_post(const struct login *lg, const char *what, const char *url, struct oauth2_form *f,
                struct login_reply *out, char *err, size_t errlen)
{
	const struct route *r = lg->r;
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
	rc = perform(lg, e, &code);
	if (rc == 0)
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

const char *login_body(const struct login_reply *b)
{
	return b->body ? b->body : "";
}

/* A token reply: its refresh token into the file.  The exit code. */
int login_store(const struct login *lg, const struct login_reply *b)
{
	const struct route *r = lg->r;
	struct oauth2_reply rep;
	char err[512], why[512];
	int rc;

	if (oauth2_reply_parse(b->status, login_body(b), b->len, &rep, err, sizeof(err)) != 0) {
		login_fail(lg, err);
		oauth2_reply_free(&rep);
		return 1;
	}
	if (!rep.refresh_token) {
		log_error("oauth2-login [%s]: the token endpoint issued no refresh token (scope offline_access? Google: consent again)",
		          r->name);
		oauth2_reply_free(&rep);
		return 1;
	}
	if (login_interrupted(lg)) {   /* the user asked to stop: nothing written */
		oauth2_reply_free(&rep);
		return login_stopped(lg);
	}
	rc = secret_file_replace(r->oauth2_refresh_token_file, rep.refresh_token, why, sizeof(why));
	oauth2_reply_free(&rep);
	if (rc < 0) {
		log_error("oauth2-login [%s]: cannot write the refresh token: %s", r->name, why);
		return 1;
	}
	if (rc == 1)
		log_warn("oauth2-login [%s]: %s", r->name, why);
	login_say(lg, "refresh token written to %s (mode 0600)", r->oauth2_refresh_token_file);
	return 0;
}

bool login_printable(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

