/*
 * main.c - wires the modules together: command line, configuration, the
 * streaming loop for Telegraf's inputs.execd, and --once.
 *
 * The loop is single-threaded.  While no cycle runs it poll()s stdin and the
 * signal pipe; while a cycle runs, the cycle's own wait (curl_multi_wait)
 * watches them too, so a signal or end of stdin is noticed at once.
 *
 * Signals are counted as if each were handled the moment it came: one that
 * finds no cycle running starts one, one that finds a cycle running makes a
 * cycle pending, and any more merge into that pending cycle (SPEC 3).  So
 * "\n\n" read in one go is two cycles, and a signal read together with
 * end of stdin still starts its cycle, which then gets shutdown_grace like
 * any cycle running at end of stdin.  Merging loses a line per route for
 * each merged signal, so the cycle that serves them starts with a W! line
 * saying how many: it is how a user learns the interval is too short.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>

#include "budget.h"
#include "clock.h"
#include "config.h"
#include "cycle.h"
#include "log.h"
#include "oauth2_login.h"
#include "output.h"
#include "parse.h"
#include "transitions.h"
#include "wipe_alloc.h"

#ifndef MAIL_E2E_VERSION
#define MAIL_E2E_VERSION "dev"
#endif

#define EXIT_USAGE 64
#define EXIT_CONFIG 78

struct options {
	const char *config_path;
	bool once, check_config, trace;
	int format;             /* -1: from the file */
	const char *oauth2_login;   /* --oauth2-login ROUTE, or NULL */
	int oauth2_port;            /* --oauth2-port PORT, 0: a free one */
};

struct runner {
	const struct config *cfg;
	enum out_format format;
	bool all_success;       /* --once: every route succeeded so far */
	bool output_dead;       /* stdout failed: wind down, exit 1 */
	unsigned lines;
	struct transitions *story;   /* streaming only: W!/I! on a changed result (SPEC §14) */
};

static int sig_pipe[2] = { -1, -1 };

static volatile sig_atomic_t stop_requested;

/* Set where the streaming loop ends normally: see finish_by(). */
static int64_t stream_end_by;

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGTERM || sig == SIGINT)
		stop_requested = 1;
	/* Full pipe: a wake-up is already pending, losing this byte is fine. */
	if (write(sig_pipe[1], &c, 1) < 0) {
	}
	errno = saved;
}

static int setup_signals(void)
{
	struct sigaction sa;
	const int sigs[] = { SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGINT };

	if (pipe(sig_pipe) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(sig_pipe[i], F_GETFL);
		if (fl < 0 || fcntl(sig_pipe[i], F_SETFL, fl | O_NONBLOCK) != 0 ||
		    fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC) != 0)
			return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return -1;
	/* A closed stdout must be an EPIPE we can report, not a silent death. */
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mail-e2e [-c FILE] [--once] [--format influx|json] [--check-config]\n"
		"                [--oauth2-login ROUTE [--oauth2-port PORT]]\n"
		"                [--trace] [--version] [--help]\n"
		"\n"
		"Sends a tagged message over SMTP, finds it over IMAP, reports the times.\n"
		"Without --once it waits on stdin: each line (or SIGHUP/SIGUSR1/SIGUSR2)\n"
		"runs one probe cycle, as Telegraf's inputs.execd expects.\n"
		"\n"
		"  -c, --config, -config FILE  INI file (default %s)\n"
		"  --once                      run one cycle, exit 0 if every route succeeded, else 1\n"
		"  --format influx|json        output format (overrides the file)\n"
		"  --check-config              validate the file, print the routes, exit 0 or 78\n"
		"  --oauth2-login ROUTE        one-time OAuth2 consent for ROUTE, on a terminal\n"
		"  --oauth2-port PORT          the browser's redirect to 127.0.0.1:PORT (for ssh -L)\n"
		"  --trace                     protocol dialogue on stderr (D! lines, secrets hidden)\n"
		"  --version, --help           print and exit\n"
		"\n"
		"Exit: 0 ok, 1 failed route (--once) or fatal error, 64 usage, 78 bad config.\n",
		CONFIG_DEFAULT_PATH);
}

/* SPEC §9: every route can take three descriptors at once; a process that
 * Telegraf starts under systemd often has a soft limit of 1024. */
static void raise_open_file_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise the open-file limit to %llu: %s",
		         (unsigned long long)rl.rlim_max, strerror(errno));
}

/* Go's flag package style "-config FILE" is what Telegraf users write; map
 * single-dash long options onto the double-dash ones before getopt. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "trace", no_argument, NULL, 't' },
		{ "oauth2-login", required_argument, NULL, 'L' },
		{ "oauth2-port", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->config_path = CONFIG_DEFAULT_PATH;
	o->format = -1;
	opterr = 0;
	while ((ch = getopt_long_only(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config_path = optarg; break;
		case 'o': o->once = true; break;
		case 'k': o->check_config = true; break;
		case 't': o->trace = true; break;
		case 'L': o->oauth2_login = optarg; break;
		case 'P':
			if (parse_port(optarg, &o->oauth2_port) != 0) {
				log_error("--oauth2-port: expected a port 1-65535, got '%.40s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			if (strcmp(optarg, "influx") == 0)
				o->format = FORMAT_INFLUX;
			else if (strcmp(optarg, "json") == 0)
				o->format = FORMAT_JSON;
			else {
				log_error("--format: expected influx or json, got '%.40s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'V':
			printf("mail-e2e %s (libcurl %s)\n", MAIL_E2E_VERSION, curl_version_info(CURLVERSION_NOW)->version);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case '?':
			log_error("unknown option or missing value: %.60s (see --help)",
			          argv[optind - 1]);
			return EXIT_USAGE;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument: %.60s", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->oauth2_port && !o->oauth2_login) {
		log_error("--oauth2-port goes with --oauth2-login");
		return EXIT_USAGE;
	}
	return -1;   /* go on */
}

/* Write all of buf to fd 1; false on failure (EPIPE included). */
static bool write_stdout(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("cannot write to stdout: %s", strerror(errno));
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

static void emit(void *ctx, const struct route *r, const struct probe_result *res)
{
	struct runner *run = ctx;
	char line[OUTPUT_LINE_MAX];
	ssize_t n = output_format_line(run->format, run->cfg->measurement, r, res,
	                               line, sizeof(line));

	transitions_report(run->story, (size_t)(r - run->cfg->routes), r, res);
	if (!res->success)
		run->all_success = false;
	if (n < 0) {
		log_error("%s: result line too long to format", r->name);
		run->all_success = false;
		return;
	}
	if (run->output_dead)
		return;
	/* The reader is gone.  Do not exit here: the cycle still has found
	 * probes to delete, and leaving them would litter the mailbox. */
	if (!write_stdout(line, (size_t)n)) {
		run->output_dead = true;
		return;
	}
	run->lines++;
}

/* Drain stdin without blocking.  Returns the number of complete lines read;
 * sets *eof at end of input.  Content is discarded: only newlines count.
 * stdin stays blocking (O_NONBLOCK would be set on a description shared
 * with a terminal or the parent, and outlive us): one read() per poll()
 * that says readable never blocks. */
static unsigned read_signals(bool *eof)
{
	char buf[65536];
	unsigned lines = 0;

	for (int rounds = 0; rounds < 1024; rounds++) {
		struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, 0) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd.revents == 0)
			break;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n > 0) {
			for (ssize_t i = 0; i < n; i++)
				lines += buf[i] == '\n';
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		*eof = true;   /* 0 = end of input; other errors mean the same to us */
		break;
	}
	return lines;
}

/* Returns how many cycle signals (SIGHUP/SIGUSR1/SIGUSR2) the pipe held. */
static unsigned drain_sig_pipe(void)
{
	char buf[64];
	unsigned cycle_signals = 0;
	ssize_t n;

	while ((n = read(sig_pipe[0], buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == SIGHUP || buf[i] == SIGUSR1 || buf[i] == SIGUSR2)
				cycle_signals++;
	return cycle_signals;
}

static int run_once(struct runner *run)
{
	struct cycle *c = cycle_start(run->cfg, emit, run);
	struct curl_waitfd fds[1] = { { sig_pipe[0], CURL_WAIT_POLLIN, 0 } };

	if (!c) {
		log_error("out of memory starting the cycle");
		return 1;
	}
	while (!cycle_finished(c)) {
		if (cycle_run(c, fds, 1, 1000) != 0) {
			cycle_free(c);
			return 1;
		}
		if (fds[0].revents)
			drain_sig_pipe();
		if (stop_requested) {
			log_warn("interrupted: %u route(s) abandoned", cycle_pending(c));
			cycle_free(c);
			return 1;
		}
	}
	cycle_free(c);
	return run->all_success && !run->output_dead && run->lines == run->cfg->n_routes ? 0 : 1;
}

struct stream_state {
	unsigned due;           /* cycles owed: 1 = start/pending, 2 = start one now and one after it */
	unsigned merged;        /* signals folded into an owed cycle, reported when it starts */
	bool eof;
	int64_t eof_at;
	int64_t next_tick;      /* interval mode, 0: off */
};

/* Owe a cycle per signal, up to one running (if none runs yet) plus one
 * pending; the rest merge.  Nothing new is owed after end of stdin. */
static void add_signals(struct stream_state *st, unsigned count, bool running)
{
	unsigned cap = running ? 1 : 2;
	unsigned take = st->due < cap ? cap - st->due : 0;

	if (st->eof || count == 0)
		return;
	if (take > count)
		take = count;
	st->due += take;
	st->merged += count - take;
}

/* End of stdin: a signal read before it still starts its cycle; a cycle
 * pending behind a running one never starts (SPEC 3). */
static void note_eof(struct stream_state *st, bool running)
{
	if (st->eof)
		return;
	st->eof = true;
	st->eof_at = clock_mono_ns();
	if (running)
		st->due = 0;
	else if (st->due > 1)
		st->due = 1;
}

static void note_inputs(struct stream_state *st, const struct curl_waitfd *fds, unsigned n, bool running)
{
	for (unsigned i = 0; i < n; i++) {
		if (!fds[i].revents)
			continue;
		if (fds[i].fd == STDIN_FILENO) {
			bool eof = false;

			add_signals(st, read_signals(&eof), running);
			if (eof)
				note_eof(st, running);
		} else {
			add_signals(st, drain_sig_pipe(), running);
		}
	}
}

static void report_merged(struct stream_state *st)
{
	if (st->merged == 0)
		return;
	log_warn("%u signal(s) merged into this cycle: they came while one was running"
	         " (interval shorter than a cycle?)", st->merged);
	st->merged = 0;
}

static int build_fds(const struct stream_state *st, struct curl_waitfd *fds)
{
	int n = 0;

	if (!st->eof)
		fds[n++] = (struct curl_waitfd){ STDIN_FILENO, CURL_WAIT_POLLIN, 0 };
	fds[n++] = (struct curl_waitfd){ sig_pipe[0], CURL_WAIT_POLLIN, 0 };
	return n;
}

/* Idle wait (no cycle running), same shape as cycle_run's wait. */
static void idle_wait(struct curl_waitfd *fds, unsigned n, int wait_ms)
{
	struct pollfd pfd[2];

	for (unsigned i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ fds[i].fd, POLLIN, 0 };
	if (poll(pfd, n, wait_ms) < 0)
		return;   /* EINTR: the signal pipe has the news */
	for (unsigned i = 0; i < n; i++)
		fds[i].revents = pfd[i].revents ? CURL_WAIT_POLLIN : 0;
}

static int wait_budget_ms(const struct stream_state *st, const struct config *cfg, int64_t now)
{
	int64_t wait = 1000 * NS_PER_MS;

	if (st->next_tick && st->next_tick - now < wait)
		wait = st->next_tick - now;
	if (st->eof && st->eof_at + cfg->shutdown_grace_ms * NS_PER_MS - now < wait)
		wait = st->eof_at + cfg->shutdown_grace_ms * NS_PER_MS - now;
	return wait > 0 ? (int)(wait / NS_PER_MS) + 1 : 0;
}

static int run_stream(struct runner *run)
{
	const struct config *cfg = run->cfg;
	struct stream_state st = { 0 };
	struct cycle *c = NULL;

	if (fcntl(STDIN_FILENO, F_GETFL) < 0)
		st.eof = true;   /* no stdin at all: behave as if it closed */
	if (cfg->interval_ms > 0) {
		st.due = !st.eof;
		st.next_tick = clock_mono_ns() + cfg->interval_ms * NS_PER_MS;
	}
	log_info("mail-e2e %s: %zu route(s), waiting for signals", MAIL_E2E_VERSION, cfg->n_routes);
	while (!stop_requested) {
		struct curl_waitfd fds[2];
		unsigned n;
		int64_t now = clock_mono_ns();

		if (run->output_dead && !st.eof) {
			note_eof(&st, true);   /* no reader: wind down as at end of stdin */
			st.due = 0;
		}
		if (st.eof && !c && st.due == 0)
			break;
		if (st.eof && c && now - st.eof_at >= cfg->shutdown_grace_ms * NS_PER_MS)
			break;
		if (st.next_tick && now >= st.next_tick) {
			unsigned ticks = 0;

			for (; st.next_tick <= now; ticks++)
				st.next_tick += cfg->interval_ms * NS_PER_MS;
			add_signals(&st, ticks, c != NULL);
		}
		if (!c && st.due > 0) {
			st.due--;
			report_merged(&st);
			c = cycle_start(cfg, emit, run);
			if (!c) {
				log_error("out of memory starting a cycle");
				return 1;
			}
		}
		n = (unsigned)build_fds(&st, fds);
		if (c) {
			if (cycle_run(c, fds, n, wait_budget_ms(&st, cfg, now)) != 0) {
				cycle_free(c);
				return 1;
			}
		} else if (!cycle_background(fds, n, wait_budget_ms(&st, cfg, now))) {
			idle_wait(fds, n, wait_budget_ms(&st, cfg, now));
		}
		note_inputs(&st, fds, n, c != NULL);
		if (c && cycle_finished(c)) {
			cycle_free(c);
			c = NULL;
		}
	}
	if (c && cycle_pending(c) > 0)
		log_warn("shutting down: %u route(s) abandoned mid-probe", cycle_pending(c));
	cycle_free(c);
	stream_end_by = st.eof ? st.eof_at + cfg->shutdown_grace_ms * NS_PER_MS : INT64_MAX;
	return run->output_dead ? 1 : 0;
}

/* Until when a token refresh still under way may finish at exit (its reply
 * may hold the only copy of a rotated refresh token), within what the
 * process promises: --once ends within the longest timeout + 1 s, end of
 * stdin within shutdown_grace, SIGTERM and SIGINT within a second. */
static int64_t finish_by(const struct config *cfg, bool once, int64_t t0)
{
	int64_t now = clock_mono_ns(), by = stream_end_by;

	if (once) {
		long longest = 0;
		for (size_t i = 0; i < cfg->n_routes; i++)
			if (cfg->routes[i].timeout_ms > longest)
				longest = cfg->routes[i].timeout_ms;
		by = t0 + longest * NS_PER_MS + BUDGET_ONCE_SLACK_NS;
	}
	if (stop_requested && by > now + NS_PER_S)
		by = now + NS_PER_S;
	return by;
}

/* --oauth2-login ROUTE: the route's consent, instructions on stderr;
 * SIGINT and SIGTERM end it (the signal pipe wakes its waits). */
static int oauth2_login(const struct config *cfg, const char *name, int port)
{
	struct oauth2_login_opts lo = { port, sig_pipe[0], &stop_requested };

	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct route *r = &cfg->routes[i];
		if (strcmp(r->name, name) != 0)
			continue;
		if (!r->oauth2_token_url || !r->oauth2_refresh_token_file) {
			log_error("--oauth2-login %s: the route needs oauth2_token_url and "
			          "oauth2_refresh_token_file", name);
			return 1;
		}
		return oauth2_login_run(r, stderr, &lo);
	}
	log_error("--oauth2-login: no route [%.60s] in %s", name, cfg->path);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct config cfg;
	struct runner run = { 0 };
	char err[512];
	int64_t t0;
	int rc;

	rc = parse_args(argc, argv, &opt);
	if (rc >= 0)
		return rc;
	log_set_trace(opt.trace);
	/* Before the (slow-ish) config load: a signal that comes early must
	 * count as a trigger, not kill the process with the default action. */
	if (setup_signals() != 0) {
		log_error("cannot set up signal handling: %s", strerror(errno));
		return 1;
	}
	if (config_load(opt.config_path, &cfg, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return EXIT_CONFIG;
	}
	if (opt.format >= 0)
		cfg.format = (enum out_format)opt.format;
	if (opt.check_config) {
		config_print(&cfg, stdout);
		rc = fflush(stdout) == 0 ? 0 : 1;
		config_free(&cfg);
		return rc;
	}
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, wipe_malloc, wipe_free, wipe_realloc,
	                         wipe_strdup, wipe_calloc) != CURLE_OK) {
		log_error("libcurl initialisation failed");
		config_free(&cfg);
		return 1;
	}
	if (opt.oauth2_login) {
		rc = oauth2_login(&cfg, opt.oauth2_login, opt.oauth2_port);
		curl_global_cleanup();
		config_free(&cfg);
		return rc;
	}
	run.cfg = &cfg;
	run.format = cfg.format;
	run.all_success = true;
	raise_open_file_limit();
	t0 = clock_mono_ns();
	if (!opt.once && !(run.story = transitions_new(cfg.n_routes))) {
		log_error("out of memory");
		rc = 1;
	} else {
		rc = opt.once ? run_once(&run) : run_stream(&run);
	}
	transitions_free(run.story);
	cycle_global_cleanup(finish_by(&cfg, opt.once, t0));
	curl_global_cleanup();
	config_free(&cfg);
	return rc;
}
