#!/usr/bin/env bash
# tests/mailstack/spamworld.sh - a mail world with real spam filters on
# loopback: Postfix accepts mail for spam.test and delivers it into Dovecot,
# each recipient's mail through the filter its name says: rspamd (as a
# milter: its proxy worker, scanning itself), SpamAssassin (spamd, asked
# by spamc in a Postfix content filter), both, or none.  Local rules make
# one recipient's mail ham and another's spam for each filter; spam is
# marked and still delivered (rspamd's add_header action, SpamAssassin's
# headers-only report).  Never touches /etc (private config dirs), never
# starts a system daemon; no filter asks the network: rspamd's resolver is
# a loopback port where nothing answers, spamd runs with -L.
#
#   spamworld.sh start DIR     make CA, certificate, users, configs; start
#                              Dovecot, rspamd, spamd, Postfix; wait for
#                              every port; write DIR/env (SW_ keys)
#   spamworld.sh stop DIR      stop every server by PID (idempotent)
#   spamworld.sh status DIR    exit 0 if every server runs
#
# Address NET.1 (NET = SPAMWORLD_NET, default 127.0.70), ports BASE + N
# (BASE = SPAMWORLD_PORT_BASE, default 28000):
#   25   Postfix, MX-style (STARTTLS offered, no AUTH)
#   587  Postfix submission (STARTTLS required, AUTH as "sender")
#   26   Postfix, internal: rspamd's milter on, then delivery
#   27   Postfix, internal: rspamd's milter on, then SpamAssassin
#   24   Postfix, internal: back from SpamAssassin (spamworld_reinject.py)
#   143  Dovecot IMAP (STARTTLS), 993 IMAPS
#   332  rspamd proxy worker (milter), 783 spamd, 53 nothing (rspamd's DNS)
# Recipients (each its own mailbox, login = the local part): rspamd_ham,
# rspamd_spam, sa_ham, sa_spam, both (SpamAssassin ham on top, rspamd spam
# at the bottom), plain (no filter); the filter is chosen by recipient
# (FILTER actions in a check_recipient_access table), so send one scenario
# recipient per message.  The filters' configuration and start:
# spamworld_filters.sh; the facts behind each odd setting: spamworld.notes.md.
# DIR must be short (unix sockets), e.g. $(mktemp -d /tmp/me2e.XXXXXX).
set -eu
. "$(dirname "$0")/common.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
NET=${SPAMWORLD_NET:-127.0.70}
ADDR=$NET.1
BASE=${SPAMWORLD_PORT_BASE:-28000}
P_SMTP=$((BASE + 25)) P_SUB=$((BASE + 587)) P_RSPAMD_IN=$((BASE + 26)) P_BOTH_IN=$((BASE + 27))
P_BACK=$((BASE + 24)) P_IMAP=$((BASE + 143)) P_IMAPS=$((BASE + 993))
# shellcheck disable=SC2034  # P_DNS: rspamd's resolver, in spamworld_filters.sh
P_MILTER=$((BASE + 332)) P_SPAMD=$((BASE + 783)) P_DNS=$((BASE + 53))
DOMAIN=spam.test
HOST=mail.spam.test
USERS="sender rspamd_ham rspamd_spam sa_ham sa_spam both plain"
# The local rules' scores, and the thresholds they are measured against.
RSPAMD_SPAM_SCORE=10.0 RSPAMD_HAM_SCORE=-2.0 RSPAMD_ADD_HEADER=6 RSPAMD_REJECT=15
SA_SPAM_SCORE=10.0 SA_HAM_SCORE=-2.0 SA_REQUIRED=5.0
RSPAMD_USER=_rspamd SPAMD_USER=debian-spamd
# shellcheck source=tests/mailstack/spamworld_filters.sh
. "$HERE/spamworld_filters.sh"

die() { echo "spamworld: $*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }

make_certs() {
	local t=$D/tls
	mkdir -p "$t"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 \
		-subj "/CN=mail-e2e spamworld test CA" -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$HOST" \
		-keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s,DNS:localhost,IP:%s\n' "$HOST" "$ADDR" >"$t/san.ext"
	openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
		-days 2 -extfile "$t/san.ext" -out "$t/server.pem" 2>/dev/null
	chmod 644 "$t"/*.pem
	chmod 640 "$t/server.key"
	chgrp dovecot "$t/server.key"
}

make_users() {
	local u pw
	: >"$D/dovecot/users"
	: >"$D/postfix/etc/vmailbox"
	: >"$D/passwords"
	for u in $USERS; do
		pw=$(openssl rand -hex 12)
		echo "$u:{PLAIN}$pw:8:8::$D/mail/$u::" >>"$D/dovecot/users"
		echo "$u@$DOMAIN OK" >>"$D/postfix/etc/vmailbox"
		echo "SW_PASSWORD_$u=$pw" >>"$D/passwords"
		mkdir -p "$D/mail/$u/Maildir"
	done
	chown -R mail:mail "$D/mail"
	chmod 640 "$D/dovecot/users"
	chgrp dovecot "$D/dovecot/users"
	chmod 600 "$D/passwords"
}

render_dovecot() {
	local c=$D/dovecot
	cat >"$c/dovecot.conf" <<CONF
# Private Dovecot for spamworld.sh: no include of /etc/dovecot.
instance_name = sw-$(basename "$D")
base_dir = $c/run
state_dir = $c/state
log_path = $c/dovecot.log
protocols = imap lmtp
listen = $ADDR
hostname = $HOST
ssl = yes
ssl_cert = <$D/tls/server.pem
ssl_key = <$D/tls/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
first_valid_uid = 8
last_valid_uid = 8
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $c/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $c/users
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Junk {
    special_use = \\Junk
    auto = create
  }
  mailbox Trash {
    special_use = \\Trash
    auto = create
  }
}
service imap-login {
  service_count = 0
  inet_listener imap {
    address = $ADDR
    port = $P_IMAP
  }
  inet_listener imaps {
    address = $ADDR
    port = $P_IMAPS
    ssl = yes
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
# One wrong-password test must not slow every later login (MAILSTACK-NOTES 4).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
protocol lmtp {
  postmaster_address = postmaster@$DOMAIN
}
CONF
}

postfix_main() {
	local p=$D/postfix e=$D/postfix/etc
	cat >"$e/main.cf" <<CONF
# Private Postfix for spamworld.sh.
compatibility_level = 3.6
queue_directory = $p/queue
data_directory = $p/data
maillog_file = $p/maillog
maillog_file_prefixes = $D
myhostname = $HOST
mydomain = $DOMAIN
myorigin = $DOMAIN
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = texthash:$e/vmailbox
virtual_transport = lmtp:unix:$D/dovecot/run/lmtp
lmtp_host_lookup = native
default_transport = error:5.4.4 nothing leaves the spam world
relay_transport = error:5.4.4 nothing leaves the spam world
smtp_dns_support_level = disabled
biff = no
notify_classes =
smtpd_banner = \$myhostname ESMTP mail-e2e spam world
smtpd_tls_cert_file = $D/tls/server.pem
smtpd_tls_key_file = $D/tls/server.key
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $D/dovecot/run/auth-postfix
smtpd_relay_restrictions = reject_unauth_destination
# The filter is chosen by recipient: FILTER actions (one per message: the
# last one wins).
smtpd_recipient_restrictions = check_recipient_access texthash:$e/filters, permit
# A filter that is down defers the mail (4xx), never lets it past unscanned.
milter_default_action = tempfail
spamc_destination_recipient_limit = 1
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 4s
CONF
}

# The filter is chosen by recipient (FILTER actions, see main.cf), and the
# listeners that a filter hands mail back to.
postfix_routes() {
	local e=$D/postfix/etc
	cat >"$e/filters" <<MAP
rspamd_ham@$DOMAIN FILTER rspamd:[$ADDR]:$P_RSPAMD_IN
rspamd_spam@$DOMAIN FILTER rspamd:[$ADDR]:$P_RSPAMD_IN
both@$DOMAIN FILTER rspamd:[$ADDR]:$P_BOTH_IN
sa_ham@$DOMAIN FILTER spamc:spamd
sa_spam@$DOMAIN FILTER spamc:spamd
MAP
	# The filter hops use TLS too (the client checks the certificate), so
	# that no hop of this world counts as one without (plain_hops).
	# The internal listeners take mail from 127.0.0.0/8 only, never choose
	# a filter themselves, and name themselves filter.spam.test in their
	# Received headers (the filter hops are told apart from the first;
	# Postfix's smtp client does not call it a loop either way: the
	# FILTER next hop is [address]:port, not an MX).
	local internal="-o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o myhostname=filter.$DOMAIN"
	cat >"$e/master.cf" <<CONF
# service type private unpriv chroot wakeup maxproc command
$ADDR:$P_SMTP inet n - n - - smtpd
$ADDR:$P_SUB inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_recipient_restrictions=check_recipient_access,texthash:$e/filters,permit_sasl_authenticated,reject
$ADDR:$P_RSPAMD_IN inet n - n - - smtpd
  $internal
  -o content_filter=
  -o smtpd_milters=inet:$ADDR:$P_MILTER
$ADDR:$P_BOTH_IN inet n - n - - smtpd
  $internal
  -o content_filter=spamc:spamd
  -o smtpd_milters=inet:$ADDR:$P_MILTER
$ADDR:$P_BACK inet n - n - - smtpd
  $internal
  -o content_filter=
  -o smtpd_milters=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
rspamd    unix  - - n - 4 smtp
  -o smtp_tls_security_level=secure
  -o smtp_tls_CAfile=$D/tls/ca.pem
  -o smtp_tls_secure_cert_match=$HOST
  -o smtp_tls_loglevel=1
spamc     unix  - n n - 4 pipe
  flags=q user=$SPAMD_USER argv=/bin/sh $D/sa/filter.sh \${sender} \${recipient}
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CONF
}

render_postfix() {
	postfix_main
	postfix_routes
	touch "$D/postfix/maillog"
	# Postfix waits until main.cf is ~2 s old (MAILSTACK-NOTES gotcha 2).
	touch -d '-1 minute' "$D/postfix/etc"/*
}

# --- starting and stopping ------------------------------------------------------------

# wait_listen PID SECONDS HOST:PORT... : until PID itself listens on each
# (another process on the port would look like success otherwise).
wait_listen() {
	local pid=$1 end=$((SECONDS + $2)) a missing ls
	shift 2
	while :; do
		missing=
		ls=$(ss -Hltnp 2>/dev/null | grep -F "pid=$pid,")
		for a in "$@"; do
			grep -qF -- " $a " <<<"$ls" || missing+=" $a"
		done
		[ -z "$missing" ] && return 0
		alive "$pid" || { echo "spamworld: process $pid died before listening on$missing" >&2; return 1; }
		[ $SECONDS -lt "$end" ] || { echo "spamworld: process $pid does not listen on$missing" >&2; return 1; }
		sleep 0.02
	done
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

show_logs() {
	local f
	for f in "$D/dovecot/start.log" "$D/dovecot/dovecot.log" "$D/rspamd/start.log" \
		"$D/rspamd/log/rspamd.log" "$D/sa/start.log" "$D/sa/spamd.log" \
		"$D/postfix/start.log" "$D/postfix/maillog"; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -30 "$f" >&2; }
	done
	return 0
}

fail() { show_logs; cmd_stop "$D" >/dev/null 2>&1; die "$*"; }

cmd_start() {
	D=$1
	local t0=$EPOCHREALTIME c hp
	[ ${#D} -le 40 ] || die "state dir path too long for unix sockets: $D"
	[ "$(id -u)" = 0 ] || die "must run as root"
	for c in postfix dovecot rspamd spamd spamc openssl python3 ss; do
		command -v "$c" >/dev/null || die "$c is not installed (apt-get install \$(cat $HERE/spamworld.deps))"
	done
	id "$RSPAMD_USER" >/dev/null 2>&1 || die "no user $RSPAMD_USER (package rspamd)"
	id "$SPAMD_USER" >/dev/null 2>&1 || die "no user $SPAMD_USER (package spamassassin)"
	cmd_stop "$D" >/dev/null 2>&1 || true
	mkdir -p "$D"
	D=$(cd "$D" && pwd)
	for hp in $P_SMTP $P_SUB $P_RSPAMD_IN $P_BOTH_IN $P_BACK $P_IMAP $P_IMAPS $P_MILTER $P_SPAMD; do
		! port_open "$ADDR" "$hp" || die "$ADDR:$hp is taken (another spamworld? SPAMWORLD_NET, SPAMWORLD_PORT_BASE)"
	done
	rm -rf "$D/dovecot" "$D/postfix" "$D/mail" "$D/tls" "$D/rspamd" "$D/sa"
	mkdir -p "$D/dovecot/run" "$D/dovecot/state" "$D/postfix/etc" "$D/postfix/queue" \
		"$D/postfix/data" "$D/mail"
	chmod 755 "$D" "$D/dovecot" "$D/postfix" "$D/mail"
	chown postfix "$D/postfix/data"
	make_certs
	make_users
	render_dovecot
	render_rspamd
	render_spamassassin
	render_postfix

	# The filters first, side by side (each loads its rules before it
	# forks); Postfix last, once everything it hands mail to is there.
	local spamd_starter spamd_rc=0 rspamd_rc=0
	start_spamd &
	spamd_starter=$!
	start_rspamd || rspamd_rc=$?
	wait "$spamd_starter" || spamd_rc=$?
	[ "$rspamd_rc" = 0 ] || fail "rspamd did not start (exit $rspamd_rc)"
	[ "$spamd_rc" = 0 ] || fail "spamd did not start (exit $spamd_rc)"
	# Dovecot keeps the caller's stdio open after it daemonizes (gotcha 3).
	dovecot -c "$D/dovecot/dovecot.conf" </dev/null >"$D/dovecot/start.log" 2>&1 || fail "dovecot did not start"
	wait_file "$D/dovecot/run/master.pid" 10 &&
		wait_listen "$(pid_of "$D/dovecot/run/master.pid")" 10 "$ADDR:$P_IMAP" "$ADDR:$P_IMAPS" ||
		fail "dovecot is not listening"
	local t_dovecot t_rspamd t_spamd
	t_dovecot=$(elapsed "$t0")
	wait_file "$D/rspamd/run/rspamd.pid" 20 &&
		wait_listen "$(pid_of "$D/rspamd/run/rspamd.pid")" 20 "$ADDR:$P_MILTER" ||
		fail "rspamd is not listening"
	t_rspamd=$(elapsed "$t0")
	# A module that refuses its configuration only says so in the log.
	! grep -E 'invalid config|cannot (init|load) lua' "$D/rspamd/log/rspamd.log" >&2 ||
		fail "rspamd refused part of its configuration"
	wait_file "$D/sa/spamd.pid" 30 &&
		wait_listen "$(pid_of "$D/sa/spamd.pid")" 30 "$ADDR:$P_SPAMD" ||
		fail "spamd is not listening"
	t_spamd=$(elapsed "$t0")
	postfix -c "$D/postfix/etc" start </dev/null >"$D/postfix/start.log" 2>&1 || fail "postfix did not start"
	wait_file "$D/postfix/queue/pid/master.pid" 10 &&
		wait_listen "$(pid_of "$D/postfix/queue/pid/master.pid")" 10 "$ADDR:$P_SMTP" "$ADDR:$P_SUB" \
			"$ADDR:$P_RSPAMD_IN" "$ADDR:$P_BOTH_IN" "$ADDR:$P_BACK" ||
		fail "postfix is not listening"
	write_env
	echo "spamworld: listening after: dovecot $t_dovecot s, rspamd $t_rspamd s, spamd $t_spamd s"
	echo "spamworld: up in $D in $(elapsed "$t0") s (SMTP $ADDR:$P_SUB/$P_SMTP, IMAP $ADDR:$P_IMAP, rspamd $P_MILTER, spamd $P_SPAMD)"
}

write_env() {
	{
		echo "SW_DIR=$D"
		echo "SW_HOST=$ADDR"
		echo "SW_DOMAIN=$DOMAIN"
		echo "SW_HOSTNAME=$HOST"
		echo "SW_CA=$D/tls/ca.pem"
		echo "SW_CERT=$D/tls/server.pem"
		echo "SW_SMTP_PORT=$P_SMTP"
		echo "SW_SUBMISSION_PORT=$P_SUB"
		echo "SW_IMAP_HOST=$ADDR"
		echo "SW_IMAP_PORT=$P_IMAP"
		echo "SW_IMAPS_PORT=$P_IMAPS"
		echo "SW_USERS=${USERS// /,}"
		echo "SW_SENDER=sender@$DOMAIN"
		echo "SW_SENDER_USER=sender"
		echo "SW_RCPT_RSPAMD_HAM=rspamd_ham@$DOMAIN"
		echo "SW_RCPT_RSPAMD_SPAM=rspamd_spam@$DOMAIN"
		echo "SW_RCPT_SA_HAM=sa_ham@$DOMAIN"
		echo "SW_RCPT_SA_SPAM=sa_spam@$DOMAIN"
		echo "SW_RCPT_BOTH=both@$DOMAIN"
		echo "SW_RCPT_NONE=plain@$DOMAIN"
		echo "SW_RSPAMD_MILTER=$ADDR:$P_MILTER"
		echo "SW_RSPAMD_SPAM_SCORE=$RSPAMD_SPAM_SCORE"
		echo "SW_RSPAMD_HAM_SCORE=$RSPAMD_HAM_SCORE"
		echo "SW_RSPAMD_ADD_HEADER=$RSPAMD_ADD_HEADER"
		echo "SW_RSPAMD_REJECT=$RSPAMD_REJECT"
		# The headers each filter writes on every message it scanned, and on
		# spam only (see the notes: SpamAssassin's in this order; rspamd's
		# module writes its four in an order that changes from one start to
		# the next, the proxy's X-Spam comes last).
		echo "SW_RSPAMD_HEADERS=X-Rspamd-Queue-Id,X-Rspamd-Server,X-Spamd-Result,X-Rspamd-Action"
		echo "SW_RSPAMD_SPAM_HEADERS=X-Spam"
		echo "SW_SPAMD=$ADDR:$P_SPAMD"
		echo "SW_SA_SPAM_SCORE=$SA_SPAM_SCORE"
		echo "SW_SA_HAM_SCORE=$SA_HAM_SCORE"
		echo "SW_SA_REQUIRED=$SA_REQUIRED"
		echo "SW_SA_HEADERS=X-Spam-Checker-Version,X-Spam-Level,X-Spam-Status,X-Spam-Score"
		echo "SW_SA_SPAM_HEADERS=X-Spam-Flag,X-Spam-Report"
		echo "SW_POSTFIX_CONF=$D/postfix/etc"
		echo "SW_POSTFIX_LOG=$D/postfix/maillog"
		echo "SW_RSPAMD_LOG=$D/rspamd/log/rspamd.log"
		echo "SW_SPAMD_LOG=$D/sa/spamd.log"
		echo "SW_DOVECOT_LOG=$D/dovecot/dovecot.log"
		echo "SW_MAILDIR=$D/mail"
		echo "SW_RSPAMD_VERSION=$(installed_version rspamd)"
		echo "SW_SPAMASSASSIN_VERSION=$(installed_version spamassassin)"
		echo "SW_SPAMD_VERSION=$(installed_version spamd)"
		echo "SW_SPAMC_VERSION=$(installed_version spamc)"
		echo "SW_POSTFIX_VERSION=$(installed_version postfix)"
		echo "SW_DOVECOT_VERSION=$(installed_version dovecot-core)"
		cat "$D/passwords"
	} >"$D/env"
	chmod 600 "$D/env"
}

# pids_in_queue DIR: Postfix's master and children (their command lines do
# not name DIR, but they all run in its queue directory).
pids_in_queue() {
	local q="'$1/postfix/queue'" p
	stat -c '%n %N' /proc/[0-9]*/cwd 2>/dev/null |
		awk -v q="$q" '$4 == q { split($1, a, "/"); print a[3] }' | while read -r p; do
		[ "$p" != $$ ] && [ "$p" != "$BASHPID" ] && alive "$p" && echo "$p"
	done
	return 0
}

cmd_stop() {
	local d=$1 pid pids='' f i left
	[ -d "$d" ] || return 0
	d=$(cd "$d" && pwd)
	# Postfix first: its smtpd may hold Dovecot's auth (gotcha 8) and the
	# filters' connections.
	pid=$(pid_of "$d/postfix/queue/pid/master.pid") || pid=
	if alive "$pid"; then
		postfix -c "$d/postfix/etc" stop >/dev/null 2>&1 || true
		stop_pid "$pid" postfix 0.02
	fi
	# The rest at once (each by its own PID file).
	for f in rspamd/run/rspamd.pid sa/spamd.pid dovecot/run/master.pid; do
		pid=$(pid_of "$d/$f") || pid=
		alive "$pid" && pids+=" $pid"
	done
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
	for ((i = 0; i < 250; i++)); do
		left=
		for pid in $pids; do alive "$pid" && left+=" $pid"; done
		[ -z "$left" ] && break
		sleep 0.02
	done
	# shellcheck disable=SC2086
	[ -n "$left" ] && kill -KILL $left 2>/dev/null
	# Postfix children that outlived their master (a pipe to spamc, an smtpd).
	left=$(pids_in_queue "$d")
	# shellcheck disable=SC2086
	[ -n "$left" ] && kill -KILL $left 2>/dev/null
	return 0
}

cmd_status() {
	local d=$1 f
	for f in postfix/queue/pid/master.pid rspamd/run/rspamd.pid sa/spamd.pid dovecot/run/master.pid; do
		alive "$(pid_of "$d/$f")" || return 1
	done
}

case ${1:-} in
start) [ $# -eq 2 ] || die "usage: spamworld.sh start|stop|status DIR"; cmd_start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: spamworld.sh start|stop|status DIR"; cmd_stop "$2" ;;
status) [ $# -eq 2 ] || die "usage: spamworld.sh start|stop|status DIR"; cmd_status "$2" ;;
*) die "usage: spamworld.sh start|stop|status DIR" ;;
esac
