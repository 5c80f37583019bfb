#!/usr/bin/env bash
# tests/mailstack/domains.sh - a two-domain mail world on loopback with its
# own DNS and real SPF / DKIM / DMARC: mail from a.test (Postfix + OpenDKIM
# + Dovecot) travels over SMTP with STARTTLS to b.test (Exim 4.96 + Dovecot),
# which verifies it against the stack's own DNS server (NSD) and says so in
# one Authentication-Results header.  Never touches /etc (Exim sees a private
# resolv.conf in its own mount namespace), never starts a system daemon,
# never installs exim4* (it conflicts with postfix: its .debs are unpacked
# into build/servers/domains/root, the way cyrus.sh does).
#
#   domains.sh start DIR     unpack Exim (once), make the CA, certificates,
#                            DKIM keys, zones and users, start every server,
#                            wait for every port, write DIR/env (DM_ keys)
#   domains.sh stop DIR      stop every server by PID (idempotent), then
#                            whatever they left behind
#   domains.sh status DIR    exit 0 if every server runs
#
# DIR must be short (unix socket paths), e.g. $(mktemp -d /tmp/dm.XXXXXX).
# Addresses 127.0.0.N, N+1, N+2 (N = DOMAINS_ADDR, default 20 for the default
# port base, so that stacks with other bases never share an address: the DNS
# server must use port 53, which glibc's resolv.conf cannot change):
#   N    NSD, port 53 (UDP+TCP): zones a.test b.test c.test d.test and
#        0.0.127.in-addr.arpa
#   N+1  a.test: Postfix (BASE+25 MX, BASE+587 submission: STARTTLS + AUTH,
#        signed by OpenDKIM), Dovecot (BASE+143 STARTTLS, BASE+993 IMAPS);
#        Postfix's outgoing SMTP binds to this address (a.test's SPF)
#   N+2  b.test: Exim (BASE+25: STARTTLS offered, not required; SPF, DKIM,
#        DMARC checked, Authentication-Results added; refuses nouser@ 550
#        5.1.1 at RCPT, defer@ 451 4.3.0 at RCPT, DMARC p=reject failures
#        550 5.7.1 at DATA), Dovecot (BASE+143, BASE+993)
# BASE = DOMAINS_PORT_BASE (default 26000).  Postfix A relays b.test to Exim
# B with TLS required and B's certificate verified (match=mx.b.test), retries
# deferred mail every 1-4 s and sends "delayed" notices after
# DOMAINS_DELAY_WARNING (1s); its notifications go to the sender's mailbox.
# mallory (an a.test login) may send as mallory@c.test: signed with a key
# c.test's DNS does not publish (dkim=fail), SPF -all (fail), DMARC p=none.
# Exim checks SPF (libspf2) and DKIM itself; Debian's Exim has no DMARC, so
# domains_dmarcd.pl (Mail::DMARC) gives the DMARC verdict over a unix socket.
# See domains.notes.md for why each odd setting is there.
set -eu
. "$(dirname "$0")/common.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SERVERS=${DOMAINS_SERVERS_DIR:-$REPO/build/servers/domains}
ROOT=$SERVERS/root
EXIM=$ROOT/usr/sbin/exim4.me2e      # patched copy (see patch_exim)
SHIM=$SERVERS/syslogshim.so
SPF_SHIM=$SERVERS/spf_noloopback.so
BASE=${DOMAINS_PORT_BASE:-26000}
# 26000 -> .20, 27000 -> .24, ... 36000 -> .60 (20 bases, 4 addresses each).
OCT=${DOMAINS_ADDR:-$((20 + (((BASE / 1000 - 26) % 20 + 20) % 20) * 4))}
DNS_ADDR=127.0.0.$OCT
A_ADDR=127.0.0.$((OCT + 1))
B_ADDR=127.0.0.$((OCT + 2))
P_SMTP=$((BASE + 25)) P_SUB=$((BASE + 587)) P_IMAP=$((BASE + 143)) P_IMAPS=$((BASE + 993))
DELAY_WARNING=${DOMAINS_DELAY_WARNING:-1s}
AUTHSERV=mx.b.test
SEL=s1                 # the DKIM selector of every domain
RUN_USER=mail          # Exim's user, every mailbox's owner (uid 8)
A_USERS="alice carol mallory"
B_USERS="bob dave"
DEBS=(exim4-base exim4-daemon-heavy)

die() { echo "domains: $*" >&2; exit 1; }

# --- Exim, unpacked (the cyrus.sh way) ------------------------------------------

patch_exim() {   # $1: unpacked root.  Debian's exim looks up "Debian-exim"
	# before it reads any configuration (see cyrus.notes.md): the copy we run
	# says "mail" instead.
	python3 - "$1/usr/sbin/exim4" "$1/usr/sbin/exim4.me2e" <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
old = b"\0Debian-exim\0"
if data.count(old) != 1:
    sys.exit("exim4: expected exactly one 'Debian-exim' string, found %d" % data.count(old))
open(dst, "wb").write(data.replace(old, b"\0mail" + b"\0" * (len(old) - 5)))
PY
	chmod 755 "$1/usr/sbin/exim4.me2e"
}

check_libs() {   # $1: unpacked root
	local missing
	missing=$(ldd "$1/usr/sbin/exim4.me2e" 2>&1 | awk '/not found/ {print " " $1}')
	[ -z "$missing" ] || die "exim lacks shared libraries:$missing (apt-get install \$(cat $HERE/domains.deps))"
}

build_shim() {
	# OpenDKIM logs only through syslog(3): the shared shim (syslogshim.c)
	# appends each line to $ME2E_SYSLOG_FILE instead.
	compile_shim "$HERE/syslogshim.c" "$SHIM"
	local src
	# libspf2 answers "pass" for every client in 127.0.0.0/8 without looking
	# at the sender's record (SPF_request_is_loopback, "localhost is always
	# allowed"), and this world has no other addresses.  Exim's daemon runs
	# with this shim preloaded: libspf2 calls the function through its PLT,
	# so the override makes it evaluate loopback clients like any other.
	src=$SERVERS/spf_noloopback.c
	cat >"$src.new" <<'C'
/* LD_PRELOAD for Exim (domains.sh): no SPF free pass for 127.0.0.0/8. */
int SPF_request_is_loopback(void *spf_request) { (void)spf_request; return 0; }
C
	if cmp -s "$src.new" "$src"; then rm -f "$src.new"; else mv "$src.new" "$src"; fi
	compile_shim "$src" "$SPF_SHIM"
}

unpacked() {
	[ -x "$EXIM" ] && [ -s "$SERVERS/versions" ] &&
		[ "$(cat "$SERVERS/debs.list" 2>/dev/null)" = "${DEBS[*]}" ]
}

ensure_servers() {
	unpacked && [ "$SHIM" -nt "$HERE/syslogshim.c" ] && [ -s "$SPF_SHIM" ] && return 0
	mkdir -p "$SERVERS"
	exec 9>"$SERVERS/.lock"
	flock 9
	if ! unpacked; then
		echo "domains: unpacking ${DEBS[*]} into $ROOT" >&2
		local cache=$SERVERS/debs tmp=$SERVERS/root.new f
		rm -rf "$cache" "$tmp"
		mkdir -p "$cache" "$tmp"
		chmod 777 "$cache"   # apt-get download runs as _apt when it can
		download_debs "$cache"
		for f in "$cache"/*.deb; do dpkg-deb -x "$f" "$tmp"; done
		patch_exim "$tmp"
		check_libs "$tmp"
		for f in "$cache"/*.deb; do
			echo "$(dpkg-deb -f "$f" Package)=$(dpkg-deb -f "$f" Version)"
		done >"$SERVERS/versions.new"
		rm -rf "$ROOT"
		mv "$tmp" "$ROOT"
		mv "$SERVERS/versions.new" "$SERVERS/versions"
		echo "${DEBS[*]}" >"$SERVERS/debs.list"
	fi
	build_shim
	exec 9>&-
}

installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }

# --- certificates, keys, users ------------------------------------------------------

make_certs() {
	local t=$D/tls n addr
	mkdir -p "$t"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 \
		-subj "/CN=mail-e2e domains test CA" -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
	for n in a b; do
		[ $n = a ] && addr=$A_ADDR || addr=$B_ADDR
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=mx.$n.test" \
			-keyout "$t/$n.key" -out "$t/$n.csr" 2>/dev/null
		printf 'subjectAltName=DNS:mx.%s.test,DNS:imap.%s.test,DNS:%s.test,IP:%s\n' $n $n $n "$addr" >"$t/$n.ext"
		openssl x509 -req -in "$t/$n.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
			-days 2 -extfile "$t/$n.ext" -out "$t/$n.pem" 2>/dev/null
	done
	chmod 644 "$t"/*.pem
	chmod 640 "$t/a.key" "$t/b.key"
	chgrp dovecot "$t/a.key"          # Dovecot A; Postfix reads it as root
	chgrp "$RUN_USER" "$t/b.key"      # Exim (as mail) and Dovecot B (as root)
}

dkim_keys_start() {   # RSA-2048 takes 0.1-1 s each: made in the background
	local k=$D/dkim n
	mkdir -p "$k"
	for n in a c c-published; do
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/$n.key" 2>"$k/$n.err" &
	done
}

dkim_txt() {   # KEYFILE: the zone-file TXT strings of its DKIM record
	local p
	p=$(openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0)
	printf '( "v=DKIM1; k=rsa; p="'
	while [ -n "$p" ]; do printf ' "%s"' "${p:0:200}"; p=${p:200}; done
	printf ' )'
}

make_users() {
	local u pw side dir users
	: >"$D/passwords"
	for side in a b; do
		dir=$D/$side
		: >"$dir/dovecot/users"
		[ $side = a ] && users=$A_USERS || users=$B_USERS
		for u in $users; do
			pw=$(openssl rand -hex 12)
			echo "$u:{PLAIN}$pw:8:8::$dir/mail/$u::" >>"$dir/dovecot/users"
			echo "DM_PASSWORD_$u=$pw" >>"$D/passwords"
			mkdir -p "$dir/mail/$u/Maildir"
		done
		chmod 640 "$dir/dovecot/users"
		chgrp dovecot "$dir/dovecot/users"
		chown -R "$RUN_USER:$RUN_USER" "$dir/mail"
	done
	for u in $A_USERS; do echo "$u@a.test OK"; done >"$D/a/postfix/etc/vmailbox"
	for u in $B_USERS; do echo "$u: b.test"; done >"$D/b/exim/users"
	chmod 600 "$D/passwords"
}

# --- DNS ---------------------------------------------------------------------------

render_zones() {
	local z=$D/dns k=$D/dkim dom
	for dom in a b c d; do
		{
			# shellcheck disable=SC2016
			printf '$ORIGIN %s.test.\n$TTL 60\n' $dom
			printf '@ IN SOA ns.%s.test. hostmaster.%s.test. 1 3600 600 86400 60\n' $dom $dom
			printf '@ IN NS ns.%s.test.\nns IN A %s\n' $dom "$DNS_ADDR"
		} >"$z/$dom.test.zone"
	done
	cat >>"$z/a.test.zone" <<ZONE
@ IN MX 10 mx.a.test.
@ IN A $A_ADDR
mx IN A $A_ADDR
imap IN A $A_ADDR
@ IN TXT "v=spf1 ip4:$A_ADDR -all"
mx IN TXT "v=spf1 a -all"
$SEL._domainkey IN TXT $(dkim_txt "$k/a.key")
_dmarc IN TXT "v=DMARC1; p=none; adkim=r; aspf=r"
ZONE
	cat >>"$z/b.test.zone" <<ZONE
@ IN MX 10 mx.b.test.
@ IN A $B_ADDR
mx IN A $B_ADDR
imap IN A $B_ADDR
@ IN TXT "v=spf1 ip4:$B_ADDR -all"
_dmarc IN TXT "v=DMARC1; p=none"
ZONE
	# c.test: mallory's domain.  Its SPF names an address nothing here uses
	# (TEST-NET-1), its DKIM record is a key pair that is not the one
	# Postfix A signs with, its DMARC policy is p=none: delivered, failing.
	cat >>"$z/c.test.zone" <<ZONE
@ IN A 192.0.2.1
@ IN TXT "v=spf1 ip4:192.0.2.1 -all"
$SEL._domainkey IN TXT $(dkim_txt "$k/c-published.key")
_dmarc IN TXT "v=DMARC1; p=none"
ZONE
	# d.test: p=reject, sends from nowhere, signs nothing.
	cat >>"$z/d.test.zone" <<ZONE
@ IN A 192.0.2.2
@ IN TXT "v=spf1 -all"
_dmarc IN TXT "v=DMARC1; p=reject"
ZONE
	cat >"$z/0.0.127.in-addr.arpa.zone" <<ZONE
\$ORIGIN 0.0.127.in-addr.arpa.
\$TTL 60
@ IN SOA ns.a.test. hostmaster.a.test. 1 3600 600 86400 60
@ IN NS ns.a.test.
$OCT IN PTR ns.test.
$((OCT + 1)) IN PTR mx.a.test.
$((OCT + 2)) IN PTR mx.b.test.
ZONE
	cat >"$z/nsd.conf" <<CONF
# Private NSD for domains.sh; nothing from /etc/nsd.
server:
  ip-address: $DNS_ADDR@53
  do-ip6: no
  server-count: 1
  username: nsd
  chroot: ""
  zonesdir: "$z"
  database: ""
  zonelistfile: "$z/zone.list"
  xfrdfile: "$z/xfrd.state"
  xfrdir: "$z"
  pidfile: "$z/nsd.pid"
  logfile: "$z/nsd.log"
  verbosity: 2
  hide-version: no
  identity: "ns.test"
  log-only-syslog: no
remote-control:
  control-enable: no
CONF
	for dom in a.test b.test c.test d.test 0.0.127.in-addr.arpa; do
		printf 'zone:\n  name: %s\n  zonefile: "%s/%s.zone"\n' $dom "$z" $dom >>"$z/nsd.conf"
	done
	printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$DNS_ADDR" >"$z/resolv.conf"
	chown -R nsd:nsd "$z"
	chmod 755 "$z"
	chmod 644 "$z"/*
}

# --- a.test: Dovecot, OpenDKIM, Postfix ----------------------------------------------

render_dovecot() {   # SIDE ADDR
	local s=$1 addr=$2 c=$D/$1/dovecot
	cat >"$c/dovecot.conf" <<CONF
# Private Dovecot for $s.test (domains.sh): no include of /etc/dovecot.
instance_name = dm$s-$(basename "$D")
base_dir = $c/run
state_dir = $c/state
log_path = $c/dovecot.log
protocols = imap lmtp
listen = $addr
hostname = imap.$s.test
ssl = yes
ssl_cert = <$D/tls/$s.pem
ssl_key = <$D/tls/$s.key
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
    address = $addr
    port = $P_IMAP
  }
  inet_listener imaps {
    address = $addr
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
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
protocol lmtp {
  postmaster_address = postmaster@$s.test
}
CONF
}

render_opendkim() {
	local o=$D/a/opendkim
	cp "$D/dkim/a.key" "$o/a.key"
	cp "$D/dkim/c.key" "$o/c.key"
	cat >"$o/keytable" <<T
a a.test:$SEL:$o/a.key
c c.test:$SEL:$o/c.key
T
	printf '*@a.test a\n*@c.test c\n' >"$o/signingtable"
	cat >"$o/opendkim.conf" <<CONF
# Private OpenDKIM for a.test and c.test (domains.sh); nothing from /etc.
Mode                    s
Socket                  local:$o/run/opendkim.sock
PidFile                 $o/run/opendkim.pid
UserID                  opendkim:opendkim
UMask                   000
KeyTable                file:$o/keytable
SigningTable            refile:$o/signingtable
InternalHosts           127.0.0.0/8
Canonicalization        relaxed/simple
SignatureAlgorithm      rsa-sha256
OversignHeaders         From
Syslog                  yes
SyslogSuccess           yes
LogWhy                  yes
AutoRestart             no
Background              yes
DNSTimeout              2
# The key files are 0600 opendkim's, but OpenDKIM also refuses any key on a
# path with a world-writable directory in it, such as /tmp (DIR lives there).
RequireSafeKeys         no
CONF
	chown -R opendkim:opendkim "$o"
	chmod 600 "$o"/*.key
	chmod 755 "$o" "$o/run"
}

render_postfix() {
	local a=$D/a e=$D/a/postfix/etc
	cat >"$e/main.cf" <<CONF
# Private Postfix for a.test (domains.sh).
compatibility_level = 3.6
queue_directory = $a/postfix/queue
data_directory = $a/postfix/data
maillog_file = $a/postfix/maillog
maillog_file_prefixes = $D
myhostname = mx.a.test
mydomain = a.test
myorigin = a.test
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = a.test
virtual_mailbox_maps = texthash:$e/vmailbox
virtual_transport = lmtp:unix:$a/dovecot/run/lmtp
lmtp_host_lookup = native
# b.test goes to Exim B by address (MX records exist, but Postfix does no
# DNS at all); nothing else ever leaves the machine.
transport_maps = texthash:$e/transport
default_transport = error:5.4.4 no route to that domain in the test world
relay_transport = error:5.4.4 no route to that domain in the test world
smtp_dns_support_level = disabled
smtp_bind_address = $A_ADDR
smtp_helo_name = mx.a.test
smtp_tls_security_level = encrypt
smtp_tls_policy_maps = texthash:$e/tls_policy
smtp_tls_CAfile = $D/tls/ca.pem
smtp_tls_loglevel = 1
biff = no
notify_classes =
smtpd_banner = \$myhostname ESMTP Postfix (mail-e2e domains stack)
smtpd_tls_cert_file = $D/tls/a.pem
smtpd_tls_key_file = $D/tls/a.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $a/dovecot/run/auth-postfix
smtpd_relay_restrictions = reject_unauth_destination
milter_default_action = tempfail
# Deferred mail is retried every 1-4 s, and its sender hears of the delay
# after $DELAY_WARNING (read when a message is queued, by cleanup).
delay_warning_time = $DELAY_WARNING
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 4s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
bounce_template_file = $e/bounce.cf
CONF
	# The built-in "delayed" text counts hours and days (0 here, with a
	# warning in the log at every notice): say seconds and minutes instead.
	cat >"$e/bounce.cf" <<'EOF'
delay_template = <<EOT
Charset: us-ascii
From: MAILER-DAEMON (Mail Delivery System)
Subject: Delayed Mail (still being retried)
Postmaster-Subject: Postmaster Warning: Delayed Mail

This is the mail system at host $myhostname.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than $delay_warning_time_seconds second(s).
It will be retried until it is $maximal_queue_lifetime_minutes minute(s) old.

                   The mail system
EOT
EOF
	printf 'b.test smtp:[%s]:%s\n' "$B_ADDR" "$P_SMTP" >"$e/transport"
	printf '[%s]:%s secure match=mx.b.test\n' "$B_ADDR" "$P_SMTP" >"$e/tls_policy"
	printf 'a.test OK\nb.test OK\n' >"$e/reachable"
	cat >"$e/master.cf" <<CONF
# service type private unpriv chroot wakeup maxproc command
$A_ADDR:$P_SMTP inet n - n - - smtpd
$A_ADDR:$P_SUB inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=check_recipient_access,texthash:$e/reachable,reject
  -o smtpd_milters=unix:$a/opendkim/run/opendkim.sock
  -o milter_macro_daemon_name=ORIGINATING
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
	touch "$a/postfix/maillog"
	# Postfix waits until main.cf is ~2 s old (MAILSTACK-NOTES gotcha 2).
	touch -d '-1 minute' "$e"/*
}

# --- b.test: Exim (+ the DMARC helper), Dovecot ----------------------------------------

render_exim() {
	local b=$D/b x=$D/b/exim m=$D/b/dmarc
	# Mail::DMARC: its own config (no report store) and a public suffix
	# list that knows .test (else every *.test domain is "invalid").
	cat >"$m/mail-dmarc.ini" <<INI
[dmarc]
backend = perl
[dns]
timeout = 2
public_suffix_list = $m/public_suffix_list.dat
[report_store]
backend = SQL
dsn = dbi:SQLite:dbname=$m/reports.sqlite
auto_save = 0
INI
	printf '// the test world\ntest\n' >"$m/public_suffix_list.dat"
	cat >"$x/exim.conf" <<CONF
# Private Exim for b.test (domains.sh); nothing from /etc/exim4.  Runs in
# its own mount namespace where /etc/resolv.conf names the stack's NSD.
exim_path = $EXIM
exim_user = $RUN_USER
exim_group = $RUN_USER
never_users = root
primary_hostname = mx.b.test
qualify_domain = b.test
domainlist local_domains = b.test
spool_directory = $x/spool
log_file_path = $x/log/%slog
pid_file_path = $x/exim.pid
log_selector = +millisec +smtp_protocol_error +smtp_syntax_error +tls_peerdn +received_recipients +delivery_size +dkim_verbose +incoming_port
keep_environment =
# Reverse lookups (iprev in Authentication-Results) through the stack's
# DNS, for the addresses 0.0.127.in-addr.arpa names; any other client (a
# test on 127.0.0.1) would get iprev=temperror, so it gets no iprev at all.
host_lookup = <; $DNS_ADDR ; $A_ADDR ; $B_ADDR
rfc1413_hosts =
dns_retrans = 1s
dns_retry = 2
daemon_smtp_ports = $P_SMTP
local_interfaces = <; $B_ADDR.$P_SMTP
tls_advertise_hosts = *
tls_certificate = $D/tls/b.pem
tls_privatekey = $D/tls/b.key
smtp_banner = mx.b.test ESMTP Exim \$version_number mail-e2e domains stack
smtp_accept_max = 200
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt
acl_smtp_dkim = acl_dkim
acl_smtp_data = acl_data
message_size_limit = 50M
ignore_bounce_errors_after = 0s
timeout_frozen_after = 1d
daemon_startup_retries = 0

begin acl

acl_mail:
  # SPF of the envelope sender (of the HELO name for bounces), by libspf2
  # through the stack's DNS; \$spf_result then feeds DMARC and authresults.
  warn    spf = pass : fail : softfail : neutral : none : temperror : permerror
  accept

acl_rcpt:
  deny    !domains = +local_domains
          message = 5.7.1 Relaying denied: only b.test is served here
  defer   local_parts = defer
          message = 451 4.3.0 <\$local_part@\$domain>: defer@b.test always defers (test stack)
  deny    !verify = recipient
          message = 5.1.1 <\$local_part@\$domain>: no such user here
  accept

# Once per signature (dkim_verify_signers lists d= domains and i= identities:
# take the domains): d/selector/result, for the DMARC helper.
acl_dkim:
  warn    condition = \${if eq{\$dkim_cur_signer}{\$dkim_domain}}
          set acl_m_dkim = \${if eq{\$acl_m_dkim}{}{}{\$acl_m_dkim,}}\$dkim_domain/\$dkim_selector/\$dkim_verify_status
  accept

acl_data:
  warn    set acl_m_dmarc = \${readsocket{$m/dmarc.sock}{ip=\$sender_host_address mfrom=\$sender_address_domain helo=\$sender_helo_name from=\${domain:\$h_from:} spf=\$spf_result dkim=\$acl_m_dkim\n}{5s}{}{result=temperror disposition=none p=- domain=\${domain:\$h_from:} reason=dmarc-helper-unreachable}}
  deny    condition = \${if eq{\${extract{disposition}{\$acl_m_dmarc}}}{reject}}
          message = 5.7.1 Rejected by the DMARC policy of \${extract{domain}{\$acl_m_dmarc}} (p=reject, spf=\$spf_result, no aligned pass)
  warn    add_header = :at_start:\${authresults{$AUTHSERV}};\n\tdmarc=\${extract{result}{\$acl_m_dmarc}} (p=\${extract{p}{\$acl_m_dmarc}} dis=\${extract{disposition}{\$acl_m_dmarc}}) header.from=\${extract{domain}{\$acl_m_dmarc}}
  accept

begin routers

dovecot_user:
  driver = accept
  domains = +local_domains
  local_parts = lsearch;$x/users
  transport = dovecot_lmtp

begin transports

dovecot_lmtp:
  driver = lmtp
  socket = $b/dovecot/run/lmtp
  user = $RUN_USER
  batch_max = 50

begin retry

*   *   F,1h,10s
CONF
	chmod 644 "$x/exim.conf"   # owned by root, writable by nobody else
}

# --- inside B's mount namespace ---------------------------------------------------------

ns_start() {   # runs as "unshare -m --propagation private domains.sh _ns DIR"
	local b=$D/b
	mount --bind "$D/dns/resolv.conf" /etc/resolv.conf
	readlink /proc/self/ns/mnt >"$b/mntns"
	setsid setpriv --reuid="$RUN_USER" --regid="$RUN_USER" --clear-groups \
		perl "$HERE/domains_dmarcd.pl" "$b/dmarc/dmarc.sock" "$b/dmarc/mail-dmarc.ini" "$DNS_ADDR" \
		"$b/dmarc/dmarcd.log" </dev/null >>"$b/dmarc/dmarcd.stderr" 2>&1 &
	echo $! >"$b/dmarc/dmarcd.pid"
	# -bd forks the daemon (it stays in this namespace) and returns.
	LD_PRELOAD=$SPF_SHIM "$EXIM" -C "$b/exim/exim.conf" -bd -q15s </dev/null >"$b/exim/start.log" 2>&1
}

# --- commands ----------------------------------------------------------------------------

# wait_listen PID SECONDS ADDR... : until PID itself listens on every ADDR
# (host:port or a unix socket path): another process on the port would
# otherwise look like success.
wait_listen() {
	local pid=$1 end=$((SECONDS + $2)) a missing ls
	shift 2
	while :; do
		missing=
		ls=$(ss -Hlnp -A inet,unix 2>/dev/null | grep -F "pid=$pid,")
		for a in "$@"; do
			grep -qF -- " $a " <<<"$ls" || missing+=" $a"
		done
		[ -z "$missing" ] && return 0
		alive "$pid" || { echo "domains: process $pid died before listening on$missing" >&2; return 1; }
		[ $SECONDS -lt "$end" ] || { echo "domains: process $pid does not listen on$missing" >&2; return 1; }
		sleep 0.02
	done
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

show_logs() {
	local f
	for f in "$D/dns/nsd.log" "$D/a/dovecot/start.log" "$D/a/dovecot/dovecot.log" \
		"$D/a/opendkim/start.log" "$D/a/opendkim/opendkim.log" "$D/a/postfix/start.log" \
		"$D/a/postfix/maillog" "$D/b/dovecot/start.log" "$D/b/dovecot/dovecot.log" \
		"$D/b/ns.log" "$D/b/exim/start.log" "$D/b/exim/log/paniclog" "$D/b/exim/log/mainlog" \
		"$D/b/dmarc/dmarcd.stderr" "$D/b/dmarc/dmarcd.log"; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -30 "$f" >&2; }
	done
	return 0
}

fail() { show_logs; cmd_stop "$D" >/dev/null 2>&1; die "$*"; }

cmd_start() {
	D=$1
	local t0=$EPOCHREALTIME
	[ ${#D} -le 40 ] || die "state dir path too long for unix sockets: $D"
	[ "$(id -u)" = 0 ] || die "must run as root (port 53, mount namespace)"
	local c
	for c in nsd opendkim postfix dovecot perl openssl unshare setpriv ss; do
		command -v "$c" >/dev/null || die "$c is not installed (apt-get install \$(cat $HERE/domains.deps))"
	done
	perl -MMail::DMARC::PurePerl -e 1 2>/dev/null || die "Mail::DMARC is missing (libmail-dmarc-perl, see domains.deps)"
	ensure_servers
	cmd_stop "$D" >/dev/null 2>&1 || true
	mkdir -p "$D"
	D=$(cd "$D" && pwd)
	local hp
	for hp in "$DNS_ADDR 53" "$A_ADDR $P_SMTP" "$A_ADDR $P_SUB" "$A_ADDR $P_IMAP" "$A_ADDR $P_IMAPS" \
		"$B_ADDR $P_SMTP" "$B_ADDR $P_IMAP" "$B_ADDR $P_IMAPS"; do
		# shellcheck disable=SC2086
		if port_open $hp; then
			die "port ${hp#* } on ${hp% *} is already in use (another domains stack? DOMAINS_PORT_BASE moves ports and addresses)"
		fi
	done
	rm -rf "$D/tls" "$D/dkim" "$D/dns" "$D/a" "$D/b" "$D/env" "$D/passwords"
	mkdir -p "$D/dns" "$D/a/dovecot/run" "$D/a/dovecot/state" "$D/a/postfix/etc" "$D/a/postfix/queue" \
		"$D/a/postfix/data" "$D/a/opendkim/run" "$D/a/mail" \
		"$D/b/dovecot/run" "$D/b/dovecot/state" "$D/b/exim/spool" "$D/b/exim/log" "$D/b/dmarc" "$D/b/mail"
	chmod 755 "$D" "$D/a" "$D/b" "$D/a/dovecot" "$D/b/dovecot" "$D/a/postfix" "$D/a/mail" "$D/b/mail"
	chown postfix "$D/a/postfix/data"
	dkim_keys_start
	make_certs
	make_users
	render_dovecot a "$A_ADDR"
	render_dovecot b "$B_ADDR"
	render_postfix
	render_exim
	chown -R "$RUN_USER:$RUN_USER" "$D/b/exim/spool" "$D/b/exim/log" "$D/b/dmarc"
	chmod 640 "$D/b/exim/users"
	chgrp "$RUN_USER" "$D/b/exim/users"
	wait   # the DKIM keys
	local n
	for n in a c c-published; do
		[ -s "$D/dkim/$n.key" ] || { cat "$D/dkim/$n.err" >&2; fail "could not make DKIM key $n"; }
	done
	render_zones
	render_opendkim

	# DNS first (Exim and its DMARC helper need it from their first message).
	nsd -c "$D/dns/nsd.conf" </dev/null >"$D/dns/start.log" 2>&1 || fail "nsd did not start"
	wait_file "$D/dns/nsd.pid" 10 || fail "nsd wrote no pid file"
	# The Dovecots before the MTAs that deliver into them.
	dovecot -c "$D/a/dovecot/dovecot.conf" </dev/null >"$D/a/dovecot/start.log" 2>&1 || fail "dovecot A did not start"
	dovecot -c "$D/b/dovecot/dovecot.conf" </dev/null >"$D/b/dovecot/start.log" 2>&1 || fail "dovecot B did not start"
	ME2E_SYSLOG_FILE=$D/a/opendkim/opendkim.log LD_PRELOAD=$SHIM \
		opendkim -x "$D/a/opendkim/opendkim.conf" </dev/null >"$D/a/opendkim/start.log" 2>&1 ||
		fail "opendkim did not start"
	postfix -c "$D/a/postfix/etc" start </dev/null >"$D/a/postfix/start.log" 2>&1 || fail "postfix did not start"
	unshare -m --propagation private "$0" _ns "$D" </dev/null >"$D/b/ns.log" 2>&1 ||
		fail "could not start Exim in its mount namespace"

	wait_file "$D/dns/nsd.pid" 10 && wait_listen "$(pid_of "$D/dns/nsd.pid")" 10 "$DNS_ADDR:53" ||
		fail "nsd is not listening"
	wait_file "$D/a/dovecot/run/master.pid" 10 &&
		wait_listen "$(pid_of "$D/a/dovecot/run/master.pid")" 10 "$A_ADDR:$P_IMAP" "$A_ADDR:$P_IMAPS" ||
		fail "dovecot A is not listening"
	wait_file "$D/b/dovecot/run/master.pid" 10 &&
		wait_listen "$(pid_of "$D/b/dovecot/run/master.pid")" 10 "$B_ADDR:$P_IMAP" "$B_ADDR:$P_IMAPS" ||
		fail "dovecot B is not listening"
	wait_file "$D/a/opendkim/run/opendkim.pid" 10 &&
		wait_listen "$(pid_of "$D/a/opendkim/run/opendkim.pid")" 10 "$D/a/opendkim/run/opendkim.sock" ||
		fail "opendkim is not listening"
	wait_file "$D/a/postfix/queue/pid/master.pid" 10 &&
		wait_listen "$(pid_of "$D/a/postfix/queue/pid/master.pid")" 10 "$A_ADDR:$P_SMTP" "$A_ADDR:$P_SUB" ||
		fail "postfix is not listening"
	local i abandoned='daemon abandoned|bind\(\) .* failed'
	for ((i = 0; i < 500; i++)); do
		[ -s "$D/b/exim/exim.pid" ] || grep -qE "$abandoned" "$D/b/exim/log/paniclog" 2>/dev/null && break
		sleep 0.02
	done
	grep -qE "$abandoned" "$D/b/exim/log/paniclog" 2>/dev/null && fail "exim could not bind"
	wait_listen "$(pid_of "$D/b/exim/exim.pid")" 10 "$B_ADDR:$P_SMTP" || fail "exim is not listening"
	wait_listen "$(pid_of "$D/b/dmarc/dmarcd.pid")" 10 "$D/b/dmarc/dmarc.sock" || fail "the DMARC helper is not listening"

	{
		echo "DM_DIR=$D"
		echo "DM_CA=$D/tls/ca.pem"
		echo "DM_DNS_ADDR=$DNS_ADDR"
		echo "DM_DNS_PORT=53"
		echo "DM_DOMAINS=a.test,b.test,c.test,d.test"
		echo "DM_DKIM_SELECTOR=$SEL"
		echo "DM_AUTHSERV_ID=$AUTHSERV"
		echo "DM_A_DOMAIN=a.test"
		echo "DM_A_HOST=$A_ADDR"
		echo "DM_A_SMTP_PORT=$P_SMTP"
		echo "DM_A_SUBMISSION_HOST=$A_ADDR"
		echo "DM_A_SUBMISSION_PORT=$P_SUB"
		echo "DM_A_IMAP_HOST=$A_ADDR"
		echo "DM_A_IMAP_PORT=$P_IMAP"
		echo "DM_A_IMAPS_PORT=$P_IMAPS"
		echo "DM_A_OUTGOING_ADDR=$A_ADDR"
		echo "DM_A_USERS=${A_USERS// /,}"
		echo "DM_A_CERT=$D/tls/a.pem"
		echo "DM_B_DOMAIN=b.test"
		echo "DM_B_HOST=$B_ADDR"
		echo "DM_B_SMTP_HOST=$B_ADDR"
		echo "DM_B_SMTP_PORT=$P_SMTP"
		echo "DM_B_IMAP_HOST=$B_ADDR"
		echo "DM_B_IMAP_PORT=$P_IMAP"
		echo "DM_B_IMAPS_PORT=$P_IMAPS"
		echo "DM_B_USERS=${B_USERS// /,}"
		echo "DM_B_CERT=$D/tls/b.pem"
		echo "DM_B_NOUSER=nouser@b.test"
		echo "DM_B_DEFER=defer@b.test"
		echo "DM_C_USER=mallory"
		echo "DM_C_SENDER=mallory@c.test"
		echo "DM_D_SENDER=someone@d.test"
		echo "DM_DELAY_WARNING_TIME=$DELAY_WARNING"
		echo "DM_A_POSTFIX_CONF=$D/a/postfix/etc"
		echo "DM_A_POSTFIX_LOG=$D/a/postfix/maillog"
		echo "DM_A_DOVECOT_LOG=$D/a/dovecot/dovecot.log"
		echo "DM_A_OPENDKIM_LOG=$D/a/opendkim/opendkim.log"
		echo "DM_A_MAILDIR=$D/a/mail"
		echo "DM_B_EXIM=$EXIM"
		echo "DM_B_EXIM_CONF=$D/b/exim/exim.conf"
		echo "DM_B_EXIM_LOG=$D/b/exim/log/mainlog"
		echo "DM_B_EXIM_REJECTLOG=$D/b/exim/log/rejectlog"
		echo "DM_B_DMARC_LOG=$D/b/dmarc/dmarcd.log"
		echo "DM_B_DOVECOT_LOG=$D/b/dovecot/dovecot.log"
		echo "DM_B_MAILDIR=$D/b/mail"
		echo "DM_DNS_LOG=$D/dns/nsd.log"
		echo "DM_NSD_VERSION=$(installed_version nsd)"
		echo "DM_POSTFIX_VERSION=$(installed_version postfix)"
		echo "DM_DOVECOT_VERSION=$(installed_version dovecot-core)"
		echo "DM_OPENDKIM_VERSION=$(installed_version opendkim)"
		echo "DM_EXIM_VERSION=$(sed -n 's/^exim4-daemon-heavy=//p' "$SERVERS/versions")"
		echo "DM_MAIL_DMARC_VERSION=$(installed_version libmail-dmarc-perl)"
		cat "$D/passwords"
	} >"$D/env"
	chmod 600 "$D/env"
	echo "domains: up in $D in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s (DNS $DNS_ADDR:53, a.test $A_ADDR:$P_SUB/$P_IMAP, b.test $B_ADDR:$P_SMTP/$P_IMAP)"
}

ns_pids() {   # every live process in mount namespace $1
	local ns=$1 p
	[ -n "$ns" ] || return 0
	for p in $(stat -c '%n %N' /proc/[0-9]*/ns/mnt 2>/dev/null |
		awk -v ns="'$ns'" '$4 == ns { split($1, a, "/"); print a[3] }'); do
		alive "$p" && echo "$p"
	done
	return 0
}

dir_pids() {   # live processes of the stack in DIR $1, found without pid files:
	# started with one of its config files (NSD, Dovecot, OpenDKIM, Exim and
	# its children, the DMARC helper), or working in Postfix A's queue
	# directory (Postfix's master and children: their command lines do not
	# name DIR, but they all chdir there).
	local re q p
	re=$(printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g')
	re="$re/(dns/nsd[.]conf|[ab]/dovecot/dovecot[.]conf|a/opendkim/opendkim[.]conf|b/exim/exim[.]conf|b/dmarc/)"
	q="'$1/a/postfix/queue'"
	{
		grep -l -a -E -- "$re" /proc/[0-9]*/cmdline 2>/dev/null | sed -n 's|^/proc/\([0-9]*\)/cmdline$|\1|p'
		stat -c '%n %N' /proc/[0-9]*/cwd 2>/dev/null |
			awk -v q="$q" -v qd="${q%\'} (deleted)'" '$4 == q || $4 " " $5 == qd { split($1, a, "/"); print a[3] }'
	} | sort -u | while read -r p; do
		[ "$p" != $$ ] && [ "$p" != "$BASHPID" ] && alive "$p" && echo "$p"
	done
	return 0
}

cmd_stop() {
	local d=$1 pid ns i left
	# DIR may be gone already: its processes are still found (dir_pids).
	[ -d "$d" ] && d=$(cd "$d" && pwd)
	ns=$(cat "$d/b/mntns" 2>/dev/null || true)
	# Postfix first (its smtpd may hold Dovecot A's auth), then Exim, then
	# what they deliver into or ask.
	pid=$(pid_of "$d/a/postfix/queue/pid/master.pid") || pid=
	if alive "$pid"; then
		postfix -c "$d/a/postfix/etc" stop >/dev/null 2>&1 || true
		stop_pid "$pid" postfix 0.02
	fi
	stop_pid "$(pid_of "$d/b/exim/exim.pid")" exim 0.02
	# The rest at once: Dovecot takes ~1.1 s to stop; OpenDKIM (libmilter)
	# notices SIGTERM only at its next 5 s select timeout and holds nothing
	# we need, so it gets SIGKILL as soon as the others are gone.
	local pids='' f
	for f in b/dmarc/dmarcd.pid a/dovecot/run/master.pid b/dovecot/run/master.pid dns/nsd.pid; do
		pid=$(pid_of "$d/$f") || pid=
		alive "$pid" && pids+=" $pid"
	done
	pid=$(pid_of "$d/a/opendkim/run/opendkim.pid") || pid=
	alive "$pid" || pid=
	# shellcheck disable=SC2086
	[ -n "$pids$pid" ] && kill -TERM $pids $pid 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		left=
		for f in $pids; do alive "$f" && left+=" $f"; done
		[ -z "$left" ] && break
		sleep 0.02
	done
	# shellcheck disable=SC2086
	[ -n "$left$pid" ] && kill -KILL $left $pid 2>/dev/null
	# Whatever is left: Exim's children in B's namespace (never our own),
	# and processes started with this stack's files (Postfix, Dovecot kids).
	for ((i = 0; i < 50; i++)); do
		left=$(dir_pids "$d")
		if [ -n "$ns" ] && [ "$ns" != "$(readlink /proc/self/ns/mnt)" ]; then
			left+=" $(ns_pids "$ns")"
		fi
		[ -n "${left// /}" ] || break
		# shellcheck disable=SC2086
		if [ "$i" -lt 25 ]; then kill -TERM $left 2>/dev/null || true; else kill -KILL $left 2>/dev/null || true; fi
		sleep 0.02
	done
	rm -f "$d/b/mntns" "$d/b/exim/exim.pid" "$d/b/dmarc/dmarcd.pid"
	return 0
}

cmd_status() {
	local d=$1 f
	for f in dns/nsd.pid a/dovecot/run/master.pid b/dovecot/run/master.pid a/opendkim/run/opendkim.pid \
		a/postfix/queue/pid/master.pid b/exim/exim.pid b/dmarc/dmarcd.pid; do
		alive "$(pid_of "$d/$f")" || return 1
	done
}

case ${1:-} in
_ns) [ $# -eq 2 ] || exit 2; D=$2; ns_start ;;
start) [ $# -eq 2 ] || die "usage: domains.sh start|stop|status DIR"; cmd_start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: domains.sh start|stop|status DIR"; cmd_stop "$2" ;;
status) [ $# -eq 2 ] || die "usage: domains.sh start|stop|status DIR"; cmd_status "$2" ;;
*) die "usage: domains.sh start|stop|status DIR" ;;
esac
