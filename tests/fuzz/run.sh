#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] - build every libFuzzer target with clang
# (ASan + UBSan) and run each for SECONDS (default 60); then the targets
# whose code takes no input from an uninstrumented library again under
# MemorySanitizer (reads of uninitialised bytes, which ASan misses), for
# half as long.  (The config target is left out there: inih is not built
# with MSan, so everything it hands us would look uninitialised.)  Prints the number of
# executions per target; exits non-zero if any target found a crash.  Crash
# inputs land in build/fuzz/crashes/; keep them as regression inputs under
# tests/fuzz/regress/TARGET/ (the test suite replays those).
set -u
cd "$(dirname "$0")/../.." || exit 2
SECONDS_PER_TARGET=${1:-60}
OUT=build/fuzz
mkdir -p "$OUT/crashes"
ASAN_FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 -D_DEFAULT_SOURCE -Iplugin"
MSAN_FLAGS="-g -O1 -fsanitize=fuzzer,memory -fsanitize-memory-track-origins -std=c11 -D_DEFAULT_SOURCE -Iplugin"
INIH="$(pkg-config --cflags --libs inih)"

# target name -> sources
declare -A SOURCES=(
	[imap]="tests/fuzz/fuzz_imap.c plugin/imap_parse.c plugin/imap_fetch.c plugin/imap_utf7.c"
	[config]="tests/fuzz/fuzz_config.c plugin/config.c plugin/config_line.c plugin/config_route.c plugin/config_loader.c plugin/config_print.c plugin/config_keys.c plugin/config_value.c plugin/headers.c plugin/mail_header.c plugin/result.c plugin/parse.c plugin/log.c plugin/probe_id.c plugin/sha256.c plugin/secret_file.c plugin/imap_utf7.c plugin/config_mx.c plugin/config_mx_route.c plugin/dns_rr.c plugin/config_rep.c plugin/spam.c plugin/spam_flag.c plugin/dnsbl.c"
	[smtp_trace]="tests/fuzz/fuzz_smtp.c plugin/conn.c plugin/conn_fail.c plugin/conn_mismatch.c plugin/smtp_reply.c plugin/log.c plugin/clock.c"
	[headers]="tests/fuzz/fuzz_headers.c plugin/headers.c plugin/mail_header.c"
	[dsn]="tests/fuzz/fuzz_dsn.c plugin/dsn.c plugin/mail_header.c"
	[json]="tests/fuzz/fuzz_json.c plugin/json.c"
	[spam]="tests/fuzz/fuzz_spam.c plugin/spam.c plugin/spam_flag.c plugin/mail_header.c"
	[dnsbl]="tests/fuzz/fuzz_dnsbl.c plugin/dnsbl.c plugin/mail_header.c"
	[mta_sts]="tests/fuzz/fuzz_mta_sts.c plugin/mta_sts.c plugin/dns_rr.c"
	[dns_rr]="tests/fuzz/fuzz_dns_rr.c plugin/dns_rr.c"
)

failed=0
# run_target NAME SOURCES FLAGS SECONDS LABEL
run_target() {
	local t=$1 src=$2 flags=$3 secs=$4 label=$5 libs log rc execs bin
	bin="$OUT/fuzz_$label"
	for f in $src; do [ -f "$f" ] || { echo "fuzz $label: missing $f"; failed=1; return; }; done
	libs="$INIH"
	[ "$t" = smtp_trace ] && libs="$libs $(pkg-config --libs libcurl libcrypto)"
	# shellcheck disable=SC2086
	if ! clang $flags -o "$bin" $src $libs; then
		echo "fuzz $label: build failed"; failed=1; return
	fi
	mkdir -p "$OUT/corpus/$t"
	[ -d "tests/fuzz/corpus/$t" ] && cp -n tests/fuzz/corpus/$t/* "$OUT/corpus/$t/" 2>/dev/null
	log="$OUT/fuzz_$label.log"
	# Crash inputs kept in tests/fuzz/regress/TARGET run first, every time.
	regress=()
	[ -d "tests/fuzz/regress/$t" ] && regress=("tests/fuzz/regress/$t")
	"$bin" -max_total_time="$secs" -max_len=4096 \
		-artifact_prefix="$OUT/crashes/$label-" -print_final_stats=1 \
		"$OUT/corpus/$t" "${regress[@]}" >"$log" 2>&1
	rc=$?
	execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
	if [ $rc -ne 0 ]; then
		echo "fuzz $label: CRASH after ${execs:-?} executions (log $log)"
		grep -m5 -E 'ERROR|WARNING|SUMMARY' "$log"
		failed=1
	else
		echo "fuzz $label: ${execs:-?} executions in ${secs}s, no crash"
	fi
}

for t in "${!SOURCES[@]}"; do
	run_target "$t" "${SOURCES[$t]}" "$ASAN_FLAGS" "$SECONDS_PER_TARGET" "$t"
done
for t in imap smtp_trace headers dsn json spam dnsbl mta_sts dns_rr; do
	run_target "$t" "${SOURCES[$t]}" "$MSAN_FLAGS" $(( (SECONDS_PER_TARGET + 1) / 2 )) "$t-msan"
done
exit $failed
