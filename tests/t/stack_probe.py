#!/usr/bin/env python3
# needs: mailstack
"""Happy paths against the real private Postfix + Dovecot: every TLS
combination the stack offers, all routes in one cycle, JSON output, the
mailbox left clean, and times that add up."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import (result_codes, T, ROOT, stack, stack_route, config_text, write_config, run, by_probe,  # noqa: E402
                 probe_messages, check_no_leak, drain_held)

env = stack()

COMBOS = {
    # name: (smtp mode, imap mode)
    "sub-starttls": ("submission", "starttls"),
    "sub-imaps": ("submission", "tls"),
    "smtps-starttls": ("smtps", "starttls"),
    "smtps-imaps": ("smtps", "tls"),
    "plain-imapnone": ("plain", "none"),
    "sub-noidle": ("submission", "noidle"),
}
routes = [stack_route(env, name, smtp=s, imap=i) for name, (s, i) in COMBOS.items()]
cfg = write_config(config_text(*routes))

before = time.time_ns()
r = run(["-c", cfg, "--once"], what="--once, 6 routes")
after = time.time_ns()
T.eq(r.rc, 0, "--once exits 0 when every route succeeds")
lines = by_probe(r.out)
T.eq(sorted(lines), sorted(COMBOS), "exactly one line per route")
ts_seen = set()
for name in COMBOS:
    if name not in lines:
        continue
    tags, f, ts = lines[name][0]
    T.eq(tags.get("result"), "success", f"{name}: result=success")
    T.eq((f.get("success"), f.get("result_code")), (1, result_codes()["success"]),
         f"{name}: success=1i, result_code of success")
    T.eq(f.get("smtp_code"), 250, f"{name}: smtp_code=250")
    T.ok(f.get("tries", 0) >= 1, f"{name}: tries >= 1", f)
    T.ok("error" not in f, f"{name}: no error field on success", f)
    st, dt, tt = f.get("smtp_time"), f.get("delivery_time"), f.get("total_time")
    T.ok(all(isinstance(x, float) for x in (st, dt, tt)), f"{name}: times are floats", f)
    if all(isinstance(x, float) for x in (st, dt, tt)):
        T.ok(0 < st < 10 and 0 < dt < 10, f"{name}: smtp_time and delivery_time positive and sane", f)
        T.ok(tt + 1e-6 >= st + dt, f"{name}: total_time >= smtp_time + delivery_time", f)
    T.ok(before <= ts <= after, f"{name}: timestamp is the cycle start in ns", (before, ts, after))
    ts_seen.add(ts)
    d = env["MS_DOMAIN"]
    T.eq((tags.get("from"), tags.get("to")), (f"alice@{d}", f"bob@{d}"), f"{name}: from/to tags")
    T.ok(tags.get("smtp_server", "").startswith("127.0.0.1:"), f"{name}: smtp_server tag host:port", tags)
T.eq(len(ts_seen), 1, "all routes of a cycle share the cycle's timestamp")

# JSON: same routes, one object per line, keys of the seed script and more.
r = run(["-c", cfg, "--once", "--format", "json"], what="--once --format json")
T.eq(r.rc, 0, "JSON run exits 0")
objs = []
for line in r.lines:
    try:
        objs.append(json.loads(line))
    except ValueError as e:
        T.ok(False, f"JSON line parses: {line[:120]}", e)
T.eq(len(objs), len(COMBOS), "one JSON object per route")
keys = {"probe", "success", "result", "result_code", "hash", "start", "start_time_smtp",
        "start_time_imap", "start_time_imap_search", "found", "end", "tries",
        "total_duration", "smtp_duration", "delivery_duration", "smtp_code", "error"}
for o in objs:
    T.ok(keys <= set(o), f"{o.get('probe')}: JSON has every SPEC key", keys - set(o))
    T.ok(o.get("success") is True and o.get("error") is None, f"{o.get('probe')}: success true, error null", o)
    T.ok(isinstance(o.get("hash"), str) and len(o["hash"]) == 32 and int(o["hash"], 16) >= 0,
         f"{o.get('probe')}: hash is 128 bits of hex", o.get("hash"))
    T.ok(all(isinstance(o.get(k), str) and o[k].endswith("Z") and "." in o[k]
             for k in ("start", "start_time_smtp", "found", "end")),
         f"{o.get('probe')}: ISO 8601 UTC stamps with fraction", o)
    T.ok(o["start"] <= o["start_time_smtp"] <= o["found"] <= o["end"], f"{o.get('probe')}: stamps in order", o)
T.eq(len({o["hash"] for o in objs}), len(objs), "every probe has its own token")

# Streaming: 5 signals, 5 lines per route (2 routes).
from e2e import Stream  # noqa: E402
cfg2 = write_config(config_text(stack_route(env, "s1", smtp="submission", imap="starttls"),
                                stack_route(env, "s2", smtp="smtps", imap="tls")))
s = Stream(cfg2)
for i in range(5):
    s.signal("\n")
    s.wait_lines(2 * (i + 1), 30)
s.close_stdin()
rc = s.wait_exit(10)
T.eq(rc, 0, "streaming: exits 0 after stdin closes")
got = {}
for line in s.lines:
    tags = by_probe(line)
    for p, v in tags.items():
        got[p] = got.get(p, 0) + len(v)
T.eq(got, {"s1": 5, "s2": 5}, "streaming: 5 signals give 5 lines per route")
T.ok(all("result=success" in l for l in s.lines), "streaming: every line a success", "\n".join(s.lines))
s.finish("streaming 5 signals")

# IDLE where the server offers it, polling where it does not or idle = off.
cfg3 = write_config(config_text(
    stack_route(env, "with-idle", imap="starttls", user="carol"),
    stack_route(env, "no-idle-server", imap="noidle", user="carol"),
    stack_route(env, "idle-off", imap="starttls", idle="off", user="carol")))
r = run(["-c", cfg3, "--once", "--trace"], what="--trace, IDLE and polling")
T.eq(r.rc, 0, "IDLE/polling run: all succeed")
T.ok("D! with-idle/imap: waiting with quick NOOPs for 3s, then IDLE" in r.err,
     "IDLE planned where offered", r.err[-3000:])
T.ok("D! no-idle-server/imap: waiting with quick NOOPs for 3s, then polling (server offers no IDLE)" in r.err,
     "polling where the server lacks IDLE", r.err[-3000:])
T.ok("D! idle-off/imap: waiting with quick NOOPs for 3s, then polling (idle = off)" in r.err,
     "polling with idle = off", r.err[-3000:])
for name in ("with-idle", "no-idle-server", "idle-off"):
    T.ok(f"D! {name}: found in the inbox after" in r.err and "waited with polling" in r.err,
         f"{name}: a quick local delivery is seen by the quick NOOPs, before any IDLE", r.err[-3000:])
T.ok("m5 IDLE" in r.err or " IDLE\n" in r.err or "> m" in r.err, "the trace shows the IMAP dialogue")
T.ok("D! with-idle/smtp > AUTH PLAIN ***" in r.err, "trace: SMTP AUTH payload shown as ***", r.err[-3000:])
T.ok("AUTHENTICATE PLAIN ***" in r.err or "LOGIN ***" in r.err, "trace: IMAP login shown as ***")
T.eq(probe_messages(env, "carol"), [], "carol's INBOX is clean")

# A delivery held back past the quick NOOPs: IDLE where offered, polling else.
release = lambda: subprocess.run([os.path.join(ROOT, "tests/mailstack/mailstack.sh"), "release",
                                  env["MS_DIR"]], check=False, capture_output=True)
# Mail to held@ that earlier tests left in the hold queue lands now, not
# during these probes (under load it once landed after them and stayed).
T.ok(drain_held(env), "held: the hold queue drains before the held probes", "postqueue -j not empty after 20 s")
cfg4 = write_config(config_text(
    stack_route(env, "held-idle", imap="starttls", user="held", timeout="12s"),
    stack_route(env, "held-noidle", imap="noidle", user="held", timeout="12s")))
p = subprocess.Popen([os.environ["MAIL_E2E"], "-c", cfg4, "--once", "--trace"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(4.5)
release()
out, err = p.communicate(timeout=30)
check_no_leak("held deliveries", out, err)
held = by_probe(out)
for name, how in (("held-idle", "IDLE"), ("held-noidle", "polling")):
    if name not in held:
        T.ok(False, f"{name}: one line", out + err[-2000:])
        continue
    tags, f, _ = held[name][0]
    T.eq(tags.get("result"), "success", f"{name}: a delivery held 4.5 s is found")
    T.ok(f.get("delivery_time", 0) >= 4.0, f"{name}: delivery_time covers the hold", f)
    T.ok(f"D! {name}: found in the inbox after" in err and f"waited with {how}" in
         [l for l in err.splitlines() if f"D! {name}: found in" in l][0], f"{name}: waited with {how}",
         err[-3000:])
T.ok(re.search(r"D! held-idle/imap > m\d+ IDLE", err), "held-idle: IDLE was sent after the quick NOOPs")
T.ok(not re.search(r"D! held-noidle/imap > m\d+ IDLE", err), "held-noidle: no IDLE where the server lacks it")
T.eq(probe_messages(env, "held"), [], "held's INBOX is clean")

# Nothing left behind: every probe was deleted.
T.eq(probe_messages(env, "bob"), [], "bob's INBOX holds no probe message after the runs")
T.done()
