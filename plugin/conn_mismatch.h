/*
 * conn_mismatch.h - a TLS mode that does not fit the port, named with the
 * key to change within connect_timeout (issue 21), on both legs.
 *
 * Two mistakes look like other faults when nothing names them:
 *  - implicit TLS (`smtp_tls = tls`) against a port that speaks plain text
 *    first: OpenSSL reads the greeting "220 ..." as a TLS record and says
 *    "wrong version number"; no TLS record ever came from the server.
 *    conn_mismatch_implicit_text() words that failure.
 *  - STARTTLS (or none) against an implicit-TLS port: the server waits for
 *    our ClientHello, we wait for its greeting, until connect_timeout, and
 *    that reads like a firewall.  When the greeting is late (BUDGET_GREETING
 *    _PATIENCE_NS, at most half the connect timeout) a side connection to the
 *    same address and port tries a TLS handshake; if it gets one, the port
 *    speaks TLS first and the leg says so at once.  A slow but plain server
 *    costs one extra connection that fails; nothing is concluded from it.
 *
 * Contract:
 *  - struct conn_mismatch lives in the leg; conn_mismatch_init() copies
 *    the leg's connection parameters (their strings are the route's, which
 *    outlive the leg), the key name ("smtp_tls", "bounce_imap_tls") with
 *    them.
 *  - conn_mismatch_tick() from the leg's step while its own transfer is
 *    connecting: starts the side transfer when due (adds it to multi).  Its
 *    CURLMSG_DONE belongs to nobody; the cycle skips unowned handles.  The
 *    side transfer sends no credentials and does not verify the
 *    certificate: it only asks whether the port speaks TLS first.
 *  - conn_mismatch_found() is true once the side transfer finished a TLS
 *    handshake; the words (with the key to change) are in dst.
 *  - conn_mismatch_next_timer(): when the side transfer is due, 0: never.
 *  - conn_mismatch_free() removes and frees the side transfer; safe twice.
 */
#ifndef MAIL_E2E_CONN_MISMATCH_H
#define MAIL_E2E_CONN_MISMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "conn.h"

struct conn_mismatch {
	struct conn_params params;   /* the leg's, credentials dropped */
	const char *tls_key;         /* "smtp_tls", "imap_tls", "bounce_imap_tls" */
	CURLM *multi;
	CURL *easy;                  /* the side transfer, or NULL */
	struct curl_slist *resolve;  /* pins it to the leg's address */
	bool tried;                  /* started once; never again for this leg */
	struct conn_watch watch;     /* the side transfer's dialogue */
};

void conn_mismatch_init(struct conn_mismatch *m, const struct conn_params *p);

/* main: the leg's own watch; its stamps say whether the greeting is late. */
void conn_mismatch_tick(struct conn_mismatch *m, CURLM *multi, CURL *main_easy,
                        const struct conn_watch *main, int64_t now);
int64_t conn_mismatch_next_timer(const struct conn_mismatch *m, const struct conn_watch *main);
bool conn_mismatch_found(const struct conn_mismatch *m, char *dst, size_t dstlen);
void conn_mismatch_free(struct conn_mismatch *m);

/* A failed implicit-TLS handshake that met plain text: true with the words
 * (the key to change, OpenSSL's reason) in dst; false when the failure is
 * something else (a certificate, an alert, a dropped connection). */
bool conn_mismatch_implicit_text(CURL *h, const struct conn_watch *w, char *dst, size_t dstlen);

#endif
