/*
 * oauth2.c - see oauth2.h.  Two lists: the cache entries (one per account,
 * for the process's life) and the requests (one per fetch; it outlives its
 * entry's interest until its last wait is freed, so every route that waited
 * reads the same result).  A refresh-token request also outlives its waits:
 * once sent, the endpoint may have rotated the refresh token already, and
 * the reply that carries the new one must be read and stored, or every
 * later refresh fails invalid_grant for ever (issue 19).
 */
#include "oauth2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "oauth2_form.h"
#include "oauth2_http.h"
#include "oauth2_reply.h"
#include "secret_file.h"

struct oauth2_entry;

struct oauth2_req {
	CURL *easy;                 /* NULL once finished or aborted */
	CURLM *multi;
	struct oauth2_http http;
	struct oauth2_entry *entry; /* NULL once the entry is gone */
	char *sent_refresh;         /* the refresh token sent, or NULL */
	bool sent_unsaved;          /* ... and it was the entry's unsaved one */
	char *secret;               /* client secret, to scrub error texts */
	char *route;                /* the route that started it, for the next step */
	bool finish_alone;          /* a refresh grant: runs on with no one waiting */
	int64_t started_ns;
	int state;                  /* 0 under way, 1 token, -1 failed */
	char *token;                /* state 1 */
	char err[320];              /* state -1 */
	int waiters;
	struct oauth2_req *next;
};

struct oauth2_entry {
	char *key;                  /* oauth2_cache_key() */
	char *refresh_file;         /* NULL: client credentials */
	char *token;                /* cached access token, or NULL */
	int64_t good_until_ns;      /* reuse while the monotonic clock is before this */
	bool one_cycle;             /* no expires_in: until oauth2_cycle_begin() */
	char *unsaved;              /* a rotated refresh token the file did not take */
	char *unsaved_base;         /* the file's token it replaced */
	bool warned_group;
	struct oauth2_req *req;     /* under way, or NULL */
	struct oauth2_entry *next;
};

struct oauth2_wait {
	struct oauth2_req *req;
	int64_t started_ns, deadline_ns;   /* the route's own bound */
};

static struct oauth2_entry *entries;
static struct oauth2_req *reqs;

static void drop_token(struct oauth2_entry *e)
{
	secret_free(e->token);
	e->token = NULL;
	e->one_cycle = false;
	e->good_until_ns = 0;
}

static void drop_unsaved(struct oauth2_entry *e)
{
	secret_free(e->unsaved);
	secret_free(e->unsaved_base);
	e->unsaved = e->unsaved_base = NULL;
}

static bool fresh(const struct oauth2_entry *e)
{
	return e->token && (e->one_cycle || clock_mono_ns() < e->good_until_ns);
}

static struct oauth2_entry *entry_find(const struct route *r)
{
	char *key = oauth2_cache_key(r);
	struct oauth2_entry *e;

	if (!key)
		return NULL;
	for (e = entries; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			break;
	free(key);
	return e;
}

static struct oauth2_entry *entry_get(const struct route *r)
{
	struct oauth2_entry *e = entry_find(r);

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = oauth2_cache_key(r);
	e->refresh_file = r->oauth2_refresh_token_file ? strdup(r->oauth2_refresh_token_file) : NULL;
	if (!e->key || (r->oauth2_refresh_token_file && !e->refresh_file)) {
		free(e->key);
		free(e->refresh_file);
		free(e);
		return NULL;
	}
	e->next = entries;
	entries = e;
	return e;
}

/* The file still holds the token a failed rotation should have replaced:
 * try to store the new one again, and send it (*tok is replaced) either
 * way.  A file someone else has written since wins. */
static void prefer_unsaved(struct oauth2_entry *e, char **tok, bool *from_memory)
{
	char why[512];
	char *use;

	if (!e->unsaved)
		return;
	if (strcmp(*tok, e->unsaved_base) != 0) {
		drop_unsaved(e);   /* someone wrote the file since: it wins */
		return;
	}
	use = strdup(e->unsaved);
	if (!use)
		return;
	secret_free(*tok);
	*tok = use;
	if (secret_file_replace(e->refresh_file, e->unsaved, why, sizeof(why)) >= 0) {
		log_info("oauth2: stored the new refresh token in %s", e->refresh_file);
		drop_unsaved(e);
	} else {
		*from_memory = true;
		log_debug("oauth2: still cannot store the new refresh token: %s", why);
	}
}

static int read_refresh(struct oauth2_entry *e, const struct route *r, char **tok, bool *from_memory,
                        char *err, size_t errlen)
{
	int rc;

	*from_memory = false;
	rc = secret_file_read(e->refresh_file, SECRET_REFRESH_TOKEN, tok, err, errlen);
	if (rc < 0 && access(e->refresh_file, F_OK) != 0 && errno == ENOENT)
		snprintf(err, errlen, "no refresh token yet (%s does not exist): run --oauth2-login %s once, "
		         "on a terminal", e->refresh_file, r->name);
	if (rc < 0)
		return -1;
	if (rc > 0 && !e->warned_group) {
		log_warn("%s", err);
		e->warned_group = true;
	}
	prefer_unsaved(e, tok, from_memory);
	return 0;
}

static void req_unlink(struct oauth2_req *q)
{
	for (struct oauth2_req **p = &reqs; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			return;
		}
}

/* Stop the transfer (if any) and forget everything secret but the result. */
static void req_release(struct oauth2_req *q)
{
	if (q->easy) {
		curl_multi_remove_handle(q->multi, q->easy);
		curl_easy_cleanup(q->easy);
		q->easy = NULL;
	}
	oauth2_http_free(&q->http);
	secret_free(q->sent_refresh);
	secret_free(q->secret);
	q->sent_refresh = q->secret = NULL;
	free(q->route);
	q->route = NULL;
}

static void req_free(struct oauth2_req *q)
{
	req_release(q);
	req_unlink(q);
	secret_free(q->token);
	free(q);
}

static int req_form(struct oauth2_entry *e, const struct route *r, struct oauth2_form *f,
                    char **rt, bool *from_memory, char *err, size_t errlen)
{
	*rt = NULL;
	*from_memory = false;
	oauth2_form_init(f);
	if (e->refresh_file) {
		if (read_refresh(e, r, rt, from_memory, err, errlen) != 0)
			return -1;
		oauth2_form_add(f, "grant_type", "refresh_token");
		oauth2_form_add(f, "refresh_token", *rt);
	} else
		oauth2_form_add(f, "grant_type", "client_credentials");
	oauth2_form_add(f, "client_id", r->oauth2_client_id);
	oauth2_form_add(f, "scope", r->oauth2_scope);
	return 0;
}

static struct oauth2_req *req_start(CURLM *multi, struct oauth2_entry *e, const struct route *r,
                                    long timeout_ms, char *err, size_t errlen)
{
	struct oauth2_form f;
	struct oauth2_req *q;
	CURLMcode mc;
	char *rt;
	bool from_memory;

	if (req_form(e, r, &f, &rt, &from_memory, err, errlen) != 0)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "token endpoint: out of memory");
		oauth2_form_free(&f);
		secret_free(rt);
		return NULL;
	}
	q->sent_refresh = rt;
	q->sent_unsaved = from_memory;
	q->secret = r->oauth2_client_secret ? strdup(r->oauth2_client_secret) : NULL;
	q->route = strdup(r->name);
	q->multi = multi;
	q->finish_alone = e->refresh_file != NULL;
	if (q->finish_alone && timeout_ms < OAUTH2_FINISH_MS)
		timeout_ms = OAUTH2_FINISH_MS;   /* the route's wait keeps the route's bound */
	q->easy = oauth2_http_new(&q->http, "token endpoint", r, r->oauth2_token_url, &f, timeout_ms, err, errlen);
	if (!q->easy)
		goto fail;
	if ((r->oauth2_client_secret && !q->secret) || !q->route) {
		snprintf(err, errlen, "token endpoint: out of memory");
		goto fail;
	}
	mc = curl_multi_add_handle(multi, q->easy);
	if (mc != CURLM_OK) {
		snprintf(err, errlen, "token endpoint: curl_multi_add_handle: %s", curl_multi_strerror(mc));
		curl_easy_cleanup(q->easy);
		q->easy = NULL;
		goto fail;
	}
	q->entry = e;
	q->started_ns = clock_mono_ns();
	q->next = reqs;
	reqs = q;
	log_debug("oauth2 > POST %s (grant_type=%s)", r->oauth2_token_url,
	          e->refresh_file ? "refresh_token" : "client_credentials");
	return q;
fail:
	if (q->easy) {
		curl_easy_cleanup(q->easy);
		q->easy = NULL;
	}
	req_free(q);
	return NULL;
}

int oauth2_token(CURLM *multi, const struct route *r, long timeout_ms, char **token,
                 struct oauth2_wait **w, char *err, size_t errlen)
{
	struct oauth2_entry *e;
	struct oauth2_wait *wait;

	*token = NULL;
	*w = NULL;
	if (!r->oauth2_token_url) {
		snprintf(err, errlen, "no oauth2_token_url");
		return -1;
	}
	e = entry_get(r);
	if (!e) {
		snprintf(err, errlen, "token client: out of memory");
		return -1;
	}
	if (fresh(e)) {
		*token = strdup(e->token);
		if (*token)
			return 1;
		snprintf(err, errlen, "token client: out of memory");
		return -1;
	}
	drop_token(e);
	wait = calloc(1, sizeof(*wait));
	if (!wait) {
		snprintf(err, errlen, "token client: out of memory");
		return -1;
	}
	if (!e->req)
		e->req = req_start(multi, e, r, timeout_ms, err, errlen);
	if (!e->req) {
		free(wait);
		return -1;
	}
	wait->req = e->req;
	wait->started_ns = clock_mono_ns();
	wait->deadline_ns = wait->started_ns + (int64_t)(timeout_ms > 0 ? timeout_ms : 1) * NS_PER_MS;
	e->req->waiters++;
	*w = wait;
	return 0;
}

bool oauth2_owns(CURL *easy)
{
	for (struct oauth2_req *q = reqs; q; q = q->next)
		if (q->easy && q->easy == easy)
			return true;
	return false;
}

/* A new refresh token came: into the file, or kept in memory. */
static void rotate(struct oauth2_entry *e, const char *fresh_rt, const struct oauth2_req *q)
{
	char why[512];
	int rc = secret_file_replace(e->refresh_file, fresh_rt, why, sizeof(why));
	char *base;

	if (rc >= 0) {
		if (rc == 1)
			log_warn("oauth2: %s", why);
		drop_unsaved(e);
		return;
	}
	if (!e->unsaved)
		log_error("oauth2: cannot store the new refresh token, the old file stays: %s", why);
	/* What the file holds: the token sent, unless that came from memory. */
	base = strdup(q->sent_unsaved ? e->unsaved_base : q->sent_refresh);
	drop_unsaved(e);
	e->unsaved = strdup(fresh_rt);
	e->unsaved_base = base;
	if (!e->unsaved || !e->unsaved_base)
		drop_unsaved(e);
}

static void cache(struct oauth2_entry *e, const struct oauth2_req *q, long expires_in)
{
	drop_token(e);
	e->token = strdup(q->token);
	if (!e->token)
		return;
	if (expires_in < 0)
		e->one_cycle = true;
	else if (expires_in > OAUTH2_EARLY_S)
		e->good_until_ns = q->started_ns + (int64_t)(expires_in - OAUTH2_EARLY_S) * NS_PER_S;
}

static void finish(struct oauth2_req *q, CURL *easy, CURLcode code)
{
	struct oauth2_reply rep;
	long status = 0;
	int64_t elapsed = clock_mono_ns() - q->started_ns;
	struct oauth2_entry *e = q->entry;

	q->state = -1;
	if (oauth2_http_status(&q->http, easy, code, elapsed, &status, q->err, sizeof(q->err)) != 0)
		return;
	log_debug("oauth2 < HTTP %ld (%zu bytes)", status, q->http.reply_len);
	if (oauth2_reply_parse(status, q->http.reply ? q->http.reply : "", q->http.reply_len,
	                       &rep, q->err, sizeof(q->err)) != 0) {
		char said[sizeof(q->err)];
		memcpy(said, q->err, sizeof(said));
		if (rep.error[0])
			oauth2_error_words(rep.error, q->sent_refresh != NULL, q->route, said, q->err, sizeof(q->err));
		oauth2_reply_free(&rep);
		return;
	}
	q->token = rep.access_token;
	rep.access_token = NULL;
	q->state = 1;
	if (e) {
		cache(e, q, rep.expires_in);
		if (e->refresh_file && rep.refresh_token &&
		    (!q->sent_refresh || strcmp(rep.refresh_token, q->sent_refresh) != 0))
			rotate(e, rep.refresh_token, q);
	}
	oauth2_reply_free(&rep);
}

void oauth2_on_done(CURL *easy, CURLcode code)
{
	struct oauth2_req *q;

	for (q = reqs; q; q = q->next)
		if (q->easy && q->easy == easy)
			break;
	if (!q)
		return;
	finish(q, easy, code);
	if (q->state < 0) {
		oauth2_redact(q->err, q->sent_refresh);
		oauth2_redact(q->err, q->secret);
		oauth2_redact(q->err, q->http.password);   /* the secret as Basic sends it */
	}
	if (q->waiters == 0) {   /* its routes gave up waiting: say how it ended */
		if (q->state > 0)
			log_info("oauth2: the token refresh for %s finished after its route stopped waiting; "
			         "its token is cached", q->route);
		else
			log_warn("oauth2: the token refresh for %s, finished after its route stopped waiting, "
			         "failed: %s", q->route, q->err);
	}
	req_release(q);
	if (q->entry && q->entry->req == q)
		q->entry->req = NULL;
	if (q->waiters == 0)
		req_free(q);
}

int oauth2_wait_result(struct oauth2_wait *w, char **token, char *err, size_t errlen)
{
	*token = NULL;
	if (!w) {
		snprintf(err, errlen, "token client: no request");
		return -1;
	}
	if (w->req->state == 0 && clock_mono_ns() < w->deadline_ns)
		return 0;
	if (w->req->state == 0) {
		snprintf(err, errlen, "token endpoint: timed out after %.1fs",
		         (double)(clock_mono_ns() - w->started_ns) / (double)NS_PER_S);
		return -1;
	}
	if (w->req->state < 0) {
		snprintf(err, errlen, "%s", w->req->err);
		return -1;
	}
	*token = strdup(w->req->token);
	if (*token)
		return 1;
	snprintf(err, errlen, "token client: out of memory");
	return -1;
}

void oauth2_wait_free(struct oauth2_wait *w)
{
	struct oauth2_req *q;

	if (!w)
		return;
	q = w->req;
	free(w);
	if (--q->waiters > 0)
		return;
	if (q->state == 0 && q->easy && q->finish_alone) {
		/* Stays the entry's request: a route that asks meanwhile joins
		 * it rather than send a refresh token it may have replaced. */
		log_debug("oauth2: no route waits for the token refresh any more; it goes on (at most %ds)",
		          OAUTH2_FINISH_MS / 1000);
		return;
	}
	if (q->entry && q->entry->req == q)
		q->entry->req = NULL;
	req_free(q);
}

bool oauth2_busy(void)
{
	for (struct oauth2_req *q = reqs; q; q = q->next)
		if (q->easy)
			return true;
	return false;
}

void oauth2_token_refused(const struct route *r, const char *token)
{
	struct oauth2_entry *e = entry_find(r);

	if (e && e->token && (!token || strcmp(e->token, token) == 0)) {
		log_debug("oauth2: the server refused the cached token; the next probe fetches a new one");
		drop_token(e);
	}
}

void oauth2_cycle_begin(void)
{
	for (struct oauth2_entry *e = entries; e; e = e->next)
		if (e->token && (e->one_cycle || clock_mono_ns() >= e->good_until_ns))
			drop_token(e);
}

/* At exit, a rotated refresh token the file would not take is lost with
 * the process: one last try, else say so. */
static void last_save(struct oauth2_entry *e)
{
	char why[512], *now = NULL;
	bool file_unchanged;

	if (!e->unsaved)
		return;
	file_unchanged = secret_file_read(e->refresh_file, SECRET_REFRESH_TOKEN, &now, why, sizeof(why)) >= 0 &&
	                 strcmp(now, e->unsaved_base) == 0;
	secret_free(now);
	if (!file_unchanged)
		return;   /* someone wrote the file since: it wins */
	if (secret_file_replace(e->refresh_file, e->unsaved, why, sizeof(why)) >= 0)
		log_info("oauth2: stored the new refresh token in %s", e->refresh_file);
	else
		log_error("oauth2: the new refresh token for %s is lost at exit (%s): if the next start fails "
		          "with invalid_grant, run --oauth2-login again", e->refresh_file, why);
}

void oauth2_shutdown(void)
{
	struct oauth2_req *q, *qn;

	for (q = reqs; q; q = qn) {
		qn = q->next;
		q->entry = NULL;
		if (q->state == 0) {
			q->state = -1;
			snprintf(q->err, sizeof(q->err), "token endpoint: shut down");
		}
		req_release(q);
		if (q->waiters == 0)
			req_free(q);
	}
	while (entries) {
		struct oauth2_entry *e = entries;
		entries = e->next;
		last_save(e);
		drop_token(e);
		drop_unsaved(e);
		free(e->key);
		free(e->refresh_file);
		free(e);
	}
}
