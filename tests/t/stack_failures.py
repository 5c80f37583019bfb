#!/usr/bin/env python3
# needs: mailstack
"""Every failure class the real Postfix + Dovecot can produce on demand, all
routes in one cycle: each gives exactly one line, success=0i, the right
result and result_code, a useful error, on time, and no password."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import (result_codes, T, stack, stack_route, config_text, write_config, run,  # noqa: E402
                 by_probe, probe_messages, imap_inspect, ROOT)

env = stack()
D = env["MS_DOMAIN"]
CLOSED_PORT = "1"          # nothing listens on 127.0.0.1:1
CODES = result_codes()

# name: (route INI, expected result, expected smtp_code or None, error must contain)
cases = {
    "smtp-wrong-password": (stack_route(env, "smtp-wrong-password", smtp_password="not-the-password"),
                            "smtp_auth_failed", 535, "AUTH"),
    "imap-wrong-password": (stack_route(env, "imap-wrong-password", imap_password="not-the-password-either"),
                            "imap_auth_failed", None, "uthentication"),
    "smtp-closed-port": (stack_route(env, "smtp-closed-port", smtp_port=CLOSED_PORT),
                         "smtp_connect_failed", None, "onnect"),
    "imap-closed-port": (stack_route(env, "imap-closed-port", imap="tls", imap_port=CLOSED_PORT),
                         "imap_connect_failed", None, "onnect"),
    "unknown-recipient": (stack_route(env, "unknown-recipient", to=f"nobody@{D}"),
                          "smtp_rejected", 550, "RCPT TO"),
    "foreign-domain": (stack_route(env, "foreign-domain", to="someone@example.invalid"),
                       "smtp_rejected", 554, "RCPT TO"),
    "imap-other-ca": (stack_route(env, "imap-other-ca", tls_ca=env["MS_OTHER_CA"]),
                      "imap_tls_failed", None, "certificate"),
    "smtp-other-ca": (stack_route(env, "smtp-other-ca", imap="none", tls_ca=env["MS_OTHER_CA"]),
                      "smtp_tls_failed", None, "certificate"),
    "smtp-implicit-on-starttls-port": (stack_route(env, "smtp-implicit-on-starttls-port", smtp_tls="tls"),
                                       "smtp_tls_failed", None, ""),
    "imap-implicit-on-starttls-port": (stack_route(env, "imap-implicit-on-starttls-port", imap_tls="tls"),
                                       "imap_tls_failed", None, ""),
    "imap-plaintext-refused": (stack_route(env, "imap-plaintext-refused", imap_tls="none"),
                               "imap_auth_failed", None, ""),
    "smtp-auth-without-tls": (stack_route(env, "smtp-auth-without-tls", smtp_tls="none"),
                              "smtp_auth_failed", None, "no AUTH"),
    "missing-mailbox": (stack_route(env, "missing-mailbox", imap_mailbox="NoSuchFolder"),
                        "imap_error", None, "SELECT"),
    "held-message": (stack_route(env, "held-message", user="held", timeout="3s"),
                     "timeout", 250, "not found"),
}
cfg = write_config(config_text(*(c[0] for c in cases.values())))
r = run(["-c", cfg, "--once"], what="--once with every failure", timeout=60)
T.eq(r.rc, 1, "--once exits 1 when a route failed")
lines = by_probe(r.out)
T.eq(sorted(lines), sorted(cases), "exactly one line per route, failures included")
for name, (_, want, code, needle) in cases.items():
    if name not in lines:
        continue
    tags, f, ts = lines[name][0]
    T.eq(tags.get("result"), want, f"{name}: result={want}")
    T.eq((f.get("success"), f.get("result_code")), (0, CODES[want]), f"{name}: success=0i, result_code={CODES[want]}")
    T.ok(needle in f.get("error", ""), f"{name}: error says why ({needle!r})", f.get("error"))
    if code is not None:
        T.eq(f.get("smtp_code"), code, f"{name}: smtp_code={code}")
    T.ok(f.get("total_time", 99) < (3 + 1 if want == "timeout" else 10), f"{name}: line came in time", f.get("total_time"))
    if want.startswith("imap_connect") or want == "imap_tls_failed":
        T.ok("smtp_time" not in f and "tries" not in f, f"{name}: no SMTP leg, no tries when IMAP never logged in", f)
T.ok(r.elapsed < 3 + 1 + 2, "the slowest route (3 s timeout) bounds the cycle", r.elapsed)

# The held message arrives after its probe gave up: release it, then check a
# new cycle is not fooled by it (its token is not the new probe's).
subprocess.run([os.path.join(ROOT, "tests/mailstack/mailstack.sh"), "release", env["MS_DIR"]],
               check=False, capture_output=True)
cfg2 = write_config(config_text(stack_route(env, "after-release")))
r2 = run(["-c", cfg2, "--once"], what="--once after release")
l2 = by_probe(r2.out).get("after-release", [({}, {}, 0)])[0]
T.eq(l2[0].get("result"), "success", "a probe after the late arrival succeeds on its own message")
T.eq(probe_messages(env, "bob"), [], "bob's INBOX holds no probe message")

# Clean the late copies out of held's mailbox for later tests (issue 5
# sweeps leftovers; other tests also leave mail to held@ in the hold queue).
import time  # noqa: E402
for _ in range(50):
    if probe_messages(env, "held"):
        break
    time.sleep(0.1)
late = probe_messages(env, "held")
T.ok(len(late) >= 1, "the released late message did land in held's mailbox", late)
c = imap_inspect(env, "held")
if late:
    c.uid("STORE", ",".join(map(str, late)), "+FLAGS", "(\\Deleted)")
    c.expunge()
c.logout()
T.done()
