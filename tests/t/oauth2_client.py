#!/usr/bin/env python3
"""The built-in OAuth2 token client (issue 12, SPEC §10), end to end: the
real binary gets its access tokens from tests/fake/authserver.py (HTTPS,
the test CA) and logs in with them (XOAUTH2) at tests/fake/fakemail.py,
which accepts exactly the tokens the authorization server issued.

Checked: the refresh-token grant, one request for two legs and for
several routes of one account, reuse across cycles; a rotated refresh
token replaces the file atomically (mode 0600, no temporary file left);
a short expires_in makes the next cycle ask again; the client-credentials
grant with the secret in HTTP Basic only and the scope sent; the
endpoint's invalid_grant and description, HTTP 500 and a stalled endpoint
(bounded by the route's timeout) are imap_auth_failed with the reason; a
token the mail server refuses is dropped and fetched anew; no token or
secret ever printed."""
import os
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, Stream, write_config, secret, parse_line, fake_route, check_no_leak  # noqa: E402
from fakemail import FakeMail  # noqa: E402
from authserver import AuthServer  # noqa: E402

PW = secret("oauthclient-Pw-5150")
SECRET = secret("client-secret-8d1f4e")
REFRESH = secret("rt-first-c0ffee")
MAIL = f"user alice {PW}\nuser bob {PW}\nimap mechs PLAIN XOAUTH2\nsmtp mechs PLAIN XOAUTH2\n"

fake = FakeMail(MAIL, tempfile.mkdtemp(prefix="me2e-fake."))


def trust(token):
    fake.script.tokens.add(token)


def start_auth(script, accept=True):
    return AuthServer(script, tempfile.mkdtemp(prefix="me2e-auth."), certs_dir=fake.certs,
                      on_issue=trust if accept else None)


def token_dir(value=REFRESH):
    d = tempfile.mkdtemp(prefix="me2e-rt.")
    path = os.path.join(d, "refresh.token")
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return d, path


def route(auth, name="oc", refresh=None, **extra):
    keys = dict(oauth2_token_url=auth.token_url, oauth2_client_id="mail-e2e-client", timeout="6s")
    keys.update(extra)
    if refresh:
        keys["oauth2_refresh_token_file"] = refresh
    text = fake_route(fake, name, PW, **keys)
    # No passwords: both legs get their token from the client (XOAUTH2).
    return "".join(l + "\n" for l in text.split("\n") if not l.startswith(("smtp_password", "imap_password")))


def stream(text, cycles):
    s = Stream(write_config(text))
    T.ok(s.wait_ready(), "process ready")
    out = []
    for i in range(cycles):
        s.signal()
        n = len(s.lines)
        s.wait_lines(n + sum(1 for l in text.split("\n") if l.startswith("[")), 20)
        out.append([parse_line(l) for l in s.lines[n:]])
        time.sleep(0.3)
    s.close_stdin()
    s.wait_exit(10)
    check_no_leak("oauth2 client", "\n".join(s.lines), s.err)
    for secret_text in [REFRESH, SECRET] + list(fake.script.tokens):
        if secret_text in s.err or secret_text in "\n".join(s.lines):
            T.ok(False, "a token or secret was printed")
    return out, s


def result(lines, i=0):
    if len(lines) <= i:
        return {}, {}
    _, tags, f, _ = lines[i]
    return tags, f


# 1. Refresh grant: one request serves both legs and the next cycle.
auth = start_auth("refresh " + REFRESH + "\n")
d, path = token_dir()
out, s = stream(route(auth, refresh=path), 2)
T.eq([result(c)[0].get("result") for c in out], ["success", "success"], "refresh grant: two cycles succeed")
T.eq(auth.count("refresh_token"), 1, "one token request for both legs and both cycles (expires_in 3600)")
bearers = [raw for proto, mech, raw in fake.sasl if mech == "XOAUTH2" and auth.issued and
           auth.issued[0].encode() in raw]
T.ok(len(bearers) >= 4, f"SMTP and IMAP logged in with the issued token, both cycles ({len(bearers)} logins)")
form = auth.log[0]["form"] if auth.log else {}
T.eq((form.get("grant_type"), form.get("refresh_token"), form.get("client_id")),
     ("refresh_token", REFRESH, "mail-e2e-client"), "the request: grant_type, refresh_token, client_id")
auth.close()

# 2. Rotation: the new refresh token replaces the file, 0600, atomically.
auth = start_auth("refresh " + REFRESH + "\nrotate\n")
d, path = token_dir()
out, s = stream(route(auth, refresh=path), 1)
T.eq(result(out[0])[0].get("result"), "success", "rotation: success")
T.eq(open(path).read().strip(), "rt-rotated-1", "the rotated refresh token is in the file")
T.eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "the new file is mode 0600")
T.eq(sorted(os.listdir(d)), ["refresh.token"], "no temporary file left beside it")
auth.close()

# 3. A short-lived token: the next cycle asks again.
auth = start_auth("refresh " + REFRESH + "\nexpires 30\n")
d, path = token_dir()
out, s = stream(route(auth, refresh=path), 2)
T.eq([result(c)[0].get("result") for c in out], ["success", "success"], "expires_in 30: both cycles succeed")
T.eq(auth.count("refresh_token"), 4, "expires_in under a minute is never reused (SPEC: until 60 s "
     "before it expires): a request per leg and cycle")
auth.close()

# 4. Client credentials, a confidential client: the secret in Basic only.
auth = start_auth(f"client mail-e2e-client {SECRET}\nscope https://outlook.office365.com/.default\n")
sec = os.path.join(tempfile.mkdtemp(prefix="me2e-cs."), "client.secret")
with open(sec, "w") as f:
    f.write(SECRET + "\n")
os.chmod(sec, 0o600)
out, s = stream(route(auth, oauth2_client_secret_file=sec,
                      oauth2_scope="https://outlook.office365.com/.default"), 1)
T.eq(result(out[0])[0].get("result"), "success", "client credentials with a secret: success")
entry = auth.log[0] if auth.log else {}
T.eq((entry.get("grant"), entry.get("basic")), ("client_credentials", ("mail-e2e-client", SECRET)),
     "client credentials: the secret came in HTTP Basic")
T.ok(entry and not entry.get("secret_in_body") and SECRET not in entry.get("body", ""),
     "the secret is never in the body")
T.eq(entry.get("form", {}).get("scope"), "https://outlook.office365.com/.default", "the scope is sent")
auth.close()

# 5. Five routes of one account: one request.
auth = start_auth("refresh " + REFRESH + "\n")
d, path = token_dir()
text = "".join(route(auth, name=f"r{i}", refresh=path) for i in range(5))
out, s = stream(text, 1)
T.eq(sorted(result(out[0], i)[0].get("result") for i in range(len(out[0]))), ["success"] * 5,
     "five routes of one account: all succeed")
T.eq(auth.count("refresh_token"), 1, "five routes of one account share one token request")
auth.close()

# 6. Endpoint failures: the leg is imap_auth_failed with the reason.
for script, want, timeout in (("fail invalid_grant\n", "invalid_grant: ", "6s"),
                              ("fail 500\n", "HTTP 500", "6s"),
                              ("fail stall\n", "timed out", "3s")):
    auth = start_auth("refresh " + REFRESH + "\n" + script)
    d, path = token_dir()
    t0 = time.monotonic()
    out, s = stream(route(auth, refresh=path, timeout=timeout), 1)
    took = time.monotonic() - t0
    tags, f = result(out[0])
    what = script.split()[1]
    T.eq(tags.get("result"), "imap_auth_failed", f"token endpoint {what}: imap_auth_failed")
    T.ok(want in f.get("error", ""), f"token endpoint {what}: the error says {want!r}", f.get("error"))
    if what == "stall":
        T.ok(f.get("total_time", 99) <= 3.0 + 1.0, f"a stalled endpoint is bounded by the route's timeout "
             f"({f.get('total_time')} s)")
    auth.close()

# 7. A token the mail server refuses: dropped, the next probe asks anew.
auth = start_auth("refresh " + REFRESH + "\naccess refused-at-\n", accept=False)
d, path = token_dir()
out, s = stream(route(auth, refresh=path), 2)
T.eq([result(c)[0].get("result") for c in out], ["imap_auth_failed"] * 2, "a refused token: imap_auth_failed")
T.eq(auth.count("refresh_token"), 2, "the refused token is dropped: the next cycle fetches a new one")
auth.close()
sys.exit(T.done())
