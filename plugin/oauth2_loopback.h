/*
 * oauth2_loopback.h - the loopback redirect of --oauth2-login (RFC 8252
 * §7.3): listen on 127.0.0.1, hand the caller each browser request to "/"
 * (the redirect_uri's path), answer it with a short page.
 *
 * Any local process can connect to the port: nothing read here is trusted.
 * The caller acts on a redirect only when its state is the login's own
 * (RFC 6749 §10.12), whatever else it carries, and keeps waiting otherwise.
 *
 * Contract:
 *  - oauth2_loopback_listen(): a socket bound to 127.0.0.1 on port (0: the
 *    kernel picks a free one; a fixed port is for `ssh -L`), its number in
 *    lb->port, and the connection slots (heap).  0, or -1 with err ("cannot
 *    listen on 127.0.0.1:8765: Address already in use").
 *  - oauth2_loopback_wait(): waits at most timeout_ms for the next browser
 *    request to "/".  Up to LOOPBACK_CONNS connections are read at once
 *    (browsers open spare ones that never send); when all are taken, the
 *    one accepted longest ago goes, so a connection outlives the next
 *    LOOPBACK_CONNS - 1 that come after it (requests already sent are read
 *    before a new connection is taken); each request head is read up to
 *    LOOPBACK_HEAD_MAX bytes; a request for another path (favicon.ico) gets
 *    404, one that is not a GET of "/" 400, one too long 431.  Connections
 *    stay in lb between calls.  Returns 0 with *rd filled and rd->fd the
 *    connection to answer; LOOPBACK_INTERRUPTED when *stop became non-zero
 *    (wake_fd, when not -1, is polled too and drained: a signal handler's
 *    self-pipe, so the wait ends at once); -1 with err ("no browser
 *    request within 300 s", poll failed).
 *  - oauth2_redirect_parse(): the pure part, for tests: 1 for a GET of
 *    "/" (with or without a query), its parameters code, state, error,
 *    error_description percent-decoded ('+' is a space) into rd; 0 for a
 *    request of another path; -1 for anything else (not GET, not HTTP,
 *    a value too long for its field, bad %-escape).  head is the request
 *    head, no NUL needed.
 *  - oauth2_loopback_answer(): sends status, a short HTML page (title and
 *    text are HTML-escaped) and closes rd->fd.  Never blocks longer than
 *    5 s.  Safe to call when rd->fd is -1 (does nothing).
 *  - rd->code is a secret (a one-time code): oauth2_redirect_wipe().  Every
 *    byte a connection brought is wiped when it is dropped, answered,
 *    evicted or closed with lb (a partial request may hold a code).
 *  - oauth2_loopback_close(): closes the socket and every connection, wipes
 *    and frees the slots; safe to call twice.
 */
#ifndef MAIL_E2E_OAUTH2_LOOPBACK_H
#define MAIL_E2E_OAUTH2_LOOPBACK_H

#include <signal.h>
#include <stddef.h>

#define LOOPBACK_CONNS 16
#define LOOPBACK_HEAD_MAX 8192
#define LOOPBACK_INTERRUPTED 1

struct loopback_conn;

struct oauth2_loopback {
	int fd;        /* listening socket, -1: none */
	int port;
	struct loopback_conn *conns;   /* LOOPBACK_CONNS slots, owned */
	unsigned long accepted;        /* connections taken so far: their order */
};

struct oauth2_redirect {
	char code[2048];
	char state[256];
	char error[64];
	char error_description[256];
	int fd;        /* the browser's connection, -1: none */
};

int oauth2_loopback_listen(struct oauth2_loopback *lb, int port, char *err, size_t errlen);
int oauth2_loopback_wait(struct oauth2_loopback *lb, long timeout_ms, int wake_fd,
                         volatile sig_atomic_t *stop, struct oauth2_redirect *rd,
                         char *err, size_t errlen);
int oauth2_redirect_parse(const char *head, size_t len, struct oauth2_redirect *rd);
void oauth2_loopback_answer(struct oauth2_redirect *rd, int status, const char *title, const char *text);
void oauth2_redirect_wipe(struct oauth2_redirect *rd);
void oauth2_loopback_close(struct oauth2_loopback *lb);

#endif
