#!/usr/bin/env python3
"""The SMTP transaction in the program's own hands (issue 20, SPEC §8, §11),
against the fake server (tests/fake/fakemail.py):

 - the envelope carries the DSN parameters where EHLO lists DSN
   (MAIL FROM:<from> SIZE=n RET=HDRS ENVID=<token>, RCPT TO:<to>
   NOTIFY=FAILURE,DELAY), and none where it does not;
 - a report that returns no headers is proved by its Original-Envelope-Id
   alone (bounced), and not when no ENVID went out;
 - the nine step fields, in both formats, each with its meaning: a greet
   pause shows in smtp_greeting_time, a slow final reply in
   smtp_send_time; the SMTP steps add up to no more than smtp_time;
 - a step not reached has no field (JSON null).
The fault matrix (tests/fake/cases) checks that every refusal and stall is
classified as it was when libcurl spoke the transaction."""
import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, Stream, write_config, secret, parse_line, fake_route, check_no_leak  # noqa: E402
from fakemail import FakeMail  # noqa: E402

PW = secret("smtptx-Pw-2207")
USERS = f"user alice {PW}\nuser bob {PW}\n"
SMTP_STEPS = ("smtp_connect_time", "smtp_greeting_time", "smtp_tls_time", "smtp_auth_time", "smtp_send_time")
IMAP_STEPS = ("imap_connect_time", "imap_tls_time", "imap_login_time", "imap_select_time")


def once(fake, what, fmt="influx", **route):
    route.setdefault("timeout", "5s")
    cfg = write_config(fake_route(fake, "tx", PW, **route))
    s = Stream(cfg, ["--once", "--format", fmt])
    s.wait_exit(30)
    check_no_leak(what, "\n".join(s.lines), s.err)
    if not T.ok(s.lines, f"{what}: a line", s.err[-1500:]):
        return {}, {}
    if fmt == "json":
        return json.loads(s.lines[0]), {}
    _, tags, f, _ = parse_line(s.lines[0])
    return tags, f


def fresh(script=""):
    return FakeMail(USERS + script, tempfile.mkdtemp(prefix="me2e-fake."))


# The DSN parameters on the wire.
fake = fresh()
j, _ = once(fake, "DSN offered", fmt="json")
mail, rcpt = (fake.envelope + ["", ""])[:2]
T.ok(re.fullmatch(r"MAIL FROM:<alice@fake\.test> SIZE=\d+ RET=HDRS ENVID=" + re.escape(j.get("hash", "?")), mail),
     "MAIL FROM carries SIZE, RET=HDRS and ENVID=<the probe's token>", mail)
T.eq(rcpt, "RCPT TO:<bob@fake.test> NOTIFY=FAILURE,DELAY", "RCPT TO carries NOTIFY=FAILURE,DELAY")
T.eq(j.get("result"), "success", "the probe goes through")
fake.close()
fake = fresh("smtp omit DSN\n")
once(fake, "DSN not offered")
T.ok(re.fullmatch(r"MAIL FROM:<alice@fake\.test> SIZE=\d+", fake.envelope[0] if fake.envelope else ""),
     "no DSN in EHLO: MAIL FROM without DSN parameters", fake.envelope)
T.eq(fake.envelope[1:], ["RCPT TO:<bob@fake.test>"], "no DSN in EHLO: RCPT TO without NOTIFY")
fake.close()

# Addresses that need SMTPUTF8 (RFC 6531): asked for where offered; never
# sent where not (the server could not take them).
UTF8 = {"from": "älice@fake.test", "to": "bøb@fake.test"}
fake = fresh()
j, _ = once(fake, "SMTPUTF8 offered", fmt="json", **UTF8)
T.ok((fake.envelope + [""])[0].endswith(" SMTPUTF8"), "non-ASCII addresses: MAIL FROM asks for SMTPUTF8",
     fake.envelope)
fake.close()
fake = fresh("smtp omit SMTPUTF8\n")
j, _ = once(fake, "SMTPUTF8 not offered", fmt="json", **UTF8)
T.ok(j.get("result") == "smtp_rejected" and "SMTPUTF8" in (j.get("error") or ""),
     "no SMTPUTF8 in EHLO: smtp_rejected, the error says why", (j.get("result"), j.get("error")))
T.ok(fake.envelope == [], "no SMTPUTF8 in EHLO: no MAIL FROM goes out", fake.envelope)
fake.close()

# A report proved by its Original-Envelope-Id alone.
BOUNCE = {"bounce_imap_host": "127.0.0.1", "bounce_imap_username": "alice", "bounce_imap_password": PW}
fake = fresh("deliver never\ndsn failed\ndsn-envid-only\n")
tags, f = once(fake, "ENVID proof", bounce_imap_port=fake.ports["IMAP_PORT"], **BOUNCE)
T.eq((tags.get("result"), f.get("dsn_status")), ("bounced", "5.1.1"),
     "a report returning no headers, its Original-Envelope-Id the token: bounced")
fake.close()
fake = fresh("deliver never\ndsn failed\ndsn-envid-only\nsmtp omit DSN\n")
tags, f = once(fake, "no ENVID sent", timeout="3s", bounce_imap_port=fake.ports["IMAP_PORT"], **BOUNCE)
T.eq(tags.get("result"), "timeout", "no ENVID went out: such a report proves nothing (timeout)")
fake.close()

# The steps.
fake = fresh("smtp greeting delay 0.6 220 fakemail ESMTP slow greeting\nsmtp on BODY delay 0.4\n")
tags, f = once(fake, "steps")
T.eq(tags.get("result"), "success", "steps: success")
T.ok(all(k in f for k in SMTP_STEPS + IMAP_STEPS), "all nine step fields are there",
     sorted(k for k in SMTP_STEPS + IMAP_STEPS if k not in f))
T.ok(0.55 <= f.get("smtp_greeting_time", 0) < 2.0,
     f"a greet pause shows in smtp_greeting_time ({f.get('smtp_greeting_time')})")
T.ok(0.35 <= f.get("smtp_send_time", 0) < 2.0,
     f"a slow final reply shows in smtp_send_time ({f.get('smtp_send_time')})")
total = sum(f.get(k, 0) for k in SMTP_STEPS)
T.ok(total <= f.get("smtp_time", 0) + 0.001,
     f"the SMTP steps add up to no more than smtp_time ({total:.4f} <= {f.get('smtp_time')})")
T.ok(f.get("smtp_greeting_time", 9) + f.get("smtp_send_time", 9) > 0.9 and f.get("smtp_tls_time", 9) < 0.5,
     "each pause lands in its own step, not in the TLS step")
fake.close()
fake = fresh()
j, _ = once(fake, "steps in JSON", fmt="json")
T.ok(all(isinstance(j.get(k), float) for k in SMTP_STEPS + IMAP_STEPS), "JSON: the nine steps as numbers",
     {k: j.get(k) for k in SMTP_STEPS + IMAP_STEPS})
fake.close()

# A step not reached: an SMTP server that refuses AUTH has no smtp_send_time.
fake = fresh("smtp on AUTH reply 535 5.7.8 authentication failed\n")
j, _ = once(fake, "AUTH refused", fmt="json")
T.eq(j.get("result"), "smtp_auth_failed", "AUTH refused: smtp_auth_failed")
T.ok(j.get("smtp_send_time", 1) is None and isinstance(j.get("smtp_auth_time"), float),
     "AUTH refused: smtp_auth_time, no smtp_send_time (null)", (j.get("smtp_auth_time"), j.get("smtp_send_time")))
fake.close()

T.done()
