#!/usr/bin/env python3
"""bench.py - mail-e2e benchmarks (`make bench`): figures, not pass/fail.

Starts its own Postfix + Dovecot on loopback (port base 21000, 100 extra
mailboxes) and measures:

1. detection lag on Dovecot's IDLE listener and on its listener without
   IDLE, for local deliveries and for deliveries held by Postfix (mail to
   held@ goes on HOLD) and released after a random 0.2-3 s; the true
   delivery moment is taken from the mailbox itself (the Maildir file's
   mtime).  lag = `found` reported by mail-e2e - that moment.  Also CPU time
   (user+sys), peak RSS and IMAP commands per probe (inbox session, login
   included).
2. the trust store: CPU per streaming cycle (one route) and one --once
   cycle of 100 routes with a CA file of system size (the system bundle
   plus the test CA, so ~150 certificates parsed per load);
3. one cycle of 1, 10 and 100 routes (each its own mailbox): wall time,
   peak RSS, CPU;
4. scale under `ulimit -n 1024`: 10, 100, 400 and 1000 routes sharing the
   100 mailboxes, default server_concurrency: successes, peak open fds,
   CPU and RSS per route; and 400 routes against a second Dovecot in its
   default login mode (one imap-login process per connection, 100 at most);
5. soak (SOAK_CYCLES, default 1000; `make soak` runs 10 000): one process,
   many cycles, RSS and open file descriptors every 1/10th of the run.

6. peers (issue 22): --once with held deliveries and the default junk watch,
   this build beside the baseline and the original Python script
   (BENCH_ORIGINAL=PATH to its end2end.py; not part of this repository):
   lag, CPU per probe, IMAP sessions and commands per probe;
7. steady streaming: one process, a delivery held and released 1.0 s after
   it was queued, every cycle: lag and IMAP commands per cycle from the
   fifth cycle on (the watch has learnt the route's delivery time);
8. profile: where the instructions of one --once probe and of one streaming
   cycle go (valgrind --tool=callgrind), by library and by step.

BENCH_BASELINE=PATH runs sections 1-4, 6 and 7 with that binary too (an older
build), for a before/after table.  Prints tables and writes them to
bench/RESULTS.md.  Environment: BENCH_PROBES (default 30), SOAK_CYCLES,
BENCH_SKIP (comma list of lag,store,check,routes,scale,soak,peers,steady,
profile).  Section
"check": what one look for the probe costs (SEARCH HEADER vs FETCH).
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
BASELINE = os.environ.get("BENCH_BASELINE")
ORIGINAL = os.environ.get("BENCH_ORIGINAL")
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


def route(env, name, user, idle="auto", poll="2s", timeout="15s", delete="true", listener="idle",
          ca=None):
    host, port = ((env['MS_IMAP_HOST'], env['MS_IMAP_PORT']) if listener == "idle" else
                  (env['MS_IMAP_NOIDLE_HOST'], env['MS_IMAP_NOIDLE_PORT']))
    return f"""[{name}]
from = alice@{env['MS_DOMAIN']}
to = {user}@{env['MS_DOMAIN']}
smtp_host = 127.0.0.1
smtp_port = {env['MS_SUBMISSION_PORT']}
smtp_username = alice
smtp_password = {env['MS_PASSWORD_alice']}
imap_host = {host}
imap_port = {port}
imap_username = {user}
imap_password = {env['MS_PASSWORD_' + user]}
tls_ca = {ca or env['MS_CA']}
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

    def __init__(self, args, binary=None, preexec_fn=None):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([binary or BIN] + args, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  preexec_fn=preexec_fn)

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


def lag_bench(env, tmp, listener, held, binary=None):
    """One row: PROBES probes, true delivery moment from the Maildir."""
    user = "held" if held else "user100"
    # delete = false: the message file must stay for its mtime to be read.
    conf = write_conf(tmp, route(env, "lag", user, listener=listener, poll="2s", timeout="15s",
                                 delete="false") + "check_junk = false\n",
                      f"lag-{listener}-{held}.conf")
    lags, cpus, rss, cmds = [], [], [], []
    rng = delays(f"lag-{listener}")
    for i in range(PROBES):
        c = Child(["-c", conf, "--once", "--format", "json", "--trace"], binary)
        if held:
            t_end = time.monotonic() + 10
            while held_count(env) == 0 and time.monotonic() < t_end:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.2, 3.0))
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
        delivered_ns = delivery_ns(env, user, res["hash"])
        if delivered_ns is None:
            say(f"  probe {i}: message file not found in the Maildir")
            continue
        lags.append((iso_ns(res["found"]) - delivered_ns) / 1e6)
        cpus.append(cpu * 1000)
        rss.append(maxrss / 1024)
        cmds.append(len(re.findall(r"D! lag/imap > ", err)))
    return lags, cpus, rss, cmds


def lag_section(env, tmp):
    say(f"## Detection lag ({PROBES} probes per row; held: released after 0.2-3 s, a seeded random sequence per row, the same for every binary)")
    say()
    say("| binary | listener | delivery | lag p50 ms | lag p95 ms | lag max ms | CPU/probe ms (p50) "
        "| peak RSS MiB (max) | IMAP commands/probe p50 | p95 | max |")
    say("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, binary in binaries():
        for listener in ("idle", "noidle"):
            for held in (False, True):
                lags, cpus, rss, cmds = lag_bench(env, tmp, listener, held, binary)
                what = "held" if held else "local"
                if lags:
                    say(f"| {name} | {listener} | {what} | {pct(lags, 50):.1f} | {pct(lags, 95):.1f} | "
                        f"{max(lags):.1f} | {pct(cpus, 50):.1f} | {max(rss):.1f} | {pct(cmds, 50):.0f} | "
                        f"{pct(cmds, 95):.0f} | {max(cmds)} |")
                else:
                    say(f"| {name} | {listener} | {what} | no successful probe | | | | | | | |")
    say()


def binaries():
    out = [("this", BIN)]
    if BASELINE:
        out.append(("baseline", BASELINE))
    return out


def big_bundle(env, tmp):
    """A CA file of system size: the system bundle plus the test CA."""
    system = "/etc/ssl/certs/ca-certificates.crt"
    path = os.path.join(tmp, "big-ca.pem")
    with open(path, "w") as out:
        out.write(open(system).read())
        out.write(open(env["MS_CA"]).read())
    n = open(path).read().count("BEGIN CERTIFICATE")
    return path, n


def store_section(env, tmp):
    ca, n = big_bundle(env, tmp)
    say(f"## Trust store of system size ({n} certificates in tls_ca)")
    say()
    say("| binary | CPU per streaming cycle, 1 route, ms (cycles 11-60) | 100 routes --once: CPU s | peak RSS MiB | successes |")
    say("|---|---|---|---|---|")
    for name, binary in binaries():
        conf = write_conf(tmp, route(env, "store", "carol", idle="off", poll="100ms", timeout="10s", ca=ca),
                          f"store-{name}.conf")
        p = subprocess.Popen([binary, "-c", conf], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        cpu0 = None
        for i in range(60):
            p.stdin.write(b"\n")
            p.stdin.flush()
            p.stdout.readline()
            time.sleep(0.3)     # the cycle's cleanup is over: no merged signal
            if i == 9:
                cpu0 = cpu_of(p.pid)
        per_cycle = (cpu_of(p.pid) - cpu0) * 1000 / 50
        p.stdin.close()
        p.wait(timeout=30)
        users = [f"user{i:03d}" for i in range(1, 101)]
        conf = write_conf(tmp, "".join(route(env, f"s{i:03d}", u, timeout="30s", ca=ca)
                                       for i, u in enumerate(users, 1)), f"store100-{name}.conf")
        out, err, wall, cpu, maxrss = Child(["-c", conf, "--once"], binary).finish()
        say(f"| {name} | {per_cycle:.1f} | {cpu:.2f} | {maxrss / 1024:.1f} | {out.count('result=success')}/100 |")
    say()


def check_cost_section(env):
    """What one look for the probe costs Dovecot: SEARCH HEADER against
    FETCH of the new messages' header field, in a mailbox of 2000."""
    import imaplib
    import ssl
    user = "sweep"      # used by no other section
    ctx = ssl.create_default_context(cafile=env["MS_CA"])
    c = imaplib.IMAP4_SSL(env["MS_HOST"], int(env["MS_IMAPS_PORT"]), ssl_context=ctx)
    c.login(user, env["MS_PASSWORD_" + user])
    c.select("INBOX")
    for i in range(2000):
        c.append("INBOX", None, None, (f"From: a@b\r\nSubject: filler {i}\r\n"
                                       f"X-Mail-E2E-Probe: {i:032x}\r\n\r\nbody\r\n").encode())
    c.noop()
    typ, data = c.status("INBOX", "(UIDNEXT)")
    uidnext = int(re.search(rb"UIDNEXT (\d+)", data[0]).group(1))
    token = "0" * 31 + "1"

    def median_ms(cmd, args, n=200):
        t = []
        for _ in range(n):
            t0 = time.perf_counter()
            c.uid(cmd, *args)
            t.append((time.perf_counter() - t0) * 1000)
        return statistics.median(t), pct(t, 95)

    say("## One look for the probe: SEARCH HEADER vs FETCH of new messages (Dovecot, 2000 messages, IMAPS)")
    say()
    say("| command | new messages | round trip p50 ms | p95 ms |")
    say("|---|---|---|---|")
    for new in (0, 1):
        if new:
            c.append("INBOX", None, None, f"From: a@b\r\nX-Mail-E2E-Probe: {token}\r\n\r\nx\r\n".encode())
            c.noop()
        p50, p95 = median_ms("SEARCH", (f"UID {uidnext}:*", "HEADER", "X-Mail-E2E-Probe", token))
        say(f"| UID SEARCH UID n:* HEADER X-Mail-E2E-Probe token | {new} | {p50:.2f} | {p95:.2f} |")
        p50, p95 = median_ms("FETCH", (f"{uidnext}:*", "(UID BODY.PEEK[HEADER.FIELDS (X-Mail-E2E-Probe)])"))
        say(f"| UID FETCH n:* (UID BODY.PEEK[HEADER.FIELDS (X-Mail-E2E-Probe)]) | {new} | {p50:.2f} | {p95:.2f} |")
        p50, p95 = median_ms("SEARCH", ("ALL", "HEADER", "X-Mail-E2E-Probe", token))
        say(f"| UID SEARCH HEADER X-Mail-E2E-Probe token (whole mailbox) | {new} | {p50:.2f} | {p95:.2f} |")
    say()
    c.logout()


def scale_section(env, tmp, env_default):
    say("## Scale under ulimit -n 1024 (routes share the 100 mailboxes; server_concurrency default 20)")
    say()
    say("| binary | server | routes | successes | other results | wall s | CPU ms per route | peak fds | peak RSS MiB (own VmHWM) | RSS KiB per route |")
    say("|---|---|---|---|---|---|---|---|---|---|")
    for name, binary in binaries():
        for label, e, sizes in (("stack", env, (10, 100, 400, 1000)),
                                ("dovecot-default-login", env_default, (400,))):
            for n in sizes:
                text = "".join(route(e, f"n{i:04d}", f"user{(i % 100) + 1:03d}", timeout="60s")
                               for i in range(n))
                conf = write_conf(tmp, text, f"scale-{name}-{label}-{n}.conf")
                out, err, wall, cpu, maxrss, peak = hwm_child(["-c", conf, "--once"], binary, 1024)
                results = {}
                for m in re.finditer(r",result=([a-z_]+)", out):
                    results[m.group(1)] = results.get(m.group(1), 0) + 1
                ok = results.pop("success", 0)
                other = ", ".join(f"{k} {v}" for k, v in sorted(results.items())) or "-"
                say(f"| {name} | {label} | {n} | {ok}/{n} | {other} | {wall:.1f} | {cpu * 1000 / n:.1f} | "
                    f"{peak} | {maxrss / 1024:.1f} | {maxrss / n:.0f} |")
    say()


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



# --- issue 22: peers, steady streaming, profile ---------------------------------

def hwm_child(args, binary, limit=None, stdin=subprocess.DEVNULL):
    """Run to completion; the program's own peak RSS (VmHWM of its address
    space, sampled: a child's ru_maxrss would include what a forking Python
    had) and its peak open fds, CPU from wait4."""
    import resource
    set_limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))) if limit else None
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.monotonic()
        p = subprocess.Popen([binary] + args, stdin=stdin, stdout=fo, stderr=fe, preexec_fn=set_limit)
        hwm = peak = 0
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            hwm = max(hwm, vm_hwm(p.pid))
            peak = max(peak, fds_of(p.pid))
            time.sleep(0.02)
        wall = time.monotonic() - t0
        fo.seek(0)
        fe.seek(0)
        return fo.read().decode(), fe.read().decode(), wall, ru.ru_utime + ru.ru_stime, hwm, peak


def vm_hwm(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def delays(label):
    """The hold times of one row: random 0.2-3 s, but the same sequence for
    every binary in every run (seeded by the row), so the commands and lags
    of two binaries are compared over the same deliveries."""
    return random.Random(label)


def release_after(env, seconds, t_end=10, rng=None):
    """Wait for a message in the hold queue, then release it `seconds` after
    it was queued (or after the next of rng's 0.2-3 s when seconds is None)."""
    t0 = time.monotonic()
    while held_count(env) == 0 and time.monotonic() - t0 < t_end:
        time.sleep(0.01)
    queued = time.monotonic()
    wait = (rng or random).uniform(0.2, 3.0) if seconds is None else seconds
    time.sleep(max(0.0, queued + wait - time.monotonic()))
    subprocess.run([STACK, "release", env["MS_DIR"]], capture_output=True)


def imap_lines(err):
    return re.findall(r"^D! \S+/(?:imap|junk) > .*$", err, re.M)


def imap_logins(err):
    return len(re.findall(r"^D! \S+/(?:imap|junk) > \S+ (?:LOGIN|AUTHENTICATE)\b", err, re.M))


def once_held(env, tmp, binary, name, n):
    """n --once probes to held@ with the default junk watch, deleting what
    they find (the Maildir watched for the delivery moment)."""
    conf = write_conf(tmp, route(env, "peer", "held", poll="2s", timeout="15s"), f"peer-{name}.conf")
    lags, cpus, cmds, sessions = [], [], [], []
    rng = delays("peers")
    for i in range(n):
        seen = MaildirWatch(env, "held")   # the probe deletes what it found, as in use
        c = Child(["-c", conf, "--once", "--format", "json", "--trace"], binary)
        release_after(env, None, rng=rng)
        out, err, wall, cpu, maxrss = c.finish()
        seen.stop()
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            continue
        d = seen.delivery_ns(res["hash"]) if res.get("success") else None
        if d is None:
            continue
        lags.append((iso_ns(res["found"]) - d) / 1e6)
        cpus.append(cpu * 1000)
        cmds.append(len(imap_lines(err)))
        sessions.append(imap_logins(err))
    return lags, cpus, cmds, sessions


class MaildirWatch:
    """The original script deletes what it found: the Maildir's new files
    are noted (mtime, first 4 KiB) while it runs, every 2 ms."""

    def __init__(self, env, user):
        import threading
        self.base = os.path.join(env["MS_MAILDIR"], user, "Maildir")
        self.files = {}
        self.stopping = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stopping:
            for sub in ("new", "cur"):
                try:
                    entries = list(os.scandir(os.path.join(self.base, sub)))
                except FileNotFoundError:
                    continue
                for e in entries:
                    if e.name.split(":")[0] in self.files:
                        continue
                    try:
                        with open(e.path, "rb") as f:
                            self.files[e.name.split(":")[0]] = (e.stat().st_mtime_ns, f.read(4096))
                    except FileNotFoundError:
                        pass
            time.sleep(0.002)

    def stop(self):
        self.stopping = True
        self.t.join()

    def delivery_ns(self, token):
        for mtime, head in self.files.values():
            if token.encode() in head:
                return mtime
        return None


def original_held(env, n):
    """The original script (BENCH_ORIGINAL), n probes to held@ (polling every
    2 s, as it does by default); its own found time against the Maildir."""
    lags, cpus = [], []
    rng = delays("peers")
    envv = dict(os.environ, SSL_CERT_FILE=env["MS_CA"])
    for i in range(n):
        args = ["python3", ORIGINAL, "--email-from", f"alice@{env['MS_DOMAIN']}",
                "--email-to", f"held@{env['MS_DOMAIN']}", "--smtp-host", "127.0.0.1",
                "--smtp-port", env["MS_SUBMISSION_PORT"], "--smtp-username", "alice",
                "--smtp-password", env["MS_PASSWORD_alice"], "--imap-host", env["MS_IMAP_HOST"],
                "--imap-port", env["MS_IMAP_PORT"], "--imap-username", "held",
                "--imap-password", env["MS_PASSWORD_held"], "--max-checks", "10"]
        t0 = time.monotonic()
        seen = MaildirWatch(env, "held")
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=envv)
        release_after(env, None, rng=rng)
        out, err = p.communicate(timeout=60)
        cpu = cpu_children_delta()
        seen.stop()
        try:
            res = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            say(f"  original {i}: no JSON: {err.decode()[-200:]}")
            continue
        if not res.get("success"):
            continue
        d = seen.delivery_ns(res["hash"])
        if d is None:
            say(f"  original {i}: its message was never seen in the Maildir")
            continue
        from datetime import datetime, timezone
        end = datetime.fromisoformat(res["end"]).astimezone(timezone.utc)   # local time in the script
        lags.append((int(end.timestamp() * 1e9) - d) / 1e6)
        cpus.append(cpu * 1000)
    return lags, cpus


_children_cpu = [0.0]


def cpu_children_delta():
    """CPU of the children reaped since the last call (the original script
    is reaped by communicate(), not by our wait4)."""
    import resource
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    delta = total - _children_cpu[0]
    _children_cpu[0] = total
    return delta


def peers_section(env, tmp):
    # Twice the rows' probes: with a steady NOOP gap g the lag is spread
    # evenly over g, and the p50 of 30 moved by about g/11 (9 ms).
    n = 2 * PROBES
    say(f"## Peers: --once, held deliveries released after 0.2-3 s, the same seeded sequence for each ({n} probes each; default junk watch)")
    say()
    say("| probe | lag p50 ms | lag p95 ms | CPU/probe ms p50 | CPU vs original | IMAP sessions/probe p50 | IMAP commands/probe p50 | p95 | max |")
    say("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for name, binary in binaries():
        rows.append((name,) + once_held(env, tmp, binary, name, n))
    orig_cpu = None
    if ORIGINAL:
        cpu_children_delta()
        lags, cpus = original_held(env, n)
        if cpus:
            orig_cpu = pct(cpus, 50)
            say(f"| original script | {pct(lags, 50):.1f} | {pct(lags, 95):.1f} | {orig_cpu:.1f} | 1.00 | 1 | (not traced) | | |")
    for name, lags, cpus, cmds, sessions in rows:
        if not lags:
            say(f"| {name} | no successful probe | | | | | | | |")
            continue
        ratio = f"{pct(cpus, 50) / orig_cpu:.2f}" if orig_cpu else "-"
        say(f"| {name} | {pct(lags, 50):.1f} | {pct(lags, 95):.1f} | {pct(cpus, 50):.1f} | {ratio} | "
            f"{pct(sessions, 50):.0f} | {pct(cmds, 50):.0f} | {pct(cmds, 95):.0f} | {max(cmds)} |")
    say()


def steady_run(env, tmp, binary, name, cycles=12):
    conf = write_conf(tmp, route(env, "steady", "held", poll="2s", timeout="15s", delete="false"),
                      f"steady-{name}.conf")
    p = subprocess.Popen([binary, "-c", conf, "--format", "json", "--trace"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import threading
    err = []
    threading.Thread(target=lambda: [err.append(l.decode(errors="replace")) for l in p.stderr],
                     daemon=True).start()
    rows = []
    for i in range(cycles):
        mark = len(err)
        p.stdin.write(b"\n")
        p.stdin.flush()
        release_after(env, 1.0)
        line = p.stdout.readline().decode()
        time.sleep(0.5)         # its cleanup is in the trace
        try:
            res = json.loads(line)
        except ValueError:
            rows.append((None, None))
            continue
        d = delivery_ns(env, "held", res["hash"]) if res.get("success") else None
        lag = (iso_ns(res["found"]) - d) / 1e6 if d else None
        rows.append((lag, len(imap_lines("".join(err[mark:])))))
    p.stdin.close()
    p.wait(timeout=30)
    return rows


def steady_section(env, tmp):
    say("## Steady streaming: held and released 1.0 s after queueing, every cycle (one process, 12 cycles)")
    say()
    say("| binary | cycles | lag p50 ms | lag max ms | IMAP commands/cycle p50 | max | commands per cycle, all cycles |")
    say("|---|---|---|---|---|---|---|")
    for name, binary in binaries():
        rows = steady_run(env, tmp, binary, name)
        late = [r for r in rows[4:] if r[0] is not None]
        every = " ".join(str(c) if c is not None else "-" for _, c in rows)
        if late:
            say(f"| {name} | 5-12 | {pct([l for l, _ in late], 50):.1f} | {max(l for l, _ in late):.1f} | "
                f"{pct([c for _, c in late], 50):.0f} | {max(c for _, c in late)} | {every} |")
        else:
            say(f"| {name} | 5-12 | no successful probe | | | | {every} |")
    say()


PROFILE_PARTS = (
    ("start-up: the dynamic linker", r"dl-|rtld|_dl_"),
    ("TLS handshakes (SSL_connect)", r"\bSSL_connect\b"),
    ("TLS contexts (SSL_CTX_new)", r"\bSSL_CTX_new\b"),
    ("certificate parsing (d2i_X509)", r"\bd2i_X509\b"),
    ("randomness set-up (RAND_status)", r"\bRAND_status\b"),
    ("libcurl set-up (curl_global_init)", r"curl_global_init"),
    ("libcurl's verbose text (Curl_infof)", r"Curl_infof"),
    ("mail-e2e's dialogue tracking (conn_watch_feed)", r"conn_watch_feed"),
    ("the IMAP engine (session_step)", r"session_step"),
)


def profile_section(env, tmp):
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        say("## Profile: valgrind not found")
        return
    say("## Profile: instructions of one probe (valgrind --tool=callgrind)")
    say()
    conf = write_conf(tmp, route(env, "prof", "carol", poll="2s", timeout="15s"), "prof.conf")
    rows = {}
    for name, binary in binaries():
        rows[name] = callgrind_parts(tmp, conf, binary, name)
    names = list(rows)
    say("One --once probe (local delivery, junk watch on): " +
        ", ".join(f"{n} {rows[n][0] / 1e6:.1f} M instructions" for n in names) + ".")
    say()
    say("| part (inclusive) | " + " | ".join(f"{n}: M instructions | share" for n in names) + " |")
    say("|---|" + "---|---|" * len(names))
    for i, (label, _) in enumerate(PROFILE_PARTS):
        cells = []
        for n in names:
            total, parts = rows[n]
            cells.append(f"{parts[i] / 1e6:.1f} | {parts[i] * 100 / total:.0f}%" if total else "- | -")
        say(f"| {label} | " + " | ".join(cells) + " |")
    say()


def callgrind_parts(tmp, conf, binary, name):
    """(total instructions, [inclusive instructions per PROFILE_PARTS row])."""
    out = os.path.join(tmp, f"callgrind-{name}.out")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "-c", conf, "--once"],
                   capture_output=True, timeout=300)
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                         capture_output=True, text=True).stdout
    total = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", ann)
    total = int(total.group(1).replace(",", "")) if total else 0
    parts = []
    for _, rx in PROFILE_PARTS:
        best = 0
        for m in re.finditer(r"^\s*([\d,]+) \([ \d.]+%\)\s+(\S+)", ann, re.M):
            if re.search(rx, m.group(2)):
                best = max(best, int(m.group(1).replace(",", "")))
        parts.append(best)
    return total, parts


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
        if "peers" not in SKIP:
            peers_section(env, tmp)
        if "steady" not in SKIP:
            steady_section(env, tmp)
        if "profile" not in SKIP:
            profile_section(env, tmp)
        if "lag" not in SKIP:
            lag_section(env, tmp)
        if "store" not in SKIP:
            store_section(env, tmp)
        if "check" not in SKIP:
            check_cost_section(env)
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
        if "scale" not in SKIP:
            d2 = tempfile.mkdtemp(prefix="me2e-d.", dir="/tmp")
            denv = dict(os.environ, MS_PORT_BASE="22000", MS_EXTRA_USERS="100", MS_DOVECOT_DEFAULT_LOGIN="1")
            r = subprocess.run([STACK, "start", d2], env=denv, capture_output=True, text=True)
            if r.returncode != 0:
                say("could not start the default-login stack: " + (r.stdout + r.stderr)[-500:])
            else:
                try:
                    scale_section(env, tmp, load_env(d2))
                finally:
                    subprocess.run([STACK, "stop", d2], capture_output=True)
                    shutil.rmtree(d2, ignore_errors=True)
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
