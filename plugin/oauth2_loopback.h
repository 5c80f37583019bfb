/*
 * oauth2_loopback.h - the loopback redirect of --oauth2-login (RFC 8252
 * §7.3): listen on 127.0.0.1 on a free port, take the ONE browser request
 * that carries the authorization response, answer it with a short page.
 *
 * Contract:
 *  - oauth2_loopback_listen(): a socket bound to 127.0.0.1 port 0 (the
 *    kernel picks a free port, in lb->port).  0, or -1 with err.
 *  - oauth2_loopback_wait(): waits at most timeout_ms for a browser
 *    request to "/" (the redirect_uri's path).  Up to LOOPBACK_CONNS
 *    connections are read at once (browsers open spare ones that never
 *    send), each request head is read up to LOOPBACK_HEAD_MAX bytes; a
 *    request for another path (favicon.ico) gets 404 and does not count;
 *    one too long gets 431.  Returns 0 with *rd filled and rd->fd the
 *    connection to answer, or -1 with err ("no browser request within
 *    300 s").
 *  - oauth2_redirect_parse(): the pure part, for tests: 1 for a GET of
 *    "/" (with or without a query), its parameters code, state, error,
 *    error_description percent-decoded ('+' is a space) into rd; 0 for a
 *    request of another path; -1 for anything else (not GET, not HTTP,
 *    a value too long for its field, bad %-escape).  head is the request
 *    head, no NUL needed.
 *  - oauth2_loopback_answer(): sends status, a short HTML page (title and
 *    text are HTML-escaped) and closes rd->fd.  Never blocks longer than
 *    5 s.
 *  - rd->code is a secret (a one-time code): oauth2_redirect_wipe().
 */
#ifndef MAIL_E2E_OAUTH2_LOOPBACK_H
#define MAIL_E2E_OAUTH2_LOOPBACK_H

#include <stddef.h>

#define LOOPBACK_CONNS 4
#define LOOPBACK_HEAD_MAX 8192

struct oauth2_loopback {
	int fd;        /* listening socket, -1: none */
	int port;
};

struct oauth2_redirect {
	char code[2048];
	char state[256];
	char error[64];
	char error_description[256];
	int fd;        /* the browser's connection, -1: none */
};

int oauth2_loopback_listen(struct oauth2_loopback *lb, char *err, size_t errlen);
int oauth2_loopback_wait(struct oauth2_loopback *lb, long timeout_ms, struct oauth2_redirect *rd,
                         char *err, size_t errlen);
int oauth2_redirect_parse(const char *head, size_t len, struct oauth2_redirect *rd);
void oauth2_loopback_answer(struct oauth2_redirect *rd, int status, const char *title, const char *text);
void oauth2_redirect_wipe(struct oauth2_redirect *rd);
void oauth2_loopback_close(struct oauth2_loopback *lb);

#endif
