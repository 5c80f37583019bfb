/*
 * verdict.h - what a found probe's header block means for its line (SPEC
 * §7): the verdict tags and path fields copied into the result, and
 * require_auth applied.
 *
 * Contract: pure.  verdict_from_evidence() fills res's verdict per method
 * (auth_methods.h), hops, plain_hops and transit_time from ev (when
 * ev->read), and
 * returns false with why (cap bytes, "dkim=fail (required: pass), says
 * Authentication-Results from mx.example") for the first method listed in
 * r->require_auth whose verdict is missing or not "pass"; true otherwise.
 */
#ifndef MAIL_E2E_VERDICT_H
#define MAIL_E2E_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "imap/imap.h"
#include "result.h"

bool verdict_from_evidence(const struct route *r, const struct imap_evidence *ev,
                           struct probe_result *res, char *why, size_t cap);

#endif
