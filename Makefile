# mail-e2e - end-to-end e-mail probe for Telegraf.
#
# Targets: all (./mail-e2e), check (every test), asan (sanitizer build),
# bench, fuzz, demo (KEEP=1), demo-stop, install, uninstall, clean.  CFLAGS, CPPFLAGS and
# LDFLAGS come from the environment; DEVFLAGS=-Werror for developers.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/mail-e2e
# Where the program looks (SPEC §2: -c defaults to /etc/mail-e2e/mail-e2e.conf,
# whatever PREFIX is); only DESTDIR moves it.
CONFDIR     = /etc/mail-e2e
DESTDIR    ?=
PKG_CONFIG ?= pkg-config
CC         ?= cc

CFLAGS     ?= -O2 -g
WARNINGS    = -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
              -Wmissing-prototypes -Wno-missing-field-initializers
DEVFLAGS   ?=
# Lazy (=), so that `make check` / `make demo` can install them first.
DEPS_CFLAGS = $(shell $(PKG_CONFIG) --cflags libcurl inih libunbound libssl libcrypto)
DEPS_LIBS   = $(shell $(PKG_CONFIG) --libs libcurl inih libunbound libssl libcrypto) -lpthread -lm
ALL_CFLAGS  = -std=c11 -D_DEFAULT_SOURCE -Iplugin $(WARNINGS) $(DEVFLAGS) $(DEPS_CFLAGS) $(CPPFLAGS) $(CFLAGS)

VERSION    := 0.1.0

# Every module of the program; main.c only wires them together.
SRCS = $(wildcard plugin/*.c plugin/imap/*.c plugin/smtp/*.c)
HDRS = $(wildcard plugin/*.h plugin/imap/*.h plugin/smtp/*.h)

BUILDDIR ?= build/release
OBJS = $(SRCS:plugin/%.c=$(BUILDDIR)/%.o)

.PHONY: all check unit asan bench soak fuzz demo demo-stop deps install uninstall clean

all: mail-e2e

# Copy, then rename: a running ./mail-e2e (a soak, a demo) keeps its file.
mail-e2e: $(BUILDDIR)/mail-e2e
	cp $< $@.tmp && mv -f $@.tmp $@

$(BUILDDIR)/mail-e2e: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(DEPS_LIBS)

$(BUILDDIR)/%.o: plugin/%.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DMAIL_E2E_VERSION='"$(VERSION)"' -c -o $@ $<

# --- unit tests: table-driven, each links only the modules it tests -------
UNIT_test_values      = plugin/parse.c
UNIT_test_budget      = plugin/budget.c
UNIT_test_output      = plugin/output.c plugin/output_mx.c plugin/result.c plugin/output_rep.c plugin/spam_flag.c
UNIT_test_cfg         = plugin/config.c plugin/config_line.c plugin/config_route.c plugin/config_loader.c plugin/config_print.c plugin/config_keys.c plugin/config_value.c plugin/headers.c plugin/mail_header.c plugin/result.c plugin/parse.c plugin/log.c plugin/probe_id.c plugin/sha256.c plugin/secret_file.c plugin/imap_utf7.c plugin/config_mx.c plugin/dns_rr.c plugin/config_mx_route.c plugin/config_rep.c plugin/spam.c plugin/spam_flag.c plugin/dnsbl.c
UNIT_test_imap_parse  = plugin/imap_parse.c plugin/imap_fetch.c plugin/imap_utf7.c
UNIT_test_redact      = plugin/conn.c plugin/conn_fail.c plugin/conn_mismatch.c plugin/smtp_reply.c plugin/log.c plugin/clock.c
UNIT_test_probe_id    = plugin/probe_id.c plugin/sha256.c
UNIT_test_wipe_alloc  = plugin/wipe_alloc.c
UNIT_test_smtp_reply  = plugin/smtp_reply.c
UNIT_test_verdict     = plugin/verdict.c plugin/verdict_spam.c plugin/spam_flag.c plugin/result.c
UNIT_test_headers     = plugin/headers.c plugin/mail_header.c
UNIT_test_dsn         = plugin/dsn.c plugin/mail_header.c
UNIT_test_json        = plugin/json.c
UNIT_test_secret_file = plugin/secret_file.c
UNIT_test_oauth2_form = plugin/oauth2_form.c plugin/oauth2_reply.c plugin/json.c plugin/sha256.c plugin/secret_file.c
UNIT_test_oauth2_client = plugin/oauth2.c plugin/oauth2_http.c plugin/conn.c plugin/conn_fail.c plugin/conn_mismatch.c plugin/smtp_reply.c plugin/oauth2_form.c plugin/oauth2_reply.c plugin/json.c plugin/sha256.c plugin/secret_file.c plugin/log.c plugin/clock.c
UNIT_test_oauth2_loopback = plugin/oauth2_loopback.c plugin/clock.c
UNIT_test_auth_hints  = plugin/auth_hints.c
UNIT_test_spam        = plugin/spam.c plugin/spam_flag.c plugin/mail_header.c
UNIT_test_dnsbl       = plugin/dnsbl.c plugin/mail_header.c
UNIT_test_mta_sts     = plugin/mta_sts.c plugin/dns_rr.c
UNIT_test_dns_rr      = plugin/dns_rr.c
UNIT_test_dane        = plugin/dane.c plugin/pkix.c plugin/dns_rr.c
UNIT_test_mx_order    = plugin/mx_order.c plugin/dns_rr.c
UNIT_test_transitions = plugin/transitions.c plugin/result.c plugin/log.c
UNIT_test_config_line = plugin/config_line.c
UNIT_test_config_keys = plugin/config_keys.c plugin/config_value.c plugin/headers.c plugin/mail_header.c plugin/imap_utf7.c plugin/log.c plugin/parse.c plugin/result.c plugin/secret_file.c plugin/config_mx.c plugin/dns_rr.c plugin/config_rep.c plugin/spam.c plugin/spam_flag.c plugin/dnsbl.c
UNIT_TESTS = $(basename $(notdir $(wildcard tests/unit/test_*.c)))
UNIT_BINS  = $(UNIT_TESTS:%=$(BUILDDIR)/unit/%)

$(BUILDDIR)/unit/%: tests/unit/%.c tests/unit/unit.h $(SRCS) $(HDRS) Makefile
	@mkdir -p $(BUILDDIR)/unit
	$(CC) $(ALL_CFLAGS) -Iplugin $(LDFLAGS) -o $@ $< $(UNIT_$*) $(DEPS_LIBS)

unit: $(UNIT_BINS)

# --- sanitizer build (AddressSanitizer + UndefinedBehaviorSanitizer) ------
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
asan:
	$(MAKE) BUILDDIR=build/asan CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" build/asan/mail-e2e unit

# --- the test suite: the one command README and CI run ---------------------
# deps installs missing Debian packages (as root); a no-op when all are there.
deps:
	tests/install-deps.sh

check: deps
	$(MAKE) all unit asan
	tests/run.sh

bench: all
	tests/bench/run.sh

# The 10 000-cycle soak alone (about half an hour).
soak: all
	SOAK_CYCLES=10000 BENCH_SKIP=lag,routes tests/bench/run.sh

fuzz:
	tests/fuzz/run.sh $(FUZZ_SECONDS)

# The demo installs only what it needs (tests/install-deps.sh --demo).
# KEEP=1 leaves its private stack running, with ready configs and commands
# to try; demo-stop stops it.
demo:
	tests/install-deps.sh --demo
	$(MAKE) all
	tests/demo.sh $(if $(KEEP),--keep)

demo-stop:
	tests/demo.sh --stop

# The sample (placeholders, no secret) goes where the program looks, as
# mail-e2e.conf.sample, mode 0644; the real mail-e2e.conf is the user's: never
# written, never removed.  An existing CONFDIR keeps its mode and owner.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	[ -d $(DESTDIR)$(CONFDIR) ] || install -d -m 0755 $(DESTDIR)$(CONFDIR)
	install -m 0755 mail-e2e $(DESTDIR)$(BINDIR)/mail-e2e
	install -m 0644 man/mail-e2e.1 $(DESTDIR)$(MANDIR)/man1/mail-e2e.1
	install -m 0644 man/mail-e2e.conf.5 $(DESTDIR)$(MANDIR)/man5/mail-e2e.conf.5
	install -m 0644 sample.conf $(DESTDIR)$(CONFDIR)/mail-e2e.conf.sample
	install -m 0644 README.md LICENSE $(DESTDIR)$(DOCDIR)/

# Runs any number of times; leaves CONFDIR while it holds the user's files.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mail-e2e
	rm -f $(DESTDIR)$(MANDIR)/man1/mail-e2e.1 $(DESTDIR)$(MANDIR)/man5/mail-e2e.conf.5
	rm -f $(DESTDIR)$(CONFDIR)/mail-e2e.conf.sample
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/LICENSE
	for d in $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR); do \
		if [ -d "$$d" ]; then rmdir "$$d" 2>/dev/null || true; fi; \
	done

clean:
	rm -rf build mail-e2e tests/out
