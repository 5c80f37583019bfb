#!/usr/bin/env python3
"""A broken bounce watch never breaks the probe (issue 11, SPEC §8): it is a
`W! ` line and the probe goes on, like the junk watch.  Against the fake
server (tests/fake/fakemail.py): the bounce mailbox refuses the login; the
bounce server accepts the connection and never says a word (the send waits
for it at most 3 s and a quarter of the time left, then goes without); and a plain-text bounce that quotes
the probe, which proves nothing and is never counted.  Real reports, from
Postfix about Exim's refusals, are tests/t/stack_bounce.py.  And a negative
probe (expect = smtp_rejected) against a server that relays for anyone:
success=0i with the observed result."""
import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, Stream, write_config, secret, parse_line, fake_route, check_no_leak  # noqa: E402
from fakemail import FakeMail  # noqa: E402

PW = secret("bouncewatch-Pw-3390")
USERS = f"user alice {PW}\nuser bob {PW}\n"


def run(fake, **route):
    route.setdefault("timeout", "8s")
    cfg = write_config(fake_route(fake, "bw", PW, **route))
    t0 = time.monotonic()
    s = Stream(cfg, ["--once"])
    rc = s.wait_exit(30)
    took = time.monotonic() - t0
    check_no_leak("bounce watch", "\n".join(s.lines), s.err)
    if not T.ok(s.lines, "a line", s.err[-1500:]):
        return {}, {}, s.err, rc, took
    _, tags, f, _ = parse_line(s.lines[0])
    return tags, f, s.err, rc, took


fake = FakeMail(USERS, tempfile.mkdtemp(prefix="me2e-fake."))
tags, f, err, rc, took = run(fake, bounce_imap_host="127.0.0.1", bounce_imap_port=fake.ports["IMAP_PORT"],
                             bounce_imap_username="alice", bounce_imap_password="wrong-" + PW)
T.eq((tags.get("result"), rc), ("success", 0), "bounce mailbox refuses the login: the probe still succeeds")
T.ok("W! " in err and "bounce mailbox not watched" in err, "one warning names the bounce mailbox", err[-800:])

# A bounce server that accepts and never greets.
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(8)
held = []
threading.Thread(target=lambda: [held.append(silent.accept()) for _ in range(4)], daemon=True).start()
tags, f, err, rc, took = run(fake, bounce_imap_host="127.0.0.1", bounce_imap_port=silent.getsockname()[1],
                             bounce_imap_username="alice", bounce_imap_password=PW, connect_timeout="6s")
T.eq(tags.get("result"), "success", "a silent bounce server: the probe still succeeds")
# The wait is 3 s at most, and at most a quarter of the time left (SMTP
# keeps the rest): about 2 s of an 8 s timeout.
T.ok(1.5 <= f.get("total_time", 0) <= 3.5,
     f"the send waited for the bounce watch a quarter of the time left, no longer "
     f"(total_time {f.get('total_time')})")
T.ok("bounce mailbox not watched" in err and "did not get ready in time" in err,
     "a warning says the bounce watch was not ready in time", err[-800:])

# "deliver bounce": a plain-text notice quoting the probe, not a report.
fake2 = FakeMail(USERS + "deliver bounce\n", tempfile.mkdtemp(prefix="me2e-fake."))
tags, f, err, rc, took = run(fake2, bounce_imap_host="127.0.0.1", bounce_imap_port=fake2.ports["IMAP_PORT"],
                             bounce_imap_username="alice", bounce_imap_password=PW, timeout="3s")
T.eq(tags.get("result"), "timeout", "a plain-text bounce quoting the probe proves nothing: timeout, not bounced")
T.ok("dsn_status" not in f and "delayed" not in f, "no report fields from a plain-text notice", f)
# A negative probe against a server misconfigured to relay: the fake takes
# mail for any domain, so the expected refusal does not come.
tags, f, err, rc, took = run(fake, to="someone@elsewhere.test", expect="smtp_rejected", timeout="3s")
T.ok(tags.get("result") != "smtp_rejected" and f.get("success") == 0 and rc == 1,
     f"expect = smtp_rejected at an open relay: the observed result ({tags.get('result')}), success=0i, "
     "--once exits 1", f)
sys.exit(T.done())
