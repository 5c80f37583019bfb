/*
 * session_int.h - the inside of the IMAP engine, shared by its two files
 * and nobody else: session.c (I/O, commands, events) and handover.c
 * (libcurl's connect and login, and what a failed one means).  All memory
 * is the session's.
 */
#ifndef MAIL_E2E_IMAP_SESSION_INT_H
#define MAIL_E2E_IMAP_SESSION_INT_H

#include "conn.h"
#include "conn_mismatch.h"
#include "session.h"

enum session_state {
	SESSION_CONNECTING,    /* libcurl connects and logs in */
	SESSION_OPEN,          /* ours: commands may go */
	SESSION_LOGGING_OUT,   /* LOGOUT sent: only its answer or the end is awaited */
	SESSION_CLOSED,
};

struct imap_session {
	CURLM *multi;
	CURL *easy;
	bool added;
	const struct route *route;
	char label[96];
	struct conn_watch watch;
	struct conn_mismatch mismatch;   /* is the TLS mode wrong for the port? */
	curl_socket_t fd;
	enum session_state state;
	bool may_read;              /* socket polled ready, or we just wrote/connected */
	bool logged_in;
	void (*on_ready)(struct imap_session *s, void *ctx);
	void *ready_ctx;

	/* the verdict on the session */
	bool failed, settled;
	enum result_class result;
	char error[RESULT_ERROR_MAX];
	int64_t close_by_ns;        /* cleanup bound, 0: none */

	/* the dialogue */
	struct imap_reader reader;
	char *whole;                /* the running command's keep_whole buffer */
	char *whole_stale;          /* one let go while on_done runs */
	bool in_done;
	char outbuf[1400];
	size_t out_len;
	unsigned tag_seq;
	char tag[16];               /* of the command in flight */
	char logout_tag[16];
	char cmd_buf[16];
	const char *cmd_name;       /* its name, for errors */
	int64_t cmd_sent_ns;        /* when it (or DONE) went out: the stall clock */
	bool idling;                /* IDLE's "+" came: no answer is awaited */
	bool selecting;             /* a SELECT runs: its codes describe the mailbox */
	const struct session_handler *h;   /* the command in flight, NULL: none */
	void *h_ctx;

	/* what the server said */
	unsigned caps;
	struct imap_selected sel;
	bool news;                  /* the count grew since session_take_news() */
	int64_t news_ns;
	uint32_t search[SESSION_UIDS_MAX];
	uint32_t copy[SESSION_UIDS_MAX];
	size_t n_copy;

	void (*listen_fn)(struct imap_session *s, void *ctx, const struct imap_event *ev);
	void *listen_ctx;
	void (*timer_fn)(struct imap_session *s, void *ctx, int64_t now);
	void *timer_ctx;
	int64_t timer_ns;
};

/* session.c, for handover.c */
void session_note_capabilities(struct imap_session *s, const char *text);


#endif
