# tests/mailstack/common.sh - helpers every stack script sources
# (mailstack.sh, cyrus.sh, courier.sh, domains.sh, mxworld.sh).  Sourced, not
# run; the caller defines die().

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

# wait_file PATH SECONDS: until PATH is there and not empty.
wait_file() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		[ -s "$1" ] && return 0
		sleep 0.02
	done
	return 1
}

# download_debs DIR: apt-get download "${DEBS[@]}" into DIR, log in
# DIR/download.log.
download_debs() {
	local dir=$1 try
	: >"$dir/download.log"
	for try in 1 2 3 4 5; do
		(cd "$dir" && apt-get download "${DEBS[@]}" >>"$dir/download.log" 2>&1) && return 0
		# No package lists yet (fresh image): fetch them once and retry.
		# Another stack's script may hold apt's lock meanwhile: try again.
		if [ "$try" = 1 ]; then
			apt-get update -q >>"$dir/download.log" 2>&1 || true
		else
			sleep 2
		fi
	done
	cat "$dir/download.log" >&2
	die "apt-get download ${DEBS[*]} failed"
}

# compile_shim SOURCE OUTPUT: an LD_PRELOAD library, built again when
# SOURCE is newer than OUTPUT.
compile_shim() {
	local src=$1 out=$2
	[ -s "$out" ] && [ "$out" -nt "$src" ] && return 0
	${CC:-cc} -shared -fPIC -O2 -o "$out.tmp" "$src" || die "cannot compile $src (a C compiler is needed)"
	mv "$out.tmp" "$out"
}
