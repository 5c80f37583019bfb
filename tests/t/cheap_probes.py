#!/usr/bin/env python3
"""Cheaper probes (issue 22), against the fake server, counted from the
program's own --trace (every IMAP command it or libcurl sends):

 A. one login a cycle: the inbox session sweeps the junk mailbox itself
    (a due probe of ours left there is removed in cycle 1, without a second
    login), LIST is asked once per process, and a cycle with nothing new
    sends no SEARCH;
 B. the look that finds the probe reads its header block whole (no FETCH of
    its own), and the verdicts are there;
 C. a long-running process learns a route's delivery time: from the fifth
    cycle of a steady 1.0 s delivery it sends no NOOP before the probe is
    nearly due, and fewer commands than before it learnt;
 D. news the server gave before the deadline, whose look is answered after
    it, is found in time (not timeout);
 E. a first cycle on an empty mailbox (UIDs used before) searches nothing:
    SELECT said 0 EXISTS, nothing of ours can be left there."""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import (T, Stream, write_config, secret, parse_line, fake_route,  # noqa: E402
                 provable_probe, check_no_leak)
from fakemail import FakeMail  # noqa: E402

PW = secret("cheap-Pw-6610")
USERS = f"user alice {PW}\nuser bob {PW}\n"
AR = ("deliver-header Authentication-Results: mx.fake.test; spf=pass smtp.mailfrom=fake.test; "
      "dkim=pass header.d=fake.test\n")


def commands(err):
    """The IMAP commands of a stretch of --trace: (verb, whole line)."""
    out = []
    for m in re.finditer(r"^D! \S+/(?:imap|junk) > (\S+) (\S+)(?: (\S+))?(.*)$", err, re.M):
        verb = m.group(3) if m.group(2) == "UID" else m.group(2)
        out.append((verb.upper(), m.group(0)))
    return out


def cycles(fake, route, n, script=""):
    """n signals to one streaming process: per cycle (tags, fields, commands, dialogue)."""
    cfg = write_config(fake_route(fake, "cheap", PW, **route))
    s = Stream(cfg, ["--trace"])
    T.ok(s.wait_ready(), "process ready", s.err[-800:])
    out = []
    for i in range(n):
        fake.reset(USERS + script)
        mark_err, mark_log = len(s.err), len(fake.dialogue())
        s.signal()
        if not T.ok(s.wait_lines(i + 1, 15), f"cycle {i + 1}: a line", s.err[-1500:]):
            break
        end = time.monotonic() + 0.6   # its LOGOUT is over, and in the trace
        while time.monotonic() < end:
            s._pump(0.05)
        _, tags, f, _ = parse_line(s.lines[i])
        out.append((tags, f, commands(s.err[mark_err:]), fake.dialogue()[mark_log:]))
    s.close_stdin()
    s.wait_exit(10)
    check_no_leak("cheap probes", "\n".join(s.lines), s.err)
    return out


def logins(dialogue):
    return len(re.findall(r"^imap\d+< \S+ (?:LOGIN|AUTHENTICATE)\b", dialogue, re.M))


# A + B. A due probe of ours waits in the junk mailbox.
fake = FakeMail(USERS + "imap junk\n" + AR, tempfile.mkdtemp(prefix="me2e-fake."))
old = int(time.time()) - 7200
fake.boxes["JUNK"].add(provable_probe(PW, "cheap", "bob", "bob@fake.test", old, "0123456789abcdef"),
                       when=old)
run = cycles(fake, {"check_junk": "true", "sweep_after": "1h", "timeout": "5s"}, 3, "imap junk\n" + AR)
if len(run) == 3:
    (t1, f1, c1, d1), (t2, f2, c2, d2), (t3, f3, c3, d3) = run
    T.eq([t.get("result") for t, _, _, _ in run], ["success"] * 3, "three probes found")
    T.eq([logins(d) for _, _, _, d in run], [1, 1, 1], "one IMAP login a cycle, the first included")
    T.ok(re.search(r'^imap\d+< \S+ SELECT "Junk"', d1, re.M), "cycle 1: the inbox session sweeps Junk")
    T.eq(len([m for m in fake.boxes["JUNK"].msgs if not m[2]]), 0,
         "the due probe of ours left in Junk was removed")
    T.eq([sum(1 for v, _ in c if v == "LIST") for _, _, c, _ in run], [1, 0, 0], "LIST once per process")
    T.eq([sum(1 for v, _ in c if v == "SEARCH") for _, _, c, _ in run[1:]], [0, 0],
         "cycles 2 and 3 (nothing new but our own, deleted, probe): no SEARCH")
    T.ok(not re.search(r'SELECT "Junk"', d2 + d3), "cycles 2 and 3: Junk not selected again")
    single = [l for _, _, c, _ in run for v, l in c if re.search(r"UID FETCH \d+ \(BODY\.PEEK\[HEADER\]\)", l)]
    T.eq(single, [], "B: no FETCH of the found probe's header block of its own")
    T.eq((t2.get("spf"), t2.get("dkim"), f2.get("hops")), ("pass", "pass", 0),
         "B: the verdicts come from the look that found it")
    # libcurl's CAPABILITY, STARTTLS, CAPABILITY, AUTHENTICATE; CAPABILITY (the
    # fake's login reply states none, Dovecot's does); SELECT, STATUS, NOOP,
    # FETCH, STORE, EXPUNGE, LOGOUT; a peek or a second NOOP at most.
    T.ok(len(c2) <= 14, f"a quiet cycle costs {len(c2)} IMAP commands (at most 14)",
         " ".join(v for v, _ in c2))
fake.close()

# C. A steady delivery 1.0 s after the SMTP reply.
fake = FakeMail(USERS + "deliver delay 1.0\n", tempfile.mkdtemp(prefix="me2e-fake."))
run = cycles(fake, {"timeout": "5s", "poll_interval": "2s"}, 7, "deliver delay 1.0\n")
if len(run) == 7:
    T.eq([t.get("result") for t, _, _, _ in run], ["success"] * 7, "seven probes found")
    noops = [sum(1 for v, _ in c if v == "NOOP") for _, _, c, _ in run]
    T.ok(max(noops[4:]) <= 6 and min(noops[:4]) >= 10,
         f"NOOPs per cycle before and after learning: {noops}")
    lags = [f.get("delivery_time", 9) for _, f, _, _ in run[4:]]
    T.ok(all(0.95 <= d <= 1.15 for d in lags), f"delivery_time from the fifth cycle: {lags}")
    total = [len(c) for _, _, c, _ in run]
    T.ok(max(total[4:]) <= 15 and max(total[4:]) < min(total[:4]),
         f"IMAP commands per cycle: {total} (at most 15 once learnt)")
fake.close()

# D. The EXISTS comes before the deadline, the look that reads it answers after.
# (EXISTS about 0.6 s before the 4 s deadline; the look answered 1.0 s
# later, within the 0.75 s the budget gives past the deadline.)
fake = FakeMail(USERS + "deliver delay 3.0\nimap on FETCH delay 1.0\n", tempfile.mkdtemp(prefix="me2e-fake."))
cfg = write_config(fake_route(fake, "intime", PW, timeout="4s", poll_interval="10s"))
t0 = time.monotonic()
s = Stream(cfg, ["--once"])
s.wait_exit(20)
took = time.monotonic() - t0
if T.ok(s.lines, "in time: a line", s.err[-1000:]):
    _, tags, f, _ = parse_line(s.lines[0])
    T.eq(tags.get("result"), "success", "news in time, answered after the deadline: success")
    T.ok(f.get("total_time", 9) < 4.0 and took < 4 + 1 + 0.5,
         f"found before the deadline (total_time {f.get('total_time')}), the line within timeout + 1 s "
         f"({took:.2f}s)")
fake.close()

# E. An empty mailbox is not searched for leftovers, even on a first cycle.
fake = FakeMail(USERS, tempfile.mkdtemp(prefix="me2e-fake."))
fake.mailbox.add("Subject: read and deleted long ago\r\n\r\nx\r\n")
fake.mailbox.msgs = []      # UIDNEXT 2, nothing in it: as a used mailbox is
run = cycles(fake, {"timeout": "5s"}, 1)
if run:
    T.eq(run[0][0].get("result"), "success", "E: the probe is found")
    T.eq([v for v, _ in run[0][2] if v == "SEARCH"], [], "E: 0 EXISTS at SELECT: no SEARCH for leftovers")
fake.close()
T.done()
