#!/usr/bin/env python3
# needs: spamworld
# variants: release
"""The spam-filter world itself (tests/mailstack/spamworld.sh), checked with
Python's smtplib / imaplib, not with mail-e2e: one probe-like message to each
scenario recipient, fetched over IMAP (STARTTLS), and the headers each real
filter wrote, by name, value and place in the header block.  rspamd (milter)
appends at the bottom: X-Rspamd-Queue-Id, X-Rspamd-Server, X-Spamd-Result
("default: False [S / 15.00]" also for a delivered spam), X-Rspamd-Action
(in an order that changes from one rspamd start to the next), then X-Spam:
Yes for spam.  SpamAssassin (spamc content filter) prepends
X-Spam-Checker-Version, X-Spam-Level, X-Spam-Status ("Yes|No, score=S
required=5.0 ..."), X-Spam-Score, and X-Spam-Flag: YES, X-Spam-Report for
spam.  Also: the filter is chosen by recipient on both SMTP ports, the
"both" recipient carries SpamAssassin's ham verdict on top and rspamd's spam
verdict at the bottom, mail to "plain" carries neither, nothing stays in
Postfix's queue.  Deletes every message it delivered."""
import email.utils
import imaplib
import os
import random
import re
import smtplib
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, stack, password, fatal  # noqa: E402

env = stack("SPAMWORLD_ENV", "spam-filter world", "SW_")
NEEDED = ("SW_HOST", "SW_CA", "SW_SUBMISSION_PORT", "SW_SMTP_PORT", "SW_IMAP_HOST", "SW_IMAP_PORT",
          "SW_SENDER", "SW_SENDER_USER", "SW_RCPT_RSPAMD_HAM", "SW_RCPT_RSPAMD_SPAM", "SW_RCPT_SA_HAM",
          "SW_RCPT_SA_SPAM", "SW_RCPT_BOTH", "SW_RCPT_NONE", "SW_RSPAMD_ADD_HEADER", "SW_RSPAMD_REJECT",
          "SW_SA_REQUIRED", "SW_SA_SPAM_SCORE", "SW_RSPAMD_HEADERS", "SW_SA_HEADERS", "SW_POSTFIX_CONF")
missing = [k for k in NEEDED if k not in env]
if missing:
    fatal(f"the env file lacks {', '.join(missing)}")
CTX = ssl.create_default_context(cafile=env["SW_CA"])
RUN = os.urandom(4).hex()
ADD_HEADER, REJECT = float(env["SW_RSPAMD_ADD_HEADER"]), float(env["SW_RSPAMD_REJECT"])
REQUIRED = float(env["SW_SA_REQUIRED"])
# SpamAssassin adds ALL_TRUSTED (-1.0) to its local rule: every hop is on loopback.
SA_SPAM = float(env["SW_SA_SPAM_SCORE"]) - 1.0
RSPAMD_NAMES = env["SW_RSPAMD_HEADERS"].split(",")          # every rspamd-scanned message
SA_NAMES = env["SW_SA_HEADERS"].split(",")                  # every SpamAssassin-scanned message
RSPAMD_ALL = set(RSPAMD_NAMES) | {"X-Spam"}
SA_ALL = set(SA_NAMES) | {"X-Spam-Flag", "X-Spam-Report"}
ORIGINAL = ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
            "Auto-Submitted", "X-Mail-E2E-Probe"]


def send(rcpt, port_key="SW_SUBMISSION_PORT", auth=True, token=None):
    """One message shaped like mail-e2e's probe (SPEC section 6); returns its token."""
    token = token or RUN + os.urandom(12).hex()
    msg = (f"From: {env['SW_SENDER']}\r\nTo: {rcpt}\r\nSubject: spamworld {token}\r\n"
           f"Date: {email.utils.formatdate()}\r\nMessage-ID: <{token}@spam.test>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
           f"Auto-Submitted: auto-generated\r\nX-Mail-E2E-Probe: {token}\r\n\r\n"
           "A probe of stack_spamworld.py.\r\n")
    with smtplib.SMTP(env["SW_HOST"], int(env[port_key]), timeout=30) as s:
        s.starttls(context=CTX)
        if auth:
            s.login(env["SW_SENDER_USER"], password(env, env["SW_SENDER_USER"]))
        s.sendmail(env["SW_SENDER"], [rcpt], msg)
    return token


def imap(user):
    c = imaplib.IMAP4(env["SW_IMAP_HOST"], int(env["SW_IMAP_PORT"]), timeout=30)
    c.starttls(ssl_context=CTX)
    c.login(user, password(env, user))
    c.select("INBOX")
    return c


def fetch_header(user, token, timeout=30.0):
    """(header block bytes, seconds waited) of the message carrying token,
    which is then deleted; (None, waited) if it never came."""
    c = imap(user)
    t0 = time.monotonic()
    try:
        while True:
            c.noop()   # Dovecot reports new mail at the end of a SEARCH (MAILSTACK-NOTES 12)
            typ, data = c.uid("SEARCH", None, "HEADER", "X-Mail-E2E-Probe", token)
            uids = (data[0] or b"").split() if typ == "OK" else []
            if uids or time.monotonic() - t0 > timeout:
                break
            time.sleep(0.05)
        waited = time.monotonic() - t0
        if not uids:
            return None, waited
        typ, data = c.uid("FETCH", uids[0].decode(), "(BODY.PEEK[HEADER])")
        raw = next(x[1] for x in data if isinstance(x, tuple))
        c.uid("STORE", b",".join(uids).decode(), "+FLAGS.SILENT", r"(\Deleted)")
        c.expunge()
        return raw, waited
    finally:
        c.logout()


def fields(raw):
    """The header block as [(name, unfolded value)] in order, top first."""
    out = []
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        if not line:
            continue
        if line[0] in " \t" and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
        elif ":" in line:
            name, value = line.split(":", 1)
            out.append((name, value.strip()))
    return out


def names(hdrs):
    return [n for n, _ in hdrs]


def value(hdrs, name):
    vals = [v for n, v in hdrs if n.lower() == name.lower()]
    return vals[0] if len(vals) == 1 else None


def spamd_result(hdrs):
    """(True/False word, score, threshold) of X-Spamd-Result, or None."""
    m = re.match(r"default: (True|False) \[(-?[0-9.]+) / (-?[0-9.]+)\]", value(hdrs, "X-Spamd-Result") or "")
    return (m.group(1), float(m.group(2)), float(m.group(3))) if m else None


def spam_status(hdrs):
    """(Yes/No, score, required, tests) of X-Spam-Status, or None."""
    v = value(hdrs, "X-Spam-Status") or ""
    m = re.match(r"(Yes|No), score=(-?[0-9.]+) required=(-?[0-9.]+) tests=(.*?)\s+autolearn=", v)
    if not m:
        return None
    return (m.group(1), float(m.group(2)), float(m.group(3)), [t.strip() for t in m.group(4).split(",")])


def check_rspamd_bottom(what, hdrs, spam):
    """rspamd's headers: the last ones of the block, after the original headers."""
    n = names(hdrs)
    want = RSPAMD_NAMES + (["X-Spam"] if spam else [])
    # In an order that changes from one rspamd start to the next (a Lua
    # table's): compared as a set.
    T.eq(sorted(n[len(n) - len(want):]), sorted(want), f"{what}: rspamd's headers are the last of the block")
    print(f"# {what}: rspamd's headers in the order written: {', '.join(n[len(n) - len(want):])}")
    T.ok(n.index("X-Mail-E2E-Probe") < n.index("X-Spamd-Result"),
         f"{what}: appended below the message's own headers (milter)", n)
    r = spamd_result(hdrs)
    T.ok(r is not None, f"{what}: X-Spamd-Result reads 'default: False|True [S / R]'", value(hdrs, "X-Spamd-Result"))
    return r


def check_sa_top(what, hdrs, spam):
    """SpamAssassin's headers: one run above the submission hop, below only
    the hops added after spamd saw the message."""
    n = names(hdrs)
    first = n.index("X-Spam-Checker-Version")
    want = (["X-Spam-Checker-Version", "X-Spam-Flag", "X-Spam-Level", "X-Spam-Status", "X-Spam-Report",
             "X-Spam-Score"] if spam else SA_NAMES)
    T.eq(n[first:first + len(want)], want, f"{what}: SpamAssassin's headers in one run, in this order")
    T.eq(n[:first], ["Return-Path", "Delivered-To", "Received", "Received"],
         f"{what}: above them only what came after spamd (LMTP, the re-injection hop)")
    T.ok(n[first + len(want)] == "Received", f"{what}: prepended on top of what spamd saw (a Received)",
         n[first + len(want):])
    s = spam_status(hdrs)
    T.ok(s is not None, f"{what}: X-Spam-Status reads 'Yes|No, score=S required=R tests=...'",
         value(hdrs, "X-Spam-Status"))
    return s


results = {}
t_all = time.monotonic()
plan = [("rspamd-ham", "SW_RCPT_RSPAMD_HAM", "SW_SUBMISSION_PORT", True),
        ("rspamd-spam", "SW_RCPT_RSPAMD_SPAM", "SW_SUBMISSION_PORT", True),
        ("sa-ham", "SW_RCPT_SA_HAM", "SW_SUBMISSION_PORT", True),
        ("sa-spam", "SW_RCPT_SA_SPAM", "SW_SUBMISSION_PORT", True),
        ("both", "SW_RCPT_BOTH", "SW_SUBMISSION_PORT", True),
        ("plain", "SW_RCPT_NONE", "SW_SUBMISSION_PORT", True),
        ("rspamd-spam via port 25", "SW_RCPT_RSPAMD_SPAM", "SW_SMTP_PORT", False),
        ("sa-spam via port 25", "SW_RCPT_SA_SPAM", "SW_SMTP_PORT", False),
        ("sa-spam, a Bitcoin-like token", "SW_RCPT_SA_SPAM", "SW_SUBMISSION_PORT", True)]
# A probe's token is random hex; about 1 in 60 starts with 1 or 3 and has no
# 0, which SpamAssassin's __BITCOIN_ID pattern takes for a Bitcoin address
# (PDS_BTC_ID, +1.0): the world must score the same whatever the token.
BTC_LIKE = "1" + "".join(random.choice("123456789abcdef") for _ in range(31))
for what, key, port, auth in plan:
    # One at a time: the wait measures this scenario's path alone.
    try:
        token = send(env[key], port, auth, BTC_LIKE if "Bitcoin" in what else None)
    except (OSError, smtplib.SMTPException) as e:
        T.ok(False, f"{what}: sent to {env[key]}", repr(e))
        continue
    raw, waited = fetch_header(env[key].split("@")[0], token)
    T.ok(raw is not None and waited < 30, f"{what}: delivered to {env[key]} and found over IMAP within 30 s",
         f"waited {waited:.2f} s")
    print(f"# {what}: found {waited:.3f} s after the SMTP transaction ended")
    results[what] = fields(raw) if raw else []

# Every hop of this world uses TLS, the filters' own included (plain_hops
# of mail-e2e's evidence stays 0).
WITH = re.compile(r"\bwith (\w+) id\b")   # not "using TLSv1.3 with cipher"
protos = {what: [(WITH.search(v) or re.match("()", "")).group(1) for n, v in h if n == "Received"]
          for what, h in results.items()}
T.ok(all(p in ("ESMTPS", "ESMTPSA", "LMTP") for ps in protos.values() for p in ps) and protos,
     "every hop, the filters' included, with TLS (ESMTPS, ESMTPSA) or LMTP", protos)

h = results.get("rspamd-ham", [])
if h:
    r = check_rspamd_bottom("rspamd ham", h, spam=False)
    if r:
        T.ok(r[0] == "False" and r[1] < ADD_HEADER and r[2] == REJECT,
             f"rspamd ham: False, score below add_header ({ADD_HEADER}), threshold = reject ({REJECT})", r)
    T.ok("SPAMWORLD_HAM_RCPT(-2.00)" in value(h, "X-Spamd-Result"), "rspamd ham: the local rule fired")
    T.eq(value(h, "X-Rspamd-Action"), "no action", "rspamd ham: X-Rspamd-Action: no action")
    T.ok(not SA_ALL & set(names(h)), "rspamd ham: no SpamAssassin header", names(h))
    print(f"# rspamd ham: X-Spamd-Result: {value(h, 'X-Spamd-Result')}")

h = results.get("rspamd-spam", [])
if h:
    r = check_rspamd_bottom("rspamd spam", h, spam=True)
    if r:
        T.ok(r[0] == "False" and ADD_HEADER <= r[1] < REJECT and r[2] == REJECT,
             "rspamd spam, delivered: still 'False' (True means reject), add_header <= score < reject", r)
    T.eq(h[-1], ("X-Spam", "Yes"), "rspamd spam: X-Spam: Yes, the last header (the proxy's own, after the module's)")
    T.eq(value(h, "X-Rspamd-Action"), "add header", "rspamd spam: X-Rspamd-Action: add header")
    T.ok("SPAMWORLD_SPAM_RCPT(10.00)" in value(h, "X-Spamd-Result"), "rspamd spam: the local rule fired")
    T.ok(not SA_ALL & set(names(h)), "rspamd spam: no SpamAssassin header", names(h))
    T.eq(names(h).count("Received"), 3, "rspamd spam: three hops (submission, the filter's, LMTP)")

h = results.get("sa-ham", [])
if h:
    s = check_sa_top("SpamAssassin ham", h, spam=False)
    if s:
        T.ok(s[0] == "No" and s[1] < REQUIRED and s[2] == REQUIRED,
             f"SpamAssassin ham: No, score below required ({REQUIRED})", s)
        T.ok("SPAMWORLD_HAM_RCPT" in s[3], "SpamAssassin ham: the local rule fired", s[3])
        T.eq(float(value(h, "X-Spam-Score") or "nan"), s[1], "SpamAssassin ham: X-Spam-Score = score=")
    T.ok(not RSPAMD_ALL & set(names(h)) and "X-Spam-Flag" not in names(h),
         "SpamAssassin ham: no X-Spam-Flag, no rspamd header", names(h))
    print(f"# SpamAssassin ham: X-Spam-Status: {value(h, 'X-Spam-Status')}")

h = results.get("sa-spam", [])
if h:
    s = check_sa_top("SpamAssassin spam", h, spam=True)
    if s:
        T.ok(s[0] == "Yes" and s[1] >= REQUIRED and s[2] == REQUIRED,
             f"SpamAssassin spam: Yes, score at or above required ({REQUIRED}), still delivered", s)
        T.ok("SPAMWORLD_SPAM_RCPT" in s[3], "SpamAssassin spam: the local rule fired", s[3])
        T.eq(float(value(h, "X-Spam-Score") or "nan"), s[1], "SpamAssassin spam: X-Spam-Score = score=")
    T.eq(value(h, "X-Spam-Flag"), "YES", "SpamAssassin spam: X-Spam-Flag: YES")
    T.ok(not RSPAMD_ALL & set(names(h)), "SpamAssassin spam: no rspamd header", names(h))
    T.eq(names(h)[-len(ORIGINAL):], ORIGINAL, "SpamAssassin spam: the probe's own headers unchanged at the bottom "
         "(report_safe 0: not wrapped)")
    print(f"# SpamAssassin spam: X-Spam-Status: {value(h, 'X-Spam-Status')}")

h = results.get("sa-spam, a Bitcoin-like token", [])
if h:
    s = spam_status(h)
    T.ok(bool(s) and s[1] == SA_SPAM and sorted(s[3]) == ["ALL_TRUSTED", "SPAMWORLD_SPAM_RCPT"],
         f"a token shaped like a Bitcoin address ({BTC_LIKE}) scores the same: {SA_SPAM}, "
         "ALL_TRUSTED and the local rule only", s)

h = results.get("both", [])
if h:
    s = check_sa_top("both", h, spam=False)
    r = check_rspamd_bottom("both", h, spam=True)
    n = names(h)
    T.ok(n.index("X-Spam-Status") < n.index("X-Spamd-Result"),
         "both: SpamAssassin's verdict nearest the top, rspamd's at the bottom", n)
    T.ok(bool(s and s[0] == "No" and r and r[1] >= ADD_HEADER and value(h, "X-Spam") == "Yes"),
         "both: SpamAssassin says ham, rspamd says spam", (s, r))
    T.eq(n.count("Received"), 4, "both: four hops (submission, rspamd's, back from spamc, LMTP)")

h = results.get("plain", [])
if h:
    T.ok(not (RSPAMD_ALL | SA_ALL) & set(names(h)), "plain: no filter header at all", names(h))
    T.eq(names(h).count("Received"), 2, "plain: two hops (submission, LMTP)")

h = results.get("rspamd-spam via port 25", [])
if h:
    r = spamd_result(h)
    T.ok(value(h, "X-Spam") == "Yes" and r and r[1] >= ADD_HEADER,
         "port 25 (no AUTH): the recipient chooses rspamd there too", r)
h = results.get("sa-spam via port 25", [])
if h:
    s = spam_status(h)
    T.ok(bool(s and s[0] == "Yes"), "port 25 (no AUTH): the recipient chooses SpamAssassin there too", s)

# Nothing deferred or held: every filter handed its mail on.
q = subprocess.run(["postqueue", "-c", env["SW_POSTFIX_CONF"], "-j"], capture_output=True, text=True, timeout=30)
T.ok(q.returncode == 0 and q.stdout.strip() == "", "Postfix's queue is empty afterwards", q.stdout + q.stderr)
for k in ("SW_RSPAMD_VERSION", "SW_SPAMASSASSIN_VERSION", "SW_SPAMC_VERSION", "SW_POSTFIX_VERSION"):
    print(f"# {k}={env.get(k)}")
T.ok(all(env.get(k, "unknown") != "unknown" for k in ("SW_RSPAMD_VERSION", "SW_SPAMASSASSIN_VERSION",
                                                       "SW_SPAMC_VERSION")),
     "the env file names each filter's Debian version")
print(f"# whole test: {time.monotonic() - t_all:.2f} s")
sys.exit(T.done())
