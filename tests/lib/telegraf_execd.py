#!/usr/bin/env python3
"""telegraf_execd.py - does to a command what Telegraf's inputs.execd does
(plugins/inputs/execd/execd.go, execd_posix.go, internal/process/process.go):

- starts the command directly, no shell, with stdin/stdout/stderr pipes;
- every interval "signals" it: signal = STDIN writes one "\\n" (a write that
  takes longer than 1 s is an error), SIGHUP/SIGUSR1/SIGUSR2 send that
  signal, none sends nothing (the command schedules itself);
- reads stdout line by line with a strict line-protocol parser; a line it
  cannot parse is a parse error (Telegraf logs and drops it);
- reads stderr line by line: "E! ", "W! ", "I! ", "D! " set the log level,
  any other line is logged as an error;
- on stop closes stdin, waits 5 s, sends SIGTERM, waits 5 s, sends SIGKILL.

As a module: Execd(cmd, signal, interval).run(count) -> Report.
As a program (the demo uses it):
    telegraf_execd.py [--signal STDIN] [--interval 1] [--count 3] -- CMD...
prints the metrics, the stderr lines by level and a summary.
"""
import argparse
import os
import select
import signal as sig
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineproto  # noqa: E402


class Report:
    def __init__(self):
        self.metrics = []          # (measurement, tags, fields, ts)
        self.lines = []
        self.parse_errors = []
        self.log = {"E": [], "W": [], "I": [], "D": []}
        self.unprefixed = []
        self.write_errors = 0
        self.exit_code = None
        self.needed_sigterm = False
        self.needed_sigkill = False


class Execd:
    def __init__(self, cmd, signal="STDIN", interval=1.0):
        self.cmd, self.signal, self.interval = cmd, signal.upper(), interval
        self.r = Report()
        self.out = b""
        self.err = b""

    def _pump(self, p, timeout):
        fds = [f for f in (p.stdout, p.stderr) if not f.closed]
        if not fds:
            time.sleep(timeout)
            return
        ready, _, _ = select.select(fds, [], [], max(timeout, 0))
        for f in ready:
            chunk = os.read(f.fileno(), 65536)
            if not chunk:
                f.close()
                continue
            if f is p.stdout:
                self.out += chunk
                *done, self.out = self.out.split(b"\n")
                for line in done:
                    self._metric(line.decode(errors="replace"))
            else:
                self.err += chunk
                *done, self.err = self.err.split(b"\n")
                for line in done:
                    self._stderr(line.decode(errors="replace"))

    def _metric(self, line):
        self.r.lines.append(line)
        try:
            self.r.metrics.append(lineproto.parse(line))
        except ValueError as e:
            self.r.parse_errors.append(f"{e}: {line[:200]}")

    def _stderr(self, line):
        if len(line) >= 3 and line[0] in "EWID" and line[1:3] == "! ":
            self.r.log[line[0]].append(line[3:])
        elif line:
            self.r.unprefixed.append(line)

    def _trigger(self, p):
        if self.signal == "STDIN":
            t0 = time.monotonic()
            try:
                p.stdin.write(b"\n")
                p.stdin.flush()
            except BrokenPipeError:
                self.r.write_errors += 1
            if time.monotonic() - t0 > 1.0:
                self.r.write_errors += 1
        elif self.signal in ("SIGHUP", "SIGUSR1", "SIGUSR2"):
            p.send_signal(getattr(sig, self.signal))

    def run(self, count, on_metric=None):
        p = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        start = time.monotonic()
        for i in range(count):
            # Telegraf's first Gather comes one interval after start.
            due = start + (i + 1) * self.interval
            while time.monotonic() < due:
                self._pump(p, due - time.monotonic())
            self._trigger(p)
        end = time.monotonic() + self.interval
        while time.monotonic() < end:
            self._pump(p, end - time.monotonic())
        self.stop(p)
        return self.r

    def stop(self, p):
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
        for stage in ("wait", "term", "kill"):
            end = time.monotonic() + 5
            while p.poll() is None and time.monotonic() < end:
                self._pump(p, 0.05)
            if p.poll() is not None:
                break
            if stage == "wait":
                self.r.needed_sigterm = True
                p.terminate()
            elif stage == "term":
                self.r.needed_sigkill = True
                p.kill()
        p.wait()
        while not (p.stdout.closed and p.stderr.closed):
            self._pump(p, 0.05)
        self.r.exit_code = p.returncode


def main():
    ap = argparse.ArgumentParser(description="Run a command the way Telegraf's inputs.execd does.")
    ap.add_argument("--signal", default="STDIN")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    r = Execd(cmd, a.signal, a.interval).run(a.count)
    for line in r.lines:
        print(line)
    for level in "EWID":
        for msg in r.log[level]:
            print(f"telegraf log {level}: {msg}", file=sys.stderr)
    for line in r.unprefixed:
        print(f"telegraf log E (unprefixed): {line}", file=sys.stderr)
    print(f"telegraf-execd: {len(r.metrics)} metrics, {len(r.parse_errors)} parse errors, "
          f"{len(r.unprefixed)} unprefixed stderr lines, exit {r.exit_code}"
          f"{' after SIGTERM' if r.needed_sigterm else ' on stdin close'}", file=sys.stderr)
    return 0 if not r.parse_errors and not r.unprefixed and not r.needed_sigterm and r.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
