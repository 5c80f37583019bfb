#!/usr/bin/env python3
# needs: mailstack
"""A real InfluxDB 1.x (Debian's influxd, private instance on loopback)
accepts every line mail-e2e prints: successes and failure classes from the
real stack, plus awkward values from the fake server (quotes and
backslashes in error strings, '=' and non-ASCII in addresses, a
measurement name with a space and a comma).  Every POST to /write must get
204, and the stored field types must be the documented ones."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, stack, stack_route, config_text, write_config, run, fatal, secret, tmpdir  # noqa: E402
from fakemail import FakeMail  # noqa: E402

HTTP = "127.0.0.1:18086"
influxd = shutil.which("influxd")
if not influxd:
    fatal("influxd is not installed (Debian package influxdb; tests/install-deps.sh)")

d = tmpdir()
conf = os.path.join(d, "influxdb.conf")
with open(conf, "w") as f:
    f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:18088"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
[http]
  bind-address = "{HTTP}"
  log-enabled = false
[monitor]
  store-enabled = false
""")
proc = subprocess.Popen([influxd, "run", "-config", conf], stdout=subprocess.DEVNULL,
                        stderr=open(os.path.join(d, "influxd.log"), "w"))


def http(method, path, body=None):
    req = urllib.request.Request(f"http://{HTTP}{path}", data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


try:
    for _ in range(100):
        if http("GET", "/ping")[0] == 204:
            break
        time.sleep(0.1)
    T.eq(http("GET", "/ping")[0], 204, "private influxd answers /ping")
    T.eq(http("POST", "/query?" + urllib.parse.urlencode({"q": "CREATE DATABASE e2e"}))[0], 200, "database created")

    lines = []
    env = stack()
    dom = env["MS_DOMAIN"]
    cfg = write_config(config_text(
        stack_route(env, "ok-starttls"), stack_route(env, "ok-tls", smtp="smtps", imap="tls"),
        stack_route(env, "auth-fail", smtp_password="wrong-password-x"),
        stack_route(env, "rcpt-fail", to=f"nobody@{dom}"),
        stack_route(env, "imap-down", imap="tls", imap_port="1"),
        stack_route(env, "timeout", user="held", timeout="2s"),
        stack_route(env, "in-junk", user="junky", junk_is_failure="true"),
        defaults={"measurement": "mail e2e,test"}))
    r = run(["-c", cfg, "--once"], what="stack lines for influx")
    for line in r.lines:   # the dashboard checks below need these results: shown if they differ
        if "probe=in-junk" in line or "probe=timeout" in line:
            print("# " + line)
    lines += r.lines

    pw = secret("influx-Fake-pw-1")
    fake = FakeMail(f"user alice {pw}\nuser bob {pw}\n"
                    'smtp on RCPT reply 550 5.1.1 "quoted" and \\back\\slash, comma=equals\n',
                    tempfile.mkdtemp(prefix="me2e-fake."))
    fcfg = write_config(f"""[awkward.route]
from = a=b@fake.test
to = b\u00f8b@f\u00e4ke.test
smtp_host = 127.0.0.1
smtp_port = {fake.ports['SMTP_PORT']}
smtp_username = alice
smtp_password = {pw}
imap_host = 127.0.0.1
imap_port = {fake.ports['IMAP_PORT']}
imap_username = bob
imap_password = {pw}
tls_ca = {fake.ca}
timeout = 5s
""")
    r = run(["-c", fcfg, "--once"], what="awkward values")
    T.ok(any('\\"quoted\\"' in l and "\\\\back\\\\slash" in l for l in r.lines),
         "the error string carries escaped quotes and backslashes", r.lines)
    lines += r.lines
    fake.close()

    T.ok(len(lines) >= 7, f"{len(lines)} lines collected")
    for line in lines:
        code, body = http("POST", "/write?db=e2e&precision=ns", (line + "\n").encode())
        T.eq(code, 204, f"influxd accepts: {line[:90]}...")
    code, body = http("GET", "/query?" + urllib.parse.urlencode(
        {"db": "e2e", "q": 'SHOW FIELD KEYS FROM "mail e2e,test"'}))
    types = {}
    try:
        for k, t in json.loads(body)["results"][0]["series"][0]["values"]:
            types[k] = t
    except (ValueError, KeyError, IndexError):
        pass
    T.eq({k: types.get(k) for k in ("success", "result_code", "total_time", "smtp_time",
                                    "delivery_time", "tries", "smtp_code", "error",
                                    "imap_cert_expiry", "imap_tls_version", "late")},
         {"success": "integer", "result_code": "integer", "total_time": "float", "smtp_time": "float",
          "delivery_time": "float", "tries": "integer", "smtp_code": "integer", "error": "string",
          "imap_cert_expiry": "integer", "imap_tls_version": "string", "late": "integer"},
         "stored field types are the documented ones")
    code, body = http("GET", "/query?" + urllib.parse.urlencode(
        {"db": "e2e", "q": 'SELECT count(success) FROM "mail e2e,test" GROUP BY "result"'}))
    T.ok(code == 200 and "smtp_auth_failed" in body and "timeout" in body and "success" in body
         and '"junk"' in body, "a dashboard query groups by result (junk included)", body[:500])
    code, body = http("GET", "/query?" + urllib.parse.urlencode(
        {"db": "e2e", "q": 'SELECT count(success) FROM "mail e2e,test" WHERE "mailbox" = \'junk\''}))
    T.ok(code == 200 and '"values":[[' in body, "the mailbox tag is queryable (mailbox = 'junk')", body[:300])
finally:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
T.done()
