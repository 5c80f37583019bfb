/*
 * output_mx.h - the fields of SPEC §12 (mx_result.h) for both formats,
 * called by output.c: the smtp_server tag of an mx route and the fields
 * after the others.
 *
 * Contract: pure; each function writes a NUL-terminated fragment into dst
 * (cap bytes) and returns its length, or -1 if it does not fit.  An mx
 * route's strings are host names checked by our DNS reader (letters,
 * digits, '-', '_', '.'), so they need no escaping; anything else is
 * written as '?'.
 *  - output_mx_server(): "host:port" for the tag, "" when absent (then the
 *    tag is left out; JSON null).
 *  - output_mx_influx(): ",mx=\"...\",mx_tried=2i,..." (present fields only).
 *  - output_mx_json(): ",\"mx\":...,\"mx_tried\":..." (every key, null where
 *    absent; all null for a route that is not an mx route).
 */
#ifndef MAIL_E2E_OUTPUT_MX_H
#define MAIL_E2E_OUTPUT_MX_H

#include <stddef.h>
#include <sys/types.h>

#include "mx_result.h"

ssize_t output_mx_server(const struct mx_result *m, char *dst, size_t cap);
ssize_t output_mx_influx(const struct mx_result *m, char *dst, size_t cap);
ssize_t output_mx_json(const struct mx_result *m, char *dst, size_t cap);

/* "verified", "enforce", "pass", ...; NULL for absent. */
const char *mx_tls_name(enum mx_tls v);
const char *mx_sts_name(enum mx_sts v);
const char *mx_dane_name(enum mx_dane v);
const char *mx_policy_name(enum mx_policy v);

#endif
