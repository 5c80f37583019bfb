/*
 * cycle.c - see cycle.h.
 */
#include "cycle.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "probe.h"

struct cycle {
	CURLM *multi;
	struct probe **probes;
	bool *emitted;
	size_t n;
	cycle_emit_fn emit;
	void *ctx;
	struct curl_waitfd *fds;   /* caller's extra fds, then up to two per probe */
	size_t *fd_owner;          /* fds[k] belongs to probes[fd_owner[k]] */
	unsigned fds_cap;
};

struct cycle *cycle_start(const struct config *cfg, cycle_emit_fn emit, void *ctx)
{
	struct cycle *c = calloc(1, sizeof(*c));
	int64_t real = clock_real_ns(), mono = clock_mono_ns();

	if (!c)
		return NULL;
	c->emit = emit;
	c->ctx = ctx;
	c->n = cfg->n_routes;
	c->multi = curl_multi_init();
	c->probes = calloc(c->n, sizeof(*c->probes));
	c->emitted = calloc(c->n, sizeof(*c->emitted));
	c->fds_cap = 2 * (unsigned)c->n + 8;   /* inbox + junk per route, + caller's */
	c->fds = calloc(c->fds_cap, sizeof(*c->fds));
	c->fd_owner = calloc(c->fds_cap, sizeof(*c->fd_owner));
	if (!c->multi || !c->probes || !c->emitted || !c->fds || !c->fd_owner)
		goto fail;
	for (size_t i = 0; i < c->n; i++) {
		c->probes[i] = probe_start(c->multi, &cfg->routes[i], real, mono);
		if (!c->probes[i])
			goto fail;
	}
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
		for (size_t i = 0; i < c->n; i++) {
			if (probe_owns(c->probes[i], m->easy_handle)) {
				probe_on_done(c->probes[i], m->easy_handle, m->data.result);
				break;
			}
		}
		done++;
	}
	return done;
}

static void step_all(struct cycle *c)
{
	int64_t now = clock_mono_ns();

	for (size_t i = 0; i < c->n; i++) {
		probe_step(c->probes[i], now);
		if (!c->emitted[i] && probe_result_ready(c->probes[i])) {
			c->emitted[i] = true;
			c->emit(c->ctx, probe_route(c->probes[i]), probe_result(c->probes[i]));
		}
	}
}

/* Milliseconds until the earliest probe timer, capped by max_wait_ms. */
static int next_wait_ms(const struct cycle *c, int max_wait_ms)
{
	int64_t now = clock_mono_ns();
	int wait = max_wait_ms;

	for (size_t i = 0; i < c->n; i++) {
		int64_t t = probe_next_timer(c->probes[i]);
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
	unsigned n = 0;
	int running, done;
	CURLMcode mc;

	if (n_extra > c->fds_cap - c->n) {
		log_error("internal: too many extra fds");
		return -1;
	}
	for (unsigned i = 0; i < n_extra; i++)
		c->fds[n++] = extra[i];
	for (size_t i = 0; i < c->n; i++) {
		unsigned first = n;
		probe_wait_fds(c->probes[i], c->fds, &n, c->fds_cap);
		for (unsigned k = first; k < n; k++)
			c->fd_owner[k] = i;
	}

	mc = curl_multi_wait(c->multi, c->fds, n, next_wait_ms(c, max_wait_ms), NULL);
	if (mc != CURLM_OK) {
		log_error("curl_multi_wait: %s", curl_multi_strerror(mc));
		return -1;
	}
	for (unsigned i = 0; i < n_extra; i++)
		extra[i].revents = c->fds[i].revents;
	/* Only the sessions whose socket woke us read from it. */
	for (unsigned k = n_extra; k < n; k++)
		if (c->fds[k].revents)
			probe_io_ready(c->probes[c->fd_owner[k]], c->fds[k].fd);

	/* Until nothing new happens: a finished transfer lets its probe step
	 * (and maybe start the next transfer) now, not after the next wait. */
	do {
		mc = curl_multi_perform(c->multi, &running);
		if (mc != CURLM_OK) {
			log_error("curl_multi_perform: %s", curl_multi_strerror(mc));
			return -1;
		}
		done = drain_messages(c);
		step_all(c);
	} while (done > 0);
	return 0;
}

bool cycle_finished(const struct cycle *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (!c->emitted[i] || !probe_finished(c->probes[i]))
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
	if (c->multi)
		curl_multi_cleanup(c->multi);
	free(c->probes);
	free(c->emitted);
	free(c->fds);
	free(c->fd_owner);
	free(c);
}
