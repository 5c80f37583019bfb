#!/usr/bin/env bash
# tests/mailstack/mxworld.sh - the world of direct delivery to a domain's MX
# (SPEC section 12) and of the DNSBL lookups (section 13), on loopback
# addresses of its own: NSD serving a private DNSSEC-signed root, "test."
# and one zone per scenario (one with broken signatures, one unsigned
# delegation, ...); Unbound as the validating recursive resolver with the
# root's DS as trust anchor, talking to nothing but NSD; an HTTPS server for
# the MTA-STS policy files (test CA); one Postfix whose port-25 listeners on
# distinct addresses play the MX hosts (certificates that match and that
# don't, DANE-TA chain, self-signed, expired, no STARTTLS, 4xx at connect or
# at RCPT), all delivering probe@<every scenario domain> into one Dovecot
# mailbox (user "probe").  Never touches /etc, never starts a system daemon.
#
#   mxworld.sh start DIR     make CA, certificates, keys, zones (signed with
#                            ldns-signzone), start every server, wait for
#                            every port, write DIR/env (MX_ keys) and
#                            DIR/scenarios.json (each domain's intended outcome)
#   mxworld.sh stop DIR      stop every server by PID (idempotent)
#   mxworld.sh status DIR    exit 0 if every server runs
#   mxworld.sh set-sts-id DIR DOMAIN NEWID [POLICYFILE]
#                            change DOMAIN's _mta-sts TXT id (and its policy
#                            file), re-sign, reload NSD, flush Unbound; also
#                            DIR/bin/set-sts-id DOMAIN NEWID [POLICYFILE]
#
# Addresses: NET.N, NET = MXWORLD_NET (default 127.0.60), N as in
# mxworld_zones.py's ADDR: 1 NSD :53, 2 Unbound :53, 3 HTTPS :443,
# 10-19 MX hosts :25 (14: nothing listens), 20 Dovecot :143/:993.
# DIR must be short (unix sockets), e.g. $(mktemp -d /tmp/me2e.XXXXXX).
# The scenario table lives in mxworld_zones.py; see mxworld.notes.md.
set -eu
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mxworld_conf.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
NET=${MXWORLD_NET:-127.0.60}
ZONES_PY=$HERE/mxworld_zones.py
A_NSD=$NET.1 A_UNBOUND=$NET.2 A_HTTPS=$NET.3 A_IMAP=$NET.20
USER_NAME=probe
FROM_ADDR=sender@mxworld.test

die() { echo "mxworld: $*" >&2; exit 1; }
span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
elapsed() { span "$1" "$EPOCHREALTIME"; }
installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
# The address table, the MX roles (one port-25 listener each) and the
# domain list, read once from mxworld_zones.py.
declare -A ADDR=()
MX_ROLES=()
DOMAINS=
load_table() {
	local k v
	while read -r k v; do
		case $k in
		domains) DOMAINS=$v ;;
		mx_roles) read -r -a MX_ROLES <<<"$v" ;;
		*) ADDR[$k]=$v ;;
		esac
	done < <(python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import mxworld_zones as z
for k, v in z.ADDR.items(): print(k, v)
print('mx_roles', ' '.join(z.MX_ROLES))
print('domains', ' '.join(s['name'] for s in z.SCENARIOS))" "$HERE")
	[ -n "$DOMAINS" ] && [ -n "${ADDR[good]:-}" ] || die "cannot read the table in $ZONES_PY"
}
addr_of() { echo "$NET.${ADDR[$1]}"; }

# --- certificates ----------------------------------------------------------------------

# The names of a certificate (DNS names, or IP:ADDRESS) as an extension value.
san_ext() { printf '%s\n' "$@" | sed '/^IP:/!s/^/DNS:/' | paste -sd, | sed 's/^/subjectAltName=/'; }

# req ARGS...: openssl req with a configuration of its own (no extensions
# from /etc/ssl/openssl.cnf), a new EC P-256 key.
req() {
	openssl req -config "$D/tls/req.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null
}

# leaf NAME ISSUER SAN... : key and certificate for the SANs, signed by
# ISSUER (ca, taca) or self-signed (self); valid for 3 days.
leaf() {
	local t=$D/tls n=$1 issuer=$2
	shift 2
	local sign=(-CA "$t/$issuer.pem" -CAkey "$t/$issuer.key")
	[ "$issuer" = self ] && sign=(-x509)
	req "${sign[@]}" -days 3 -subj "/CN=$1" -addext "$(san_ext "$@")" \
		-addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=serverAuth \
		-keyout "$t/$n.key" -out "$t/$n.pem"
}

# expired NAME SAN... : like leaf, signed by the test CA, valid for one day
# 400 days ago (openssl req/x509 cannot back-date; openssl ca can).
expired() {
	local t=$D/tls n=$1 c=$D/tls/ca.d
	shift
	mkdir -p "$c"
	: >"$c/index.txt"
	openssl rand -hex 8 >"$c/serial"
	cat >"$c/ca.cnf" <<CNF
[ca]
default_ca = c
[c]
database = $c/index.txt
new_certs_dir = $c
serial = $c/serial
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
CNF
	san_ext "$@" >"$t/$n.ext"
	printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' >>"$t/$n.ext"
	req -subj "/CN=$1" -keyout "$t/$n.key" -out "$t/$n.csr" &&
		openssl ca -batch -config "$c/ca.cnf" -cert "$t/ca.pem" -keyfile "$t/ca.key" -notext \
			-startdate "$(date -u -d '-400 days' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d '-399 days' +%Y%m%d%H%M%SZ)" \
			-extfile "$t/$n.ext" -in "$t/$n.csr" -out "$t/$n.pem" 2>"$c/err" || { cat "$c/err" >&2; return 1; }
}

ca() {   # NAME CN
	req -x509 -days 3 -subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign -keyout "$D/tls/$1.key" -out "$D/tls/$1.pem"
}

make_certs() {
	local t=$D/tls role names
	mkdir -p "$t"
	printf '[req]\ndistinguished_name = dn\n[dn]\n' >"$t/req.cnf"
	ca ca "mxworld test CA" & ca taca "mxworld DANE-TA private CA" &
	# The key before a "key roll": its hash is the stale TLSA.
	{ openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$t/old.key" &&
		openssl pkey -in "$t/old.key" -pubout -outform DER -out "$t/old.spki.der"; } 2>/dev/null &
	wait
	declare -A SAN=()
	while read -r role names; do SAN[$role]=$names; done < <(python3 "$ZONES_PY" sans "$NET")
	# shellcheck disable=SC2086
	{
		leaf good ca ${SAN[good]} & leaf badname ca ${SAN[badname]} &
		leaf ta taca ${SAN[ta]} & leaf tabadname taca ${SAN[tabadname]} &
		leaf selfsigned self ${SAN[selfsigned]} & expired expired ${SAN[expired]} &
		leaf https ca ${SAN[https]} & leaf httpswrong ca ${SAN[httpswrong]} &
		leaf imap ca ${SAN[imap]} &
		wait
	}
	for role in ca taca good badname ta tabadname selfsigned expired https httpswrong imap; do
		[ -s "$t/$role.pem" ] || die "could not make the $role certificate"
	done
	[ -s "$t/old.spki.der" ] || die "could not make the old key"
	# What each listener presents: key, leaf, chain (Postfix's
	# smtpd_tls_chain_files and Python's load_cert_chain take the same file).
	for role in good badname selfsigned expired https httpswrong imap; do
		cat "$t/$role.key" "$t/$role.pem" >"$t/$role.chain.pem"
	done
	for role in ta tabadname; do
		cat "$t/$role.key" "$t/$role.pem" "$t/taca.pem" >"$t/$role.chain.pem"
	done
	rm -f "$t"/*.csr "$t"/*.ext
	chmod 644 "$t"/*.pem
	chmod 640 "$t"/*.key "$t"/*.chain.pem
	chgrp dovecot "$t/imap.key" "$t/imap.chain.pem"
}

# --- DNS -------------------------------------------------------------------------------

keygen() {   # ZONE: an ECDSA P-256 key with the SEP flag (one key signs all)
	local k o=$1.
	[ "$1" = root ] && o=.
	k=$(cd "$D/dns/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$o") || return 1
	echo "$k" >"$D/dns/keys/$1.name"
}

# sign ZONE: src/ZONE.zone -> signed/ZONE.zone.new (NSEC; signatures valid
# from an hour ago, for ldns' default four weeks).
INCEPTION=$(($(date +%s) - 3600))
sign() {
	local k o=$1.
	read -r k <"$D/dns/keys/$1.name"
	[ "$1" = root ] && o=.
	ldns-signzone -i "$INCEPTION" -o "$o" -f "$D/dns/signed/$1.zone.new" "$D/dns/src/$1.zone" "$D/dns/keys/$k"
}

# publish ZONE...: break the signatures zones.txt lists for them (the bogus
# zones), then put each signed/ZONE.zone.new in place.
publish() { python3 "$ZONES_PY" publish "$D" "$@"; }

make_zones() {
	local z=$D/dns name kind rest pids=() i
	mkdir -p "$z/src" "$z/keys" "$z/signed"
	python3 "$ZONES_PY" render "$D" "$NET"
	# One key per signed zone, all at once (ldns-keygen: a few ms each).
	while read -r name kind rest; do
		if [ "$kind" = signed ]; then keygen "$name" & pids+=($!); fi
	done <"$z/zones.txt"
	keygen test & pids+=($!)
	keygen root & pids+=($!)
	for i in "${pids[@]}"; do wait "$i" || die "ldns-keygen failed"; done
	pids=()
	# Children first (their DS records go into test.), then test., then ".".
	local signed=()
	while read -r name kind rest; do
		[ "$kind" = signed ] || continue
		signed+=("$name")
		cat "$z/keys/$(cat "$z/keys/$name.name").ds" >>"$z/src/test.zone"
		sign "$name" & pids+=($!)
	done <"$z/zones.txt"
	for i in "${pids[@]}"; do wait "$i" || die "ldns-signzone failed"; done
	publish "${signed[@]}" || die "could not publish the signed zones"
	sign test && mv "$z/signed/test.zone.new" "$z/signed/test.zone" || die "ldns-signzone failed for test."
	cat "$z/keys/$(cat "$z/keys/test.name").ds" >>"$z/src/root.zone"
	sign root && mv "$z/signed/root.zone.new" "$z/signed/root.zone" || die "ldns-signzone failed for the root"
	# The trust anchor: the root's DS (and, for who prefers it, its DNSKEY).
	cp "$z/keys/$(cat "$z/keys/root.name").ds" "$z/root.ds"
	sed 's/ *;.*$//' "$z/keys/$(cat "$z/keys/root.name").key" >"$z/root.key"
	render_nsd
}

render_nsd() {
	local z=$D/dns name kind rest file
	cat >"$z/nsd.conf" <<CONF
# Private NSD for mxworld.sh; nothing from /etc/nsd.
server:
  ip-address: $A_NSD@53
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
  verbosity: 1
  identity: "ns.test"
  log-only-syslog: no
remote-control:
  control-enable: no
zone:
  name: "."
  zonefile: "$z/signed/root.zone"
zone:
  name: "test."
  zonefile: "$z/signed/test.zone"
CONF
	while read -r name kind rest; do
		file=$z/src/$name.zone
		[ "$kind" = signed ] && file=$z/signed/$name.zone
		printf 'zone:\n  name: "%s."\n  zonefile: "%s"\n' "$name" "$file" >>"$z/nsd.conf"
	done <"$z/zones.txt"
	# NSD (user nsd) reads the zones and writes its state here; the keys
	# stay root's.
	chown -R nsd:nsd "$z"
	chown -R root:root "$z/keys"
	chmod 755 "$z" "$z/src" "$z/signed"
	chmod 700 "$z/keys"
}

# --- commands ----------------------------------------------------------------------------

# wait_listen PID SECONDS PROTO:ADDR... : until PID itself listens on each
# (tcp:host:port or udp:host:port), so that another process on the port
# never looks like success.
wait_listen() {
	local pid=$1 end=$((SECONDS + $2)) a missing ls
	shift 2
	while :; do
		missing=
		ls=$(ss -Hlnup -A inet 2>/dev/null | grep -F "pid=$pid," | awk '{print $1 ":" $5}')
		ls+=$'\n'$(ss -Hltnp -A inet 2>/dev/null | grep -F "pid=$pid," | awk '{print "tcp:" $4}')
		for a in "$@"; do
			grep -qxF -- "$a" <<<"$ls" || missing+=" $a"
		done
		[ -z "$missing" ] && return 0
		alive "$pid" || { echo "mxworld: process $pid died before listening on$missing" >&2; return 1; }
		[ $SECONDS -lt "$end" ] || { echo "mxworld: process $pid does not listen on$missing" >&2; return 1; }
		sleep 0.02
	done
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

show_logs() {
	local f
	for f in "$D/dns/start.log" "$D/dns/nsd.log" "$D/unbound/start.log" "$D/unbound/unbound.log" \
		"$D/sts/https.log" "$D/dovecot/start.log" "$D/dovecot/dovecot.log" "$D/postfix/start.log" \
		"$D/postfix/maillog"; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
	done
	return 0
}

fail() { show_logs; cmd_stop "$D" >/dev/null 2>&1; die "$*"; }

write_bin() {
	mkdir -p "$D/bin"
	cat >"$D/bin/set-sts-id" <<SH
#!/bin/sh
# set-sts-id DOMAIN NEWID [POLICYFILE]: see tests/mailstack/mxworld.sh
exec "$HERE/mxworld.sh" set-sts-id "$D" "\$@"
SH
	chmod 755 "$D/bin/set-sts-id"
}

write_env() {
	{
		echo "MX_DIR=$D"
		echo "MX_NET=$NET"
		echo "MX_RESOLVER=$A_UNBOUND:53"
		echo "MX_RESOLVER_HOST=$A_UNBOUND"
		echo "MX_RESOLVER_PORT=53"
		echo "MX_NSD_HOST=$A_NSD"
		echo "MX_NSD_PORT=53"
		echo "MX_TRUST_ANCHOR=$D/dns/root.ds"
		echo "MX_TRUST_ANCHOR_DNSKEY=$D/dns/root.key"
		echo "MX_CA=$D/tls/ca.pem"
		echo "MX_TA_CA=$D/tls/taca.pem"
		echo "MX_SMTP_PORT=25"
		echo "MX_HTTPS_HOST=$A_HTTPS"
		echo "MX_HTTPS_PORT=443"
		echo "MX_HTTPS_LOG=$D/sts/access.log"
		echo "MX_POLICY_DIR=$D/sts/www"
		echo "MX_SET_STS_ID=$D/bin/set-sts-id"
		echo "MX_UNBOUND_CONTROL=unbound-control -c $D/unbound/unbound.conf"
		echo "MX_IMAP_HOST=$A_IMAP"
		echo "MX_IMAP_NAME=imap.mxworld.test"
		echo "MX_IMAP_PORT=143"
		echo "MX_IMAPS_PORT=993"
		echo "MX_USER=$USER_NAME"
		echo "MX_USERS=$USER_NAME"
		echo "MX_RCPT_LOCALPART=$USER_NAME"
		echo "MX_FROM=$FROM_ADDR"
		echo "MX_MAILDIR=$D/mail/$USER_NAME/Maildir"
		echo "MX_SCENARIOS=$D/scenarios.json"
		echo "MX_DOMAINS=${DOMAINS// /,}"
		echo "MX_NXDOMAIN=nosuch.test"
		cat "$D/env.world"
		echo "MX_POSTFIX_CONF=$D/postfix/etc"
		echo "MX_POSTFIX_LOG=$D/postfix/maillog"
		echo "MX_DOVECOT_LOG=$D/dovecot/dovecot.log"
		echo "MX_NSD_LOG=$D/dns/nsd.log"
		echo "MX_UNBOUND_LOG=$D/unbound/unbound.log"
		echo "MX_NSD_VERSION=$(installed_version nsd)"
		echo "MX_UNBOUND_VERSION=$(installed_version unbound)"
		echo "MX_LDNS_VERSION=$(installed_version ldnsutils)"
		echo "MX_POSTFIX_VERSION=$(installed_version postfix)"
		echo "MX_DOVECOT_VERSION=$(installed_version dovecot-core)"
		echo "MX_PASSWORD_$USER_NAME=$PASSWORD"
	} >"$D/env"
	chmod 600 "$D/env"
}

cmd_start() {
	D=$1
	local t0=$EPOCHREALTIME c hp
	[ ${#D} -le 40 ] || die "state dir path too long for unix sockets: $D"
	[ "$(id -u)" = 0 ] || die "must run as root (ports 25, 53, 143, 443, 993)"
	for c in nsd unbound unbound-control ldns-keygen ldns-signzone postfix dovecot openssl python3 ss; do
		command -v "$c" >/dev/null || die "$c is not installed (apt-get install \$(cat $HERE/mxworld.deps))"
	done
	cmd_stop "$D" >/dev/null 2>&1 || true
	t0=$EPOCHREALTIME   # a restart: the old world's stop is not counted
	load_table
	for hp in "$A_NSD 53" "$A_UNBOUND 53" "$A_HTTPS 443" "$A_IMAP 143" "$A_IMAP 993" \
		"$NET.${ADDR[dead]} 25" $(for c in "${MX_ROLES[@]}"; do echo "$(addr_of "$c")@25"; done); do
		hp=${hp/@/ }
		# shellcheck disable=SC2086
		if port_open $hp; then die "port ${hp#* } on ${hp% *} is already in use (another mxworld? MXWORLD_NET moves it)"; fi
	done
	mkdir -p "$D"
	D=$(cd "$D" && pwd)
	rm -rf "${D:?}/tls" "$D/dns" "$D/unbound" "$D/sts" "$D/dovecot" "$D/postfix" "$D/mail" "${D:?}/bin" \
		"$D/env" "$D/env.world" "$D/scenarios.json"
	mkdir -p "$D/dns" "$D/sts" "$D/dovecot/run" "$D/dovecot/state" "$D/postfix/etc" \
		"$D/postfix/queue" "$D/postfix/data" "$D/mail"
	chmod 755 "$D" "$D/dovecot" "$D/postfix" "$D/mail"
	chown postfix "$D/postfix/data"
	make_certs
	local t_certs=$EPOCHREALTIME
	make_zones
	local t_zones=$EPOCHREALTIME
	render_unbound
	render_dovecot
	render_postfix
	write_bin

	nsd -c "$D/dns/nsd.conf" </dev/null >"$D/dns/start.log" 2>&1 || fail "nsd did not start"
	unbound -c "$D/unbound/unbound.conf" </dev/null >"$D/unbound/start.log" 2>&1 || fail "unbound did not start"
	setsid python3 "$HERE/mxworld_https.py" "$A_HTTPS" 443 "$D/sts" "$D/tls" \
		</dev/null >>"$D/sts/https.log" 2>&1 &
	echo $! >"$D/sts/https.pid"
	dovecot -c "$D/dovecot/dovecot.conf" </dev/null >"$D/dovecot/start.log" 2>&1 || fail "dovecot did not start"
	postfix -c "$D/postfix/etc" start </dev/null >"$D/postfix/start.log" 2>&1 || fail "postfix did not start"

	wait_file "$D/dns/nsd.pid" 10 && wait_listen "$(pid_of "$D/dns/nsd.pid")" 10 "udp:$A_NSD:53" "tcp:$A_NSD:53" ||
		fail "nsd is not listening"
	wait_file "$D/unbound/unbound.pid" 10 &&
		wait_listen "$(pid_of "$D/unbound/unbound.pid")" 10 "udp:$A_UNBOUND:53" "tcp:$A_UNBOUND:53" ||
		fail "unbound is not listening"
	wait_listen "$(pid_of "$D/sts/https.pid")" 10 "tcp:$A_HTTPS:443" || fail "the HTTPS server is not listening"
	wait_file "$D/dovecot/run/master.pid" 10 &&
		wait_listen "$(pid_of "$D/dovecot/run/master.pid")" 10 "tcp:$A_IMAP:143" "tcp:$A_IMAP:993" ||
		fail "dovecot is not listening"
	local want=() role
	for role in "${MX_ROLES[@]}"; do want+=("tcp:$(addr_of "$role"):25"); done
	wait_file "$D/postfix/queue/pid/master.pid" 10 &&
		wait_listen "$(pid_of "$D/postfix/queue/pid/master.pid")" 10 "${want[@]}" || fail "postfix is not listening"
	write_env
	echo "mxworld: up in $D in $(elapsed "$t0") s (certificates $(span "$t0" "$t_certs") s, zones $(span "$t_certs" "$t_zones") s; DNS $A_UNBOUND:53, MX $NET.10-19:25, IMAP $A_IMAP:143)"
}

dir_pids() {   # live processes started with one of DIR's config files, or
	# working in its Postfix queue directory (master -w and its children)
	local re q p
	re=$(printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g')
	re="$re/(dns/nsd[.]conf|unbound/unbound[.]conf|dovecot/dovecot[.]conf|sts)"
	q="'$1/postfix/queue'"
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
	local d=$1 pid running='' f i left
	[ -d "$d" ] && d=$(cd "$d" && pwd)
	# Postfix first (it delivers into Dovecot), then everything else at once.
	pid=$(pid_of "$d/postfix/queue/pid/master.pid") || pid=
	if alive "$pid"; then
		postfix -c "$d/postfix/etc" stop >/dev/null 2>&1 || true
		stop_pid "$pid" postfix 0.02
	fi
	for f in dovecot/run/master.pid unbound/unbound.pid dns/nsd.pid sts/https.pid; do
		pid=$(pid_of "$d/$f") || pid=
		alive "$pid" && running+=" $pid"
	done
	# shellcheck disable=SC2086
	[ -n "$running" ] && kill -TERM $running 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		left=
		for f in $running; do alive "$f" && left+=" $f"; done
		[ -z "$left" ] && break
		sleep 0.02
	done
	# shellcheck disable=SC2086
	[ -n "$left" ] && kill -KILL $left 2>/dev/null
	# Whatever the servers left behind (Dovecot's and Postfix's children).
	for ((i = 0; i < 50; i++)); do
		left=$(dir_pids "$d")
		[ -n "${left// /}" ] || break
		# shellcheck disable=SC2086
		if [ "$i" -lt 25 ]; then kill -TERM $left 2>/dev/null || true; else kill -KILL $left 2>/dev/null || true; fi
		sleep 0.02
	done
	rm -f "$d/sts/https.pid"
	return 0
}

cmd_status() {
	local d=$1 f
	for f in dns/nsd.pid unbound/unbound.pid sts/https.pid dovecot/run/master.pid postfix/queue/pid/master.pid; do
		alive "$(pid_of "$d/$f")" || return 1
	done
}

# set-sts-id DIR DOMAIN NEWID [POLICYFILE]
cmd_set_sts_id() {
	D=$(cd "$1" && pwd)
	local dom=$2 id=$3 pol=${4:-} src=$D/dns/src/$2.zone serial i nsd
	# The world's own NSD (it may live on another MXWORLD_NET than ours).
	nsd=$(sed -n 's/^MX_NSD_HOST=//p' "$D/env" 2>/dev/null)
	[ -n "$nsd" ] || die "$D/env is missing: is the world running?"
	command -v dig >/dev/null || die "dig is not installed (bind9-dnsutils, see mxworld.deps)"
	[ -f "$src" ] && grep -q '^_mta-sts ' "$src" || die "$dom has no _mta-sts TXT record in this world"
	[[ $id =~ ^[A-Za-z0-9]{1,32}$ ]] || die "an MTA-STS id is 1-32 letters and digits (RFC 8461 3.1): $id"
	sed -i "s/^\(_mta-sts .* TXT \).*/\1\"v=STSv1; id=$id\"/" "$src"
	python3 "$ZONES_PY" serial "$src"
	if grep -q "^$dom signed" "$D/dns/zones.txt"; then
		sign "$dom" && publish "$dom" || die "could not re-sign $dom"
	fi
	chown -R nsd:nsd "$D/dns/signed" "$D/dns/src"
	if [ -n "$pol" ]; then
		mkdir -p "$D/sts/www/mta-sts.$dom/.well-known"
		cp "$pol" "$D/sts/www/mta-sts.$dom/.well-known/mta-sts.txt.new"
		chmod 644 "$D/sts/www/mta-sts.$dom/.well-known/mta-sts.txt.new"
		mv "$D/sts/www/mta-sts.$dom/.well-known/mta-sts.txt.new" "$D/sts/www/mta-sts.$dom/.well-known/mta-sts.txt"
	fi
	serial=$(awk '$3 == "SOA" { print $6; exit }' "$src")
	kill -HUP "$(pid_of "$D/dns/nsd.pid")" || die "nsd is not running"
	# NSD reloads in the background: wait until it serves the new serial.
	for ((i = 0; i < 250; i++)); do
		[ "$(dig +short +norec @"$nsd" "$dom" SOA 2>/dev/null | awk '{print $3}')" = "$serial" ] && break
		sleep 0.02
	done
	[ "$i" -lt 250 ] || die "nsd did not load serial $serial of $dom"
	unbound-control -c "$D/unbound/unbound.conf" flush_zone "$dom" >/dev/null ||
		die "unbound-control flush_zone $dom failed"
	unbound-control -c "$D/unbound/unbound.conf" flush_bogus >/dev/null || true
	echo "mxworld: $dom now publishes id=$id (serial $serial)${pol:+, policy from $pol}"
}

case ${1:-} in
start) [ $# -eq 2 ] || die "usage: mxworld.sh start|stop|status DIR"; cmd_start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: mxworld.sh start|stop|status DIR"; cmd_stop "$2" ;;
status) [ $# -eq 2 ] || die "usage: mxworld.sh start|stop|status DIR"; cmd_status "$2" ;;
set-sts-id) [ $# -eq 4 ] || [ $# -eq 5 ] || die "usage: mxworld.sh set-sts-id DIR DOMAIN NEWID [POLICYFILE]"
	shift; cmd_set_sts_id "$@" ;;
*) die "usage: mxworld.sh start|stop|status DIR | set-sts-id DIR DOMAIN NEWID [POLICYFILE]" ;;
esac
