/*
 * smtp_conn.h - one SMTP connection to one server (inside plugin/smtp/;
 * the face probe.c sees is smtp.h): libcurl connects, says EHLO, starts
 * TLS (STARTTLS or implicit) and authenticates (CONNECT_ONLY on the shared
 * multi handle); then the connection speaks the transaction itself over
 * curl_easy_send/recv, non-blocking (transaction.c), so the envelope
 * carries the DSN parameters libcurl has no room for (SPEC §8, §11) and
 * every step is timed:
 *
 *   MAIL FROM:<from> [SIZE=n] [RET=HDRS ENVID=<token>] [SMTPUTF8]
 *   RCPT TO:<to> [NOTIFY=FAILURE,DELAY]       (DSN where EHLO lists it)
 *   DATA -> the message, dot-stuffed -> the final reply -> QUIT
 *
 * Two kinds: the route's submission server (target NULL: smtp_host,
 * smtp_port, smtp_tls, AUTH as configured), or one MX host (SPEC §12:
 * the name for SNI and the certificate, the address to connect to, the
 * route's mx_port, STARTTLS whenever offered, no AUTH, no certificate
 * check by libcurl).  An MX connection is held after the hand-over, before
 * MAIL FROM, until its owner has judged the TLS session
 * (smtp_conn_held): released, it goes on; refused, it says QUIT and
 * sends nothing.
 *
 * Contract:
 *  - smtp_conn_open() adds the connect transfer to `multi` and keeps
 *    pointers to msg, token and target's strings (the caller keeps them
 *    alive until smtp_conn_free()).  `bearer`, if not NULL, is an OAuth2
 *    access token for AUTH (libcurl copies it).  NULL with err filled when
 *    the transfer cannot be set up.
 *  - When the multi reports CURLMSG_DONE for smtp_conn_easy(c), the caller
 *    calls smtp_conn_connected(c, code); from then on smtp_conn_step()
 *    after every wake-up (smtp_conn_wait_fd(), smtp_conn_io_ready(),
 *    smtp_conn_next_timer()).
 *  - smtp_conn_outcome() returns true once the connection has its verdict
 *    (accepted, or the failure classified, SPEC §5), with out filled; it
 *    then says QUIT by itself and is done.
 *  - smtp_conn_free() cuts the socket (libcurl cannot block on a polite
 *    QUIT), removes the handle and frees everything; NULL is accepted.
 */
#ifndef MAIL_E2E_SMTP_CONN_H
#define MAIL_E2E_SMTP_CONN_H

#include <openssl/x509.h>

#include "smtp.h"

struct smtp_target {
	const char *host;          /* the MX host's name (URL, SNI, certificate) */
	const char *addr;          /* the address to connect to (our own DNS's answer) */
	int port;
	const char *helo;          /* the EHLO name */
};

struct smtp_conn;

struct smtp_conn *smtp_conn_open(CURLM *multi, const struct route *r, const struct smtp_target *target,
                                 const char *bearer, const char *token, const char *msg, size_t len,
                                 const struct budget *budget, char *err, size_t errlen);
CURL *smtp_conn_easy(const struct smtp_conn *c);
void smtp_conn_connected(struct smtp_conn *c, CURLcode code);
void smtp_conn_step(struct smtp_conn *c, int64_t now);
void smtp_conn_io_ready(struct smtp_conn *c);
curl_socket_t smtp_conn_wait_fd(const struct smtp_conn *c, bool *want_write);
int64_t smtp_conn_next_timer(const struct smtp_conn *c);   /* 0: none */
bool smtp_conn_outcome(const struct smtp_conn *c, struct smtp_outcome *out);
bool smtp_conn_awaiting(const struct smtp_conn *c, int64_t *since, const char **what);
void smtp_conn_abandon(struct smtp_conn *c);
bool smtp_conn_closed(const struct smtp_conn *c);
void smtp_conn_free(struct smtp_conn *c);

/* An MX connection: connected (EHLO, STARTTLS where offered, EHLO again)
 * and waiting for its owner's word before MAIL FROM. */
bool smtp_conn_held(const struct smtp_conn *c);
/* Go on with the transaction. */
void smtp_conn_release(struct smtp_conn *c);
/* Send nothing: the verdict is result with the words, then QUIT. */
void smtp_conn_refuse(struct smtp_conn *c, enum result_class result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Where the dialogue got to (TLS up, the EHLO reply, the last reply). */
const struct conn_watch *smtp_conn_watch(const struct smtp_conn *c);
/* An MX connection with TLS: the chain the server sent (leaf first),
 * the connection's (borrowed until smtp_conn_free()); NULL: no TLS. */
STACK_OF(X509) *smtp_conn_peer_chain(const struct smtp_conn *c);

#endif
