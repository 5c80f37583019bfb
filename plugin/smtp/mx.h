/*
 * mx.h - the MX walk (SPEC §12), one SMTP leg to smtp.h: the recipient
 * domain's MX hosts in preference order (equal ones shuffled; no MX: the
 * domain itself; a null MX: refused), each host's addresses and TLSA
 * records from our own DNSSEC-validating lookups (dns.h), the domain's
 * MTA-STS policy (mx_sts.c) and TLS-RPT record, then one SMTP connection
 * (smtp_conn.h) per host in turn: the next on a connect failure or a 4xx,
 * each held after STARTTLS until its TLS session is judged against the
 * policy that applies (mx_vet.c: DANE where usable, else MTA-STS), sent
 * nothing and left with QUIT when it fails an enforced policy.
 *
 * Contract: as smtp.h's, for the leg of an mx route; mx_walk_outcome()'s
 * out carries the §12 fields (out->mx).  msg and token are the caller's,
 * alive until mx_walk_free().
 */
#ifndef MAIL_E2E_SMTP_MX_H
#define MAIL_E2E_SMTP_MX_H

#include "smtp.h"

struct mx_walk;

struct mx_walk *mx_walk_open(CURLM *multi, const struct route *r, const char *token, const char *msg,
                             size_t len, const struct budget *budget, char *err, size_t errlen);
bool mx_walk_owns(const struct mx_walk *w, CURL *easy);
void mx_walk_on_done(struct mx_walk *w, CURL *easy, CURLcode code);
void mx_walk_step(struct mx_walk *w, int64_t now);
void mx_walk_io_ready(struct mx_walk *w);
curl_socket_t mx_walk_wait_fd(const struct mx_walk *w, bool *want_write);
int64_t mx_walk_next_timer(const struct mx_walk *w);
bool mx_walk_outcome(const struct mx_walk *w, struct smtp_outcome *out);
bool mx_walk_awaiting(const struct mx_walk *w, int64_t *since, const char **what);
void mx_walk_abandon(struct mx_walk *w);
bool mx_walk_closed(const struct mx_walk *w);
void mx_walk_free(struct mx_walk *w);

#endif
