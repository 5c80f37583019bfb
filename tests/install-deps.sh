#!/usr/bin/env bash
# tests/install-deps.sh - install the Debian packages mail-e2e needs, if any
# is missing.  A no-op when all are there.
#
#   tests/install-deps.sh           everything `make check` needs (build,
#                                   tests, benchmarks, the demo)
#   tests/install-deps.sh --demo    only what `make demo` needs: the build,
#                                   Postfix, Dovecot, OpenSSL, Python
#   tests/install-deps.sh --list [--demo]   print the package names
#
# The machine is left as it was: the mail server packages would start
# system-wide daemons on install, which a temporary /usr/sbin/policy-rc.d
# that exits 101 stops (an existing one is left alone), and every systemd
# unit the install enabled that was not enabled before is disabled again
# (tests/lib/units.sh).  Our tests and the demo run private instances only.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
. "$HERE/lib/units.sh"

# The demo: build the program, run a private Postfix + Dovecot
# (tests/mailstack/mailstack.sh) and the Telegraf stand-in (Python).
# libunbound-dev: our own DNSSEC-validating lookups (SPEC §12); its .pc
# file requires libevent's and nettle's, which libunbound-dev does not
# pull in (libevent-dev, nettle-dev); libssl-dev: DANE and the MX
# certificate checks (and the TLS mode checks, conn_mismatch.c);
# dns-root-data: the system's DNSSEC root key.
DEMO_PACKAGES="build-essential pkg-config libcurl4-openssl-dev libinih-dev
libunbound-dev libevent-dev nettle-dev libssl-dev dns-root-data
ca-certificates openssl python3 procps iproute2 postfix dovecot-imapd
dovecot-lmtpd"
# The tests add: the sanitizers and valgrind, Sieve for the junk mailbox,
# groff for the man pages, a real InfluxDB and promtool (Prometheus) for the
# output and contrib/, and the libraries of the servers that run unpacked
# (Cyrus, Exim, Courier, OpenSMTPD, NSD ...: tests/mailstack/NAME.deps).
TEST_PACKAGES="curl valgrind clang libclang-rt-14-dev dovecot-sieve groff-base
influxdb prometheus universal-ctags"

which=all list=0
while [ $# -gt 0 ]; do
	case $1 in
	--demo) which=demo ;;
	--list) list=1 ;;
	*) echo "usage: tests/install-deps.sh [--demo] [--list]" >&2; exit 64 ;;
	esac
	shift
done
PACKAGES=$DEMO_PACKAGES
if [ "$which" = all ]; then
	PACKAGES="$PACKAGES $TEST_PACKAGES $(cat "$HERE"/mailstack/*.deps 2>/dev/null | tr '\n' ' ')"
fi
if [ "$list" = 1 ]; then
	# shellcheck disable=SC2086
	printf '%s\n' $PACKAGES | awk '!seen[$0]++'
	exit 0
fi

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "E! missing Debian packages:$missing" >&2
	echo "E! run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

made_policy=0
units_before=$(mktemp)
units_enabled >"$units_before"
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi
# Also when apt-get fails half-way: what it enabled so far is disabled again.
cleanup() {
	local rc=$?
	if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
	units_disable_new "$units_before" || rc=1
	units_record "$units_before" "$ROOT" || true
	rm -f "$units_before"
	exit $rc
}
trap cleanup EXIT

echo "I! installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# postfix asks how it is used; "No configuration" keeps /etc/postfix inert.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $missing
