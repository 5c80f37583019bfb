#!/usr/bin/env python3
# needs: mailstack
"""Issue 5 against the real Postfix + Dovecot: a clean mailbox and the
whole truth.

1. Sweep: this route's leftovers older than sweep_after are deleted; younger
   ones, another route's leftovers, and 20 ordinary messages (subjects with
   the prefix, a forged X-Mail-E2E-Probe, a copied real token under another
   Message-ID, a bounce quoting a probe, a reply with the token) stay
   byte for byte, flags included, checked message by message.
2. Late: a probe held back by Postfix past its timeout and then released is
   counted in `late` on the next cycle (and only once); a reply and a bounce
   carrying its token never count.
3. Junk: a Sieve rule files the probe into Junk: mailbox=junk, success; with
   junk_is_failure result=junk (11); with check_junk = false it is not seen.
4. Trace: --trace shows the sweep's dialogue and no password.
"""
import email.utils
import os
import re
import secrets
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import (result_codes, T, Stream, stack, stack_route, config_text, write_config, run,  # noqa: E402
                 by_probe, imap_inspect, probe_messages)

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
env = stack()
D = env["MS_DOMAIN"]


def once(route_text, what):
    r = run(["-c", write_config(config_text(route_text)), "--once"], what=what)
    lines = by_probe(r.out)
    name = re.match(r"\[([^\]]+)\]", route_text).group(1)
    got = lines.get(name, [({}, {}, 0)])[0]
    return got[0], got[1], r


def snapshot(user, mailbox="INBOX"):
    """{uid: (flags, full message bytes)} of a mailbox, read without
    changing anything (BODY.PEEK)."""
    c = imap_inspect(env, user, mailbox)
    try:
        typ, data = c.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        snap = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            head = item[0].decode()
            uid = int(re.search(r"UID (\d+)", head).group(1))
            flags = re.search(r"FLAGS \(([^)]*)\)", head).group(1)
            snap[uid] = (flags, item[1])
        return snap
    finally:
        c.logout()


def append(user, text, mailbox="INBOX", flags=""):
    c = imap_inspect(env, user, mailbox)
    try:
        typ, _ = c.append(mailbox, flags, None, text.replace("\n", "\r\n").encode())
        return typ == "OK"
    finally:
        c.logout()


def header(msg_bytes, name):
    """A field of the message's own header section (not of a quoted copy)."""
    head = re.split(rb"\r?\n\r?\n", msg_bytes, 1)[0]
    m = re.search(rb"^" + name.encode() + rb":\s*(\S+)", head, re.M | re.I)
    return m.group(1).decode() if m else None


def wait_for(fn, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return fn()


def clear(user, mailbox="INBOX"):
    """Empty a test user's mailbox, so the counts below start from zero."""
    c = imap_inspect(env, user, mailbox)
    try:
        c.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)")
        c.expunge()
    finally:
        c.logout()


for user, box in (("sweep", "INBOX"), ("held", "INBOX"), ("junky", "Junk"), ("junky", "INBOX")):
    clear(user, box)

# --- 1. sweep -----------------------------------------------------------------
mine = lambda **kw: stack_route(env, "sweep-mine", user="sweep", **kw)
other = lambda **kw: stack_route(env, "sweep-other", user="sweep", **kw)

for i in range(2):
    tags, f, _ = once(mine(delete="false", sweep_after="0"), f"leftover {i + 1} of this route")
    T.eq(tags.get("result"), "success", f"leftover {i + 1} of this route delivered (delete = false)")
tags, f, _ = once(other(delete="false", sweep_after="0"), "leftover of another route")
T.eq(tags.get("result"), "success", "leftover of another route delivered")
before = snapshot("sweep")
T.ok(len(before) == 3, "three probe leftovers in the mailbox", sorted(before))
real_token = header(before[min(before)][1], "X-Mail-E2E-Probe")
real_msgid = header(before[min(before)][1], "Message-ID")
real_probe = before[min(before)][1].decode()

ordinary = []
for i in range(20):
    subject = f"ordinary message {i}"
    extra = ""
    if i < 5:
        subject = f"[e2e email monitoring] {secrets.token_hex(16)}"
    elif i == 5:
        extra = f"X-Mail-E2E-Probe: {secrets.token_hex(16)}\n"
        subject = "forged probe header, random token"
    elif i == 6:
        # A real token, copied, under a Message-ID of the same shape but
        # another stamp: the MAC cannot match.
        stamp, nonce = re.match(r"<(\d+)\.([0-9a-f]+)\.", real_msgid).groups()
        extra = f"X-Mail-E2E-Probe: {real_token}\n"
        subject = "copied real token"
        fake_id = f"<{int(stamp) - 7200}.{nonce}.mail-e2e@{D}>"
    elif i == 7:
        subject = f"Re: [e2e email monitoring] {real_token}"
    msgid = fake_id if i == 6 else email.utils.make_msgid(domain=D)
    if i == 8:
        # A bounce quoting a real probe, headers and all, in message/rfc822.
        text = (f"From: MAILER-DAEMON@{D}\nTo: sweep@{D}\nSubject: Undelivered Mail Returned to Sender\n"
                f"Message-ID: {msgid}\nMIME-Version: 1.0\n"
                "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n"
                "--b1\nContent-Type: text/plain\n\nThe mail system bounced it.\n\n"
                "--b1\nContent-Type: message/rfc822\n\n" + real_probe.replace("\r\n", "\n") + "\n--b1--\n")
    else:
        text = (f"From: someone{i}@{D}\nTo: sweep@{D}\nSubject: {subject}\nMessage-ID: {msgid}\n"
                f"Date: {email.utils.formatdate()}\n{extra}\nbody {i}\nX-Mail-E2E-Probe: {real_token}\n")
    ordinary.append(append("sweep", text, flags="(\\Seen)" if i % 3 == 0 else ""))
T.ok(all(ordinary), "20 ordinary messages appended (prefix subjects, forged header, copied token, bounce, reply)")

# A younger leftover of this route: sweep_after = 1h must leave it.
tags, f, _ = once(mine(delete="false", sweep_after="0"), "a young leftover of this route")
young = snapshot("sweep")
young_uid = max(young)
tags, f, _ = once(mine(sweep_after="1h"), "sweep_after = 1h")
T.eq(tags.get("result"), "success", "sweep_after = 1h: probe succeeds")
T.eq(f.get("late"), 0, "sweep_after = 1h: late=0i (nothing arrived after its timeout)")
after_1h = snapshot("sweep")
T.eq(sorted(after_1h), sorted(young), "sweep_after = 1h: nothing younger than an hour deleted, the new probe deleted")

time.sleep(3.2)   # the three leftovers of this route are now older than 3 s
tags, f, r = once(mine(sweep_after="3s"), "sweep_after = 3s")
T.eq(tags.get("result"), "success", "sweep_after = 3s: probe succeeds")
after = snapshot("sweep")
mine_uids = [u for u in sorted(before)[:2]] + [young_uid]
T.eq(sorted(set(mine_uids) - set(after)), sorted(mine_uids),
     "this route's leftovers older than sweep_after removed (3 of 3)")
kept = {u: v for u, v in young.items() if u not in mine_uids}
T.eq(len(kept), 21, "21 messages that are not this route's: 20 ordinary + 1 of another route")
for uid, (flags, body) in sorted(kept.items()):
    now = after.get(uid)
    subject = re.search(rb"^Subject: ([^\r\n]*)", body, re.M)
    subject = subject.group(1).decode()[:48] if subject else "?"
    T.ok(now is not None and now == (flags, body),
         f"untouched, bytes and flags: UID {uid} ({subject})",
         (flags, now[0] if now else None))
T.eq(sorted(after), sorted(kept), "nothing else in the mailbox: the new probe was deleted too")

# --- 4. trace of a sweep: dialogue shown, no password ---------------------------
r = run(["-c", write_config(config_text(other(sweep_after="1s"))), "--once", "--trace"],
        what="trace of a sweep")
T.ok("UID FETCH" in r.err and "BODY.PEEK[HEADER.FIELDS (X-Mail-E2E-Probe Message-ID)]" in r.err,
     "--trace shows the sweep's SEARCH/FETCH dialogue", r.err[-1500:])
T.ok(re.search(r"D! sweep-other/(imap|junk) > \S+ AUTHENTICATE PLAIN \*\*\*", r.err) or
     re.search(r"D! sweep-other/(imap|junk) > \S+ LOGIN \*\*\*", r.err),
     "--trace shows the IMAP login with its arguments as ***", r.err[:2000])
T.ok(re.search(r"D! sweep-other/smtp > AUTH PLAIN \*\*\*", r.err), "--trace shows SMTP AUTH as ***")
other_uid = sorted(before)[2]
ordinary_uids = sorted(u for u in kept if u != other_uid)
T.eq(sorted(snapshot("sweep")), ordinary_uids,
     "another route's leftover swept by its own route; the 20 ordinary messages still there")

# --- 2. late arrivals ---------------------------------------------------------------
release = lambda: subprocess.run([os.path.join(ROOT, "tests/mailstack/mailstack.sh"), "release",
                                  env["MS_DIR"]], check=False, capture_output=True)
release()           # whatever earlier tests left in the hold queue ...
time.sleep(1.0)
clear("held")       # ... lands, and goes
held_before = set(snapshot("held"))
late_cfg = write_config(config_text(stack_route(env, "sweep-late", user="held", timeout="3s",
                                                check_junk="false")))
s = Stream(late_cfg)
T.ok(s.wait_ready(), "late: streaming process ready")
s.signal()
T.ok(s.wait_lines(1, 15), "late: cycle 1 gives a line", s.err[-1000:])
tags, f, _ = by_probe(s.lines[0])["sweep-late"][0]
T.eq(tags.get("result"), "timeout", "late: cycle 1 times out (Postfix holds the probe)")
T.eq(f.get("late"), 0, "late: cycle 1 reports late=0i")
release()
landed = wait_for(lambda: [u for u in snapshot("held") if u not in held_before], 10)
T.ok(landed, "late: the released probe landed after its timeout", landed)
held_new = snapshot("held")
probe_uid = [u for u in landed if header(held_new[u][1], "X-Mail-E2E-Probe")]
token1 = header(held_new[probe_uid[0]][1], "X-Mail-E2E-Probe") if probe_uid else "none"
# A reply and a bounce carrying the late probe's token: neither may count.
append("held", f"From: bob@{D}\nTo: held@{D}\nSubject: Re: [e2e email monitoring] {token1}\n"
               f"Message-ID: {email.utils.make_msgid(domain=D)}\n\nX-Mail-E2E-Probe: {token1}\n")
append("held", f"From: MAILER-DAEMON@{D}\nTo: held@{D}\nSubject: Undelivered\nMIME-Version: 1.0\n"
               f"Message-ID: {email.utils.make_msgid(domain=D)}\n"
               "Content-Type: multipart/report; boundary=\"b2\"\n\n--b2\nContent-Type: message/rfc822\n\n"
               + held_new[probe_uid[0]][1].decode().replace("\r\n", "\n") + "\n--b2--\n")
s.signal()
T.ok(s.wait_lines(2, 15), "late: cycle 2 gives a line", s.err[-1000:])
tags, f, _ = by_probe(s.lines[1])["sweep-late"][0]
T.eq(f.get("late"), 1, "late: cycle 2 counts the released probe: late=1i")
T.eq(tags.get("result"), "timeout", "late: cycle 2's own probe is held too, and no reply or bounce made it succeed")
release()
wait_for(lambda: len(snapshot("held")) > len(held_new), 10)
s.signal()
T.ok(s.wait_lines(3, 15), "late: cycle 3 gives a line", s.err[-1000:])
tags, f, _ = by_probe(s.lines[2])["sweep-late"][0]
T.eq(f.get("late"), 1, "late: cycle 3 counts cycle 2's probe, not cycle 1's again: late=1i")
s.close_stdin()
T.eq(s.wait_exit(15), 0, "late: exit 0 at end of stdin")
s.finish("late stream")
final = snapshot("held")
T.ok(not any(header(v[1], "X-Mail-E2E-Probe") == token1 for v in final.values()),
     "late: the counted late probe was deleted (delete = true)")
T.eq(sum(1 for v in final.values() if token1.encode() in v[1]), 2,
     "late: the reply and the bounce with its token are still there, untouched")

# --- 3. junk placement ------------------------------------------------------------------
junky = lambda **kw: stack_route(env, "sweep-junk", user="junky", **kw)
tags, f, _ = once(junky(), "Sieve files the probe into Junk")
T.eq((tags.get("result"), tags.get("mailbox"), f.get("success")), ("success", "junk", 1),
     "Sieve fileinto Junk: result=success, mailbox=junk")
tags, f, _ = once(junky(junk_is_failure="true"), "junk_is_failure = true")
T.eq((tags.get("result"), tags.get("mailbox"), f.get("result_code"), f.get("success")),
     ("junk", "junk", result_codes()["junk"], 0),
     "junk_is_failure = true: result=junk, its result_code, success=0i")
T.ok("junk" in f.get("error", ""), "junk_is_failure: error says where it went", f.get("error"))
tags, f, _ = once(junky(check_junk="false", timeout="3s"), "check_junk = false")
T.eq(tags.get("result"), "timeout", "check_junk = false: the inbox alone never sees it")
T.eq(len(probe_messages(env, "junky", "Junk")), 1, "the unseen probe stays in Junk (nothing watched it)")
tags, f, _ = once(junky(imap_junk_mailbox="Junk", sweep_after="1s"), "imap_junk_mailbox = Junk")
T.eq((tags.get("result"), tags.get("mailbox")), ("success", "junk"), "imap_junk_mailbox = Junk: found there")
T.eq(probe_messages(env, "junky", "Junk"), [], "Junk holds no probe afterwards (the unseen one swept too)")
tags, f, _ = once(stack_route(env, "sweep-inbox", user="bob"), "an ordinary route")
T.eq(tags.get("mailbox"), "inbox", "a probe found in the inbox: mailbox=inbox")
T.done()
