/*
 * verdict_spam.c - see verdict_spam.h.
 */
#include "verdict_spam.h"

#include "spam.h"

bool verdict_spam(const struct route *r, const struct imap_evidence *ev, struct probe_result *res,
                  char *why, size_t cap)
{
	if (cap)
		why[0] = '\0';
	if (!ev->read)
		return false;
	res->rep.spam = ev->spam;
	return spam_flagged(&ev->spam, r->has_max_spam_score, r->max_spam_score, why, cap);
}
