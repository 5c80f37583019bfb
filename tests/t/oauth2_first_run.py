#!/usr/bin/env python3
"""A first run that explains itself (issue 19 §2), the exact texts:
--check-config says what a route still lacks (the refresh-token file that
--oauth2-login makes, a scope); the leg's error says in plain words what
went wrong and what to do: no refresh token yet, a refresh token expired
or revoked, an access token the mail server refused (SMTP and IMAP), and
the providers' policy refusals (Microsoft's 535 5.7.139 and 550 5.7.30,
Google's 534 5.7.9 and its IMAP "Application-specific password
required"), scripted at the fake servers with the providers' own words."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, run, write_config, write_file, secret, parse_line, fake_route, tmpdir  # noqa: E402
from fakemail import FakeMail  # noqa: E402
from authserver import AuthServer  # noqa: E402

PW = secret("first-run-Pw-2231")
REFRESH = secret("rt-first-run-51ab")
TOKEN = secret("ya29.first-run-token-" + "z" * 40)
D = tmpdir()
MAIL = f"user alice {PW}\nuser bob {PW}\nimap mechs PLAIN XOAUTH2\nsmtp mechs PLAIN LOGIN XOAUTH2\n"
fake = FakeMail(MAIL, tempfile.mkdtemp(prefix="me2e-fake."))
auth = AuthServer(f"refresh {REFRESH}\n", tempfile.mkdtemp(prefix="me2e-auth."), certs_dir=fake.certs)
ERROR_MAX = 255          # RESULT_ERROR_MAX - 1


def no_passwords(text):
    return "".join(l + "\n" for l in text.split("\n") if not l.startswith(("smtp_password", "imap_password")))


def oauth_config(name, rfile, **keys):
    k = dict(oauth2_token_url=auth.token_url, oauth2_client_id="mail-e2e-client", oauth2_refresh_token_file=rfile,
             oauth2_scope="https://mail.google.com/")
    k.update(keys)
    k = {a: b for a, b in k.items() if b is not None}
    return write_config(no_passwords(fake_route(fake, name, PW, **k)))


def once(cfg, what):
    r = run(["-c", cfg, "--once"], what=what)
    lines = [parse_line(l) for l in r.lines]
    return (lines[0][1], lines[0][2], r) if lines else ({}, {}, r)


def with_hint(original, hint):
    """auth_hints.c: "<original>; <hint>", the original cut ("...") so the
    hint stays whole within the error field."""
    if len(original) + 2 + len(hint) > ERROR_MAX:
        original = original[:ERROR_MAX - (len(hint) + 2) - 3] + "..."
    return original + "; " + hint


# 1. --check-config: a refresh-token file that --oauth2-login has not made yet.
missing = os.path.join(D, "not-yet.refresh")
cfg = oauth_config("m365", missing)
r = run(["--check-config", "-c", cfg], what="check-config, no refresh token yet")
T.eq(r.rc, 0, "check-config: still a valid file (exit 0)")
T.ok(f"W! [m365] oauth2_refresh_token_file {missing} does not exist yet: run `mail-e2e -c {cfg} "
     f"--oauth2-login m365` once, on a terminal\n" in r.err, "check-config: the W! line says what to run", r.err)

# 2. --check-config: no oauth2_scope.
rf = write_file(os.path.join(D, "have.refresh"), REFRESH + "\n")
r = run(["--check-config", "-c", oauth_config("noscope", rf, oauth2_scope=None)], what="check-config, no scope")
T.ok(r.rc == 0 and "W! [noscope] oauth2_scope is not set: Microsoft and Google need one (README, OAuth2, has the "
     "values)\n" in r.err, "check-config: a missing oauth2_scope gets a W! line", r.err)
r = run(["--check-config", "-c", oauth_config("quiet", rf)], what="check-config, all there")
T.ok(r.rc == 0 and "W! " not in r.err, "check-config: nothing to say when the file and the scope are there", r.err)

# 3. The probe before --oauth2-login.
tags, f, r = once(cfg, "no refresh token yet")
T.eq(f.get("error"), f"OAuth2 token: no refresh token yet ({missing} does not exist): run --oauth2-login m365 once, "
     "on a terminal", "probe: no refresh token yet, in plain words")

# 4. The refresh token is refused (revoked, expired).
bad = write_file(os.path.join(D, "revoked.refresh"), secret("rt-revoked-77") + "\n")
tags, f, r = once(oauth_config("gmail", bad), "invalid_grant")
T.eq((tags.get("result"), f.get("error")), ("imap_auth_failed", "OAuth2 token: refresh token expired or revoked: run "
     "--oauth2-login gmail again (invalid_grant: Token has been expired or revoked.)"),
     "probe: invalid_grant in plain words with the next step")

# 5. An access token the mail server refuses (a token file), SMTP and IMAP.
tf = write_file(os.path.join(D, "access.token"), TOKEN + "\n")
REFUSED = "the server refused the OAuth2 access token: expired or revoked, or not for this user"
fake.reset(MAIL)                       # no "oauth" line: every token is refused
tags, f, r = once(write_config(no_passwords(fake_route(fake, "tok", PW, imap_oauth2_token_file=tf,
                                                       smtp_oauth2_token_file=tf))), "IMAP token refused")
T.eq(f.get("error"), with_hint('login refused: {"status":"401","schemes":"bearer"}', REFUSED),
     "IMAP: a refused token in plain words")
smtp_only = "".join(l + "\n" for l in fake_route(fake, "tok", PW, smtp_oauth2_token_file=tf).split("\n")
                    if not l.startswith("smtp_password"))
tags, f, r = once(write_config(smtp_only), "SMTP token refused")
T.eq(f.get("error"), with_hint('AUTH refused: {"status":"401","schemes":"bearer"}', REFUSED),
     "SMTP: a refused token in plain words")

# 6. The providers' policy refusals, as they word them.
ROWS = [
    ("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
     "Visit https://aka.ms/smtp_auth_disabled for more information.",
     "Microsoft 365 has SMTP AUTH turned off for this tenant or mailbox: an admin turns on Authenticated SMTP "
     "(https://aka.ms/smtp_auth_disabled)"),
    ("535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated "
     "successfully. Contact your administrator.",
     "Microsoft 365 refused the login by policy: SMTP AUTH off for the mailbox or tenant, security defaults, or "
     "wrong credentials (https://aka.ms/smtp_auth_disabled)"),
    ("550 5.7.30 Basic authentication is not supported for Client Submission",
     "Microsoft 365 no longer takes a password for SMTP (Basic authentication off): log in with OAuth2 "
     "(README, OAuth2)"),
    ("534 5.7.9 Application-specific password required. Learn more at "
     "https://support.google.com/mail/?p=InvalidSecondFactor",
     "Google wants an app password or OAuth2 for this account, not its password (README, OAuth2)"),
]
for reply, hint in ROWS:
    fake.reset(MAIL + f"smtp on AUTH reply {reply}\n")
    tags, f, r = once(write_config(fake_route(fake, "pw", PW)), reply[:11])
    T.eq((tags.get("result"), f.get("error")), ("smtp_auth_failed", with_hint("AUTH refused: " + reply[:230], hint)),
         f"SMTP {reply[:11]}: the reply, then plain words and where to turn it on")
fake.reset(MAIL + "smtp on AUTH reply 535 5.7.3 Authentication unsuccessful\n")
tags, f, r = once(write_config(fake_route(fake, "pw", PW)), "535 5.7.3")
T.eq(f.get("error"), "AUTH refused: 535 5.7.3 Authentication unsuccessful", "SMTP 5.7.3: no hint (5.7.30 is not 5.7.3)")
fake.reset(MAIL + "imap on AUTHENTICATE reply NO [ALERT] Application-specific password required: "
           "https://support.google.com/accounts/answer/185833 (Failure)\n")
tags, f, r = once(write_config(fake_route(fake, "gimap", PW)), "Google IMAP app password")
T.ok(re.fullmatch(r"login refused: \S+ NO \[ALERT\] Application-specific password required: "
                  r"https://support\.google\.com/accounts/answer/185833 \(Failure\); Google wants an app password "
                  r"or OAuth2 for this account, not its password \(README, OAuth2\)", f.get("error", "")),
     "IMAP: Google's app-password refusal in plain words", f.get("error"))
fake.close()
auth.close()
T.done()
