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

total_pass=0
total_fail=0
failed_names=()

# run_one NAME LOGFILE CMD... : run a test, count its TAP lines.
run_one() {
	local name=$1 log=$2; shift 2
	local start end rc pass fail secs
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
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	if [ "$fail" -eq 0 ]; then
		printf 'PASS %-40s %4d checks  %6ss\n' "$name" "$pass" "$secs"
	else
		printf 'FAIL %-40s %4d ok, %d not ok  %6ss  (log: %s)\n' \
			"$name" "$pass" "$fail" "$secs" "${log#"$ROOT"/}"
		grep '^not ok' "$log" | head -20 | sed 's/^/     /'
		failed_names+=("$name")
	fi
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
	echo "not ok - no unit test binaries: run 'make check', not tests/run.sh alone"
	total_fail=$((total_fail + 1))
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
			echo "not ok - a test needs stack '$name': no tests/mailstack/$name.sh"
			total_fail=$((total_fail + 1))
			failed_names+=("stack $name")
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
			echo "not ok - could not start the private $name stack (log: tests/out/$name-start.log)"
			tail -20 "$OUT/$name-start.log" | sed 's/^/     /'
			total_fail=$((total_fail + 1))
			failed_names+=("stack $name")
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
for variant in ${MAIL_E2E_VARIANTS:-release asan}; do
	case $variant in
	release) export MAIL_E2E=$ROOT/build/release/mail-e2e ;;
	asan) export MAIL_E2E=$ROOT/build/asan/mail-e2e
	      export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
	      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 ;;
	*) echo "unknown variant $variant" >&2; exit 2 ;;
	esac
	if [ ! -x "$MAIL_E2E" ]; then
		echo "not ok - $MAIL_E2E is missing: run 'make check'"
		total_fail=$((total_fail + 1))
		continue
	fi
	export MAIL_E2E_VARIANT=$variant
	for t in "${tests[@]}"; do
		# "# variants: release" limits a test to some builds (valgrind and
		# the fuzzers bring their own instrumentation).
		want=$(sed -n 's/^# variants: //p' "$t" | head -1)
		if [ -n "$want" ] && [[ " $want " != *" $variant "* ]]; then
			continue
		fi
		name="$(basename "$t") [$variant]"
		log="$OUT/$(basename "$t")-$variant.log"
		case $t in
		*.py) run_one "$name" "$log" python3 "$t" ;;
		*) run_one "$name" "$log" bash "$t" ;;
		esac
	done
	unset ASAN_OPTIONS UBSAN_OPTIONS
done

stop_stacks
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
