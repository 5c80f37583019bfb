/*
 * oauth2_http.c - see oauth2_http.h.
 */
#include "oauth2_http.h"

#include "conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret_file.h"

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct oauth2_http *h = ud;
	size_t n = size * nmemb;

	if (n > OAUTH2_REPLY_MAX - h->reply_len) {
		h->reply_over = true;
		return 0;   /* CURLE_WRITE_ERROR */
	}
	if (!h->reply) {
		h->reply = malloc(OAUTH2_REPLY_MAX + 1);
		if (!h->reply)
			return 0;
	}
	memcpy(h->reply + h->reply_len, data, n);
	h->reply_len += n;
	h->reply[h->reply_len] = '\0';
	return n;
}

#define SET(opt, val) CONN_SETOPT(e, opt, val)

static int set_client(struct oauth2_http *h, CURL *e, const struct route *r, char *err, size_t errlen)
{
	if (!r->oauth2_client_secret)
		return 0;
	if (oauth2_basic_credentials(r->oauth2_client_id, r->oauth2_client_secret,
	                             &h->user, &h->password) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	SET(CURLOPT_USERNAME, h->user);
	SET(CURLOPT_PASSWORD, h->password);
	return 0;
fail:
	return -1;
}

CURL *oauth2_http_new(struct oauth2_http *h, const char *what, const struct route *r,
                      const char *url, struct oauth2_form *form, long timeout_ms,
                      char *err, size_t errlen)
{
	long connect_ms = r->connect_timeout_ms > 0 && r->connect_timeout_ms < timeout_ms
	                  ? r->connect_timeout_ms : timeout_ms;
	struct curl_slist *hl;
	CURL *e;

	memset(h, 0, sizeof(*h));
	h->what = what;
	h->body = *form;
	oauth2_form_init(form);
	if (h->body.failed || !h->body.buf) {
		snprintf(err, errlen, "%s: out of memory", what);
		return NULL;
	}
	e = curl_easy_init();
	hl = curl_slist_append(NULL, "Accept: application/json");
	if (!e || !hl) {
		snprintf(err, errlen, "%s: out of memory", what);
		curl_slist_free_all(hl);
		if (e)
			curl_easy_cleanup(e);
		return NULL;
	}
	h->headers = hl;
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms > 0 ? connect_ms : 1L);
	SET(CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
#if LIBCURL_VERSION_NUM >= 0x075700
	SET(CURLOPT_QUICK_EXIT, 1L);
#endif
	SET(CURLOPT_USERAGENT, "mail-e2e");
	SET(CURLOPT_HTTPHEADER, h->headers);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, h->body.buf);
	SET(CURLOPT_POSTFIELDSIZE, (long)h->body.len);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, h);
	if (conn_set_tls(e, r, err, errlen) != 0 || set_client(h, e, r, err, errlen) != 0)
		goto fail;
	return e;
fail:
	curl_easy_cleanup(e);
	return NULL;
}

int oauth2_http_status(struct oauth2_http *h, CURL *easy, CURLcode code, int64_t elapsed_ns,
                       long *status, char *err, size_t errlen)
{
	*status = 0;
	if (code == CURLE_WRITE_ERROR && h->reply_over) {
		snprintf(err, errlen, "%s: reply larger than %d KiB", h->what, OAUTH2_REPLY_MAX / 1024);
		return -1;
	}
	if (code == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errlen, "%s: timed out after %.1fs", h->what, (double)elapsed_ns / 1e9);
		return -1;
	}
	if (code != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", h->what, h->errbuf[0] ? h->errbuf : curl_easy_strerror(code));
		return -1;
	}
	if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status) != CURLE_OK) {
		snprintf(err, errlen, "%s: no HTTP status", h->what);
		return -1;
	}
	return 0;
}

void oauth2_http_free(struct oauth2_http *h)
{
	oauth2_form_free(&h->body);
	secret_free(h->user);
	secret_free(h->password);
	curl_slist_free_all(h->headers);
	if (h->reply) {
		explicit_bzero(h->reply, h->reply_len);
		free(h->reply);
	}
	memset(h, 0, sizeof(*h));
}
