#!/usr/bin/env python3
# needs: mailstack domains
"""contrib/grafana/mail-e2e.json and contrib/alerts/mail-e2e.influxql
against a real InfluxDB 1.x (Debian's influxd, private on loopback) filled
with real lines of the real program, from the private Postfix + Dovecot
(successes, a wrong password, junk, routes queued for a busy server, a
held probe released late, a route gone quiet 20 minutes ago) and the two-domain world (SPF/DKIM/DMARC
verdicts, a plain-text hop, a real bounce, a real delay notice).

Dashboard: valid JSON, every target raw InfluxQL; every query (the panels'
and the route variable's), with Grafana's macros filled in as Grafana does,
runs without error and returns data.  A query may come back empty only
when a field it reads is one SPEC names that the program does not write
yet (derived here: SPEC's names minus what these real lines carry), and it
says so; a query that reads a name found neither in SPEC nor in the real
output fails (a typo).  Alerts: each query runs, and its condition fires
for exactly the routes the scenario makes it fire for."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import (T, ROOT, stack, stack_route, config_text, write_config, run, fatal, parse_line,  # noqa: E402
                 tmpdir, SPEC_NAMES)
from influxdb import InfluxDB, rows  # noqa: E402

# Every tag and field SPEC names, by section (tests/lib/e2e.py): the program
# writes them or will.  README-only names (mailbox, late, *_cert_expiry,
# *_tls_version) must show up in the real output below.
SPEC = SPEC_NAMES
SPEC_SECTION = {name: sec for sec, names in SPEC.items() for name in names.split()}
DB = "telegraf"

# --- real lines ----------------------------------------------------------------
lines = []
ms = stack()
routes = (stack_route(ms, "ok-starttls"), stack_route(ms, "ok-tls", smtp="smtps", imap="tls"),
          stack_route(ms, "auth-fail", smtp_password="wrong-password-dash"),
          stack_route(ms, "in-junk", user="junky", junk_is_failure="true"),
          stack_route(ms, "gone-quiet", user="carol"))
# One route at a time per server: the others wait, and say so in queue_time.
r = run(["-c", write_config(config_text(*routes, defaults={"server_concurrency": "1"})), "--once"],
        what="Postfix + Dovecot routes")
quiet = [l for l in r.lines if l.startswith("mail_e2e,probe=gone-quiet,")]
lines += [l for l in r.lines if l not in quiet]
# The route gone quiet: its real line, as if written 20 minutes ago.
lines += [re.sub(r" (\d+)$", lambda m: f" {int(m.group(1)) - 20 * 60 * 10**9}", l) for l in quiet]

held = os.path.join(ms["MS_MAILDIR"], "held", "Maildir", "new")
count = lambda: len(os.listdir(held)) if os.path.isdir(held) else 0
# A route name of its own per build: another run's probe is never proven ours.
hname = "held-late-" + os.environ.get("MAIL_E2E_VARIANT", "release")
hcfg = write_config(config_text(stack_route(ms, hname, user="held", timeout="3s")))
r = run(["-c", hcfg, "--once"], what="held probe")
T.ok(any(",result=timeout" in l for l in r.lines), "held@: Postfix holds the probe, timeout", r.out)
before = count()


def release():
    subprocess.run(["postsuper", "-c", ms["MS_POSTFIX_CONF"], "-H", "ALL"], capture_output=True)
    subprocess.run(["postqueue", "-c", ms["MS_POSTFIX_CONF"], "-f"], capture_output=True)


release()
end = time.monotonic() + 15
while count() <= before and time.monotonic() < end:
    time.sleep(0.1)
r = run(["-c", hcfg, "--once"], what="held probe, released")
T.ok(any(",result=timeout" in l and "late=1i" in l for l in r.lines), "released, it is counted late=1i", r.out)
lines += [l.replace(f"probe={hname},", "probe=held-late,") for l in r.lines]
release()      # nothing of ours stays held

dm = stack("DOMAINS_ENV", "two-domain stack", "DM_")
pw = lambda user: dm[f"DM_PASSWORD_{user}"]


def droute(name, to, bounce=False, direct=False, **extra):
    keys = {"from": "alice@a.test", "to": to, "imap_host": dm["DM_B_IMAP_HOST"],
            "imap_port": dm["DM_B_IMAP_PORT"], "imap_tls": "starttls", "imap_username": "bob",
            "imap_password": pw("bob"), "tls_ca": dm["DM_CA"], "timeout": "15s",
            "poll_interval": "500ms", "check_junk": "false"}
    if direct:      # straight into B's port 25, no TLS, no AUTH: a plain hop
        keys.update(smtp_host=dm["DM_B_SMTP_HOST"], smtp_port=dm["DM_B_SMTP_PORT"], smtp_tls="none")
    else:
        keys.update(smtp_host=dm["DM_A_SUBMISSION_HOST"], smtp_port=dm["DM_A_SUBMISSION_PORT"],
                    smtp_tls="starttls", smtp_username="alice", smtp_password=pw("alice"))
    if bounce:
        keys.update(bounce_imap_host=dm["DM_A_IMAP_HOST"], bounce_imap_port=dm["DM_A_IMAP_PORT"],
                    bounce_imap_username="alice", bounce_imap_password=pw("alice"))
    keys.update(extra)
    return f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"


r = run(["-c", write_config(config_text(
    droute("verdicts", "bob@b.test"), droute("plain-hop", "bob@b.test", direct=True),
    droute("refused", dm["DM_B_NOUSER"], bounce=True),
    droute("deferred", dm["DM_B_DEFER"], bounce=True, timeout="6s"))), "--once"], what="two-domain routes")
subprocess.run(["postsuper", "-c", dm["DM_A_POSTFIX_CONF"], "-d", "ALL", "deferred"], capture_output=True)
lines += r.lines

names = set()
for l in lines:
    _, tags, fields, _ = parse_line(l)
    names |= set(tags) | set(fields)
T.ok(len(lines) == 10, f"{len(lines)} real lines from 10 routes", "\n".join(lines))
not_yet = {n for n in SPEC_SECTION if n not in names}
print(f"# the real lines carry {len(names)} names; SPEC names not written yet: {' '.join(sorted(not_yet))}")

db = InfluxDB(tmpdir(), 18186, 18188)
T.eq(db.create(DB), 200, "private influxd: database created")
T.eq([c for c, _ in db.write(DB, lines)], [204] * len(lines), "influxd accepts every line")


def idents(q):
    """The names a query reads: its double-quoted identifiers, less the
    measurement (after FROM) and the aliases (after AS)."""
    q = re.sub(r"'[^']*'", "''", q)
    q = re.sub(r'\b(FROM|AS)\s+"[^"]+"', "", q, flags=re.I)
    return set(re.findall(r'"([^"]+)"', q))


def has_data(result):
    return any(v is not None for _, row in rows(result) for k, v in row.items() if k != "time")


# --- the dashboard -----------------------------------------------------------------
try:
    dash = json.load(open(os.path.join(ROOT, "contrib", "grafana", "mail-e2e.json")))
except ValueError as e:
    fatal(f"contrib/grafana/mail-e2e.json is not JSON: {e}")
panels = [p for p in dash.get("panels", []) if p.get("type") != "row"]
panels += [c for p in dash.get("panels", []) for c in p.get("panels", [])]
ids = [p.get("id") for p in dash.get("panels", [])] + [c.get("id") for p in dash.get("panels", []) for c in p.get("panels", [])]
T.ok(len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids), "every panel has its own id")
T.ok(len(panels) >= 15, f"{len(panels)} panels")
variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
T.ok(variables.get("datasource", {}).get("query") == "influxdb", "a data source variable of type influxdb")
queries = [("variable probe", variables.get("probe", {}).get("query", ""))]
for p in panels:
    T.ok(p.get("targets") and p.get("title") and p.get("description"), f"panel '{p.get('title')}': title, description, targets")
    for t in p.get("targets", []):
        T.ok(t.get("rawQuery") is True and t.get("query") and t.get("datasource", {}).get("type") == "influxdb",
             f"panel '{p.get('title')}' {t.get('refId')}: raw InfluxQL on the influxdb data source", t)
        queries.append((f"panel '{p.get('title')}' {t.get('refId')}", t.get("query", "")))

probes = sorted({parse_line(l)[1]["probe"] for l in lines})
now_ms = int(time.time() * 1000)
grafana = {   # what Grafana puts in, for the last 3 hours, every route selected
    "$timeFilter": f"time >= {now_ms - 3 * 3600 * 1000}ms and time <= {now_ms + 60000}ms",
    "$__interval": "1m",
    "$measurement": "mail_e2e",
    "$probe": "(" + "|".join(re.sub(r"([\\/^$.|?*+()\[\]{}-])", r"\\\1", p) for p in probes) + ")",
}
covered = set()
for what, q in queries:
    sub = q
    for k, v in grafana.items():
        sub = sub.replace(k, v)
    T.ok(not re.search(r"\$\{?[A-Za-z_]", sub), f"{what}: every macro is one Grafana fills in", q)
    refs = idents(q)
    unknown = refs - names - set(SPEC_SECTION)
    T.ok(not unknown, f"{what}: reads only names of SPEC or of the real output", f"unknown: {unknown}\n{q}")
    status, res = db.query(DB, sub)
    try:
        data = has_data(res)
        err = None
    except ValueError as e:
        data, err = False, str(e)
    T.ok(status == 200 and err is None, f"{what}: InfluxDB runs it", f"{err}\n{sub}")
    missing = refs & not_yet
    if data:
        T.ok(True, f"{what}: returns data")
        covered |= refs
    elif missing:
        secs = ", ".join(sorted({SPEC_SECTION[m] for m in missing}))
        T.ok(True, f"{what}: no data, as it must: field not yet produced by the program: "
                   f"{', '.join(sorted(missing))} (SPEC {secs})")
    else:
        T.ok(False, f"{what}: returns data", sub)
want = {"success", "result_code", "delivery_time", "total_time", "smtp_cert_expiry", "imap_cert_expiry", "spf",
        "dkim", "dmarc", "dsn_status", "delayed", "late", "mailbox", "plain_hops", "error", "result"}
T.eq(want - covered, set(), "the dashboard shows success, times, certificates, verdicts, bounces, late and junk, with data")

# --- the InfluxQL alerts ------------------------------------------------------------
text = open(os.path.join(ROOT, "contrib", "alerts", "mail-e2e.influxql")).read()
alerts = re.findall(r"^-- alert: (\S+)\n(?:--.*\n)*?-- fires when: (\w+) ([<>=]=?) (\S+)\n(SELECT .*)$", text, re.M)
T.eq(len(alerts), text.count("-- alert: "), f"{len(alerts)} alerts, each with a condition and a query")
everything = {"ok-starttls", "ok-tls", "auth-fail", "in-junk", "gone-quiet", "held-late", "verdicts",
              "plain-hop", "refused", "deferred"}
expect = {
    "route_failing": {"auth-fail", "in-junk", "held-late", "refused", "deferred"},
    "route_silent": {"gone-quiet"},
    "delivery_slow": set(),
    "smtp_certificate_expiring": everything - {"plain-hop"},    # the stacks' certificates live 2-3 days
    "imap_certificate_expiring": everything,
    "verdict_not_pass": {"plain-hop"},
    "plain_hop": {"plain-hop"},
    "bounced": {"refused"},
    "delayed": {"deferred"},
    "late_arrivals": {"held-late"},
    "junk": {"in-junk"},
}
T.eq({a[0] for a in alerts}, set(expect), "the alerts are the documented ones")


def seconds(v):
    m = re.fullmatch(r"(\d+)([smhd]?)", v)
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


ops = {"<": lambda a, b: a < b, ">": lambda a, b: a > b, "==": lambda a, b: a == b,
       ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}
for name, col, op, limit, q in alerts:
    refs = idents(q)
    T.ok(not (refs - names - set(SPEC_SECTION)), f"alert {name}: reads only names of SPEC or of the output", refs)
    status, res = db.query(DB, q, epoch="s")
    try:
        got = rows(res)
    except ValueError as e:
        T.ok(False, f"alert {name}: InfluxDB runs it", f"{e}\n{q}")
        continue
    T.ok(status == 200 and got, f"alert {name}: InfluxDB runs it and returns rows", res)
    fired = set()
    for tags, row in got:
        if col == "age":
            v, lim = time.time() - row["time"], seconds(limit)
        else:
            v, lim = row.get(col), float(limit)
        if v is not None and ops[op](v, lim):
            fired.add(tags.get("probe"))
    T.eq(fired, expect.get(name), f"alert {name} ({col} {op} {limit}) fires for exactly these routes")
T.done()
