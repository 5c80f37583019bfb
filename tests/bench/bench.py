#!/usr/bin/env python3
"""bench.py - mail-e2e benchmarks (`make bench`): figures, not pass/fail.

Starts its own Postfix + Dovecot on loopback (port base 21000, 100 extra
mailboxes) and measures:

1. detection lag, IDLE vs polling every 2 s: each probe's message is held by
   Postfix (mail to held@ goes on HOLD), released after a random 0.2-3 s,
   and the true delivery moment is taken from the mailbox itself (the
   Maildir file's mtime).  lag = `found` reported by mail-e2e - that moment.
   Also CPU time (user+sys), peak RSS and IMAP commands per probe.
2. one cycle of 1, 10 and 100 routes (each its own mailbox): wall time,
   peak RSS, CPU.
3. soak (SOAK_CYCLES, default 1000; `make soak` runs 10 000): one process,
   many cycles, RSS and open file descriptors every 1/10th of the run.

Prints tables and writes them to bench/RESULTS.md.
Environment: BENCH_PROBES (default 30), SOAK_CYCLES, BENCH_SKIP (comma list
of lag,routes,soak).
"""
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "mail-e2e")
STACK = os.path.join(ROOT, "tests", "mailstack", "mailstack.sh")
PROBES = int(os.environ.get("BENCH_PROBES", "30"))
SOAK = int(os.environ.get("SOAK_CYCLES", "1000"))
SKIP = set(filter(None, os.environ.get("BENCH_SKIP", "").split(",")))
OUT = []


def say(line=""):
    print(line, flush=True)
    OUT.append(line)


def load_env(d):
    env = {}
    for line in open(os.path.join(d, "env")):
        k, _, v = line.strip().partition("=")
        env[k] = v
    return env


def route(env, name, user, idle="auto", poll="2s", timeout="15s", delete="true"):
    return f"""[{name}]
from = alice@{env['MS_DOMAIN']}
to = {user}@{env['MS_DOMAIN']}
smtp_host = 127.0.0.1
smtp_port = {env['MS_SUBMISSION_PORT']}
smtp_username = alice
smtp_password = {env['MS_PASSWORD_alice']}
imap_host = {env['MS_IMAP_HOST']}
imap_port = {env['MS_IMAP_PORT']}
imap_username = {user}
imap_password = {env['MS_PASSWORD_' + user]}
tls_ca = {env['MS_CA']}
idle = {idle}
poll_interval = {poll}
timeout = {timeout}
delete = {delete}
"""


def write_conf(d, text, name):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, 0o600)
    return p


class Child:
    """Popen with rusage: os.wait4 on our own child."""

    def __init__(self, args):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([BIN] + args, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def finish(self, timeout=120):
        out = self.p.stdout.read()
        err = self.p.stderr.read()
        _, status, ru = os.wait4(self.p.pid, 0)
        self.p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - self.t0
        return out.decode(), err.decode(), wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def pct(values, p):
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def held_count(env):
    q = subprocess.run(["postqueue", "-c", env["MS_POSTFIX_CONF"], "-j"], capture_output=True, text=True)
    return sum(1 for l in q.stdout.splitlines() if '"queue_name": "hold"' in l)


def lag_bench(env, tmp, mode):
    # delete = false: the message file must stay for its mtime to be read.
    conf = write_conf(tmp, route(env, "lag", "held", idle="auto" if mode == "idle" else "off",
                                 poll="2s", timeout="15s", delete="false"), f"lag-{mode}.conf")
    lags, cpus, rss, cmds = [], [], [], []
    for i in range(PROBES):
        c = Child(["-c", conf, "--once", "--format", "json", "--trace"])
        t_end = time.monotonic() + 10
        while held_count(env) == 0 and time.monotonic() < t_end:
            time.sleep(0.01)
        time.sleep(random.uniform(0.2, 3.0))
        subprocess.run([STACK, "release", env["MS_DIR"]], capture_output=True)
        out, err, wall, cpu, maxrss = c.finish()
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            say(f"  probe {i}: no JSON line: {err[-300:]}")
            continue
        if not res.get("success"):
            say(f"  probe {i}: {res.get('result')} {res.get('error')}")
            continue
        delivered_ns = delivery_ns(env, "held", res["hash"])
        if delivered_ns is None:
            say(f"  probe {i}: message file not found in the Maildir")
            continue
        lags.append((iso_ns(res["found"]) - delivered_ns) / 1e6)
        cpus.append(cpu * 1000)
        rss.append(maxrss / 1024)
        cmds.append(len(re.findall(r"D! lag/imap > ", err)))
    return lags, cpus, rss, cmds


def iso_ns(s):
    from datetime import datetime, timezone
    main, frac = s.rstrip("Z").split(".")
    dt = datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 1_000_000_000 + int(frac.ljust(9, "0"))


def delivery_ns(env, user, token):
    """mtime of the Maildir file holding token: when Dovecot wrote it."""
    base = os.path.join(env["MS_MAILDIR"], user, "Maildir")
    for sub in ("new", "cur"):
        for e in os.scandir(os.path.join(base, sub)):
            with open(e.path, "rb") as f:
                if token.encode() in f.read(4096):
                    return e.stat().st_mtime_ns
    return None


def routes_bench(env, tmp, n):
    users = [f"user{i:03d}" for i in range(1, n + 1)]
    conf = write_conf(tmp, "".join(route(env, f"r{i:03d}", u, timeout="30s") for i, u in enumerate(users, 1)),
                      f"routes-{n}.conf")
    c = Child(["-c", conf, "--once"])
    out, err, wall, cpu, maxrss = c.finish()
    ok = out.count("result=success")
    return wall, cpu, maxrss / 1024, ok


def fds_of(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except FileNotFoundError:
        return -1


def rss_of(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return -1


def cpu_of(pid):
    """user+sys seconds of a running process, from /proc/PID/stat."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def soak_bench(env, tmp):
    conf = write_conf(tmp, route(env, "soak", "carol", idle="off", poll="100ms", timeout="10s"), "soak.conf")
    p = subprocess.Popen([BIN, "-c", conf], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    rows = []
    step = max(SOAK // 10, 1)
    ok = 0
    t0 = time.monotonic()
    for i in range(1, SOAK + 1):
        p.stdin.write(b"\n")
        p.stdin.flush()
        line = p.stdout.readline().decode()
        ok += "result=success" in line
        if i == 1 or i % step == 0:
            rows.append((i, rss_of(p.pid), fds_of(p.pid), ok, time.monotonic() - t0, cpu_of(p.pid)))
    p.stdin.close()
    p.wait(timeout=30)
    return rows


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit("bench: build ./mail-e2e first (make)")
    stack = tempfile.mkdtemp(prefix="me2e-b.", dir="/tmp")
    tmp = tempfile.mkdtemp(prefix="me2e-bt.")
    senv = dict(os.environ, MS_PORT_BASE="21000", MS_EXTRA_USERS="100")
    r = subprocess.run([STACK, "start", stack], env=senv, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench: could not start the mail stack:\n" + r.stdout + r.stderr)
    env = load_env(stack)
    try:
        say(f"# mail-e2e benchmarks ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"{os.cpu_count()} cores, Postfix + Dovecot on loopback, TLS on both legs)")
        say()
        if "lag" not in SKIP:
            say(f"## Detection lag ({PROBES} probes per mode; message held 0.2-3 s, then released)")
            say()
            say("| mode | lag p50 ms | lag p95 ms | lag max ms | CPU/probe ms (p50) | peak RSS MiB (max) | IMAP commands/probe (p50) |")
            say("|---|---|---|---|---|---|---|")
            for mode in ("idle", "poll-2s"):
                lags, cpus, rss, cmds = lag_bench(env, tmp, "idle" if mode == "idle" else "poll")
                if lags:
                    say(f"| {mode} | {pct(lags, 50):.1f} | {pct(lags, 95):.1f} | {max(lags):.1f} | "
                        f"{pct(cpus, 50):.1f} | {max(rss):.1f} | {pct(cmds, 50):.0f} |")
                else:
                    say(f"| {mode} | no successful probe | | | | | |")
            say()
        if "routes" not in SKIP:
            say("## One cycle of N routes (each its own mailbox, IDLE)")
            say()
            say("| routes | wall s | wall / 1-route wall | CPU s | CPU ms per route | peak RSS MiB | successes |")
            say("|---|---|---|---|---|---|---|")
            base = None
            for n in (1, 10, 100):
                wall, cpu, rss, ok = routes_bench(env, tmp, n)
                base = base or wall
                say(f"| {n} | {wall:.3f} | {wall / base:.2f} | {cpu:.3f} | {cpu * 1000 / n:.1f} | {rss:.1f} | {ok}/{n} |")
            say()
        if "soak" not in SKIP:
            say(f"## Soak: {SOAK} cycles in one process (polling 100 ms, TLS on both legs)")
            say()
            say("| cycle | RSS KiB | open fds | successes so far | elapsed s | CPU s |")
            say("|---|---|---|---|---|---|")
            rows = soak_bench(env, tmp)
            for row in rows:
                say("| %d | %d | %d | %d | %.1f | %.2f |" % row)
            if len(rows) >= 2:
                say()
                first, last = rows[0], rows[-1]
                say(f"RSS growth from cycle {first[0]} to {last[0]}: {last[1] - first[1]} KiB; "
                    f"fd change: {last[2] - first[2]}; CPU per cycle (one route, TLS on both "
                    f"legs, in the long-running process): {(last[5] - first[5]) * 1000 / (last[0] - first[0]):.1f} ms")
            say()
    finally:
        subprocess.run([STACK, "stop", stack], capture_output=True)
        shutil.rmtree(stack, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(ROOT, "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "RESULTS.md"), "w") as f:
        f.write("\n".join(OUT) + "\n")
    print("written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
