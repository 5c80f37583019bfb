#!/usr/bin/env python3
"""The sweep's window (issue 14, defect 8): with more than 64 earlier probes
in the mailbox, `late` still counts every late arrival.

The fake's INBOX is preloaded with probes this route can prove it made
(tokens computed here as plugin/probe_id.c does): 70 flagged \\Deleted (a
server without UIDPLUS keeps them so), then 69 that arrived in time and,
newest of all, one that arrived long after its timeout.  With
delete = false and sweep_after = 0 nothing may be removed, so the same
messages stay there cycle after cycle: a window stuck on the oldest 64
would never reach the late one.  Over three cycles it must be counted
exactly once, and no preloaded message may be touched."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, Stream, write_config, secret, parse_line, fake_route, provable_probe  # noqa: E402
from fakemail import FakeMail  # noqa: E402

PW = secret("window-Pw-8812")
ROUTE, USER, TO = "win", "bob", "bob@fake.test"
TIMEOUT = 4


def probe(stamp, nonce):
    return provable_probe(PW, ROUTE, USER, TO, stamp, nonce)


fake = FakeMail(f"user alice {PW}\nuser bob {PW}\n", tempfile.mkdtemp(prefix="me2e-fake."))
now = int(time.time())
n = 0
for i in range(70):
    n += 1
    fake.mailbox.add(probe(now - 600, f"{n:016x}"), when=now - 599, deleted=True)
for i in range(69):
    n += 1
    fake.mailbox.add(probe(now - 300, f"{n:016x}"), when=now - 299)
n += 1
fake.mailbox.add(probe(now - 200, f"{n:016x}"), when=now - 200 + 60)   # 60 s late
before = [(m[0], m[2]) for m in fake.mailbox.msgs]

cfg = write_config(fake_route(fake, ROUTE, PW, to=TO, imap_username=USER, timeout=f"{TIMEOUT}s",
                              delete="false", sweep_after="0"))
s = Stream(cfg, ["--trace"])
T.ok(s.wait_ready(), "process ready")
late = []
for cycle in range(3):
    s.signal()
    if not T.ok(s.wait_lines(cycle + 1, TIMEOUT + 10), f"cycle {cycle + 1}: a line", s.err[-2000:]):
        break
    _, tags, f, _ = parse_line(s.lines[cycle])
    T.eq(tags.get("result"), "success", f"cycle {cycle + 1}: the new probe is found")
    late.append(f.get("late"))
    time.sleep(0.5)   # its cleanup (logout) is over before the next cycle
T.eq(sum(x or 0 for x in late), 1, f"the late arrival behind 139 other probes is counted once (late per cycle: {late})")
T.ok(" UNDELETED " in s.err, "the sweep's search leaves \\Deleted messages out", s.err[-500:])
after = [(m[0], m[2]) for m in fake.mailbox.msgs][:len(before)]
T.eq(after, before, "no preloaded message was flagged or removed (delete = false, sweep_after = 0)")
s.close_stdin()
T.eq(s.wait_exit(10), 0, "exit 0 at end of stdin")
s.finish("sweep window")
fake.close()
T.done()
