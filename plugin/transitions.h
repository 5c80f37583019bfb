/*
 * transitions.h - logs that tell a story (SPEC §14): in streaming mode a
 * route whose result changes to a failure, or whose first cycle fails,
 * writes one W! line naming the route, the old and the new result and the
 * error; its recovery writes one I! line; an unchanged result writes
 * nothing.  So a failing route shows in Telegraf's log, not only in
 * InfluxDB.  "Failure" is success == false: a result other than the
 * route's expect (SPEC §8).
 *
 * Contract:
 *  - transitions_new(n) remembers the last result of n routes, none seen
 *    yet; the caller owns it and frees it with transitions_free() (NULL
 *    accepted).  NULL when out of memory.
 *  - transitions_step() is pure (no I/O): it compares res with what route
 *    i had last time, remembers res, and writes the log line's text (no
 *    prefix, no newline, NUL-terminated, cut to cap) into msg.  Returns
 *    TRANSITION_NONE (msg is ""), _WARN or _INFO.  An i outside 0..n-1 is
 *    TRANSITION_NONE and changes nothing.
 *  - transitions_report() is transitions_step() plus the W! / I! line
 *    (log.h).
 *  --once uses none of this: one cycle has no story, its line and exit
 *  status say it all.
 */
#ifndef MAIL_E2E_TRANSITIONS_H
#define MAIL_E2E_TRANSITIONS_H

#include <stddef.h>

#include "config.h"
#include "result.h"

enum transition { TRANSITION_NONE = 0, TRANSITION_WARN, TRANSITION_INFO };

struct transitions;

struct transitions *transitions_new(size_t n_routes);
void transitions_free(struct transitions *t);

enum transition transitions_step(struct transitions *t, size_t i, const struct route *r,
                                 const struct probe_result *res, char *msg, size_t cap);
void transitions_report(struct transitions *t, size_t i, const struct route *r,
                        const struct probe_result *res);

#endif
