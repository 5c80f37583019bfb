#!/usr/bin/env bash
# variants: release
# make install into a DESTDIR (PREFIX=/usr, then PREFIX=/opt/me2e): the
# binary runs, the man pages render, the sample lands where the program
# looks (/etc/mail-e2e/mail-e2e.conf.sample, 0644, the same as sample.conf;
# the directory created); a user's own mail-e2e.conf and the directory's
# mode survive install and uninstall; the program, pointed at the missing
# config, names the sample; make uninstall runs twice, and leaves no file of
# ours behind.
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
conf=$dest/etc/mail-e2e

# -o all: install what make check built; a source edited while the suite
# runs must not rebuild the binaries other tests are using.
check "make install PREFIX=/usr DESTDIR=..." make -s -o all install PREFIX=/usr DESTDIR="$dest"
check "binary installed, executable" test -x "$dest/usr/bin/mail-e2e"
check "installed binary runs (--version)" "$dest/usr/bin/mail-e2e" --version
check "mail-e2e(1) installed" test -f "$dest/usr/share/man/man1/mail-e2e.1"
check "mail-e2e.conf(5) installed" test -f "$dest/usr/share/man/man5/mail-e2e.conf.5"
check "man pages render" sh -c "groff -man -Tutf8 '$dest/usr/share/man/man1/mail-e2e.1' | grep -q 'end-to-end' || man -l '$dest/usr/share/man/man1/mail-e2e.1' | grep -q 'end-to-end'"
check "/etc/mail-e2e created, mode 0755" test "$(stat -c %a "$conf")" = 755
check "sample where the program looks: /etc/mail-e2e/mail-e2e.conf.sample" cmp sample.conf "$conf/mail-e2e.conf.sample"
check "sample mode 0644 (placeholders, no secret)" test "$(stat -c %a "$conf/mail-e2e.conf.sample")" = 644
check "no mail-e2e.conf written (that one is the user's)" test ! -e "$conf/mail-e2e.conf"
check "README and LICENSE in the doc directory" test -f "$dest/usr/share/doc/mail-e2e/README.md" -a -f "$dest/usr/share/doc/mail-e2e/LICENSE"
check "no file outside DESTDIR's /usr and /etc/mail-e2e" test -z "$(find "$dest" -type f ! -path "$dest/usr/*" ! -path "$conf/*")"
out=$("$dest/usr/bin/mail-e2e" -c "$conf/mail-e2e.conf" --check-config 2>&1); rc=$?
check "config missing: exit 78" test "$rc" = 78
check "config missing: the message names the sample to start from" \
	grep -qF "start from $conf/mail-e2e.conf.sample: copy it to $conf/mail-e2e.conf" <<<"$out"

# The user's own config and the directory's mode survive.
printf '# mine\n' >"$conf/mail-e2e.conf"
chmod 0600 "$conf/mail-e2e.conf"
chmod 0750 "$conf"
check "install again over a user's config" make -s -o all install PREFIX=/usr DESTDIR="$dest"
check "the user's mail-e2e.conf untouched by install" test "$(cat "$conf/mail-e2e.conf")" = "# mine"
check "the directory's mode 0750 kept by install" test "$(stat -c %a "$conf")" = 750
check "make uninstall" make -s uninstall PREFIX=/usr DESTDIR="$dest"
check "make uninstall again (nothing left to remove)" make -s uninstall PREFIX=/usr DESTDIR="$dest"
check "the user's mail-e2e.conf kept by uninstall" test "$(cat "$conf/mail-e2e.conf")" = "# mine"
check "uninstall leaves only the user's file" test "$(find "$dest" -type f)" = "$conf/mail-e2e.conf"
rm -f "$conf/mail-e2e.conf"
check "make uninstall a third time" make -s uninstall PREFIX=/usr DESTDIR="$dest"
check "then /etc/mail-e2e is gone too" test ! -e "$conf"
check "uninstall leaves no file" test -z "$(find "$dest" -type f)"

# PREFIX moves the program and the man pages, not the configuration.
check "make install PREFIX=/opt/me2e" make -s -o all install PREFIX=/opt/me2e DESTDIR="$dest"
check "PREFIX: binary under it" test -x "$dest/opt/me2e/bin/mail-e2e"
check "PREFIX: man page under it" test -f "$dest/opt/me2e/share/man/man5/mail-e2e.conf.5"
check "PREFIX: the sample still in /etc/mail-e2e" test -f "$conf/mail-e2e.conf.sample"
check "PREFIX: make uninstall" make -s uninstall PREFIX=/opt/me2e DESTDIR="$dest"
check "PREFIX: uninstall leaves no file" test -z "$(find "$dest" -type f)"
exit $fail
