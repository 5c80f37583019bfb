#!/usr/bin/env bash
# tests/bench/run.sh - `make bench`: see tests/bench/bench.py.
cd "$(dirname "$0")/../.." || exit 2
exec python3 tests/bench/bench.py "$@"
