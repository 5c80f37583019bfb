#!/usr/bin/env python3
# needs: courier
"""mail-e2e against a second real stack: OpenSMTPD 6.8 + Courier IMAP 5.0
(tests/mailstack/courier.sh).  Every TLS combination the stack offers, the
mailbox left clean (over IMAP and on disk), IDLE and polling, the failure
classes with OpenSMTPD's and Courier's own replies, and junk filing into a
mailbox Courier does not mark \\Junk (it has no SPECIAL-USE)."""
import glob
import imaplib
import os
import re
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import result_codes, T, fatal, secret, write_config, run, by_probe, stack, stack_route, password  # noqa: E402


env = stack("COURIER_ENV", "OpenSMTPD + Courier IMAP", "CO_")
D = env["CO_DOMAIN"]
JUNK = env.get("CO_JUNK_MAILBOX", "INBOX.Junk")


def pw(user):
    return password(env, user)


def route(name, user="bob", sender="alice", smtp="submission", imap="starttls", **extra):
    """One route (e2e.stack_route); smtp "plain-starttls" is port 25 with
    STARTTLS and no AUTH; imap "stockidle" is Debian's IMAP_ENHANCEDIDLE=0."""
    extra.setdefault("check_junk", "false")
    return stack_route(env, name, user, sender, "mx" if smtp == "plain-starttls" else smtp, imap, **extra)


def config(*routes):
    return write_config("".join(routes))


def one(r, name):
    """(tags, fields) of route name's only line, or ({}, {}) after a failed check."""
    lines = by_probe(r.out)
    T.eq(len(lines.get(name, [])), 1, f"{name}: exactly one line")
    if not lines.get(name):
        return {}, {}
    tags, fields, _ = lines[name][0]
    return tags, fields


def imap_probes(user, mailbox="INBOX"):
    """UIDs of messages with an X-Mail-E2E-Probe header, seen with imaplib over IMAPS."""
    ctx = ssl.create_default_context(cafile=env["CO_CA"])
    c = imaplib.IMAP4_SSL(env["CO_HOST"], int(env["CO_IMAPS_PORT"]), ssl_context=ctx)
    try:
        c.login(user, pw(user))
        typ, _ = c.select(mailbox)
        if typ != "OK":
            return None
        typ, data = c.uid("SEARCH", None, "HEADER", "X-Mail-E2E-Probe", '""')
        return [int(x) for x in (data[0] or b"").split()] if typ == "OK" else None
    finally:
        c.logout()


def imap_delete_probes(user, mailbox="INBOX"):
    ctx = ssl.create_default_context(cafile=env["CO_CA"])
    c = imaplib.IMAP4_SSL(env["CO_HOST"], int(env["CO_IMAPS_PORT"]), ssl_context=ctx)
    try:
        c.login(user, pw(user))
        c.select(mailbox)
        typ, data = c.uid("SEARCH", None, "HEADER", "X-Mail-E2E-Probe", '""')
        uids = (data[0] or b"").decode().split()
        if uids:
            c.uid("STORE", ",".join(uids), "+FLAGS.SILENT", r"(\Deleted)")
            c.expunge()
        return len(uids)
    finally:
        c.logout()


def disk_probes(user):
    """Message files in the user's Maildir (INBOX and every folder) holding a probe header."""
    found = []
    base = os.path.join(env["CO_MAILDIR"], user, "Maildir")
    for d in [base] + glob.glob(os.path.join(base, ".*")):
        for sub in ("new", "cur"):
            for f in glob.glob(os.path.join(d, sub, "*")):
                try:
                    with open(f, "rb") as fh:
                        head = fh.read(65536).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
                except OSError:
                    continue
                if b"\nx-mail-e2e-probe:" in b"\n" + head.lower():
                    found.append(os.path.relpath(f, base))
    return found


def check_clean(user, when):
    T.eq(imap_probes(user), [], f"{when}: {user}'s INBOX holds no probe (IMAP SEARCH)")
    T.eq(imap_probes(user, JUNK), [], f"{when}: {user}'s {JUNK} holds no probe (IMAP SEARCH)")
    T.eq(disk_probes(user), [], f"{when}: no probe file left in {user}'s Maildir on disk")


T.ok(all(k in env for k in ("CO_SMTP_PORT", "CO_SUBMISSION_PORT", "CO_SMTPS_PORT", "CO_IMAP_PORT",
                            "CO_IMAPS_PORT", "CO_CA", "CO_MAILDIR")),
     "COURIER_ENV has every key the test uses", sorted(env))
print(f"# OpenSMTPD {env.get('CO_SMTPD_VERSION')}, Courier IMAP {env.get('CO_COURIER_IMAP_VERSION')}, "
      f"authlib {env.get('CO_COURIER_AUTHLIB_VERSION')}", flush=True)
for u in ("bob", "carol", "junky", env.get("CO_SLOW_USER", "slow")):
    imap_delete_probes(u)
    imap_delete_probes(u, JUNK)

# --- 1. happy paths: every TLS combination, all routes in one cycle ----------
COMBOS = {
    "sub-starttls": ("submission", "starttls"),
    "smtps-imaps": ("smtps", "tls"),
    "plain-imaps": ("plain", "tls"),
    "plain25tls-starttls": ("plain-starttls", "starttls"),
}
cfg = config(*[route(n, smtp=s, imap=i) for n, (s, i) in COMBOS.items()])
r = run(["-c", cfg, "--once"], what="--once, 4 routes against OpenSMTPD + Courier")
T.ok(r.rc == 0, "--once exits 0 when every route succeeds", r)
lines = by_probe(r.out)
T.eq(sorted(lines), sorted(COMBOS), "one line per route")
for name, (s, i) in COMBOS.items():
    if name not in lines:
        T.ok(False, f"{name}: has a line", r)
        continue
    tags, f, _ = lines[name][0]
    T.eq(tags.get("result"), "success", f"{name}: result=success")
    T.eq((f.get("success"), f.get("result_code")), (1, result_codes()["success"]),
         f"{name}: success=1i, result_code of success")
    T.eq(f.get("smtp_code"), 250, f"{name}: smtp_code=250 (OpenSMTPD accepted the probe)")
    dt = f.get("delivery_time")
    T.ok(isinstance(dt, float) and 0 < dt < 10, f"{name}: delivery_time present and sane", f)
    T.ok(isinstance(f.get("smtp_time"), float) and f.get("total_time", 0) >= f.get("smtp_time", 0),
         f"{name}: smtp_time present, total_time >= smtp_time", f)
    T.eq(tags.get("mailbox"), "inbox", f"{name}: mailbox=inbox")
    want_smtp = {"submission": "CO_SUBMISSION_PORT", "smtps": "CO_SMTPS_PORT"}.get(s, "CO_SMTP_PORT")
    T.eq(tags.get("smtp_server"), f"{env['CO_HOST']}:{env[want_smtp]}", f"{name}: smtp_server tag")
    if s != "plain":
        T.eq(f.get("smtp_tls_version"), "TLSv1.3", f"{name}: SMTP leg ran TLS 1.3 (OpenSMTPD TLS works)")
    T.eq(f.get("imap_tls_version"), "TLSv1.3", f"{name}: IMAP leg ran TLS 1.3 (couriertls)")

# --- 2. the mailbox is clean afterwards ----------------------------------------
check_clean("bob", "after the happy paths")

# --- 3. IDLE and polling --------------------------------------------------------
cfg = config(route("with-idle", user="carol", imap="starttls"),
             route("idle-off", user="carol", imap="tls", idle="off"))
r = run(["-c", cfg, "--once", "--trace"], what="--trace, IDLE and polling")
T.ok(r.rc == 0, "IDLE and polling routes both succeed", r.out + r.err[-2000:])
lines = by_probe(r.out)
for name in ("with-idle", "idle-off"):
    got = lines.get(name, [({}, {}, 0)])[0]
    T.eq(got[0].get("result"), "success", f"{name}: result=success")
    T.ok(isinstance(got[1].get("delivery_time"), float), f"{name}: delivery_time present", got[1])
T.ok(re.search(r"D! with-idle/imap: waiting with (quick NOOPs for \d+s, then )?IDLE$", r.err, re.M),
     "Courier offers IDLE and the probe means to use it", r.err[-3000:])
T.ok(re.search(r"D! idle-off/imap: waiting with (quick NOOPs for \d+s, then )?polling \(idle = off\)$",
               r.err, re.M), "idle = off polls", r.err[-3000:])
T.ok("AUTHENTICATE PLAIN ***" in r.err or "LOGIN ***" in r.err, "trace hides the IMAP login")
T.ok("D! with-idle/smtp > AUTH PLAIN ***" in r.err, "trace hides the SMTP AUTH payload")
check_clean("carol", "after IDLE and polling")

# slow@'s mail lands CO_SLOW_DELAY (5) s after OpenSMTPD's 250, so the probe
# really has to wait: in IDLE (Courier's ENHANCED IDLE, FAM via gamin, says
# EXISTS ~0.8 s after the file appears) or by polling.  Courier-IMAP looks
# at the Maildir again only for NOOP, CHECK and IDLE: UID FETCH, UID SEARCH
# and even STATUS of the selected mailbox keep answering from the session's
# old view, so a poller must send NOOP (or CHECK) before each look.
SLOW = env.get("CO_SLOW_USER", "slow")
DELAY = float(env.get("CO_SLOW_DELAY", "5"))
cfg = config(route("slow-idle", user=SLOW, imap="starttls", timeout="12s"),
             route("slow-poll", user=SLOW, imap="tls", idle="off", timeout="12s"))
r = run(["-c", cfg, "--once", "--trace"], what="--trace, a delivery that takes 5 s")
lines = by_probe(r.out)
for name in ("slow-idle", "slow-poll"):
    got = lines.get(name, [({}, {}, 0)])[0]
    T.eq(got[0].get("result"), "success", f"{name}: result=success for a {DELAY:g} s delivery")
    dt = got[1].get("delivery_time")
    T.ok(isinstance(dt, float) and DELAY - 0.5 < dt < DELAY + 3,
         f"{name}: delivery_time ~{DELAY:g} s (OpenSMTPD's hold) plus the server's notice", got[1])
T.ok("slow-idle/imap < + entering ENHANCED idle mode" in r.err,
     "slow-idle: the probe entered Courier's (ENHANCED) IDLE", r.err[-3000:])
T.ok("slow-poll/imap > m" in r.err and not re.search(r"slow-poll/imap > \S+ IDLE", r.err),
     "slow-poll: never sends IDLE", r.err[-3000:])
print(f"# removed {imap_delete_probes(SLOW)} probe(s) left in {SLOW}'s INBOX", flush=True)

# Debian's stock Courier setting (IMAP_ENHANCEDIDLE=0, port CO_IMAP_STOCKIDLE_PORT):
# a client in IDLE hears of new mail only every IMAP_IDLE_TIMEOUT = 60 s.  A
# probe that waits in IDLE once the mail is late then sees it up to 60 s after
# it landed: with timeout = 12s a false timeout for a 5 s delivery.
cfg = config(route("stock-idle", user=SLOW, imap="stockidle", timeout="12s"),
             route("stock-poll", user=SLOW, imap="stockidle", idle="off", timeout="12s"))
r = run(["-c", cfg, "--once", "--trace"], what="--once against Courier with Debian's stock IDLE")
lines = by_probe(r.out)
got = lines.get("stock-poll", [({}, {}, 0)])[0]
T.eq(got[0].get("result"), "success", "stock IDLE server, idle = off: polling finds the late probe")
got = lines.get("stock-idle", [({}, {}, 0)])[0]
T.ok(got[0].get("result") == "success",
     "stock IDLE server (no EXISTS during IDLE for 60 s), idle = auto: the probe still finds "
     f"a message delivered {DELAY:g} s after the 250 within timeout = 12s",
     "\n".join(l for l in r.out.splitlines() if "stock-idle" in l) + "\n" +
     "\n".join(l for l in r.err.splitlines() if "stock-idle/imap" in l and "* " not in l[:30])[-2500:])
left = imap_delete_probes(SLOW)
print(f"# removed {left} probe(s) the stock-IDLE run left in {SLOW}'s INBOX", flush=True)

# --- 4. failure classes, with OpenSMTPD's and Courier's replies -------------------
cfg = config(route("smtp-badpw", smtp_password="wrong-" + pw("alice")[:4]),
             route("imap-badpw", imap_password="wrong-" + pw("bob")[:4]),
             route("unknown-rcpt", to=f"nobody@{D}"),
             route("other-domain", to="somebody@example.com"),
             route("no-mailbox", imap_mailbox="Nope"),
             route("imap-notls", imap_tls="none"))
r = run(["-c", cfg, "--once"], what="--once, failure classes")
T.eq(r.rc, 1, "--once exits 1 when routes fail")
lines = by_probe(r.out)


def fail_check(name, want, code=None, err_has=None):
    got = lines.get(name)
    if not got:
        T.ok(False, f"{name}: has a line", r.out)
        return
    tags, f, _ = got[0]
    T.eq(tags.get("result"), want, f"{name}: result={want}")
    T.eq(f.get("success"), 0, f"{name}: success=0i")
    if code is not None:
        T.eq(f.get("smtp_code"), code, f"{name}: smtp_code={code}")
    if err_has is not None:
        T.ok(err_has in str(f.get("error", "")), f"{name}: error quotes the server: {err_has!r}", f)


fail_check("smtp-badpw", "smtp_auth_failed", 535, "535 Authentication failed")
fail_check("imap-badpw", "imap_auth_failed", None, "Login failed")
fail_check("unknown-rcpt", "smtp_rejected", 550, "Invalid recipient")
fail_check("other-domain", "smtp_rejected", 550, "Invalid recipient")
fail_check("no-mailbox", "imap_error", None, "Mailbox does not exist")
fail_check("imap-notls", "imap_auth_failed")
check_clean("bob", "after the failure classes")

# --- 5. junk: OpenSMTPD files junky@'s mail into the Maildir folder .Junk --------
# Courier has no SPECIAL-USE, so the junk mailbox must be named.
cfg = config(route("junk-named", user="junky", check_junk="true", imap_junk_mailbox=JUNK))
r = run(["-c", cfg, "--once"], what="--once, junk filing")
tags, f = one(r, "junk-named")
T.eq(r.rc, 0, "junk route exits 0 (junk_is_failure = false)")
T.eq(tags.get("result"), "success", "junk route: result=success")
T.eq(tags.get("mailbox"), "junk", f"junk route: mailbox=junk (found in {JUNK})")
T.ok(isinstance(f.get("delivery_time"), float), "junk route: delivery_time present", f)
check_clean("junky", "after the junk route")

# --- 6. the sweep: a probe left by delete = false goes once it is due -------------
cfg = config(route("keep", user="carol", delete="false"))
r = run(["-c", cfg, "--once"], what="--once, delete = false")
T.eq(one(r, "keep")[0].get("result"), "success", "keep: delete = false still succeeds")
T.eq(len(imap_probes("carol")), 1, "keep: with delete = false the probe stays in the INBOX")
time.sleep(1.2)
cfg = config(route("keep", user="carol", sweep_after="1s"))
r = run(["-c", cfg, "--once", "--trace"], what="--once, sweep_after = 1s")
T.eq(one(r, "keep")[0].get("result"), "success", "sweep run: success")
T.ok(re.search(r"D! keep/imap: removed 1 earlier probe", r.err), "sweep run: the earlier probe was removed",
     r.err[-3000:])
check_clean("carol", "after the sweep")

T.done()
