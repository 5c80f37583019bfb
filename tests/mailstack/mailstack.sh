#!/usr/bin/env bash
# tests/mailstack/mailstack.sh - a private Postfix + Dovecot on loopback for
# tests, benchmarks and the demo.  Never touches the system's /etc/postfix
# main.cf or /etc/dovecot, never starts the system daemons.
#
#   mailstack.sh start DIR     render configs, make certs and users, start
#                              Dovecot then Postfix, wait for every port,
#                              write DIR/env (KEY=VALUE lines)
#   mailstack.sh stop DIR      stop Postfix, then Dovecot, by PID (idempotent)
#   mailstack.sh status DIR    exit 0 if both run
#   mailstack.sh release DIR   deliver every message held by Postfix
#
# DIR must be short (unix socket paths are limited to 108 bytes), e.g.
# $(mktemp -d /tmp/me2e.XXXXXX).  Ports: MS_PORT_BASE (default 20000) + 25,
# 587, 465 (SMTP plain, submission, smtps), 588 (submission behind a 1 s
# greet pause: smtpd_client_restrictions = sleep 1) and + 143, 144, 993, 142 (IMAP
# with STARTTLS on 127.0.0.5, the same without IDLE on 127.0.0.6, IMAPS on
# 127.0.0.1, IMAP without TLS on 127.0.0.1).  Users: alice bob carol held junky sweep, and user001..userNNN when
# MS_EXTRA_USERS=NNN; mail to held@ stays in Postfix's hold queue until
# `release`; a Sieve rule files all mail to junky@ into Junk.  XOAUTH2 and
# OAUTHBEARER logins work on IMAP and SMTP for tokens listed as "TOKEN USER"
# in $MS_OAUTH2_TOKENS (checked by oauth2_introspect.py on MS_PORT_BASE + 80).  See
# MAILSTACK-NOTES.md for why each odd setting is there.
set -eu
. "$(dirname "$0")/common.sh"

DOMAIN=e2e.test
HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${MS_PORT_BASE:-20000}
P_SMTP=$((BASE + 25)) P_SUB=$((BASE + 587)) P_SMTPS=$((BASE + 465))
P_IMAP=$((BASE + 143)) P_NOIDLE=$((BASE + 144)) P_IMAPS=$((BASE + 993))
P_IMAP_PLAIN=$((BASE + 142))
P_SUB_PAUSE=$((BASE + 588))  # submission behind a 1 s greet pause (postscreen-style)
P_OAUTH2=$((BASE + 80))   # token introspection endpoint for Dovecot's oauth2 passdb
IMAP_HOST=127.0.0.5     # not the client's address: STARTTLS is really required (gotcha 6)
NOIDLE_HOST=127.0.0.6

die() { echo "mailstack: $*" >&2; exit 1; }

users_list() {
	printf '%s\n' alice bob carol held junky sweep
	local n=${MS_EXTRA_USERS:-0} i
	for ((i = 1; i <= n; i++)); do printf 'user%03d\n' "$i"; done
}

make_certs() {
	local t=$1/tls
	mkdir -p "$t"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=mail-e2e test CA" \
		-keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
		-keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:%s,IP:%s\n' \
		"$IMAP_HOST" "$NOIDLE_HOST" >"$t/san.ext"
	openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
		-CAcreateserial -days 2 -extfile "$t/san.ext" -out "$t/server.pem" 2>/dev/null
	# An unrelated CA, for "certificate not trusted" tests.
	openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=some other CA" \
		-keyout "$t/other-ca.key" -out "$t/other-ca.pem" 2>/dev/null
	chmod 644 "$t"/*.pem
	chmod 640 "$t/server.key"
	chgrp dovecot "$t/server.key"
}

make_users() {
	local dir=$1 u pw
	: >"$dir/dovecot/users"
	: >"$dir/postfix/etc/vmailbox"
	: >"$dir/passwords"
	for u in $(users_list); do
		pw=$(openssl rand -hex 12)
		echo "$u:{PLAIN}$pw:8:8::$dir/mail/$u::" >>"$dir/dovecot/users"
		echo "$u@$DOMAIN OK" >>"$dir/postfix/etc/vmailbox"
		echo "MS_PASSWORD_$u=$pw" >>"$dir/passwords"
		mkdir -p "$dir/mail/$u/Maildir"
	done
	echo "held@$DOMAIN HOLD" >"$dir/postfix/etc/hold"
	# junky@ files everything into Junk with a Sieve rule (dovecot-sieve),
	# the way a spam filter would.
	mkdir -p "$dir/mail/junky"
	printf 'require "fileinto";\nfileinto "Junk";\n' >"$dir/mail/junky/.dovecot.sieve"
	chown -R mail:mail "$dir/mail"
	chmod 640 "$dir/dovecot/users"
	chgrp dovecot "$dir/dovecot/users"
	chmod 600 "$dir/passwords"
}

render_dovecot() {
	local d=$1 DOVECOT_LIMITS LOGIN_MODE
	if [ "${MS_DOVECOT_DEFAULT_LOGIN:-0}" = 1 ]; then
		DOVECOT_LIMITS="default_process_limit = 100"
		LOGIN_MODE="  # Dovecot's default: one imap-login process per connection."
	else
		DOVECOT_LIMITS=$'default_process_limit = 400\ndefault_client_limit = 4000'
		LOGIN_MODE=$'  service_count = 0\n  process_min_avail = 2'
	fi
	cat >"$d/dovecot/dovecot.conf" <<CONF
# Private Dovecot for mail-e2e tests: no include of /etc/dovecot.
instance_name = me2e-$(basename "$d")
base_dir = $d/dovecot/run
state_dir = $d/dovecot/state
log_path = $d/dovecot/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
# Benchmarks open 100+ IMAP sessions at once (MS_DOVECOT_DEFAULT_LOGIN=1:
# Dovecot's own defaults, what most real servers run).
$DOVECOT_LIMITS
ssl = yes
ssl_cert = <$d/tls/server.pem
ssl_key = <$d/tls/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
auth_verbose = yes
first_valid_uid = 8
last_valid_uid = 8
mail_location = maildir:~/Maildir
mail_plugins = \$mail_plugins
# XOAUTH2 / OAUTHBEARER: the token is checked by our local introspection
# endpoint (tests/mailstack/oauth2_introspect.py), the way Dovecot checks
# one with an identity provider; Postfix gets both through Dovecot SASL.
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $d/dovecot/oauth2.conf.ext
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $d/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $d/dovecot/users
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
  # One login process serves many clients: in Dovecot's default mode (one
  # process per connection) the master forks them one by one, and with 200
  # connections at once (100 routes, inbox + junk) some wait > 10 s for
  # their greeting.
$LOGIN_MODE
  inet_listener imap {
    address = $IMAP_HOST
    port = $P_IMAP
  }
  inet_listener imap_noidle {
    address = $NOIDLE_HOST
    port = $P_NOIDLE
  }
  # Client and server both 127.0.0.1: Dovecot counts that as secured and
  # allows LOGIN without TLS (gotcha 6), which imap_tls = none tests need.
  inet_listener imap_plain {
    address = 127.0.0.1
    port = $P_IMAP_PLAIN
  }
  inet_listener imaps {
    address = 127.0.0.1
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
# One wrong-password test must not slow every later login (gotcha 4).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
local $NOIDLE_HOST {
  protocol imap {
    imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 LITERAL+ NOTIFY SPECIAL-USE
  }
}
protocol lmtp {
  mail_plugins = \$mail_plugins $SIEVE_PLUGIN
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
CONF
}

render_postfix() {
	local d=$1 e=$1/postfix/etc
	cat >"$e/main.cf" <<CONF
# Private Postfix for mail-e2e tests.
compatibility_level = 3.6
queue_directory = $d/postfix/queue
data_directory = $d/postfix/data
maillog_file = $d/postfix/maillog
maillog_file_prefixes = $d
myhostname = mail.$DOMAIN
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
virtual_transport = lmtp:unix:$d/dovecot/run/lmtp
smtp_dns_support_level = disabled
lmtp_host_lookup = native
biff = no
notify_classes =
default_process_limit = 400
smtpd_banner = \$myhostname ESMTP mail-e2e test stack
smtpd_tls_cert_file = $d/tls/server.pem
smtpd_tls_key_file = $d/tls/server.key
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = $d/dovecot/run/auth-postfix
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:$e/hold, permit
CONF
	cat >"$e/master.cf" <<CONF
# service type private unpriv chroot wakeup maxproc command
127.0.0.1:$P_SMTP inet n - n - - smtpd
127.0.0.1:$P_SUB inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_recipient_restrictions=check_recipient_access,texthash:$e/hold,permit_sasl_authenticated,reject
127.0.0.1:$P_SUB_PAUSE inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o { smtpd_client_restrictions = sleep 1 }
  -o smtpd_delay_reject=no
  -o smtpd_recipient_restrictions=check_recipient_access,texthash:$e/hold,permit_sasl_authenticated,reject
127.0.0.1:$P_SMTPS inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=check_recipient_access,texthash:$e/hold,permit_sasl_authenticated,reject
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

wait_port() {   # host port seconds
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	return 1
}

show_logs() {
	local d=$1 f
	for f in "$d/dovecot/start.log" "$d/dovecot/dovecot.log" "$d/postfix/start.log" "$d/postfix/maillog"; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -30 "$f" >&2; }
	done
	return 0
}

cmd_start() {
	local d=$1
	[ ${#d} -le 40 ] || die "state dir path too long for unix sockets: $d"
	command -v postfix >/dev/null || die "postfix is not installed (tests/install-deps.sh)"
	command -v dovecot >/dev/null || die "dovecot is not installed (tests/install-deps.sh)"
	cmd_stop "$d" >/dev/null 2>&1 || true
	mkdir -p "$d"
	d=$(cd "$d" && pwd)
	rm -rf "$d/dovecot" "$d/postfix" "$d/mail" "$d/tls" "$d/oauth2"
	mkdir -p "$d/dovecot/run" "$d/dovecot/state" "$d/postfix/etc" "$d/postfix/queue" \
		"$d/postfix/data" "$d/mail"
	chmod 755 "$d" "$d/dovecot" "$d/postfix" "$d/mail"
	chown postfix "$d/postfix/data"
	SIEVE_PLUGIN=
	[ -e /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] && SIEVE_PLUGIN=sieve
	make_certs "$d"
	make_users "$d"
	render_dovecot "$d"
	mkdir -p "$d/oauth2"
	: >"$d/oauth2/tokens"
	chmod 600 "$d/oauth2/tokens"
	cat >"$d/dovecot/oauth2.conf.ext" <<CONF
introspection_mode = post
introspection_url = http://127.0.0.1:$P_OAUTH2/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
CONF
	python3 "$HERE/oauth2_introspect.py" "$P_OAUTH2" "$d/oauth2/tokens" \
		</dev/null >"$d/oauth2/introspect.log" 2>&1 &
	echo $! >"$d/oauth2/pid"
	render_postfix "$d"
	touch "$d/postfix/maillog"
	# Postfix waits until main.cf is ~2 s old (gotcha 2): back-date it.
	touch -d '-1 minute' "$d/postfix/etc/main.cf" "$d/postfix/etc/master.cf" \
		"$d/postfix/etc/vmailbox" "$d/postfix/etc/hold"

	# Dovecot keeps the caller's stdio open after it daemonizes (gotcha 3).
	dovecot -c "$d/dovecot/dovecot.conf" </dev/null >"$d/dovecot/start.log" 2>&1 ||
		{ show_logs "$d"; die "dovecot did not start"; }
	postfix -c "$d/postfix/etc" start </dev/null >"$d/postfix/start.log" 2>&1 ||
		{ show_logs "$d"; cmd_stop "$d"; die "postfix did not start"; }
	local hp
	for hp in "127.0.0.1 $P_OAUTH2" "$IMAP_HOST $P_IMAP" "$NOIDLE_HOST $P_NOIDLE" "127.0.0.1 $P_IMAPS" "127.0.0.1 $P_IMAP_PLAIN" \
		"127.0.0.1 $P_SMTP" "127.0.0.1 $P_SUB" "127.0.0.1 $P_SUB_PAUSE" "127.0.0.1 $P_SMTPS"; do
		# shellcheck disable=SC2086
		wait_port $hp 20 || { show_logs "$d"; cmd_stop "$d"; die "port $hp never opened"; }
	done
	{
		echo "MS_DIR=$d"
		echo "MS_HOST=127.0.0.1"
		echo "MS_DOMAIN=$DOMAIN"
		echo "MS_CA=$d/tls/ca.pem"
		echo "MS_OTHER_CA=$d/tls/other-ca.pem"
		echo "MS_CERT=$d/tls/server.pem"
		echo "MS_SMTP_PORT=$P_SMTP"
		echo "MS_SUBMISSION_PORT=$P_SUB"
		echo "MS_SUBMISSION_PAUSE_PORT=$P_SUB_PAUSE"
		echo "MS_SMTPS_PORT=$P_SMTPS"
		echo "MS_IMAP_HOST=$IMAP_HOST"
		echo "MS_IMAP_PORT=$P_IMAP"
		echo "MS_IMAP_NOIDLE_HOST=$NOIDLE_HOST"
		echo "MS_IMAP_NOIDLE_PORT=$P_NOIDLE"
		echo "MS_IMAPS_PORT=$P_IMAPS"
		echo "MS_IMAP_PLAIN_PORT=$P_IMAP_PLAIN"
		echo "MS_USERS=$(users_list | paste -sd, -)"
		echo "MS_OAUTH2_TOKENS=$d/oauth2/tokens"
		echo "MS_MAILDIR=$d/mail"
		echo "MS_POSTFIX_CONF=$d/postfix/etc"
		cat "$d/passwords"
	} >"$d/env"
	chmod 600 "$d/env"
	echo "mailstack: up in $d (SMTP $P_SMTP/$P_SUB/$P_SMTPS, IMAP $P_IMAP/$P_NOIDLE/$P_IMAPS)"
}



cmd_stop() {
	local d=$1 pid
	[ -d "$d" ] || return 0
	# Postfix first: its smtpd may hold Dovecot's auth child (gotcha 8).
	pid=$(pid_of "$d/postfix/queue/pid/master.pid")
	if alive "$pid"; then
		postfix -c "$d/postfix/etc" stop >/dev/null 2>&1 || true
		stop_pid "$pid" postfix
	fi
	pid=$(pid_of "$d/dovecot/run/master.pid")
	stop_pid "$pid" dovecot
	stop_pid "$(pid_of "$d/oauth2/pid")" oauth2-introspect
	# Children Postfix or Dovecot left behind (smtpd, imap, auth ...).
	pkill -KILL -f -- "-c $d/" 2>/dev/null || true
	return 0
}

cmd_status() {
	local d=$1
	alive "$(pid_of "$d/postfix/queue/pid/master.pid")" &&
		alive "$(pid_of "$d/dovecot/run/master.pid")"
}

cmd_release() {
	local d=$1
	postsuper -c "$d/postfix/etc" -H ALL
	postqueue -c "$d/postfix/etc" -f
}

[ $# -eq 2 ] || die "usage: mailstack.sh start|stop|status|release DIR"
case $1 in
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
status) cmd_status "$2" ;;
release) cmd_release "$2" ;;
*) die "usage: mailstack.sh start|stop|status|release DIR" ;;
esac
