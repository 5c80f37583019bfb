#!/usr/bin/env python3
"""authserver.py - a scriptable fake OAuth2 authorization server (HTTPS).

The token client (plugin/oauth2.c) and --oauth2-login (plugin/oauth2_login.c)
are tested against this server, as curl's tests script their servers: each
test scripts the replies, faults and delays, then asserts on the exact
requests.  It serves, on 127.0.0.1 (port 0: a free one), with a certificate
from the test CA (fakemail.make_certs; pass certs_dir=fake.certs to share a
CA with fakemail.py, since one route has one tls_ca):

    POST /token       grants refresh_token, client_credentials,
                      authorization_code (PKCE S256 checked) and
                      urn:ietf:params:oauth:grant-type:device_code
    POST /device      RFC 8628 device authorization
    GET  /authorize   the browser's visit: 302 to redirect_uri with code and
                      state (a test plays the browser and follows it)

Script lines (blank lines and '#' comments ignored):

    client ID [SECRET]          a registered client (default: "mail-e2e-client", public).
                                With SECRET it is confidential: the secret must come in
                                HTTP Basic (RFC 6749 §2.3.1, form-urlencoded, then
                                base64) and a client_secret in the body is refused
                                (invalid_request) and logged as secret_in_body
    refresh TOKEN               a refresh token the refresh grant accepts (several allowed)
    access PREFIX               issued access tokens are PREFIX + N, N = 1, 2, ... counting
                                the tokens issued with this PREFIX over the server's life
                                (default "ya29.fake-at-"), so a fakemail script can accept
                                them in advance ("oauth PREFIX1")
    expires N | absent | string N   expires_in in replies (default 3600); "string": "N"
    rotate                      every refresh reply carries a new refresh token
                                (PREFIX "rt-rotated-" + N); the old one stops working
    issue-refresh TOKEN         the refresh token an authorization code or device grant
                                issues (default "rt-issued-1")
    scope SCOPE                 every token request must carry exactly this scope
    fail KIND [GRANT] [#N]      KIND: invalid_grant (400), invalid_client (401), 500
                                (HTML body), stall (no answer, ever), notjson (200, HTML),
                                noaccess (200, JSON without access_token), delay:SECONDS
                                (then normal), late:SECONDS (handled at once - a refresh
                                token rotated - but the reply sent SECONDS later), echo (400
                                invalid_request quoting every form value and the Basic
                                secret it got, as a careless endpoint might); GRANT:
                                refresh_token, client_credentials,
                                authorization_code, device_code (default any); #N: only
                                the N-th /token request (1-based, all grants counted)
    device-poll REPLY...        the replies to successive device_code polls: pending,
                                slow_down, denied, expired, ok (after the list: ok)
    device-interval N           "interval" in the device reply (absent: not sent)
    device-expires N            "expires_in" of the device code (default 600); a poll
                                after it gets expired_token
    device-uri complete         also send verification_uri_complete
    auth-state wrong            /authorize redirects with another state
    auth-deny                   /authorize redirects with error=access_denied
    auth-no-refresh             the code exchange issues no refresh token

Python API: AuthServer(script_text, state_dir, certs_dir=None, on_issue=None)
has .base, .token_url, .device_url, .auth_url, .ca; .log (one dict per
request: t, method, path, query, headers (lower-case keys), body, form,
grant, basic (id, secret) or None, status, secret_in_body); .count(grant);
.issued (access tokens in order); .refresh_tokens (the valid ones);
.reset(script_text); .close().  on_issue(access_token) is called for each
token issued (e.g. fake.script.tokens.add, or publish() to the stack's
introspection file).  Standalone: authserver.py --script FILE --state DIR
(writes DIR/url and the CA's path in DIR/ca; stops on SIGTERM): FILE is
read again before each request whose arrival finds it changed (counters
and issued tokens stay), and each request is appended to
DIR/requests.log as one JSON line (t, method, path, grant, basic,
secret_in_body, form, status) - for tests written in C.
"""
import argparse
import base64
import hashlib
import json
import os
import signal
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakemail import make_certs  # noqa: E402

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Script:
    def __init__(self, text):
        self.clients = {}
        self.refresh = set()
        self.access_prefix = "ya29.fake-at-"
        self.expires = ("int", 3600)
        self.rotate = False
        self.issue_refresh = "rt-issued-1"
        self.scope = None
        self.fails = []          # (kind, grant or None, nth or 0)
        self.device_poll = []
        self.device_interval = None
        self.device_expires = 600
        self.device_complete = False
        self.auth_state = "echo"
        self.auth_deny = False
        self.auth_no_refresh = False
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            self._line(raw, line.split())
        if not self.clients:
            self.clients = {"mail-e2e-client": None}

    def _line(self, raw, w):
        k = w[0]
        if k == "client":
            self.clients[w[1]] = w[2] if len(w) > 2 else None
        elif k == "refresh":
            self.refresh.add(w[1])
        elif k == "access":
            self.access_prefix = w[1]
        elif k == "expires":
            self.expires = ("absent", 0) if w[1] == "absent" else (
                ("string", int(w[2])) if w[1] == "string" else ("int", int(w[1])))
        elif k == "rotate":
            self.rotate = True
        elif k == "issue-refresh":
            self.issue_refresh = w[1]
        elif k == "scope":
            self.scope = raw.strip().split(None, 1)[1]
        elif k == "fail":
            grant, nth = None, 0
            for x in w[2:]:
                if x.startswith("#"):
                    nth = int(x[1:])
                else:
                    grant = DEVICE_GRANT if x == "device_code" else x
            self.fails.append((w[1], grant, nth))
        elif k == "device-poll":
            self.device_poll = w[1:]
        elif k == "device-interval":
            self.device_interval = int(w[1])
        elif k == "device-expires":
            self.device_expires = float(w[1])
        elif k == "device-uri" and w[1] == "complete":
            self.device_complete = True
        elif k == "auth-state":
            self.auth_state = w[1]
        elif k == "auth-deny":
            self.auth_deny = True
        elif k == "auth-no-refresh":
            self.auth_no_refresh = True
        else:
            raise ValueError(f"bad script line: {raw}")


def s256(verifier):
    d = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(d).decode().rstrip("=")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-authserver/1"

    def log_message(self, fmt, *args):
        pass

    # --- plumbing ----------------------------------------------------------
    _e = None

    def _entry(self, body):
        parsed = urllib.parse.urlsplit(self.path)
        ctype = self.headers.get("Content-Type", "")
        form = {}
        if body and ctype.startswith("application/x-www-form-urlencoded"):
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
        basic = None
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
                basic = (urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(pw))
            except Exception:
                basic = ("?", "?")
        return {"t": time.monotonic(), "method": self.command, "path": parsed.path,
                "query": {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()},
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                "form": form, "grant": form.get("grant_type"), "basic": basic,
                "status": None, "secret_in_body": "client_secret" in form}

    def _send(self, status, body, ctype="application/json;charset=UTF-8", extra=()):
        data = body.encode() if isinstance(body, str) else body
        if self._e is not None:    # logged before the client can see the reply
            if self._e["status"] is None:
                self._e["status"] = status
            self.server.auth.logged(self._e)
        if self._late:
            self.server.auth.stop.wait(self._late)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    _late = 0

    def _json(self, e, status, obj):
        e["status"] = status
        e["reply"] = obj
        self._send(status, json.dumps(obj, indent=2 if status == 200 else None))

    def _error(self, e, status, error, desc):
        self._json(e, status, {"error": error, "error_description": desc})

    def do_GET(self):
        self._late = 0
        e = self._e = self._entry("")
        self.server.auth.record(e)
        if e["path"] == "/authorize":
            return self.server.auth.authorize(self, e)
        e["status"] = 404
        self._send(404, "not found\n", "text/plain")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 1 << 20)).decode(errors="replace")
        self._late = 0
        e = self._e = self._entry(body)
        self.server.auth.record(e)
        if e["path"] == "/token":
            return self.server.auth.token(self, e)
        if e["path"] == "/device":
            return self.server.auth.device(self, e)
        e["status"] = 404
        self._send(404, "not found\n", "text/plain")


class AuthServer:
    def __init__(self, script_text, state_dir, certs_dir=None, on_issue=None, script_path=None,
                 request_log=None):
        os.makedirs(state_dir, exist_ok=True)
        self.script_path, self.script_text = script_path, script_text
        self.request_log = request_log
        self.certs = certs_dir or os.path.join(state_dir, "certs")
        make_certs(self.certs)
        self.ca = os.path.join(self.certs, "ca.pem")
        self.on_issue = on_issue
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.log = []
        self.issued = []
        self.n_token = 0
        self.n_access = {}       # prefix -> tokens issued with it
        self.n_rotated = 0
        self.codes = {}          # code -> (client_id, redirect_uri, challenge, method)
        self.devices = {}        # device_code -> dict(polls, expires_at, interval)
        self.reset(script_text)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.auth = self
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.certs, "valid.pem"), os.path.join(self.certs, "server.key"))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.base = f"https://127.0.0.1:{self.port}"
        self.token_url, self.device_url, self.auth_url = (
            self.base + "/token", self.base + "/device", self.base + "/authorize")
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def reset(self, script_text):
        """A new script for later requests; counters and issued tokens stay."""
        with self.lock:
            self.script = Script(script_text)
            self.refresh_tokens = set(self.script.refresh)

    def close(self):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def record(self, e):
        if self.script_path:
            with open(self.script_path) as f:
                text = f.read()
            if text != self.script_text:
                self.script_text = text
                self.reset(text)
        with self.lock:
            self.log.append(e)

    def logged(self, e):
        """The request's outcome is known: append it to request_log."""
        if not self.request_log:
            return
        keys = ("t", "method", "path", "grant", "basic", "secret_in_body", "form", "status", "query")
        with self.lock, open(self.request_log, "a") as f:
            f.write(json.dumps({k: e.get(k) for k in keys}) + "\n")

    def count(self, grant=None, path="/token"):
        with self.lock:
            return sum(1 for e in self.log if e["path"] == path and (grant is None or e["grant"] == grant))

    def requests(self, path="/token"):
        with self.lock:
            return [e for e in self.log if e["path"] == path]

    # --- client authentication (RFC 6749 §2.3.1) ---------------------------
    def _client(self, h, e):
        """The authenticated client id, or None after answering an error."""
        sc = self.script
        cid = e["basic"][0] if e["basic"] else e["form"].get("client_id")
        if e["secret_in_body"]:
            h._error(e, 400, "invalid_request", "client_secret must not be sent in the request body")
            return None
        if cid not in sc.clients:
            h._error(e, 401, "invalid_client", "The OAuth client was not found.")
            return None
        want = sc.clients[cid]
        if want is not None and (not e["basic"] or e["basic"] != (cid, want)):
            h._error(e, 401, "invalid_client", "Invalid client secret provided.")
            return None
        if e["form"].get("client_id", cid) != cid:
            h._error(e, 400, "invalid_request", "client_id differs from the authenticated client")
            return None
        return cid

    # --- faults ------------------------------------------------------------
    def _fault(self, h, e, n):
        for kind, grant, nth in self.script.fails:
            if (grant and grant != e["grant"]) or (nth and nth != n):
                continue
            if kind.startswith("delay:"):
                self.stop.wait(float(kind[6:]))
                return False
            if kind.startswith("late:"):
                h._late = float(kind[5:])
                return False
            if kind == "stall":
                e["status"] = "stall"
                self.logged(e)
                self.stop.wait(120)
                h.close_connection = True
                return True
            if kind == "500":
                e["status"] = 500
                h._send(500, "<html><body><h1>500 Internal Server Error</h1></body></html>\n", "text/html")
            elif kind == "notjson":
                e["status"] = 200
                h._send(200, "<html><body>Sign in to continue</body></html>\n", "text/html")
            elif kind == "noaccess":
                h._json(e, 200, {"token_type": "Bearer", "expires_in": 3600})
            elif kind == "invalid_grant":
                h._error(e, 400, "invalid_grant", "Token has been expired or revoked.")
            elif kind == "invalid_client":
                h._error(e, 401, "invalid_client", "The OAuth client was not found.")
            elif kind == "echo":
                said = " ".join(f"{k}={v}" for k, v in sorted(e["form"].items()))
                if e["basic"]:
                    said += f" secret={e['basic'][1]}"
                h._error(e, 400, "invalid_request", "got " + said)
            else:
                raise ValueError(f"unknown fault {kind}")
            return True
        return False

    # --- endpoints ---------------------------------------------------------
    def _issue(self, refresh=None):
        sc = self.script
        with self.lock:
            n = self.n_access[sc.access_prefix] = self.n_access.get(sc.access_prefix, 0) + 1
            tok = f"{sc.access_prefix}{n}"
            self.issued.append(tok)
        reply = {"access_token": tok, "token_type": "Bearer"}
        kind, secs = sc.expires
        if kind == "int":
            reply["expires_in"] = secs
        elif kind == "string":
            reply["expires_in"] = str(secs)
        if sc.scope:
            reply["scope"] = sc.scope
        if refresh:
            reply["refresh_token"] = refresh
        if self.on_issue:
            self.on_issue(tok)
        return reply

    def token(self, h, e):
        with self.lock:
            self.n_token += 1
            n = self.n_token
        if self._fault(h, e, n):
            return
        if not e["headers"].get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return h._error(e, 400, "invalid_request", "form body expected")
        cid = self._client(h, e)
        if cid is None:
            return
        f, sc = e["form"], self.script
        if sc.scope is not None and f.get("scope") != sc.scope:
            return h._error(e, 400, "invalid_scope", f"scope must be {sc.scope}")
        g = e["grant"]
        if g == "refresh_token":
            return self._refresh(h, e, f)
        if g == "client_credentials":
            return h._json(e, 200, self._issue())
        if g == "authorization_code":
            return self._code(h, e, f, cid)
        if g == DEVICE_GRANT:
            return self._device_poll(h, e, f)
        h._error(e, 400, "unsupported_grant_type", f"grant_type {g} is not supported")

    def _refresh(self, h, e, f):
        rt = f.get("refresh_token")
        with self.lock:
            ok = rt in self.refresh_tokens
            new = None
            if ok and self.script.rotate:
                self.n_rotated += 1
                new = f"rt-rotated-{self.n_rotated}"
                self.refresh_tokens.discard(rt)
                self.refresh_tokens.add(new)
        if not ok:
            return h._error(e, 400, "invalid_grant", "Token has been expired or revoked.")
        h._json(e, 200, self._issue(new))

    def _code(self, h, e, f, cid):
        with self.lock:
            c = self.codes.pop(f.get("code"), None)
        if not c:
            return h._error(e, 400, "invalid_grant", "Malformed auth code.")
        c_cid, c_redirect, challenge, method = c
        if c_cid != cid or f.get("redirect_uri") != c_redirect:
            return h._error(e, 400, "invalid_grant", "redirect_uri or client does not match the code")
        if method != "S256" or s256(f.get("code_verifier", "")) != challenge:
            return h._error(e, 400, "invalid_grant", "Invalid code verifier.")
        refresh = None if self.script.auth_no_refresh else self.script.issue_refresh
        if refresh:
            with self.lock:
                self.refresh_tokens.add(refresh)
        h._json(e, 200, self._issue(refresh))

    def device(self, h, e):
        cid = self._client(h, e)
        if cid is None:
            return
        sc = self.script
        with self.lock:
            dc = f"dc-{len(self.devices) + 1}"
            self.devices[dc] = {"polls": list(sc.device_poll), "expires_at": time.monotonic() + sc.device_expires}
        reply = {"device_code": dc, "user_code": "WDJB-MJHT", "verification_uri": self.base + "/activate",
                 "expires_in": int(sc.device_expires)}
        if sc.device_complete:
            reply["verification_uri_complete"] = self.base + "/activate?user_code=WDJB-MJHT"
        if sc.device_interval is not None:
            reply["interval"] = sc.device_interval
        h._json(e, 200, reply)

    def _device_poll(self, h, e, f):
        with self.lock:
            d = self.devices.get(f.get("device_code"))
            step = None
            if d:
                step = d["polls"].pop(0) if d["polls"] else "ok"
                if time.monotonic() > d["expires_at"]:
                    step = "expired"
        e["device_step"] = step
        if step is None:
            return h._error(e, 400, "invalid_grant", "Unknown device code.")
        if step == "pending":
            return h._error(e, 400, "authorization_pending", "The user has not yet completed authorization.")
        if step == "slow_down":
            return h._error(e, 400, "slow_down", "Polling too frequently.")
        if step == "denied":
            return h._error(e, 400, "access_denied", "The user denied the request.")
        if step == "expired":
            return h._error(e, 400, "expired_token", "The device code has expired.")
        refresh = self.script.issue_refresh
        with self.lock:
            self.refresh_tokens.add(refresh)
        h._json(e, 200, self._issue(refresh))

    def authorize(self, h, e):
        q, sc = e["query"], self.script
        redirect = q.get("redirect_uri", "")
        ok_redirect = redirect.startswith("http://127.0.0.1:") and redirect.endswith("/")
        if (q.get("response_type") != "code" or q.get("client_id") not in sc.clients or not ok_redirect
                or q.get("code_challenge_method") != "S256" or not q.get("code_challenge")):
            e["status"] = 400
            return h._send(400, "<html><body>bad authorization request</body></html>\n", "text/html")
        state = q.get("state", "")
        if sc.auth_state == "wrong":
            state = "not-the-state-you-sent"
        if sc.auth_deny:
            params = {"error": "access_denied", "error_description": "The user denied access", "state": state}
        else:
            with self.lock:
                code = f"code-{len(self.codes) + 1}-{int(time.monotonic() * 1000)}"
                self.codes[code] = (q["client_id"], redirect, q["code_challenge"], q["code_challenge_method"])
            params = {"code": code, "state": state, "scope": q.get("scope", "")}
        loc = redirect + "?" + urllib.parse.urlencode(params)
        e["status"] = 302
        e["location"] = loc
        h._send(302, "", "text/html", extra=[("Location", loc)])


def publish(path, user):
    """An on_issue callback: append "TOKEN USER" to the test stack's
    introspection file (tests/mailstack/oauth2_introspect.py reads it)."""
    def add(tok):
        with open(path, "a") as f:
            f.write(f"{tok} {user}\n")
    return add


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", required=True)
    ap.add_argument("--state", required=True)
    a = ap.parse_args()
    with open(a.script) as f:
        srv = AuthServer(f.read(), a.state, script_path=a.script,
                         request_log=os.path.join(a.state, "requests.log"))
    with open(os.path.join(a.state, "ca"), "w") as f:
        f.write(srv.ca + "\n")
    with open(os.path.join(a.state, "url.tmp"), "w") as f:
        f.write(srv.base + "\n")
    os.rename(os.path.join(a.state, "url.tmp"), os.path.join(a.state, "url"))   # url last: ready
    signal.signal(signal.SIGTERM, lambda *_: (srv.close(), sys.exit(0)))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
