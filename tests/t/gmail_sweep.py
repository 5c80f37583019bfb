#!/usr/bin/env python3
"""Gmail keeps what is deleted from INBOX in All Mail (issue 14): the sweep
of earlier probes looks there, moves what is due to Trash and removes it
from Trash, and touches nothing it cannot prove its own.

The fake behaves like Gmail (`imap gmail`): [Gmail]/All Mail holds three
leftovers of this route, two hours old (older than sweep_after = 1h), one
of them still in INBOX as well, and a message with a forged token.  After
one --once cycle: the new probe was found and is gone from every mailbox,
the three leftovers are gone from INBOX, All Mail and Trash, and the forged
one is where it was."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, write_config, secret, run, fake_route, provable_probe  # noqa: E402
from fakemail import FakeMail  # noqa: E402

PW = secret("gmail-Pw-4417")
ROUTE, USER, TO = "gm", "bob", "bob@fake.test"


def probe(stamp, nonce, forged=False):
    return provable_probe(PW, ROUTE, USER, TO, stamp, nonce, token="f" * 32 if forged else None)


fake = FakeMail(f"user alice {PW}\nuser bob {PW}\nimap gmail\n", tempfile.mkdtemp(prefix="me2e-fake."))
INBOX, ALL, TRASH = (fake.boxes[b] for b in ("INBOX", "[GMAIL]/ALL MAIL", "[GMAIL]/TRASH"))
old = int(time.time()) - 7200
ours = [probe(old, f"{i:016x}") for i in range(1, 4)]
forged = probe(old, "00000000000000ff", forged=True)
for text in ours + [forged]:
    ALL.add(text, when=old + 1)
INBOX.add(ours[2], when=old + 1)      # one leftover is in INBOX too (same message)

cfg = write_config(fake_route(fake, ROUTE, PW, to=TO, imap_username=USER, timeout="5s"))
r = run(["-c", cfg, "--once", "--trace"], what="Gmail sweep")
T.eq(r.rc, 0, "the probe is found (exit 0)")
T.ok("result=success" in r.out, "result=success", r.out + r.err[-2000:])
time.sleep(0.3)


def texts(box):
    with box.lock:
        return [m[1] for m in box.msgs if not m[2]]


left = {name: [t for t in texts(b) if "X-Mail-E2E-Probe" in t and t != forged]
        for name, b in (("INBOX", INBOX), ("All Mail", ALL), ("Trash", TRASH))}
T.ok(not any(left.values()), "no probe of this route is left in INBOX, All Mail or Trash",
     {k: len(v) for k, v in left.items()})
T.eq(texts(ALL).count(forged), 1, "the message with a forged token is still in All Mail")
T.ok("SELECT \"[Gmail]/All Mail\"" in r.err, "the sweep looked in [Gmail]/All Mail", r.err[-3000:])
T.ok("UID MOVE" in r.err and "SELECT \"[Gmail]/Trash\"" in r.err,
     "due leftovers were moved to Trash and removed there", r.err[-3000:])
T.ok(r.err.count("SELECT \"INBOX\"") >= 2, "INBOX was selected again for the watch", r.err[-3000:])
fake.close()
T.done()
