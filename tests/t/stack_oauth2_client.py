#!/usr/bin/env python3
# needs: mailstack
"""The built-in OAuth2 token client against the real Postfix + Dovecot
(issue 12): Dovecot's oauth2 passdb accepts exactly the tokens listed in
the stack's introspection file, and the only tokens listed are those our
fake authorization server (tests/fake/authserver.py) issues, so a probe
succeeds only with a token mail-e2e really fetched.

One streaming process: three cycles on one token (one request); then the
token is revoked at the provider, the next probe fails at Dovecot
(imap_auth_failed), the token is dropped, and the probe after it fetches a
new one and succeeds.  No token or secret ever printed."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, Stream, stack, stack_route, config_text, write_config, write_file, parse_line, secret, check_no_leak  # noqa: E402
from authserver import AuthServer, publish  # noqa: E402

env = stack()
TOKENS = env["MS_OAUTH2_TOKENS"]
REFRESH = secret("rt-stack-9a7b")
write_file(TOKENS, "")
auth = AuthServer(f"refresh {REFRESH}\naccess ya29.stack-client-\n", tempfile.mkdtemp(prefix="me2e-auth."),
                  on_issue=publish(TOKENS, "bob"))
d = tempfile.mkdtemp(prefix="me2e-oc.")
rt = os.path.join(d, "refresh.token")
write_file(rt, REFRESH + "\n")
os.chmod(rt, 0o600)
bundle = os.path.join(d, "cas.pem")   # one route, one tls_ca: the stack's CA and the provider's
write_file(bundle, open(env["MS_CA"]).read() + open(auth.ca).read())

cfg = write_config(config_text(stack_route(
    env, "oauth-client", user="bob", sender="bob", imap_password=None, smtp_password=None,
    smtp_username="bob", tls_ca=bundle, oauth2_token_url=auth.token_url,
    oauth2_client_id="mail-e2e-client", oauth2_refresh_token_file=rt)))
s = Stream(cfg)
T.ok(s.wait_ready(), "process ready")
results = []
for cycle in range(5):
    if cycle == 3:
        write_file(TOKENS, "")   # the provider revokes every token it issued
    s.signal()
    if not T.ok(s.wait_lines(cycle + 1, 40), f"cycle {cycle + 1}: a line", s.err[-1500:]):
        break
    _, tags, f, _ = parse_line(s.lines[cycle])
    results.append((tags.get("result"), auth.count("refresh_token")))
    time.sleep(0.5)
s.close_stdin()
T.eq(s.wait_exit(10), 0, "the process ends cleanly")
check_no_leak("stack oauth2 client", "\n".join(s.lines), s.err)
T.ok(REFRESH not in s.err and not any(t in s.err or t in "\n".join(s.lines) for t in auth.issued),
     "no token ever printed")
T.eq([r for r, _ in results[:3]], ["success"] * 3, "three cycles succeed with a token the client fetched")
T.eq([n for _, n in results[:3]], [1, 1, 1], "one token request for the three cycles (token valid 3600 s)")
if len(results) == 5:
    T.eq(results[3][0], "imap_auth_failed", "the token revoked at the provider: Dovecot refuses it")
    T.eq(results[4], ("success", 2), "the refused token is dropped: the next probe fetches a new one and succeeds")
sys.exit(T.done())
