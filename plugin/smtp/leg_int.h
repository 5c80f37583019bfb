/*
 * leg_int.h - the inside of one SMTP connection (smtp_conn.h), shared by
 * handover.c (libcurl's connect, EHLO, TLS and AUTH, and what a failed one
 * means) and transaction.c (the transaction spoken after the hand-over)
 * and nobody else.  All memory is the connection's; msg, token and the
 * target's strings are the caller's.
 */
#ifndef MAIL_E2E_SMTP_LEG_INT_H
#define MAIL_E2E_SMTP_LEG_INT_H

#include "conn_mismatch.h"
#include "smtp_conn.h"
#include "tls_chain.h"

enum smtp_state {
	SMTP_CONNECTING,   /* libcurl: connect, EHLO, STARTTLS, AUTH */
	SMTP_HELD,         /* an MX host: connected, waiting for the owner's word */
	SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_BODY,   /* awaiting the reply to each */
	SMTP_QUIT,         /* the verdict is in; QUIT on its way */
	SMTP_CLOSED,
};

struct smtp_conn {
	CURLM *multi;
	CURL *easy;
	bool added;
	const struct route *route;
	const struct budget *budget;
	const char *token;
	const char *msg;
	size_t msg_len;
	struct conn_watch watch;
	bool hold;                 /* an MX host: stop before MAIL FROM */
	struct curl_slist *connect_to;   /* CURLOPT_CONNECT_TO: the MX host's address */
	struct tls_chain chain;    /* an MX host: what it sent in the handshake */
	struct conn_mismatch mismatch;   /* is the TLS mode wrong for the port? */
	curl_socket_t fd;
	enum smtp_state state;
	bool may_read;
	bool done;                 /* out holds the verdict */
	struct smtp_outcome out;
	/* the dialogue after the hand-over */
	char *outbuf;              /* commands, then the dot-stuffed message */
	size_t out_len, out_sent, out_cap;
	char inbuf[1024];          /* a reply line under way */
	size_t in_len;
	int64_t t_mail_ns;         /* MAIL FROM went out */
	int64_t t_sent_ns;         /* the command awaiting its reply went out */
};

/* transaction.c, for handover.c: the leg is logged in, speak; and the
 * verdict, whichever half of the dialogue reached it (once). */
void smtp_transaction_start(struct smtp_conn *l);
/* Nothing to send after all: QUIT (the verdict is already in). */
void smtp_transaction_quit(struct smtp_conn *l);
/* ... and, for smtp_conn_step() and smtp_conn_next_timer() (handover.c,
 * which also names a TLS mode that does not fit the port while libcurl
 * connects), the dialogue's side of a wake-up and its timer. */
void smtp_transaction_step(struct smtp_conn *l, int64_t now);
int64_t smtp_transaction_timer(const struct smtp_conn *l);
void smtp_conclude(struct smtp_conn *l, bool ok, enum result_class r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
