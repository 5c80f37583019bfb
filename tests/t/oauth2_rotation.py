#!/usr/bin/env python3
"""A rotated refresh token is never lost (issue 19, defects 2, 3 and 5a),
against the fake authorization server (tests/fake/authserver.py) and the
fake mail server, with the real binary in streaming mode.

The endpoint handles the refresh at once - it rotates the refresh token,
the old one stops working - but its reply comes 5 s later ("late:5"),
while the route's timeout is 3 s.  Before the fix the route's timeout
aborted the request: the reply with the new refresh token was never read,
the file kept the revoked one, and every later cycle failed invalid_grant.
Now the route still gets its line on time, the request finishes in the
background and the new token is stored:

 A. between cycles (no cycle runs when the reply comes), and the next
    cycle uses the token it brought (no new request);
 B. across end of stdin (the reply comes within shutdown_grace);
 C. across a CA-file change (the multi handle is not rebuilt under a
    request; a route of the next cycle joins it);
 D. a rotated token the file would not take (a file-size limit) survives a
    CA-file change (the cache is no longer dropped with the handle);
 E. expires_in 9223372036854775807: clamped, cached, no UBSan abort."""
import os
import resource
import signal
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, Stream, write_config, secret, parse_line, fake_route, tmpdir, write_file  # noqa: E402
from fakemail import FakeMail  # noqa: E402
from authserver import AuthServer  # noqa: E402

PW = secret("rotation-Pw-7781")
REFRESH = secret("rt-rotation-0a9c")
MAIL = f"user alice {PW}\nuser bob {PW}\nimap mechs PLAIN XOAUTH2\nsmtp mechs PLAIN XOAUTH2\n"
fake = FakeMail(MAIL, tempfile.mkdtemp(prefix="me2e-fake."))
D = tmpdir()


def trust(token):
    fake.script.tokens.add(token)


def start_auth(script):
    return AuthServer(script, tempfile.mkdtemp(prefix="me2e-auth."), certs_dir=fake.certs, on_issue=trust)


def refresh_file(name):
    return write_file(os.path.join(D, name), REFRESH + "\n")


def config(auth, rfile, name="rot", ca=None, timeout="3s"):
    text = fake_route(fake, name, PW, oauth2_token_url=auth.token_url, oauth2_client_id="mail-e2e-client",
                      oauth2_refresh_token_file=rfile, timeout=timeout, tls_ca=ca or fake.ca)
    return write_config("".join(l + "\n" for l in text.split("\n")
                                if not l.startswith(("smtp_password", "imap_password"))))


def result(s, i):
    if len(s.lines) <= i:
        return {}, {}
    _, tags, f, _ = parse_line(s.lines[i])
    return tags, f


def read(path):
    with open(path) as f:
        return f.read()


def wait_file(path, want, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if read(path) == want:
            return True
        time.sleep(0.1)
    return read(path) == want


def leaks(s):
    text = s.err + "\n".join(s.lines)
    return [t for t in [REFRESH, "rt-rotated-1", "rt-rotated-2"] + list(fake.script.tokens) if t in text]


SLOW = f"refresh {REFRESH}\nrotate\nfail late:5 refresh_token #1\n"

# A. The reply comes between cycles: stored, and its token serves the next cycle.
auth = start_auth(SLOW)
rf = refresh_file("a.refresh")
s = Stream(config(auth, rf))
T.ok(s.wait_ready(), "A: process ready")
s.signal()
T.ok(s.wait_lines(1, 10), "A: cycle 1 has its line", s.err[-800:])
tags, f = result(s, 0)
T.eq(tags.get("result"), "imap_auth_failed", "A: the route that needed the token fails on time")
T.ok(f.get("error", "").startswith("OAuth2 token: token endpoint: timed out after 3.") and f.get("total_time", 99) <= 4.0,
     "A: ... at its own timeout (3 s): %s, total_time %s" % (f.get("error"), f.get("total_time")))
T.ok(wait_file(rf, "rt-rotated-1\n", 6), "A: the late reply is read between cycles: the rotated token is in the file",
     read(rf))
T.eq(stat.S_IMODE(os.stat(rf).st_mode), 0o600, "A: the file is mode 0600")
s.signal()
T.ok(s.wait_lines(2, 10), "A: cycle 2 has its line", s.err[-800:])
T.eq(result(s, 1)[0].get("result"), "success", "A: cycle 2 succeeds")
T.eq(auth.count("refresh_token"), 1, "A: with the token the late reply brought: no second refresh")
T.ok("I! oauth2: the token refresh for rot finished after its route stopped waiting; its token is cached" in s.err,
     "A: an I! line says the refresh finished in the background", s.err[-800:])
s.close_stdin()
T.eq(s.wait_exit(10), 0, "A: exit 0")
T.eq(leaks(s), [], "A: no token printed")
s.finish("rotation A")
auth.close()

# B. End of stdin right after the line: the reply still comes within shutdown_grace.
auth = start_auth(SLOW)
rf = refresh_file("b.refresh")
s = Stream(config(auth, rf))
T.ok(s.wait_ready(), "B: process ready")
s.signal()
T.ok(s.wait_lines(1, 10), "B: cycle 1 has its line", s.err[-800:])
t_eof = time.monotonic()
s.close_stdin()
rc = s.wait_exit(10)
took = time.monotonic() - t_eof
T.eq(rc, 0, "B: exit 0 at end of stdin")
T.ok(took < 5.0, "B: within 5 s of the end of stdin (%.2f s)" % took)
T.eq(read(rf), "rt-rotated-1\n", "B: the refresh finished before exit: the rotated token is in the file")
T.ok("I! a token refresh is under way: waiting up to 3.0s for it to finish" in s.err,
     "B: an I! line says the exit waits for it", s.err[-800:])
T.eq(leaks(s), [], "B: no token printed")
s.finish("rotation B")
auth.close()

# C. A CA-file change while the refresh is under way.
auth = start_auth(SLOW)
rf = refresh_file("c.refresh")
ca = write_file(os.path.join(D, "ca-c.pem"), read(fake.ca))
s = Stream(config(auth, rf, ca=ca))
T.ok(s.wait_ready(), "C: process ready")
s.signal()
T.ok(s.wait_lines(1, 10), "C: cycle 1 has its line", s.err[-800:])
write_file(ca, read(fake.ca) + "\n")          # a renewed bundle: size and time change
s.signal()
T.ok(s.wait_lines(2, 10), "C: cycle 2 has its line", s.err[-800:])
tags, f = result(s, 1)
T.eq(tags.get("result"), "success", "C: cycle 2 joins the refresh under way and succeeds (%s)" % f.get("error"))
T.ok(wait_file(rf, "rt-rotated-1\n", 3), "C: the rotated token is in the file", read(rf))
time.sleep(0.3)
s.signal()
T.ok(s.wait_lines(3, 10), "C: cycle 3 has its line", s.err[-800:])
T.eq(result(s, 2)[0].get("result"), "success", "C: cycle 3 succeeds")
T.ok("I! a CA file changed on disk: loading it again" in s.err, "C: the CA file is loaded again once the refresh ended",
     s.err[-800:])
T.eq(auth.count("refresh_token"), 1, "C: one refresh request for the three cycles")
s.close_stdin()
T.eq(s.wait_exit(10), 0, "C: exit 0")
s.finish("rotation C")
auth.close()

# D. The file cannot take the rotated token (an 8-byte file-size limit):
#    kept in memory, and a CA-file change no longer drops it.
auth = start_auth(f"refresh {REFRESH}\nrotate\nexpires 30\n")
rf = refresh_file("d.refresh")
ca = write_file(os.path.join(D, "ca-d.pem"), read(fake.ca))


def small_files():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8, 8))


s = Stream(config(auth, rf, ca=ca, timeout="6s"), preexec_fn=small_files)
T.ok(s.wait_ready(), "D: process ready")
s.signal()
T.ok(s.wait_lines(1, 10), "D: cycle 1 has its line", s.err[-800:])
T.eq(result(s, 0)[0].get("result"), "success", "D: cycle 1 succeeds with tokens from memory")
T.ok("E! oauth2: cannot store the new refresh token, the old file stays: " in s.err, "D: an E! line says the file "
     "did not take it", s.err[-800:])
write_file(ca, read(fake.ca) + "\n")
s.signal()
T.ok(s.wait_lines(2, 10), "D: cycle 2 has its line", s.err[-800:])
tags, f = result(s, 1)
T.eq(tags.get("result"), "success", "D: after the CA-file change the unsaved rotated token still serves (%s)"
     % f.get("error"))
T.eq(read(rf), REFRESH + "\n", "D: the file is untouched")
s.close_stdin()
T.eq(s.wait_exit(10), 0, "D: exit 0")
T.ok("E! oauth2: the new refresh token for " + rf + " is lost at exit (" in s.err,
     "D: at exit an E! line says the unsaved token is lost", s.err[-600:])
T.eq(leaks(s), [], "D: no token printed")
s.finish("rotation D")
auth.close()

# E. expires_in 2^63-1: clamped, cached, no overflow (UBSan aborts the
#    asan build on one).
auth = start_auth(f"refresh {REFRESH}\nexpires 9223372036854775807\n")
rf = refresh_file("e.refresh")
s = Stream(config(auth, rf))
T.ok(s.wait_ready(), "E: process ready")
for i in range(2):
    s.signal()
    T.ok(s.wait_lines(i + 1, 10), f"E: cycle {i + 1} has its line", s.err[-800:])
    time.sleep(0.3)
T.eq([result(s, i)[0].get("result") for i in range(2)], ["success", "success"], "E: both cycles succeed")
T.eq(auth.count("refresh_token"), 1, "E: the token is cached (one request for two cycles)")
s.close_stdin()
T.eq(s.wait_exit(10), 0, "E: exit 0 (no UBSan abort)")
T.ok("runtime error" not in s.err, "E: no sanitizer report", s.err[-800:])
s.finish("rotation E")
auth.close()
fake.close()
T.done()
