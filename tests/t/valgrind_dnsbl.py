#!/usr/bin/env python3
# needs: mxworld
# variants: release
"""valgrind over a streaming run with DNSBL lookups (issue 24): the fake
mail server delivers the probe with a listed sending address, and each cycle
looks it up in a listing, a bogus and a dead zone of the MX world's DNS
(libunbound's worker thread, answers and cancels on the cycle's event loop).
Then a cycle is cut short by the end of stdin while the dead zone's lookup
is still pending: the process exits within shutdown_grace, and valgrind
finds no memory error and nothing definitely or indirectly lost."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, stack, write_config, secret, fake_route, binary, check_no_leak, tmpdir  # noqa: E402
from fakemail import FakeMail  # noqa: E402

CYCLES = 4
env = stack("MXWORLD_ENV", "MX/DNS world", "MX_")
PW = secret("vgdnsbl-Pw-8812")
rcv = (f"deliver-header Received: from mail.other.test (mail.other.test [{env['MX_DNSBL_LISTED_IP4']}]) "
       "by mx.fake.test (Postfix) with ESMTPS id 1 for <bob@fake.test>; Tue, 01 Dec 2026 21:00:02 +0000\n")
fake = FakeMail(f"user alice {PW}\nuser bob {PW}\n" + rcv, tempfile.mkdtemp(prefix="me2e-fake."))
zones = f"{env['MX_BL_LISTED']},{env['MX_BL_BOGUS']},{env['MX_BL_DEAD']}"
cfg = write_config(f"[defaults]\nresolver = {env['MX_RESOLVER']}\ndnssec_trust_anchor = {env['MX_TRUST_ANCHOR']}\n\n"
                   + fake_route(fake, "vg", PW, dnsbl=zones, timeout="6s", connect_timeout="5s"))


def black_hole():
    """A resolver that reads every question and never answers (UDP and TCP)."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("127.0.0.1", u.getsockname()[1]))
    t.listen(16)
    held = []
    threading.Thread(target=lambda: [u.recvfrom(4096) for _ in iter(int, 1)], daemon=True).start()
    threading.Thread(target=lambda: [held.append(t.accept()[0]) for _ in iter(int, 1)], daemon=True).start()
    return f"127.0.0.1:{u.getsockname()[1]}"


def valgrind(what, cfg, cycles, cut_after=None):
    """Streaming mode under valgrind: cycles signals, each after the previous
    line; then (cut_after) one more, and the end of stdin that many seconds
    later.  Checks valgrind's verdict; returns (lines, stderr, exit time)."""
    log = os.path.join(tmpdir(), "valgrind.log")
    p = subprocess.Popen(["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                          "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                          f"--log-file={log}", binary(), "-config", cfg],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    for i in range(cycles):
        p.stdin.write(b"\n")
        p.stdin.flush()
        line = p.stdout.readline().decode()
        if not line:
            break
        lines.append(line.strip())
    if cut_after is not None:
        p.stdin.write(b"\n")
        p.stdin.flush()
        time.sleep(cut_after)
    t0 = time.monotonic()
    p.stdin.close()
    try:
        rc = p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    took = time.monotonic() - t0
    stderr = p.stderr.read().decode(errors="replace")
    lines += [l for l in p.stdout.read().decode().split("\n") if l]
    vg = open(log).read()
    T.eq(rc, 0, f"{what}: valgrind run exits 0 (no error, no definite/indirect leak)")
    errors = re.findall(r"ERROR SUMMARY: (\d+) errors", vg)
    T.ok(errors and errors[-1] == "0", f"{what}: valgrind: ERROR SUMMARY: 0 errors", vg[-3000:])
    for kind in ("definitely", "indirectly"):
        m = re.findall(kind + r" lost: ([\d,]+) bytes", vg)
        T.ok(all(x == "0" for x in m) and ("All heap blocks were freed" in vg or m),
             f"{what}: valgrind: {kind} lost 0 bytes", vg[-3000:])
    check_no_leak(what, "\n".join(lines), stderr)
    for l in re.findall(r"==\d+== ((?:ERROR SUMMARY|definitely lost|indirectly lost|All heap).*)", vg):
        print(f"# valgrind ({what}): {l}")
    return lines, stderr, took


# 1. Cycles with answers, a bogus zone and bl-dead.
lines, stderr, took = valgrind("answers", cfg, CYCLES)
T.ok(len(lines) >= CYCLES, f"{CYCLES} cycles: a line each", "\n".join(lines))
listed = [l for l in lines[:CYCLES] if "result=success" in l and f'dnsbl_zones="{env["MX_BL_LISTED"]}"' in l]
T.eq(len(listed), CYCLES, "every cycle under valgrind: success, listed in bl-listed only")
T.ok(stderr.count(f"dnsbl {env['MX_BL_BOGUS']}:") >= CYCLES, "each cycle warns about the bogus zone", stderr[-1500:])

# 2. A resolver that never answers: one cycle's lookups end at the deadline;
# the next one is cut short by the end of stdin while its lookups are
# pending (its line held for them): the route is abandoned, the process
# exits within shutdown_grace with its libunbound context freed.
cfg2 = write_config(f"[defaults]\nresolver = {black_hole()}\nshutdown_grace = 1s\n\n"
                    + fake_route(fake, "vg", PW, dnsbl=env["MX_BL_LISTED"], timeout="4s", connect_timeout="3s"))
lines, stderr, took = valgrind("pending lookups", cfg2, 1, cut_after=2.0)
T.ok(len(lines) == 1 and "dnsbl_listed=0i" in lines[0], "the first cycle's line: nothing listed", lines)
T.ok("before the route's timeout" in stderr, "... its lookup ended at the route's deadline", stderr[-800:])
T.ok(took < 6, f"the end of stdin with a lookup pending: exit in {took:.1f}s (shutdown_grace 1s, under valgrind)")
T.done()
