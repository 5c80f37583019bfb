#!/usr/bin/env bash
# tests/demo.sh - the quick start's main job (`make demo`): start a private
# Postfix + Dovecot on loopback, probe it for a few cycles in streaming mode,
# exactly as Telegraf's inputs.execd would, print the lines, stop the stack.
# No outside account or network is needed.  Must run as root (Postfix's
# master process starts as root).
#
#   tests/demo.sh            the demo; the stack is stopped at the end
#   tests/demo.sh --keep     the same, then the stack keeps running, with
#                            ready configuration files and commands to try
#                            (`make demo KEEP=1`)
#   tests/demo.sh --stop [DIR]   stop a kept stack by PID and remove its
#                            directory (`make demo-stop`); DIR defaults to
#                            the one the last --keep recorded
#
# Environment: DEMO_CYCLES (3), DEMO_BIN (./mail-e2e), MS_PORT_BASE (23000),
# DEMO_KEPT (build/demo-kept: where --keep records the kept stack's DIR).
# shellcheck disable=SC2154  # MS_*: from the stack's env file
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
CYCLES=${DEMO_CYCLES:-3}
BIN=${DEMO_BIN:-$ROOT/mail-e2e}
KEPT=${DEMO_KEPT:-$ROOT/build/demo-kept}
# Its own ports (23000 + ...), so a demo and a test run can share a machine.
export MS_PORT_BASE=${MS_PORT_BASE:-23000}

stop_kept() {
	local dir=${1:-}
	[ -n "$dir" ] || dir=$(cat "$KEPT" 2>/dev/null) ||
		{ echo "E! no kept demo stack recorded in $KEPT; give its directory" >&2; exit 1; }
	case $dir in /tmp/me2e-demo.*) ;; *)
		echo "E! $dir is not a demo stack directory (/tmp/me2e-demo.*)" >&2; exit 1 ;;
	esac
	[ -d "$dir" ] || { echo "I! $dir is gone already" >&2; rm -f "$KEPT"; exit 0; }
	tests/mailstack/mailstack.sh stop "$dir"
	if tests/mailstack/mailstack.sh status "$dir"; then
		echo "E! the stack in $dir still runs" >&2
		exit 1
	fi
	rm -rf "$dir"
	[ "$(cat "$KEPT" 2>/dev/null)" = "$dir" ] && rm -f "$KEPT"
	echo "I! demo stack in $dir stopped" >&2
}

# --keep: one ready file per experiment, each a [defaults] block (the
# demo's accounts) and one route that goes wrong in a known way.
try_file() {   # DIR NAME COMMENT ROUTE-KEYS...
	local f=$1/try-$2.conf name=$2 comment=$3 demo=$1/demo.conf
	shift 3
	{
		printf '%s\n' "$comment" | fold -s -w 74 | sed 's/^/; /; s/ *$//' 
		sed -n '/^\[defaults\]/,/^$/p' "$demo"
		printf '[%s]\n' "$name"
		printf '%s\n' "$@"
	} >"$f"
}

try_configs() {
	local d=$1
	try_file "$d" wrong-password \
		"A wrong SMTP password: result=smtp_auth_failed (4), the server's 535 in error." \
		"smtp_port = $MS_SUBMISSION_PORT" "smtp_tls = starttls" "smtp_password = not-the-password" \
		"imap_host = $MS_HOST" "imap_port = $MS_IMAPS_PORT" "imap_tls = tls"
	try_file "$d" tls-mismatch \
		"Implicit TLS (smtp_tls = tls) on the submission port, which speaks STARTTLS. Fix: smtp_tls = starttls, or smtp_port = $MS_SMTPS_PORT." \
		"smtp_port = $MS_SUBMISSION_PORT" "smtp_tls = tls" \
		"imap_host = $MS_HOST" "imap_port = $MS_IMAPS_PORT" "imap_tls = tls"
	try_file "$d" held \
		"Postfix holds all mail to held@ (the HOLD rule in $d/postfix/etc/hold): sent, never delivered, result=timeout. Released (postsuper -H), it lands late: the next run counts it in late." \
		"to = held@$MS_DOMAIN" "imap_username = held" "imap_password = $MS_PASSWORD_held" \
		"timeout = 5s" "smtp_port = $MS_SUBMISSION_PORT" "smtp_tls = starttls" \
		"imap_host = $MS_HOST" "imap_port = $MS_IMAPS_PORT" "imap_tls = tls"
}

try_print() {
	local d=$1 b=$BIN
	[ "$BIN" = "$ROOT/mail-e2e" ] && b=./mail-e2e
	cat <<TRY

The demo's Postfix + Dovecot keep running on 127.0.0.1 (state, configuration
and passwords in $d). Now try this:

  $b -c $d/demo.conf --once          # both routes: result=success
  $b -c $d/demo.conf --once --trace  # the whole dialogue, secrets as ***
  $b -c $d/try-wrong-password.conf --once   # smtp_auth_failed
  $b -c $d/try-tls-mismatch.conf --once     # smtp_tls = tls on a STARTTLS port
  $b -c $d/try-held.conf --once      # Postfix holds it: timeout after 5 s
  postsuper -c $d/postfix/etc -H ALL && postqueue -c $d/postfix/etc -f   # release it
  $b -c $d/try-held.conf --once      # the released probe is counted: late=1i

Each file says what it shows; edit them and run again.  Under Telegraf:
contrib/telegraf.d/mail-e2e.conf with "-config", "$d/demo.conf".

Stop it:  make demo-stop    (or: tests/demo.sh --stop $d)
TRY
}

keep=0
case ${1:-} in
--stop) stop_kept "${2:-}"; exit 0 ;;
--keep) keep=1 ;;
"") ;;
*) echo "usage: tests/demo.sh [--keep | --stop [DIR]]" >&2; exit 64 ;;
esac

# A kept stack holds the ports: say so instead of probing the wrong stack.
if old=$(cat "$KEPT" 2>/dev/null) && tests/mailstack/mailstack.sh status "$old" 2>/dev/null; then
	echo "E! a kept demo stack runs in $old: stop it first with 'make demo-stop'" >&2
	exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$((MS_PORT_BASE + 587))") 2>/dev/null; then
	echo "E! port $((MS_PORT_BASE + 587)) is in use (another demo?); MS_PORT_BASE moves the demo's ports" >&2
	exit 1
fi

STACK=$(mktemp -d /tmp/me2e-demo.XXXXXX)
stop() { tests/mailstack/mailstack.sh stop "$STACK" >/dev/null 2>&1 || true; rm -rf "$STACK"; }
trap stop EXIT

echo "I! starting a private Postfix + Dovecot on loopback in $STACK" >&2
tests/mailstack/mailstack.sh start "$STACK" >"$STACK.log" 2>&1 || {
	cat "$STACK.log" >&2; rm -f "$STACK.log"; exit 1; }
rm -f "$STACK.log"
# shellcheck disable=SC1091
. "$STACK/env"

CONF=$STACK/demo.conf
umask 077
cat >"$CONF" <<CONF
[defaults]
tls_ca = $MS_CA
timeout = 20s
from = alice@$MS_DOMAIN
to = bob@$MS_DOMAIN
smtp_host = $MS_HOST
smtp_username = alice
smtp_password = $MS_PASSWORD_alice
imap_username = bob
imap_password = $MS_PASSWORD_bob

; submission port: STARTTLS + AUTH; IMAP with STARTTLS (IDLE)
[starttls]
smtp_port = $MS_SUBMISSION_PORT
smtp_tls = starttls
imap_host = ${MS_IMAP_HOST:-$MS_HOST}
imap_port = $MS_IMAP_PORT
imap_tls = starttls

; implicit TLS on both legs
[implicit-tls]
smtp_port = $MS_SMTPS_PORT
smtp_tls = tls
imap_host = $MS_HOST
imap_port = $MS_IMAPS_PORT
imap_tls = tls
CONF

echo "I! $CYCLES cycles in streaming mode, driven the way Telegraf's inputs.execd drives it:" >&2
python3 tests/lib/telegraf_execd.py --signal STDIN --interval 2 --count "$CYCLES" -- \
	"$BIN" -config "$CONF"
echo "I! one more cycle with --once --format json:" >&2
"$BIN" -config "$CONF" --once --format json

[ "$keep" = 1 ] || exit 0
try_configs "$STACK"
mkdir -p "$(dirname "$KEPT")"
echo "$STACK" >"$KEPT"
trap - EXIT
try_print "$STACK"
