#!/usr/bin/env python3
# needs: mailstack
"""Telegraf execd streaming behaviour against the real stack: end of stdin
in the middle of a cycle, signal merging (and its W! line), bursts while
idle, a signal that comes with end of stdin, SIGUSR1/SIGHUP/SIGUSR2 triggers,
SIGTERM during a cycle, a closed stdout, and a huge stdin line."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, stack, stack_route, config_text, write_config, Stream, by_probe, binary, run  # noqa: E402


def pump_for(stream, seconds):
    """Read the process's output for exactly `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        stream._pump(end - time.monotonic())


env = stack()
fast = stack_route(env, "fast")
# Mail to held@ waits in Postfix's hold queue: a probe that runs until timeout.
slow = stack_route(env, "slow", user="held", timeout="30s")

# 1. stdin closes while a cycle runs: exit 0 within shutdown_grace (+ margin),
#    the finished route wrote its line, the abandoned one none.
s = Stream(write_config(config_text(fast, slow, defaults={"shutdown_grace": "2s"})))
s.signal("\n")
T.ok(s.wait_lines(1, 20), "mid-cycle: the fast route's line arrives while the slow one waits")
t0 = time.monotonic()
s.close_stdin()
rc = s.wait_exit(10)
elapsed = time.monotonic() - t0
T.eq(rc, 0, "mid-cycle: exit status 0 after end of stdin")
T.ok(elapsed < 5, f"mid-cycle: exited {elapsed:.2f}s after end of stdin (< 5 s)", elapsed)
T.ok(elapsed >= 1.5, "mid-cycle: the running cycle got its shutdown_grace first", elapsed)
T.eq([by_probe(l) and list(by_probe(l))[0] for l in s.lines], ["fast"], "mid-cycle: abandoned route wrote no line")
T.ok("abandoned" in s.err, "mid-cycle: a W! line says a route was abandoned", s.err)
s.finish("mid-cycle stdin close")

# 2. A burst of signals during a cycle merges into one pending cycle.
s = Stream(write_config(config_text(stack_route(env, "merge", user="held", timeout="2s"))))
s.signal("\n")
time.sleep(0.3)
s.signal("\n" * 10000)          # 10 000 signal lines while the cycle runs
T.ok(s.wait_lines(2, 15), "merge: the running cycle and one merged cycle both report")
time.sleep(3)                   # would be room for more cycles if they were queued
s._pump(0.1)
T.eq(len(s.lines), 2, "merge: 10 000 signals during a cycle give one extra cycle, not 10 000")
merged = [l for l in s.err.splitlines() if "merged into this cycle" in l]
T.eq(merged, ["W! 9999 signal(s) merged into this cycle: they came while one was running (interval shorter than a cycle?)"],
     "merge: one W! line counts the 9 999 signals that got no cycle of their own")
s.close_stdin()
T.eq(s.wait_exit(10), 0, "merge: clean exit")
s.finish("signal burst")

# 2b. Self-scheduled ticks (interval) that pass while a cycle runs merge too,
#     and the cycle that serves them says so.
#     Ticks at 1 s (pending) and 2 s (merged) pass during a 2.5 s cycle.
s = Stream(write_config(config_text(stack_route(env, "ticks", user="held", timeout="2500ms"),
                                    defaults={"interval": "1s"})))
T.ok(s.wait_lines(2, 15), "interval merge: a 2.5 s cycle, then the merged one, both report")
s.close_stdin()
T.eq(s.wait_exit(10), 0, "interval merge: clean exit")
merged = [l for l in s.err.splitlines() if "merged into this cycle" in l]
T.ok(len(merged) >= 1 and all(l.startswith("W! ") for l in merged)
     and int(merged[0].split()[1]) >= 1, "interval merge: a W! line counts the ticks that passed during the cycle", s.err)
s.finish("interval merge")

# 2c. Signals read in one go while no cycle runs: the first starts a cycle,
#     the second finds it running and is pending, the third merges.
s = Stream(write_config(config_text(fast)))
T.ok(s.wait_ready(), "burst while idle: start-up I! line")
s.signal("\n\n")
T.ok(s.wait_lines(2, 20), "burst while idle: two signal lines in one write give two cycles", s.lines)

pump_for(s, 3)                  # the line comes before cleanup (delete, LOGOUT) ends the cycle
s.signal("\n\n\n")
T.ok(s.wait_lines(4, 20), "burst while idle: three in one write give two cycles too", s.lines)
pump_for(s, 3)
T.eq(len(s.lines), 4, "burst while idle: no third cycle for the third line")
s.close_stdin()
T.eq(s.wait_exit(10), 0, "burst while idle: clean exit")
T.eq([l for l in s.err.splitlines() if "merged" in l],
     ["W! 1 signal(s) merged into this cycle: they came while one was running (interval shorter than a cycle?)"],
     "burst while idle: one W! line for the one merged signal")
s.finish("burst while idle")

# 2d. A signal that comes with end of stdin (printf '\n' | mail-e2e) still
#     starts its cycle, which gets shutdown_grace; a second one does not.
cfg_fast = write_config(config_text(fast))
r = run(["-config", cfg_fast], stdin="\n", timeout=30, what="signal with end of stdin")
T.eq(r.rc, 0, "signal with end of stdin: exit 0")
T.ok(len(r.lines) == 1 and "result=success" in r.lines[0], "signal with end of stdin: its cycle ran and succeeded", r)
r = run(["-config", cfg_fast], stdin="\n\n", timeout=30, what="two signals with end of stdin")
T.ok(r.rc == 0 and len(r.lines) == 1, "two signals with end of stdin: one cycle, none starts after the end", r)
r = run(["-config", cfg_fast], stdin="", timeout=30, what="end of stdin alone")
T.ok(r.rc == 0 and r.lines == [], "end of stdin without a signal: no cycle, exit 0", r)

# 3. SIGUSR1, SIGHUP and SIGUSR2 each trigger a cycle (Telegraf's other modes).
s = Stream(write_config(config_text(fast)))
T.ok(s.wait_ready(), "start-up: the I! line says it waits for signals")
for i, sig in enumerate((signal.SIGUSR1, signal.SIGHUP, signal.SIGUSR2)):
    s.p.send_signal(sig)
    T.ok(s.wait_lines(i + 1, 20), f"{signal.Signals(sig).name} triggers a cycle")
s.close_stdin()
T.eq(s.wait_exit(10), 0, "signal triggers: clean exit")
T.ok(all("result=success" in l for l in s.lines), "signal triggers: all succeed", s.lines)
s.finish("signal triggers")

# 4. SIGTERM in the middle of a cycle: prompt exit 0, no line for the route.
s = Stream(write_config(config_text(slow)))
s.wait_ready()
s.signal("\n")
time.sleep(0.5)
t0 = time.monotonic()
s.p.send_signal(signal.SIGTERM)
rc = s.wait_exit(5)
T.eq(rc, 0, "SIGTERM mid-cycle: exit 0")
T.ok(time.monotonic() - t0 < 1.0, "SIGTERM mid-cycle: exits within 1 s", time.monotonic() - t0)
T.eq(s.lines, [], "SIGTERM mid-cycle: no line for the abandoned route")
s.finish("SIGTERM")

# 5. A 10 MiB line on stdin is one signal, not a crash or a memory hog.
s = Stream(write_config(config_text(fast)))
s.signal("x" * (10 << 20) + "\n")
T.ok(s.wait_lines(1, 30), "10 MiB stdin line: one cycle runs")
s.close_stdin()
T.eq(s.wait_exit(10), 0, "10 MiB stdin line: clean exit")
T.eq(len(s.lines), 1, "10 MiB stdin line: exactly one line")
s.finish("10 MiB line")

# 6. The reader closes stdout: the process ends with an E! line, no busy loop.
cfg = write_config(config_text(fast))
p = subprocess.Popen([binary(), "-config", cfg], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
p.stdout.close()
p.stdin.write(b"\n")
p.stdin.flush()
try:
    rc = p.wait(timeout=20)
except subprocess.TimeoutExpired:
    p.kill()
    rc = None
err = p.stderr.read().decode(errors="replace")
T.eq(rc, 1, "closed stdout: exit status 1")
T.ok("E! " in err and "stdout" in err, "closed stdout: an E! line names the problem", err)
from e2e import probe_messages  # noqa: E402
T.eq(probe_messages(env, "bob"), [], "closed stdout: the found probe was still deleted before exit")
T.done()
