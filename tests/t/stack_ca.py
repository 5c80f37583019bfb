#!/usr/bin/env python3
# needs: mailstack
"""The trust store (issue 10): a CA file of system size works, and a CA file
that changes on disk is read again at the next cycle of a running process
(one libcurl multi handle per process caches the parsed store; a change of
size, time or inode makes a new one)."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, Stream, stack, stack_route, config_text, write_config, run, by_probe, tmpdir, parse_line  # noqa: E402

env = stack()
d = tmpdir()

# 1. The system bundle plus the stack's CA: ~150 certificates parsed.
big = os.path.join(d, "big-ca.pem")
with open(big, "w") as out:
    out.write(open("/etc/ssl/certs/ca-certificates.crt").read())
    out.write(open(env["MS_CA"]).read())
n = open(big).read().count("BEGIN CERTIFICATE")
T.ok(n > 100, f"a system-size CA file: {n} certificates")
cfg = write_config(config_text(stack_route(env, "big-sub", tls_ca=big),
                               stack_route(env, "big-imaps", smtp="smtps", imap="tls", tls_ca=big)))
r = run(["-c", cfg, "--once"], what="--once with a system-size tls_ca")
lines = by_probe(r.out)
for name in ("big-sub", "big-imaps"):
    T.eq(lines.get(name, [({}, {}, 0)])[0][0].get("result"), "success",
         f"{name}: success with a {n}-certificate CA file")

# 2. The CA file changes under a running process.
ca = os.path.join(d, "ca.pem")
shutil.copy(env["MS_OTHER_CA"], ca)
cfg = write_config(config_text(stack_route(env, "ca-swap", tls_ca=ca, check_junk="false")))
s = Stream(cfg)
T.ok(s.wait_ready(), "ca swap: process ready")
want = ["imap_tls_failed", "success", "imap_tls_failed"]
sources = [None, env["MS_CA"], env["MS_OTHER_CA"]]
for i, (result, src) in enumerate(zip(want, sources)):
    if src:
        time.sleep(1.1)       # the old cycle's cleanup is over; a new mtime
        tmp = ca + ".new"
        shutil.copy(src, tmp)
        os.rename(tmp, ca)     # a new inode, as a package update would write it
    s.signal()
    if not T.ok(s.wait_lines(i + 1, 30), f"ca swap: cycle {i + 1} gives a line", s.err[-1500:]):
        break
    _, tags, f, _ = parse_line(s.lines[i])
    T.eq(tags.get("result"), result,
         f"ca swap: cycle {i + 1} with {'the other' if result != 'success' else 'the right'} CA: {result}")
T.ok("I! a CA file changed on disk" in s.err, "ca swap: an I! line says the store is loaded again", s.err[-1500:])
s.close_stdin()
T.eq(s.wait_exit(10), 0, "ca swap: exit 0 at end of stdin")
s.finish("ca swap")
T.done()
