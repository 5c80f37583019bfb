#!/usr/bin/env python3
# needs: mxworld
"""smtp_via = mx end to end in the MX world (tests/mailstack/mxworld.sh):
every scenario domain probed straight to its MX hosts, our own
DNSSEC-validating lookups through the world's resolver, the IMAP leg in
the world's Dovecot; every SPEC §12 field checked against the scenario's
`expect` (DIR/scenarios.json), in both formats, and every value of every
field seen at least once; the smtp_server tag; nothing delivered (the
Maildir) when the result is tls_policy_failed or the walk never got a
host; require_tls_policy; the MTA-STS cache (the same id: one fetch in a
process, a new id: one more, counted in the policy host's log); a lookup
that never gets an answer bounded by the route's timeout; every lookup
asked of the resolver (none answered by libunbound's own local zones),
every connection pinned to the world's addresses; the figures (time and
lookups per probe, cache cold and warm) as comment lines."""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, stack, password, fatal, run, write_config, by_probe, Stream, tmpdir  # noqa: E402
import lineproto  # noqa: E402

env = stack("MXWORLD_ENV", "MX world", "MX_")
for k in ("MX_RESOLVER", "MX_TRUST_ANCHOR", "MX_CA", "MX_IMAP_HOST", "MX_USER", "MX_SCENARIOS", "MX_SET_STS_ID",
          "MX_HTTPS_LOG", "MX_MAILDIR", "MX_UNBOUND_CONTROL", "MX_NET", "MX_FROM", "MX_BL_DEAD", "MX_NXDOMAIN"):
    if k not in env:
        fatal(f"the env file lacks {k}")
with open(env["MX_SCENARIOS"]) as f:
    WORLD = json.load(f)
SC = {s["domain"]: s for s in WORLD["scenarios"]}
PW = password(env, env["MX_USER"])
FIELDS = ("mx", "mx_tried", "mx_tls", "mta_sts", "dane", "tlsrpt", "tls_policy")
VALUES = {"mx_tls": {"verified", "unverified", "none"}, "mta_sts": {"none", "testing", "enforce", "invalid"},
          "dane": {"none", "pass", "fail", "unusable", "bogus"}, "tlsrpt": {0, 1},
          "tls_policy": {"none", "pass", "fail"}}


def route_name(domain):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", domain.removesuffix(".test"))


def defaults(fmt="influx", **extra):
    keys = {"resolver": env["MX_RESOLVER"], "dnssec_trust_anchor": env["MX_TRUST_ANCHOR"],
            "helo_name": "client.mxworld.test", "format": fmt, "server_concurrency": "4"}
    keys.update(extra)
    return "[defaults]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"


def route(domain, name=None, **extra):
    keys = {"smtp_via": "mx", "from": env["MX_FROM"], "to": f"{env['MX_USER']}@{domain}",
            "imap_host": env["MX_IMAP_HOST"], "imap_username": env["MX_USER"], "imap_password": PW,
            "tls_ca": env["MX_CA"], "timeout": "20s", "poll_interval": "200ms", "check_junk": "false"}
    keys.update(extra)
    return f"[{name or route_name(domain)}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"


def resolver_queries():
    p = subprocess.run(env["MX_UNBOUND_CONTROL"].split() + ["stats_noreset"], capture_output=True, text=True,
                       timeout=20)
    m = re.search(r"^total\.num\.queries=(\d+)", p.stdout, re.M)
    return int(m.group(1)) if m else -1


def policy_fetches(domain=None):
    try:
        with open(env["MX_HTTPS_LOG"]) as f:
            return sum(1 for l in f if "/.well-known/mta-sts.txt" in l and (not domain or domain in l))
    except FileNotFoundError:
        return 0


def maildir_tokens():
    """Every probe token in the world's Maildir (new/ and cur/)."""
    found = set()
    for sub in ("new", "cur"):
        d = os.path.join(env["MX_MAILDIR"], sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), errors="replace") as f:
                found |= set(re.findall(r"^X-Mail-E2E-Probe: ([0-9a-f]{32})", f.read(), re.M))
    return found


def once(cfg, what, args=()):
    """--once: exit 0 or 1, never a sanitizer's or a crash's."""
    r = run(["-c", cfg, "--once"] + list(args), timeout=180, what=what)
    T.ok(r.rc in (0, 1), f"{what}: exit 0 or 1 (no sanitizer report, no crash)", f"rc {r.rc}\n{r.err[-2000:]}")
    return r


def matches(got, want):
    return got in want if isinstance(want, list) else got == want


# --- 1. every scenario, influx ----------------------------------------------------------------
domains = [s["domain"] for s in WORLD["scenarios"]]
T.ok(len(domains) >= 40, f"{len(domains)} scenario domains in the world")
cfg = write_config(defaults() + "".join(route(d) for d in domains))
q0 = resolver_queries()
r = once(cfg, "every scenario, influx", ["--trace"])
lines = by_probe(r.out)
T.eq(sorted(lines), sorted(route_name(d) for d in domains), "one line per scenario route")
seen = {k: set() for k in VALUES}
results = set()
for d in domains:
    e, got = SC[d]["expect"], lines.get(route_name(d), [None])[0]
    if not got:
        continue
    tags, fields, _ = got
    results.add(tags["result"])
    T.eq(tags["result"], e["result"], f"{d}: result {e['result']} ({SC[d]['what']})")
    for k in FIELDS + ("smtp_code",):
        if k in e:
            T.ok(matches(fields.get(k), e[k]), f"{d}: {k} = {e[k]}", f"got {fields.get(k)!r}; error: {fields.get('error')}")
    for k in VALUES:
        if k in fields:
            seen[k].add(fields[k])
    T.ok(("mx" in fields) == (tags["result"] == "success"), f"{d}: mx only where a host accepted", fields)
    srv = tags.get("smtp_server")
    hosts = [f"{m['host']}:25" for m in SC[d]["mx"]]
    if tags["result"] == "success":
        T.eq(srv, f"{fields['mx']}:25", f"{d}: smtp_server is the MX host that accepted")
    elif fields.get("mx_tried", 0) == 0:
        T.ok(srv is None, f"{d}: no host tried, no smtp_server tag", srv)
    else:
        T.ok(srv in hosts, f"{d}: smtp_server is an MX host of the domain (the first tried)", (srv, hosts))
for k, want in VALUES.items():
    T.eq(seen[k], want, f"every value of {k} seen across the scenarios")
T.ok({"success", "smtp_rejected", "smtp_connect_failed", "tls_policy_failed"} <= results,
     "results seen: success, smtp_rejected, smtp_connect_failed, tls_policy_failed", results)
T.eq(r.rc, 1, "--once exits 1 (some scenarios fail on purpose)")
# Our own DNS: every name asked of the world's resolver, nothing from
# libunbound's local zones (test. would be NXDOMAIN, insecure), every
# connection to an address of the world.
trace = r.err.splitlines()
T.ok(resolver_queries() - q0 >= 100, f"the resolver was asked ({resolver_queries() - q0} queries for this run)")
secure = [l for l in trace if l.startswith("D! dns: MX ") and "(secure)" in l]
T.ok(len(secure) >= 35, f"{len(secure)} MX answers validated (secure) in the process")
signed = {d for d in domains if SC[d]["signed"]}


def zone_of(name):
    return next((d for d in signed if name == d or name.endswith("." + d)), None)


unvalidated = [l for l in trace if l.startswith("D! dns: ") and zone_of(l.split()[3].rstrip(":"))
               and "(secure)" not in l and "BOGUS" not in l]
T.eq(unvalidated, [], "every answer for a name in a signed zone validated or bogus: none from libunbound's "
     "own local zone for test. (that one is NXDOMAIN, insecure)")
trying = re.findall(r"\*\s+Trying ([0-9.]+):(\d+)\.\.\.", r.err)
T.ok(trying and all(a.startswith(env["MX_NET"] + ".") for a, _ in trying),
     f"every connection went to an address of the world ({len(trying)} connects)", sorted(set(trying)))
T.ok(not re.search(r"Could not resolve|getaddrinfo", r.err), "libcurl resolved no name itself")

# The EHLO name and the hop the MX wrote: a probe kept (delete = false),
# read from the Maildir, removed.
before = maildir_tokens()
cfg = write_config(defaults(fmt="json") + route("plain.test", name="keep", delete="false")
                   + route("notls.test", name="keep_plain", delete="false"))
r = once(cfg, "probes kept for their Received headers")
kept = {o["probe"]: o for o in (json.loads(l) for l in r.out.splitlines())}
for name, proto in (("keep", "ESMTPS"), ("keep_plain", "ESMTP")):
    o = kept.get(name, {})
    text = ""
    for sub in ("new", "cur"):
        d = os.path.join(env["MX_MAILDIR"], sub)
        for f in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, f), errors="replace") as fh:
                body = fh.read()
            if o.get("hash") and o["hash"] in body:
                text = body
                os.unlink(os.path.join(d, f))
    T.ok(re.search(rf"^Received: from client\.mxworld\.test \(unknown \[127\.0\.0\.1\]\)\s+(\(using TLS.*\)\s+)?"
                   rf"by \S+ \(Postfix\) with {proto} ", text, re.M | re.S),
         f"{name}: the MX's Received header names helo_name and says {proto}", text[:800])
    T.ok(o.get("plain_hops") == (1 if proto == "ESMTP" else 0), f"{name}: plain_hops {o.get('plain_hops')}")
T.eq(maildir_tokens() - before, set(), "the kept probes were removed again")

# --- 2. JSON: the same values, null where absent; nothing delivered on a failure -------------
before = maildir_tokens()
cfg = write_config(defaults(fmt="json") + "".join(route(d) for d in domains))
r = once(cfg, "every scenario, json")
objs = {}
for l in r.out.splitlines():
    try:
        o = json.loads(l)
        objs[o["probe"]] = o
    except ValueError as e:
        T.ok(False, "a JSON line parses", f"{e}: {l[:200]}")
T.eq(len(objs), len(domains), "one JSON object per scenario route")
time.sleep(1.0)   # anything the MX accepted is in the Maildir by now
after = maildir_tokens() - before
for d in domains:
    o, e = objs.get(route_name(d)), SC[d]["expect"]
    if not o:
        continue
    T.ok(all(k in o for k in FIELDS), f"{d}: JSON carries every §12 key", sorted(o))
    T.ok(o["result"] == e["result"] and all(matches(o.get(k), e[k]) for k in FIELDS if k in e),
         f"{d}: JSON values as expected", {k: o.get(k) for k in FIELDS + ("result", "error")})
    if not e["delivered"]:
        T.ok(o["mx"] is None and o["hash"] not in after, f"{d}: {o['result']}: nothing delivered (Maildir)",
             o.get("error"))
        if o.get("mx_tried") == 0:
            T.ok(o["smtp_server"] is None, f"{d}: JSON smtp_server null (no host tried)", o["smtp_server"])

# --- 3. require_tls_policy ------------------------------------------------------------------------
REQ = [("plain.test", "dane", "tls_policy_failed", 0, "no usable DNSSEC-validated TLSA"),
       ("plain.test", "mta-sts", "tls_policy_failed", 0, "publishes no MTA-STS policy"),
       ("sts-nopolicy.test", "mta-sts", "tls_policy_failed", 0, "invalid"),
       ("insecure.test", "dane", "tls_policy_failed", 0, "no usable"),
       ("sts-testing.test", "mta-sts", "tls_policy_failed", 1, "certificate not valid"),
       ("dane-sts.test", "dane, mta-sts", "tls_policy_failed", 1, "not listed in the policy"),
       ("sts-enforce.test", "mta-sts", "success", 1, None),
       ("dane-ee.test", "dane", "success", 1, None),
       ("dane-walk.test", "dane", "success", 2, None)]
before = maildir_tokens()
cfg = write_config(defaults(fmt="json") + "".join(
    route(d, name=f"req{i}", require_tls_policy=req) for i, (d, req, _, _, _) in enumerate(REQ)))
r = once(cfg, "require_tls_policy")
objs = {o["probe"]: o for o in (json.loads(l) for l in r.out.splitlines())}
time.sleep(1.0)
after = maildir_tokens() - before
for i, (d, req, want, tried, why) in enumerate(REQ):
    o = objs.get(f"req{i}", {})
    T.ok(o.get("result") == want and o.get("mx_tried") == tried and (not why or why in (o.get("error") or "")),
         f"require_tls_policy = {req} for {d}: {want}, mx_tried {tried}",
         {k: o.get(k) for k in ("result", "mx_tried", "error", "tls_policy")})
    if want != "success":
        T.ok(o.get("hash") and o["hash"] not in after and o.get("tls_policy") == "fail",
             f"require_tls_policy = {req} for {d}: nothing delivered, tls_policy fail")
        if tried == 0:
            T.ok(o.get("smtp_server") is None, f"require_tls_policy = {req} for {d}: no smtp_server (none tried)")

# --- 4. the MTA-STS cache: the same id, one fetch; a new id, one more -------------------------------
dom = env["MX_D_STS_ROTATE"]
old = SC[dom]["mta_sts"]
cfg = write_config(defaults() + route(dom, name="rotate"))
s = Stream(cfg)
s.wait_ready()
counts, modes = [], []


def cycle():
    f0 = policy_fetches(dom)
    s.signal()
    got = s.wait_lines(len(modes) + 1, 30)
    time.sleep(0.2)   # the policy host logs a request as it ends
    counts.append(policy_fetches(dom) - f0)
    fields = lineproto.parse(s.lines[-1])[2] if got else {}
    modes.append((fields.get("mta_sts"), fields.get("tls_policy")))


try:
    cycle()
    cycle()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(f"version: STSv1\nmode: testing\nmx: mx.{dom}\nmax_age: 600\n")
        polfile = f.name
    p = subprocess.run([env["MX_SET_STS_ID"], dom, "rotate2x", polfile], capture_output=True, text=True, timeout=60)
    os.unlink(polfile)
    T.eq(p.returncode, 0, "set-sts-id: a new id and a testing policy published")
    time.sleep(1.5)   # the TXT record's TTL (1 s) in our own DNS cache
    cycle()
    cycle()
finally:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(f"version: STSv1\nmode: {old['mode']}\n" + "".join(f"mx: {m}\n" for m in old["mx"])
                + f"max_age: {env.get('MX_POLICY_MAX_AGE', '86400')}\n")
        polfile = f.name
    subprocess.run([env["MX_SET_STS_ID"], dom, old["id"], polfile], capture_output=True, text=True, timeout=60)
    os.unlink(polfile)
    s.close_stdin()
    rc = s.wait_exit(10)
    s.finish("the MTA-STS cache, streaming")
T.eq(counts, [1, 0, 1, 0], "policy fetches per cycle: 1 (cold), 0 (the same id), 1 (a new id), 0")
T.eq(modes, [("enforce", "pass")] * 2 + [("testing", "pass")] * 2,
     "the cached policy is used until the id changes, then the new one")
T.eq(rc, 0, "the streaming process exits 0 at end of input")

# --- 5. lookups that never get an answer; a domain that does not exist ------------------------------
# A resolver that swallows every query (UDP read and dropped, TCP accepted
# and never answered): the route's deadline must end the wait.
hole_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
hole_udp.bind(("127.0.0.1", 0))
hole_port = hole_udp.getsockname()[1]
hole_tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
hole_tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
hole_tcp.bind(("127.0.0.1", hole_port))
hole_tcp.listen(16)
cfg = write_config(defaults(resolver=f"127.0.0.1:{hole_port}") + route("plain.test", name="hole", timeout="2s"))
t0 = time.monotonic()
r = once(cfg, "a resolver that never answers")
took = time.monotonic() - t0
tags, fields, _ = by_probe(r.out).get("hole", [({}, {}, 0)])[0]
T.ok(tags.get("result") == "smtp_connect_failed" and "no answer within 2." in fields.get("error", "")
     and fields.get("mx_tried") == 0, "a resolver that never answers: smtp_connect_failed at the route's deadline",
     fields)
T.ok(took < 2 + 1.5, f"--once ends within timeout + 1.5 s ({took:.1f} s)")
# SIGTERM while the lookups hang: libunbound's thread does not hold the exit.
cfg = write_config(defaults(resolver=f"127.0.0.1:{hole_port}") + route("plain.test", name="hole", timeout="30s"))
s = Stream(cfg)
s.wait_ready()
s.signal()
time.sleep(0.5)
t0 = time.monotonic()
s.p.terminate()
rc = s.wait_exit(10)
T.ok(rc == 0 and time.monotonic() - t0 < 1.5, f"SIGTERM while a lookup hangs: exit 0 within 1.5 s "
     f"({time.monotonic() - t0:.2f} s)", (rc, s.err))
s.finish("SIGTERM while a lookup hangs")
hole_udp.close()
hole_tcp.close()
cfg = write_config(defaults() + route(env["MX_BL_DEAD"], name="dead", timeout="3s") + route(env["MX_NXDOMAIN"], name="nx"))
t0 = time.monotonic()
r = once(cfg, "dead and missing domains")
took = time.monotonic() - t0
lines = by_probe(r.out)
tags, fields, _ = lines.get("dead", [({}, {}, 0)])[0]
T.ok(tags.get("result") == "smtp_connect_failed" and re.search(r"no answer within|SERVFAIL", fields.get("error", "")),
     "a domain whose servers never answer: smtp_connect_failed (the resolver's SERVFAIL, or none by the deadline)",
     fields.get("error"))
T.ok(took < 3 + 1.5, f"--once ends within timeout + 1.5 s ({took:.1f} s; the resolver's own give-up can take 17 s)")
tags, fields, _ = lines.get("nx", [({}, {}, 0)])[0]
T.ok(tags.get("result") == "smtp_connect_failed" and "NXDOMAIN" in fields.get("error", "")
     and fields.get("mx_tried") == 0, "a domain that does not exist: smtp_connect_failed, NXDOMAIN", fields)

# --- 6. --check-config ------------------------------------------------------------------------------------
cfg = write_config(defaults() + route("dane-ee.test", name="chk", require_tls_policy="dane"))
r = run(["-c", cfg, "--check-config"], what="--check-config of an mx route")
T.ok(r.rc == 0 and "smtp_via = mx\n" in r.out and "the MX hosts of dane-ee.test, port 25" in r.out
     and "require_tls_policy = dane\n" in r.out and f"resolver = {env['MX_RESOLVER']}\n" in r.out
     and "helo_name = client.mxworld.test\n" in r.out and PW not in r.out,
     "--check-config shows smtp_via, the MX port, require_tls_policy, resolver and helo_name", r.out)

# --- 7. the figures ---------------------------------------------------------------------------------------------
for dom in ("plain.test", "sts-enforce.test", "dane-ee.test", "walk.test"):
    cfg = write_config(defaults() + route(dom, name="fig"))
    s = Stream(cfg, args=("--trace",))
    s.wait_ready()
    rows = []
    for i in range(2):
        q0, f0, e0 = resolver_queries(), policy_fetches(), len(s.err.splitlines())
        s.signal()
        got = s.wait_lines(i + 1, 30)
        time.sleep(0.2)
        s.wait_lines(i + 2, 0.1)   # read what stderr holds by now
        fields = lineproto.parse(s.lines[-1])[2] if got else {}
        lookups = sum(1 for l in s.err.splitlines()[e0:] if l.startswith("D! dns: "))
        rows.append((fields.get("total_time", -1), fields.get("smtp_time", -1), lookups, resolver_queries() - q0,
                     policy_fetches() - f0))
    s.close_stdin()
    T.eq(s.wait_exit(10), 0, f"figures for {dom}: the streaming process exits 0")
    s.finish(f"figures for {dom}")
    for name, (tt, st, lk, rq, pf) in zip(("cold", "warm"), rows):
        print(f"# figures {dom:17} {name}: total_time {tt * 1000:6.1f} ms, smtp_time {st * 1000:6.1f} ms, "
              f"{lk:2} lookups, {rq:3} resolver queries, {pf} policy fetch(es)")
    T.ok(0 < rows[1][2] <= rows[0][2] and rows[0][3] > 0 and rows[1][3] == 0,
         f"{dom}: warm, every lookup answered from our own cache (no resolver query)", rows)
T.done()
