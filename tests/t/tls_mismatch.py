#!/usr/bin/env python3
# needs: mailstack
"""Mistakes named with their fix (issue 21 §1), against the real Postfix +
Dovecot, all routes in one --once cycle:

 - a TLS mode that does not fit the port, on both legs and in both
   directions (implicit TLS on a STARTTLS port; STARTTLS or none on an
   implicit-TLS port), is *_tls_failed with the key to change, within
   connect_timeout (the STARTTLS side no longer waits it out);
 - a certificate problem is OpenSSL's own words, and a CA we were not told
   about (no tls_ca) or the wrong tls_ca says so;
 - a refused SELECT lists the mailboxes the server has and names the key;
 - a username on a port that offers no AUTH (the relay port; the
   submission port before STARTTLS) says where clients log in.
Then against the fake server (tests/fake/fakemail.py), where a greeting
can be late or never come: a slow plain greeting is waited for (the side
look for TLS concludes nothing), a port silent to both is
*_connect_failed, "no greeting", not a TLS mismatch."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import (T, stack, stack_route, config_text, write_config, run, by_probe, result_codes,  # noqa: E402
                 fake_route, secret)
from fakemail import FakeMail  # noqa: E402

env = stack()
CODES = result_codes()
CONNECT_TIMEOUT = 6
CT = {"connect_timeout": f"{CONNECT_TIMEOUT}s"}
SUB_AUTH = {"smtp_username": "alice", "smtp_password": env["MS_PASSWORD_alice"]}

# name: (route INI, result, the words the error must hold)
cases = {
    "smtp-tls-on-starttls-port": (stack_route(env, "smtp-tls-on-starttls-port", smtp_tls="tls", **CT),
                                  "smtp_tls_failed", ["speaks plain text first", "set smtp_tls = starttls"]),
    "smtp-starttls-on-tls-port": (stack_route(env, "smtp-starttls-on-tls-port", smtp="smtps", smtp_tls="starttls", **CT),
                                  "smtp_tls_failed", ["answers a TLS handshake", "set smtp_tls = tls"]),
    "smtp-none-on-tls-port": (stack_route(env, "smtp-none-on-tls-port", smtp="smtps", smtp_tls="none", **CT),
                              "smtp_tls_failed", ["smtp_tls = none, but", "set smtp_tls = tls"]),
    "imap-tls-on-starttls-port": (stack_route(env, "imap-tls-on-starttls-port", imap_tls="tls", **CT),
                                  "imap_tls_failed", ["speaks plain text first", "set imap_tls = starttls"]),
    "imap-starttls-on-tls-port": (stack_route(env, "imap-starttls-on-tls-port", imap="tls", imap_tls="starttls", **CT),
                                  "imap_tls_failed", ["answers a TLS handshake", "set imap_tls = tls"]),
    "imap-none-on-tls-port": (stack_route(env, "imap-none-on-tls-port", imap="tls", imap_tls="none", **CT),
                              "imap_tls_failed", ["imap_tls = none, but", "set imap_tls = tls"]),
    "no-tls-ca": (stack_route(env, "no-tls-ca", tls_ca=None),
                  "imap_tls_failed", ["unable to get local issuer certificate (X509 error 20)",
                                      "a private or self-signed CA: set tls_ca"]),
    "other-tls-ca": (stack_route(env, "other-tls-ca", tls_ca=env["MS_OTHER_CA"]),
                     "imap_tls_failed", ["(X509 error 20)", "tls_ca does not hold the CA"]),
    "smtp-no-tls-ca": (stack_route(env, "smtp-no-tls-ca", imap="none", tls_ca=None),
                       "smtp_tls_failed", ["certificate", "set tls_ca"]),
    "missing-mailbox": (stack_route(env, "missing-mailbox", imap_mailbox="NoSuchFolder"),
                        "imap_error", ["SELECT NoSuchFolder: NO", "the server lists", "INBOX",
                                       "imap_mailbox names the one to watch"]),
    "relay-port-login": (stack_route(env, "relay-port-login", smtp="mx", **SUB_AUTH),
                         "smtp_auth_failed", ["server offers no AUTH", "clients log in on the submission port, 587"]),
    "auth-before-starttls": (stack_route(env, "auth-before-starttls", smtp_tls="none"),
                             "smtp_auth_failed", ["server offers no AUTH", "only after STARTTLS: smtp_tls = starttls"]),
}
cfg = write_config(config_text(*(c[0] for c in cases.values())))
r = run(["-c", cfg, "--once"], what="--once with every mistake", timeout=60)
T.eq(r.rc, 1, "--once exits 1 when a route failed")
lines = by_probe(r.out)
T.eq(sorted(lines), sorted(cases), "one line per route")
for name, (_, want, needles) in cases.items():
    if name not in lines:
        continue
    tags, f, _ = lines[name][0]
    err = f.get("error", "")
    T.eq((tags.get("result"), f.get("result_code")), (want, CODES[want]), f"{name}: {want}")
    for n in needles:
        T.ok(n in err, f"{name}: the error says {n!r}", err)
    T.ok("X509 error 1)" not in err, f"{name}: never OpenSSL's unset verify result", err)
    if "tls-port" in name or "starttls-port" in name:
        T.ok(f.get("total_time", 99) < CONNECT_TIMEOUT,
             f"{name}: named within connect_timeout ({f.get('total_time')} s < {CONNECT_TIMEOUT} s)")

# The fake server: a greeting that is only late, or that never comes.
PW = secret("mismatch-Pw-2107")
USERS = f"user alice {PW}\nuser bob {PW}\n"


def fresh(script=""):
    return FakeMail(USERS + script, tempfile.mkdtemp(prefix="me2e-fake."))


for proto in ("smtp", "imap"):
    fake = fresh(f"{proto} greeting delay 3\n")
    cfg = write_config(fake_route(fake, f"slow-{proto}", PW, connect_timeout="8s", timeout="12s"))
    r = run(["-c", cfg, "--once", "--trace"], what=f"a plain {proto} greeting after 3 s", timeout=60)
    tags, f, _ = by_probe(r.out).get(f"slow-{proto}", [({}, {}, 0)])[0]
    T.ok(tags.get("result") == "success", f"{proto}: a plain greeting 3 s late is waited for: success",
         f.get("error"))
    T.ok("testing whether the port speaks TLS first" in r.err,
         f"{proto}: the late greeting had the port tested for TLS on the side", r.err[-800:])
    fake.close()

    fake = fresh(f"{proto} greeting none\n")
    cfg = write_config(fake_route(fake, f"silent-{proto}", PW, connect_timeout="3s", timeout="6s"))
    r = run(["-c", cfg, "--once"], what=f"a {proto} port silent to plain text and TLS", timeout=60)
    tags, f, _ = by_probe(r.out).get(f"silent-{proto}", [({}, {}, 0)])[0]
    T.ok(tags.get("result") == f"{proto}_connect_failed",
         f"{proto}: silent to both: {proto}_connect_failed, not a TLS mismatch", (tags.get("result"), f.get("error")))
    T.ok("no greeting" in f.get("error", "") and "tls" not in f.get("error", "").split("no greeting")[0],
         f"{proto}: the error says no greeting", f.get("error"))
    T.ok(f.get("total_time", 99) < 3 + 1, f"{proto}: silent port: given up at connect_timeout", f.get("total_time"))
    fake.close()
T.done()
