/*
 * output_rep.h - SPEC §13's fields in a probe's line (output.c calls it
 * once per format): spam_score, spam_threshold, spam, spam_filter, scl,
 * dnsbl_ip, dnsbl_listed, dnsbl_zones.
 *
 * Contract: pure, no allocation.  output_rep() writes the fields of rep
 * into buf (cap bytes, NUL-terminated) as they follow other fields: line
 * protocol ",spam_score=7.500000,spam=\"spam\"..." (present ones only; never
 * the first field of a line), JSON ",\"spam_score\":7.500000,..." (every
 * key, null where absent).  Returns the length, or -1 when it does not fit
 * (OUTPUT_REP_MAX always does).  The strings need no escaping in either
 * format: fixed words, inet_ntop's address, zones of letters, digits, '-',
 * '_' and '.' (config_rep.c checked them); anything else is left out.
 */
#ifndef MAIL_E2E_OUTPUT_REP_H
#define MAIL_E2E_OUTPUT_REP_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "reputation.h"

#define OUTPUT_REP_MAX (REPUTATION_ZONES_MAX + 512)

ssize_t output_rep(enum out_format fmt, const struct reputation *rep, char *buf, size_t cap);

#endif
