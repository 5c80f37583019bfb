#!/usr/bin/env python3
"""The defects issue 18 found where the IMAP session's modules met, each
reproduced against the fake server (tests/fake/fakemail.py) and fixed by the
engine with tasks (plugin/imap/):

 1. a probe's own bounce behind 16 other reports in one check is read;
 2. a probe found in time whose header FETCH is answered after the deadline
    keeps its verdicts; a header read that really fails is a warning, not
    auth_failed;
 3. a header block or a report over 64 KiB is read up to the cap, not thrown
    away (600 Received headers; a 70 KB report);
 4. waiting for a silent bounce server leaves the SMTP leg most of its time;
 5. a report about another recipient never makes a delivered probe bounced;
 7. the bounce mailbox's sweep refused with NO: no crash, one warning;
 8. reports nobody can prove ours are fetched once, and only their first
    64 KiB, not whole every cycle;
 9. the bounce session sends no LIST.
(6, a connection lost right after the login, is fault cases 60 and 61.)"""
import os
import re
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, Stream, write_config, secret, parse_line, fake_route, check_no_leak  # noqa: E402
from fakemail import FakeMail  # noqa: E402

PW = secret("defects-Pw-5520")
USERS = f"user alice {PW}\nuser bob {PW}\n"
AR = ("deliver-header Authentication-Results: mx.fake.test; spf=pass smtp.mailfrom=fake.test; "
      "dkim=pass header.d=fake.test; dmarc=pass header.from=fake.test\n")
RECEIVED = ("Received: from relay.example (relay.example [192.0.2.7]) by mx.fake.test "
            "(Postfix) with ESMTPS id 4XyZ1234567 for <bob@fake.test>; Mon, 7 Dec 2026 10:00:00 +0000")


def fake_with(script):
    return FakeMail(USERS + script, tempfile.mkdtemp(prefix="me2e-fake."))


def bounce_keys(fake, **more):
    keys = {"bounce_imap_host": "127.0.0.1", "bounce_imap_port": fake.ports["IMAP_PORT"],
            "bounce_imap_username": "alice", "bounce_imap_password": PW}
    keys.update(more)
    return keys


def once(fake, what, **route):
    """One --once run: (tags, fields, stderr, elapsed)."""
    route.setdefault("timeout", "6s")
    cfg = write_config(fake_route(fake, "dfx", PW, **route))
    t0 = time.monotonic()
    s = Stream(cfg, ["--once"])
    s.wait_exit(30)
    took = time.monotonic() - t0
    check_no_leak(what, "\n".join(s.lines), s.err)
    if not T.ok(s.lines, f"{what}: a line", s.err[-1500:]):
        return {}, {}, s.err, took
    _, tags, f, _ = parse_line(s.lines[0])
    return tags, f, s.err, took


# 1. Its own report behind 16 others in one check.
fake = fake_with("deliver never\ndsn failed\ndsn-noise 16\n")
tags, f, err, _ = once(fake, "16 reports first", **bounce_keys(fake))
T.eq(tags.get("result"), "bounced", "the probe's own report behind 16 others is read: bounced")
T.eq(f.get("dsn_status"), "5.1.1", "dsn_status from its report")
fake.close()

# 2. Found at about 2.1 s of 3 s; its header FETCH answered 1.2 s later, past
# the deadline (within the 0.75 s the budget gives cleanup past it).
# (HEADER#1 is the look that finds it, refused so that the probe's own
# header FETCH, HEADER#2, is the one answered late.)
fake = fake_with("deliver delay 1.8\n" + AR + "imap on HEADER#1 reply NO not now\nimap on HEADER#2 delay 1.2\n")
tags, f, err, took = once(fake, "late header FETCH", timeout="3s", require_auth="dkim")
T.eq(tags.get("result"), "success", "found in time, headers after the deadline: success, not auth_failed")
T.eq(tags.get("dkim"), "pass", "the late header block still gives the verdicts")
T.ok(took < 3 + 1 + 0.5, f"the line came within timeout + 1 s ({took:.2f}s)")
fake.close()
fake = fake_with("deliver delay 0.2\n" + AR + "imap on HEADER#1 reply NO not now\nimap on HEADER#2 stall\n")
tags, f, err, took = once(fake, "header FETCH stalls", timeout="4s", require_auth="dkim")
T.eq(tags.get("result"), "success", "the header read really fails: found all the same, no false verdict")
T.ok("dkim" not in tags, "no verdict tag without a header block", tags)
T.ok("W! " in err and "require_auth not checked" in err, "a warning says require_auth was not checked",
     err[-800:])
fake.close()

# 3. A header block past 64 KiB (600 Received headers under the verdicts, 90 KB).
fake = fake_with(AR + f"deliver-header-times 600 {RECEIVED}\n")
tags, f, err, _ = once(fake, "600 Received", require_auth="dkim")
T.eq(tags.get("result"), "success", "600 Received headers: success, the verdicts read")
T.eq((tags.get("spf"), tags.get("dkim"), tags.get("dmarc")), ("pass", "pass", "pass"),
     "the verdicts at the top of a cut block are read")
T.ok(100 < f.get("hops", 0) < 600, f"the hops in the first 64 KiB are counted ({f.get('hops')})")
fake.close()
# ... and a 70 KB report.
fake = fake_with("deliver never\ndsn failed bob@fake.test 70000\n")
tags, f, err, _ = once(fake, "70 KB report", **bounce_keys(fake))
T.eq(tags.get("result"), "bounced", "a 70 KB report is read up to 64 KiB: bounced")
T.ok("UID FETCH" in fake.dialogue() and "BODY.PEEK[]<0.65536>" in fake.dialogue(),
     "only the first 64 KiB of a report are fetched")
fake.close()

# 4. A bounce server that accepts and never greets, with timeout = 3s.
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(8)
held = []
threading.Thread(target=lambda: [held.append(silent.accept()) for _ in range(8)], daemon=True).start()
fake = fake_with("")
tags, f, err, _ = once(fake, "silent bounce server", timeout="3s", connect_timeout="10s",
                       **bounce_keys(fake, bounce_imap_port=silent.getsockname()[1]))
T.eq(tags.get("result"), "success", "a silent bounce server leaves the SMTP leg its time: success")
T.ok(f.get("smtp_time", 0) > 0 and f.get("total_time", 9) < 3,
     f"sent after a short wait (total_time {f.get('total_time')})")
fake.close()

# 5. A report about another recipient (a redirect :copy elsewhere failed).
fake = fake_with("dsn failed carol@dead.example\n")
tags, f, err, _ = once(fake, "report about carol", **bounce_keys(fake))
T.eq(tags.get("result"), "success", "a report about another recipient: the delivered probe is success")
T.ok("dsn_status" not in f, "no dsn_status from another recipient's report", f)
fake.close()

# 7. The bounce mailbox's sweep: its FETCH answered NO.
fake = fake_with("preload-reports 1\nimap on REPORT reply NO [SERVERBUG] not now\n")
tags, f, err, _ = once(fake, "sweep FETCH refused", **bounce_keys(fake))
T.eq(tags.get("result"), "success", "the sweep's FETCH refused: the probe goes on (no crash)")
T.ok(re.search(r"W! .*could not read earlier probes.*not now", err),
     "one warning with the server's words", err[-800:])
fake.close()

# 8. Ten foreign reports of 1 MB, three cycles of one process.
fake = fake_with("preload-reports 10 1000000\n")
cfg = write_config(fake_route(fake, "dfx", PW, timeout="6s", **bounce_keys(fake)))
s = Stream(cfg)
T.ok(s.wait_ready(), "streaming process ready", s.err[-800:])
per_cycle = []
for i in range(3):
    before = fake.report_bytes
    s.signal()
    s.wait_lines(i + 1, 15)
    per_cycle.append(fake.report_bytes - before)
s.close_stdin()
s.wait_exit(10)
check_no_leak("foreign reports", "\n".join(s.lines), s.err)
T.eq(len(s.lines), 3, "three lines")
T.ok(0 < per_cycle[0] <= 10 * 65536, f"cycle 1 reads at most 64 KiB of each report ({per_cycle[0]} bytes)")
T.eq(per_cycle[1:], [0, 0], "cycles 2 and 3 fetch none of them again")
fake.close()

# 9. The bounce session and LIST (check_junk on: the inbox needs it, the bounce mailbox never).
fake = fake_with("")
tags, f, err, _ = once(fake, "LIST count", check_junk="true", **bounce_keys(fake))
T.eq(tags.get("result"), "success", "a probe with a bounce watch and check_junk")
lists = {m.group(1) for m in re.finditer(r"^imap(\d+)< \S+ LIST ", fake.dialogue(), re.M)}
logins = {m.group(1) for m in re.finditer(r"^imap(\d+)< \S+ (?:LOGIN|AUTHENTICATE) ", fake.dialogue(), re.M)}
T.ok(len(logins) == 2 and len(lists) == 1, f"two sessions, one LIST (sessions {sorted(logins)}, "
     f"LIST from {sorted(lists)})")
fake.close()

T.done()
