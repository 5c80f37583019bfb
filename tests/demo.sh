#!/usr/bin/env bash
# tests/demo.sh - the quick start's main job (`make demo`): start a private
# Postfix + Dovecot on loopback, probe it for a few cycles in streaming mode,
# exactly as Telegraf's inputs.execd would, print the lines, stop the stack.
# No outside account or network is needed.  Must run as root (Postfix's
# master process starts as root).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
CYCLES=${DEMO_CYCLES:-3}

# Its own ports (23000 + ...), so a demo and a test run can share a machine.
export MS_PORT_BASE=${MS_PORT_BASE:-23000}
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
	"$ROOT/mail-e2e" -config "$CONF"
echo "I! one more cycle with --once --format json:" >&2
"$ROOT/mail-e2e" -config "$CONF" --once --format json
