#!/usr/bin/env python3
# needs: mailstack
"""contrib/prometheus/ with the real promtool (Debian package prometheus):
`promtool check rules` and `promtool test rules` (the unit tests shipped
beside the rules) pass; telegraf-output.conf is TOML that keeps error out
of the labels (string_as_label = false), expires series no sooner than
Telegraf's interval and drops only tags the program writes; every metric
the rules name is a numeric field of the program (or of SPEC), and every
label they name survives the mapping.  Then real lines of the real program
(a healthy route and a wrong password against the private Postfix +
Dovecot) go through the documented mapping into a generated promtool test:
the failing route pages with its result_code, the healthy one does not,
both legs' 2-day test certificates warn, and the deadman stays quiet."""
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, ROOT, stack, stack_route, config_text, write_config, run, fatal, parse_line, tmpdir  # noqa: E402

HERE = os.path.join(ROOT, "contrib", "prometheus")
promtool = shutil.which("promtool")
if not promtool:
    fatal("promtool is not installed (Debian package prometheus; tests/install-deps.sh)")


def tool(*args, cwd=HERE):
    p = subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


rc, out = tool("check", "rules", "mail-e2e.rules.yml")
n_rules = int((re.search(r"SUCCESS: (\d+) rules found", out) or [0, 0])[1])
T.ok(rc == 0 and n_rules >= 6, f"promtool check rules: {n_rules} rules", out)
rc, out = tool("test", "rules", "mail-e2e.rules.test.yml")
T.ok(rc == 0 and "SUCCESS" in out, "promtool test rules mail-e2e.rules.test.yml: SUCCESS", out)

# --- real lines -------------------------------------------------------------------
env = stack()
r = run(["-c", write_config(config_text(stack_route(env, "healthy"),
                                        stack_route(env, "wrong-password", smtp_password="not-it-prom"))),
         "--once"], what="two routes for Prometheus")
parsed = {}
for line in r.lines:
    _, tags, fields, _ = parse_line(line)
    parsed[tags["probe"]] = (tags, fields)
T.eq(sorted(parsed), ["healthy", "wrong-password"], "one line per route")
SPEC_NUMERIC = {"success", "result_code", "total_time", "smtp_time", "delivery_time", "tries", "smtp_code",
                "hops", "plain_hops", "transit_time", "delayed", "queue_time", "smtp_connect_time",
                "smtp_greeting_time", "smtp_tls_time", "smtp_auth_time", "smtp_send_time", "imap_connect_time",
                "imap_tls_time", "imap_login_time", "imap_select_time", "mx_tried", "tlsrpt", "spam_score",
                "spam_threshold", "scl", "dnsbl_listed"}
numeric = SPEC_NUMERIC | {k for _, f in parsed.values() for k, v in f.items() if not isinstance(v, str)}
tags_out = {k for t, _ in parsed.values() for k in t} | {"spf", "dkim", "dmarc", "arc", "mailbox"}

# --- the Telegraf output ---------------------------------------------------------
try:
    out_conf = tomllib.load(open(os.path.join(HERE, "telegraf-output.conf"), "rb"))
    drop_in = tomllib.load(open(os.path.join(ROOT, "contrib", "telegraf.d", "mail-e2e.conf"), "rb"))
except (OSError, tomllib.TOMLDecodeError) as e:
    fatal(f"a Telegraf file does not parse as TOML: {e}")
pc = (out_conf.get("outputs", {}).get("prometheus_client") or [{}])[0]


def secs(d):
    m = re.fullmatch(r"(\d+)(s|m|h)", str(d))
    return int(m[1]) * {"s": 1, "m": 60, "h": 3600}[m[2]] if m else None


interval = secs(drop_in["inputs"]["execd"][0].get("interval"))
T.eq(pc.get("string_as_label"), False, "string_as_label = false: error never becomes a label")
T.ok(interval and secs(pc.get("expiration_interval")) and secs(pc["expiration_interval"]) >= interval,
     f"expiration_interval {pc.get('expiration_interval')} is at least the probe interval ({interval} s)")
T.eq(pc.get("namepass"), ["mail_e2e"], "only mail-e2e's measurement goes there")
excluded = set(pc.get("tagexclude", []))
T.ok(excluded and excluded <= tags_out and "probe" not in excluded,
     "tagexclude names tags the program writes, never probe", excluded - tags_out)

# --- names in the rules ------------------------------------------------------------
rules_text = open(os.path.join(HERE, "mail-e2e.rules.yml")).read()
tests_text = open(os.path.join(HERE, "mail-e2e.rules.test.yml")).read()
used = set(re.findall(r"\bmail_e2e_([a-z_]+)", rules_text + tests_text))
T.ok(used and not (used - numeric), f"the {len(used)} metrics named are numeric fields (output or SPEC)",
     used - numeric)
labels = set(re.findall(r"\$labels\.([a-z_]+)", rules_text))
for grp in re.findall(r"\b(?:by|on)\s*\(([^)]*)\)", rules_text):
    labels |= {x.strip() for x in grp.split(",") if x.strip()}
kept = (tags_out - excluded) | {"job", "instance", "host", "leg"}
T.ok(labels and not (labels - kept), f"the labels named ({', '.join(sorted(labels))}) survive the mapping",
     labels - kept)

# --- real lines through the mapping into a promtool test ---------------------------------
MINUTES = 70


def mapped(tags, fields):
    """telegraf-output.conf's mapping: mail_e2e_FIELD{tags - tagexclude,
    host} for each numeric field; the scrape adds job and instance."""
    lab = {k: v for k, v in tags.items() if k not in excluded}
    lab.update(host="probe-host", job="telegraf", instance="probe-host:9274")
    return lab, {f"mail_e2e_{k}": v for k, v in fields.items() if not isinstance(v, (str, bool))}


def sel(name, lab):
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(lab.items())) + "}"


def humanize(s):   # Prometheus' humanizeDuration for whole seconds >= 1 day
    s = int(s)
    return f"{s // 86400}d {s % 86400 // 3600}h {s % 3600 // 60}m {s % 60}s"


series, failing, certs = [], [], []
for probe, (tags, fields) in sorted(parsed.items()):
    lab, metrics = mapped(tags, fields)
    for name, v in metrics.items():
        series.append({"series": sel(name, lab), "values": f"{v}x{MINUTES}"})
    if fields.get("success") == 0:
        failing.append({"exp_labels": dict(lab, severity="page"), "exp_annotations": {
            "summary": f"mail-e2e route {probe} is failing (result_code {fields['result_code']})",
            "description": re.search(r'description: "(Probes from .*)"', rules_text)[1]
            .replace("{{ $labels.from }}", tags["from"]).replace("{{ $labels.to }}", tags["to"])
            .replace("{{ $value }}", str(fields["result_code"]))}})
    for leg in ("smtp", "imap"):
        if f"{leg}_cert_expiry" in fields:
            certs.append({"exp_labels": dict(lab, severity="warning", leg=leg), "exp_annotations": {
                "summary": f"mail-e2e route {probe}: the {leg} server's certificate expires in "
                           f"{humanize(fields[f'{leg}_cert_expiry'])}",
                "description": "Negative: it has expired (and insecure_skip_verify let it through)."}})
T.ok(len(failing) == 1 and len(certs) == 4, "the real lines: one failing route, four legs with TLS",
     (failing, certs))
gen = {"rule_files": [os.path.join(HERE, "mail-e2e.rules.yml")], "evaluation_interval": "1m",
       "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": [
           {"eval_time": "11m", "alertname": "MailE2ERouteFailing", "exp_alerts": failing},
           {"eval_time": "11m", "alertname": "MailE2ERouteSilent", "exp_alerts": []},
           {"eval_time": "11m", "alertname": "MailE2EDeliverySlow", "exp_alerts": []},
           {"eval_time": "61m", "alertname": "MailE2ECertificateExpiring", "exp_alerts": certs}]}]}
d = tmpdir()
with open(os.path.join(d, "real.test.json"), "w") as f:
    json.dump(gen, f, indent=1)      # JSON is YAML: promtool reads it as is
rc, out = tool("test", "rules", "real.test.json", cwd=d)
T.ok(rc == 0 and "SUCCESS" in out,
     "real lines, mapped: the wrong password pages with its result_code, certificates warn, nothing else", out)
T.done()
