/*
 * leg.c - the SMTP leg as probe.c sees it (smtp.h): one connection to the
 * submission server (smtp_conn.h), or the MX walk (mx.h) for an mx route.
 * Nothing else happens here.
 */
#include "smtp.h"

#include <stdio.h>
#include <stdlib.h>

#include "mx_int.h"
#include "pkix.h"
#include "smtp_conn.h"

struct smtp_leg {
	struct smtp_conn *conn;    /* submission */
	struct mx_walk *walk;      /* smtp_via = mx */
};

struct smtp_leg *smtp_open(CURLM *multi, const struct route *r, const char *bearer,
                           const char *token, const char *msg, size_t len,
                           const struct budget *budget, char *err, size_t errlen)
{
	struct smtp_leg *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (r->smtp_via == SMTP_VIA_MX)
		l->walk = mx_walk_open(multi, r, token, msg, len, budget, err, errlen);
	else
		l->conn = smtp_conn_open(multi, r, NULL, bearer, token, msg, len, budget, err, errlen);
	if (!l->walk && !l->conn) {
		free(l);
		return NULL;
	}
	return l;
}

bool smtp_owns(const struct smtp_leg *l, CURL *easy)
{
	return l->walk ? mx_walk_owns(l->walk, easy) : smtp_conn_easy(l->conn) == easy;
}

void smtp_on_done(struct smtp_leg *l, CURL *easy, CURLcode code)
{
	if (l->walk)
		mx_walk_on_done(l->walk, easy, code);
	else
		smtp_conn_connected(l->conn, code);
}

void smtp_step(struct smtp_leg *l, int64_t now)
{
	if (l->walk)
		mx_walk_step(l->walk, now);
	else
		smtp_conn_step(l->conn, now);
}

void smtp_io_ready(struct smtp_leg *l)
{
	if (l->walk)
		mx_walk_io_ready(l->walk);
	else
		smtp_conn_io_ready(l->conn);
}

curl_socket_t smtp_wait_fd(const struct smtp_leg *l, bool *want_write)
{
	return l->walk ? mx_walk_wait_fd(l->walk, want_write) : smtp_conn_wait_fd(l->conn, want_write);
}

int64_t smtp_next_timer(const struct smtp_leg *l)
{
	return l->walk ? mx_walk_next_timer(l->walk) : smtp_conn_next_timer(l->conn);
}

bool smtp_outcome(const struct smtp_leg *l, struct smtp_outcome *out)
{
	return l->walk ? mx_walk_outcome(l->walk, out) : smtp_conn_outcome(l->conn, out);
}

bool smtp_awaiting(const struct smtp_leg *l, int64_t *since, const char **what)
{
	return l->walk ? mx_walk_awaiting(l->walk, since, what) : smtp_conn_awaiting(l->conn, since, what);
}

void smtp_abandon(struct smtp_leg *l)
{
	if (l->walk)
		mx_walk_abandon(l->walk);
	else
		smtp_conn_abandon(l->conn);
}

bool smtp_closed(const struct smtp_leg *l)
{
	return l->walk ? mx_walk_closed(l->walk) : smtp_conn_closed(l->conn);
}

void smtp_free(struct smtp_leg *l)
{
	if (!l)
		return;
	mx_walk_free(l->walk);
	smtp_conn_free(l->conn);
	free(l);
}

void smtp_cleanup(void)
{
	mx_sts_cache_free();
	pkix_cleanup();
}
