/*
 * test_transitions.c - the story of a route's results (plugin/transitions.c,
 * SPEC §14): for each row, a route's results cycle after cycle and the exact
 * log line (or none) each cycle must give.
 */
#include <string.h>

#include "transitions.h"
#include "unit.h"

#define W TRANSITION_WARN
#define I TRANSITION_INFO
#define N TRANSITION_NONE

struct step {
	enum result_class result;
	const char *error;
	enum transition kind;
	const char *line;              /* the text after "W! " / "I! "; NULL: none */
};

static const struct story {
	const char *name;
	enum result_class expect;
	struct step steps[6];
	int n;
} stories[] = {
	{ "ok-always", RESULT_SUCCESS, {
		{ RESULT_SUCCESS, "", N, NULL },
		{ RESULT_SUCCESS, "", N, NULL },
		{ RESULT_SUCCESS, "", N, NULL } }, 3 },
	{ "fails-then-recovers", RESULT_SUCCESS, {
		{ RESULT_SUCCESS, "", N, NULL },
		{ RESULT_SMTP_AUTH_FAILED, "535 5.7.8 Authentication failed", W,
		  "fails-then-recovers: result success -> smtp_auth_failed: 535 5.7.8 Authentication failed" },
		{ RESULT_SMTP_AUTH_FAILED, "535 5.7.8 Authentication failed again", N, NULL },
		{ RESULT_TIMEOUT, "not found within 6.0s", W,
		  "fails-then-recovers: result smtp_auth_failed -> timeout: not found within 6.0s" },
		{ RESULT_SUCCESS, "", I,
		  "fails-then-recovers: result timeout -> success: recovered after 3 failing cycle(s)" },
		{ RESULT_SUCCESS, "", N, NULL } }, 6 },
	{ "bad-from-the-start", RESULT_SUCCESS, {
		{ RESULT_IMAP_CONNECT_FAILED, "Connection refused", W,
		  "bad-from-the-start: result (first cycle) -> imap_connect_failed: Connection refused" },
		{ RESULT_IMAP_CONNECT_FAILED, "Connection refused", N, NULL },
		{ RESULT_SUCCESS, "", I,
		  "bad-from-the-start: result imap_connect_failed -> success: recovered after 2 failing cycle(s)" },
		{ RESULT_JUNK, "", W, "bad-from-the-start: result success -> junk" } }, 4 },
	/* SPEC §8: a route that must be refused; success is meeting expect. */
	{ "no-open-relay", RESULT_SMTP_REJECTED, {
		{ RESULT_SMTP_REJECTED, "554 5.7.1 Relay access denied", N, NULL },
		{ RESULT_SUCCESS, "", W,
		  "no-open-relay: result smtp_rejected -> success (expected smtp_rejected)" },
		{ RESULT_SMTP_CONNECT_FAILED, "Connection refused", W,
		  "no-open-relay: result success -> smtp_connect_failed: Connection refused "
		  "(expected smtp_rejected)" },
		{ RESULT_SMTP_REJECTED, "554 5.7.1 Relay access denied", I,
		  "no-open-relay: result smtp_connect_failed -> smtp_rejected: recovered after 2 failing "
		  "cycle(s) (expected smtp_rejected)" } }, 4 },
};

static void one_story(const struct story *s)
{
	struct transitions *t = transitions_new(3);
	struct route r;
	char name[64];

	memset(&r, 0, sizeof(r));
	strcpy(name, s->name);
	r.name = name;
	r.expect = (int)s->expect;
	CHECK(t != NULL, "%s: transitions_new", s->name);
	if (!t)
		return;
	for (int c = 0; c < s->n; c++) {
		const struct step *st = &s->steps[c];
		struct probe_result res;
		char msg[512];
		enum transition k;

		memset(&res, 0, sizeof(res));
		res.result = st->result;
		res.success = st->result == s->expect;
		strcpy(res.error, st->error);
		k = transitions_step(t, 1, &r, &res, msg, sizeof(msg));
		CHECK(k == st->kind && strcmp(msg, st->line ? st->line : "") == 0,
		      "%s, cycle %d: %s \"%s\"", s->name, c + 1,
		      k == W ? "W!" : k == I ? "I!" : "nothing", msg);
	}
	transitions_free(t);
}

/* Routes are independent, out-of-range indexes change nothing, and a
 * short buffer cuts the line but keeps the memory right. */
static void edges(void)
{
	struct transitions *t = transitions_new(2);
	struct route r = { 0 };
	struct probe_result bad, good;
	char msg[24], name[] = "edge-route-with-a-long-name";

	memset(&bad, 0, sizeof(bad));
	memset(&good, 0, sizeof(good));
	bad.result = RESULT_TIMEOUT;
	strcpy(bad.error, "not found");
	good.success = true;
	r.name = name;
	CHECK(transitions_step(t, 0, &r, &bad, msg, sizeof(msg)) == W && strlen(msg) == sizeof(msg) - 1,
	      "a short buffer: the line is cut (\"%s\")", msg);
	CHECK(transitions_step(t, 1, &r, &good, msg, sizeof(msg)) == N, "route 1 is not route 0");
	CHECK(transitions_step(t, 2, &r, &bad, msg, sizeof(msg)) == N && !msg[0], "index 2 of 2: nothing");
	CHECK(transitions_step(t, 0, &r, &bad, msg, sizeof(msg)) == N, "route 0 still failing: nothing");
	CHECK(transitions_step(t, 0, &r, &good, msg, sizeof(msg)) == I, "route 0 recovers");
	CHECK(transitions_step(NULL, 0, &r, &bad, msg, sizeof(msg)) == N, "no memory (--once): nothing");
	transitions_free(t);
	transitions_free(NULL);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(stories) / sizeof(stories[0]); i++)
		one_story(&stories[i]);
	edges();
	return unit_done();
}
