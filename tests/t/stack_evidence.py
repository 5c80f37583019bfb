#!/usr/bin/env python3
# needs: domains
"""What the delivered probe says, in a real two-domain world (issue 13,
SPEC §7): tests/mailstack/domains.sh runs a.test (Postfix + OpenDKIM +
Dovecot) and b.test (Exim verifying SPF, DKIM and DMARC, writing
Authentication-Results as mx.b.test, + Dovecot) with their own DNS (NSD).

Routes: alice@a.test -> bob@b.test through A's submission port, across a
real STARTTLS hop: spf/dkim/dmarc pass, three hops (submission, A->B,
LMTP), none plain, smtp_status from Postfix's final reply; require_auth of
all three is success.  mallory@c.test (signed with a key c.test's DNS does
not publish, from an address its SPF does not list) arrives with
fail/fail/fail: reported, and auth_failed once required.  Straight into
B's port 25 without TLS: one plain hop, and from an address a.test's SPF
does not list, unsigned: spf=fail, dmarc=fail.  someone@d.test (DMARC p=reject)
straight to B: refused at DATA, smtp_status 5.7.1 with Exim's words, and a
route that expects that refusal succeeds."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import result_codes, T, stack, write_config, config_text, parse_line, check_no_leak, binary  # noqa: E402

env = stack("DOMAINS_ENV", "two-domain stack", "DM_")
pw = lambda user: env[f"DM_PASSWORD_{user}"]


def route(name, sender="alice", sender_addr=None, via="submission", **extra):
    keys = {
        "from": sender_addr or f"{sender}@a.test", "to": "bob@b.test",
        "imap_host": env["DM_B_IMAP_HOST"], "imap_port": env["DM_B_IMAP_PORT"], "imap_tls": "starttls",
        "imap_username": "bob", "imap_password": pw("bob"), "tls_ca": env["DM_CA"],
        "timeout": "20s", "poll_interval": "200ms", "check_junk": "false",
    }
    if via == "submission":
        keys.update(smtp_host=env["DM_A_SUBMISSION_HOST"], smtp_port=env["DM_A_SUBMISSION_PORT"],
                    smtp_tls="starttls", smtp_username=sender, smtp_password=pw(sender))
    else:   # straight into B's MX port, no TLS, no AUTH
        keys.update(smtp_host=env["DM_B_SMTP_HOST"], smtp_port=env["DM_B_SMTP_PORT"], smtp_tls="none")
    keys.update(extra)
    return f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"


def once(*routes, fmt="influx"):
    cfg = write_config(config_text(*routes))
    r = subprocess.run([binary(), "-c", cfg, "--once", "--format", fmt], capture_output=True,
                       text=True, timeout=120)
    check_no_leak("stack evidence", r.stdout, r.stderr)
    got = {}
    for line in filter(None, r.stdout.split("\n")):
        if fmt == "json":
            j = json.loads(line)
            got[j["probe"]] = ({}, j)
        else:
            _, tags, fields, _ = parse_line(line)
            got[tags["probe"]] = (tags, fields)
    return got, r


got, r = once(route("signed"), route("signed-required", require_auth="spf, dkim, dmarc",
                                     auth_results_from=env["DM_AUTHSERV_ID"]),
              route("other-id", auth_results_from="mx.elsewhere.test"),
              route("c-test", sender="mallory", sender_addr=env["DM_C_SENDER"]),
              route("c-test-required", sender="mallory", sender_addr=env["DM_C_SENDER"], require_auth="dkim"),
              route("plain-hop", via="mx"))
T.ok(len(got) == 6, "one line per route", r.stdout + r.stderr[-2000:])
tags, f = got.get("signed", ({}, {}))
T.ok(tags.get("result") == "success", "alice@a.test -> bob@b.test: success", f)
T.eq((tags.get("spf"), tags.get("dkim"), tags.get("dmarc")), ("pass", "pass", "pass"),
     "DKIM-signed, SPF-listed, DMARC-aligned: spf/dkim/dmarc pass, as mx.b.test wrote")
T.eq((f.get("hops"), f.get("plain_hops")), (3, 0), "three hops (submission, A -> B, LMTP), none without TLS")
T.ok(0 <= f.get("transit_time", -1) < 20, "transit_time between the oldest and newest Received", f.get("transit_time"))
T.eq(f.get("smtp_status"), "2.0.0", "smtp_status of Postfix's final reply")
tags, f = got.get("signed-required", ({}, {}))
T.ok(tags.get("result") == "success", "require_auth = spf, dkim, dmarc from mx.b.test: success", f)
tags, f = got.get("other-id", ({}, {}))
T.ok(tags.get("result") == "success" and not any(k in tags for k in ("spf", "dkim", "dmarc")),
     "auth_results_from naming another receiver: no verdict tags", tags)
tags, f = got.get("c-test", ({}, {}))
T.eq((tags.get("result"), tags.get("spf"), tags.get("dkim"), tags.get("dmarc")),
     ("success", "fail", "fail", "fail"), "mallory@c.test: delivered, and the verdicts say fail")
tags, f = got.get("c-test-required", ({}, {}))
T.eq(tags.get("result"), "auth_failed", "mallory@c.test with require_auth = dkim: auth_failed")
T.ok("dkim=fail" in f.get("error", ""), "the error names dkim=fail", f.get("error"))
tags, f = got.get("plain-hop", ({}, {}))
T.ok(tags.get("result") == "success", "straight into B port 25 without TLS: delivered", f)
T.eq((f.get("hops"), f.get("plain_hops")), (2, 1), "two hops, the one into Exim without TLS (with esmtp)")
T.eq((tags.get("spf"), tags.get("dmarc")), ("fail", "fail"),
     "sent from an address a.test's SPF record does not list, unsigned: spf=fail, dmarc=fail")
T.ok(tags.get("dkim") in ("none", None), "not signed: no dkim pass", tags.get("dkim"))

got, r = once(route("dmarc-reject", sender_addr=env["DM_D_SENDER"], via="mx"),
              route("dmarc-reject-expected", sender_addr=env["DM_D_SENDER"], via="mx", expect="smtp_rejected"))
tags, f = got.get("dmarc-reject", ({}, {}))
T.ok(tags.get("result") == "smtp_rejected", "someone@d.test (p=reject) straight to B: refused", f)
T.eq(f.get("smtp_status"), "5.7.1", "smtp_status of the refusal: 5.7.1")
T.ok("DMARC" in f.get("error", "") and "550" in f.get("error", ""), "the error carries Exim's words",
     f.get("error"))
tags, f = got.get("dmarc-reject-expected", ({}, {}))
T.eq((tags.get("result"), f.get("success"), f.get("result_code")), ("smtp_rejected", 1, result_codes()["smtp_rejected"]),
     "expect = smtp_rejected: result as observed, success=1i, its result_code")
T.eq(r.returncode, 1, "--once exits 1: one route did not get what it expects")

got, r = once(route("json"), fmt="json")
_, j = got.get("json", ({}, {}))
T.eq((j.get("spf"), j.get("dkim"), j.get("dmarc"), j.get("hops"), j.get("plain_hops"), j.get("smtp_status")),
     ("pass", "pass", "pass", 3, 0, "2.0.0"), "JSON: the same names as keys")
T.ok(j.get("arc", 1) is None, "JSON: arc null (Exim writes none)")
sys.exit(T.done())
