#!/usr/bin/env python3
"""What the process itself owes its users, whatever one server does, against
the scriptable fake (tests/fake/fakemail.py):

1. one route whose host name never resolves (a getaddrinfo that hangs, via
   an LD_PRELOAD shim) delays no other route, and end of stdin still ends
   the process within 5 s (SPEC §3; issue 14, defect 2);
2. stdin is never left non-blocking: the pipe (or terminal) Telegraf shares
   with us keeps its flags (defect 12);
3. --once ends within timeout + 1 s when the server stalls the logout
   (defect 15);
4. server_concurrency: routes queue for a busy server, queue_time says how
   long, and each route's timeout counts from its own start (SPEC §9);
5. running out of descriptors is internal_error naming the open-file
   limit, never a server fault, and never a hang (SPEC §9).
The time bounds asserted are the documented timeout bounds, with margin."""
import fcntl
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, ROOT, Stream, write_config, secret, parse_line, run, tmpdir, check_no_leak, fake_route  # noqa: E402
from fakemail import FakeMail  # noqa: E402

PW = secret("bounds-Pw-5521")
USERS = f"user alice {PW}\nuser bob {PW}\n"


def route(fake, name, **over):
    return fake_route(fake, name, PW, **over)


def lines_by_probe(lines):
    out = {}
    for l in lines:
        try:
            _, tags, f, _ = parse_line(l)
        except ValueError:
            continue
        out[tags["probe"]] = (tags, f)
    return out


def fake(script=""):
    return FakeMail(USERS + script, tempfile.mkdtemp(prefix="me2e-fake."))


# --- 1. a resolver that hangs for one route ----------------------------------
shim = os.path.join(tmpdir(), "stall_getaddrinfo.so")
built = subprocess.run(["cc", "-shared", "-fPIC", "-o", shim,
                        os.path.join(ROOT, "tests/lib/stall_getaddrinfo.c"), "-ldl"],
                       capture_output=True, text=True)
T.ok(built.returncode == 0, "the getaddrinfo shim builds", built.stderr)
f1 = fake("deliver delay 2.5\n")
cfg = write_config(route(f1, "healthy", timeout="6s") +
                   route(f1, "stuck", smtp_host="stuck.example.test", imap_host="stuck.example.test"))
env = dict(os.environ, LD_PRELOAD=shim, STALL_HOST="stuck.example.test",
           ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
s = Stream(cfg, env=env)
T.ok(s.wait_ready(), "resolver stall: process ready")
t0 = time.monotonic()
s.signal()
got = s.wait_lines(2, 15)
elapsed = time.monotonic() - t0
by = lines_by_probe(s.lines)
T.ok(got, "resolver stall: both routes report", s.err[-2000:])
if "stuck" in by:
    T.eq(by["stuck"][0].get("result"), "imap_connect_failed", "the stuck route: imap_connect_failed")
if "healthy" in by:
    T.eq(by["healthy"][0].get("result"), "success", "the healthy route succeeds beside it")
    T.ok(by["healthy"][1].get("total_time", 99) < 5.0,
         "the healthy route's line is not held up by the stuck resolver", by["healthy"])
T.ok(elapsed < 7.0, f"both lines within the longer route's timeout + 1 s ({elapsed:.1f}s)")
t1 = time.monotonic()
s.close_stdin()
rc = s.wait_exit(10)
T.eq(rc, 0, "resolver stall: exit 0 at end of stdin")
T.ok(time.monotonic() - t1 < 5.0, f"... within 5 s of it ({time.monotonic() - t1:.1f}s)")
s.finish("resolver stall")
f1.close()

# --- 2. stdin keeps its flags ------------------------------------------------------
f2 = fake()
cfg = write_config(route(f2, "r1"))
r_fd, w_fd = os.pipe()
before = fcntl.fcntl(r_fd, fcntl.F_GETFL)
s = Stream(cfg, stdin=r_fd)
T.ok(s.wait_ready(), "stdin flags: process ready")
os.write(w_fd, b"\n")
T.ok(s.wait_lines(1, 10), "stdin flags: one cycle from a line on the shared pipe", s.err[-1000:])
during = fcntl.fcntl(r_fd, fcntl.F_GETFL)
T.eq(during & os.O_NONBLOCK, before & os.O_NONBLOCK,
     "the shared stdin description is not made non-blocking while the probe runs")
os.close(w_fd)
T.eq(s.wait_exit(10), 0, "stdin flags: exit 0 at end of stdin")
T.eq(fcntl.fcntl(r_fd, fcntl.F_GETFL), before, "stdin's flags are as before after exit")
os.close(r_fd)
s.finish("stdin flags")
f2.close()

# --- 3. --once ends on time when the logout stalls -----------------------------------
f3 = fake("deliver never\nimap on LOGOUT stall\n")
cfg = write_config(route(f3, "r1"))
r = run(["-c", cfg, "--once"], what="--once, logout stalls")
T.eq(r.rc, 1, "--once with a timed-out route exits 1")
T.ok("result=timeout" in r.out, "the route times out", r.out)
T.ok(r.elapsed <= 3.0 + 1.0, f"--once ends within timeout + 1 s although LOGOUT stalls ({r.elapsed:.2f}s)")
f3.close()

# --- 4. server_concurrency: a queue per server, each timeout its own ------------------
f4 = fake("deliver never\n")
cfg = write_config("[defaults]\nserver_concurrency = 1\n\n" +
                   "".join(route(f4, f"q{i}", timeout="2s") for i in range(3)))
r = run(["-c", cfg, "--once"], what="server_concurrency = 1, 3 routes", timeout=60)
by = lines_by_probe(r.lines)
T.eq(sorted(by), ["q0", "q1", "q2"], "queue: one line per route")
if len(by) == 3:
    q = [by[f"q{i}"][1] for i in range(3)]
    T.ok(all(by[f"q{i}"][0]["result"] == "timeout" for i in range(3)), "queue: every route times out", r.out)
    T.ok(all(1.9 <= x["total_time"] < 3.0 for x in q),
         "queue: each route's timeout counts from its own start (total_time ~2 s)", [x["total_time"] for x in q])
    T.ok("queue_time" not in q[0], "queue: the first route did not wait", q[0])
    T.ok(q[1].get("queue_time", 0) >= 1.9 and q[2].get("queue_time", 0) >= q[1].get("queue_time", 0) + 1.9,
         "queue: queue_time grows by one route's time per place",
         [x.get("queue_time") for x in q])
f4.close()

# --- 5. out of descriptors ---------------------------------------------------------------
f5 = fake()
cfg = write_config("".join(route(f5, f"fd{i:02d}", timeout="5s") for i in range(30)))
limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (24, 24))
t0 = time.monotonic()
p = subprocess.Popen([os.environ["MAIL_E2E"], "-c", cfg, "--once"], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True, preexec_fn=limit)
try:
    out, err = p.communicate(timeout=40)
except subprocess.TimeoutExpired:
    p.kill()
    out, err = p.communicate()
check_no_leak("out of descriptors", out, err)
by = lines_by_probe(out.splitlines())
T.ok(len(by) == 30, f"out of descriptors: still one line per route ({len(by)})", out[-2000:] + err[-2000:])
results = {}
for tags, f in by.values():
    results.setdefault(tags["result"], []).append(f.get("error", ""))
T.ok(set(results) <= {"success", "internal_error"},
     "out of descriptors: only success or internal_error, never a server fault", results)
T.ok(results.get("internal_error") and all("open-file limit" in e or "local" in e
                                            for e in results["internal_error"]),
     "out of descriptors: internal_error names the local cause", results.get("internal_error", [])[:3])
T.ok(time.monotonic() - t0 < 20, "out of descriptors: no hang")
f5.close()
T.done()
