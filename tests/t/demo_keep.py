#!/usr/bin/env python3
# serial: yes
"""`make demo KEEP=1` (tests/demo.sh --keep, issue 21): the demo's private
Postfix + Dovecot keep running after the demo, with ready configuration
files and printed "now try this" commands.  Every printed command is run as
printed and does what its comment says (success, smtp_auth_failed, a TLS
mode that does not fit the port, a held message that times out and, once
released with postsuper, is counted as late); no password is printed; a
second demo refuses to start on top of the kept one; the printed stop
command stops every server process by PID and removes the directory."""
import atexit
import os
import re
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, ROOT, binary, by_probe, check_no_leak, fatal, run, stack, tmpdir  # noqa: E402

kept = os.path.join(tmpdir(), "demo-kept")
denv = dict(os.environ, DEMO_BIN=binary(), DEMO_CYCLES="1", MS_PORT_BASE="29000", DEMO_KEPT=kept)
demo = os.path.join(ROOT, "tests", "demo.sh")
try:
    p = subprocess.run([demo, "--keep"], cwd=ROOT, env=denv, capture_output=True, text=True, timeout=180)
except subprocess.TimeoutExpired:
    fatal("tests/demo.sh --keep did not finish within 180 s")
T.eq(p.returncode, 0, "tests/demo.sh --keep exits 0")
d = open(kept).read().strip() if os.path.exists(kept) else ""
if d.startswith("/tmp/me2e-demo."):     # whatever happens below, the kept stack is stopped
    atexit.register(lambda: subprocess.run([demo, "--stop", d], cwd=ROOT, env=denv, capture_output=True,
                                           timeout=60))
if not d or not os.path.isdir(d):
    fatal(f"no kept stack recorded in DEMO_KEPT ({p.stdout[-800:]}{p.stderr[-800:]})")
os.environ["DEMO_STACK_ENV"] = os.path.join(d, "env")
env = stack("DEMO_STACK_ENV", "kept demo stack")       # registers its passwords as secrets
check_no_leak("the demo's output and its 'now try this' text", p.stdout, p.stderr)
T.ok("Now try this" in p.stdout, "the demo prints what to try next", p.stdout[-1500:])
cmds = [l.strip() for l in p.stdout.split("\n") if l.startswith("  ") and (binary() in l or "postsuper" in l)]
T.ok(len(cmds) == 7, "seven commands to try", "\n".join(cmds))
stop = re.search(r"tests/demo.sh --stop (\S+)\)", p.stdout)
T.ok(stop and stop.group(1) == d, "the stop command names the kept directory", p.stdout[-400:])
for f in ("demo.conf", "try-wrong-password.conf", "try-tls-mismatch.conf", "try-held.conf"):
    path = os.path.join(d, f)
    T.ok(os.path.exists(path) and os.stat(path).st_mode & 0o077 == 0, f"{f} is there, readable by its owner only")
    T.ok(open(path).read().startswith(";") or f == "demo.conf", f"{f} says what it shows")

# A second demo must not probe the kept stack's ports with its own passwords.
p2 = subprocess.run([demo], cwd=ROOT, env=denv, capture_output=True, text=True, timeout=60)
T.ok(p2.returncode == 1 and "E! a kept demo stack runs in" in p2.stderr and "make demo-stop" in p2.stderr,
     "a second demo refuses to start while the kept stack runs", p2.stderr)

want = ["starttls implicit-tls: success", "trace", "wrong-password: smtp_auth_failed",
        "tls-mismatch", "held: timeout", "release", "held: timeout, late=1"]
for cmd, what in zip(cmds, want):
    line = cmd.split("#")[0].strip()
    if line.startswith("postsuper"):
        r = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30)
        T.ok(r.returncode == 0 and "Released from hold: 1 message" in r.stderr + r.stdout,
             f"as printed: {line[:60]}... releases the held probe", r.stderr)
        new = os.path.join(d, "mail", "held", "Maildir", "new")
        end = time.monotonic() + 10
        while time.monotonic() < end and not (os.path.isdir(new) and os.listdir(new)):
            time.sleep(0.1)
        T.ok(os.path.isdir(new) and os.listdir(new), "the released probe is delivered to held@")
        continue
    args = shlex.split(line)
    r = run(args[1:], what=f"as printed: {line[len(args[0]):][:70]}", timeout=60)
    got = {k: v[-1] for k, v in by_probe(r.out).items()}
    res = {k: (t.get("result"), f.get("late")) for k, (t, f, _) in got.items()}
    if what.startswith("starttls"):
        T.eq(res, {"starttls": ("success", 0), "implicit-tls": ("success", 0)}, f"{what} ({line[-40:]})")
    elif what == "trace":
        T.ok(r.rc == 0 and "D! " in r.err, "--trace: rc 0 and the dialogue as D! lines", r.err[-500:])
    elif what.startswith("wrong-password"):
        T.eq(res, {"wrong-password": ("smtp_auth_failed", 0)}, what)
    elif what == "tls-mismatch":
        tags = got.get("tls-mismatch", ({}, {}, 0))[0]
        fields = got.get("tls-mismatch", ({}, {}, 0))[1]
        T.ok(tags.get("result") == "smtp_tls_failed" and "set smtp_tls = starttls" in fields.get("error", ""),
             "tls-mismatch: smtp_tls_failed, and the error names the key to change", r.out)
    elif what == "held: timeout":
        T.eq(res, {"held": ("timeout", 0)}, "held: Postfix holds it, timeout")
    else:
        T.eq(res, {"held": ("timeout", 1)}, "held again: the released probe is counted, late=1i")

pids = {}
for name, f in (("postfix", "postfix/queue/pid/master.pid"), ("dovecot", "dovecot/run/master.pid"),
                ("introspect", "oauth2/pid")):
    try:
        pids[name] = int(open(os.path.join(d, f)).read().split()[0])
    except (OSError, ValueError, IndexError):
        pids[name] = None
T.ok(all(pids.values()), "the kept stack's PIDs are recorded", pids)


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return "\nState:\tZ" not in open(f"/proc/{pid}/status").read()
    except OSError:
        return False


T.ok(all(alive(x) for x in pids.values() if x), "the kept stack runs before the stop", pids)
s = subprocess.run(shlex.split(stop.group(0).rstrip(")")) if stop else ["false"], cwd=ROOT, env=denv,
                   capture_output=True, text=True, timeout=60)
T.eq(s.returncode, 0, "the printed stop command exits 0")
T.eq({k: alive(v) for k, v in pids.items() if v}, {k: False for k, v in pids.items() if v},
     "Postfix, Dovecot and the token endpoint are stopped, by PID")
T.ok(not os.path.exists(d) and not os.path.exists(kept), "the directory and the record are gone")
s = subprocess.run([demo, "--stop", d], cwd=ROOT, env=denv, capture_output=True, text=True, timeout=30)
T.eq(s.returncode, 0, "stopping again is harmless")
T.done()
