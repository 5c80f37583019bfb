#!/usr/bin/env bash
# variants: release
# Runs every libFuzzer target (tests/fuzz/run.sh) for FUZZ_SECONDS each
# (default 5: a smoke run in `make check`, after the replay of every corpus
# and regression input; `make fuzz` runs them for 60 s each) and reports one
# TAP line per target.  A crash
# is a failure; its input lands in build/fuzz/crashes/ to be kept as a
# regression input under tests/fuzz/regress/TARGET/.
cd "$(dirname "$0")/../.." || exit 2
n=0
fail=0
while read -r line; do
	case $line in
	"fuzz "*)
		n=$((n + 1))
		if [[ $line == *"no crash"* ]]; then
			echo "ok $n - $line"
		else
			echo "not ok $n - $line"
			fail=1
		fi ;;
	*) echo "# $line" ;;
	esac
done < <(tests/fuzz/run.sh "${FUZZ_SECONDS:-5}" 2>&1)
[ "$n" -eq 19 ] || { echo "not ok $((n + 1)) - expected 19 fuzz runs (10 ASan, 9 MSan), saw $n"; fail=1; }
exit $fail
