#!/usr/bin/env python3
# needs: mxworld
"""DNSBL lookups through a real DNS world (issue 24, SPEC §13): the fake
mail server delivers the probe with a Received header naming the sending
address (deliver-header), and mail-e2e looks it up through the MX world's
validating Unbound (`resolver`, tests/mailstack/mxworld.sh), with the
world's root as `dnssec_trust_anchor`.  The zones (mxworld.notes.md):
bl-listed (signed, lists 192.0.2.25, 127.0.0.2 and 2001:db8::25), bl-empty
(signed, empty), bl-error (a wildcard 127.255.255.254: Spamhaus' "public
resolver" error code), bl-insecure (an unsigned delegation listing the
same), bl-bogus (its listings' signatures broken), bl-dead (delegated to an
address where nothing answers).

Checked: a listed address counts the zones that list it (insecure answers
too) and names them in dnsbl_zones, in `dnsbl` order; an error code and a
bogus answer do not count and each writes one W! line naming the route and
the zone; an unlisted address: dnsbl_listed=0i, no dnsbl_zones, no warning;
IPv6 (nibbles); dnsbl_hop picks a hop (127.0.0.2, the RFC 5782 test point,
below a public unlisted one); unset, the topmost public address is taken
and a path of private addresses looks nothing up (no dnsbl field); a zone
that never answers: the line still comes within the route's timeout, with a
W! line for it and the other zones counted; without the world's trust
anchor every answer is bogus (validation is the program's own); JSON (null
where absent); the probe is deleted; config errors for the keys."""
import json
import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import T, Stream, stack, fatal, write_config, secret, parse_line, fake_route, check_no_leak, run  # noqa: E402
from fakemail import FakeMail  # noqa: E402

env = stack("MXWORLD_ENV", "MX/DNS world", "MX_")
NEEDED = ("MX_RESOLVER", "MX_TRUST_ANCHOR", "MX_BL_LISTED", "MX_BL_EMPTY", "MX_BL_ERROR", "MX_BL_INSECURE",
          "MX_BL_BOGUS", "MX_BL_DEAD", "MX_DNSBL_LISTED_IP4", "MX_DNSBL_LISTED_IP6", "MX_DNSBL_UNLISTED_IP4",
          "MX_DNSBL_TESTPOINT")
missing = [k for k in NEEDED if k not in env]
if missing:
    fatal(f"the env file lacks {', '.join(missing)}")
PW = secret("dnsbl-Pw-5521")
USERS = f"user alice {PW}\nuser bob {PW}\n"
LISTED, EMPTY, ERROR = env["MX_BL_LISTED"], env["MX_BL_EMPTY"], env["MX_BL_ERROR"]
INSECURE, BOGUS, DEAD = env["MX_BL_INSECURE"], env["MX_BL_BOGUS"], env["MX_BL_DEAD"]
IP4, IP6 = env["MX_DNSBL_LISTED_IP4"], env["MX_DNSBL_LISTED_IP6"]
UNLISTED, TESTPOINT = env["MX_DNSBL_UNLISTED_IP4"], env["MX_DNSBL_TESTPOINT"]
LOOKUP = {"resolver": env["MX_RESOLVER"], "dnssec_trust_anchor": env["MX_TRUST_ANCHOR"]}


def received(ip, by="mx.fake.test", helo="mail.other.test"):
    """A Postfix-shaped hop from the sending address ip (IPv6 with its prefix)."""
    lit = f"IPv6:{ip}" if ":" in ip else ip
    return (f"deliver-header Received: from {helo} (mail.other.test [{lit}])\\r\\n\tby {by} (Postfix) "
            f"with ESMTPS id 4Xyz for <bob@fake.test>; Tue, 01 Dec 2026 21:00:02 +0000\n")


def left(fake):
    with fake.mailbox.lock:
        return [m[0] for m in fake.mailbox.msgs if not m[2] and "X-Mail-E2E-Probe" in m[1]]


def once(script, defaults=LOOKUP, as_json=False, **route):
    """One --once run against a fresh fake; (tags, fields, stderr, elapsed, fake)."""
    fake = FakeMail(USERS + script, tempfile.mkdtemp(prefix="me2e-fake."))
    head = "[defaults]\n" + "".join(f"{k} = {v}\n" for k, v in (defaults or {}).items()) + "\n"
    route.setdefault("timeout", "10s")
    cfg = write_config(head + fake_route(fake, "bl", PW, **route))
    t0 = time.monotonic()
    s = Stream(cfg, ["--once"] + (["--format", "json"] if as_json else []))
    s.wait_exit(40)
    el = time.monotonic() - t0
    if not s.lines:
        T.ok(False, "a line", s.err[-1500:])
        return {}, {}, s.err, el, fake
    check_no_leak("dnsbl", "\n".join(s.lines), s.err)
    if as_json:
        return {}, json.loads(s.lines[0]), s.err, el, fake
    _, tags, fields, _ = parse_line(s.lines[0])
    return tags, fields, s.err, el, fake


def black_hole():
    """A resolver that reads every question and never answers (UDP and TCP):
    the lookups can only end at the route's deadline.  Returns "IP:port"."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("127.0.0.1", port))
    t.listen(16)
    held = []

    def drain():
        while True:
            u.recvfrom(4096)

    def hold():
        while True:
            held.append(t.accept()[0])
    for fn in (drain, hold):
        threading.Thread(target=fn, daemon=True).start()
    return f"127.0.0.1:{port}"


def warned(err, zone):
    return [l for l in err.splitlines() if l.startswith("W! ") and f"dnsbl {zone}:" in l]


ALL = ",".join((LISTED, EMPTY, ERROR, INSECURE, BOGUS))

# 1. Listed: the zones that list it, in dnsbl order; error code and bogus warn.
tags, f, err, el, fake = once(received(IP4), dnsbl=ALL)
T.eq(tags.get("result"), "success", "a listing is reported, not a failure: success")
T.eq((f.get("dnsbl_ip"), f.get("dnsbl_listed"), f.get("dnsbl_zones")), (IP4, 2, f"{LISTED},{INSECURE}"),
     f"{IP4}: dnsbl_listed=2i, dnsbl_zones = the signed and the insecure listing zone, in order")
T.eq(len(warned(err, ERROR)), 1, f"{ERROR} (127.255.255.254): one W! line naming the zone")
T.ok(any("bl:" in l and "127.255.255.254" in l and "not counted" in l for l in warned(err, ERROR)),
     "... naming the route and the code, not counted", err[-1500:])
T.eq(len(warned(err, BOGUS)), 1, f"{BOGUS}: one W! line (DNSSEC validation failed)")
T.ok(any("bogus" in l for l in warned(err, BOGUS)), "... saying bogus", warned(err, BOGUS))
T.ok(not warned(err, LISTED) and not warned(err, EMPTY) and not warned(err, INSECURE),
     "no warning for a listing, an empty zone or an insecure answer", err[-1500:])
time.sleep(0.3)
T.eq(left(fake), [], "the probe is deleted while the lookups run")

# 2. Not listed: nothing counted, no warning (bl-bogus's NXDOMAIN is valid).
tags, f, err, el, fake = once(received(UNLISTED), dnsbl=ALL.replace(f",{ERROR}", ""))
T.eq((f.get("dnsbl_ip"), f.get("dnsbl_listed")), (UNLISTED, 0), f"{UNLISTED}: dnsbl_ip, dnsbl_listed=0i")
T.ok("dnsbl_zones" not in f, "no dnsbl_zones when none lists it", f)
T.ok(not [l for l in err.splitlines() if "dnsbl" in l and l.startswith("W! ")], "no warning", err[-1000:])

# 3. IPv6: the nibble name.
tags, f, err, el, fake = once(received(IP6), dnsbl=f"{EMPTY},{LISTED}")
T.eq((f.get("dnsbl_ip"), f.get("dnsbl_listed"), f.get("dnsbl_zones")), (IP6, 1, LISTED),
     f"IPv6 {IP6}: listed in {LISTED}")

# 4. Which hop: dnsbl_hop, or the topmost public address.
path = received(UNLISTED, by="mx2.fake.test") + received(TESTPOINT, by="mx.other.test")
tags, f, err, el, fake = once(path, dnsbl=LISTED, dnsbl_hop="2")
T.eq((f.get("dnsbl_ip"), f.get("dnsbl_listed"), f.get("dnsbl_zones")), (TESTPOINT, 1, LISTED),
     "dnsbl_hop = 2: the second Received header's 127.0.0.2 (RFC 5782's test point) is listed")
tags, f, err, el, fake = once(path, dnsbl=LISTED)
T.eq((f.get("dnsbl_ip"), f.get("dnsbl_listed")), (UNLISTED, 0), "unset: the topmost public address")
tags, f, err, el, fake = once(received(TESTPOINT) + received("10.1.2.3"), dnsbl=LISTED)
T.ok(tags.get("result") == "success" and not any(k.startswith("dnsbl") for k in f),
     "only private addresses on the path, dnsbl_hop unset: nothing looked up, no dnsbl field", f)
tags, f, err, el, fake = once(received(IP4), dnsbl=LISTED, dnsbl_hop="3")
T.ok(not any(k.startswith("dnsbl") for k in f), "dnsbl_hop past the last Received header: no dnsbl field", f)

# 5. A zone that never answers: the line within the route's timeout.
tags, f, err, el, fake = once(received(IP4), dnsbl=f"{LISTED},{DEAD}", timeout="3s")
T.ok(el < 3.0 + 1.5, f"{DEAD} never answers: the line comes within the route's timeout ({el:.2f}s, timeout 3s)")
T.ok(f.get("total_time", 99) < 3.0, "total_time is the probe's, not the lookups'", f.get("total_time"))
T.eq((f.get("dnsbl_listed"), f.get("dnsbl_zones")), (1, LISTED), "the answered zone still counts")
T.ok(len(warned(err, DEAD)) == 1, f"{DEAD}: one W! line", err[-1500:])

# The same with a resolver that never answers at all: the route's deadline
# ends the lookups, whatever Unbound has learnt about bl-dead meanwhile.
tags, f, err, el, fake = once(received(IP4), defaults={"resolver": black_hole()}, dnsbl=f"{LISTED},{EMPTY}",
                              timeout="2s")
T.ok(el < 2.0 + 1.5 and f.get("total_time", 99) < 2.0,
     f"a resolver that never answers: the line comes at the route's timeout ({el:.2f}s, timeout 2s)")
T.eq((f.get("dnsbl_ip"), f.get("dnsbl_listed")), (IP4, 0), "... dnsbl_ip, nothing listed")
T.ok(len(warned(err, LISTED)) == 1 and len(warned(err, EMPTY)) == 1 and
     all("before the route's timeout (2s)" in l for l in warned(err, LISTED) + warned(err, EMPTY)),
     "... one W! line per zone: no answer before the route's timeout", err[-1500:])
T.eq(tags.get("result"), "success", "... and the probe's result is its own: success")

# 6. Validation is the program's own: with the system's root key instead of
# the world's, every answer of this private root is bogus.
tags, f, err, el, fake = once(received(IP4), defaults={"resolver": env["MX_RESOLVER"]},
                              dnsbl=f"{LISTED},{EMPTY}")
T.eq((f.get("dnsbl_ip"), f.get("dnsbl_listed")), (IP4, 0), "another trust anchor: nothing counts as listed")
T.ok(len(warned(err, LISTED)) == 1 and len(warned(err, EMPTY)) == 1 and "bogus" in warned(err, LISTED)[0],
     "... each zone one W! line: validation failed", err[-1500:])

# 7. JSON: the keys, null where absent.
tags, j, err, el, fake = once(received(IP4), as_json=True, dnsbl=LISTED)
T.eq((j.get("dnsbl_ip"), j.get("dnsbl_listed"), j.get("dnsbl_zones")), (IP4, 1, LISTED),
     "JSON: dnsbl_ip, dnsbl_listed, dnsbl_zones")
tags, j, err, el, fake = once(received(UNLISTED), as_json=True, dnsbl=LISTED)
T.ok(j.get("dnsbl_listed") == 0 and "dnsbl_zones" in j and j["dnsbl_zones"] is None,
     "JSON: nothing listed: dnsbl_zones null", j)
tags, j, err, el, fake = once(received("10.1.2.3"), as_json=True, dnsbl=LISTED)
T.ok(all(k in j and j[k] is None for k in ("dnsbl_ip", "dnsbl_listed", "dnsbl_zones")),
     "JSON: nothing looked up: all three null", j)

# 8. Config errors: exit 78 naming the key.
BASE = ("[r]\nfrom = a@b.test\nto = c@d.test\nsmtp_host = 127.0.0.1\nimap_host = 127.0.0.1\n"
        "imap_username = x\nimap_password = y\n")
for text, key, words in [
        ("[defaults]\nresolver = 127.0.0.1:99999\n", "resolver", "IP:port"),
        ("[defaults]\nresolver = mx.example.test\n", "resolver", "IP:port"),
        ("[defaults]\ndnssec_trust_anchor = /nonexistent/root.key\n", "dnssec_trust_anchor", "cannot read"),
        ("[defaults]\ndnsbl = zen.spamhaus.org, bad zone\n", "dnsbl", "item 2"),
        ("[defaults]\ndnsbl = a.test, A.test\n", "dnsbl", "twice"),
        ("[defaults]\ndnsbl = " + ",".join(f"z{i}.test" for i in range(17)) + "\n", "dnsbl", "at most 16"),
        ("[defaults]\ndnsbl_hop = 0\n", "dnsbl_hop", "1 to 100"),
        ("[defaults]\nmax_spam_score = 5,5\n", "max_spam_score", "a number"),
        ("[defaults]\nspam_filter_from = amavis\n", "spam_filter_from", "spamassassin, rspamd, microsoft or any")]:
    r = run(["-c", write_config(text + BASE), "--check-config"], what=f"config error {key}")
    T.ok(r.rc == 78 and f"] {key}: " in r.err and words in r.err, f"config error: {text.split(chr(10))[1]!r} -> 78, "
         f"naming the key", r.err)
r = run(["-c", write_config(BASE + "resolver = 127.0.0.1\n"), "--check-config"], what="resolver in a route")
T.ok(r.rc == 78 and "allowed only in [defaults]" in r.err, "resolver in a route: 78, only in [defaults]", r.err)
r = run(["-c", write_config("[defaults]\nresolver = [::1]:5353\n" + BASE + f"dnsbl = {LISTED}\ndnsbl_hop = 2\n"),
         "--check-config"], what="--check-config")
T.ok(r.rc == 0 and "resolver = [::1]:5353" in r.out and f"dnsbl = {LISTED}" in r.out and "dnsbl_hop = 2" in r.out,
     "--check-config shows resolver, dnsbl, dnsbl_hop", r.out)
T.done()
