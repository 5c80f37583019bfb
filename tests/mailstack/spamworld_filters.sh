# shellcheck shell=bash
# tests/mailstack/spamworld_filters.sh - the two spam filters of
# spamworld.sh: their configuration and how each is started.  Sourced by
# spamworld.sh, not run; uses its D (the state dir), ADDR, P_* ports,
# DOMAIN, the RSPAMD_* / SA_* scores, RSPAMD_USER, SPAMD_USER, HERE and
# fail().  Everything is written under D/rspamd and D/sa.

# rspamd: a top-level configuration of our own (not /etc/rspamd/rspamd.conf,
# whose fuzzy_check resolves rspamd.com with getaddrinfo while loading and
# whose maps are fetched over HTTPS): the package's rules and scores
# (RULESDIR, metrics, actions, groups), the regexp and chartable modules,
# milter_headers, and two multimap rules of ours.  Hyperscan, measured:
# the public suffix list is cut down to a few names, because the main
# process compiles all 9,600 suffixes into one Hyperscan database before
# the proxy listens (8 s here, at every start with an empty hs_cache_dir);
# the 172 regexps of the rules are compiled by the hs_helper after start
# (0.5 s of CPU; 3.4 always starts it, disable_hyperscan notwithstanding).
render_rspamd() {
	local r=$D/rspamd
	mkdir -p "$r/db" "$r/run" "$r/log" "$r/tmp" "$r/local.d"
	printf '// spamworld.sh: the suffixes the test world uses\ntest\ncom\nnet\norg\n' >"$r/tld.dat"
	printf 'rspamd_spam@%s\nboth@%s\n' "$DOMAIN" "$DOMAIN" >"$r/spam-rcpt.map"
	printf 'rspamd_ham@%s\n' "$DOMAIN" >"$r/ham-rcpt.map"
	rspamd_conf "$r" >"$r/rspamd.conf"
	# actions.conf includes \$LOCAL_CONFDIR/local.d/actions.conf: the
	# package's thresholds, written out so that the env file can say them.
	printf 'reject = %s;\nadd_header = %s;\ngreylist = null;\n' "$RSPAMD_REJECT" "$RSPAMD_ADD_HEADER" \
		>"$r/local.d/actions.conf"
	chown -R "$RSPAMD_USER:$RSPAMD_USER" "$r"
}

rspamd_conf() {   # DIR: the top-level configuration, on stdout
	local r=$1
	cat <<CONF
# Private rspamd for spamworld.sh (run with --var LOCAL_CONFDIR=$r ...).
lua = "\$RULESDIR/rspamd.lua";
.include "\$CONFDIR/metrics.conf"
.include "\$CONFDIR/actions.conf"
.include "\$CONFDIR/groups.conf"
.include "\$CONFDIR/composites.conf"
modules {
  path = "\${PLUGINSDIR}";
}
options {
  pidfile = "\$RUNDIR/rspamd.pid";
  filters = "chartable,regexp";
  cache_file = "\$DBDIR/symbols.cache";
  dynamic_conf = "\$DBDIR/rspamd_dynamic";
  history_file = "\$DBDIR/rspamd.history";
  stats_file = "\$DBDIR/stats.ucl";
  hs_cache_dir = "\$DBDIR/";
  tempdir = "$r/tmp";
  url_tld = "$r/tld.dat";
  allow_raw_input = true;
  task_timeout = 8s;
  local_addrs = [];
  # Nothing listens there: every DNS question fails at once, on loopback.
  dns {
    nameserver = ["$ADDR:$P_DNS"];
    timeout = 0.2s;
    retransmits = 1;
  }
}
logging {
  type = "file";
  filename = "\$LOGDIR/rspamd.log";
  level = "info";
}
worker "rspamd_proxy" {
  bind_socket = "$ADDR:$P_MILTER";
  milter = yes;
  timeout = 120s;
  upstream "local" {
    default = yes;
    self_scan = yes;
  }
  count = 1;
  discard_on_reject = false;
  quarantine_on_reject = false;
  spam_header = "X-Spam";
  reject_message = "Spam message rejected";
}
milter_headers {
  # Without "use" the module refuses its whole configuration.
  use = [];
  extended_spam_headers = true;
  # Every probe comes from 127.0.0.1, many authenticated.
  skip_local = false;
  skip_authenticated = false;
}
multimap {
  SPAMWORLD_SPAM_RCPT {
    type = "rcpt";
    filter = "email:addr";
    map = "$r/spam-rcpt.map";
    score = $RSPAMD_SPAM_SCORE;
    description = "Mail to a spamworld spam recipient";
  }
  SPAMWORLD_HAM_RCPT {
    type = "rcpt";
    filter = "email:addr";
    map = "$r/ham-rcpt.map";
    score = $RSPAMD_HAM_SCORE;
    description = "Mail to a spamworld ham recipient";
  }
}
CONF
}

# SpamAssassin: the package's rules (/usr/share/spamassassin, not whatever
# sa-update left in /var/lib), plugins that need no network, no Bayes, no
# auto-learning, headers only (report_safe 0: the probe stays the probe).
render_spamassassin() {
	local s=$D/sa
	mkdir -p "$s/site" "$s/home"
	cat >"$s/site/init.pre" <<'PRE'
# spamworld.sh: the plugins of Debian's /etc/spamassassin/*.pre that ask no
# network (no URIDNSBL, SPF, DKIM, DMARC, Razor2, Pyzor, AskDNS, HashBL,
# Bayes).
loadplugin Mail::SpamAssassin::Plugin::Check
loadplugin Mail::SpamAssassin::Plugin::MIMEHeader
loadplugin Mail::SpamAssassin::Plugin::ReplaceTags
loadplugin Mail::SpamAssassin::Plugin::HTTPSMismatch
loadplugin Mail::SpamAssassin::Plugin::URIDetail
loadplugin Mail::SpamAssassin::Plugin::BodyEval
loadplugin Mail::SpamAssassin::Plugin::HTMLEval
loadplugin Mail::SpamAssassin::Plugin::HeaderEval
loadplugin Mail::SpamAssassin::Plugin::MIMEEval
loadplugin Mail::SpamAssassin::Plugin::RelayEval
loadplugin Mail::SpamAssassin::Plugin::URIEval
loadplugin Mail::SpamAssassin::Plugin::WLBLEval
loadplugin Mail::SpamAssassin::Plugin::VBounce
loadplugin Mail::SpamAssassin::Plugin::ImageInfo
loadplugin Mail::SpamAssassin::Plugin::FreeMail
PRE
	cat >"$s/site/local.cf" <<CF
# spamworld.sh's site configuration.
required_score $SA_REQUIRED
report_safe 0
use_bayes 0
bayes_auto_learn 0
skip_rbl_checks 1
dns_available no
# X-Spam-Score as well as the default Status, Level, Checker-Version, Flag.
add_header all Score _SCORE_
# The To header names the probe's recipient (SPEC section 6).
header   SPAMWORLD_SPAM_RCPT ToCc =~ /\\bsa_spam\\@spam\\.test\\b/i
score    SPAMWORLD_SPAM_RCPT $SA_SPAM_SCORE
describe SPAMWORLD_SPAM_RCPT Mail to the spamworld spam recipient
header   SPAMWORLD_HAM_RCPT ToCc =~ /\\b(?:sa_ham|both)\\@spam\\.test\\b/i
score    SPAMWORLD_HAM_RCPT $SA_HAM_SCORE
describe SPAMWORLD_HAM_RCPT Mail to a spamworld ham recipient
# A probe's token is random hex: about 1 in 60 starts with 1 or 3 and has
# no 0, which __BITCOIN_ID takes for a Bitcoin address (PDS_BTC_ID, +1.0).
# Off, so that a message scores the same whatever its token.
score    PDS_BTC_ID 0
CF
	# What Postfix's pipe(8) runs, as $SPAMD_USER (who may not be able to
	# read the checkout): spamc, then the re-injection.  -x: with spamd
	# down, no unscanned mail goes through; spamc then exits 69, which
	# pipe(8) would bounce, so it becomes 75 (deferred, retried).
	cp "$HERE/spamworld_reinject.py" "$s/reinject.py"
	cat >"$s/filter.sh" <<SH
#!/bin/sh
# spamworld.sh's content filter: filter.sh SENDER RECIPIENT...
/usr/bin/spamc -x -t 30 -d $ADDR -p $P_SPAMD -e /usr/bin/python3 $s/reinject.py $D/tls/ca.pem $ADDR $P_BACK "\$@"
rc=\$?
[ \$rc -eq 69 ] && exit 75
exit \$rc
SH
	chmod 755 "$s" "$s/site"
	chmod 644 "$s/site"/* "$s/reinject.py" "$s/filter.sh"
	chown "$SPAMD_USER:$SPAMD_USER" "$s/home"
}

# start_rspamd, start_spamd: each returns once its daemon has loaded its
# rules and forked (rspamd 0.5 s, spamd 0.7 s here), with its status.
start_rspamd() {
	local r=$D/rspamd
	rspamd -c "$r/rspamd.conf" -u "$RSPAMD_USER" -g "$RSPAMD_USER" \
		--var "LOCAL_CONFDIR=$r" --var "DBDIR=$r/db" --var "RUNDIR=$r/run" --var "LOGDIR=$r/log" \
		</dev/null >"$r/start.log" 2>&1
}

start_spamd() {
	local s=$D/sa
	# -L: local tests only; -x: no per-user files; -H: the helpers' HOME.
	spamd -d -r "$s/spamd.pid" -L -x -u "$SPAMD_USER" -g "$SPAMD_USER" -H "$s/home" \
		--listen="$ADDR:$P_SPAMD" --allowed-ips=127.0.0.0/8 \
		--configpath=/usr/share/spamassassin --siteconfigpath="$s/site" \
		--max-children=2 --min-children=1 --min-spare=1 --max-spare=1 \
		-s "$s/spamd.log" </dev/null >"$s/start.log" 2>&1
}
