#!/usr/bin/env python3
# needs: cyrus
"""The probe against a second, different mail stack: Exim 4 + Cyrus IMAP
3.6 (tests/mailstack/cyrus.sh).  Every TLS combination the stack offers,
the mailbox left clean (really expunged), IDLE and polling, the failure
classes with Exim's and Cyrus's own replies, and junk filing by Sieve."""
import imaplib
import os
import re
import smtplib
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import e2e  # noqa: E402
from e2e import result_codes, T, write_config, run, by_probe, config_text  # noqa: E402


# --- the stack's env (e2e.stack with the CY_ prefix) and small local helpers ---

env = e2e.stack("CYRUS_ENV", "Exim + Cyrus", "CY_")
for k in ("CY_HOST", "CY_DOMAIN", "CY_CA", "CY_SMTP_PORT", "CY_SUBMISSION_PORT",
          "CY_SMTPS_PORT", "CY_IMAP_HOST", "CY_IMAP_PORT", "CY_IMAPS_PORT"):
    if k not in env:
        e2e.fatal(f"{os.environ['CYRUS_ENV']} lacks {k}")
D = env["CY_DOMAIN"]


def pw(user):
    return e2e.password(env, user)


def route(name, user="bob", sender="alice", smtp="submission", imap="starttls", **extra):
    """One route (e2e.stack_route): smtp submission, smtps, mx (25 STARTTLS,
    no AUTH), plain; imap starttls (143 on CY_IMAP_HOST), tls (993)."""
    return e2e.stack_route(env, name, user, sender, smtp, imap, **extra)


def imap_open(user, mailbox="INBOX"):
    """Our own look into a mailbox: imaplib over IMAPS, selected read-write."""
    ctx = ssl.create_default_context(cafile=env["CY_CA"])
    c = imaplib.IMAP4_SSL(env.get("CY_IMAPS_HOST", env["CY_HOST"]), int(env["CY_IMAPS_PORT"]),
                          ssl_context=ctx, timeout=20)
    c.login(user, pw(user))
    typ, data = c.select(mailbox)
    if typ != "OK":
        raise RuntimeError(f"SELECT {mailbox}: {data}")
    return c


def mailbox_state(user, mailbox="INBOX"):
    """(messages, probe UIDs, \\Deleted UIDs, UIDNEXT) of a mailbox."""
    c = imap_open(user, mailbox)
    try:
        typ, data = c.status(mailbox, "(MESSAGES UIDNEXT)")
        m = re.search(rb"MESSAGES (\d+) UIDNEXT (\d+)", data[0])
        typ, probes = c.uid("SEARCH", None, "HEADER", "X-Mail-E2E-Probe", '""')
        typ, deleted = c.uid("SEARCH", None, "DELETED")
        return (int(m.group(1)), [int(x) for x in (probes[0] or b"").split()],
                [int(x) for x in (deleted[0] or b"").split()], int(m.group(2)))
    finally:
        c.logout()


def lines_of(out):
    """{probe: (tags, fields)} of an influx run (one line per route)."""
    return {p: v[0][:2] for p, v in by_probe(out).items()}


def trace_lines(err, name):
    return [l for l in err.split("\n") if l.startswith(f"D! {name}/")]


# --- 0. the checker itself sees a probe message and an expunge ---------------

ctx = ssl.create_default_context(cafile=env["CY_CA"])
before = mailbox_state("carol")
s = smtplib.SMTP(env["CY_HOST"], int(env["CY_SUBMISSION_PORT"]), timeout=20)
s.starttls(context=ctx)
s.login("carol", pw("carol"))
s.sendmail(f"carol@{D}", [f"carol@{D}"],
           f"From: carol@{D}\r\nTo: carol@{D}\r\nSubject: checker self-test\r\n"
           "X-Mail-E2E-Probe: 0123456789abcdef0123456789abcdef\r\n\r\nhello\r\n")
s.quit()
seen = None
for _ in range(100):
    st = mailbox_state("carol")
    if st[1]:
        seen = st
        break
    time.sleep(0.05)
T.ok(seen is not None and len(seen[1]) == 1,
     "self-test: a message with X-Mail-E2E-Probe sent through Exim shows up in the SEARCH", seen)
if seen:
    c = imap_open("carol")
    c.uid("STORE", str(seen[1][0]), "+FLAGS.SILENT", r"(\Deleted)")
    st_flagged = c.uid("SEARCH", None, "DELETED")[1][0].split()
    c.expunge()
    c.logout()
    T.eq(len(st_flagged), 1, "self-test: SEARCH DELETED sees a flagged message")
after = mailbox_state("carol")
T.eq((after[0], after[1], after[2]), (before[0], [], []), "self-test: EXPUNGE really removes it")
T.ok(after[3] > before[3], "self-test: UIDNEXT moved on", (before, after))

# --- 1. happy paths: every TLS combination, one cycle ------------------------

COMBOS = {
    "sub-starttls": ("submission", "starttls"),
    "sub-imaps": ("submission", "tls"),
    "smtps-starttls": ("smtps", "starttls"),
    "smtps-imaps": ("smtps", "tls"),
    "mx25-starttls": ("mx", "starttls"),
    "plain25-imaps": ("plain", "tls"),
}
PORTS = {"submission": env["CY_SUBMISSION_PORT"], "smtps": env["CY_SMTPS_PORT"],
         "mx": env["CY_SMTP_PORT"], "plain": env["CY_SMTP_PORT"]}
bob_before = mailbox_state("bob")
cfg = write_config(config_text(*[route(n, smtp=s_, imap=i) for n, (s_, i) in COMBOS.items()]))
r = run(["-c", cfg, "--once"], what="--once, 6 routes against Exim + Cyrus")
T.ok(r.rc == 0, "--once exits 0 when every route succeeds", r)
got = lines_of(r.out)
T.eq(sorted(got), sorted(COMBOS), "exactly one line per route")
for name, (smtp, imap) in COMBOS.items():
    if name not in got:
        continue
    tags, f = got[name]
    T.eq(tags.get("result"), "success", f"{name}: result=success")
    T.eq((f.get("success"), f.get("result_code")), (1, result_codes()["success"]),
         f"{name}: success=1i, result_code of success")
    T.eq(f.get("smtp_code"), 250, f"{name}: smtp_code=250")
    T.eq(tags.get("mailbox"), "inbox", f"{name}: found in the inbox")
    dt, st_, tt = f.get("delivery_time"), f.get("smtp_time"), f.get("total_time")
    T.ok(isinstance(dt, float) and 0 < dt < 10, f"{name}: delivery_time present and sane", f)
    T.ok(isinstance(st_, float) and isinstance(tt, float) and tt + 1e-6 >= st_ + (dt or 0),
         f"{name}: total_time >= smtp_time + delivery_time", f)
    T.ok("error" not in f, f"{name}: no error field", f)
    T.eq(tags.get("smtp_server"), f"{env['CY_HOST']}:{PORTS[smtp]}", f"{name}: smtp_server tag")
    want_imap = (f"{env['CY_IMAP_HOST']}:{env['CY_IMAP_PORT']}" if imap == "starttls"
                 else f"{env.get('CY_IMAPS_HOST', env['CY_HOST'])}:{env['CY_IMAPS_PORT']}")
    T.eq(tags.get("imap_server"), want_imap, f"{name}: imap_server tag")
    T.ok(f.get("imap_tls_version", "").startswith("TLSv1."), f"{name}: IMAP leg used TLS", f)
    if smtp != "plain":
        T.ok(f.get("smtp_tls_version", "").startswith("TLSv1."), f"{name}: SMTP leg used TLS", f)
    else:
        T.ok("smtp_tls_version" not in f, f"{name}: SMTP leg without TLS has no smtp_tls_version", f)

# --- 2. nothing left behind, really expunged ----------------------------------

bob_after = mailbox_state("bob")
T.eq(bob_after[1], [], "bob's INBOX holds no probe message afterwards")
T.eq(bob_after[2], [], "no message is left flagged \\Deleted but unexpunged")
T.eq(bob_after[0], bob_before[0], "bob's INBOX has as many messages as before the run")
T.ok(bob_after[3] - bob_before[3] >= len(COMBOS),
     "UIDNEXT grew by at least one per route: the probes did arrive", (bob_before, bob_after))
junk_after = mailbox_state("bob", "Junk")
T.eq((junk_after[1], junk_after[2]), ([], []), "bob's Junk holds no probe either")

# --- 3. IDLE and polling ---------------------------------------------------------
# slow@ is delivered CY_SLOW_DELAY s after the SMTP transaction, past the
# probe's first quick polls: the IDLE route really waits in IDLE.

delay = float(env.get("CY_SLOW_DELAY", "4"))
slow = env.get("CY_SLOW_USER", "slow")
cfg3 = write_config(config_text(
    route("slow-idle", user=slow, check_junk="false"),
    route("slow-poll", user=slow, idle="off", check_junk="false"),
    route("fast-poll", user="carol", idle="off", imap="tls")))
r = run(["-c", cfg3, "--once", "--trace"], what="--trace, IDLE and polling")
T.ok(r.rc == 0, "IDLE/polling run: every route succeeds", r.out + r.err[-3000:])
got = lines_of(r.out)
for name in ("slow-idle", "slow-poll", "fast-poll"):
    tags, f = got.get(name, ({}, {}))
    T.eq(tags.get("result"), "success", f"{name}: result=success")
for name in ("slow-idle", "slow-poll"):
    f = got.get(name, ({}, {}))[1]
    dt = f.get("delivery_time")
    T.ok(isinstance(dt, float) and delay <= dt < delay + 2,
         f"{name}: delivery_time covers the {delay:g} s delivery delay, not much more", f)
idle_tr = trace_lines(r.err, "slow-idle")
poll_tr = trace_lines(r.err, "slow-poll")
fast_tr = trace_lines(r.err, "fast-poll")
T.ok(any(re.match(r"D! slow-idle/imap: waiting with .*IDLE", l) for l in idle_tr),
     "slow-idle: the probe says it waits with IDLE (Cyrus offers IDLE)", "\n".join(idle_tr[-40:]))
T.ok(any(re.match(r"D! slow-idle/imap > \S+ IDLE$", l) for l in idle_tr),
     "slow-idle: an IDLE command was really sent", "\n".join(idle_tr[-40:]))
T.ok(any(l.startswith("D! slow-idle/imap < + ") for l in idle_tr),
     "slow-idle: Cyrus answered IDLE with a continuation", "\n".join(idle_tr[-40:]))
T.ok(any(l == "D! slow-idle/imap > DONE" for l in idle_tr),
     "slow-idle: IDLE ended with DONE", "\n".join(idle_tr[-40:]))
for name, tr in (("slow-poll", poll_tr), ("fast-poll", fast_tr)):
    T.ok(any(re.match(rf"D! {name}/imap: waiting with .*polling \(idle = off\)", l) for l in tr),
         f"{name}: the probe says it polls (idle = off)", "\n".join(tr[-40:]))
    T.ok(not any(re.match(rf"D! {name}/imap > \S+ IDLE$", l) for l in tr),
         f"{name}: no IDLE command sent with idle = off", "\n".join(tr[-40:]))
T.ok(any(" AUTHENTICATE PLAIN ***" in l or " LOGIN ***" in l for l in idle_tr),
     "trace: the IMAP login is shown as ***")
for u in (slow, "carol"):
    st = mailbox_state(u)
    T.eq((st[1], st[2]), ([], []), f"{u}'s INBOX is clean after the IDLE/polling run")

# --- 4. failure classes ------------------------------------------------------------

held = env.get("CY_HELD_USER", "held")
FAIL = {
    # name: (route text, result, smtp_code or None, error pattern)
    "bad-smtp-pw": (route("bad-smtp-pw", smtp_password="wrong-" + pw("alice")[:4]),
                    "smtp_auth_failed", 535, r"535"),
    "bad-imap-pw": (route("bad-imap-pw", imap_password="wrong-" + pw("bob")[:4]),
                    "imap_auth_failed", None, r"NO authentication failure"),
    "unknown-rcpt": (route("unknown-rcpt", to=f"nobody@{D}"),
                     "smtp_rejected", 550, r"RCPT.*550.*Unrouteable address"),
    "relay": (route("relay", to="someone@example.com"),
              "smtp_rejected", 550, r"RCPT.*550.*[Rr]elay"),
    "sub-no-auth": (route("sub-no-auth", smtp_username=None, smtp_password=None),
                    "smtp_rejected", 530, r"530.*Authentication required"),
    "missing-mbox": (route("missing-mbox", imap_mailbox="Nope", check_junk="false"),
                     "imap_error", None, r"SELECT Nope: NO Mailbox does not exist"),
    "imap-no-tls": (route("imap-no-tls", imap_tls="none", check_junk="false"),
                    "imap_auth_failed", None, r"[Ll]ogin denied|LOGINDISABLED|STARTTLS"),
    "held": (route("held", user=held, timeout="6s", check_junk="false"),
             "timeout", 250, r"not found"),
}
cfg4 = write_config(config_text(*[v[0] for v in FAIL.values()]))
r = run(["-c", cfg4, "--once", "--trace"], what="--once, failure classes")
T.eq(r.rc, 1, "--once exits 1 when routes fail")
got = lines_of(r.out)
T.eq(sorted(got), sorted(FAIL), "one line per failing route")
for name, (_, result, code, pat) in FAIL.items():
    tags, f = got.get(name, ({}, {}))
    T.eq(tags.get("result"), result, f"{name}: result={result}")
    T.eq(f.get("success"), 0, f"{name}: success=0i")
    if code is not None:
        T.eq(f.get("smtp_code"), code, f"{name}: smtp_code={code}")
    T.ok(re.search(pat, f.get("error", "")), f"{name}: error says why ({pat})", f.get("error"))
for name in ("bad-imap-pw", "bad-smtp-pw"):
    f = got.get(name, ({}, {}))[1]
    T.ok(isinstance(f.get("total_time"), float) and f["total_time"] < 3,
         f"{name}: a refused login is answered at once (no failed-login pause)", f)
nt = trace_lines(r.err, "imap-no-tls")
T.ok(any("LOGINDISABLED" in l for l in nt), "imap-no-tls: Cyrus announces LOGINDISABLED before TLS",
     "\n".join(nt[:10]))
T.ok(not any(re.match(r"D! imap-no-tls/imap > \S+ (LOGIN|AUTHENTICATE)", l) for l in nt),
     "imap-no-tls: no credentials sent over the plaintext connection", "\n".join(nt[-20:]))
T.eq(mailbox_state(held)[1], [], "held@'s INBOX never got the frozen probe")
# Exim holds it, frozen; drop it so that later runs start from an empty queue.
if env.get("CY_EXIM") and env.get("CY_EXIM_CONF"):
    import subprocess
    exim = [env["CY_EXIM"], "-C", env["CY_EXIM_CONF"]]
    q = subprocess.run(exim + ["-bp"], capture_output=True, text=True, timeout=20)
    frozen = re.findall(r"^\s*\S+\s+\S+\s+(\S+) <\S*> \*\*\* frozen \*\*\*\n\s+" + re.escape(f"{held}@{D}"),
                        q.stdout, re.M)
    T.ok(frozen, "Exim's queue holds the held@ probe, frozen", q.stdout[-2000:] + q.stderr[-500:])
    for mid in frozen:
        subprocess.run(exim + ["-Mrm", mid], capture_output=True, timeout=20)
st = mailbox_state("bob")
T.eq((st[1], st[2]), ([], []), "bob's INBOX is clean after the failure runs")

# --- 5. junk: a Sieve script files junky@'s mail into Junk (\junk) ---------------

junky = env.get("CY_JUNK_USER", "junky")
cfg5 = write_config(config_text(
    route("junk", user=junky, check_junk="true"),
    route("junk-fails", user=junky, check_junk="true", junk_is_failure="true", smtp="smtps"),
    route("junk-named", user=junky, check_junk="true", imap_junk_mailbox="Junk", imap="tls")))
r = run(["-c", cfg5, "--once"], what="--once, junk routes")
got = lines_of(r.out)
tags, f = got.get("junk", ({}, {}))
T.eq((tags.get("result"), tags.get("mailbox")), ("success", "junk"),
     "junk: found in Junk (found by its \\junk flag), result=success, mailbox=junk")
tags, f = got.get("junk-named", ({}, {}))
T.eq((tags.get("result"), tags.get("mailbox")), ("success", "junk"),
     "junk-named: imap_junk_mailbox = Junk finds it too")
tags, f = got.get("junk-fails", ({}, {}))
T.eq((tags.get("result"), tags.get("mailbox"), f.get("result_code")), ("junk", "junk", result_codes()["junk"]),
     "junk-fails: junk_is_failure gives result=junk, its code")
T.eq(r.rc, 1, "--once exits 1: one route counts junk as failure")
for mb in ("INBOX", "Junk"):
    st = mailbox_state(junky, mb)
    T.eq((st[1], st[2]), ([], []), f"junky's {mb} is clean afterwards")

# --- 6. LOGIN on both legs, and the sweep of a probe left behind -----------------

cfg6 = write_config(config_text(route("auth-login", user="carol", smtp_auth="LOGIN", imap_auth="LOGIN"),
                                route("keep", user="carol", delete="false", check_junk="false")))
r = run(["-c", cfg6, "--once", "--trace"], what="--once, AUTH LOGIN and delete = false")
got = lines_of(r.out)
T.eq(got.get("auth-login", ({}, {}))[0].get("result"), "success", "auth-login: SASL LOGIN works on Exim and Cyrus")
lt = trace_lines(r.err, "auth-login")
T.ok(any(l.startswith("D! auth-login/smtp > AUTH LOGIN") for l in lt) and
     any(re.match(r"D! auth-login/imap > \S+ AUTHENTICATE LOGIN", l) for l in lt),
     "auth-login: the trace shows AUTH LOGIN / AUTHENTICATE LOGIN", "\n".join(lt[-30:]))
T.eq(got.get("keep", ({}, {}))[0].get("result"), "success", "keep: delete = false still succeeds")
T.eq(len(mailbox_state("carol")[1]), 1, "keep: with delete = false the probe stays in the INBOX")
time.sleep(1.2)
cfg6b = write_config(config_text(route("keep", user="carol", sweep_after="1s", check_junk="false")))
r = run(["-c", cfg6b, "--once", "--trace"], what="--once, sweep_after = 1s")
T.eq(lines_of(r.out).get("keep", ({}, {}))[0].get("result"), "success", "sweep run: success")
T.ok(re.search(r"D! keep/imap: removed 1 earlier probe", r.err), "sweep run: one earlier probe removed",
     "\n".join(trace_lines(r.err, "keep")[-30:]))
st = mailbox_state("carol")
T.eq((st[1], st[2]), ([], []), "carol's INBOX is clean after the sweep")

# --- 7. streaming: three signals, three lines per route ----------------------------

from e2e import Stream  # noqa: E402
cfg7 = write_config(config_text(route("s1"), route("s2", user="carol", smtp="smtps", imap="tls")))
s = Stream(cfg7)
T.ok(s.wait_ready(10), "streaming: the process is ready for signals", s.err[-2000:])
for i in range(3):
    s.signal("\n")
    s.wait_lines(2 * (i + 1), 30)
s.close_stdin()
T.eq(s.wait_exit(10), 0, "streaming: exits 0 after stdin closes")
counts = {}
for line in s.lines:
    for p_, v in by_probe(line).items():
        counts[p_] = counts.get(p_, 0) + len(v)
T.eq(counts, {"s1": 3, "s2": 3}, "streaming: 3 signals give 3 lines per route")
T.ok(s.lines and all("result=success" in l for l in s.lines), "streaming: every line a success", "\n".join(s.lines))
s.finish("streaming against Exim + Cyrus")
for u in ("bob", "carol"):
    st = mailbox_state(u)
    T.eq((st[1], st[2]), ([], []), f"{u}'s INBOX is clean after streaming")

T.done()
