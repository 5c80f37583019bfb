/*
 * probe.h - one route probe: IMAP ready -> SMTP send -> IMAP find -> result.
 *
 * Contract:
 *  - probe_start() never returns a probe without a path to a result: if
 *    setup fails, the probe is at once result-ready with internal_error (or
 *    the connect class that failed).  NULL only when out of memory.
 *  - The owner feeds it: probe_on_done() for every CURLMSG_DONE of a handle
 *    probe_owns(), probe_step() after every wake-up.
 *  - probe_result_ready() turns true exactly once per probe and stays true;
 *    from then on probe_result() is final.  The probe may still be cleaning
 *    up (deleting the found message, logging out) until probe_finished().
 *  - The route is borrowed and must outlive the probe.  probe_free() frees
 *    everything; it abandons work in progress.
 */
#ifndef MAIL_E2E_PROBE_H
#define MAIL_E2E_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <curl/curl.h>

#include "config.h"
#include "result.h"

struct probe;

/* The route starts now; cycle_real_ns is the cycle's start (the line's
 * timestamp), queue_ns how long the route waited for a server slot. */
struct probe *probe_start(CURLM *multi, const struct route *r,
                          int64_t cycle_real_ns, int64_t queue_ns);
bool probe_owns(const struct probe *p, CURL *easy);
void probe_on_done(struct probe *p, CURL *easy, CURLcode code);
void probe_step(struct probe *p, int64_t now);

bool probe_result_ready(const struct probe *p);
const struct probe_result *probe_result(const struct probe *p);
const struct route *probe_route(const struct probe *p);
bool probe_finished(const struct probe *p);

/* The socket fd (one probe_wait_fds() added) polled ready. */
void probe_io_ready(struct probe *p, curl_socket_t fd);

/* Adds this probe's socket (if it has one of its own to watch) to fds. */
void probe_wait_fds(const struct probe *p, struct curl_waitfd *fds,
                    unsigned *n, unsigned max);
int64_t probe_next_timer(const struct probe *p);   /* 0: none */

void probe_free(struct probe *p);

#endif
