/*
 * verdict_spam.h - what a found probe's spam verdict means for its line
 * (SPEC §13): the verdict copied into the result, and max_spam_score
 * applied.
 *
 * Contract: pure.  verdict_spam() copies ev->spam into res->rep.spam when
 * ev->read, and returns true when the route's max_spam_score is set and
 * the filter called the probe spam or scored it strictly above it; why
 * (cap bytes) then names the filter and the reason ("rspamd: X-Spam: Yes,
 * score 10 > max_spam_score 5").  Else false and why "".
 *
 * The order of the verdicts on a found probe (probe.c applies it):
 * auth_failed (require_auth), then spam_flagged, then junk
 * (junk_is_failure): the cause before the symptom -- a failed DKIM is often
 * why the filter scored the probe high, and a high score why it was filed
 * as junk; the `mailbox` tag still says where it landed.
 */
#ifndef MAIL_E2E_VERDICT_SPAM_H
#define MAIL_E2E_VERDICT_SPAM_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "imap/imap.h"
#include "result.h"

bool verdict_spam(const struct route *r, const struct imap_evidence *ev, struct probe_result *res,
                  char *why, size_t cap);

#endif
