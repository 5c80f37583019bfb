#!/usr/bin/env bash
# tests/install-deps.sh - install the Debian packages mail-e2e needs to build,
# test, benchmark and demo, if any is missing.  A no-op when all are there.
#
# The mail server packages would start system-wide daemons on install; a
# temporary /usr/sbin/policy-rc.d that exits 101 stops that (an existing one
# is left alone).  Our tests run their own private instances instead.
set -eu

PACKAGES="build-essential pkg-config libcurl4-openssl-dev libinih-dev
ca-certificates openssl curl python3 procps iproute2 valgrind clang
libclang-rt-14-dev postfix dovecot-imapd dovecot-lmtpd dovecot-sieve groff-base
influxdb"
# The libraries of the servers that run unpacked (Cyrus, Exim, Courier,
# OpenSMTPD: tests/mailstack/NAME.sh), one package per line.
PACKAGES="$PACKAGES $(cat "$(dirname "$0")"/mailstack/*.deps 2>/dev/null | tr '\n' ' ')"

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
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

# Units these packages enable on install (nsd, unbound and its resolvconf
# hook, which would point the machine's resolver at Unbound after a reboot):
# the tests run private instances, so any that was not enabled before is
# disabled again.
UNITS="nsd.service unbound.service unbound-resolvconf.service"
was_enabled=""
if command -v systemctl >/dev/null; then
	for u in $UNITS; do
		[ "$(systemctl is-enabled "$u" 2>/dev/null)" = enabled ] && was_enabled="$was_enabled $u"
	done
fi

echo "I! installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# postfix asks how it is used; "No configuration" keeps /etc/postfix inert.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

if command -v systemctl >/dev/null; then
	for u in $UNITS; do
		case " $was_enabled " in *" $u "*) continue ;; esac
		if [ "$(systemctl is-enabled "$u" 2>/dev/null)" = enabled ]; then
			if systemctl disable "$u" >/dev/null 2>&1; then echo "I! disabled $u (the tests run their own)" >&2; fi
		fi
	done
fi
