#!/usr/bin/env python3
# needs: mailstack
"""OAuth2 against the real Postfix + Dovecot (issue 6): Dovecot's oauth2
passdb checks each bearer token with a local RFC 7662 introspection
endpoint (tests/mailstack/oauth2_introspect.py), and Postfix takes XOAUTH2 /
OAUTHBEARER through Dovecot SASL.  So both legs log in with a token the way
they would at Gmail or Microsoft 365; only the identity provider is ours.

Checks: XOAUTH2 (auth = auto + token file) and OAUTHBEARER succeed on both
legs and Dovecot logs the mechanism; a token refreshed in the file between
two cycles of one process is used at once; a revoked token fails the right
leg with the right class; no token ever appears in output or trace."""
import os
import re
import secrets
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import (T, Stream, stack, stack_route, config_text, write_config, write_file,  # noqa: E402
                 run, by_probe, secret, tmpdir)

env = stack()
TOKENS = env["MS_OAUTH2_TOKENS"]
D = tmpdir()


def grant(*pairs):
    """The identity provider's view: exactly these (token, user) are valid."""
    write_file(TOKENS, "".join(f"{t} {u}\n" for t, u in pairs))


def new_token():
    return secret("ya29." + secrets.token_urlsafe(48))


def oauth_route(name, token_file, **extra):
    keys = dict(sender="bob", imap_password=None, smtp_password=None, smtp_username="bob",
                imap_oauth2_token_file=token_file, smtp_oauth2_token_file=token_file)
    keys.update(extra)
    return stack_route(env, name, user="bob", **keys)


dovecot_log = os.path.join(env["MS_DIR"], "dovecot", "dovecot.log")
log_at = os.path.getsize(dovecot_log)
tok1 = new_token()
grant((tok1, "bob"))
tf = write_file(os.path.join(D, "bob.token"), tok1 + "\n")

r = run(["-c", write_config(config_text(oauth_route("oauth-x", tf))), "--once", "--trace"],
        what="XOAUTH2 against Postfix + Dovecot")
tags, f, _ = by_probe(r.out).get("oauth-x", [({}, {}, 0)])[0]
T.eq(tags.get("result"), "success", "XOAUTH2 on both legs against Postfix + Dovecot: success")
T.ok(re.search(r"oauth-x/smtp > AUTH XOAUTH2 \*\*\*", r.err) and
     re.search(r"oauth-x/imap > \S+ AUTHENTICATE XOAUTH2 \*\*\*", r.err),
     "trace: AUTH XOAUTH2 / AUTHENTICATE XOAUTH2 with the payload as ***", r.err[-2000:])
with open(dovecot_log) as fh:
    fh.seek(log_at)
    logged = fh.read()
T.ok(re.search(r"imap-login: Info: Login: user=<bob>, method=XOAUTH2", logged),
     "Dovecot logged the IMAP login as method=XOAUTH2", logged[-800:])

tags, f, _ = by_probe(run(["-c", write_config(config_text(oauth_route(
    "oauth-b", tf, smtp_auth="OAUTHBEARER", imap_auth="OAUTHBEARER"))), "--once"],
    what="OAUTHBEARER").out).get("oauth-b", [({}, {}, 0)])[0]
T.eq(tags.get("result"), "success", "OAUTHBEARER on both legs against Postfix + Dovecot: success")

# One process, the token refreshed between cycles by an outside helper.
s = Stream(write_config(config_text(oauth_route("oauth-refresh", tf))))
T.ok(s.wait_ready(), "refresh: streaming process ready")
s.signal()
T.ok(s.wait_lines(1, 20), "refresh: cycle 1", s.err[-800:])
tok2 = new_token()
write_file(tf, tok2 + "\n")
grant((tok2, "bob"))                      # tok1 expires as tok2 is issued
s.signal()
T.ok(s.wait_lines(2, 20), "refresh: cycle 2", s.err[-800:])
grant()                                   # everything revoked
s.signal()
T.ok(s.wait_lines(3, 20), "refresh: cycle 3", s.err[-800:])
s.close_stdin()
T.eq(s.wait_exit(20), 0, "refresh: exit 0 at end of stdin")
s.finish("OAuth2 refresh stream")
results = [by_probe(l)["oauth-refresh"][0][0].get("result") for l in s.lines[:3]]
T.eq(results, ["success", "success", "imap_auth_failed"],
     "refresh: token 1, then token 2 at once, then a revoked token is imap_auth_failed")

# IMAP with a password, SMTP with a revoked token: the SMTP leg fails.
grant()
tags, f, _ = by_probe(run(["-c", write_config(config_text(oauth_route(
    "oauth-smtp-revoked", tf, imap_oauth2_token_file=None,
    imap_password=env["MS_PASSWORD_bob"]))), "--once"], what="revoked SMTP token").out
).get("oauth-smtp-revoked", [({}, {}, 0)])[0]
T.eq(tags.get("result"), "smtp_auth_failed", "a revoked token on the SMTP leg: smtp_auth_failed")
# libcurl (7.88) ends an XOAUTH2 exchange at the server's error challenge
# instead of answering it, so the last reply read is that 334.
T.eq(f.get("smtp_code"), 334, "a revoked token on the SMTP leg: smtp_code=334i (the error challenge)")
T.ok(f.get("error", "").startswith("AUTH refused: {"), "the decoded challenge is the error", f.get("error"))
T.done()
