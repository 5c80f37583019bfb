/*
 * leg_int.h - the inside of the SMTP leg, shared by handover.c (libcurl's
 * connect, EHLO, TLS and AUTH, and what a failed one means) and
 * transaction.c (the transaction spoken after the hand-over) and nobody
 * else.  All memory is the leg's; msg and token are the caller's.
 */
#ifndef MAIL_E2E_SMTP_LEG_INT_H
#define MAIL_E2E_SMTP_LEG_INT_H

#include "smtp.h"
#include "conn_mismatch.h"

enum smtp_state {
	SMTP_CONNECTING,   /* libcurl: connect, EHLO, STARTTLS, AUTH */
	SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_BODY,   /* awaiting the reply to each */
	SMTP_QUIT,         /* the verdict is in; QUIT on its way */
	SMTP_CLOSED,
};

struct smtp_leg {
	CURLM *multi;
	CURL *easy;
	bool added;
	const struct route *route;
	const struct budget *budget;
	const char *token;
	const char *msg;
	size_t msg_len;
	struct conn_watch watch;
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
void smtp_transaction_start(struct smtp_leg *l);
/* ... and, for smtp_step() and smtp_next_timer() (handover.c, which also
 * names a TLS mode that does not fit the port while libcurl connects), the
 * dialogue's side of a wake-up and its timer. */
void smtp_transaction_step(struct smtp_leg *l, int64_t now);
int64_t smtp_transaction_timer(const struct smtp_leg *l);
void smtp_conclude(struct smtp_leg *l, bool ok, enum result_class r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
