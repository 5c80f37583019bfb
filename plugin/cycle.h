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

/* At exit, after the last cycle_free(): the process's multi handle. */
void cycle_global_cleanup(void);

#endif
