# tests/mailstack/common.sh - process helpers every stack script sources
# (mailstack.sh, cyrus.sh, courier.sh).  Sourced, not run.

# pid_of FILE: the PID in a pid file (first line, digits only), or nothing.
pid_of() { [ -s "$1" ] && head -1 "$1" | tr -dc 0-9; }

# alive PID: running and not a zombie (PID 1 here reaps orphans late).
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# stop_pid PID NAME [STEP]: SIGTERM, wait up to 100 steps of STEP seconds
# (default 0.1), then SIGKILL.
stop_pid() {
	local pid=$1 step=${3:-0.1} i
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do alive "$pid" || return 0; sleep "$step"; done
	echo "$(basename "$0" .sh): $2 ($pid) ignored SIGTERM, killing" >&2
	kill -KILL "$pid" 2>/dev/null || true
}
