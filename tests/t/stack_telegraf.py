#!/usr/bin/env python3
# needs: mailstack
"""mail-e2e under a faithful stand-in for Telegraf's inputs.execd
(tests/lib/telegraf_execd.py) against the real stack: signal = STDIN for 20
intervals, signal = SIGUSR1, and signal = none with mail-e2e's own
interval.  One line per route per interval, zero parse errors, zero
unprefixed stderr lines, and a clean exit on stdin close (no SIGTERM)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, stack, stack_route, config_text, write_config, binary, check_no_leak  # noqa: E402
from telegraf_execd import Execd  # noqa: E402

env = stack()
routes = (stack_route(env, "tg1", user="carol"), stack_route(env, "tg2", smtp="smtps", imap="tls", user="carol"))


def check(report, what, want_lines):
    # On a mismatch, show each probe's total_time: a lost interval means a
    # cycle (with its cleanup) outlasted the interval and signals merged.
    T.ok(len(report.metrics) == want_lines, f"{what}: {want_lines} metrics (one per route per interval)",
         (len(report.metrics), [round(m[2].get("total_time", -1), 2) for m in report.metrics]))
    T.eq(report.parse_errors, [], f"{what}: zero line-protocol parse errors")
    T.eq(report.unprefixed, [], f"{what}: zero unprefixed stderr lines")
    T.eq(report.log["E"], [], f"{what}: no E! lines")
    T.eq(report.log["W"], [], f"{what}: no W! lines (none says signals merged)")
    T.ok(not report.needed_sigterm and report.exit_code == 0, f"{what}: exited 0 on stdin close, no SIGTERM",
         (report.exit_code, report.needed_sigterm))
    T.ok(all(m[1].get("result") == "success" for m in report.metrics), f"{what}: every probe succeeded",
         [m[1].get("result") for m in report.metrics])
    check_no_leak(what, "\n".join(report.lines), "\n".join(sum(report.log.values(), [])))


# Signals that arrive while a cycle runs merge into one (as Telegraf's own
# would be lost), so "one line per interval" needs an interval well above a
# cycle: ~0.7-0.85 s here with the junk watch and cleanup, more under ASan on
# a loaded machine (a 1 s SIGUSR1 interval lost one of 12 lines in CI).
INTERVAL = 2.0
cfg = write_config(config_text(*routes))
check(Execd([binary(), "-config", cfg], "STDIN", INTERVAL).run(20), "signal = STDIN, 20 intervals", 40)
check(Execd([binary(), "-config", cfg], "SIGUSR1", INTERVAL).run(6), "signal = SIGUSR1, 6 intervals", 12)
cfg2 = write_config(config_text(*routes, defaults={"interval": "2s"}))
r = Execd([binary(), "-config", cfg2], "none", INTERVAL).run(4)
# Cycles at 0, 2, 4, 6, 8 s and perhaps one at 10 s as stdin closes.
T.ok(8 <= len(r.metrics) <= 12, f"signal = none, interval = 2s: about 5 cycles in 10 s ({len(r.metrics) // 2})",
     (len(r.metrics), [round(m[2].get("total_time", -1), 2) for m in r.metrics]))
T.ok(not r.parse_errors and not r.unprefixed and not r.log["E"] and not r.log["W"]
     and r.exit_code == 0 and not r.needed_sigterm,
     "signal = none: clean lines, no E!/W! lines, clean exit on stdin close", (r.log["E"], r.log["W"], r.exit_code))
T.done()
