/*
 * spam_flag.c - what a spam verdict (spam.c) means for the probe's line:
 * spam_flagged() against max_spam_score, and the names the output writes
 * (see spam.h).  Pure.
 */
#include "spam.h"

#include <stdio.h>
#include <string.h>

/* A score as text: up to 6 decimals, trailing zeros dropped ("7.5", "5"). */
static void fmt_num(char *buf, size_t cap, double d)
{
	size_t n;

	snprintf(buf, cap, "%.6f", d);
	n = strlen(buf);
	if (memchr(buf, '.', n) != NULL) {
		while (n > 0 && buf[n - 1] == '0')
			buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	if (strcmp(buf, "-0") == 0)
		snprintf(buf, cap, "0");
}

bool spam_flagged(const struct spam_verdict *v, bool has_max, double max, char *error, size_t cap)
{
	char s[40], m[40];
	bool over;

	if (cap)
		error[0] = '\0';
	if (!has_max || v->filter == SPAM_FILTER_NONE)
		return false;
	over = v->has_score && v->score > max;
	if (v->spam != SPAM_SPAM && !over)
		return false;
	fmt_num(s, sizeof(s), v->score);
	fmt_num(m, sizeof(m), max);
	if (cap == 0)
		return true;
	if (v->spam == SPAM_SPAM && over)
		snprintf(error, cap, "%s: %s, score %s > max_spam_score %s", spam_filter_name(v->filter), v->why, s, m);
	else if (v->spam == SPAM_SPAM && v->has_score)
		snprintf(error, cap, "%s: %s, score %s", spam_filter_name(v->filter), v->why, s);
	else if (v->spam == SPAM_SPAM)
		snprintf(error, cap, "%s: %s", spam_filter_name(v->filter), v->why);
	else
		snprintf(error, cap, "%s: score %s > max_spam_score %s", spam_filter_name(v->filter), s, m);
	return true;
}

const char *spam_filter_name(enum spam_filter f)
{
	switch (f) {
	case SPAM_FILTER_SPAMASSASSIN:
		return "spamassassin";
	case SPAM_FILTER_RSPAMD:
		return "rspamd";
	case SPAM_FILTER_MICROSOFT:
		return "microsoft";
	default:
		return "";
	}
}

const char *spam_flag_name(enum spam_flag s)
{
	return s == SPAM_HAM ? "ham" : s == SPAM_SPAM ? "spam" : "";
}

bool spam_filter_parse(const char *s, enum spam_filter *out)
{
	static const enum spam_filter all[] = {
		SPAM_FILTER_SPAMASSASSIN, SPAM_FILTER_RSPAMD, SPAM_FILTER_MICROSOFT,
	};

	if (s == NULL || *s == '\0' || strcmp(s, "any") == 0) {
		*out = SPAM_FILTER_ANY;
		return true;
	}
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, spam_filter_name(all[i])) == 0) {
			*out = all[i];
			return true;
		}
	return false;
}
