#!/usr/bin/env python3
"""OAuth2 login (issue 6) against the fake server, byte for byte: XOAUTH2
and OAUTHBEARER initial responses on both legs, the token file re-read for
every probe (a refreshed token is used at once, a missing one fails that
probe only), refused tokens, forced mechanisms, and no token in any output
or trace.  Gmail and Microsoft 365 cannot be reached from here; the fake
speaks their exchange as RFC 7628 and Google's XOAUTH2 document describe
it (error challenge, empty client answer, then 535 / NO)."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import result_codes, T, Stream, run, write_config, write_file, secret, parse_line, tmpdir  # noqa: E402
from fakemail import FakeMail  # noqa: E402

PW = secret("fake-Pw-5150")
TOKEN_A = secret("ya29.a0AfH6SMB-token-A_" + "x" * 180)
TOKEN_B = secret("eyJ0eXAiOiJKV1QiLCJub25jZSI6-token-B." + "y" * 1500)
D = tmpdir()
SCRIPT = (f"user alice {PW}\nuser bob {PW}\n"
          "smtp mechs PLAIN LOGIN XOAUTH2 OAUTHBEARER\nimap mechs PLAIN XOAUTH2 OAUTHBEARER\n")
fake = FakeMail(SCRIPT + f"oauth {TOKEN_A}\n", tempfile.mkdtemp(prefix="me2e-oauth."))
token_file = write_file(os.path.join(D, "token"), TOKEN_A + "\n")


def route(name="oauth", **keys):
    base = {
        "from": "alice@fake.test", "to": "bob@fake.test",
        "smtp_host": "127.0.0.1", "smtp_port": fake.ports["SMTP_PORT"], "smtp_username": "alice",
        "smtp_oauth2_token_file": token_file,
        "imap_host": "127.0.0.1", "imap_port": fake.ports["IMAP_PORT"], "imap_username": "bob",
        "imap_oauth2_token_file": token_file, "tls_ca": fake.ca,
        "timeout": "4s", "connect_timeout": "2s", "poll_interval": "200ms", "check_junk": "false",
    }
    base.update(keys)
    base = {k: v for k, v in base.items() if v is not None}
    return write_config(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in base.items()))


def once(cfg, what, args=()):
    r = run(["-c", cfg, "--once"] + list(args), what=what)
    lines = [parse_line(l) for l in r.lines]
    return (lines[0][1], lines[0][2], r) if lines else ({}, {}, r)


def sasl_since(n):
    return fake.sasl[n:]


# 1. XOAUTH2 on both legs: auth = auto with a token file means XOAUTH2.
n = len(fake.sasl)
tags, f, r = once(route(), "XOAUTH2 both legs", ["--trace"])
T.eq(tags.get("result"), "success", "XOAUTH2 (auth = auto + token file): success")
got = sasl_since(n)
T.ok(("imap", "XOAUTH2", b"user=bob\x01auth=Bearer " + TOKEN_A.encode() + b"\x01\x01") in got,
     "IMAP: AUTHENTICATE XOAUTH2 with user=bob^Aauth=Bearer TOKEN^A^A exactly", [(p, m) for p, m, _ in got])
T.ok(("smtp", "XOAUTH2", b"user=alice\x01auth=Bearer " + TOKEN_A.encode() + b"\x01\x01") in got,
     "SMTP: AUTH XOAUTH2 with user=alice^Aauth=Bearer TOKEN^A^A exactly", [(p, m) for p, m, _ in got])
T.ok("AUTH XOAUTH2 ***" in r.err and "AUTHENTICATE XOAUTH2 ***" in r.err,
     "--trace shows both SASL commands with the payload as ***", r.err[-1500:])

# 2. OAUTHBEARER (RFC 7628), forced on both legs.
n = len(fake.sasl)
tags, f, r = once(route(smtp_auth="OAUTHBEARER", imap_auth="oauthbearer"), "OAUTHBEARER both legs")
T.eq(tags.get("result"), "success", "OAUTHBEARER: success")
want_imap = (f"n,a=bob,\x01host=127.0.0.1\x01port={fake.ports['IMAP_PORT']}\x01"
             f"auth=Bearer {TOKEN_A}\x01\x01").encode()
want_smtp = (f"n,a=alice,\x01host=127.0.0.1\x01port={fake.ports['SMTP_PORT']}\x01"
             f"auth=Bearer {TOKEN_A}\x01\x01").encode()
got = sasl_since(n)
T.ok(("imap", "OAUTHBEARER", want_imap) in got, "IMAP: OAUTHBEARER gs2 header, host, port, bearer exactly",
     [m for _, m, _ in got])
T.ok(("smtp", "OAUTHBEARER", want_smtp) in got, "SMTP: OAUTHBEARER gs2 header, host, port, bearer exactly")

# 3. The file is read again for every probe: a refreshed token is used at once.
cfg = route("refresh")
s = Stream(cfg)
T.ok(s.wait_ready(), "refresh: streaming process ready")
s.signal()
T.ok(s.wait_lines(1, 15), "refresh: cycle 1 line", s.err[-800:])
write_file(token_file, TOKEN_B + "\n")            # the outside helper refreshes ...
fake.reset(SCRIPT + f"oauth {TOKEN_B}\n")          # ... and the old token expires
n = len(fake.sasl)
s.signal()
T.ok(s.wait_lines(2, 15), "refresh: cycle 2 line", s.err[-800:])
os.unlink(token_file)                              # the helper failed: no file
s.signal()
T.ok(s.wait_lines(3, 15), "refresh: cycle 3 line", s.err[-800:])
write_file(token_file, TOKEN_B + "\r\n")           # back, with a CRLF ending
s.signal()
T.ok(s.wait_lines(4, 15), "refresh: cycle 4 line", s.err[-800:])
s.close_stdin()
T.eq(s.wait_exit(15), 0, "refresh: exit 0 at end of stdin")
s.finish("refresh stream")
res = [parse_line(l) for l in s.lines[:4]]
T.eq([r[1].get("result") for r in res], ["success", "success", "imap_auth_failed", "success"],
     "refresh: token A works, then B at once, a missing file fails that probe only, then B again")
T.ok(all(TOKEN_B.encode() in raw for _, _, raw in sasl_since(n)) and len(sasl_since(n)) >= 2,
     "refresh: cycle 2 logged in with the new token on both legs")
T.ok("OAuth2 token: cannot read" in res[2][2].get("error", "") and token_file in res[2][2].get("error", ""),
     "refresh: the missing file is named in the error", res[2][2].get("error"))

# 4. A token the server refuses: the leg's auth class, with the server's reply.
write_file(token_file, TOKEN_A + "\n")             # A has expired on the server
tags, f, r = once(route("refused"), "IMAP token refused")
T.eq((tags.get("result"), f.get("result_code")), ("imap_auth_failed", result_codes()["imap_auth_failed"]), "IMAP token refused: imap_auth_failed")
T.ok('"status":"401"' in f.get("error", ""), "IMAP token refused: the server's decoded challenge in the error", f.get("error"))
tags, f, r = once(route("refused", imap_oauth2_token_file=None, imap_password=PW),
                  "SMTP token refused")
# libcurl gives up at the error challenge (it does not send the empty
# answer), so the last reply read is the 334 itself.
T.eq((tags.get("result"), f.get("smtp_code")), ("smtp_auth_failed", 334),
     "SMTP token refused: smtp_auth_failed, smtp_code=334i (the error challenge)")
T.ok('"status":"401"' in f.get("error", ""), "SMTP token refused: the server's decoded challenge in the error", f.get("error"))
write_file(token_file, TOKEN_B + "\n")

# 5. Forced password mechanisms and a mechanism the server does not offer.
n = len(fake.sasl)
tags, f, r = once(route("plain", smtp_oauth2_token_file=None, smtp_password=PW, smtp_auth="PLAIN",
                        imap_oauth2_token_file=None, imap_password=PW, imap_auth="PLAIN"), "forced PLAIN")
T.eq(tags.get("result"), "success", "smtp_auth = imap_auth = PLAIN: success")
T.ok(("smtp", "PLAIN", f"\0alice\0{PW}".encode()) in sasl_since(n), "forced PLAIN: the fake saw AUTH PLAIN")
tags, f, r = once(route("login", smtp_oauth2_token_file=None, smtp_password=PW, smtp_auth="LOGIN"),
                  "forced LOGIN", ["--trace"])
T.eq(tags.get("result"), "success", "smtp_auth = LOGIN: success")
T.ok("smtp > AUTH LOGIN" in r.err and "smtp > AUTH PLAIN" not in r.err, "forced LOGIN: AUTH LOGIN sent, not PLAIN", r.err[-1500:])
fake.reset(f"user alice {PW}\nuser bob {PW}\nsmtp mechs PLAIN LOGIN\nimap mechs PLAIN XOAUTH2\noauth {TOKEN_B}\n")
tags, f, r = once(route("unoffered"), "XOAUTH2 not offered by SMTP")
T.eq(tags.get("result"), "smtp_auth_failed", "XOAUTH2 not offered by the SMTP server: smtp_auth_failed")
T.ok(f.get("error"), "not offered: the error says why", f.get("error"))
fake.close()
T.done()
