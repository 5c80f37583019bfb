# shellcheck shell=bash
# tests/mailstack/mxworld_conf.sh - the configuration files of the MX
# world's servers (Unbound, Dovecot, Postfix), written into the state dir.
# Sourced by mxworld.sh, not run; uses its D, NET, A_*, USER_NAME, DOMAINS,
# addr_of and sets PASSWORD (the mailbox user's, random at each start).
# See mxworld.notes.md and MAILSTACK-NOTES.md for why each odd setting is there.

render_unbound() {
	local u=$D/unbound
	mkdir -p "$u"
	printf '. 3600 IN NS ns.test.\nns.test. 3600 IN A %s\n' "$A_NSD" >"$u/root.hints"
	cat >"$u/unbound.conf" <<CONF
# Private Unbound for mxworld.sh: a validating recursive resolver whose only
# root server is the world's NSD; it never learns another address.
server:
  interface: $A_UNBOUND@53
  outgoing-interface: $A_UNBOUND
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  root-hints: "$u/root.hints"
  trust-anchor-file: "$D/dns/root.ds"
  trust-anchor-signaling: no
  root-key-sentinel: no
  # Unbound answers test. itself (NXDOMAIN) unless told otherwise.
  local-zone: "test." transparent
  username: ""
  chroot: ""
  directory: "$u"
  pidfile: "$u/unbound.pid"
  logfile: "$u/unbound.log"
  use-syslog: no
  log-time-ascii: yes
  verbosity: 1
  val-log-level: 2
  log-servfail: yes
  num-threads: 1
  so-reuseport: no
  module-config: "validator iterator"
  prefetch: no
  # Nothing listens on the lame DNSBL zone's server: give up on it quickly.
  infra-host-ttl: 60
remote-control:
  control-enable: yes
  control-interface: "$u/control.sock"
  control-use-cert: no
CONF
}

render_dovecot() {
	local c=$D/dovecot
	cat >"$c/dovecot.conf" <<CONF
# Private Dovecot for mxworld.sh: no include of /etc/dovecot.
instance_name = mxw-$(basename "$D")
base_dir = $c/run
state_dir = $c/state
log_path = $c/dovecot.log
protocols = imap lmtp
listen = $A_IMAP
hostname = imap.mxworld.test
ssl = yes
ssl_cert = <$D/tls/imap.pem
ssl_key = <$D/tls/imap.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
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
    address = $A_IMAP
    port = 143
  }
  inet_listener imaps {
    address = $A_IMAP
    port = 993
    ssl = yes
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
protocol lmtp {
  postmaster_address = postmaster@mxworld.test
}
CONF
	PASSWORD=$(openssl rand -hex 12)
	echo "$USER_NAME:{PLAIN}$PASSWORD:8:8::$D/mail/$USER_NAME::" >"$c/users"
	chmod 640 "$c/users"
	chgrp dovecot "$c/users"
	mkdir -p "$D/mail/$USER_NAME/Maildir"
	chown -R mail:mail "$D/mail"
}

# listener ROLE [-o ...]: one port-25 smtpd in master.cf for an MX role.
listener() {
	local role=$1
	shift
	printf '%s:25 inet n - n - - smtpd\n  -o myhostname=%s.mxworld.test\n' "$(addr_of "$role")" "$role"
	[ "$role" = notls ] || printf '  -o smtpd_tls_chain_files=%s\n' "$D/tls/$(cert_of "$role").chain.pem"
	while [ $# -gt 0 ]; do printf '  %s\n' "$1"; shift; done
}

cert_of() {
	case $1 in rcpt4xx | connect4xx) echo good ;; *) echo "$1" ;; esac
}

render_postfix() {
	local p=$D/postfix e=$D/postfix/etc dom
	for dom in $DOMAINS; do echo "$USER_NAME@$dom OK"; done >"$e/vmailbox"
	for dom in $DOMAINS; do echo "$dom OK"; done >"$e/vdomains"
	cat >"$e/main.cf" <<CONF
# Private Postfix for mxworld.sh: every MX host of the world, one listener each.
compatibility_level = 3.6
queue_directory = $p/queue
data_directory = $p/data
maillog_file = $p/maillog
maillog_file_prefixes = $D
myhostname = mx.mxworld.test
mydomain = mxworld.test
myorigin = mxworld.test
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
mydestination =
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = texthash:$e/vdomains
virtual_mailbox_maps = texthash:$e/vmailbox
virtual_transport = lmtp:unix:$D/dovecot/run/lmtp
lmtp_host_lookup = native
# Nothing ever leaves: no DNS, no relay, no notifications.
smtp_dns_support_level = disabled
default_transport = error:5.4.4 the mxworld test stack sends nothing out
relay_transport = error:5.4.4 the mxworld test stack sends nothing out
smtpd_peername_lookup = no
notify_classes =
biff = no
smtpd_banner = \$myhostname ESMTP mxworld test MX
smtpd_tls_security_level = may
smtpd_tls_chain_files = $D/tls/good.chain.pem
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = permit
CONF
	{
		echo "# service type private unpriv chroot wakeup maxproc command"
		listener good
		listener badname
		listener notls -o smtpd_tls_security_level=none
		listener rcpt4xx "-o { smtpd_recipient_restrictions = check_recipient_access static:{450 4.3.2 mxworld: this MX host defers every recipient} }"
		listener connect4xx -o smtpd_delay_reject=no \
			"-o { smtpd_client_restrictions = check_client_access static:{421 4.3.2 mxworld: this MX host is busy, try another} }"
		listener ta
		listener tabadname
		listener selfsigned
		listener expired
		cat <<'CONF'
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
	} >"$e/master.cf"
	touch "$p/maillog"
	# Postfix waits until main.cf is ~2 s old (MAILSTACK-NOTES gotcha 2).
	touch -d '-1 minute' "$e"/*
}
