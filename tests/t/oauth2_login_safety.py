#!/usr/bin/env python3
"""--oauth2-login as a security reviewer sees it (issue 19), against the
fake authorization server; the test plays the browser and, where it says
so, another local process on the loopback port.

 1. A redirect without the login's state is never acted on, whatever it
    carries (RFC 6749 §10.12): error=access_denied with no state, or with
    a wrong one, is answered 400 and the login goes on to succeed.
 2. SIGINT / SIGTERM end the login within a second with "interrupted:
    nothing written": while waiting for the browser, between device polls,
    and with a token request under way.
 3. A device code's expires_in of 99999999999 is clamped (it overflowed).
 4. An endpoint that quotes what it was sent cannot make the E! line show
    the authorization code, the PKCE verifier, the device code, or a
    client secret shorter than 4 bytes.
 5. A browser connection that opened, then sent its request after other
    connections came, is still read (4 round-robin slots evicted it).
 6. Partial requests holding a code are wiped from memory when their
    connection is evicted (read from /proc/PID/mem).
 7. --oauth2-port: the redirect on a fixed port, the `ssh -L` line; a port
    in use; the flag's own errors."""
import http.client
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, binary, check_no_leak, check_stderr_prefixes, secret, tmpdir, write_config, write_file, run  # noqa: E402
from authserver import AuthServer  # noqa: E402

D = tmpdir()
REFRESH = secret("1//0gSafety-Refresh-" + os.urandom(6).hex())
OLD = secret("1//0gSafety-Old-" + os.urandom(6).hex())
SHORT = secret("!#")                       # a client secret of 2 bytes
for n in range(1, 40):
    secret(f"ya29.safety-at-{n}")
BASE = (f"client mail-e2e-client\nclient short-client {SHORT}\nissue-refresh {REFRESH}\n"
        "access ya29.safety-at-\n")
auth = AuthServer(BASE, os.path.join(D, "auth"))
short_secret_file = write_file(os.path.join(D, "short.secret"), SHORT + "\n")
URL_RE = r"I! oauth2-login \[[\w-]+\]: open this URL in a browser on this machine: (\S+)"


def config(name, rfile, **keys):
    base = {
        "from": "alice@fake.test", "to": "bob@fake.test",
        "smtp_host": "127.0.0.1", "smtp_username": "alice",
        "imap_host": "127.0.0.1", "imap_username": "bob", "tls_ca": auth.ca,
        "oauth2_token_url": auth.token_url, "oauth2_client_id": "mail-e2e-client",
        "oauth2_refresh_token_file": rfile, "oauth2_scope": "mail",
        "oauth2_auth_url": auth.auth_url, "timeout": "10s",
    }
    base.update(keys)
    base = {k: v for k, v in base.items() if v is not None}
    return write_config(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in base.items()))


def refresh_file(name, content=OLD):
    path = os.path.join(D, name)
    if content is not None:
        write_file(path, content + "\n")
    return path


def read(path):
    with open(path) as f:
        return f.read()


class Login:
    def __init__(self, cfg, route, args=()):
        self.p = subprocess.Popen([binary(), "-c", cfg, "--oauth2-login", route] + list(args),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err_b, self.rc, self.t_exit = b"", b"", None, None

    @property
    def err(self):
        return self.err_b.decode(errors="replace")

    def _pump(self, timeout):
        fds = [f for f in (self.p.stdout, self.p.stderr) if not f.closed]
        r, _, _ = select.select(fds, [], [], max(timeout, 0))
        got = False
        for f in r:
            chunk = os.read(f.fileno(), 65536)
            if chunk:
                got = True
                if f is self.p.stdout:
                    self.out += chunk
                else:
                    self.err_b += chunk
        return got

    def wait_for(self, pattern, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(pattern, self.err)
            if m:
                return m
            if not self._pump(end - time.monotonic()) and self.p.poll() is not None:
                break
        return re.search(pattern, self.err)

    def running_after(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            self._pump(0.05)
        return self.p.poll() is None

    def finish(self, what, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.p.poll() is None:
            self._pump(0.02)
        self.t_exit = time.monotonic()
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        while self._pump(0):
            pass
        self.rc = self.p.returncode
        for e in auth.log:          # the codes the fake issued are secrets too
            m = re.search(r"code=([^&]+)", e.get("location", ""))
            if m:
                secret(urllib.parse.unquote(m.group(1)))
        check_no_leak(what, self.out.decode(errors="replace"), self.err)
        check_stderr_prefixes(what, self.err)
        return self.rc


def get(url, ca=None):
    """(status, headers, body), or (None, {}, why) when nothing answers."""
    try:
        return _get(url, ca)
    except OSError as e:
        return None, {}, str(e)


def _get(url, ca=None):
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        c = http.client.HTTPSConnection(u.hostname, u.port, timeout=20,
                                        context=ssl.create_default_context(cafile=ca))
    else:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
    c.request("GET", u.path + ("?" + u.query if u.query else ""))
    r = c.getresponse()
    body = r.read().decode(errors="replace")
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def authorize(login):
    """The URL printed, and where the fake's 302 sends the browser."""
    m = login.wait_for(URL_RE)
    if not m:
        return None, None
    st, hd, _ = get(m.group(1), auth.ca)
    return m.group(1), hd.get("location") if st == 302 else None


def port_of(url):
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return urllib.parse.urlsplit(q["redirect_uri"][0]).port


def stop_within(lg, sig, what):
    t0 = time.monotonic()
    lg.p.send_signal(sig)
    rc = lg.finish(what, timeout=10)
    took = lg.t_exit - t0
    T.ok(took < 1.5, f"{what}: ends within a second ({took:.2f} s)")
    return rc


WARN = ("W! oauth2-login [{r}]: refused a redirect without this login's state (not acted on; "
        "an old browser tab, or another program?): still waiting")

# 1. error= without the right state: never acted on.
rf = refresh_file("state.refresh")
auth.reset(BASE)
lg = Login(config("state", rf), "state")
url, loc = authorize(lg)
T.ok(url and loc, "1: the URL printed, the fake redirects", lg.err[-600:])
port = port_of(url) if url else 0
st, _, body = get(f"http://127.0.0.1:{port}/?error=access_denied&error_description=Your+login+is+over")
T.ok(st == 400 and "State mismatch" in body, "1: error= with no state: 400 'State mismatch'", (st, body[:200]))
st2, _, _ = get(f"http://127.0.0.1:{port}/?error=access_denied&state=guessed&error_description=pwned")
T.eq(st2, 400, "1: error= with a wrong state: 400")
st3, _, _ = get(f"http://127.0.0.1:{port}/?code=forged-code&state=guessed")
T.eq(st3, 400, "1: a code with a wrong state: 400")
T.ok(lg.running_after(0.5), "1: the login is still waiting", lg.err[-600:])
T.eq(lg.err.count(WARN.format(r="state") + "\n"), 3, "1: one W! line per refused redirect, exact text")
st, _, body = get(loc) if loc else (None, None, "")
rc = lg.finish("state")
T.ok(st == 200 and "Signed in" in body, "1: the real redirect then signs in", (st, body[:200]))
T.eq(rc, 0, "1: exit 0")
T.eq(read(rf), REFRESH + "\n", "1: the refresh token written")
T.ok("pwned" not in lg.err and "Your login is over" not in lg.err and "forged" not in lg.err,
     "1: nothing the other process sent reached the terminal")

# 2a. SIGINT while waiting for the browser.
rf = refresh_file("int.refresh")
lg = Login(config("int", rf), "int")
T.ok(lg.wait_for(r"waiting for the browser"), "2a: waiting for the browser", lg.err[-400:])
rc = stop_within(lg, signal.SIGINT, "2a: SIGINT while waiting for the browser")
T.eq(rc, 1, "2a: exit 1")
T.ok(lg.err.endswith("E! oauth2-login [int]: interrupted: nothing written\n"), "2a: the last line says interrupted",
     lg.err[-300:])
T.ok("no browser request" not in lg.err, "2a: not taken for a timeout")
T.eq(read(rf), OLD + "\n", "2a: the file untouched")

# 2b. SIGTERM between device polls (interval 5 s, always pending).
rf = refresh_file("dterm.refresh", content=None)
auth.reset(BASE + "device-poll " + "pending " * 30 + "\n")
lg = Login(config("dterm", rf, oauth2_device_url=auth.device_url), "dterm")
T.ok(lg.wait_for(r"waiting for the sign-in"), "2b: device grant waiting", lg.err[-400:])
time.sleep(0.5)
rc = stop_within(lg, signal.SIGTERM, "2b: SIGTERM between device polls")
T.ok(rc == 1 and lg.err.endswith("E! oauth2-login [dterm]: interrupted: nothing written\n"),
     "2b: exit 1, interrupted", lg.err[-300:])
T.ok(not os.path.exists(rf), "2b: no file written")

# 2c. SIGINT while a token request is under way (the endpoint stalls).
rf = refresh_file("dstall.refresh")
auth.reset(BASE + "device-interval 1\nfail stall device_code\n")
n0 = auth.count("urn:ietf:params:oauth:grant-type:device_code")
lg = Login(config("dstall", rf, oauth2_device_url=auth.device_url, timeout="30s"), "dstall")
T.ok(lg.wait_for(r"waiting for the sign-in"), "2c: device grant waiting", lg.err[-400:])
end = time.monotonic() + 5
while auth.count("urn:ietf:params:oauth:grant-type:device_code") == n0 and time.monotonic() < end:
    time.sleep(0.05)
time.sleep(0.3)
rc = stop_within(lg, signal.SIGINT, "2c: SIGINT during a stalled token request")
T.ok(rc == 1 and lg.err.endswith("E! oauth2-login [dstall]: interrupted: nothing written\n"),
     "2c: exit 1, interrupted", lg.err[-300:])
T.eq(read(rf), OLD + "\n", "2c: the file untouched")

# 3. A device code's expires_in of 99999999999.
rf = refresh_file("dhuge.refresh")
auth.reset(BASE + "device-interval 1\ndevice-expires 99999999999\ndevice-poll pending\n")
lg = Login(config("dhuge", rf, oauth2_device_url=auth.device_url), "dhuge")
rc = lg.finish("device expires_in 99999999999", timeout=20)
T.ok(rc == 0 and read(rf) == REFRESH + "\n", "3: expires_in 99999999999: the login completes", lg.err[-600:])
T.ok("I! oauth2-login [dhuge]: waiting for the sign-in (the code expires in 3600 s)" in lg.err,
     "3: the code's life is cut to an hour", lg.err[-600:])

# 4. An endpoint that quotes what it got: code, verifier, short secret hidden.
rf = refresh_file("echo.refresh")
auth.reset(BASE + "fail echo authorization_code\n")
n0 = len(auth.requests())
lg = Login(config("echo", rf, oauth2_client_id="short-client", oauth2_client_secret_file=short_secret_file), "echo")
url, loc = authorize(lg)
if loc:
    get(loc)
rc = lg.finish("echo code exchange")
sent = [e for e in auth.requests()[n0:] if e["grant"] == "authorization_code"]
form = sent[0]["form"] if sent else {}
for k in ("code", "code_verifier"):
    if form.get(k):
        secret(form[k])
line = [l for l in lg.err.splitlines() if l.startswith("E! oauth2-login [echo]: invalid_request: got ")]
T.ok(rc == 1 and line, "4: exit 1 with the endpoint's E! line", lg.err[-600:])
T.ok(line and "code=*** code_verifier=***" in line[0] and line[0].endswith(" secret=**"),
     "4: the code, the verifier and a 2-byte client secret are masked", line)
T.ok(form.get("code") and form.get("code_verifier") and
     form["code"] not in lg.err and form["code_verifier"] not in lg.err, "4: neither shows anywhere")

rf = refresh_file("decho.refresh")
auth.reset(BASE + "device-interval 1\nfail echo device_code\n")
lg = Login(config("decho", rf, oauth2_device_url=auth.device_url), "decho")
rc = lg.finish("echo device poll", timeout=20)
dc = [e["form"].get("device_code") for e in auth.requests() if e["grant"] and "device_code" in e["grant"]][-1:]
T.ok(rc == 1 and dc and "device_code=*** " in lg.err and dc[0] not in lg.err,
     "4: the device code is masked in the endpoint's words", lg.err[-600:])

# 5. The browser's connection opens, other connections come, then it sends.
rf = refresh_file("slots.refresh")
auth.reset(BASE)
lg = Login(config("slots", rf), "slots")
url, loc = authorize(lg)
port = port_of(url) if url else 0
browser = socket.create_connection(("127.0.0.1", port))
time.sleep(0.3)
others = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
time.sleep(0.5)
u = urllib.parse.urlsplit(loc or "http://127.0.0.1/")
answer = b""
try:
    browser.sendall(f"GET {u.path}?{u.query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    browser.settimeout(15)
    while True:
        chunk = browser.recv(65536)
        if not chunk:
            break
        answer += chunk
except OSError as e:
    answer += f"[{e}]".encode()
rc = lg.finish("slots")
T.ok(answer.startswith(b"HTTP/1.1 200") and b"Signed in" in answer,
     "5: the browser's early connection was kept past 6 newer ones", answer[:200])
T.eq(rc, 0, "5: exit 0")
for o in others:
    o.close()
browser.close()


# 6. Partial requests holding a code: wiped when evicted.
def memory_holds(pid, needle):
    found = False
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5] if len(parts) > 5 else ""
            if "r" not in parts[1] or hi - lo > (256 << 20) or name in ("[vvar]", "[vsyscall]", "[vdso]"):
                continue
            try:
                mem.seek(lo)
                if needle in mem.read(hi - lo):
                    found = True
            except (OSError, ValueError, OverflowError):
                continue
    return found


rf = refresh_file("wipe.refresh")
lg = Login(config("wipe", rf), "wipe")
T.ok(lg.wait_for(r"waiting for the browser at http://127\.0\.0\.1:(\d+)/"), "6: waiting", lg.err[-300:])
port = int(re.search(r"waiting for the browser at http://127\.0\.0\.1:(\d+)/", lg.err).group(1))
partial = []
for i in range(20):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /?code=WIPEME-{i:02d}-4f1d&state=x HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
    partial.append(s)
    time.sleep(0.05)
time.sleep(0.3)
idle = []
for i in range(40):
    idle.append(socket.create_connection(("127.0.0.1", port)))
    time.sleep(0.03)
time.sleep(0.5)
try:
    held = memory_holds(lg.p.pid, b"WIPEME-")
    T.ok(not held, "6: no evicted partial request's code left in the process's memory")
except OSError as e:
    T.ok(False, f"6: could not read the process's memory: {e}")
for s in partial + idle:
    s.close()
lg.p.send_signal(signal.SIGTERM)
lg.finish("wipe", timeout=10)

# 7. --oauth2-port: a fixed port and the ssh -L line.
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
fixed = probe.getsockname()[1]
probe.close()
rf = refresh_file("fixed.refresh")
auth.reset(BASE)
lg = Login(config("fixed", rf), "fixed", ["--oauth2-port", str(fixed)])
url, loc = authorize(lg)
T.eq(port_of(url) if url else None, fixed, "7: redirect_uri uses the given port")
want = (f"I! oauth2-login [fixed]: browser on another machine? forward the port from there first: "
        f"ssh -L {fixed}:127.0.0.1:{fixed} {socket.gethostname()}")
lg.wait_for(re.escape(want) + "\n", 5)   # written right after the URL: it may not be read yet
T.ok(want + "\n" in lg.err, "7: the ssh -L line, exact", lg.err[-600:])
if loc:
    get(loc)
T.eq(lg.finish("fixed port"), 0, "7: exit 0 on a fixed port")
busy = socket.socket()
busy.bind(("127.0.0.1", 0))
busy.listen(1)
taken = busy.getsockname()[1]
lg = Login(config("taken", refresh_file("taken.refresh")), "taken", ["--oauth2-port", str(taken)])
rc = lg.finish("port in use", timeout=10)
T.ok(rc == 1 and f"E! oauth2-login [taken]: cannot listen on 127.0.0.1:{taken}: Address already in use\n" in lg.err,
     "7: a port in use: exit 1, E! naming it", lg.err[-300:])
busy.close()
cfg = config("x", refresh_file("x.refresh"))
r = run(["-c", cfg, "--oauth2-port", "8765"], what="--oauth2-port alone")
T.ok(r.rc == 64 and "E! --oauth2-port goes with --oauth2-login" in r.err, "7: --oauth2-port without --oauth2-login: 64", r)
for bad in ("0", "65536", "80x", "-1"):
    r = run(["-c", cfg, "--oauth2-login", "x", "--oauth2-port", bad], what=f"--oauth2-port {bad}")
    T.ok(r.rc == 64 and f"E! --oauth2-port: expected a port 1-65535, got '{bad}'" in r.err,
         f"7: --oauth2-port {bad}: 64", r)
auth.close()
T.done()
