/*
 * oauth2_loopback.c - see oauth2_loopback.h.
 */
#include "oauth2_loopback.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "clock.h"

struct loopback_conn {
	int fd;                  /* -1: free */
	unsigned long order;     /* lb->accepted when it came: the oldest goes first */
	size_t len;
	char buf[LOOPBACK_HEAD_MAX];
};

int oauth2_loopback_listen(struct oauth2_loopback *lb, int port, char *err, size_t errlen)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int one = 1;

	lb->port = 0;
	lb->accepted = 0;
	lb->conns = calloc(LOOPBACK_CONNS, sizeof(*lb->conns));
	lb->fd = lb->conns ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) : -1;
	if (lb->fd < 0) {
		snprintf(err, errlen, "cannot make a socket: %s", lb->conns ? strerror(errno) : "out of memory");
		oauth2_loopback_close(lb);
		return -1;
	}
	for (size_t i = 0; i < LOOPBACK_CONNS; i++)
		lb->conns[i].fd = -1;
	/* A fixed port used a minute ago may still hold TIME_WAIT sockets. */
	if (port != 0 && setsockopt(lb->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
		snprintf(err, errlen, "cannot set SO_REUSEADDR: %s", strerror(errno));
		oauth2_loopback_close(lb);
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)port);
	if (bind(lb->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lb->fd, 16) != 0 ||
	    getsockname(lb->fd, (struct sockaddr *)&a, &alen) != 0) {
		if (port)
			snprintf(err, errlen, "cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
		else
			snprintf(err, errlen, "cannot listen on 127.0.0.1: %s", strerror(errno));
		oauth2_loopback_close(lb);
		return -1;
	}
	lb->port = ntohs(a.sin_port);
	return 0;
}

/* A connection goes: whatever it sent is wiped first (it may hold a code). */
static void conn_drop(struct loopback_conn *c)
{
	explicit_bzero(c->buf, sizeof(c->buf));
	c->len = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void oauth2_loopback_close(struct oauth2_loopback *lb)
{
	if (lb->fd >= 0)
		close(lb->fd);
	lb->fd = -1;
	if (lb->conns) {
		for (size_t i = 0; i < LOOPBACK_CONNS; i++)
			conn_drop(&lb->conns[i]);
		free(lb->conns);
	}
	lb->conns = NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into dst (cap bytes with the NUL); -1 for a bad
 * escape, a decoded control character, or no room. */
static int pct_decode(const char *s, size_t n, char *dst, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int hi, lo;
			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= cap)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* One "key=value" of the query into its field; unknown keys are skipped,
 * a known one twice is refused. */
static int query_pair(const char *p, size_t n, struct oauth2_redirect *rd, unsigned *seen)
{
	static const char *const keys[] = { "code", "state", "error", "error_description" };
	char *fields[] = { rd->code, rd->state, rd->error, rd->error_description };
	size_t caps[] = { sizeof(rd->code), sizeof(rd->state), sizeof(rd->error), sizeof(rd->error_description) };
	const char *eq = memchr(p, '=', n);
	size_t klen = eq ? (size_t)(eq - p) : n;

	for (size_t k = 0; k < 4; k++) {
		if (klen != strlen(keys[k]) || memcmp(p, keys[k], klen) != 0)
			continue;
		if (*seen & (1u << k))
			return -1;
		*seen |= 1u << k;
		return eq ? pct_decode(eq + 1, n - klen - 1, fields[k], caps[k]) : 0;
	}
	return 0;
}

int oauth2_redirect_parse(const char *head, size_t len, struct oauth2_redirect *rd)
{
	const char *eol = memchr(head, '\n', len), *target, *sp, *q, *end;
	unsigned seen = 0;

	rd->code[0] = rd->state[0] = rd->error[0] = rd->error_description[0] = '\0';
	if (!eol || len < 4 || memcmp(head, "GET ", 4) != 0)
		return -1;
	target = head + 4;
	sp = memchr(target, ' ', (size_t)(eol - target));
	if (!sp || eol - sp < 8 || memcmp(sp + 1, "HTTP/1.", 7) != 0)
		return -1;
	q = memchr(target, '?', (size_t)(sp - target));
	end = q ? q : sp;
	if (end - target != 1 || target[0] != '/')
		return 0;
	if (!q)
		return 1;
	for (const char *p = q + 1; p < sp;) {
		const char *amp = memchr(p, '&', (size_t)(sp - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(sp - p);
		if (n > 0 && query_pair(p, n, rd, &seen) != 0) {
			oauth2_redirect_wipe(rd);
			return -1;
		}
		p += n + 1;
	}
	return 1;
}

void oauth2_redirect_wipe(struct oauth2_redirect *rd)
{
	explicit_bzero(rd->code, sizeof(rd->code));
	rd->state[0] = rd->error[0] = rd->error_description[0] = '\0';
}

static void html_escape(const char *s, char *dst, size_t cap)
{
	size_t o = 0;

	for (; *s && o + 7 < cap; s++) {
		const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
		                  *s == '"' ? "&quot;" : NULL;
		if (rep) {
			memcpy(dst + o, rep, strlen(rep));
			o += strlen(rep);
		} else
			dst[o++] = *s;
	}
	dst[o] = '\0';
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 431: return "Request Header Fields Too Large";
	default: return "Error";
	}
}

static void reply(int fd, int status, const char *title, const char *text)
{
	char t[256], x[1024], page[2048], msg[2400];
	struct timeval tv = { 5, 0 };
	int n, flags = fcntl(fd, F_GETFL);
	size_t off = 0;

	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	html_escape(title, t, sizeof(t));
	html_escape(text, x, sizeof(x));
	snprintf(page, sizeof(page), "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mail-e2e: %s</title>"
	         "</head>\n<body><h1>%s</h1><p>%s</p></body></html>\n", t, t, x);
	n = snprintf(msg, sizeof(msg), "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
	             "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
	             status, reason(status), strlen(page), page);
	while (n > 0 && off < (size_t)n) {
		ssize_t w = send(fd, msg + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	close(fd);
}

void oauth2_loopback_answer(struct oauth2_redirect *rd, int status, const char *title, const char *text)
{
	if (rd->fd >= 0)
		reply(rd->fd, status, title, text);
	rd->fd = -1;
}

/* Take one waiting connection; with every slot taken, the one accepted
 * longest ago goes (4 slots in round robin let the next few connections of
 * another local process push out the browser's before it sent its
 * request; now it outlives LOOPBACK_CONNS - 1 newer ones). */
static void take(struct oauth2_loopback *lb)
{
	struct loopback_conn *c = lb->conns, *slot = NULL;
	int fd = accept(lb->fd, NULL, NULL);

	if (fd < 0)
		return;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		close(fd);
		return;
	}
	for (size_t i = 0; i < LOOPBACK_CONNS; i++) {
		if (c[i].fd < 0) {
			slot = &c[i];
			break;
		}
		if (!slot || c[i].order < slot->order)
			slot = &c[i];
	}
	conn_drop(slot);
	slot->fd = fd;
	slot->order = lb->accepted++;
}

/* Read what came on c; 1: it was a request to "/" (moved into rd), else 0. */
static int serve(struct loopback_conn *c, struct oauth2_redirect *rd)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	int rc;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_drop(c);
		return 0;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (!strstr(c->buf, "\r\n\r\n") && !strstr(c->buf, "\n\n")) {
		if (c->len + 1 < sizeof(c->buf))
			return 0;
		reply(c->fd, 431, "Request too long", "The request was too long.");
		c->fd = -1;
		conn_drop(c);
		return 0;
	}
	rc = oauth2_redirect_parse(c->buf, c->len, rd);
	if (rc == 1) {
		rd->fd = c->fd;
		c->fd = -1;
	} else {
		reply(c->fd, rc == 0 ? 404 : 400, rc == 0 ? "Not found" : "Bad request",
		      rc == 0 ? "Nothing here." : "This is not an authorization response.");
		c->fd = -1;
	}
	conn_drop(c);
	return rc == 1;
}

/* A signal handler's byte woke us: read it all (the pipe is non-blocking). */
static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int oauth2_loopback_wait(struct oauth2_loopback *lb, long timeout_ms, int wake_fd,
                         volatile sig_atomic_t *stop, struct oauth2_redirect *rd,
                         char *err, size_t errlen)
{
	int64_t end = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;

	rd->fd = -1;
	for (;;) {
		struct pollfd p[LOOPBACK_CONNS + 2];
		int64_t left = end - clock_mono_ns();

		if (stop && *stop)
			return LOOPBACK_INTERRUPTED;
		if (left <= 0) {
			snprintf(err, errlen, "no browser request within %ld s", timeout_ms / 1000);
			return -1;
		}
		p[0] = (struct pollfd){ lb->fd, POLLIN, 0 };
		p[1] = (struct pollfd){ wake_fd, POLLIN, 0 };   /* -1: poll skips it */
		for (size_t i = 0; i < LOOPBACK_CONNS; i++)
			p[i + 2] = (struct pollfd){ lb->conns[i].fd, POLLIN, 0 };
		if (poll(p, LOOPBACK_CONNS + 2, (int)(left / NS_PER_MS < 1000 ? left / NS_PER_MS + 1 : 1000)) < 0 &&
		    errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (p[1].revents)
			drain(wake_fd);
		/* Requests already sent are read before a new connection can
		 * take a slot. */
		for (size_t i = 0; i < LOOPBACK_CONNS; i++)
			if (lb->conns[i].fd >= 0 && (p[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    serve(&lb->conns[i], rd))
				return 0;
		if (p[0].revents & POLLIN)
			take(lb);
	}
}
