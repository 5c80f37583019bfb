#!/usr/bin/env bash
# tests/run.sh - run every test of mail-e2e and print one summary line.
#
# Usage: tests/run.sh [-k SUBSTRING]...     (run only tests whose name matches)
#
# What runs, in order:
#   1. the C unit tests (build/release/unit/*, then build/asan/unit/*);
#   2. every scenario test tests/t/*.sh|*.py, once per binary variant in
#      $MAIL_E2E_VARIANTS (default "release asan": ./mail-e2e and the
#      ASan+UBSan build).  Tests whose header says "needs: mailstack" get a
#      private Postfix + Dovecot, started once here and stopped by PID at exit.
#      Two lanes run at once: the tests that use a shared stack or fixed
#      ports ("# needs: ..." or "# serial: yes") one after another, all
#      others ($TEST_JOBS at a time, default 1) beside them.  The suite's
#      time is printed at the end.
# Every test speaks TAP ("ok N - ..." / "not ok N - ..."); a test that exits
# non-zero, or reports no check at all, counts as a failure, never a skip.
# The last line is "N passed, N failed"; the exit status is 0 only if nothing
# failed.
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
OUT=$ROOT/tests/out
rm -rf "$OUT" && mkdir -p "$OUT"

filters=()
while [ $# -gt 0 ]; do
	case $1 in
	-k) filters+=("$2"); shift 2 ;;
	*) echo "usage: tests/run.sh [-k SUBSTRING]..." >&2; exit 64 ;;
	esac
done

selected() {
	[ ${#filters[@]} -eq 0 ] && return 0
	local f
	for f in "${filters[@]}"; do
		case $1 in *"$f"*) return 0 ;; esac
	done
	return 1
}

SUITE_START=$(date +%s)
RES=$OUT/results
mkdir -p "$RES"
seq_no=0

# run_one NAME LOGFILE CMD... : run a test, count its TAP lines, print its
# PASS/FAIL line and leave "pass fail" in $RES (read by the summary), so
# that tests running side by side add up.
run_one() {
	local name=$1 log=$2; shift 2
	local start end rc pass fail secs res
	seq_no=$((seq_no + 1))
	res=$(printf '%s/%04d' "$RES" "$seq_no")
	start=$(date +%s.%N)
	timeout -k 10 900 "$@" >"$log" 2>&1 </dev/null
	rc=$?
	end=$(date +%s.%N)
	pass=$(grep -c '^ok ' "$log")
	fail=$(grep -c '^not ok ' "$log")
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	if [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
		echo "not ok - $name reported no checks (exit $rc)" >>"$log"
	elif [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
		echo "not ok - $name exited $rc" >>"$log"
	fi
	echo "$pass $fail $name" >"$res"
	if [ "$fail" -eq 0 ]; then
		printf 'PASS %-40s %4d checks  %6ss\n' "$name" "$pass" "$secs"
	else
		{
			printf 'FAIL %-40s %4d ok, %d not ok  %6ss  (log: %s)\n' \
				"$name" "$pass" "$fail" "$secs" "${log#"$ROOT"/}"
			grep '^not ok' "$log" | head -20 | sed 's/^/     /'
		}
	fi
}

# A failure of the runner itself (a stack that does not start, a binary
# missing): counted like a failed check.
runner_fail() {
	seq_no=$((seq_no + 1))
	echo "not ok - $1"
	printf '0 1 %s\n' "$2" >"$(printf '%s/%04d' "$RES" "$seq_no")"
}

# --- 1. unit tests --------------------------------------------------------
for variant in release asan; do
	for bin in build/$variant/unit/test_*; do
		[ -x "$bin" ] || continue
		name="unit/$(basename "$bin") [$variant]"
		selected "$name" || continue
		run_one "$name" "$OUT/unit-$variant-$(basename "$bin").log" "$bin"
	done
done
if ! ls build/release/unit/test_* >/dev/null 2>&1; then
	runner_fail "no unit test binaries: run 'make check', not tests/run.sh alone" "unit tests"
fi

# --- 2. scenario tests ----------------------------------------------------
# A test's "# needs: mailstack cyrus ..." line names the private servers it
# needs; each is tests/mailstack/NAME.sh (start|stop DIR), started once here,
# all at the same time, and stopped by PID at exit.  A stack whose script says
# "# after: mailstack" (an MTA that delivers into the Dovecot of the main
# stack) starts once that one is up.  Each exports NAME_ENV=DIR/env
# (MAILSTACK_ENV, CYRUS_ENV, ...).  A stack that does not start fails loudly:
# its tests then fail for want of it, never skip.
tests=()
needed=" "
for t in tests/t/*.sh tests/t/*.py; do
	[ -f "$t" ] || continue
	selected "$(basename "$t")" || continue
	tests+=("$t")
	for w in $(sed -n 's/^# needs: //p' "$t" | head -1); do
		[[ $needed == *" $w "* ]] || needed="$needed$w "
	done
done

declare -A STACK_DIRS=()
stop_stacks() {
	local name
	for name in "${!STACK_DIRS[@]}"; do
		tests/mailstack/"$name".sh stop "${STACK_DIRS[$name]}" >/dev/null 2>&1
		rm -rf "${STACK_DIRS[$name]}"
	done
	STACK_DIRS=()
}
trap stop_stacks EXIT
trap 'stop_stacks; exit 130' INT TERM

# start_stacks NAME... : start them in parallel, export NAME_ENV for each up.
start_stacks() {
	local name pids=() names=() i var
	for name in "$@"; do
		if [ ! -x "tests/mailstack/$name.sh" ]; then
			runner_fail "a test needs stack '$name': no tests/mailstack/$name.sh" "stack $name"
			continue
		fi
		STACK_DIRS[$name]=$(mktemp -d /tmp/me2e.XXXXXX)
		tests/mailstack/"$name".sh start "${STACK_DIRS[$name]}" \
			>"$OUT/$name-start.log" 2>&1 &
		pids+=($!)
		names+=("$name")
	done
	for i in "${!pids[@]}"; do
		name=${names[$i]}
		var=$(echo "$name" | tr 'a-z-' 'A-Z_')_ENV
		if wait "${pids[$i]}"; then
			echo "stack $name up in ${STACK_DIRS[$name]}"
			export "$var=${STACK_DIRS[$name]}/env"
		else
			runner_fail "could not start the private $name stack (log: tests/out/$name-start.log)" "stack $name"
			tail -20 "$OUT/$name-start.log" | sed 's/^/     /'
			unset "$var"
		fi
	done
}

first=() later=()
for name in $needed; do
	if grep -q '^# after: mailstack' "tests/mailstack/$name.sh" 2>/dev/null; then
		later+=("$name")
		[[ $needed == *" mailstack "* ]] || needed="$needed""mailstack "
	else
		first+=("$name")
	fi
done
[ ${#later[@]} -gt 0 ] && [[ " ${first[*]} " != *" mailstack "* ]] && first+=(mailstack)
[ ${#first[@]} -gt 0 ] && start_stacks "${first[@]}"
[ ${#later[@]} -gt 0 ] && start_stacks "${later[@]}"

export TESTS_ROOT=$ROOT
export PYTHONDONTWRITEBYTECODE=1

# variant_env VARIANT: the binary and sanitizer settings of one build.
variant_env() {
	case $1 in
	release) export MAIL_E2E=$ROOT/build/release/mail-e2e
	         unset ASAN_OPTIONS UBSAN_OPTIONS ;;
	asan) export MAIL_E2E=$ROOT/build/asan/mail-e2e
	      export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
	      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 ;;
	*) echo "unknown variant $1" >&2; exit 2 ;;
	esac
	export MAIL_E2E_VARIANT=$1
}

# run_test FILE VARIANT: one scenario test, unless its header limits it
# ("# variants: release": valgrind and the fuzzers bring their own
# instrumentation).
run_test() {
	local t=$1 variant=$2 want name log
	want=$(sed -n 's/^# variants: //p' "$t" | head -1)
	if [ -n "$want" ] && [[ " $want " != *" $variant "* ]]; then
		return
	fi
	variant_env "$variant"
	name="$(basename "$t") [$variant]"
	log="$OUT/$(basename "$t")-$variant.log"
	case $t in
	*.py) run_one "$name" "$log" python3 "$t" ;;
	*) run_one "$name" "$log" bash "$t" ;;
	esac
}

serial=() free=()
for t in "${tests[@]}"; do
	if grep -q '^# needs: \|^# serial: yes' "$t"; then
		serial+=("$t")
	else
		free+=("$t")
	fi
done
variants=${MAIL_E2E_VARIANTS:-release asan}
for variant in $variants; do
	case $variant in release) bin=build/release/mail-e2e ;; asan) bin=build/asan/mail-e2e ;;
	*) echo "unknown variant $variant" >&2; exit 2 ;; esac
	[ -x "$bin" ] || runner_fail "$bin is missing: run 'make check'" "build $variant"
done

# The serial lane: one test at a time (shared stacks, fixed ports).
(
	seq_no=1000
	for variant in $variants; do
		for t in "${serial[@]}"; do
			run_test "$t" "$variant"
		done
	done
) &
serial_pid=$!
# The free lane: TEST_JOBS tests at a time.
(
	seq_no=5000
	jobs_max=${TEST_JOBS:-1}
	for variant in $variants; do
		for t in "${free[@]}"; do
			while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
				wait -n 2>/dev/null || sleep 0.1
			done
			seq_no=$((seq_no + 10))
			run_test "$t" "$variant" &
		done
	done
	wait
) &
free_pid=$!
wait "$serial_pid" "$free_pid"

stop_stacks
total_pass=0 total_fail=0 failed_names=()
for f in "$RES"/*; do
	[ -f "$f" ] || continue
	read -r p n name <"$f"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + n))
	[ "$n" -gt 0 ] && failed_names+=("$name")
done
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "suite time: $(( $(date +%s) - SUITE_START )) s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
