/*
 * fuzz_spam.c - libFuzzer target for the spam-verdict reader: spam_read()
 * on the input (in a buffer of exactly its size, so a read past len is an
 * ASan report) for each spam_filter_from choice, spam_flagged() with a few
 * max_spam_score values and buffer sizes, and the input as a
 * max_spam_score string.  Checked: numbers finite and bounded, scl in
 * -1..9, the verdict restricted to the filter that won is the same verdict,
 * strings terminated inside their buffers, an error exactly when flagged.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spam.h"

static void check_str(const char *s, size_t cap)
{
	if (cap > 0 && memchr(s, '\0', cap) == NULL)
		abort();
}

static void check(const struct spam_verdict *v)
{
	if (v->filter > SPAM_FILTER_MICROSOFT || v->spam > SPAM_SPAM)
		abort();
	if ((v->has_score && (!isfinite(v->score) || fabs(v->score) >= 1e9)) ||
	    (v->has_threshold && (!isfinite(v->threshold) || fabs(v->threshold) >= 1e9)))
		abort();
	if (v->has_scl && (v->scl < -1 || v->scl > 9))
		abort();
	check_str(v->why, sizeof(v->why));
	if ((v->spam == SPAM_SPAM) != (v->why[0] != '\0'))
		abort();
	if (v->filter == SPAM_FILTER_NONE && (v->has_score || v->has_threshold || v->has_scl || v->spam != SPAM_NONE))
		abort();
	if (v->filter == SPAM_FILTER_MICROSOFT && (v->has_score || v->has_threshold))
		abort();
	if (v->filter != SPAM_FILTER_MICROSOFT && v->has_scl)
		abort();
}

static bool same(const struct spam_verdict *a, const struct spam_verdict *b)
{
	return a->filter == b->filter && a->spam == b->spam && a->has_score == b->has_score &&
	       (!a->has_score || a->score == b->score) && a->has_threshold == b->has_threshold &&
	       (!a->has_threshold || a->threshold == b->threshold) && a->has_scl == b->has_scl &&
	       (!a->has_scl || a->scl == b->scl) && strcmp(a->why, b->why) == 0;
}

static void flag(const struct spam_verdict *v)
{
	static const double maxes[] = { -5, 0, 5, 1e8 };
	static const size_t caps[] = { 0, 1, 9, 200 };
	char error[200];

	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++)
		for (size_t j = 0; j < sizeof(caps) / sizeof(caps[0]); j++) {
			bool f = spam_flagged(v, true, maxes[i], error, caps[j]);
			check_str(error, caps[j]);
			if (caps[j] > 1 && f != (error[0] != '\0'))
				abort();
			/* The error names the filter first. */
			if (f && caps[j] == sizeof(error) &&
			    (strncmp(error, spam_filter_name(v->filter), strlen(spam_filter_name(v->filter))) != 0 ||
			     error[strlen(spam_filter_name(v->filter))] != ':'))
				abort();
			if (f != (v->filter != SPAM_FILTER_NONE &&
			          (v->spam == SPAM_SPAM || (v->has_score && v->score > maxes[i]))))
				abort();
		}
	if (spam_flagged(v, false, 0, error, sizeof(error)) || error[0] != '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum spam_filter froms[] = {
		SPAM_FILTER_ANY, SPAM_FILTER_SPAMASSASSIN, SPAM_FILTER_RSPAMD, SPAM_FILTER_MICROSOFT,
	};
	char *b = malloc(size ? size : 1), *s;
	struct spam_verdict any, v;
	double d;

	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	spam_read(b, size, SPAM_FILTER_ANY, &any);
	check(&any);
	flag(&any);
	for (size_t i = 1; i < sizeof(froms) / sizeof(froms[0]); i++) {
		spam_read(b, size, froms[i], &v);
		check(&v);
		if (v.filter != SPAM_FILTER_NONE && v.filter != froms[i])
			abort();
		/* The filter that wins unrestricted reads the same restricted. */
		if (any.filter == froms[i] && !same(&any, &v))
			abort();
	}
	free(b);
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (spam_score_parse(s, &d) && (!isfinite(d) || fabs(d) >= 1e9))
		abort();
	free(s);
	return 0;
}
