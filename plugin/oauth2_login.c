/*
 * oauth2_login.c - see oauth2_login.h: the entry, and the authorization-code
 * grant with PKCE and the loopback redirect (the device grant is in
 * oauth2_device.c, what both share in oauth2_login_io.c).
 */
#include "oauth2_login.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "oauth2_form.h"
#include "oauth2_login_io.h"
#include "oauth2_loopback.h"

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

/* Constant time: the state is what keeps another local process out. */
static bool same_state(const char *got, const char *want)
{
	size_t n = strlen(want), m = strlen(got);
	unsigned char diff = (unsigned char)(n != m);

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(want[i] ^ (i < m ? got[i] : 0));
	return diff == 0;
}

/* The browser came back with the login's state: exchange the code.  The
 * exit code. */
static int code_exchange(struct login *lg, struct oauth2_redirect *rd, const char *redirect, const char *verifier)
{
	const struct route *r = lg->r;
	struct oauth2_form f;
	struct login_reply b;
	char err[512];
	int rc;

	if (rd->error[0]) {
		oauth2_loopback_answer(rd, 200, "Sign-in refused", "mail-e2e got no access. You can close this tab.");
		log_error("oauth2-login [%s]: the sign-in was denied (%s%s%s)", r->name, rd->error,
		          rd->error_description[0] ? ": " : "", rd->error_description);
		return 1;
	}
	if (!rd->code[0]) {
		oauth2_loopback_answer(rd, 400, "No code", "The redirect carried no authorization code.");
		log_error("oauth2-login [%s]: the redirect carried no authorization code", r->name);
		return 1;
	}
	lg->hide[0] = rd->code;
	lg->hide[1] = verifier;
	oauth2_form_init(&f);
	oauth2_form_add(&f, "grant_type", "authorization_code");
	oauth2_form_add(&f, "code", rd->code);
	oauth2_form_add(&f, "redirect_uri", redirect);
	oauth2_form_add(&f, "client_id", r->oauth2_client_id);
	oauth2_form_add(&f, "code_verifier", verifier);
	oauth2_form_add(&f, "scope", r->oauth2_scope);
	rc = login_post(lg, "token endpoint", r->oauth2_token_url, &f, &b, err, sizeof(err));
	if (rc == LOGIN_INTERRUPTED) {
		oauth2_loopback_answer(rd, 200, "Sign-in stopped", "mail-e2e was interrupted; nothing was stored.");
		return login_stopped(lg);
	}
	if (rc != 0) {
		oauth2_loopback_answer(rd, 200, "Sign-in failed", "mail-e2e could not reach the token endpoint; see the terminal.");
		login_fail(lg, err);
		return 1;
	}
	rc = login_store(lg, &b);
	login_reply_free(&b);
	oauth2_loopback_answer(rd, 200, rc == 0 ? "Signed in" : "Sign-in failed",
	                       rc == 0 ? "mail-e2e stored its refresh token. You can close this tab."
	                               : "mail-e2e could not complete the sign-in; see the terminal.");
	return rc;
}

/* The redirect that carries state, within OAUTH2_LOGIN_WAIT_S; any other
 * request to "/" is refused and not acted on, whatever it says.  0, or the
 * exit code (an E! line said why). */
static int await_redirect(struct login *lg, struct oauth2_loopback *lb, const char *state,
                          struct oauth2_redirect *rd)
{
	int64_t end = clock_mono_ns() + (int64_t)OAUTH2_LOGIN_WAIT_S * NS_PER_S;
	unsigned refused = 0;
	char err[512];

	for (;;) {
		int64_t left = (end - clock_mono_ns()) / NS_PER_MS;
		int rc = oauth2_loopback_wait(lb, left > 0 ? (long)left : 1, lg->o->wake_fd, lg->o->stop, rd,
		                              err, sizeof(err));
		if (rc == LOOPBACK_INTERRUPTED)
			return login_stopped(lg);
		if (rc != 0 && refused > 0)
			log_error("oauth2-login [%s]: no redirect with this login's state within %d s "
			          "(%u refused: wrong or no state); nothing stored", lg->r->name, OAUTH2_LOGIN_WAIT_S, refused);
		else if (rc != 0)
			log_error("oauth2-login [%s]: no browser request within %d s", lg->r->name, OAUTH2_LOGIN_WAIT_S);
		if (rc != 0)
			return 1;
		if (same_state(rd->state, state))
			return 0;
		refused++;
		oauth2_loopback_answer(rd, 400, "State mismatch",
		                       "This answer does not belong to the sign-in mail-e2e started. Nothing was done with it.");
		oauth2_redirect_wipe(rd);
		log_warn("oauth2-login [%s]: refused a redirect without this login's state (not acted on; "
		         "an old browser tab, or another program?): still waiting", lg->r->name);
	}
}

static void ssh_hint(const struct login *lg, int port)
{
	char host[256];

	if (gethostname(host, sizeof(host)) != 0 || !host[0])
		snprintf(host, sizeof(host), "HOST");
	host[sizeof(host) - 1] = '\0';
	login_say(lg, "browser on another machine? forward the port from there first: ssh -L %d:127.0.0.1:%d %s",
	    port, port, host);
}

static int code_flow(struct login *lg)
{
	const struct route *r = lg->r;
	char verifier[64], state[32], challenge[OAUTH2_PKCE_CHALLENGE_LEN + 1], redirect[64], err[512];
	struct oauth2_loopback lb = { -1, 0, NULL, 0 };
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
	if (oauth2_loopback_listen(&lb, lg->o->port, err, sizeof(err)) != 0) {
		log_error("oauth2-login [%s]: %s", r->name, err);
		goto done;
	}
	snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%d/", lb.port);
	url = auth_request_url(r, redirect, state, challenge);
	if (!url) {
		log_error("oauth2-login [%s]: out of memory", r->name);
		goto done;
	}
	login_say(lg, "open this URL in a browser on this machine: %s", url);
	ssh_hint(lg, lb.port);
	login_say(lg, "waiting for the browser at %s (up to %d s)", redirect, OAUTH2_LOGIN_WAIT_S);
	if (await_redirect(lg, &lb, state, &rd) != 0)
		goto done;
	oauth2_loopback_close(&lb);
	rc = code_exchange(lg, &rd, redirect, verifier);
done:
	oauth2_loopback_answer(&rd, 500, "Error", "mail-e2e stopped.");
	oauth2_loopback_close(&lb);
	oauth2_redirect_wipe(&rd);
	explicit_bzero(verifier, sizeof(verifier));
	lg->hide[0] = lg->hide[1] = NULL;
	free(url);
	return rc;
}

int oauth2_login_run(const struct route *r, FILE *tty_out, const struct oauth2_login_opts *o)
{
	static const struct oauth2_login_opts none = { 0, -1, NULL };
	struct login lg = { r, tty_out, o ? o : &none, { NULL, NULL } };

	if (!r->oauth2_token_url || !r->oauth2_refresh_token_file) {
		log_error("oauth2-login [%s]: the route needs oauth2_token_url and oauth2_refresh_token_file", r->name);
		return 1;
	}
	if (r->oauth2_device_url) {
		if (lg.o->port)
			log_warn("oauth2-login [%s]: --oauth2-port is not used: the route signs in with the device "
			         "grant (oauth2_device_url)", r->name);
		return oauth2_device_flow(&lg);
	}
	if (r->oauth2_auth_url)
		return code_flow(&lg);
	log_error("oauth2-login [%s]: the route needs oauth2_device_url or oauth2_auth_url", r->name);
	return 1;
}
