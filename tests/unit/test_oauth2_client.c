/*
 * test_oauth2_client.c - the token client (plugin/oauth2.c) on a multi
 * handle of its own, as the cycle drives it, against the fake
 * authorization server (tests/fake/authserver.py, started here on
 * 127.0.0.1 and stopped by its PID; its script file is rewritten between
 * steps and its request log counted).  Checks: one request for routes of
 * one account asking together, reuse until 60 s before expiry, one cycle
 * without expires_in, rotation written 0600, a failed rotation write kept
 * in memory and used, the endpoint's error texts, HTTP 500, a stalled
 * endpoint bounded by the timeout, an abandoned request aborted, Basic
 * client authentication with no secret in the body, TLS verification, a
 * refused token dropped, shutdown with a wait still held; issue 19: a
 * refresh whose route stopped waiting runs on and stores its rotated
 * refresh token (a later route joins it), expires_in 2^63-1 is cut.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "clock.h"
#include "oauth2.h"
#include "secret_file.h"
#include "unit.h"

static char dir[128], script_path[256], log_path[256], token_url[600], ca[512];
static pid_t server = -1;
static CURLM *multi;

static void write_text(const char *path, const char *text, mode_t mode)
{
	char tmp[300];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(tmp, mode);
	rename(tmp, path);
}

static int read_text(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

static void script(const char *text)
{
	write_text(script_path, text, 0600);
}

/* Lines of the request log holding every one of the needles. */
static int requests(const char *needle1, const char *needle2)
{
	static char buf[1 << 20];
	int n = 0;

	read_text(log_path, buf, sizeof(buf));
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, "\"/token\"") && (!needle1 || strstr(line, needle1)) && (!needle2 || strstr(line, needle2)))
			n++;
	return n;
}

static int start_server(void)
{
	char url_path[300], buf[512];

	snprintf(dir, sizeof(dir), "/tmp/me2e-oauth2c.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(script_path, sizeof(script_path), "%s/script", dir);
	snprintf(log_path, sizeof(log_path), "%s/state/requests.log", dir);
	script("");
	server = fork();
	if (server == 0) {
		char state[200], out[300];
		int fd;
		/* Dies with the test, whatever ends it; keeps off the TAP stream. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		snprintf(state, sizeof(state), "%s/state", dir);
		snprintf(out, sizeof(out), "%s/server.log", dir);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execlp("python3", "python3", "tests/fake/authserver.py", "--script", script_path, "--state", state, (char *)NULL);
		_exit(127);
	}
	snprintf(url_path, sizeof(url_path), "%s/state/url", dir);
	for (int i = 0; i < 600; i++) {
		if (read_text(url_path, buf, sizeof(buf)) == 0 && buf[0]) {
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(token_url, sizeof(token_url), "%s/token", buf);
			snprintf(url_path, sizeof(url_path), "%s/state/ca", dir);
			read_text(url_path, ca, sizeof(ca));
			ca[strcspn(ca, "\n")] = '\0';
			return 0;
		}
		usleep(50000);
	}
	return -1;
}

static void stop_server(void)
{
	char cmd[300];

	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static struct route route(const char *client, const char *secret, const char *rfile, const char *scope)
{
	struct route r;

	memset(&r, 0, sizeof(r));
	r.name = (char *)"r";
	r.oauth2_token_url = token_url;
	r.oauth2_client_id = (char *)client;
	r.oauth2_client_secret = (char *)secret;
	r.oauth2_refresh_token_file = (char *)rfile;
	r.oauth2_scope = (char *)scope;
	r.tls_ca = ca;
	r.connect_timeout_ms = 2000;
	r.timeout_ms = 5000;
	return r;
}

/* Run the multi handle, as the cycle does, for up to ms or until every
 * wait has a result. */
static void drive(struct oauth2_wait **ws, int n, long ms)
{
	int64_t end = clock_mono_ns() + ms * NS_PER_MS;

	while (clock_mono_ns() < end) {
		int running, left, ready = 0;
		CURLMsg *m;

		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			CURL *e = m->easy_handle;
			CURLcode rc = m->data.result;
			if (m->msg == CURLMSG_DONE && oauth2_owns(e))
				oauth2_on_done(e, rc);
		}
		for (int i = 0; i < n; i++) {
			char *t, err[64];
			int rc = oauth2_wait_result(ws[i], &t, err, sizeof(err));
			secret_free(t);
			ready += rc != 0;
		}
		if (ready == n)
			return;
		curl_multi_poll(multi, NULL, 0, 20, NULL);
	}
}

/* Run the multi handle with no wait held, until no token request is left
 * or ms passed (the cycle does this between cycles: cycle_background()). */
static void settle(long ms)
{
	int64_t end = clock_mono_ns() + ms * NS_PER_MS;

	while (oauth2_busy() && clock_mono_ns() < end) {
		int running, left;
		CURLMsg *m;

		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left)) != NULL)
			if (m->msg == CURLMSG_DONE && oauth2_owns(m->easy_handle))
				oauth2_on_done(m->easy_handle, m->data.result);
		curl_multi_poll(multi, NULL, 0, 20, NULL);
	}
}

/* One route's token, the whole way: 1 with *tok, or -1 with err. */
static int fetch(const struct route *r, long timeout_ms, char **tok, char *err, size_t errlen)
{
	struct oauth2_wait *w;
	int rc = oauth2_token(multi, r, timeout_ms, tok, &w, err, errlen);

	if (rc != 0)
		return rc;
	drive(&w, 1, timeout_ms + 3000);
	rc = oauth2_wait_result(w, tok, err, errlen);
	oauth2_wait_free(w);
	return rc;
}

static void shared_and_cached(void)
{
	struct route a = route("cc-client", NULL, NULL, "https://outlook.office365.com/.default");
	struct route b = a;
	struct oauth2_wait *w[2];
	char *ta = NULL, *tb = NULL, err[256];
	int ra, rb;

	script("client cc-client\naccess cc-at-\nexpires 3600\nfail delay:0.3\n");
	b.name = (char *)"other-route";
	ra = oauth2_token(multi, &a, 5000, &ta, &w[0], err, sizeof(err));
	rb = oauth2_token(multi, &b, 5000, &tb, &w[1], err, sizeof(err));
	CHECK(ra == 0 && rb == 0 && w[0] && w[1], "two routes of one account: both wait (rc %d %d)", ra, rb);
	drive(w, 2, 8000);
	ra = oauth2_wait_result(w[0], &ta, err, sizeof(err));
	rb = oauth2_wait_result(w[1], &tb, err, sizeof(err));
	CHECK(ra == 1 && rb == 1 && strcmp(ta, "cc-at-1") == 0 && strcmp(tb, "cc-at-1") == 0,
	      "both get the same token from one request (%s)", ra == 1 ? "ok" : err);
	CHECK(requests("client_credentials", NULL) == 1, "one client_credentials request for both (%d)",
	      requests("client_credentials", NULL));
	secret_free(ta);
	secret_free(tb);
	CHECK(oauth2_wait_result(w[0], &ta, err, sizeof(err)) == 1 && strcmp(ta, "cc-at-1") == 0,
	      "wait_result again: the same result, a fresh copy");
	secret_free(ta);
	oauth2_wait_free(w[0]);
	oauth2_wait_free(w[1]);
	ra = oauth2_token(multi, &a, 5000, &ta, &w[0], err, sizeof(err));
	CHECK(ra == 1 && ta && strcmp(ta, "cc-at-1") == 0 && w[0] == NULL, "third ask: the cached token at once");
	secret_free(ta);
	oauth2_cycle_begin();
	ra = fetch(&b, 5000, &ta, err, sizeof(err));
	CHECK(ra == 1 && strcmp(ta, "cc-at-1") == 0 && requests("client_credentials", NULL) == 1,
	      "next cycle: still cached (expires_in 3600), no new request");
	secret_free(ta);
	oauth2_token_refused(&a, "some-other-token");
	CHECK(fetch(&a, 5000, &ta, err, sizeof(err)) == 1 && requests("client_credentials", NULL) == 1,
	      "refused(other token): the cached one stays");
	secret_free(ta);
	oauth2_token_refused(&a, "cc-at-1");
	CHECK(fetch(&a, 5000, &ta, err, sizeof(err)) == 1 && strcmp(ta, "cc-at-2") == 0 &&
	      requests("client_credentials", NULL) == 2, "refused(cached token): dropped, the next ask fetches cc-at-2");
	secret_free(ta);
	{
		struct route c = a;
		c.oauth2_scope = (char *)"https://outlook.office.com/SMTP.Send";
		CHECK(fetch(&c, 5000, &ta, err, sizeof(err)) == 1 && strcmp(ta, "cc-at-3") == 0,
		      "client credentials with another scope: another account, another token");
		secret_free(ta);
	}
	CHECK(requests("client_credentials", "\"scope\": \"https://outlook.office365.com/.default\"") == 2,
	      "scope sent with every request");
	oauth2_shutdown();
}

static void expiry(void)
{
	struct route a = route("exp-client", NULL, NULL, NULL);
	char *t, err[256];
	int before = requests(NULL, NULL);

	script("client exp-client\naccess short-\nexpires 30\n");
	fetch(&a, 5000, &t, err, sizeof(err));
	secret_free(t);
	fetch(&a, 5000, &t, err, sizeof(err));
	CHECK(strcmp(t, "short-2") == 0 && requests(NULL, NULL) == before + 2,
	      "expires_in 30 (< 60 s margin): not reused, every ask fetches");
	secret_free(t);
	oauth2_shutdown();
	script("client exp-client\naccess none-\nexpires absent\n");
	before = requests(NULL, NULL);
	fetch(&a, 5000, &t, err, sizeof(err));
	secret_free(t);
	fetch(&a, 5000, &t, err, sizeof(err));
	CHECK(strcmp(t, "none-1") == 0 && requests(NULL, NULL) == before + 1, "no expires_in: reused within the cycle");
	secret_free(t);
	oauth2_cycle_begin();
	fetch(&a, 5000, &t, err, sizeof(err));
	CHECK(strcmp(t, "none-2") == 0 && requests(NULL, NULL) == before + 2, "no expires_in: the next cycle fetches anew");
	secret_free(t);
	oauth2_shutdown();
	script("client exp-client\naccess str-\nexpires string 3599\n");
	fetch(&a, 5000, &t, err, sizeof(err));
	secret_free(t);
	oauth2_cycle_begin();
	fetch(&a, 5000, &t, err, sizeof(err));
	CHECK(strcmp(t, "str-1") == 0, "expires_in \"3599\" (a string): reused in the next cycle");
	secret_free(t);
	oauth2_shutdown();
}

static void rotation(void)
{
	char rfile[300], buf[256], err[256], *t;
	struct route a;
	struct stat st;

	snprintf(rfile, sizeof(rfile), "%s/alice.refresh", dir);
	write_text(rfile, "rt-1\n", 0600);
	a = route("rt-client", NULL, rfile, "https://mail.google.com/");
	script("client rt-client\nrefresh rt-1\nrotate\naccess rot-\n");
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == 1 && strcmp(t, "rot-1") == 0, "refresh grant: token (%s)", err);
	secret_free(t);
	CHECK(requests("\"refresh_token\": \"rt-1\"", "\"grant\": \"refresh_token\"") == 1, "the file's refresh token was sent");
	read_text(rfile, buf, sizeof(buf));
	CHECK(strcmp(buf, "rt-rotated-1\n") == 0 && stat(rfile, &st) == 0 && (st.st_mode & 0777) == 0600,
	      "rotation: the file now holds the new refresh token, mode 0600");
	oauth2_cycle_begin();
	oauth2_token_refused(&a, NULL);
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == 1 && strcmp(t, "rot-2") == 0 &&
	      requests("\"refresh_token\": \"rt-rotated-1\"", NULL) == 1, "the next refresh reads the new file");
	secret_free(t);

	/* The file cannot take the next rotation: E! line, old file kept, the
	 * new token used from memory (the server no longer takes the old). */
	{
		struct rlimit old, lim = { 4, 4 };
		char logged[4096];
		int saved = dup(2), pfd[2];
		ssize_t n;

		/* stderr into a pipe: the size limit would cut a file. */
		if (pipe(pfd) != 0)
			return;
		dup2(pfd[1], 2);
		close(pfd[1]);
		signal(SIGXFSZ, SIG_IGN);
		getrlimit(RLIMIT_FSIZE, &old);
		lim.rlim_max = old.rlim_max;
		setrlimit(RLIMIT_FSIZE, &lim);
		oauth2_token_refused(&a, NULL);
		CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == 1 && strcmp(t, "rot-3") == 0, "rotation write fails: the token still serves");
		secret_free(t);
		setrlimit(RLIMIT_FSIZE, &old);
		dup2(saved, 2);
		close(saved);
		n = read(pfd[0], logged, sizeof(logged) - 1);
		logged[n > 0 ? n : 0] = '\0';
		close(pfd[0]);
		read_text(rfile, buf, sizeof(buf));
		buf[strcspn(buf, "\n")] = '\0';
		CHECK(strncmp(logged, "E! oauth2: cannot store the new refresh token, the old file stays: ", 67) == 0 &&
		      !strstr(logged, "rt-rotated-"), "rotation write fails: one E! line, no token in it: %.120s", logged);
		CHECK(strcmp(buf, "rt-rotated-2") == 0, "rotation write fails: the old file is intact (%s)", buf);
	}
	oauth2_token_refused(&a, NULL);
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == 1 && strcmp(t, "rot-4") == 0 &&
	      requests("\"refresh_token\": \"rt-rotated-3\"", NULL) == 1,
	      "next refresh: the unsaved new token is sent (the file still held the old one)");
	secret_free(t);
	read_text(rfile, buf, sizeof(buf));
	buf[strcspn(buf, "\n")] = '\0';
	CHECK(strcmp(buf, "rt-rotated-4") == 0, "... and the file catches up with the latest rotation (%s)", buf);
	oauth2_shutdown();

	write_text(rfile, "rt-rotated-4\n", 0644);
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == -1 && strstr(err, "chmod 600") && t == NULL,
	      "a refresh-token file others can read is refused: %s", err);
	unlink(rfile);
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == -1 &&
	      strstr(err, "no refresh token yet (") && strstr(err, "alice.refresh does not exist): run --oauth2-login r once, on a terminal"),
	      "a missing file says what to do: %s", err);
	oauth2_shutdown();
}

static void errors(void)
{
	char rfile[300], err[256], *t;
	struct route a;
	struct oauth2_wait *w;
	int64_t t0;
	static const struct { const char *script, *want; } rows[] = {
		{ "refresh other\n", "refresh token expired or revoked: run --oauth2-login r again "
		  "(invalid_grant: Token has been expired or revoked.)" },
		{ "refresh rt-e\nfail invalid_client\n", "the token endpoint does not accept this client: check "
		  "oauth2_client_id and oauth2_client_secret_file (invalid_client: The OAuth client was not found.)" },
		{ "refresh rt-e\nfail 500\n", "token endpoint: HTTP 500" },
		{ "refresh rt-e\nfail notjson\n", "token endpoint: reply is not JSON" },
		{ "refresh rt-e\nfail noaccess\n", "token endpoint: reply has no access_token" },
	};

	snprintf(rfile, sizeof(rfile), "%s/err.refresh", dir);
	write_text(rfile, "rt-e\n", 0600);
	a = route("err-client", NULL, rfile, NULL);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char text[200];
		snprintf(text, sizeof(text), "client err-client\n%s", rows[i].script);
		script(text);
		CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == -1 && strcmp(err, rows[i].want) == 0 && !t,
		      "%s", rows[i].want);
		oauth2_shutdown();
	}
	script("client err-client\nrefresh rt-e\nfail stall\n");
	t0 = clock_mono_ns();
	CHECK(fetch(&a, 1000, &t, err, sizeof(err)) == -1 && strncmp(err, "token endpoint: timed out after 1.", 34) == 0,
	      "stalled endpoint: bounded by the timeout: %s", err);
	CHECK(clock_mono_ns() - t0 < 3 * NS_PER_S, "stalled endpoint: gave up within 3 s");
	oauth2_shutdown();
	CHECK(oauth2_token(multi, &a, 5000, &t, &w, err, sizeof(err)) == 0, "stall: a wait");
	drive(&w, 1, 300);
	CHECK(oauth2_wait_result(w, &t, err, sizeof(err)) == 0, "stall: still under way after 300 ms");
	oauth2_wait_free(w);
	{
		int running = -1;
		curl_multi_perform(multi, &running);
		CHECK(running == 1 && oauth2_busy(), "the last wait freed: a refresh request, once sent, goes on");
		oauth2_shutdown();
		curl_multi_perform(multi, &running);
		CHECK(running == 0 && !oauth2_busy(), "oauth2_shutdown() aborts it (no transfer left)");
	}
	{
		struct route cc = route("err-client", NULL, NULL, NULL);
		int running = -1;
		script("client err-client\nfail stall\n");
		CHECK(oauth2_token(multi, &cc, 5000, &t, &w, err, sizeof(err)) == 0, "client credentials, stalled: a wait");
		drive(&w, 1, 300);
		oauth2_wait_free(w);
		curl_multi_perform(multi, &running);
		CHECK(running == 0 && !oauth2_busy(), "client credentials: the last wait freed aborts the request");
	}
	a.tls_ca = NULL;
	script("client err-client\nrefresh rt-e\n");
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == -1 && strstr(err, "token endpoint: ") && strstr(err, "certificate"),
	      "endpoint not signed by a trusted CA: refused: %s", err);
	oauth2_shutdown();
	a.insecure_skip_verify = true;
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == 1, "insecure_skip_verify: accepted (%s)", t ? "ok" : err);
	secret_free(t);
	oauth2_shutdown();
	a = route("err-client", NULL, rfile, NULL);
	a.oauth2_token_url = (char *)"https://127.0.0.1:1/token";
	CHECK(fetch(&a, 3000, &t, err, sizeof(err)) == -1 && strncmp(err, "token endpoint: ", 16) == 0,
	      "nothing listening: %s", err);
	oauth2_shutdown();
	a.oauth2_token_url = NULL;
	CHECK(oauth2_token(multi, &a, 5000, &t, &w, err, sizeof(err)) == -1 && !w && !t, "no token URL: -1 (%s)", err);
	unlink(rfile);
}

static void confidential(void)
{
	char err[256], *t;
	struct route a = route("conf-client", "s3cr+t/=&%", NULL, "s1 s2");

	script("client conf-client s3cr+t/=&%\nscope s1 s2\naccess conf-\n");
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == 1 && strcmp(t, "conf-1") == 0,
	      "confidential client: accepted with Basic (%s)", t ? "ok" : err);
	secret_free(t);
	CHECK(requests("\"basic\": [\"conf-client\", \"s3cr+t/=&%\"]", "\"secret_in_body\": false") == 1,
	      "the secret came in HTTP Basic (decoded back exactly), not in the body");
	oauth2_shutdown();
	a.oauth2_client_secret = (char *)"wrong-secret";
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == -1 &&
	      strcmp(err, "the token endpoint does not accept this client: check oauth2_client_id and "
	             "oauth2_client_secret_file (invalid_client: Invalid client secret provided.)") == 0,
	      "a wrong secret: invalid_client in plain words (%s)", err);
	oauth2_shutdown();
}

/* Issue 19: a refresh whose route stops waiting runs on; its rotated
 * refresh token is stored, its token cached; a route that asks meanwhile
 * joins it instead of sending the refresh token it replaced. */
static void background(void)
{
	char rfile[300], buf[256], err[256], first[256], text[400], *t = NULL;
	struct oauth2_wait *w, *w2;
	struct route a;
	int64_t t0;
	int rc;

	snprintf(rfile, sizeof(rfile), "%s/bg.refresh", dir);
	write_text(rfile, "rt-bg\n", 0600);
	a = route("bg-client", NULL, rfile, NULL);
	script("client bg-client\nrefresh rt-bg\nrotate\naccess bg-\nfail delay:1.5\n");
	t0 = clock_mono_ns();
	rc = fetch(&a, 500, &t, err, sizeof(err));
	CHECK(rc == -1 && strncmp(err, "token endpoint: timed out after 0.", 34) == 0 &&
	      clock_mono_ns() - t0 < 1200 * NS_PER_MS,
	      "the route's wait ends at its own bound (0.5 s): %s", err);
	CHECK(oauth2_busy(), "... while the refresh request goes on");
	settle(5000);
	read_text(rfile, buf, sizeof(buf));
	buf[strcspn(buf, "\n")] = '\0';
	CHECK(!oauth2_busy() && strncmp(buf, "rt-rotated-", 11) == 0,
	      "the reply came later: the rotated refresh token is in the file (%s)", buf);
	snprintf(first, sizeof(first), "%s", buf);
	CHECK(oauth2_token(multi, &a, 5000, &t, &w, err, sizeof(err)) == 1 && t && strcmp(t, "bg-1") == 0 &&
	      requests(NULL, "\"refresh_token\": \"rt-bg\"") == 1, "... and its token is cached: no new request");
	secret_free(t);

	/* A later route joins the refresh under way. */
	oauth2_token_refused(&a, NULL);
	snprintf(text, sizeof(text), "client bg-client\nrefresh %s\nrotate\naccess bg-\nfail delay:1.2\n", first);
	script(text);
	CHECK(fetch(&a, 300, &t, err, sizeof(err)) == -1 && oauth2_busy(), "second refresh: the first route gave up");
	rc = oauth2_token(multi, &a, 5000, &t, &w2, err, sizeof(err));
	CHECK(rc == 0 && w2, "a route asking meanwhile waits for the same request");
	drive(&w2, 1, 5000);
	rc = oauth2_wait_result(w2, &t, err, sizeof(err));
	snprintf(text, sizeof(text), "\"refresh_token\": \"%s\"", first);
	CHECK(rc == 1 && strcmp(t, "bg-2") == 0 && requests(NULL, text) == 1,
	      "it gets that request's token (%s), and no request sent the replaced refresh token", rc == 1 ? t : err);
	secret_free(t);
	oauth2_wait_free(w2);
	read_text(rfile, buf, sizeof(buf));
	buf[strcspn(buf, "\n")] = '\0';
	CHECK(strncmp(buf, "rt-rotated-", 11) == 0 && strcmp(buf, first) != 0,
	      "the file holds the latest rotation (%s, after %s)", buf, first);
	oauth2_shutdown();
	unlink(rfile);
}

/* Issue 19: expires_in 2^63-1 overflowed (UBSan aborted; the release build
 * cached nothing). */
static void huge_expiry(void)
{
	struct route a = route("huge-client", NULL, NULL, NULL);
	char *t, err[256];
	int before = requests(NULL, NULL);

	script("client huge-client\naccess huge-\nexpires 9223372036854775807\n");
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == 1 && strcmp(t, "huge-1") == 0, "expires_in 2^63-1: a token");
	secret_free(t);
	oauth2_cycle_begin();
	CHECK(fetch(&a, 5000, &t, err, sizeof(err)) == 1 && strcmp(t, "huge-1") == 0 && requests(NULL, NULL) == before + 1,
	      "expires_in 2^63-1: cut to a day, the token is cached (one request)");
	secret_free(t);
	oauth2_shutdown();
}

static void shutdown_with_wait(void)
{
	struct route a = route("sd-client", NULL, NULL, NULL);
	struct oauth2_wait *w;
	char err[256], *t;

	script("client sd-client\nfail stall\n");
	CHECK(oauth2_token(multi, &a, 5000, &t, &w, err, sizeof(err)) == 0, "shutdown: a wait under way");
	drive(&w, 1, 200);
	oauth2_shutdown();
	CHECK(oauth2_wait_result(w, &t, err, sizeof(err)) == -1 && strcmp(err, "token endpoint: shut down") == 0,
	      "shutdown: a held wait reports \"shut down\"");
	oauth2_wait_free(w);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(multi = curl_multi_init())) {
		CHECK(0, "libcurl init");
		return unit_done();
	}
	if (start_server() != 0) {
		CHECK(0, "the fake authorization server started");
		stop_server();
		return unit_done();
	}
	shared_and_cached();
	expiry();
	rotation();
	errors();
	confidential();
	background();
	huge_expiry();
	shutdown_with_wait();
	oauth2_shutdown();
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	stop_server();
	return unit_done();
}
