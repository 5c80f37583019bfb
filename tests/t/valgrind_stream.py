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
# A line per cycle on stdin, paced by a small shell loop so cycles do not merge.
feeder = f"for i in $(seq {CYCLES}); do echo; sleep 0.6; done"
cmd = (f"{feeder} | valgrind --leak-check=full --show-leak-kinds=definite,indirect "
       f"--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file={log} "
       f"{binary()} -config {cfg}")
p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=600)
vg = open(log).read()
lines = [l for l in p.stdout.split("\n") if l]
T.eq(p.returncode, 0, "valgrind run exits 0 (no error, no definite/indirect leak)")
errors = re.findall(r"ERROR SUMMARY: (\d+) errors", vg)
T.ok(errors and errors[-1] == "0", "valgrind: ERROR SUMMARY: 0 errors", vg[-3000:])
for kind in ("definitely", "indirectly"):
    m = re.findall(kind + r" lost: ([\d,]+) bytes", vg)
    T.ok(all(x == "0" for x in m) and ("All heap blocks were freed" in vg or m),
         f"valgrind: {kind} lost 0 bytes", vg[-3000:])
T.ok(len(lines) >= 2 * CYCLES - 4, f"{len(lines)} lines for {CYCLES} cycles x 2 routes (a few may merge under valgrind)", p.stderr[-2000:])
ok = sum(1 for l in lines if "result=success" in l)
T.eq(ok, len(lines), "every line under valgrind is a success")
check_no_leak("valgrind run", p.stdout, p.stderr)
# The summary lines, for the record.
for l in re.findall(r"==\d+== ((?:ERROR SUMMARY|definitely lost|indirectly lost|All heap).*)", vg):
    print(f"# valgrind: {l}")
T.done()
