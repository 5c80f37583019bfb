# shellcheck shell=bash
# tests/lib/units.sh - leave the machine's boot as it was (sourced by
# tests/install-deps.sh and .ci/run; not run).
#
# Installing postfix, dovecot, influxdb, nsd, opendkim, prometheus ... enables
# their systemd units: at the next boot they would start system-wide (InfluxDB
# 1.x on port 8086 without authentication).  mail-e2e's tests and demo run
# private instances only, so every unit an install enabled that was not
# enabled before is disabled again afterwards:
#
#   units_enabled > FILE       the enabled unit files, one per line, sorted
#   units_disable_new FILE     disable every unit enabled now that FILE does
#                              not list; prints one I! line naming them;
#                              returns 1 (with an E! line) if one stays enabled
#   units_record FILE ROOT     add FILE's units to ROOT/build/units-enabled-
#                              before-install, the record tests/t/units.sh
#                              checks the machine against
#
# `systemctl disable` edits the symlinks also where systemd is not PID 1 (a
# container, a chroot, this project's build machine: `systemctl
# is-system-running` says "offline" there and disable still works).  Without
# systemctl at all (an image without systemd), deb-systemd-helper (package
# init-system-helpers, essential) made the symlinks in
# /etc/systemd/system/*.wants and removes them.
#
# SYSTEMCTL, DEB_SYSTEMD_HELPER and UNITS_ETC (default /etc/systemd/system)
# exist so that tests/t/units.sh can run these functions against fakes.

units_systemctl() {
	local s=${SYSTEMCTL-systemctl}
	[ -n "$s" ] && command -v "$s" >/dev/null 2>&1 && echo "$s"
}

units_enabled() {
	local s
	if s=$(units_systemctl); then
		"$s" list-unit-files --state=enabled --no-legend --no-pager 2>/dev/null |
			awk '$2 == "enabled" { print $1 }' | LC_ALL=C sort -u
	else
		find "${UNITS_ETC:-/etc/systemd/system}" -mindepth 2 -maxdepth 2 \
			-path '*.wants/*' -type l -printf '%f\n' 2>/dev/null | LC_ALL=C sort -u
	fi
}

# units_new BEFORE: enabled now, not listed in BEFORE.
units_new() { units_enabled | LC_ALL=C comm -13 <(LC_ALL=C sort -u "$1") -; }

units_disable_new() {
	local before=$1 s u new left done_=""
	new=$(units_new "$before")
	[ -n "$new" ] || return 0
	s=$(units_systemctl) || s=""
	for u in $new; do
		if [ -n "$s" ]; then
			"$s" disable "$u" >/dev/null 2>&1
		else
			"${DEB_SYSTEMD_HELPER:-deb-systemd-helper}" disable "$u" >/dev/null 2>&1
		fi
	done
	# Judged by the list, not by exit codes: what counts is what stays enabled.
	left=$(units_new "$before")
	for u in $new; do
		case " $(tr '\n' ' ' <<<"$left") " in *" $u "*) ;; *) done_="$done_ $u" ;; esac
	done
	[ -n "$done_" ] &&
		echo "I! disabled the units this install enabled (mail-e2e runs private instances):$done_" >&2
	if [ -n "$left" ]; then
		echo "E! still enabled after the install, disable by hand (systemctl disable UNIT):" "$(tr '\n' ' ' <<<"$left")" >&2
		return 1
	fi
	return 0
}

units_record() {
	local rec=$2/build/units-enabled-before-install
	mkdir -p "$2/build" || return 1
	{ cat "$1"; [ -f "$rec" ] && cat "$rec"; } | LC_ALL=C sort -u >"$rec.tmp" && mv -f "$rec.tmp" "$rec"
}
