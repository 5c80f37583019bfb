#!/usr/bin/env python3
"""Logs that tell a story (SPEC §14, plugin/transitions.c): in streaming
mode a route whose result changes to a failure, or whose first cycle
fails, writes exactly one W! line naming the route, the old and new result
and the error; its recovery one I! line; an unchanged result nothing.

One streaming process, two routes against the fake server, seven cycles;
FakeMail.reset() swaps the script between cycles.  Route "story":
  1 bob's IMAP password refused    W! (first cycle) -> imap_auth_failed
  2 the same again                 nothing
  3 all well                       I! recovered after 2 failing cycle(s)
  4 all well                       nothing
  5 RCPT refused                   W! success -> smtp_rejected
  6 never delivered                W! smtp_rejected -> timeout
  7 all well                       I! recovered after 2 failing cycle(s)
Route "down" (SMTP port closed) fails the same way every cycle: one W! on
the first cycle, then nothing.  The lines are compared exactly, the error
taken from the cycle's own output line.  Then --once with failing routes:
no such line at all (a single cycle has no story)."""
import os
import re
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, Stream, run, write_config, secret, parse_line, fake_route  # noqa: E402
from fakemail import FakeMail  # noqa: E402

PW = secret("story-Pw-9183")
USERS = f"user alice {PW}\nuser bob {PW}\n"
TIMEOUT = 3
STORY = re.compile(r"^[WI]! (?:story|down): result .*$", re.M)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


fake = FakeMail(USERS, tempfile.mkdtemp(prefix="me2e-fake."))
down = fake_route(fake, "down", PW, smtp_port=closed_port(), imap_username="alice")
cfg = write_config(fake_route(fake, "story", PW, timeout=f"{TIMEOUT}s") + down)
s = Stream(cfg)
T.ok(s.wait_ready(), "process ready")

# (script, result of "story", expected line for "story" given its error, or None)
CYCLES = [
    (f"user alice {PW}\nuser bob not-{PW}\n", "imap_auth_failed",
     lambda e: f"W! story: result (first cycle) -> imap_auth_failed: {e}"),
    (f"user alice {PW}\nuser bob not-{PW}\n", "imap_auth_failed", None),
    (USERS, "success", lambda e: "I! story: result imap_auth_failed -> success: recovered after 2 failing cycle(s)"),
    (USERS, "success", None),
    (USERS + "smtp on RCPT reply 550 5.1.1 <bob@fake.test>: Recipient address rejected\n", "smtp_rejected",
     lambda e: f"W! story: result success -> smtp_rejected: {e}"),
    (USERS + "deliver never\n", "timeout", lambda e: f"W! story: result smtp_rejected -> timeout: {e}"),
    (USERS, "success", lambda e: "I! story: result timeout -> success: recovered after 2 failing cycle(s)"),
]
seen = 0
for n, (script, result, want) in enumerate(CYCLES, 1):
    fake.reset(script)
    s.signal()
    if not T.ok(s.wait_lines(2 * n, TIMEOUT + 10), f"cycle {n}: both lines", s.err[-2000:]):
        break
    s._pump(0.3)    # the log line goes out before the stdout line; take all of it
    got = {}
    for line in s.lines[2 * n - 2:2 * n]:
        _, tags, fields, _ = parse_line(line)
        got[tags["probe"]] = (tags["result"], fields.get("error", ""))
    T.eq(got.get("story", ("?",))[0], result, f"cycle {n}: story is {result}")
    T.eq(got.get("down", ("?",))[0], "smtp_connect_failed", f"cycle {n}: down is smtp_connect_failed")
    story = STORY.findall(s.err)
    new = story[seen:]
    seen = len(story)
    expect = []
    if n == 1:
        expect.append(f"W! down: result (first cycle) -> smtp_connect_failed: {got['down'][1]}")
    if want:
        expect.append(want(got["story"][1]))
    T.eq(sorted(new), sorted(expect), f"cycle {n}: the log lines are exactly "
         + ("; ".join(expect) if expect else "none"))
    time.sleep(0.3)   # its logout is over before the next cycle
s.close_stdin()
T.eq(s.wait_exit(10), 0, "the process ends cleanly")
s.finish("streaming")

# --once: the same failing routes, no story lines.
fake.reset(f"user alice {PW}\nuser bob not-{PW}\n")
r = run(["--once", "-c", cfg], what="--once")
T.eq(r.rc, 1, "--once with failing routes: exit 1")
T.eq(len(r.lines), 2, "--once: one line per route")
T.eq(STORY.findall(r.err), [], "--once: no W!/I! result line", )
fake.close()
T.done()
