#!/usr/bin/env python3
# needs: mailstack
"""TLS health of both legs against the real stack: certificate expiry
fields match the test certificate's notAfter within 2 s, TLS version
fields name the protocol, and a leg without TLS has neither."""
import calendar
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, stack, stack_route, config_text, write_config, run, by_probe  # noqa: E402

env = stack()
end = subprocess.run(["openssl", "x509", "-enddate", "-noout", "-in", env["MS_CERT"]],
                     capture_output=True, text=True).stdout.strip().split("=", 1)[1]
not_after = calendar.timegm(time.strptime(end, "%b %d %H:%M:%S %Y %Z"))
cfg = write_config(config_text(stack_route(env, "tls-both", smtp="smtps", imap="tls"),
                               stack_route(env, "starttls-both", smtp="submission", imap="starttls"),
                               stack_route(env, "plain-both", smtp="plain", imap="none")))
t0 = time.time()
r = run(["-c", cfg, "--once"], what="TLS health")
lines = by_probe(r.out)
for name in ("tls-both", "starttls-both"):
    tags, f, _ = lines.get(name, [({}, {}, 0)])[0]
    for leg in ("smtp", "imap"):
        exp = f.get(f"{leg}_cert_expiry")
        T.ok(isinstance(exp, int) and abs((t0 + exp) - not_after) <= 2,
             f"{name}: {leg}_cert_expiry matches the certificate's notAfter within 2 s",
             (exp, not_after - t0))
        T.ok(f.get(f"{leg}_tls_version", "").startswith("TLSv1."), f"{name}: {leg}_tls_version", f)
tags, f, _ = lines.get("plain-both", [({}, {}, 0)])[0]
T.ok(tags.get("result") == "success" and not any(k.endswith(("_cert_expiry", "_tls_version")) for k in f),
     "plain-both: no TLS fields where a leg has no TLS", f)
r = run(["-c", cfg, "--once", "--format", "json"], what="TLS health JSON")
objs = {o["probe"]: o for o in map(json.loads, r.lines)}
T.ok(isinstance(objs.get("tls-both", {}).get("imap_cert_expiry"), int)
     and objs.get("plain-both", {}).get("smtp_tls_version", 0) is None,
     "JSON: expiry integers, null where no TLS", objs)
T.done()
