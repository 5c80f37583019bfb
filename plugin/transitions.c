/*
 * transitions.c - see transitions.h.
 *
 * Lines (after "W! " / "I! "):
 *   outbound: result success -> smtp_auth_failed: 535 5.7.8 Authentication failed
 *   outbound: result (first cycle) -> timeout: not found within 60.0s
 *   outbound: result smtp_auth_failed -> success: recovered after 3 failing cycle(s)
 * (": error" only where the result has one.)  A route whose expect is not
 * success says so: "... (expected smtp_rejected)".
 */
#include "transitions.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

struct seen {
	bool any;                  /* a result was seen */
	enum result_class last;
	bool last_success;
	unsigned failing;          /* consecutive failing cycles up to now */
};

struct transitions {
	size_t n;
	struct seen *routes;
};

struct transitions *transitions_new(size_t n_routes)
{
	struct transitions *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->n = n_routes;
	t->routes = calloc(n_routes ? n_routes : 1, sizeof(*t->routes));
	if (!t->routes) {
		free(t);
		return NULL;
	}
	return t;
}

void transitions_free(struct transitions *t)
{
	if (!t)
		return;
	free(t->routes);
	free(t);
}

static void expected_note(const struct route *r, char *buf, size_t cap)
{
	if (r->expect == RESULT_SUCCESS)
		buf[0] = '\0';
	else
		snprintf(buf, cap, " (expected %s)", result_name((enum result_class)r->expect));
}

static void warn_text(const struct seen *s, const struct route *r, const struct probe_result *res,
                      char *msg, size_t cap)
{
	char note[64];

	expected_note(r, note, sizeof(note));
	snprintf(msg, cap, "%s: result %s -> %s%s%s%s", r->name,
	         s->any ? result_name(s->last) : "(first cycle)", result_name(res->result),
	         res->error[0] ? ": " : "", res->error, note);
}

enum transition transitions_step(struct transitions *t, size_t i, const struct route *r,
                                 const struct probe_result *res, char *msg, size_t cap)
{
	struct seen *s;
	enum transition kind = TRANSITION_NONE;
	char note[64];

	if (cap)
		msg[0] = '\0';
	if (!t || i >= t->n)
		return TRANSITION_NONE;
	s = &t->routes[i];
	if (!res->success && (!s->any || s->last != res->result)) {
		kind = TRANSITION_WARN;
		if (cap)
			warn_text(s, r, res, msg, cap);
	} else if (res->success && s->any && !s->last_success) {
		kind = TRANSITION_INFO;
		expected_note(r, note, sizeof(note));
		if (cap)
			snprintf(msg, cap, "%s: result %s -> %s: recovered after %u failing cycle(s)%s",
			         r->name, result_name(s->last), result_name(res->result), s->failing, note);
	}
	s->failing = res->success ? 0 : s->failing + 1;
	s->any = true;
	s->last = res->result;
	s->last_success = res->success;
	return kind;
}

void transitions_report(struct transitions *t, size_t i, const struct route *r,
                        const struct probe_result *res)
{
	char msg[LOG_LINE_MAX];

	switch (transitions_step(t, i, r, res, msg, sizeof(msg))) {
	case TRANSITION_WARN:
		log_warn("%s", msg);
		break;
	case TRANSITION_INFO:
		log_info("%s", msg);
		break;
	case TRANSITION_NONE:
		break;
	}
}
