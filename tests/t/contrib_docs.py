#!/usr/bin/env python3
# variants: release
"""What issue 21 promises the reader: the README's quick start is still
exactly two commands; its sections come in a new user's order (quick
start, install and first config, Telegraf, dashboards and alerts, the
reference, how it works); its "Dashboards and alerts" section names every file
under contrib/, every InfluxQL alert and every Prometheus rule; the README
no longer tells Telegraf to parse the JSON output (Telegraf's JSON parser
would drop probe, result and error); `make demo KEEP=1` and `make
demo-stop` exist; LICENSE is the MIT licence of "mail-e2e contributors"."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, ROOT  # noqa: E402

read = lambda p: open(os.path.join(ROOT, p)).read()
readme = read("README.md")


def section(title):
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", readme + "\n## end", re.S | re.M)
    return m.group(1) if m else ""


quick = section("Quick start")
T.eq(re.findall(r"^    (\S.*?)(?:\s+#.*)?$", quick, re.M), ["make demo", "make check"],
     "the quick start is exactly two commands: make demo, make check")
T.ok("make demo KEEP=1" in quick and "make demo-stop" in quick, "the quick start tells how to keep the demo running")
# The order a new user reads in (issue 21): quick start, install and first
# config, Telegraf, dashboards and alerts, the reference, how it works.
ORDER = [("quick start", ["Quick start"]), ("first config", ["Install and first config"]),
         ("Telegraf", ["Running it under Telegraf"]), ("dashboards and alerts", ["Dashboards and alerts"]),
         ("reference", ["Running it by hand", "Command line", "Configuration", "Output", "Building and installing",
                        "Manual pages"]),
         ("how it works", ["What it measures", "Tests", "Tested against", "Benchmarks"])]
heads = [m.group(1) for m in re.finditer(r"^## (.+)$", readme, re.M)]
for _, titles in ORDER:
    for t in titles:
        T.ok(t in heads, f"README has a section '{t}'")
place = {t: heads.index(t) for _, titles in ORDER for t in titles if t in heads}
for (a, before), (b, after) in zip(ORDER, ORDER[1:]):
    got = [place[t] for t in before if t in place], [place[t] for t in after if t in place]
    T.ok(got[0] and got[1] and max(got[0]) < min(got[1]), f"README: {a} comes before {b}", heads)
dash = section("Dashboards and alerts")
T.ok(dash, "README has a section 'Dashboards and alerts'")
files = sorted(os.path.relpath(os.path.join(d, f), ROOT) for d, _, fs in os.walk(os.path.join(ROOT, "contrib"))
               for f in fs)
T.ok(len(files) >= 6, f"{len(files)} files under contrib/")
for f in files:
    T.ok(f in dash or os.path.basename(f) in dash, f"the section names {f}")
# A pattern such as *.d (make's dependency files) must not hide contrib/telegraf.d.
if subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True).returncode == 0:
    ign = subprocess.run(["git", "check-ignore", *files], cwd=ROOT, capture_output=True, text=True).stdout.split()
    T.eq(ign, [], "no file under contrib/ is ignored by git")
else:
    print("# not a git checkout: whether git ignores a contrib/ file is not checked")
for a in re.findall(r"^-- alert: (\S+)", read("contrib/alerts/mail-e2e.influxql"), re.M):
    T.ok(f"`{a}`" in dash, f"the section names the InfluxQL alert {a}")
for a in re.findall(r"^\s*- alert: (\S+)", read("contrib/prometheus/mail-e2e.rules.yml"), re.M):
    T.ok(f"`{a}`" in dash, f"the section names the Prometheus rule {a}")
for k in ("string_as_label = false", "expiration_interval", "tagexclude", "mail_e2e_total_time"):
    T.ok(k in dash, f"the section documents the Prometheus mapping: {k}")
T.ok('data_format = "json"' not in readme, "README never tells Telegraf to parse the JSON output")

for args, want in ((["demo", "KEEP=1"], "tests/demo.sh --keep"), (["demo-stop"], "tests/demo.sh --stop")):
    out = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True).stdout
    T.ok(want in out, f"make {' '.join(args)} runs {want}", out)

lic = read("LICENSE")
T.ok(lic.startswith("MIT License\n") and re.search(r"^Copyright \(c\) 20\d\d mail-e2e contributors$", lic, re.M)
     and "Permission is hereby granted, free of charge" in lic and 'THE SOFTWARE IS PROVIDED "AS IS"' in lic,
     "LICENSE: MIT, copyright mail-e2e contributors")
T.done()
