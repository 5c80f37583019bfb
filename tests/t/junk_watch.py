#!/usr/bin/env python3
"""The junk mailbox watched from the inbox session (issue 10, item 3).

One streaming process against the fake server, whose LIST marks "Junk"
\\Junk.  The inbox session notes the junk mailbox's UIDNEXT with STATUS
before the send and peeks at it during the watch; a second login goes to
the junk mailbox only when something landed there during the watch (issue
22: the inbox session sweeps the junk mailbox itself when it may hold
something of ours, and an empty one never).  Otherwise one login a cycle.

Cycles: 1 fresh (1 login: the junk mailbox is empty), 2 quiet (1 login),
3 the probe is filed as junk 1.5 s after the send (found there,
delivery_time measured from the peek that saw it land, 2 logins), 4 after
it (1 login: the probe found there was deleted, nothing else came), 5
quiet again (1 login), 6 a peek the server never answers (imap_error, not
timeout).  Then a named junk mailbox that does
not exist fails the route, and one found through LIST that refuses STATUS
costs a warning while the inbox is still watched."""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, Stream, write_config, secret, parse_line, fake_route  # noqa: E402
from fakemail import FakeMail  # noqa: E402

PW = secret("junkwatch-Pw-4471")
USERS = f"user alice {PW}\nuser bob {PW}\n"
TIMEOUT = 6
JUNK_AT = 1.5


def logins(text):
    return len(re.findall(r"^imap\d+< \S+ (?:LOGIN|AUTHENTICATE)\b", text, re.M))


def run_cycle(s, fake, n, script):
    fake.reset(USERS + "imap junk\n" + script)
    before = fake.dialogue()
    s.signal()
    if not T.ok(s.wait_lines(n, TIMEOUT + 10), f"cycle {n}: a line", s.err[-2000:]):
        return None, None, ""
    time.sleep(0.6)   # its logout is over before the next cycle
    _, tags, f, _ = parse_line(s.lines[n - 1])
    return tags, f, fake.dialogue()[len(before):]


fake = FakeMail(USERS + "imap junk\n", tempfile.mkdtemp(prefix="me2e-fake."))
cfg = write_config(fake_route(fake, "junkwatch", PW, timeout=f"{TIMEOUT}s", check_junk="true",
                              poll_interval="1s"))
s = Stream(cfg, ["--trace"])
T.ok(s.wait_ready(), "process ready")

want = [(1, "", "inbox", 1), (2, "", "inbox", 1), (3, f"deliver junk {JUNK_AT}", "junk", 2),
        (4, "", "inbox", 1), (5, "", "inbox", 1)]
for n, script, mailbox, nlogins in want:
    tags, f, said = run_cycle(s, fake, n, script)
    if tags is None:
        break
    T.eq(tags.get("result"), "success", f"cycle {n}: success")
    T.eq(tags.get("mailbox"), mailbox, f"cycle {n}: found in the {mailbox}")
    T.eq(logins(said), nlogins, f"cycle {n}: {nlogins} IMAP login(s)")
    T.ok(re.search(r'^imap\d+< \S+ STATUS "Junk" \(UIDNEXT', said, re.M),
         f"cycle {n}: the inbox session asks the junk mailbox's UIDNEXT")
    if mailbox == "junk":
        T.ok(JUNK_AT - 0.05 <= f.get("delivery_time", 0) <= JUNK_AT + 1.0,
             f"cycle {n}: delivery_time {f.get('delivery_time')} within a peek of {JUNK_AT}s")
        T.eq(len([m for m in fake.boxes["JUNK"].msgs if not m[2]]), 0,
             f"cycle {n}: the probe is deleted from the junk mailbox")
        # The junk session exists because mail came there: it looks at once.
        conn = re.findall(r'^(imap\d+)< \S+ SELECT "Junk"', said, re.M)
        cmds = [l.split(" ", 2)[2] for l in said.splitlines() if conn and l.startswith(conn[-1] + "< ")]
        nxt = cmds[cmds.index('SELECT "Junk"') + 1] if 'SELECT "Junk"' in cmds[:-1] else ""
        T.ok(nxt.startswith("UID FETCH"), f"cycle {n}: the junk session's first look is a check, no NOOP first",
             cmds)
# A server that stalls on a peek is a stalled server, not a late message.
first_peek = fake.counts.get(("imap", "STATUS"), 0) + 2   # after this cycle's STATUS before the send
tags, f, said = run_cycle(s, fake, 6, f"deliver delay 20\nimap on STATUS#{first_peek} stall\n")
if tags is not None:
    T.eq(tags.get("result"), "imap_error", "cycle 6: a peek left unanswered is imap_error")
    T.ok("did not answer STATUS" in f.get("error", ""), "cycle 6: the error names the STATUS",
         f.get("error"))
s.close_stdin()
T.eq(s.wait_exit(10), 0, "the process ends cleanly")
T.ok("PW" not in s.err and PW not in s.err, "no password in the trace")

# A named junk mailbox must exist: its STATUS refused fails the route.
fake2 = FakeMail(USERS, tempfile.mkdtemp(prefix="me2e-fake."))
cfg = write_config(fake_route(fake2, "named", PW, check_junk="true", imap_junk_mailbox="Spam"))
s = Stream(cfg, ["--once"])
code = s.wait_exit(20)
line = s.lines[0] if s.lines else ""
T.eq(code, 1, "named junk mailbox missing: --once exits 1")
T.ok("result=imap_error" in line and "junk mailbox: STATUS" in line,
     "named junk mailbox missing: imap_error naming the STATUS", line)

# One found through LIST that refuses STATUS: a warning, the inbox still works.
fake3 = FakeMail(USERS + "imap junk\nimap on STATUS reply NO [SERVERBUG] try later\n",
                 tempfile.mkdtemp(prefix="me2e-fake."))
cfg = write_config(fake_route(fake3, "listed", PW, check_junk="true"))
s = Stream(cfg, ["--once"])
code = s.wait_exit(20)
line = s.lines[0] if s.lines else ""
T.eq(code, 0, "junk STATUS refused: --once exits 0")
T.ok("result=success" in line and "mailbox=inbox" in line, "junk STATUS refused: found in the inbox", line)
T.ok("W! " in s.err and "junk mailbox not watched" in s.err, "junk STATUS refused: one warning says so",
     s.err[-600:])
T.eq(logins(fake3.dialogue()), 1, "junk STATUS refused: no second login")

# NOTIFY (RFC 5465): one NOTIFY SET replaces the peeks, the junk mailbox's
# news comes with the NOOPs' answers; refused, the peeks go on.
def notify_once(script, what):
    f4 = FakeMail(USERS + "imap junk\nimap notify\n" + script, tempfile.mkdtemp(prefix="me2e-fake."))
    cfg4 = write_config(fake_route(f4, "notify", PW, timeout=f"{TIMEOUT}s", check_junk="true"))
    s4 = Stream(cfg4, ["--once"])
    code4 = s4.wait_exit(TIMEOUT + 10)
    line4 = s4.lines[0] if s4.lines else ""
    T.eq(code4, 0, f"{what}: --once exits 0")
    T.ok("result=success" in line4 and "mailbox=junk" in line4, f"{what}: found in the junk mailbox", line4)
    said4 = f4.dialogue()
    inbox = re.findall(r"^(imap\d+)< \S+ SELECT \"INBOX\"", said4, re.M)
    cmds = [l.split(" ", 2)[2] for l in said4.splitlines()
            if inbox and l.startswith(inbox[0] + "< ") and len(l.split(" ", 2)) > 2]
    return line4, cmds


line, cmds = notify_once(f"deliver junk {JUNK_AT}\n", "NOTIFY offered")
T.ok(len([c for c in cmds if c.startswith("NOTIFY SET")]) == 1, "NOTIFY offered: one NOTIFY SET", cmds)
T.ok(not [c for c in cmds if c == 'STATUS "Junk" (UIDNEXT)'], "NOTIFY offered: no STATUS peek at the junk mailbox",
     cmds)
T.ok(JUNK_AT - 0.05 <= float(re.search(r"delivery_time=([0-9.]+)", line).group(1) if "delivery_time=" in line
                             else 0) <= JUNK_AT + 0.5,
     "NOTIFY offered: delivery_time from the NOOP that told of it", line)
# Filed in Junk before the NOTIFY SET went out (a loaded machine, a fast
# filter): NOTIFY tells only of what comes later, so its STATUS indicator
# asks for the junk mailbox's state at once (RFC 5465 section 3.1).
line, cmds = notify_once("deliver junk-first\n", "junk before NOTIFY SET")
T.ok(any(c.startswith("NOTIFY SET STATUS ") for c in cmds), "junk before NOTIFY SET: NOTIFY SET STATUS asked", cmds)
line, cmds = notify_once(f"deliver junk {JUNK_AT}\nimap on NOTIFY reply NO [CANNOT] not here\n", "NOTIFY refused")
T.ok(len([c for c in cmds if c == 'STATUS "Junk" (UIDNEXT)']) >= 2, "NOTIFY refused: the junk mailbox is peeked at",
     cmds)
sys.exit(T.done())
