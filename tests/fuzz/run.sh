#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] - build every libFuzzer target with clang
# (ASan + UBSan) and run each for SECONDS (default 60).  Prints the number of
# executions per target; exits non-zero if any target found a crash.  Crash
# inputs land in build/fuzz/crashes/; keep them as regression inputs under
# tests/fuzz/regress/TARGET/ (the test suite replays those).
set -u
cd "$(dirname "$0")/../.." || exit 2
SECONDS_PER_TARGET=${1:-60}
OUT=build/fuzz
mkdir -p "$OUT/crashes"
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 -D_DEFAULT_SOURCE -Iplugin"
INIH="$(pkg-config --cflags --libs inih)"

# target name -> sources
declare -A SOURCES=(
	[imap]="tests/fuzz/fuzz_imap.c plugin/imap_parse.c"
	[config]="tests/fuzz/fuzz_config.c plugin/config.c plugin/parse.c plugin/log.c plugin/probe_id.c plugin/sha256.c plugin/token_file.c plugin/imap_parse.c"
	[smtp_trace]="tests/fuzz/fuzz_smtp.c plugin/conn.c plugin/log.c plugin/clock.c"
)

failed=0
for t in "${!SOURCES[@]}"; do
	src=${SOURCES[$t]}
	for f in $src; do [ -f "$f" ] || { echo "fuzz $t: missing $f"; failed=1; continue 2; }; done
	libs="$INIH"
	[ "$t" = smtp_trace ] && libs="$libs $(pkg-config --libs libcurl)"
	# shellcheck disable=SC2086
	if ! clang $CFLAGS -o "$OUT/fuzz_$t" $src $libs; then
		echo "fuzz $t: build failed"; failed=1; continue
	fi
	mkdir -p "$OUT/corpus/$t"
	[ -d "tests/fuzz/corpus/$t" ] && cp -n tests/fuzz/corpus/$t/* "$OUT/corpus/$t/" 2>/dev/null
	log="$OUT/fuzz_$t.log"
	# Crash inputs kept in tests/fuzz/regress/TARGET run first, every time.
	regress=()
	[ -d "tests/fuzz/regress/$t" ] && regress=("tests/fuzz/regress/$t")
	"$OUT/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 \
		-artifact_prefix="$OUT/crashes/$t-" -print_final_stats=1 \
		"$OUT/corpus/$t" "${regress[@]}" >"$log" 2>&1
	rc=$?
	execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
	if [ $rc -ne 0 ]; then
		echo "fuzz $t: CRASH after ${execs:-?} executions (log $log)"
		grep -m5 -E 'ERROR|SUMMARY' "$log"
		failed=1
	else
		echo "fuzz $t: ${execs:-?} executions in ${SECONDS_PER_TARGET}s, no crash"
	fi
done
exit $failed
