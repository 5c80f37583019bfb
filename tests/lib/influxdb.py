"""influxdb.py - a private InfluxDB 1.x (Debian's influxd) on loopback for
tests: its own config, data directory and ports, stopped by PID at exit.

    db = InfluxDB(tmpdir, http_port=18186, bind_port=18188)   # started
    db.write("e2e", lines)        # [(status, body)] per line, 204 expected
    db.query("e2e", "SELECT ...") # (status, parsed JSON or text)
    db.stop()

A test that cannot start it fails loudly (e2e.fatal)."""
import atexit
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from e2e import fatal


class InfluxDB:
    def __init__(self, d, http_port, bind_port):
        influxd = shutil.which("influxd")
        if not influxd:
            fatal("influxd is not installed (Debian package influxdb; tests/install-deps.sh)")
        self.http = f"127.0.0.1:{http_port}"
        conf = os.path.join(d, "influxdb.conf")
        with open(conf, "w") as f:
            f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{bind_port}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
[http]
  bind-address = "{self.http}"
  log-enabled = false
[monitor]
  store-enabled = false
""")
        self.log = os.path.join(d, "influxd.log")
        self.proc = subprocess.Popen([influxd, "run", "-config", conf], stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "w"))
        atexit.register(self.stop)
        for _ in range(150):
            if self._req("GET", "/ping")[0] == 204:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        fatal(f"the private influxd did not answer /ping on {self.http} (log: {self.log})")

    def _req(self, method, path, body=None):
        req = urllib.request.Request(f"http://{self.http}{path}", data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError as e:
            return 0, str(e)

    def create(self, db):
        return self._req("POST", "/query?" + urllib.parse.urlencode({"q": f'CREATE DATABASE "{db}"'}))[0]

    def write(self, db, lines):
        return [self._req("POST", f"/write?db={db}&precision=ns", (line + "\n").encode()) for line in lines]

    def query(self, db, q, epoch="ns"):
        status, body = self._req("GET", "/query?" + urllib.parse.urlencode({"db": db, "q": q, "epoch": epoch}))
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def rows(result):
    """The rows of a /query answer as (tags, {column: value}) pairs; an
    error anywhere in the answer raises ValueError with its text."""
    if not isinstance(result, dict):
        raise ValueError(f"not JSON: {str(result)[:300]}")
    out = []
    for res in result.get("results", []):
        if "error" in res:
            raise ValueError(res["error"])
        for s in res.get("series", []):
            for v in s.get("values", []):
                out.append((s.get("tags", {}), dict(zip(s["columns"], v))))
    if "error" in result:
        raise ValueError(result["error"])
    return out
