#!/usr/bin/env bash
# variants: release
# The installs leave the machine's boot as it was (issue 21, tests/lib/units.sh):
# 1. units_disable_new against a fake systemctl and a fake unit list: exactly
#    the units enabled since the "before" list are disabled; units enabled
#    before stay; a unit that will not disable is an error naming it;
# 2. the same without systemctl (deb-systemd-helper's symlinks);
# 3. this machine: no unit of a package the scripts install (nor postfix,
#    dovecot, influxdb, nsd, opendkim, unbound, prometheus, rspamd) is
#    enabled unless it was before the install (build/units-enabled-before-
#    install, written by tests/install-deps.sh and .ci/run); `make demo`
#    installs only the demo's packages; .ci/run installs every test package.
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
. tests/lib/units.sh
n=0
fail=0
ok() {   # description, then a command that must succeed
	local desc=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; fail=1; fi
}
eq() {   # description, got, want
	n=$((n + 1))
	if [ "$2" = "$3" ]; then echo "ok $n - $1"; else
		echo "not ok $n - $1"; echo "#   got:  $(echo $2)"; echo "#   want: $(echo $3)"; fail=1; fi
}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# --- 1. a fake systemctl over a unit list ("UNIT STATE" lines) -------------
cat >"$T/systemctl" <<'EOF'
#!/usr/bin/env bash
# list-unit-files --state=enabled ... | disable UNIT (FAKE_STUCK: refuses)
case $1 in
list-unit-files)
	awk '$2 == "enabled" { print $1, $2, "enabled" }' "$FAKE_STATE" ;;
disable)
	echo "disable $2" >>"$FAKE_LOG"
	[ "$2" = "${FAKE_STUCK:-}" ] && exit 1
	awk -v u="$2" '$1 == u { $2 = "disabled" } { print }' "$FAKE_STATE" >"$FAKE_STATE.new" &&
		mv "$FAKE_STATE.new" "$FAKE_STATE" ;;
*) exit 1 ;;
esac
EOF
chmod +x "$T/systemctl"
export SYSTEMCTL=$T/systemctl FAKE_STATE=$T/state FAKE_LOG=$T/log

printf '%s\n' "e2scrub_reap.service enabled" "getty@.service enabled" "apt-daily.timer enabled" \
	"postgresql.service enabled" "dbus.service static" "rsync.service disabled" \
	"nginx.service masked" >"$FAKE_STATE"
units_enabled >"$T/before"
eq "units_enabled lists the enabled units, sorted" "$(cat "$T/before")" \
	"$(printf '%s\n' apt-daily.timer e2scrub_reap.service getty@.service postgresql.service)"
# "The install": postfix, dovecot, influxdb, nsd, a socket and a timer enabled.
printf '%s\n' "postfix.service enabled" "dovecot.service enabled" "influxdb.service enabled" \
	"nsd.service enabled" "dovecot.socket enabled" "man-db.timer enabled" >>"$FAKE_STATE"
: >"$FAKE_LOG"
units_disable_new "$T/before" 2>"$T/err"
eq "six units enabled by the install: exit 0" "$?" 0
eq "exactly those six are disabled, once each" "$(sort "$FAKE_LOG")" \
	"$(printf 'disable %s\n' dovecot.service dovecot.socket influxdb.service man-db.timer nsd.service postfix.service)"
eq "the units enabled before stay enabled, nothing else is" "$(units_enabled)" "$(cat "$T/before")"
ok "one I! line names them" grep -q '^I! disabled the units this install enabled.*postfix.service' "$T/err"
eq "static, disabled and masked units are not touched" \
	"$(grep -c -E '^(dbus.service static|rsync.service disabled|nginx.service masked)$' "$FAKE_STATE")" 3

# An admin's own postfix, enabled before, reinstalled: it stays enabled.
printf '%s\n' "postfix.service enabled" >>"$FAKE_STATE"
units_enabled >"$T/before2"
printf '%s\n' "opendkim.service enabled" >>"$FAKE_STATE"
: >"$FAKE_LOG"
units_disable_new "$T/before2" 2>/dev/null
eq "a unit enabled before the install is left enabled, the new one disabled" \
	"$(cat "$FAKE_LOG"):$(units_enabled | grep -c '^postfix.service$')" "disable opendkim.service:1"

: >"$FAKE_LOG"
units_disable_new "$T/before2" 2>"$T/err"
eq "nothing new: exit 0, no systemctl call, no output" "$?:$(cat "$FAKE_LOG"):$(cat "$T/err")" "0::"

printf '%s\n' "unbound.service enabled" "prometheus.service enabled" >>"$FAKE_STATE"
: >"$FAKE_LOG"
FAKE_STUCK=unbound.service units_disable_new "$T/before2" 2>"$T/err"
eq "a unit that stays enabled: exit 1" "$?" 1
ok "... with an E! line naming it" grep -q '^E! still enabled.*unbound.service' "$T/err"
ok "... and the others disabled all the same" sh -c "! grep -q '^prometheus.service enabled' '$FAKE_STATE'"

# --- 2. no systemctl: deb-systemd-helper's symlinks ------------------------
mkdir -p "$T/etc/multi-user.target.wants" "$T/etc/sockets.target.wants"
ln -s /lib/systemd/system/ssh.service "$T/etc/multi-user.target.wants/ssh.service"
cat >"$T/dsh" <<'EOF'
#!/bin/sh
[ "$1" = disable ] && rm -f "$UNITS_ETC"/*.wants/"$2"
EOF
chmod +x "$T/dsh"
(
	export SYSTEMCTL=$T/no-such-systemctl UNITS_ETC=$T/etc DEB_SYSTEMD_HELPER=$T/dsh
	units_enabled >"$T/before3"
	ln -s /lib/systemd/system/dovecot.service "$T/etc/multi-user.target.wants/dovecot.service"
	ln -s /lib/systemd/system/dovecot.socket "$T/etc/sockets.target.wants/dovecot.socket"
	units_disable_new "$T/before3" 2>/dev/null
	eq "no systemctl: the new symlinks are removed, the old one stays" \
		"$?:$(units_enabled | tr '\n' ' ')" "0:ssh.service "
	exit $fail
) || fail=1
n=$((n + 1))

# units_record keeps every list it was given.
units_record "$T/before" "$T" && units_record "$T/before2" "$T"
eq "units_record: the union of the 'before' lists" "$(cat "$T/build/units-enabled-before-install")" \
	"$(sort -u "$T/before" "$T/before2")"

# --- 3. this machine --------------------------------------------------------
unset SYSTEMCTL UNITS_ETC DEB_SYSTEMD_HELPER
all=$(tests/install-deps.sh --list)
demo=$(tests/install-deps.sh --list --demo)
eq "--demo installs a subset of the test packages" "$(comm -23 <(sort <<<"$demo") <(sort <<<"$all"))" ""
for p in postfix dovecot-imapd dovecot-lmtpd openssl python3 libcurl4-openssl-dev libinih-dev libunbound-dev dns-root-data; do
	ok "the demo installs $p" grep -qx "$p" <<<"$demo"
done
for p in valgrind clang influxdb prometheus nsd opendkim dovecot-sieve; do
	ok "the demo does not install $p (only make check does)" eval '! grep -qx "$p" <<<"$demo"' 
done
dry=$(make -n demo 2>/dev/null)
has() { grep -q -- "$1" <<<"$2"; }
ok "make demo installs with --demo only" eval 'has "install-deps.sh --demo" "$dry" && ! has "install-deps.sh\$" "$dry"'
lit=$(sed -n '/^DEMO_PACKAGES="/,/"$/p;/^TEST_PACKAGES="/,/"$/p' tests/install-deps.sh | tr -d '"' | sed 's/^[A-Z_]*=//')
missing_ci=""
for p in $lit; do grep -qw -- "$p" .ci/run || missing_ci="$missing_ci $p"; done
eq ".ci/run installs every package of tests/install-deps.sh" "$missing_ci" ""

ok "systemctl lists the enabled units here (systemd running or not)" test -n "$(units_enabled)"
rec=$ROOT/build/units-enabled-before-install
# The units of every installed package the scripts install, and the daemons
# named in issue 21 (some come from other branches' packages).
# Packages of a base system (essential, required, important: util-linux's
# fstrim.timer) were there, with their units, before any install of ours.
pkg_units=$(for p in $all; do
	case $(dpkg-query -W -f='${Essential}/${Priority}' "$p" 2>/dev/null) in
	yes/* | */required | */important) continue ;;
	esac
	dpkg -L "$p" 2>/dev/null
done |
	sed -n -E 's#^/(usr/)?lib/systemd/system/([^/]+\.(service|socket|timer|path))$#\2#p' | sort -u)
named="postfix.service dovecot.service influxdb.service nsd.service opendkim.service unbound.service
unbound-resolvconf.service prometheus.service rspamd.service"
enabled=$(units_enabled)
bad=""
for u in $(printf '%s\n' $pkg_units $named | sort -u); do
	grep -qx -- "$u" <<<"$enabled" || continue
	[ -f "$rec" ] && grep -qx -- "$u" "$rec" && continue
	bad="$bad $u"
done
echo "# $(wc -w <<<"$pkg_units") units of the packages checked; record: $([ -f "$rec" ] && echo "$rec" || echo none)"
eq "no unit of the project's packages is enabled unless it was before the install" "$bad" ""
exit $fail
