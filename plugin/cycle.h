/*
 * cycle.h - one probe cycle: every route probed once, all at the same time,
 * in one thread, on one libcurl multi handle.
 *
 * Contract:
 *  - cycle_start() starts a probe per route of cfg (cfg must outlive the
 *    cycle) and returns the cycle, or NULL when out of memory.
 *  - cycle_run() waits at most max_wait_ms for network activity, for a
 *    timer, or for one of the caller's extra fds (their revents are filled
 *    in, as curl_multi_wait does), then advances every probe.  Each route's
 *    result is passed to emit() exactly once, as soon as it is known.
 *    Returns 0, or -1 if libcurl's multi handle failed (fatal).
 *  - cycle_finished() is true when every route has emitted and cleaned up.
 *  - cycle_free() abandons whatever still runs: routes that have not emitted
 *    never will.  NULL is accepted.
 */
#ifndef MAIL_E2E_CYCLE_H
#define MAIL_E2E_CYCLE_H

#include <stdbool.h>
#include <stdint.h>
#include <curl/curl.h>

#include "config.h"
#include "result.h"

struct cycle;

typedef void (*cycle_emit_fn)(void *ctx, const struct route *r,
                              const struct probe_result *res);

struct cycle *cycle_start(const struct config *cfg, cycle_emit_fn emit, void *ctx);
int cycle_run(struct cycle *c, struct curl_waitfd *extra, unsigned n_extra,
              int max_wait_ms);
bool cycle_finished(const struct cycle *c);
/* Routes whose result is not out yet. */
unsigned cycle_pending(const struct cycle *c);
void cycle_free(struct cycle *c);

/* While no cycle runs: when an OAuth2 token request is still under way on
 * the process's multi handle (a refresh whose route gave up waiting, see
 * oauth2.h), wait at most max_wait_ms for it and for the caller's fds
 * (revents filled as curl_multi_wait does), advance it, and return true.
 * false at once when there is nothing to drive: the caller waits its own
 * way. */
bool cycle_background(struct curl_waitfd *extra, unsigned n_extra, int max_wait_ms);

/* At exit, after the last cycle_free(): a token request still under way
 * may finish until finish_by_ns (monotonic; a past time: not at all),
 * then the token cache and the process's multi handle go. */
void cycle_global_cleanup(int64_t finish_by_ns);

#endif
