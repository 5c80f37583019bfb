#!/usr/bin/env python3
# needs: mailstack cyrus courier
"""The SMTP transaction of the program's own and the step times (issue 20,
SPEC §8, §11) against the real stacks: Postfix + Dovecot, Exim + Cyrus,
OpenSMTPD + Courier.

 - every stack: a probe succeeds with the nine step fields (JSON), the SMTP
   steps adding up to no more than smtp_duration; where EHLO lists DSN the
   trace shows MAIL FROM ... RET=HDRS ENVID=<token> and RCPT TO ...
   NOTIFY=FAILURE,DELAY answered 250;
 - what each MTA recorded: Postfix's queue file (envelope_id, ret_flags,
   notify_flags; a probe to held@ waits in the hold queue), Exim's spool
   header (-dsn_envid, -dsn_ret; held@ is frozen there);
 - a greet pause measured where it happened: Postfix's submission behind
   smtpd_client_restrictions = sleep 1 (smtpd_delay_reject = no).
The step times of each server are printed as TAP comments."""
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import e2e  # noqa: E402
from e2e import T, write_config, run, stack, stack_route  # noqa: E402

STEPS = ("smtp_connect_time", "smtp_greeting_time", "smtp_tls_time", "smtp_auth_time", "smtp_send_time",
         "imap_connect_time", "imap_tls_time", "imap_login_time", "imap_select_time")
SMTP_STEPS = STEPS[:5]
STACKS = (("MAILSTACK_ENV", "Postfix + Dovecot", "MS_"), ("CYRUS_ENV", "Exim + Cyrus", "CY_"),
          ("COURIER_ENV", "OpenSMTPD + Courier", "CO_"))


def probe(env, name, **extra):
    """One --once --trace probe: (the JSON line, stderr)."""
    cfg = write_config(stack_route(env, name, **extra))
    r = run(["-c", cfg, "--once", "--format", "json", "--trace"], timeout=60, what=name)
    try:
        return json.loads(r.lines[0]), r.err
    except (IndexError, ValueError):
        return {}, r.err


def envelope(err):
    """The MAIL FROM and RCPT TO lines the trace shows, and their replies."""
    mail = re.search(r"smtp > (MAIL FROM:.*)\n.*smtp < (\d{3})", err)
    rcpt = re.search(r"smtp > (RCPT TO:.*)\n.*smtp < (\d{3})", err)
    return (mail.group(1), mail.group(2)) if mail else ("", ""), (rcpt.group(1), rcpt.group(2)) if rcpt else ("", "")


for var, what, prefix in STACKS:
    env = stack(var, what, prefix)
    j, err = probe(env, f"steps{prefix.lower()[:2]}")
    T.eq(j.get("result"), "success", f"{what}: a probe succeeds")
    T.ok(all(isinstance(j.get(k), float) for k in STEPS), f"{what}: the nine step fields",
         {k: j.get(k) for k in STEPS})
    total = sum(j.get(k) or 0 for k in SMTP_STEPS)
    T.ok(total <= (j.get("smtp_duration") or 0) + 0.001,
         f"{what}: the SMTP steps ({total:.4f} s) add up to no more than smtp_duration ({j.get('smtp_duration')})")
    print(f"# steps {what}: " + " ".join(f"{k}={(j.get(k) or 0) * 1000:.1f}ms" for k in STEPS), flush=True)
    offers_dsn = re.search(r"smtp < 250[- ]DSN\b", err) is not None
    (mail, mail_code), (rcpt, rcpt_code) = envelope(err)
    token = j.get("hash", "?")
    if offers_dsn:
        T.ok(mail.endswith(f"RET=HDRS ENVID={token}") and mail_code == "250",
             f"{what}: DSN offered: MAIL FROM with RET=HDRS ENVID=<token>, answered 250", (mail, mail_code))
        T.ok(rcpt.endswith("NOTIFY=FAILURE,DELAY") and rcpt_code == "250",
             f"{what}: RCPT TO with NOTIFY=FAILURE,DELAY, answered 250", (rcpt, rcpt_code))
    else:
        T.ok(False, f"{what}: its EHLO lists DSN (the stacks are set up so)", err[-1500:])

# Postfix: what the queue file keeps (held@ waits in the hold queue).
env = stack()
j, err = probe(env, "pfheld", user="held", timeout="3s", check_junk="false")
q = subprocess.run(["postqueue", "-c", env["MS_POSTFIX_CONF"], "-j"], capture_output=True, text=True)
ids = [json.loads(l)["queue_id"] for l in q.stdout.splitlines() if l.strip()]
record = ""
for qid in ids:
    out = subprocess.run(["postcat", "-c", env["MS_POSTFIX_CONF"], "-q", qid], capture_output=True, text=True).stdout
    if f"envelope_id={j.get('hash', '?')}" in out:
        record = out
T.ok(record, "Postfix: the held probe's queue file has envelope_id=<token>", ids)
T.ok("ret_flags=2" in record and "notify_flags=12" in record,
     "Postfix: ret_flags=2 (HDRS), notify_flags=12 (FAILURE, DELAY)",
     [l for l in record.splitlines() if "flags" in l])
subprocess.run([os.path.join(e2e.ROOT, "tests", "mailstack", "mailstack.sh"), "release", env["MS_DIR"]],
               capture_output=True)

# A greet pause where it happened.
j, err = probe(env, "pause", smtp_port=env["MS_SUBMISSION_PAUSE_PORT"])
T.eq(j.get("result"), "success", "Postfix behind a 1 s greet pause: success")
T.ok(0.95 <= (j.get("smtp_greeting_time") or 0) < 3.0,
     f"the greet pause is in smtp_greeting_time ({j.get('smtp_greeting_time')})")
T.ok((j.get("smtp_tls_time") or 9) < 0.5 and (j.get("smtp_send_time") or 9) < 0.9,
     "and not in the other steps", {k: j.get(k) for k in SMTP_STEPS})

# Exim: what the spool header keeps (held@ is frozen there).
env = stack("CYRUS_ENV", "Exim + Cyrus", "CY_")
j, err = probe(env, "eximheld", user=env.get("CY_HELD_USER", "held"), timeout="3s", check_junk="false")
spool = os.path.join(os.path.dirname(env["CY_EXIM_CONF"]), "spool", "input")
header = ""
for path in glob.glob(os.path.join(spool, "**", "*-H"), recursive=True):
    text = open(path, errors="replace").read()
    if j.get("hash", "?") in text:
        header = text
T.ok(re.search(r"^-dsn_envid " + re.escape(j.get("hash", "?")) + "$", header, re.M),
     "Exim: the frozen probe's spool header has -dsn_envid <token>", header[:600])
T.ok(re.search(r"^-dsn_ret 2$", header, re.M), "Exim: -dsn_ret 2 (HDRS)", header[:600])
exim = [env["CY_EXIM"], "-C", env["CY_EXIM_CONF"]] if env.get("CY_EXIM") else None
if exim:   # later runs start from an empty queue
    for path in glob.glob(os.path.join(spool, "**", "*-H"), recursive=True):
        if j.get("hash", "?") in open(path, errors="replace").read():
            subprocess.run(exim + ["-Mrm", os.path.basename(path)[:-2]], capture_output=True, timeout=20)

T.done()
