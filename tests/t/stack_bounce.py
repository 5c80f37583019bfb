#!/usr/bin/env python3
# needs: domains
"""Bounces and negative probes against real servers (issue 11, SPEC §8),
in the two-domain stack (tests/mailstack/domains.sh): Postfix at a.test
accepts mail for b.test and relays it to Exim, which refuses nouser@ at
RCPT (550 5.1.1) and defers defer@ (451); Postfix then writes real
delivery status notifications into alice@a.test's mailbox, the bounce
mailbox of these routes.

Checked: the refused probe is `bounced` (13) within seconds, not a timeout,
with Exim's words in error and dsn_status=5.1.1, and its report is deleted
(or, with delete = false, swept by a later run once older than sweep_after);
the deferred one times out with delayed=1i, its delay notice deleted; two
routes watching the same bounce mailbox each take only their own report,
and a forged report (the right format, a token this process cannot prove
it made) is never counted and never touched; negative probes: a relay
attempt into b.test's MX and AUTH without TLS at a.test's submission port
are refused, as the routes expect, so they succeed."""
import imaplib
import os
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import result_codes, T, stack, write_config, config_text, parse_line, check_no_leak, binary  # noqa: E402

env = stack("DOMAINS_ENV", "two-domain stack", "DM_")
pw = lambda user: env[f"DM_PASSWORD_{user}"]


def route(name, to, **extra):
    keys = {
        "from": "alice@a.test", "to": to,
        "smtp_host": env["DM_A_SUBMISSION_HOST"], "smtp_port": env["DM_A_SUBMISSION_PORT"],
        "smtp_tls": "starttls", "smtp_username": "alice", "smtp_password": pw("alice"),
        "imap_host": env["DM_B_IMAP_HOST"], "imap_port": env["DM_B_IMAP_PORT"], "imap_tls": "starttls",
        "imap_username": "bob", "imap_password": pw("bob"), "tls_ca": env["DM_CA"],
        "timeout": "15s", "poll_interval": "500ms", "check_junk": "false",
        "bounce_imap_host": env["DM_A_IMAP_HOST"], "bounce_imap_port": env["DM_A_IMAP_PORT"],
        "bounce_imap_username": "alice", "bounce_imap_password": pw("alice"),
    }
    keys.update(extra)
    return f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items() if v is not None) + "\n"


def once(*routes):
    cfg = write_config(config_text(*routes))
    t0 = time.monotonic()
    r = subprocess.run([binary(), "-c", cfg, "--once"], capture_output=True, text=True, timeout=120)
    check_no_leak("stack bounce", r.stdout, r.stderr)
    got = {}
    for line in filter(None, r.stdout.split("\n")):
        _, tags, fields, _ = parse_line(line)
        got[tags["probe"]] = (tags, fields)
    return got, r, time.monotonic() - t0


def alice():
    c = imaplib.IMAP4(env["DM_A_IMAP_HOST"], int(env["DM_A_IMAP_PORT"]))
    c.starttls(ssl.create_default_context(cafile=env["DM_CA"]))
    c.login("alice", pw("alice"))
    c.select("INBOX")
    return c


def reports_left():
    c = alice()
    try:
        _, data = c.uid("SEARCH", None, "HEADER", "Content-Type", "report")
        return [int(x) for x in (data[0] or b"").split()]
    finally:
        c.logout()


def drop_deferred():
    subprocess.run(["postsuper", "-c", env["DM_A_POSTFIX_CONF"], "-d", "ALL", "deferred"],
                   capture_output=True, check=False)


FORGED = ("From: MAILER-DAEMON@a.test\r\nTo: alice@a.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
          "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
          " boundary=\"b0\"\r\n\r\n--b0\r\nContent-Type: text/plain\r\n\r\nforged\r\n"
          "--b0\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.a.test\r\n\r\n"
          "Final-Recipient: rfc822; defer@b.test\r\nAction: failed\r\nStatus: 5.0.0\r\n"
          "Diagnostic-Code: smtp; 550 forged\r\n\r\n--b0\r\nContent-Type: text/rfc822-headers\r\n\r\n"
          "Message-ID: <1796000000.0011223344556677.mail-e2e@a.test>\r\n"
          "X-Mail-E2E-Probe: 0123456789abcdef0123456789abcdef\r\n\r\n--b0--\r\n")

before = set(reports_left())
got, r, took = once(route("refused", env["DM_B_NOUSER"]))
tags, f = got.get("refused", ({}, {}))
T.ok(tags.get("result") == "bounced", "nouser@b.test, refused by Exim after Postfix accepted: bounced",
     r.stdout + r.stderr[-1500:])
T.eq((f.get("result_code"), f.get("success")), (result_codes()["bounced"], 0),
     "result_code of bounced, success=0i")
T.eq(f.get("dsn_status"), "5.1.1", "dsn_status=5.1.1 from the report")
T.ok("550 5.1.1" in f.get("error", ""), "error carries the remote server's words", f.get("error"))
T.ok(f.get("total_time", 99) < 10 and took < 12, f"known long before the 15 s timeout ({f.get('total_time')} s)")
time.sleep(0.5)
T.eq(set(reports_left()) - before, set(), "the report about the probe is deleted")

# A report left behind (delete = false) is swept once older than sweep_after.
got, r, took = once(route("kept", env["DM_B_NOUSER"], delete="false"))
T.eq(got.get("kept", ({}, {}))[0].get("result"), "bounced", "delete = false: bounced, the report kept")
time.sleep(0.5)
kept = set(reports_left()) - before
T.eq(len(kept), 1, "delete = false: the report stays in the bounce mailbox")
time.sleep(2)
got, r, took = once(route("kept", env["DM_B_NOUSER"], sweep_after="2s"))
T.eq(got.get("kept", ({}, {}))[0].get("result"), "bounced", "the same route, next run: bounced again")
time.sleep(0.5)
T.eq(set(reports_left()) & kept, set(), "the report about the old probe (older than sweep_after) is swept")

# Two routes, one bounce mailbox, and a forged report arriving meanwhile.
appended = []


def forge():
    time.sleep(1.5)
    c = alice()
    typ, data = c.append("INBOX", None, None, FORGED.encode())
    appended.append(typ)
    c.logout()


th = threading.Thread(target=forge)
th.start()
got, r, took = once(route("refused-2", env["DM_B_NOUSER"]),
                    route("deferred", env["DM_B_DEFER"], timeout="6s"))
th.join()
drop_deferred()
tags, f = got.get("refused-2", ({}, {}))
T.eq(tags.get("result"), "bounced", "two routes on one bounce mailbox: the refused one is bounced")
tags, f = got.get("deferred", ({}, {}))
T.eq(tags.get("result"), "timeout", "defer@b.test: not delivered in time, and no report proves a failure")
T.eq(f.get("delayed"), 1, "defer@b.test: delayed=1i from Postfix's delay notice")
T.ok("dsn_status" not in f, "a delay notice gives no dsn_status", f)
T.eq(appended, ["OK"], "a forged report was appended during the watch")
time.sleep(0.5)
left = set(reports_left()) - before
c = alice()
_, data = c.uid("SEARCH", None, "BODY", "forged")
forged = [int(x) for x in (data[0] or b"").split()]
c.logout()
T.ok(len(forged) == 1 and left == set(forged), "only the forged report is left: never counted, never touched",
     (left, forged))
if forged:
    c = alice()
    c.uid("STORE", ",".join(map(str, forged)), "+FLAGS", "(\\Deleted)")
    c.expunge()
    c.logout()

# Negative probes: refusals the routes expect.
got, r, took = once(
    route("no-open-relay", "someone@elsewhere.test", smtp_host=env["DM_B_SMTP_HOST"],
          smtp_port=env["DM_B_SMTP_PORT"], smtp_tls="none", smtp_username=None, smtp_password=None,
          bounce_imap_host=None, bounce_imap_port=None, bounce_imap_username=None,
          bounce_imap_password=None, timeout="8s", expect="smtp_rejected"),
    route("no-plaintext-auth", "bob@b.test", smtp_tls="none", bounce_imap_host=None,
          bounce_imap_port=None, bounce_imap_username=None, bounce_imap_password=None, timeout="8s",
          expect="smtp_auth_failed"))
tags, f = got.get("no-open-relay", ({}, {}))
T.eq((tags.get("result"), f.get("success")), ("smtp_rejected", 1),
     "a relay attempt into b.test's MX is refused, as expected: success=1i")
T.ok(f.get("smtp_code", 0) >= 500, "the refusal's own code is reported", f)
tags, f = got.get("no-plaintext-auth", ({}, {}))
T.eq((tags.get("result"), f.get("success")), ("smtp_auth_failed", 1),
     "AUTH without TLS at a.test's submission port is refused, as expected: success=1i")
T.eq(r.returncode, 0, "--once exits 0 when every route got what it expects")
sys.exit(T.done())
