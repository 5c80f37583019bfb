/*
 * probe_wait.c - what the event loop asks of a probe (see probe.h): the
 * sockets to poll, which of them woke it, and its next timer.
 */
#include "probe_int.h"

/* Found, its header block maybe still on the way: the leg bounds that. */
bool probe_any_found(const struct probe *p)
{
	return (INBOX(p) && imap_found(INBOX(p))) || (JUNK(p) && imap_found(JUNK(p)));
}

/* The deadline's verdict waits while a look at news the server gave in
 * time is answered (within the cleanup bound): what it finds came in time. */
int64_t probe_verdict_due(const struct probe *p)
{
	int64_t deadline = p->budget.deadline_ns;

	if ((INBOX(p) && imap_news_in_check(INBOX(p), deadline)) ||
	    (JUNK(p) && imap_news_in_check(JUNK(p), deadline)))
		return deadline + BUDGET_PAST_NS;
	return deadline;
}

void probe_io_ready(struct probe *p, curl_socket_t fd)
{
	bool want_write;

	for (int i = 0; i < IMAP_ROLES; i++)
		if (p->leg[i] && imap_wait_fd(p->leg[i], &want_write) == fd)
			imap_io_ready(p->leg[i]);
	if (p->smtp && smtp_wait_fd(p->smtp, &want_write) == fd)
		smtp_io_ready(p->smtp);
}

void probe_wait_fds(const struct probe *p, struct curl_waitfd *fds,
                    unsigned *n, unsigned max)
{
	for (int i = 0; i <= IMAP_ROLES && *n < max; i++) {
		bool want_write = false;
		curl_socket_t fd = i == IMAP_ROLES ? (p->smtp ? smtp_wait_fd(p->smtp, &want_write) : CURL_SOCKET_BAD)
		                   : p->leg[i] ? imap_wait_fd(p->leg[i], &want_write) : CURL_SOCKET_BAD;
		if (fd == CURL_SOCKET_BAD)
			continue;
		fds[*n].fd = fd;
		fds[*n].events = CURL_WAIT_POLLIN | (want_write ? CURL_WAIT_POLLOUT : 0);
		fds[*n].revents = 0;
		(*n)++;
	}
}

static int64_t earliest(int64_t a, int64_t b)
{
	return a && (b == 0 || a < b) ? a : b;
}

int64_t probe_next_timer(const struct probe *p)
{
	int64_t t = p->ready || probe_any_found(p) ? 0 : probe_verdict_due(p);

	if (!p->ready && (p->stage == ST_SMTP || leg_token_waiting(&p->imap_token) ||
	                  (INBOX(p) && imap_state(INBOX(p)) == IMAP_CONNECTING)))
		t = p->budget.deadline_ns + BUDGET_BACKSTOP_NS;
	for (int i = 0; i < IMAP_ROLES; i++)
		if (p->leg[i])
			t = earliest(imap_next_timer(p->leg[i]), t);
	if (p->smtp)
		t = earliest(smtp_next_timer(p->smtp), t);
	t = earliest(dnsbl_run_timer(&p->dnsbl), t);
	if (!p->ready && p->inbox_ready_ns && p->stage == ST_IMAP_PREP)
		t = earliest(budget_bounce_wait_until(&p->budget, p->inbox_ready_ns), t);
	return t;
}
