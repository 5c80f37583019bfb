#!/usr/bin/env bash
# variants: release
# make install into a DESTDIR, run the installed binary, check the man pages
# and the sample config's mode, then make uninstall leaves no file behind.
cd "$(dirname "$0")/../.." || exit 2
n=0
fail=0
check() {   # description, then a command that must succeed
	local desc=$1; shift
	n=$((n + 1))
	if "$@" >/dev/null 2>&1; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; fail=1; fi
}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
check "make install PREFIX=/usr DESTDIR=..." make -s install PREFIX=/usr DESTDIR="$dest"
check "binary installed, executable" test -x "$dest/usr/bin/mail-e2e"
check "installed binary runs (--version)" "$dest/usr/bin/mail-e2e" --version
check "mail-e2e(1) installed" test -f "$dest/usr/share/man/man1/mail-e2e.1"
check "mail-e2e.conf(5) installed" test -f "$dest/usr/share/man/man5/mail-e2e.conf.5"
check "man pages render" sh -c "groff -man -Tutf8 '$dest/usr/share/man/man1/mail-e2e.1' | grep -q 'end-to-end' || man -l '$dest/usr/share/man/man1/mail-e2e.1' | grep -q 'end-to-end'"
check "sample config installed with mode 0600" test "$(stat -c %a "$dest/usr/share/doc/mail-e2e/mail-e2e.conf.sample")" = 600
check "make uninstall" make -s uninstall PREFIX=/usr DESTDIR="$dest"
check "uninstall leaves no file" test -z "$(find "$dest" -type f)"
exit $fail
