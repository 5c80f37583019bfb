#!/usr/bin/env python3
# needs: mailstack
# variants: release
"""valgrind over a streaming run of 60 cycles against the real stack (two
routes, both TLS modes): no memory error, nothing definitely or indirectly
lost, and every cycle still gives its lines."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, stack, stack_route, config_text, write_config, binary, check_no_leak, tmpdir  # noqa: E402

CYCLES = 60
env = stack()
cfg = write_config(config_text(
    stack_route(env, "v1", smtp="submission", imap="starttls", idle="off", poll_interval="100ms"),
    stack_route(env, "v2", smtp="smtps", imap="tls", idle="off", poll_interval="100ms")))
log = os.path.join(tmpdir(), "valgrind.log")
# One signal at a time, the next only after both lines of the previous cycle:
# exactly CYCLES cycles, however slow valgrind makes them.
p = subprocess.Popen(["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                      "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                      f"--log-file={log}", binary(), "-config", cfg],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
lines = []
for i in range(CYCLES):
    p.stdin.write(b"\n")
    p.stdin.flush()
    for _ in range(2):
        line = p.stdout.readline().decode()
        if not line:
            break
        lines.append(line.strip())
p.stdin.close()
rc = p.wait(timeout=120)
stderr = p.stderr.read().decode(errors="replace")
vg = open(log).read()
T.eq(rc, 0, "valgrind run exits 0 (no error, no definite/indirect leak)")
errors = re.findall(r"ERROR SUMMARY: (\d+) errors", vg)
T.ok(errors and errors[-1] == "0", "valgrind: ERROR SUMMARY: 0 errors", vg[-3000:])
for kind in ("definitely", "indirectly"):
    m = re.findall(kind + r" lost: ([\d,]+) bytes", vg)
    T.ok(all(x == "0" for x in m) and ("All heap blocks were freed" in vg or m),
         f"valgrind: {kind} lost 0 bytes", vg[-3000:])
T.eq(len(lines), 2 * CYCLES, f"{CYCLES} cycles x 2 routes: one line each")
ok = sum(1 for l in lines if "result=success" in l)
T.eq(ok, len(lines), "every line under valgrind is a success")
check_no_leak("valgrind run", "\n".join(lines), stderr)
# The summary lines, for the record.
for l in re.findall(r"==\d+== ((?:ERROR SUMMARY|definitely lost|indirectly lost|All heap).*)", vg):
    print(f"# valgrind: {l}")
T.done()
