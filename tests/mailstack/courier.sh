#!/usr/bin/env bash
# tests/mailstack/courier.sh - a private OpenSMTPD + Courier IMAP on loopback,
# the second real mail stack for mail-e2e's scenario tests.  Never touches the
# machine's /etc, never starts a system daemon, never installs opensmtpd or
# courier-imap (they conflict with the installed Postfix and Dovecot): their
# .debs are downloaded and unpacked into build/servers/courier/root, and the
# servers run in a private mount namespace (unshare -m) in which
#   /usr  = overlay of the unpacked root's usr over the real /usr (read-only)
#   /etc  = overlay adding an empty courier/ over the real /etc (read-only),
#           with DIR/courier/etc bound on /etc/courier
#   /var  = overlay adding lib/opensmtpd/empty and spool/smtpd (read-only),
#           with DIR/smtpd/spool bound on /var/spool/smtpd
#   /run  = DIR/run (authdaemond's socket, the compiled-in
#           /run/courier/authdaemon/socket, and smtpctl's /run/smtpd.sock)
# because Courier's authlib and OpenSMTPD have those paths compiled in.
# Nothing of this is visible outside the namespace.  See courier.notes.md.
#
#   courier.sh start DIR     unpack (first time), render configs, make certs
#                            and users, start authdaemond, Courier IMAP and
#                            IMAPS, then OpenSMTPD; wait for every port; write
#                            DIR/env (KEY=VALUE lines)
#   courier.sh stop DIR      stop by PID, then kill whatever is left in the
#                            stack's mount namespace (idempotent)
#   courier.sh status DIR    exit 0 if every server runs
#
# DIR must be short (unix socket paths are limited to 108 bytes), e.g.
# $(mktemp -d /tmp/me2e.XXXXXX).  Ports: COURIER_PORT_BASE (default 25000) +
# 25 (SMTP, STARTTLS offered), 587 (submission: STARTTLS and AUTH required),
# 465 (smtps + AUTH), all on 127.0.0.1; 143 (IMAP, STARTTLS required) on
# 127.0.0.8 (not the client's address), 144 (the same with Debian's stock
# IMAP_ENHANCEDIDLE=0: IDLE reports new mail only every 60 s), 993 (IMAPS)
# on 127.0.0.1.  Domain courier.test, users alice bob carol junky slow;
# OpenSMTPD files all mail to junky@ into the Maildir folder .Junk, and
# delivers slow@'s mail only COURIER_SLOW_DELAY (5) seconds after accepting it.
set -eu
. "$(dirname "$0")/common.sh"

DOMAIN=courier.test
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SRV=$REPO/build/servers/courier
ROOT=$SRV/root
BASE=${COURIER_PORT_BASE:-25000}
P_SMTP=$((BASE + 25)) P_SUB=$((BASE + 587)) P_SMTPS=$((BASE + 465))
P_IMAP=$((BASE + 143)) P_IMAP_STOCK=$((BASE + 144)) P_IMAPS=$((BASE + 993))
HOST=127.0.0.1
IMAP_HOST=127.0.0.8   # not the client's address: STARTTLS is really required
USERS="alice bob carol junky slow"
SLOW_DELAY=${COURIER_SLOW_DELAY:-5}   # seconds OpenSMTPD holds slow@'s mail
MAIL_UID=8 MAIL_GID=8 # the "mail" user owns every Maildir; imapd runs as it
DEBS="opensmtpd courier-imap courier-base courier-authlib courier-authdaemon courier-authlib-userdb"

die() { echo "courier: $*" >&2; exit 1; }

# --- the unpacked servers ---------------------------------------------------

deb_of() {   # PACKAGE: the newest cached .deb of it
	local f
	for f in "$SRV/debs/$1"_*.deb; do echo "$f"; done | sort -V | tail -1
}

unpack() {
	[ -x "$ROOT/usr/sbin/smtpd" ] && [ -x "$ROOT/usr/bin/imapd" ] &&
		[ -e "$ROOT/usr/lib/courier-authlib/libauthuserdb.so" ] && return 0
	mkdir -p "$SRV/debs"
	(
		flock 9
		[ -x "$ROOT/usr/sbin/smtpd" ] && [ -x "$ROOT/usr/bin/imapd" ] &&
			[ -e "$ROOT/usr/lib/courier-authlib/libauthuserdb.so" ] && exit 0
		cd "$SRV/debs"
		local p want=
		for p in $DEBS; do
			ls "${p}"_*.deb >/dev/null 2>&1 || want+=" $p"
		done
		if [ -n "$want" ]; then
			# shellcheck disable=SC2086
			if ! apt-get download -q -o APT::Sandbox::User=root $want >download.log 2>&1; then
				# No package lists yet (a fresh machine): fetch them once.
				apt-get update -q >>download.log 2>&1 || true
				# shellcheck disable=SC2086
				apt-get download -q -o APT::Sandbox::User=root $want >>download.log 2>&1 ||
					{ cat download.log >&2; die "apt-get download$want failed"; }
			fi
		fi
		rm -rf "$ROOT.new"
		mkdir -p "$ROOT.new"
		for p in $DEBS; do
			dpkg-deb -x "$(deb_of "$p")" "$ROOT.new"
		done
		rm -rf "$ROOT"
		mv "$ROOT.new" "$ROOT"
	) 9>"$SRV/.unpack.lock"
}

# Debian 12's OpenSMTPD 6.8.0p2 cannot complete a TLS handshake with OpenSSL
# 3 (upstream issues #1171, #1239: "EVP lib" / "missing private key"): its
# network process hands libssl the certificate's public key as a stand-in
# private key, and marks the legacy RSA copy so that the RSA privsep engine
# asks the "ca" process to sign.  OpenSSL 3 signs with the provider-native
# key instead, which has no private half.  This preload wraps
# SSL_CTX_use_PrivateKey and passes libssl a legacy EVP_PKEY around that
# marked RSA object, so signing goes through the engine again.  Only
# OpenSMTPD's stand-in keys (RSA with ex_data 0 set) are touched.
# (Static-RSA key exchange still fails; every client picks ECDHE first.)
shim() {
	local so=$SRV/smtpd_tls_shim.so src=$SRV/smtpd_tls_shim.c
	mkdir -p "$SRV"
	cat >"$src.new" <<'C'
#define _GNU_SOURCE
#define OPENSSL_SUPPRESS_DEPRECATED
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>

int SSL_CTX_use_PrivateKey(SSL_CTX *ctx, EVP_PKEY *pkey)
{
	static int (*real)(SSL_CTX *, EVP_PKEY *);
	EVP_PKEY *legacy;
	RSA *rsa;
	int ret;

	if (real == NULL)
		real = (int (*)(SSL_CTX *, EVP_PKEY *))dlsym(RTLD_NEXT, "SSL_CTX_use_PrivateKey");
	if (real == NULL)
		return 0;
	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		return real(ctx, pkey);
	rsa = EVP_PKEY_get1_RSA(pkey);
	if (rsa == NULL || RSA_get_ex_data(rsa, 0) == NULL) {
		RSA_free(rsa);
		return real(ctx, pkey);
	}
	legacy = EVP_PKEY_new();
	if (legacy == NULL || !EVP_PKEY_assign_RSA(legacy, rsa)) {
		EVP_PKEY_free(legacy);
		RSA_free(rsa);
		return real(ctx, pkey);
	}
	ret = real(ctx, legacy);
	EVP_PKEY_free(legacy);
	return ret;
}
C
	if [ -e "$so" ] && cmp -s "$src" "$src.new"; then rm -f "$src.new"; return 0; fi
	mv "$src.new" "$src"
	command -v cc >/dev/null || die "no C compiler for the OpenSMTPD TLS shim (courier.deps: gcc libssl-dev)"
	cc -shared -fPIC -O2 -Wall -o "$so.tmp" "$src" -ldl -lssl -lcrypto ||
		die "could not build the OpenSMTPD TLS shim (courier.deps: gcc libssl-dev)"
	mv "$so.tmp" "$so"
}

check_libs() {
	local f miss=
	for f in "$ROOT/usr/sbin/smtpd" "$ROOT/usr/bin/imapd" "$ROOT/usr/sbin/couriertcpd" \
		"$ROOT/usr/bin/couriertls" "$ROOT/usr/lib/courier/courier/imaplogin" \
		"$ROOT/usr/lib/courier/courier-authlib/authdaemond" \
		"$ROOT/usr/lib/courier-authlib/libauthuserdb.so"; do
		miss+=$(LD_LIBRARY_PATH=$ROOT/usr/lib ldd "$f" 2>&1 | grep 'not found' || true)
	done
	[ -z "$miss" ] || die "unpacked servers miss libraries (apt-get install the packages in tests/mailstack/courier.deps):
$miss"
}

# --- state ------------------------------------------------------------------

make_certs() {
	local t=$1/tls
	mkdir -p "$t"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3 \
		-subj "/CN=mail-e2e courier test CA" -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
	# RSA: OpenSMTPD 6.8's privsep signing cannot work with an ECDSA key
	# under OpenSSL 3 (see shim).  Making an RSA key takes 0.1-1 s, so one
	# is kept in build/servers/courier and reused; the certificate (and the
	# CA) are new for every start.
	if [ ! -s "$SRV/server-rsa.key" ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$SRV/server-rsa.key.$$" 2>/dev/null
		chmod 600 "$SRV/server-rsa.key.$$"
		mv "$SRV/server-rsa.key.$$" "$SRV/server-rsa.key"
	fi
	install -m 600 "$SRV/server-rsa.key" "$t/server.key"
	openssl req -new -key "$t/server.key" -subj "/CN=localhost" -out "$t/server.csr" 2>/dev/null
	printf 'subjectAltName=DNS:localhost,DNS:mail.%s,IP:%s,IP:%s\n' "$DOMAIN" "$HOST" "$IMAP_HOST" >"$t/san.ext"
	openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
		-CAcreateserial -days 2 -extfile "$t/san.ext" -out "$t/server.pem" 2>/dev/null
	# couriertls wants key and certificate in one file.
	cat "$t/server.key" "$t/server.pem" >"$t/courier.pem"
	chmod 644 "$t/ca.pem" "$t/server.pem"
	chmod 600 "$t/ca.key" "$t/server.key"
	# couriertls reads it after dropping to user courier.
	chown root:courier "$t/courier.pem"
	chmod 640 "$t/courier.pem"
}

make_users() {
	local d=$1 u pw
	: >"$d/courier/etc/userdb"
	: >"$d/smtpd/creds"
	: >"$d/smtpd/userbase"
	: >"$d/passwords"
	chmod 600 "$d/courier/etc/userdb" "$d/smtpd/creds" "$d/passwords"
	for u in $USERS; do
		pw=$(openssl rand -hex 12)
		mkdir -p "$d/mail/$u/Maildir/cur" "$d/mail/$u/Maildir/new" "$d/mail/$u/Maildir/tmp" \
			"$d/mail/$u/Maildir/.Junk/cur" "$d/mail/$u/Maildir/.Junk/new" "$d/mail/$u/Maildir/.Junk/tmp"
		: >"$d/mail/$u/Maildir/.Junk/maildirfolder"
		# Courier: userdb with a crypt(3) SHA-512 hash (what userdbpw makes).
		printf '%s\tuid=%s|gid=%s|home=%s|mail=%s|systempw=%s\n' "$u" "$MAIL_UID" "$MAIL_GID" \
			"$d/mail/$u" "$d/mail/$u/Maildir" "$(printf '%s' "$pw" | openssl passwd -6 -stdin)" \
			>>"$d/courier/etc/userdb"
		# OpenSMTPD: AUTH credentials (smtpctl encrypt) and its user base.
		printf '%s %s\n' "$u" "$(printf '%s\n' "$pw" | "$ROOT/usr/libexec/opensmtpd/encrypt")" >>"$d/smtpd/creds"
		printf '%s %s:%s:%s\n' "$u" "$MAIL_UID" "$MAIL_GID" "$d/mail/$u" >>"$d/smtpd/userbase"
		echo "CO_PASSWORD_$u=$pw" >>"$d/passwords"
	done
	chown -R "$MAIL_UID:$MAIL_GID" "$d/mail"
}

render_courier() {
	local d=$1 e=$1/courier/etc
	cat >"$e/authdaemonrc" <<CONF
# Private authdaemond for mail-e2e tests (read from the compiled-in
# /etc/courier/authdaemonrc, which is $e in the stack's namespace).
authmodulelist="authuserdb"
authmodulelistorig="authuserdb"
daemons=3
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=${COURIER_DEBUG_LOGIN:-0}
DEFAULTOPTIONS=""
LOGGEROPTS=""
CONF
	# The environment of couriertcpd, imaplogin and imapd (what Debian's
	# /etc/courier/imapd and imapd-ssl set).
	cat >"$e/imapd.env" <<CONF
PATH=/usr/bin:/bin:/usr/sbin:/sbin
IMAP_CAPABILITY="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"
IMAP_CAPABILITY_TLS="\$IMAP_CAPABILITY AUTH=PLAIN"
IMAP_KEYWORDS=1
IMAP_ACL=1
IMAP_PROXY=0
IMAP_IDLE_TIMEOUT=60
IMAP_MAILBOX_SANITY_CHECK=1
IMAP_DISABLETHREADSORT=0
IMAP_CHECK_ALL_FOLDERS=0
IMAP_OBSOLETE_CLIENT=0
IMAP_UMASK=022
IMAP_USELOCKS=1
IMAP_ENHANCEDIDLE=${COURIER_ENHANCEDIDLE:-1}
IMAP_TRASHFOLDERNAME=Trash
IMAP_EMPTYTRASH=
IMAP_MOVE_EXPUNGE_TO_TRASH=0
IMAP_SHAREDINDEXFILE=$e/shared/index
HEADERFROM=X-IMAP-Sender
SENDMAIL=/bin/false
MAILDIRPATH=Maildir
IMAP_STARTTLS=YES
IMAP_TLS_REQUIRED=1
COURIERTLS=/usr/bin/couriertls
TLS_PROTOCOL=TLS1_2+
TLS_STARTTLS_PROTOCOL=TLS1_2+
TLS_CERTFILE=$d/tls/courier.pem
TLS_TRUSTCERTS=$d/tls/ca.pem
TLS_VERIFYPEER=NONE
TLS_CACHEFILE=
CONF
}

render_smtpd() {
	local d=$1 s=$1/smtpd
	cat >"$d/smtpd.conf" <<CONF
# Private OpenSMTPD for mail-e2e tests: local domain $DOMAIN only.
pki mail.$DOMAIN cert "$d/tls/server.pem"
pki mail.$DOMAIN key "$d/tls/server.key"

table creds file:$s/creds
table users file:$s/userbase

listen on $HOST port $P_SMTP tls pki mail.$DOMAIN hostname mail.$DOMAIN
listen on $HOST port $P_SUB tls-require pki mail.$DOMAIN auth <creds> hostname mail.$DOMAIN
listen on $HOST port $P_SMTPS smtps pki mail.$DOMAIN auth <creds> hostname mail.$DOMAIN

# The users' Maildirs, served by Courier IMAP; junky@'s mail goes to Junk,
# the way a spam filter would file it.
action "junk" maildir "~/Maildir/.Junk" userbase <users>
action "local" maildir "~/Maildir" userbase <users>
# slow@'s mail lands $SLOW_DELAY s after the 250, like a slow content filter:
# a probe then has to wait for it in IDLE or by polling.
action "slow" mda "sleep $SLOW_DELAY; exec /usr/libexec/opensmtpd/mail.maildir %{user.directory}/Maildir" userbase <users>

match from any for domain "$DOMAIN" rcpt-to "junky@$DOMAIN" action "junk"
match from any for domain "$DOMAIN" rcpt-to "slow@$DOMAIN" action "slow"
match from any for domain "$DOMAIN" action "local"
# Everything else matches no rule and is refused at RCPT: nothing leaves.
CONF
}

# --- inside the mount namespace ---------------------------------------------

ns_start() {   # runs as "unshare -m --propagation private courier.sh _ns DIR"
	local d=$1 n=$1/ns
	mount -t overlay overlay -o "ro,lowerdir=$ROOT/usr:/usr" /usr
	mount -t overlay overlay -o "ro,lowerdir=$n/etc:/etc" /etc
	mount --bind "$d/courier/etc" /etc/courier
	mount -t overlay overlay -o "ro,lowerdir=$n/var:/var" /var
	mount --bind "$d/smtpd/spool" /var/spool/smtpd
	mount --bind "$d/run" /run
	readlink /proc/self/ns/mnt >"$d/run/mntns"

	# Courier's userdb: /etc/courier/userdb{,shadow}.dat, compiled in.
	makeuserdb -f /etc/courier/userdb >"$d/log/makeuserdb.log" 2>&1 ||
		{ cat "$d/log/makeuserdb.log" >&2; return 1; }

	mkdir -p /run/courier/authdaemon
	setsid /usr/lib/courier/courier-authlib/authdaemond </dev/null >>"$d/log/authdaemond.log" 2>&1 &
	echo $! >"$d/run/authdaemond.pid"

	set -a
	# shellcheck disable=SC1091
	. /etc/courier/imapd.env
	set +a
	setsid /usr/sbin/couriertcpd -address=$IMAP_HOST -maxprocs=100 -maxperip=100 \
		-nodnslookup -noidentlookup -stderr="$d/log/imapd.log" \
		"$P_IMAP" /usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir \
		</dev/null >>"$d/log/couriertcpd.log" 2>&1 &
	echo $! >"$d/run/imapd.pid"
	# Debian's stock setting IMAP_ENHANCEDIDLE=0: no FAM, so a client in
	# IDLE hears of new mail only every IMAP_IDLE_TIMEOUT (60) seconds.
	IMAP_ENHANCEDIDLE=0 setsid /usr/sbin/couriertcpd -address=$IMAP_HOST -maxprocs=100 -maxperip=100 \
		-nodnslookup -noidentlookup -stderr="$d/log/imapd-stockidle.log" \
		"$P_IMAP_STOCK" /usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir \
		</dev/null >>"$d/log/couriertcpd-stockidle.log" 2>&1 &
	echo $! >"$d/run/imapd-stockidle.pid"
	IMAP_TLS=1 IMAP_STARTTLS=NO setsid /usr/sbin/couriertcpd -address=$HOST -maxprocs=100 -maxperip=100 \
		-nodnslookup -noidentlookup -stderr="$d/log/imapd-ssl.log" \
		"$P_IMAPS" /usr/bin/couriertls -server -tcpd \
		/usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir \
		</dev/null >>"$d/log/couriertcpd-ssl.log" 2>&1 &
	echo $! >"$d/run/imapd-ssl.pid"

	# -d: stay in the foreground and log to stderr (there is no syslog).
	LD_PRELOAD=$SRV/smtpd_tls_shim.so setsid /usr/sbin/smtpd -d -f "$d/smtpd.conf" \
		</dev/null >>"$d/log/smtpd.log" 2>&1 &
	echo $! >"$d/run/smtpd.pid"
}

# --- commands ---------------------------------------------------------------

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {   # DIR host port seconds; gives up at once if a server died
	local end=$((SECONDS + $4))
	while [ $SECONDS -lt $end ]; do
		port_open "$2" "$3" && return 0
		cmd_status "$1" || return 1
		sleep 0.02
	done
	return 1
}

show_logs() {
	local d=$1 f
	for f in "$d"/log/*.log; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -30 "$f" >&2; }
	done
	return 0
}

add_system_user() {   # NAME HOME: useradd --system, retried while another
	local i                # stack's useradd holds the passwd lock
	getent passwd "$1" >/dev/null && return 0
	for ((i = 0; i < 20; i++)); do
		useradd --system --no-create-home --home-dir "$2" --shell /usr/sbin/nologin "$1" 2>/dev/null &&
			return 0
		getent passwd "$1" >/dev/null && return 0
		sleep 0.2
	done
	die "could not create system user $1 (useradd)"
}

ensure_users() {
	# OpenSMTPD (Debian build) drops privileges to opensmtpd / opensmtpq.
	add_system_user opensmtpd /var/lib/opensmtpd/empty
	add_system_user opensmtpq /var/lib/opensmtpd/empty
	# Courier's imaplogin runs couriertls for STARTTLS as user "courier"
	# (getpwnam("courier"), compiled in): without it STARTTLS fails.
	add_system_user courier /var/lib/courier
	getent group courier >/dev/null || die "no group courier"
}

versions() {
	CO_SMTPD_VERSION=$(dpkg-deb -f "$(deb_of opensmtpd)" Version 2>/dev/null || echo unknown)
	CO_COURIER_VERSION=$(dpkg-deb -f "$(deb_of courier-imap)" Version 2>/dev/null || echo unknown)
	CO_AUTHLIB_VERSION=$(dpkg-deb -f "$(deb_of courier-authlib)" Version 2>/dev/null || echo unknown)
}

cmd_start() {
	local d=$1
	[ ${#d} -le 40 ] || die "state dir path too long for unix sockets: $d"
	[ "$(id -u)" = 0 ] || die "must run as root (mount namespace, privileged ports of the servers)"
	command -v unshare >/dev/null || die "unshare (util-linux) is missing"
	cmd_stop "$d" >/dev/null 2>&1 || true
	unpack
	check_libs
	shim
	ensure_users
	mkdir -p "$d"
	d=$(cd "$d" && pwd)
	rm -rf "$d/courier" "$d/smtpd" "$d/mail" "$d/tls" "$d/run" "$d/log" "$d/ns" "$d/env" "$d/passwords"
	mkdir -p "$d/courier/etc/shared" "$d/smtpd/spool" "$d/mail" "$d/run" "$d/log" \
		"$d/ns/etc/courier" "$d/ns/var/lib/opensmtpd/empty" "$d/ns/var/spool/smtpd"
	chmod 755 "$d" "$d/mail" "$d/courier" "$d/courier/etc" "$d/run"
	chmod 711 "$d/smtpd/spool"
	make_certs "$d"
	make_users "$d"
	render_courier "$d"
	render_smtpd "$d"

	local hp
	for hp in "$IMAP_HOST $P_IMAP" "$IMAP_HOST $P_IMAP_STOCK" "$HOST $P_IMAPS" "$HOST $P_SMTP" "$HOST $P_SUB" "$HOST $P_SMTPS"; do
		# shellcheck disable=SC2086
		if port_open $hp; then
			die "port ${hp#* } on ${hp% *} is already in use (another stack? COURIER_PORT_BASE moves all ports)"
		fi
	done
	unshare -m --propagation private "$0" _ns "$d" </dev/null >"$d/log/ns.log" 2>&1 ||
		{ show_logs "$d"; cmd_stop "$d"; die "could not set up the mount namespace or start the servers"; }
	for hp in "$IMAP_HOST $P_IMAP" "$IMAP_HOST $P_IMAP_STOCK" "$HOST $P_IMAPS" "$HOST $P_SMTP" "$HOST $P_SUB" "$HOST $P_SMTPS"; do
		# shellcheck disable=SC2086
		wait_port "$d" $hp 20 || { show_logs "$d"; cmd_stop "$d"; die "port $hp never opened"; }
	done
	cmd_status "$d" || { show_logs "$d"; cmd_stop "$d"; die "a server died during start"; }
	[ -S "$d/run/courier/authdaemon/socket" ] ||
		{ show_logs "$d"; cmd_stop "$d"; die "authdaemond socket never appeared"; }
	versions
	{
		echo "CO_DIR=$d"
		echo "CO_HOST=$HOST"
		echo "CO_DOMAIN=$DOMAIN"
		echo "CO_CA=$d/tls/ca.pem"
		echo "CO_CERT=$d/tls/server.pem"
		echo "CO_SMTP_PORT=$P_SMTP"
		echo "CO_SUBMISSION_PORT=$P_SUB"
		echo "CO_SMTPS_PORT=$P_SMTPS"
		echo "CO_IMAP_HOST=$IMAP_HOST"
		echo "CO_IMAP_PORT=$P_IMAP"
		echo "CO_IMAP_STOCKIDLE_PORT=$P_IMAP_STOCK"
		echo "CO_IMAPS_PORT=$P_IMAPS"
		echo "CO_USERS=${USERS// /,}"
		echo "CO_JUNK_USER=junky"
		echo "CO_JUNK_MAILBOX=INBOX.Junk"
		echo "CO_SLOW_USER=slow"
		echo "CO_SLOW_DELAY=$SLOW_DELAY"
		echo "CO_MAILDIR=$d/mail"
		echo "CO_SMTPD_VERSION=$CO_SMTPD_VERSION"
		echo "CO_COURIER_IMAP_VERSION=$CO_COURIER_VERSION"
		echo "CO_COURIER_AUTHLIB_VERSION=$CO_AUTHLIB_VERSION"
		cat "$d/passwords"
	} >"$d/env"
	chmod 600 "$d/env"
	echo "courier: up in $d (SMTP $P_SMTP/$P_SUB/$P_SMTPS, IMAP $IMAP_HOST:$P_IMAP, IMAPS $P_IMAPS)"
}


SERVERS="smtpd imapd imapd-stockidle imapd-ssl authdaemond"

our_pid() {   # DIR NAME: the server's PID if it runs in the stack's namespace
	local pid ns
	pid=$(pid_of "$1/run/$2.pid") || return 1
	alive "$pid" || return 1
	ns=$(cat "$1/run/mntns" 2>/dev/null) || return 1
	[ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$ns" ] || return 1
	echo "$pid"
}

ns_pids() {   # every live process in the stack's mount namespace
	local ns=$1 p
	[ -n "$ns" ] || return 0
	# One stat for all of /proc (a readlink per process takes ~0.3 s).
	for p in $(stat -c '%n %N' /proc/[0-9]*/ns/mnt 2>/dev/null |
		awk -v ns="'$ns'" '$4 == ns { split($1, a, "/"); print a[3] }'); do
		alive "$p" && echo "$p"
	done
	return 0
}

cmd_stop() {
	local d=$1 pid ns name i left
	[ -d "$d" ] || return 0
	ns=$(cat "$d/run/mntns" 2>/dev/null || true)
	# A PID counts only while it is still in the stack's namespace (a
	# recycled PID is someone else's process).  All servers get SIGTERM at
	# once (OpenSMTPD takes ~0.5 s to shut down, and nothing here depends
	# on the order), then whatever ignores it for 2 s gets SIGKILL.
	local pids=
	for name in $SERVERS; do
		pid=$(our_pid "$d" "$name") && pids+=" $pid"
	done
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			left=
			for pid in $pids; do alive "$pid" && left+=" $pid"; done
			[ -n "$left" ] || break
			sleep 0.02
		done
		if [ -n "$left" ]; then
			echo "courier: ignored SIGTERM, killing:$left" >&2
			# shellcheck disable=SC2086
			kill -KILL $left 2>/dev/null || true
		fi
	fi
	# Children left behind (imapd sessions, couriertls, gam_server, smtpd
	# helpers): whatever still runs in the stack's own mount namespace.
	# Never our own namespace: a stale mntns file must not kill the caller.
	if [ -n "$ns" ] && [ "$ns" != "$(readlink /proc/self/ns/mnt)" ]; then
		for ((i = 0; i < 50; i++)); do
			left=$(ns_pids "$ns")
			[ -n "$left" ] || break
			# shellcheck disable=SC2086
			kill -KILL $left 2>/dev/null || true
			sleep 0.02
		done
	fi
	rm -f "$d/run/mntns"
	return 0
}

cmd_status() {
	local d=$1 name
	for name in $SERVERS; do
		our_pid "$d" "$name" >/dev/null || return 1
	done
}

case ${1:-} in
_ns) [ $# -eq 2 ] || exit 2; ns_start "$2" ;;
start) [ $# -eq 2 ] || die "usage: courier.sh start|stop|status DIR"; cmd_start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: courier.sh start|stop|status DIR"; cmd_stop "$2" ;;
status) [ $# -eq 2 ] || die "usage: courier.sh start|stop|status DIR"; cmd_status "$2" ;;
*) die "usage: courier.sh start|stop|status DIR" ;;
esac
