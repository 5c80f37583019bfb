#!/usr/bin/env bash
# tests/mailstack/cyrus.sh - a private Exim 4 + Cyrus IMAP on loopback, the
# second mail stack of the scenario tests (the first is mailstack.sh:
# Postfix + Dovecot).  Never touches /etc, never starts a system daemon,
# never installs exim4* or cyrus-imapd (they conflict with the installed
# postfix / dovecot): their .debs are fetched with `apt-get download` and
# unpacked with `dpkg-deb -x` into build/servers/cyrus/root.  The shared
# libraries they need are ordinary packages, listed in cyrus.deps.
#
#   cyrus.sh start DIR     unpack (once), render configs, make certs and
#                          users, start Cyrus then Exim, wait for every
#                          port, write DIR/env (KEY=VALUE lines)
#   cyrus.sh stop DIR      stop Exim, then Cyrus, by PID (idempotent); kill
#                          what either left behind
#   cyrus.sh status DIR    exit 0 if both run
#
# DIR must be short (unix socket paths are limited to 108 bytes), e.g.
# $(mktemp -d /tmp/me2e.XXXXXX).  Ports: CYRUS_PORT_BASE (default 24000) +
#   25  Exim SMTP (MX style: no AUTH needed for the local domain; STARTTLS
#       offered; AUTH offered only after STARTTLS)
#   587 Exim submission (STARTTLS before MAIL, AUTH before RCPT)
#   465 Exim smtps (implicit TLS, AUTH before RCPT)
#   143 Cyrus IMAP on 127.0.0.7 (STARTTLS; LOGINDISABLED before it)
#   993 Cyrus IMAPS on 127.0.0.1
# Exim delivers to Cyrus's lmtpd over a unix socket.  Domain cyrus.test;
# users alice bob carol junky held slow.  Mail to junky@ is filed into Junk
# by a Sieve script; mail to held@ is frozen in Exim's queue and never
# delivered; mail to slow@ is delivered CYRUS_SLOW_DELAY (4) s late.
# See cyrus.notes.md for why each odd setting is there.
set -eu
. "$(dirname "$0")/common.sh"

DOMAIN=cyrus.test
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SERVERS=${CYRUS_SERVERS_DIR:-$REPO/build/servers/cyrus}
ROOT=$SERVERS/root
CYBIN=$ROOT/usr/lib/cyrus/bin
EXIM=$ROOT/usr/sbin/exim4.me2e      # patched copy, see patch_exim
SHIM=$SERVERS/syslogshim.so
BASE=${CYRUS_PORT_BASE:-24000}
P_SMTP=$((BASE + 25)) P_SUB=$((BASE + 587)) P_SMTPS=$((BASE + 465))
P_IMAP=$((BASE + 143)) P_IMAPS=$((BASE + 993))
IMAP_HOST=127.0.0.7    # not the client's address (127.0.0.1)
HOST=127.0.0.1
SLOW_DELAY=${CYRUS_SLOW_DELAY:-4}   # seconds before mail to slow@ is delivered
RUN_USER=mail          # Cyrus's cyrus_user and Exim's exim_user (uid 8, always there)
# Binary packages unpacked into ROOT.  exim4-config is not needed (we write
# our own config); cyrus-admin (cyradm) would need libcyrus-imap-perl.
DEBS=(exim4-base exim4-daemon-light cyrus-common cyrus-imapd sasl2-bin)

die() { echo "cyrus: $*" >&2; exit 1; }

users_list() { printf '%s\n' alice bob carol junky held slow; }

# --- the unpacked servers -----------------------------------------------------

patch_exim() {   # $1: unpacked root
	# Debian builds exim with EXIM_USERNAME=Debian-exim and looks the name up
	# before it reads any configuration; that user does not exist here (the
	# exim4-base postinst would create it) and /etc/passwd is not ours to
	# edit.  The copy we run has the name replaced by "mail" in its one
	# occurrence.  It is not setuid: we start it as root, and deliveries run
	# as the exim user anyway.
	python3 - "$1/usr/sbin/exim4" "$1/usr/sbin/exim4.me2e" <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
old = b"\0Debian-exim\0"
if data.count(old) != 1:
    sys.exit("exim4: expected exactly one 'Debian-exim' string, found %d" % data.count(old))
new = b"\0mail" + b"\0" * (len(old) - 5)
open(dst, "wb").write(data.replace(old, new))
PY
	chmod 755 "$1/usr/sbin/exim4.me2e"
}

check_libs() {   # $1: unpacked root
	local r=$1 b missing=
	for b in "$r/usr/lib/cyrus/bin/master" "$r/usr/lib/cyrus/bin/imapd" "$r/usr/lib/cyrus/bin/lmtpd" \
		"$r/usr/lib/cyrus/bin/idled" "$r/usr/lib/cyrus/bin/ctl_cyrusdb" "$r/usr/lib/cyrus/bin/sievec" \
		"$r/usr/sbin/exim4.me2e" "$r/usr/sbin/saslpasswd2"; do
		missing+=$(LD_LIBRARY_PATH=$r/usr/lib/x86_64-linux-gnu ldd "$b" 2>&1 | awk '/not found/ {print " " $1}')
	done
	[ -z "$missing" ] || die "unpacked servers lack shared libraries:$missing (apt-get install the packages in $HERE/cyrus.deps)"
}

build_shim() {
	compile_shim "$HERE/syslogshim.c" "$SHIM"
}

unpacked() {   # the tree is there, made from today's package list
	[ -x "$EXIM" ] && [ -x "$CYBIN/master" ] && [ -s "$SERVERS/versions" ] &&
		[ "$(cat "$SERVERS/debs.list" 2>/dev/null)" = "${DEBS[*]}" ]
}

ensure_servers() {
	unpacked && [ "$SHIM" -nt "$HERE/syslogshim.c" ] && return 0
	mkdir -p "$SERVERS"
	exec 9>"$SERVERS/.lock"
	flock 9
	if ! unpacked; then
		echo "cyrus: unpacking ${DEBS[*]} into $ROOT" >&2
		local cache=$SERVERS/debs tmp=$SERVERS/root.new f
		rm -rf "$cache" "$tmp"
		mkdir -p "$cache" "$tmp"
		chmod 777 "$cache"   # apt-get download runs as _apt when it can
		download_debs "$cache"
		for f in "$cache"/*.deb; do dpkg-deb -x "$f" "$tmp"; done
		patch_exim "$tmp"
		check_libs "$tmp"
		{
			for f in "$cache"/*.deb; do
				echo "$(dpkg-deb -f "$f" Package)=$(dpkg-deb -f "$f" Version)"
			done
		} >"$SERVERS/versions.new"
		rm -rf "$ROOT"
		mv "$tmp" "$ROOT"
		mv "$SERVERS/versions.new" "$SERVERS/versions"
		echo "${DEBS[*]}" >"$SERVERS/debs.list"
	fi
	build_shim
	exec 9>&-
}

pkg_version() { sed -n "s/^$1=//p" "$SERVERS/versions"; }

# --- per-instance state ---------------------------------------------------------

make_certs() {
	local t=$1/tls
	mkdir -p "$t"
	# EC keys: generating three RSA keys would be most of the start time.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 \
		-subj "/CN=mail-e2e cyrus test CA" -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
		-keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
	printf 'subjectAltName=DNS:localhost,DNS:mail.%s,DNS:imap.%s,IP:%s,IP:%s\n' \
		"$DOMAIN" "$DOMAIN" "$HOST" "$IMAP_HOST" >"$t/san.ext"
	openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
		-CAcreateserial -days 2 -extfile "$t/san.ext" -out "$t/server.pem" 2>/dev/null
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 \
		-subj "/CN=some other CA" -keyout "$t/other-ca.key" -out "$t/other-ca.pem" 2>/dev/null
	chmod 644 "$t"/*.pem
	chmod 640 "$t/server.key"
	chgrp "$RUN_USER" "$t/server.key"
}

make_users() {
	local d=$1 u pw
	: >"$d/exim/passwd"
	: >"$d/passwords"
	for u in $(users_list); do
		pw=$(openssl rand -hex 12)
		# Cyrus: sasldb (auxprop).  Cyrus asks SASL with its servername as
		# the realm, so the entries are user@imap.cyrus.test.
		printf '%s' "$pw" | LD_LIBRARY_PATH=$ROOT/usr/lib/x86_64-linux-gnu \
			"$ROOT/usr/sbin/saslpasswd2" -f "$d/cyrus/sasldb2" -p -c -u "imap.$DOMAIN" "$u"
		# Exim: an lsearch file, both for AUTH and for "is this a user".
		echo "$u: $pw" >>"$d/exim/passwd"
		echo "CY_PASSWORD_$u=$pw" >>"$d/passwords"
	done
	chown "$RUN_USER:$RUN_USER" "$d/cyrus/sasldb2"
	chmod 600 "$d/cyrus/sasldb2"
	chmod 640 "$d/exim/passwd"
	chgrp "$RUN_USER" "$d/exim/passwd"
	chmod 600 "$d/passwords"
}

render_cyrus() {
	local d=$1 c=$1/cyrus
	local C="-C $c/imapd.conf"
	cat >"$c/imapd.conf" <<CONF
# Private Cyrus IMAP for mail-e2e tests (cyrus.sh); nothing from /etc.
configdirectory: $c/conf
defaultpartition: default
partition-default: $c/spool
sievedir: $c/sieve
idlesocket: $c/run/idle
lmtpsocket: $c/run/lmtp
notifysocket: $c/run/notify
proc_path: $c/conf/proc
mboxname_lockpath: $c/conf/lock
syslog_prefix: cyrus-$(basename "$d")
cyrus_user: $RUN_USER
cyrus_group: $RUN_USER
servername: imap.$DOMAIN
admins: cyrusadmin
virtdomains: off
unixhierarchysep: yes
altnamespace: yes
# Plaintext LOGIN / AUTH=PLAIN only after STARTTLS (LOGINDISABLED before).
allowplaintext: no
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $c/sasldb2
sasl_mech_list: PLAIN LOGIN
sasl_auto_transition: no
# Cyrus sleeps 3 s after every failed login by default.
failedloginpause: 0
tls_server_cert: $d/tls/server.pem
tls_server_key: $d/tls/server.key
# Mailboxes appear at the first login or delivery, with Junk and Trash;
# xlist-junk / xlist-trash give them the special-use flags (\\junk, \\trash).
autocreate_quota: 0
autocreate_post: yes
autocreate_inbox_folders: Junk|Trash
xlist-junk: Junk
xlist-trash: Trash
# The sieve script every autocreated user gets: files junky's mail into Junk.
# (Do not set autocreate_sieve_script_compiled: 3.6.1 then crashes lmtpd.)
autocreate_sieve_script: $c/default.sieve
lmtp_downcase_rcpt: yes
CONF
	printf 'require ["fileinto", "envelope"];\nif envelope :localpart :is "to" "junky" {\n  fileinto "Junk";\n}\n' \
		>"$c/default.sieve"
	# master passes neither its -C nor a path to what it starts: every
	# command carries its own -C and an absolute path.
	cat >"$c/cyrus.conf" <<CONF
START {
  recover cmd="$CYBIN/ctl_cyrusdb $C -r"
}
SERVICES {
  imap     cmd="$CYBIN/imapd $C" listen="$IMAP_HOST:$P_IMAP" prefork=1 maxchild=400
  imaps    cmd="$CYBIN/imapd $C -s" listen="$HOST:$P_IMAPS" prefork=1 maxchild=400
  lmtpunix cmd="$CYBIN/lmtpd $C" listen="$c/run/lmtp" prefork=1 maxchild=50
}
EVENTS {
  checkpoint cmd="$CYBIN/ctl_cyrusdb $C -c" period=30
}
DAEMON {
  idled cmd="$CYBIN/idled $C"
}
CONF
}

render_exim() {
	local d=$1 e=$1/exim
	cat >"$e/exim.conf" <<CONF
# Private Exim for mail-e2e tests (cyrus.sh); nothing from /etc/exim4.
exim_path = $EXIM
exim_user = $RUN_USER
exim_group = $RUN_USER
never_users = root
primary_hostname = mail.$DOMAIN
qualify_domain = $DOMAIN
domainlist local_domains = $DOMAIN
spool_directory = $e/spool
log_file_path = $e/log/%slog
pid_file_path = $e/exim.pid
log_selector = +millisec +smtp_protocol_error +smtp_syntax_error +tls_peerdn +received_recipients +delivery_size
keep_environment =
# No DNS at all: no reverse lookups, no ident, local domain only.
host_lookup =
rfc1413_hosts =
daemon_smtp_ports = $P_SMTP : $P_SUB : $P_SMTPS
local_interfaces = <; $HOST.$P_SMTP ; $HOST.$P_SUB ; $HOST.$P_SMTPS
tls_on_connect_ports = $P_SMTPS
tls_advertise_hosts = *
# DSN (RFC 3461): the probe sends RET, ENVID and NOTIFY where it is offered.
dsn_advertise_hosts = *
tls_certificate = $d/tls/server.pem
tls_privatekey = $d/tls/server.key
# AUTH only over TLS.
auth_advertise_hosts = \${if def:tls_in_cipher {*}{}}
smtp_banner = mail.$DOMAIN ESMTP Exim \$version_number mail-e2e cyrus stack
smtp_accept_max = 200
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt
message_size_limit = 50M
ignore_bounce_errors_after = 0s
timeout_frozen_after = 1d
# A port in use is an error now, not 9 retries 30 s apart.
daemon_startup_retries = 0

begin acl

acl_mail:
  deny    condition = \${if eq{\$received_port}{$P_SUB}}
          !encrypted = *
          message = 530 5.7.0 Must issue a STARTTLS command first
  accept

acl_rcpt:
  deny    !domains = +local_domains
          message = 5.7.1 Relaying denied: only $DOMAIN is served here
  deny    condition = \${if or{{eq{\$received_port}{$P_SUB}}{eq{\$received_port}{$P_SMTPS}}}}
          !authenticated = *
          message = 530 5.7.0 Authentication required
  require verify = recipient
  # held@: frozen in the queue, never delivered (probe timeout tests).
  warn    local_parts = held
          control = freeze/no_tell
  accept

begin routers

# slow@: delivered like the others, but only after a SLOW_DELAY s nap in
# the delivery process (not at RCPT: no_verify), so that a probe is past its
# quick NOOPs and really waits in IDLE.
slow_user:
  driver = accept
  domains = +local_domains
  local_parts = slow
  no_verify
  condition = \${run{/bin/sleep $SLOW_DELAY}{yes}{yes}}
  transport = cyrus_lmtp

cyrus_user:
  driver = accept
  domains = +local_domains
  local_parts = lsearch;$e/passwd
  transport = cyrus_lmtp

begin transports

cyrus_lmtp:
  driver = lmtp
  socket = $d/cyrus/run/lmtp
  user = $RUN_USER
  batch_max = 50

begin retry

*   *   F,1h,30s

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and{{!eq{\$auth3}{}}{eq{\$auth3}{\${lookup{\$auth2}lsearch{$e/passwd}}}}}}
  server_set_id = \$auth2

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = <| Username: | Password:
  server_condition = \${if and{{!eq{\$auth2}{}}{eq{\$auth2}{\${lookup{\$auth1}lsearch{$e/passwd}}}}}}
  server_set_id = \$auth1
CONF
	# Exim insists that its configuration is owned by root (compiled-in
	# CONFIGURE_OWNER 0) and writable by nobody else.
	chmod 644 "$e/exim.conf"
}

# wait_listen PID SECONDS ADDR... : until PID itself listens on every ADDR
# (host:port or a unix socket path).  Checking the owner, not just "does it
# connect": another process on the port would look like success.
wait_listen() {
	local pid=$1 end=$((SECONDS + $2)) a missing
	shift 2
	while :; do
		missing=
		local ls
		ls=$(ss -Hlnp -A inet,unix 2>/dev/null | grep -F "pid=$pid,")
		for a in "$@"; do
			grep -qF -- " $a " <<<"$ls" || missing+=" $a"
		done
		[ -z "$missing" ] && return 0
		alive "$pid" || { echo "cyrus: process $pid died before listening on$missing" >&2; return 1; }
		# Cyrus's master logs a failed bind and carries on without the service.
		if [ -n "${FAIL_LOG:-}" ] && grep -qE 'unable to (bind|create .* listener)' "$FAIL_LOG" 2>/dev/null; then
			echo "cyrus: master could not listen on$missing" >&2
			return 1
		fi
		[ $SECONDS -lt "$end" ] || { echo "cyrus: process $pid does not listen on$missing" >&2; return 1; }
		sleep 0.02
	done
}

show_logs() {
	local d=$1 f
	for f in "$d/cyrus/start.log" "$d/cyrus/syslog.log" "$d/exim/start.log" \
		"$d/exim/log/paniclog" "$d/exim/log/mainlog" "$d/exim/log/rejectlog"; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -30 "$f" >&2; }
	done
	return 0
}

cyrus_env() {   # run a Cyrus program with our libraries and logging
	env LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu" LD_PRELOAD="$SHIM" \
		ME2E_SYSLOG_FILE="$D/cyrus/syslog.log" "$@"
}

precreate_mailboxes() {
	# One login per user creates INBOX, Junk, Trash and junky's sieve script
	# now rather than racing the first probe (LMTP and IMAP autocreate).
	python3 - "$D" "$HOST" "$P_IMAPS" <<'PY'
import imaplib, ssl, sys, threading
d, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
pw = dict(l.strip().split(": ", 1) for l in open(d + "/exim/passwd"))
ctx = ssl.create_default_context(cafile=d + "/tls/ca.pem")
errs = []
def login(u):
    try:
        c = imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=10)
        c.login(u, pw[u])
        typ, data = c.list()
        if not any(b"Junk" in x for x in data):
            errs.append(f"{u}: no Junk after autocreate: {data}")
        c.logout()
    except Exception as e:
        errs.append(f"{u}: {e}")
ts = [threading.Thread(target=login, args=(u,)) for u in pw]
[t.start() for t in ts]
[t.join() for t in ts]
if errs:
    sys.exit("cyrus: mailbox autocreate failed: " + "; ".join(errs))
PY
}

cmd_start() {
	D=$1
	[ ${#D} -le 40 ] || die "state dir path too long for unix sockets: $D"
	command -v openssl >/dev/null || die "openssl is not installed (apt-get install \$(cat $HERE/cyrus.deps))"
	ensure_servers
	cmd_stop "$D" >/dev/null 2>&1 || true
	mkdir -p "$D"
	D=$(cd "$D" && pwd)
	rm -rf "$D/cyrus" "$D/exim" "$D/tls" "$D/env" "$D/passwords"
	mkdir -p "$D/cyrus/conf" "$D/cyrus/spool" "$D/cyrus/sieve" "$D/cyrus/run" \
		"$D/exim/spool" "$D/exim/log"
	(cd "$D/cyrus/conf" && mkdir -p db proc lock log socket sync ptclient quota user)
	chmod 755 "$D" "$D/cyrus" "$D/exim"
	make_certs "$D"
	make_users "$D"
	render_cyrus "$D"
	render_exim "$D"
	: >"$D/cyrus/syslog.log"
	chmod 666 "$D/cyrus/syslog.log"
	chown -R "$RUN_USER:$RUN_USER" "$D/cyrus" "$D/exim/spool" "$D/exim/log"

	# Cyrus first (Exim delivers into it).  master starts as root, binds,
	# then becomes cyrus_user; it forks into the background with -d.
	cyrus_env "$CYBIN/master" -C "$D/cyrus/imapd.conf" -M "$D/cyrus/cyrus.conf" \
		-p "$D/cyrus/master.pid" -l 128 -d </dev/null >"$D/cyrus/start.log" 2>&1 ||
		{ show_logs "$D"; cmd_stop "$D"; die "cyrus master did not start"; }
	if ! { wait_file "$D/cyrus/master.pid" 20 &&
		FAIL_LOG=$D/cyrus/syslog.log wait_listen "$(pid_of "$D/cyrus/master.pid")" 20 "$IMAP_HOST:$P_IMAP" "$HOST:$P_IMAPS" \
			"$D/cyrus/run/lmtp"; }; then
		show_logs "$D"; cmd_stop "$D"; die "cyrus is not listening on its ports"
	fi

	# Exim: root may use -C with any file (Debian's TRUSTED_CONFIG_LIST,
	# /etc/exim4/trusted_configs, only matters for other callers); its
	# re-exec for delivery (as the exim user) then runs unprivileged.  The
	# daemon writes its pid file once its sockets are bound.
	"$EXIM" -C "$D/exim/exim.conf" -bd -q30s </dev/null >"$D/exim/start.log" 2>&1 ||
		{ show_logs "$D"; cmd_stop "$D"; die "exim did not start"; }
	# (Its paniclog also gets "exim user lost privilege for using -C option"
	# from every re-exec: harmless, see cyrus.notes.md.)
	local i abandoned='daemon abandoned|bind\(\) .* failed'
	for ((i = 0; i < 1000; i++)); do
		[ -s "$D/exim/exim.pid" ] || grep -qE "$abandoned" "$D/exim/log/paniclog" 2>/dev/null && break
		sleep 0.02
	done
	if grep -qE "$abandoned" "$D/exim/log/paniclog" 2>/dev/null ||
		! wait_listen "$(pid_of "$D/exim/exim.pid")" 20 "$HOST:$P_SMTP" "$HOST:$P_SUB" "$HOST:$P_SMTPS"; then
		show_logs "$D"; cmd_stop "$D"; die "exim is not listening on its ports"
	fi
	precreate_mailboxes || { show_logs "$D"; cmd_stop "$D"; die "mailbox creation failed"; }
	{
		echo "CY_DIR=$D"
		echo "CY_HOST=$HOST"
		echo "CY_DOMAIN=$DOMAIN"
		echo "CY_CA=$D/tls/ca.pem"
		echo "CY_OTHER_CA=$D/tls/other-ca.pem"
		echo "CY_CERT=$D/tls/server.pem"
		echo "CY_SMTP_PORT=$P_SMTP"
		echo "CY_SUBMISSION_PORT=$P_SUB"
		echo "CY_SMTPS_PORT=$P_SMTPS"
		echo "CY_IMAP_HOST=$IMAP_HOST"
		echo "CY_IMAP_PORT=$P_IMAP"
		echo "CY_IMAPS_HOST=$HOST"
		echo "CY_IMAPS_PORT=$P_IMAPS"
		echo "CY_USERS=$(users_list | paste -sd, -)"
		echo "CY_JUNK_USER=junky"
		echo "CY_HELD_USER=held"
		echo "CY_SLOW_USER=slow"
		echo "CY_SLOW_DELAY=$SLOW_DELAY"
		echo "CY_CYRUS_VERSION=$(pkg_version cyrus-imapd)"
		echo "CY_EXIM_VERSION=$(pkg_version exim4-daemon-light)"
		echo "CY_EXIM=$EXIM"
		echo "CY_EXIM_CONF=$D/exim/exim.conf"
		echo "CY_EXIM_LOG=$D/exim/log/mainlog"
		echo "CY_CYRUS_LOG=$D/cyrus/syslog.log"
		cat "$D/passwords"
	} >"$D/env"
	chmod 600 "$D/env"
	echo "cyrus: up in $D (SMTP $P_SMTP/$P_SUB/$P_SMTPS, IMAP $IMAP_HOST:$P_IMAP, IMAPS $HOST:$P_IMAPS)"
}



leftovers() {   # live processes started with DIR's -C files, and their children
	local d=$1 re roots
	# A regex that matches ".../cyrus/imapd.conf" or ".../exim/exim.conf"
	# in a command line but not itself (grep's own argv).
	re=$(printf '%s' "$d" | sed 's/[][\\.*^$+?(){}|]/\\&/g')'/(cyrus/imapd|exim/exim)[.]conf'
	roots=$(grep -l -a -E -- "$re" /proc/[0-9]*/cmdline 2>/dev/null | sed -n 's|^/proc/\([0-9]*\)/cmdline$|\1|p')
	[ -n "$roots" ] || return 0
	# Children that run something else (the /bin/sleep of slow@'s router)
	# carry no -C: take every descendant of a match as well.
	ps -eo pid=,ppid=,stat= | awk -v roots="$roots" -v self=$$ '
		BEGIN { n = split(roots, r, "\n"); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
		{ parent[$1] = $2; state[$1] = $3 }
		END {
			do {
				changed = 0
				for (p in parent)
					if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
			} while (changed)
			for (p in keep)
				if ((p in state) && state[p] !~ /^Z/ && p != self) print p
		}'
}

cmd_stop() {
	local d=$1 i left
	# DIR may be gone already: its processes can still be found by name.
	[ -d "$d" ] && d=$(cd "$d" && pwd)
	# Exim first: nothing new is delivered into a stopping Cyrus.
	stop_pid "$(pid_of "$d/exim/exim.pid")" exim 0.02
	stop_pid "$(pid_of "$d/cyrus/master.pid")" cyrus-master 0.02
	# Children either left behind (smtp receivers, deliveries, imapd, lmtpd,
	# idled): ask, then insist.  Only processes started with our -C files.
	for ((i = 0; i < 50; i++)); do
		left=$(leftovers "$d")
		[ -z "$left" ] && break
		# shellcheck disable=SC2086
		if [ "$i" -lt 25 ]; then kill -TERM $left 2>/dev/null || true; else kill -KILL $left 2>/dev/null || true; fi
		sleep 0.02
	done
	rm -f "$d/exim/exim.pid" "$d/cyrus/master.pid"
	return 0
}

cmd_status() {
	local d=$1
	alive "$(pid_of "$d/exim/exim.pid")" && alive "$(pid_of "$d/cyrus/master.pid")"
}

[ $# -eq 2 ] || die "usage: cyrus.sh start|stop|status DIR"
case $1 in
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
status) cmd_status "$2" ;;
*) die "usage: cyrus.sh start|stop|status DIR" ;;
esac
