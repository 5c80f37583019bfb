#!/usr/bin/env python3
# needs: mxworld
# variants: release
"""valgrind over a streaming run with smtp_via = mx routes in the MX world
(DANE, MTA-STS fetched then cached, an MX walk, a policy refusal, a bogus
answer, a null MX): libunbound's thread, the policy fetch, the chain kept
from the handshake and the walk's connections leave no memory error and
nothing definitely or indirectly lost, and every cycle gives its lines."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, stack, password, write_config, binary, check_no_leak, tmpdir  # noqa: E402

CYCLES = 3
env = stack("MXWORLD_ENV", "MX world", "MX_")
DOMAINS = ("dane-ee.test", "sts-enforce.test", "walk.test", "sts-badcert.test", "bogus-a.test", "nullmx.test")
text = (f"[defaults]\nresolver = {env['MX_RESOLVER']}\ndnssec_trust_anchor = {env['MX_TRUST_ANCHOR']}\n"
        "helo_name = client.mxworld.test\nserver_concurrency = 3\n\n")
for d in DOMAINS:
    text += (f"[{d.split('.')[0]}]\nsmtp_via = mx\nfrom = {env['MX_FROM']}\nto = {env['MX_USER']}@{d}\n"
             f"imap_host = {env['MX_IMAP_HOST']}\nimap_username = {env['MX_USER']}\n"
             f"imap_password = {password(env, env['MX_USER'])}\ntls_ca = {env['MX_CA']}\n"
             "timeout = 30s\npoll_interval = 200ms\ncheck_junk = false\n\n")
cfg = write_config(text)
log = os.path.join(tmpdir(), "valgrind.log")
p = subprocess.Popen(["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                      "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                      f"--log-file={log}", binary(), "-config", cfg],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
lines = []
for i in range(CYCLES):
    p.stdin.write(b"\n")
    p.stdin.flush()
    for _ in DOMAINS:
        line = p.stdout.readline().decode()
        if not line:
            break
        lines.append(line.strip())
p.stdin.close()
rc = p.wait(timeout=300)
stderr = p.stderr.read().decode(errors="replace")
vg = open(log).read()
T.eq(rc, 0, "valgrind run exits 0 (no error, no definite/indirect leak)")
T.ok("ERROR SUMMARY: 0 errors" in vg, "valgrind: 0 errors", vg[-3000:])
T.ok("definitely lost: 0 bytes" in vg or "All heap blocks were freed" in vg, "valgrind: nothing definitely lost",
     vg[-3000:])
T.ok("indirectly lost: 0 bytes" in vg or "All heap blocks were freed" in vg, "valgrind: nothing indirectly lost",
     vg[-3000:])
T.eq(len(lines), CYCLES * len(DOMAINS), f"{CYCLES} cycles, one line per route each")
results = [l.split("result=")[1].split(",")[0].split(" ")[0] for l in lines if "result=" in l]
T.eq(sorted(set(results)), ["smtp_rejected", "success", "tls_policy_failed"],
     "the results the routes should have (delivered, refused by the policy, a null MX)")
check_no_leak("valgrind run", "\n".join(lines), stderr)
T.done()
