#!/usr/bin/env python3
"""--oauth2-login (SPEC §10, issue 12) against the fake authorization server
(tests/fake/authserver.py, HTTPS with the test CA).  The test plays the
browser: it reads the URL the program prints on stderr, GETs it from the
fake's authorization endpoint, follows the 302 to http://127.0.0.1:PORT/
where the program listens, and reads the page it answers.

Checks: the authorization-code grant with PKCE S256 and state (the URL's
parameters, the verifier matching the challenge, redirect_uri the same in
both requests, the refresh token written 0600); a wrong state refused (the
browser told, nothing exchanged, nothing stored); a tampered challenge
refused by the fake (wrong verifier); access denied; a client secret in
HTTP Basic only; a stray request and an idle connection before the real
redirect; Google's extra parameters; no refresh token in the reply; a file
that cannot be written (old file kept); the device grant with pending, then
slow_down (+5 s), then success, with the intervals measured; the default
interval; the device code's expiry; denied.  No token, code or secret in
stdout or stderr; every stderr line prefixed.  Real Microsoft and Google
endpoints cannot be reached from here: the fake follows their documents."""
import hashlib
import base64
import http.client
import os
import re
import resource
import select
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, binary, check_no_leak, check_stderr_prefixes, secret, tmpdir, write_config, write_file  # noqa: E402
from authserver import AuthServer  # noqa: E402

D = tmpdir()
SECRET = secret("cl1ent-S3cret~" + os.urandom(6).hex())
REFRESH = secret("1//0gIssued-Refresh-" + os.urandom(8).hex())
OLD = secret("1//0gOld-Refresh-" + os.urandom(8).hex())
for n in range(1, 30):
    secret(f"ya29.login-at-{n}")
BASE = f"client mail-e2e-client\nclient conf-client {SECRET}\nissue-refresh {REFRESH}\naccess ya29.login-at-\n"
auth = AuthServer(BASE, os.path.join(D, "auth"))
SCOPE = "https://mail.google.com/ offline_access"
secret_file = write_file(os.path.join(D, "client.secret"), SECRET + "\n")


def config(name, rfile, **keys):
    base = {
        "from": "alice@fake.test", "to": "bob@fake.test",
        "smtp_host": "127.0.0.1", "smtp_username": "alice",
        "imap_host": "127.0.0.1", "imap_username": "bob", "tls_ca": auth.ca,
        "oauth2_token_url": auth.token_url, "oauth2_client_id": "mail-e2e-client",
        "oauth2_refresh_token_file": rfile, "oauth2_scope": SCOPE,
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


class Login:
    """One run of mail-e2e -c CFG --oauth2-login ROUTE, read as it goes."""

    def __init__(self, cfg, route, preexec_fn=None):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([binary(), "-c", cfg, "--oauth2-login", route], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=preexec_fn)
        self.out, self.err_b, self.rc = b"", b"", None

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

    def finish(self, what, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.p.poll() is None:
            self._pump(0.05)
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        while self._pump(0):
            pass
        self.rc = self.p.returncode
        self.elapsed = time.monotonic() - self.t0
        for e in auth.log:          # the codes the fake issued are secrets too
            m = re.search(r"code=([^&]+)", e.get("location", ""))
            if m:
                secret(urllib.parse.unquote(m.group(1)))
        check_no_leak(what, self.out.decode(errors="replace"), self.err)
        check_stderr_prefixes(what, self.err)
        return self.rc


def get(url, ca=None, path_override=None):
    """A browser's GET, redirects not followed: (status, headers, body)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        c = http.client.HTTPSConnection(u.hostname, u.port, timeout=20,
                                        context=ssl.create_default_context(cafile=ca))
    else:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
    c.request("GET", path_override or (u.path + ("?" + u.query if u.query else "")))
    r = c.getresponse()
    body = r.read().decode(errors="replace")
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


URL_RE = r"I! oauth2-login \[\w+\]: open this URL in a browser on this machine: (\S+)"


def browse(login, tamper=None, before=None):
    """Play the browser: the printed URL, the fake's 302, the loopback page."""
    m = login.wait_for(URL_RE)
    if not m:
        return None, None, None
    url = m.group(1)
    if tamper:
        url = tamper(url)
    st, hd, _ = get(url, auth.ca)
    loc = hd.get("location", "")
    if before:
        before(loc)
    if st != 302 or not loc.startswith("http://127.0.0.1:"):
        return url, (st, loc), None
    return url, (st, loc), get(loc)


def q(url):
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def mode(path):
    return os.stat(path).st_mode & 0o777


def read(path):
    with open(path) as f:
        return f.read()


# 1. Authorization code + PKCE, public client.
rf = refresh_file("pkce.refresh")
n0 = auth.count("authorization_code")
lg = Login(config("pkce", rf), "pkce")
url, redirect, page = browse(lg)
rc = lg.finish("pkce login")
T.ok(url is not None, "pkce: the URL to open is printed on stderr as an I! line", lg.err[-800:])
p = q(url or "")
T.ok(url and url.startswith(auth.auth_url + "?"), "pkce: the URL starts with oauth2_auth_url", url)
T.eq((p.get("response_type"), p.get("client_id"), p.get("scope"), p.get("code_challenge_method")),
     ("code", "mail-e2e-client", SCOPE, "S256"), "pkce: response_type, client_id, scope, code_challenge_method=S256")
T.ok(re.fullmatch(r"http://127\.0\.0\.1:\d+/", p.get("redirect_uri", "")),
     "pkce: redirect_uri is http://127.0.0.1:PORT/", p.get("redirect_uri"))
T.ok(re.fullmatch(r"[A-Za-z0-9_-]{22,}", p.get("state", "")), "pkce: a random state of 16+ bytes (base64url)", p.get("state"))
T.ok(re.fullmatch(r"[A-Za-z0-9_-]{43}", p.get("code_challenge", "")), "pkce: a 43-character S256 challenge")
T.ok("access_type" not in p and "prompt" not in p, "pkce: no Google parameters for another provider")
T.ok(redirect and redirect[0] == 302 and q(redirect[1]).get("state") == p.get("state"),
     "pkce: the fake redirected to the loopback with code and our state", redirect)
T.ok(page and page[0] == 200 and "Signed in" in page[2], "pkce: the browser gets a short 'Signed in' page", page)
T.eq(rc, 0, "pkce: exit 0")
T.ok(os.path.exists(rf) and read(rf) == REFRESH + "\n" and mode(rf) == 0o600,
     "pkce: the refresh token written to oauth2_refresh_token_file, mode 0600")
reqs = [e for e in auth.requests() if e["grant"] == "authorization_code"][n0:]
T.eq(len(reqs), 1, "pkce: one authorization_code request")
f = reqs[0]["form"] if reqs else {}
ver = f.get("code_verifier", "")
T.ok(re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", ver) and
     base64.urlsafe_b64encode(hashlib.sha256(ver.encode()).digest()).decode().rstrip("=") == p.get("code_challenge"),
     "pkce: the verifier (43-128 unreserved characters) hashes to the challenge (S256)")
T.ok(f.get("redirect_uri") == p.get("redirect_uri") and f.get("client_id") == "mail-e2e-client" and
     reqs[0]["status"] == 200, "pkce: the exchange repeats redirect_uri and client_id, the fake accepted it")
T.ok(re.search(r"I! oauth2-login \[pkce\]: refresh token written to " + re.escape(rf), lg.err),
     "pkce: an I! line says where the token went")
T.eq(lg.out, b"", "pkce: nothing on stdout")

# 2. A wrong state: the browser is told, nothing exchanged or stored, and
#    the login waits on for the redirect with its own state (issue 19).
rf = refresh_file("state.refresh")
auth.reset(BASE + "auth-state wrong\n")
n0 = auth.count("authorization_code")
lg = Login(config("state", rf), "state")
url, redirect, page = browse(lg)
T.ok(page and page[0] == 400 and "State mismatch" in page[2], "wrong state: the browser gets 400 'State mismatch'", page)
T.ok(lg.wait_for(r"W! oauth2-login \[state\]: refused a redirect without this login's state"),
     "wrong state: a W! line says so", lg.err)
T.ok(lg.p.poll() is None, "wrong state: not acted on, the login waits on")
lg.p.send_signal(signal.SIGTERM)
rc = lg.finish("wrong state")
T.ok(rc == 1 and re.search(r"^E! oauth2-login \[state\]: interrupted: nothing written$", lg.err, re.M),
     "wrong state, then SIGTERM: exit 1, interrupted", lg.err)
T.ok(auth.count("authorization_code") == n0 and read(rf) == OLD + "\n", "wrong state: no code exchange, the old file kept")

# 3. A tampered challenge: our verifier no longer matches, the fake refuses.
rf = refresh_file("verifier.refresh")
auth.reset(BASE)
lg = Login(config("verifier", rf), "verifier")
url, redirect, page = browse(lg, tamper=lambda u: re.sub(r"code_challenge=[^&]+", "code_challenge=" + "A" * 43, u))
rc = lg.finish("wrong verifier")
T.eq(rc, 1, "wrong verifier: exit 1")
T.ok(re.search(r"^E! oauth2-login \[verifier\]: invalid_grant: Invalid code verifier\.$", lg.err, re.M),
     "wrong verifier: E! with the endpoint's error", lg.err)
T.ok(page and "Sign-in failed" in page[2] and read(rf) == OLD + "\n", "wrong verifier: the browser told, old file kept")

# 4. Access denied at the authorization endpoint.
rf = refresh_file("deny.refresh")
auth.reset(BASE + "auth-deny\n")
lg = Login(config("deny", rf), "deny")
url, redirect, page = browse(lg)
rc = lg.finish("denied")
T.ok(rc == 1 and re.search(r"^E! oauth2-login \[deny\]: the sign-in was denied \(access_denied", lg.err, re.M),
     "denied: exit 1 with an E! line", lg.err)

# 5. Confidential client: the secret goes in HTTP Basic, never in the body;
#    a stray request and an idle connection come first.
rf = refresh_file("conf.refresh")
auth.reset(BASE)
n0 = len(auth.requests())
idle = []


def stray(loc):
    u = urllib.parse.urlsplit(loc)
    import socket
    s = socket.create_connection((u.hostname, u.port))   # a browser's spare connection
    idle.append(s)
    st, _, _ = get(loc, path_override="/favicon.ico")
    idle.append(st)


lg = Login(config("conf", rf, oauth2_client_id="conf-client", oauth2_client_secret_file=secret_file), "conf")
url, redirect, page = browse(lg, before=stray)
rc = lg.finish("confidential client")
T.eq(idle[1:] if len(idle) > 1 else None, [404], "stray request for /favicon.ico: 404, not taken as the redirect")
T.ok(rc == 0 and read(rf) == REFRESH + "\n", "confidential client: exit 0 with an idle connection open, token stored",
     lg.err[-600:])
r = [e for e in auth.requests()[n0:] if e["grant"] == "authorization_code"]
T.ok(r and r[0]["basic"] == ("conf-client", SECRET) and not r[0]["secret_in_body"] and SECRET not in r[0]["body"],
     "confidential client: HTTP Basic with id and secret, the secret not in the body", r and r[0]["basic"])
if idle:
    idle[0].close()

# 6. Google: access_type=offline and prompt=consent (the URL only; the
#    program waits for a browser that never comes and is stopped).
rf = refresh_file("google.refresh")
lg = Login(config("google", rf, oauth2_auth_url="https://accounts.google.com/o/oauth2/v2/auth"), "google")
m = lg.wait_for(URL_RE)
gp = q(m.group(1)) if m else {}
T.ok(m and m.group(1).startswith("https://accounts.google.com/o/oauth2/v2/auth?") and
     gp.get("access_type") == "offline" and gp.get("prompt") == "consent",
     "google: access_type=offline and prompt=consent added", m and m.group(1))
lg.p.send_signal(signal.SIGTERM)
lg.finish("google URL")

# 7. A reply without a refresh token.
rf = refresh_file("norefresh.refresh")
auth.reset(BASE + "auth-no-refresh\n")
lg = Login(config("norefresh", rf), "norefresh")
browse(lg)
rc = lg.finish("no refresh token")
T.ok(rc == 1 and re.search(r"^E! oauth2-login \[norefresh\]: the token endpoint issued no refresh token", lg.err, re.M)
     and read(rf) == OLD + "\n", "no refresh_token in the reply: exit 1, E!, old file kept", lg.err)

# 8. The file cannot be written (a file-size limit: robust also as root).
rf = refresh_file("full.refresh")
auth.reset(BASE)


def small_files():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8, 8))


lg = Login(config("full", rf), "full", preexec_fn=small_files)
browse(lg)
rc = lg.finish("unwritable file")
T.ok(rc == 1 and re.search(r"^E! oauth2-login \[full\]: cannot write the refresh token: ", lg.err, re.M),
     "file cannot be written: exit 1 with an E! line", lg.err)
T.ok(read(rf) == OLD + "\n" and not [x for x in os.listdir(D) if x.startswith(".full.refresh")],
     "file cannot be written: the old file intact, no temporary left")

# 9. Device grant: pending, slow_down, then success; intervals measured.
rf = refresh_file("device.refresh")
auth.reset(BASE + "device-interval 1\ndevice-poll pending slow_down\ndevice-uri complete\n")
n0 = len(auth.log)
lg = Login(config("device", rf, oauth2_device_url=auth.device_url, oauth2_auth_url=None), "device")
rc = lg.finish("device flow", timeout=40)
log = auth.log[n0:]
dev = [e for e in log if e["path"] == "/device"]
polls = [e for e in log if e["grant"] == "urn:ietf:params:oauth:grant-type:device_code"]
T.eq(rc, 0, "device: exit 0")
T.ok(re.search(r"I! oauth2-login \[device\]: open " + re.escape(auth.base) + r"/activate and enter the code WDJB-MJHT",
               lg.err) and "user_code=WDJB-MJHT" in lg.err, "device: verification_uri, user_code and the complete URI printed",
     lg.err)
T.ok(dev and dev[0]["form"] == {"client_id": "mail-e2e-client", "scope": SCOPE}, "device: client_id and scope sent",
     dev and dev[0]["form"])
T.eq([e.get("device_step") for e in polls], ["pending", "slow_down", "ok"], "device: pending, slow_down, ok")
T.ok(polls and all(e["form"].get("device_code") == "dc-%d" % len(auth.devices) and
                   e["form"].get("client_id") == "mail-e2e-client" for e in polls), "device: each poll sends device_code and client_id")
if len(polls) == 3 and dev:
    gaps = [polls[0]["t"] - dev[0]["t"], polls[1]["t"] - polls[0]["t"], polls[2]["t"] - polls[1]["t"]]
    T.ok(0.9 <= gaps[0] <= 3 and 0.9 <= gaps[1] <= 3, "device: polls at the given interval (1 s): %.2f %.2f" % tuple(gaps[:2]))
    T.ok(5.9 <= gaps[2] <= 9, "device: after slow_down 5 s more (6 s): %.2f" % gaps[2])
else:
    T.ok(False, "device: three polls to measure", polls)
T.ok(read(rf) == REFRESH + "\n" and mode(rf) == 0o600, "device: refresh token written, mode 0600")

# 10. No interval in the reply: 5 s.
rf = refresh_file("default.refresh")
auth.reset(BASE)
n0 = len(auth.log)
lg = Login(config("default", rf, oauth2_device_url=auth.device_url), "default")
rc = lg.finish("device default interval", timeout=30)
log = auth.log[n0:]
dev = [e for e in log if e["path"] == "/device"]
polls = [e for e in log if e["grant"] == "urn:ietf:params:oauth:grant-type:device_code"]
T.ok(rc == 0 and dev and polls and 4.9 <= polls[0]["t"] - dev[0]["t"] <= 8,
     "device without interval: the first poll after 5 s (%.2f), exit 0" % ((polls[0]["t"] - dev[0]["t"]) if dev and polls else -1))

# 11. The device code expires while the user has not signed in.
rf = refresh_file("expire.refresh")
auth.reset(BASE + "device-interval 1\ndevice-expires 3\ndevice-poll " + "pending " * 20 + "\n")
n0 = len(auth.log)
lg = Login(config("expire", rf, oauth2_device_url=auth.device_url), "expire")
rc = lg.finish("device expiry", timeout=20)
polls = [e for e in auth.log[n0:] if e["grant"] == "urn:ietf:params:oauth:grant-type:device_code"]
T.ok(rc == 1 and re.search(r"^E! oauth2-login \[expire\]: .*expired", lg.err, re.M), "device expiry: exit 1, E! ... expired",
     lg.err)
T.ok(2 <= len(polls) <= 3 and lg.elapsed < 8, "device expiry: stopped at expires_in (%d polls, %.1f s)" % (len(polls), lg.elapsed))
T.ok(read(rf) == OLD + "\n", "device expiry: the old file kept")

# 12. Denied on the device.
rf = refresh_file("ddeny.refresh")
auth.reset(BASE + "device-interval 1\ndevice-poll pending denied\n")
lg = Login(config("ddeny", rf, oauth2_device_url=auth.device_url), "ddeny")
rc = lg.finish("device denied", timeout=20)
T.ok(rc == 1 and re.search(r"^E! oauth2-login \[ddeny\]: the sign-in was denied", lg.err, re.M), "device denied: exit 1, E!",
     lg.err)

# 13. First login: the refresh-token file does not exist yet.
rf = refresh_file("first.refresh", content=None)
auth.reset(BASE)
lg = Login(config("first", rf), "first")
browse(lg)
rc = lg.finish("first login")
T.ok(rc == 0 and os.path.exists(rf) and read(rf) == REFRESH + "\n" and mode(rf) == 0o600,
     "first login: the file is created (0600)", lg.err[-400:])

auth.close()
T.done()
