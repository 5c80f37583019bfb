/*
 * cycle.c - see cycle.h.
 *
 * One libcurl multi handle serves every cycle of the process: libcurl
 * caches the parsed CA bundle per multi handle, and parsing the system
 * bundle (~150 certificates) costs ~40 ms of CPU per TLS connection.  The
 * handle is made anew when a CA file in use changes on disk (size, time or
 * inode, looked at when a cycle starts), so a renewed bundle is picked up
 * at the next cycle.
 *
 * server_concurrency: a route holds one slot on each server it uses (its
 * SMTP and its IMAP host:port) from its start until its cleanup is over.
 * Routes start in file order when every server they use has a free slot;
 * a route waiting for one server does not hold back routes of others.
 */
#include "cycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "dns.h"
#include "log.h"
#include "oauth2.h"
#include "probe.h"
#include "smtp/smtp.h"

#define SERVER_KEY_MAX 300

struct server_slot {
	char key[SERVER_KEY_MAX];   /* "host:port" */
	long busy;
};

struct cycle {
	CURLM *multi;              /* the process's, see shared_multi */
	const struct config *cfg;
	struct probe **probes;     /* NULL: not started yet, or finished and freed */
	bool *emitted, *done;
	size_t n;
	int64_t real0, mono0;
	cycle_emit_fn emit;
	void *ctx;
	struct server_slot *slots;
	size_t n_slots;
	size_t (*route_slots)[2];  /* per route: its SMTP and IMAP slot */
	struct curl_waitfd *fds;   /* caller's extra fds, then up to four per probe */
	size_t *fd_owner;          /* fds[k] belongs to probes[fd_owner[k]] */
	unsigned fds_cap;
};

/* --- the process's multi handle and the CA files it has cached ----------- */

static CURLM *shared_multi;
static unsigned long long shared_ca_stamp;

static unsigned long long file_stamp(const char *path)
{
	struct stat st;

	if (!path || stat(path, &st) != 0)
		return 0;
	return (unsigned long long)st.st_mtim.tv_sec * 1000003ULL ^
	       (unsigned long long)st.st_mtim.tv_nsec * 31ULL ^
	       (unsigned long long)st.st_size * 7919ULL ^ (unsigned long long)st.st_ino;
}

/* One number that changes when any CA file the routes use changes. */
static unsigned long long ca_stamp(const struct config *cfg)
{
	const char *system_ca = curl_version_info(CURLVERSION_NOW)->cainfo;
	unsigned long long stamp = 0;
	bool system_used = false;

	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct route *r = &cfg->routes[i];
		if (r->smtp_tls == TLS_NONE && r->imap_tls == TLS_NONE)
			continue;
		if (r->tls_ca)
			stamp = stamp * 1099511628211ULL + file_stamp(r->tls_ca);
		else
			system_used = true;
	}
	if (system_used)
		stamp = stamp * 1099511628211ULL + file_stamp(system_ca);
	return stamp;
}

static CURLM *multi_for(const struct config *cfg)
{
	unsigned long long stamp = ca_stamp(cfg);

	if (shared_multi && stamp != shared_ca_stamp && oauth2_busy()) {
		log_debug("a CA file changed on disk: loaded again once the token request under way ends");
	} else if (shared_multi && stamp != shared_ca_stamp) {
		log_info("a CA file changed on disk: loading it again");
		curl_multi_cleanup(shared_multi);   /* nothing of the token cache is on it */
		shared_multi = NULL;
	}
	if (!shared_multi) {
		shared_multi = curl_multi_init();
		shared_ca_stamp = stamp;
	}
	return shared_multi;
}

/* Advance the token requests alone (no cycle runs): one wait of at most
 * wait_ms on the handle and the caller's fds, then their news. */
static int drive_tokens(struct curl_waitfd *extra, unsigned n_extra, int wait_ms)
{
	CURLMcode mc = curl_multi_wait(shared_multi, extra, n_extra, wait_ms, NULL);
	CURLMsg *m;
	int running, left;

	if (mc == CURLM_OK)
		mc = curl_multi_perform(shared_multi, &running);
	if (mc != CURLM_OK) {
		log_error("curl_multi_wait: %s", curl_multi_strerror(mc));
		return -1;
	}
	while ((m = curl_multi_info_read(shared_multi, &left)))
		if (m->msg == CURLMSG_DONE && oauth2_owns(m->easy_handle))
			oauth2_on_done(m->easy_handle, m->data.result);
	return 0;
}

bool cycle_background(struct curl_waitfd *extra, unsigned n_extra, int max_wait_ms)
{
	if (!shared_multi || !oauth2_busy())
		return false;
	for (unsigned i = 0; i < n_extra; i++)
		extra[i].revents = 0;
	/* A failed wait: the caller's own poll takes over at once. */
	return drive_tokens(extra, n_extra, max_wait_ms) == 0;
}

void cycle_global_cleanup(int64_t finish_by_ns)
{
	int64_t now = clock_mono_ns();

	if (shared_multi && oauth2_busy() && now < finish_by_ns) {
		log_info("a token refresh is under way: waiting up to %.1fs for it to finish",
		         (double)(finish_by_ns - now) / (double)NS_PER_S);
		while (oauth2_busy() && (now = clock_mono_ns()) < finish_by_ns &&
		       drive_tokens(NULL, 0, (int)((finish_by_ns - now) / NS_PER_MS) + 1) == 0)
			;
	}
	if (oauth2_busy())
		log_warn("exit with a token refresh unfinished: if its provider rotated the refresh "
		         "token, the next refresh may fail invalid_grant");
	oauth2_shutdown();
	dns_shutdown();
	smtp_cleanup();
	if (shared_multi)
		curl_multi_cleanup(shared_multi);
	shared_multi = NULL;
}

/* --- server slots --------------------------------------------------------- */

static size_t slot_for(struct cycle *c, const char *host, int port)
{
	char key[SERVER_KEY_MAX];

	snprintf(key, sizeof(key), "%s:%d", host, port);
	for (size_t i = 0; i < c->n_slots; i++)
		if (strcmp(c->slots[i].key, key) == 0)
			return i;
	snprintf(c->slots[c->n_slots].key, sizeof(c->slots[0].key), "%s", key);
	return c->n_slots++;
}

static bool slots_free(const struct cycle *c, size_t i)
{
	size_t a = c->route_slots[i][0], b = c->route_slots[i][1];

	return c->slots[a].busy < c->cfg->server_concurrency &&
	       c->slots[b].busy < c->cfg->server_concurrency;
}

static void slots_take(struct cycle *c, size_t i, long delta)
{
	size_t a = c->route_slots[i][0], b = c->route_slots[i][1];

	c->slots[a].busy += delta;
	if (b != a)
		c->slots[b].busy += delta;
}

/* Start every waiting route whose servers have room, in file order.  Those
 * that start with the cycle did not queue, however long setting up the
 * earlier ones took. */
static int start_waiting(struct cycle *c, bool with_cycle)
{
	int64_t now = clock_mono_ns();

	for (size_t i = 0; i < c->n; i++) {
		if (c->probes[i] || c->done[i] || !slots_free(c, i))
			continue;
		c->probes[i] = probe_start(c->multi, &c->cfg->routes[i], c->real0,
		                           with_cycle ? 0 : now - c->mono0);
		if (!c->probes[i]) {
			log_error("out of memory starting route %s", c->cfg->routes[i].name);
			return -1;
		}
		slots_take(c, i, 1);
	}
	return 0;
}

struct cycle *cycle_start(const struct config *cfg, cycle_emit_fn emit, void *ctx)
{
	struct cycle *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->real0 = clock_real_ns();
	c->mono0 = clock_mono_ns();
	oauth2_cycle_begin();
	c->cfg = cfg;
	c->emit = emit;
	c->ctx = ctx;
	c->n = cfg->n_routes;
	c->multi = multi_for(cfg);
	dns_configure(cfg->resolver, cfg->dnssec_trust_anchor);
	c->probes = calloc(c->n, sizeof(*c->probes));
	c->emitted = calloc(c->n, sizeof(*c->emitted));
	c->done = calloc(c->n, sizeof(*c->done));
	c->slots = calloc(2 * c->n, sizeof(*c->slots));
	c->route_slots = calloc(c->n, sizeof(*c->route_slots));
	c->fds_cap = 4 * (unsigned)c->n + 9;   /* SMTP, inbox, junk and bounce per route, DNS, + caller's */
	c->fds = calloc(c->fds_cap, sizeof(*c->fds));
	c->fd_owner = calloc(c->fds_cap, sizeof(*c->fd_owner));
	if (!c->multi || !c->probes || !c->emitted || !c->done || !c->slots ||
	    !c->route_slots || !c->fds || !c->fd_owner)
		goto fail;
	for (size_t i = 0; i < c->n; i++) {
		const struct route *r = &cfg->routes[i];
		/* An mx route's server is the recipient domain's MX set (a negative
		 * port: never the key of a host of that name). */
		c->route_slots[i][0] = r->smtp_via == SMTP_VIA_MX ? slot_for(c, strrchr(r->to, '@') + 1, -r->mx_port)
		                       : slot_for(c, r->smtp_host, r->smtp_port);
		c->route_slots[i][1] = slot_for(c, r->imap_host, r->imap_port);
	}
	if (start_waiting(c, true) != 0)
		goto fail;
	return c;
fail:
	cycle_free(c);
	return NULL;
}

/* Hand every finished transfer to its probe; returns how many there were. */
static int drain_messages(struct cycle *c)
{
	CURLMsg *m;
	int left, done = 0;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		done++;
		if (oauth2_owns(m->easy_handle)) {
			oauth2_on_done(m->easy_handle, m->data.result);
			continue;
		}
		for (size_t i = 0; i < c->n; i++) {
			if (c->probes[i] && probe_owns(c->probes[i], m->easy_handle)) {
				probe_on_done(c->probes[i], m->easy_handle, m->data.result);
				break;
			}
		}
	}
	return done;
}

/* Step every running probe; emit results; free the finished ones, whose
 * slots let waiting routes start.  Returns how many finished. */
static int step_all(struct cycle *c)
{
	int64_t now = clock_mono_ns();
	int finished = 0;

	for (size_t i = 0; i < c->n; i++) {
		struct probe *p = c->probes[i];
		if (!p)
			continue;
		probe_step(p, now);
		if (!c->emitted[i] && probe_result_ready(p)) {
			c->emitted[i] = true;
			c->emit(c->ctx, probe_route(p), probe_result(p));
		}
		if (c->emitted[i] && probe_finished(p)) {
			probe_free(p);
			c->probes[i] = NULL;
			c->done[i] = true;
			slots_take(c, i, -1);
			finished++;
		}
	}
	return finished;
}

/* Milliseconds until the earliest probe timer, capped by max_wait_ms. */
static int next_wait_ms(const struct cycle *c, int max_wait_ms)
{
	int64_t now = clock_mono_ns();
	int wait = max_wait_ms;

	for (size_t i = 0; i < c->n; i++) {
		int64_t t = c->probes[i] ? probe_next_timer(c->probes[i]) : 0;
		if (t == 0)
			continue;
		if (t <= now)
			return 0;
		if ((t - now) / NS_PER_MS + 1 < wait)
			wait = (int)((t - now) / NS_PER_MS + 1);
	}
	return wait;
}

int cycle_run(struct cycle *c, struct curl_waitfd *extra, unsigned n_extra,
              int max_wait_ms)
{
	unsigned n = 0, n_probe;
	int running, done, finished, dns_fd = dns_wait_fd();
	CURLMcode mc;

	if (n_extra > c->fds_cap - 4 * c->n - 1) {
		log_error("internal: too many extra fds");
		return -1;
	}
	for (unsigned i = 0; i < n_extra; i++)
		c->fds[n++] = extra[i];
	for (size_t i = 0; i < c->n; i++) {
		unsigned first = n;
		if (!c->probes[i])
			continue;
		probe_wait_fds(c->probes[i], c->fds, &n, c->fds_cap);
		for (unsigned k = first; k < n; k++)
			c->fd_owner[k] = i;
	}
	n_probe = n;
	/* Our own DNS answers come through libunbound's pipe. */
	if (dns_fd >= 0)
		c->fds[n++] = (struct curl_waitfd){ .fd = dns_fd, .events = CURL_WAIT_POLLIN };

	mc = curl_multi_wait(c->multi, c->fds, n, next_wait_ms(c, max_wait_ms), NULL);
	if (mc != CURLM_OK) {
		log_error("curl_multi_wait: %s", curl_multi_strerror(mc));
		return -1;
	}
	for (unsigned i = 0; i < n_extra; i++)
		extra[i].revents = c->fds[i].revents;
	/* Only the sessions whose socket woke us read from it. */
	for (unsigned k = n_extra; k < n_probe; k++)
		if (c->fds[k].revents && c->probes[c->fd_owner[k]])
			probe_io_ready(c->probes[c->fd_owner[k]], c->fds[k].fd);
	dns_process();

	/* Until nothing new happens: a finished transfer lets its probe step
	 * (and maybe start the next transfer) now, not after the next wait. */
	do {
		mc = curl_multi_perform(c->multi, &running);
		if (mc != CURLM_OK) {
			log_error("curl_multi_perform: %s", curl_multi_strerror(mc));
			return -1;
		}
		done = drain_messages(c);
		finished = step_all(c);
		if (finished > 0 && start_waiting(c, false) != 0)
			return -1;
	} while (done > 0 || finished > 0);
	return 0;
}

bool cycle_finished(const struct cycle *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (!c->done[i])
			return false;
	return true;
}

unsigned cycle_pending(const struct cycle *c)
{
	unsigned n = 0;

	for (size_t i = 0; i < c->n; i++)
		if (!c->emitted[i])
			n++;
	return n;
}

void cycle_free(struct cycle *c)
{
	if (!c)
		return;
	if (c->probes)
		for (size_t i = 0; i < c->n; i++)
			probe_free(c->probes[i]);
	free(c->probes);
	free(c->emitted);
	free(c->done);
	free(c->slots);
	free(c->route_slots);
	free(c->fds);
	free(c->fd_owner);
	free(c);
}
