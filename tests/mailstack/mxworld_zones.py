#!/usr/bin/env python3
"""tests/mailstack/mxworld_zones.py - the scenario table of the MX world
(mxworld.sh) and everything rendered from it.  Standard library only.

    mxworld_zones.py sans NET             certificate roles and their names
                                          ("ROLE NAME NAME ...", one a line)
    mxworld_zones.py render DIR NET       zone sources (DIR/dns/src), the
                                          zone list (DIR/dns/zones.txt), the
                                          policy tree (DIR/sts/www), the
                                          scenario file (DIR/scenarios.json)
                                          and the env lines (DIR/env.world);
                                          reads the certificates in DIR/tls
    mxworld_zones.py publish DIR ZONE...  break the RRSIGs DIR/dns/zones.txt
                                          names for ZONE (the bogus zones) in
                                          DIR/dns/signed/ZONE.zone.new, then
                                          rename it to ZONE.zone
    mxworld_zones.py serial FILE          the SOA serial of a zone source + 1,
                                          written back

Every domain is its own zone under a private, signed root "." and a signed
"test." (NS ns.test., served by one NSD).  A scenario's "expect" holds the
values SPEC section 12 gives its fields when the probe sends to probe@DOMAIN
with tls_ca = the world's CA; fields whose value depends on how the program
does it (e.g. mx_tls after a refused handshake) are left out.
"""
import hashlib
import json
import os
import sys

# Last octet of each address in NET (default 127.0.60).  MX roles: what the
# Postfix listener on that address on port 25 does.
ADDR = {
    "nsd": 1, "unbound": 2, "https": 3,
    "good": 10,        # STARTTLS, certificate of the test CA valid for its MX names
    "badname": 11,     # STARTTLS, test-CA certificate for another name
    "notls": 12,       # no STARTTLS offered
    "rcpt4xx": 13,     # STARTTLS (good certificate), 450 to every RCPT
    "dead": 14,        # nothing listens (TCP 25 and UDP/TCP 53 refused)
    "connect4xx": 15,  # 421/4xx as soon as the client connects
    "ta": 16,          # leaf of the DANE-TA CA (not the test CA) valid for its names, chain sent
    "tabadname": 17,   # leaf of the DANE-TA CA for another name, chain sent
    "selfsigned": 18,  # self-signed certificate valid for its names
    "expired": 19,     # test-CA certificate valid for its names, expired
    "imap": 20,        # Dovecot: IMAP 143 (STARTTLS), IMAPS 993
}
MX_ROLES = ("good", "badname", "notls", "rcpt4xx", "connect4xx", "ta", "tabadname",
            "selfsigned", "expired")
# Which certificate each listener presents (notls presents none).
CERT_OF = {"good": "good", "rcpt4xx": "good", "connect4xx": "good", "badname": "badname",
           "ta": "ta", "tabadname": "tabadname", "selfsigned": "selfsigned",
           "expired": "expired"}
WRONG_NAME = "not-the-mx.test"          # the only name in badname / tabadname
WRONG_POLICY_HOST = "mta-sts.elsewhere.test"
LISTED4, LISTED6, UNLISTED4 = "192.0.2.25", "2001:db8::25", "192.0.2.26"
TESTPOINT = "127.0.0.2"                 # RFC 5782 test entry
STS_MAX_AGE = 86400


def mx1(role, label="mx"):
    return [(10, label, role)]


def sts(mode="enforce", mx=None, http="ok", txt=True, sts_id="20261201T000000"):
    """An MTA-STS setup: mx patterns (None: the domain's own MX hosts), how the
    policy host answers (ok, redirect, big, 404, badcert), TXT published?"""
    return {"mode": mode, "mx": mx, "http": http, "txt": txt, "id": sts_id}


def ok(mx, tried=1, tls="verified", mta_sts="none", dane="none", tlsrpt=0, policy="none"):
    return {"result": "success", "delivered": True, "mx": mx, "mx_tried": tried, "mx_tls": tls,
            "mta_sts": mta_sts, "dane": dane, "tlsrpt": tlsrpt, "tls_policy": policy}


def failed(result="tls_policy_failed", tried=None, mta_sts=None, dane=None, policy="fail", **kw):
    e = {"result": result, "delivered": False, "mx": None}
    if tried is not None:
        e["mx_tried"] = tried
    if mta_sts is not None:
        e["mta_sts"] = mta_sts
    if dane is not None:
        e["dane"] = dane
    if policy is not None:
        e["tls_policy"] = policy
    e.update(kw)
    return e


# TLSA data sources: "cert:ROLE" (the DER certificate), "spki:ROLE" (its
# SubjectPublicKeyInfo); roles are certificate roles plus "ca", "taca", "old"
# (a key no server uses: the one before a key roll).
def tlsa(u, s, m, src):
    return (u, s, m, src)


EE = tlsa(3, 1, 1, "spki:good")
STALE = tlsa(3, 1, 1, "spki:old")

# name, zone kind (signed | insecure), MX list [(pref, label, role)] or
# "null" or None (implicit: apex A), apex role, TLSA {label: [..]},
# MTA-STS, TLS-RPT, bogus [(owner label, type)], intended outcome, what it is.
SCENARIOS = [
    # --- no policy ----------------------------------------------------------------
    dict(name="plain.test", mx=mx1("good"), expect=ok("mx.plain.test"),
         what="no policy; STARTTLS with a certificate valid for the MX name"),
    dict(name="notls.test", mx=mx1("notls"), expect=ok("mx.notls.test", tls="none"),
         what="no policy; the MX offers no STARTTLS"),
    dict(name="badcert.test", mx=mx1("badname"), expect=ok("mx.badcert.test", tls="unverified"),
         what="no policy; the MX certificate names another host (opportunistic TLS delivers)"),
    dict(name="walk.test",
         mx=[(10, "mx1", "dead"), (20, "mx2", "connect4xx"), (30, "mx3", "rcpt4xx"), (40, "mx4", "good")],
         expect=ok("mx4.walk.test", tried=4),
         what="MX walk: 10 nothing listens, 20 4xx at connect, 30 450 at RCPT, 40 accepts"),
    dict(name="equal.test", mx=[(10, "mxa", "good"), (10, "mxb", "good")],
         expect=ok("mxa.equal.test|mxb.equal.test"),
         what="two MX hosts of equal preference (tried in random order), both accept"),
    dict(name="implicit.test", mx=None, apex="good", expect=ok("implicit.test"),
         what="no MX record: the domain's own A record (RFC 5321 5.1)"),
    dict(name="nullmx.test", mx="null", expect=failed("smtp_rejected", tried=0, policy=None),
         what="null MX (RFC 7505: MX 0 .): nothing tried, smtp_rejected naming the null MX"),
    dict(name="deadmx.test", mx=mx1("dead"), expect=failed("smtp_connect_failed", tried=1, policy=None),
         what="the only MX host refuses the connection"),
    dict(name="tempfail.test", mx=[(10, "mx1", "dead"), (20, "mx2", "rcpt4xx")],
         expect=failed("smtp_rejected", tried=2, policy=None, smtp_code=450),
         what="every MX host fails: refused, then 450 at RCPT"),
    # --- MTA-STS ------------------------------------------------------------------
    dict(name="sts-enforce.test", mx=mx1("good"), sts=sts(), tlsrpt=True,
         expect=ok("mx.sts-enforce.test", mta_sts="enforce", tlsrpt=1, policy="pass"),
         what="MTA-STS enforce, MX matches the policy, certificate valid; TLS-RPT published"),
    dict(name="sts-mxmismatch.test", mx=mx1("good"), sts=sts(mx=["mail.elsewhere.test"]),
         expect=failed(tried=0, mta_sts="enforce"),
         what="MTA-STS enforce whose mx: pattern matches no MX host: none tried, nothing sent"),
    dict(name="sts-badcert.test", mx=mx1("badname"), sts=sts(),
         expect=failed(tried=1, mta_sts="enforce"),
         what="MTA-STS enforce, the MX certificate names another host"),
    dict(name="sts-expired.test", mx=mx1("expired"), sts=sts(),
         expect=failed(tried=1, mta_sts="enforce"),
         what="MTA-STS enforce, the MX certificate has expired"),
    dict(name="sts-walk.test",
         mx=[(10, "deep.mx", "good"), (20, "bad", "badname"), (30, "good", "good")],
         sts=sts(mx=["*.sts-walk.test"]),
         expect=ok("good.sts-walk.test", tried=2, mta_sts="enforce", policy="pass"),
         what="MTA-STS enforce, mx: *.sts-walk.test: 10 deep.mx (two labels, no match: skipped, "
              "not counted), 20 bad certificate, 30 passes"),
    dict(name="sts-testing.test", mx=mx1("badname"), sts=sts(mode="testing"),
         expect=ok("mx.sts-testing.test", tls="unverified", mta_sts="testing", policy="fail"),
         what="MTA-STS testing, MX certificate invalid: delivered, the failure reported"),
    dict(name="sts-rotate.test", mx=mx1("good"), sts=sts(sts_id="rotate1"), txt_ttl=1,
         expect=ok("mx.sts-rotate.test", mta_sts="enforce", policy="pass"),
         what="MTA-STS enforce whose id and policy change at run time (bin/set-sts-id); "
              "its _mta-sts TXT has TTL 1"),
    dict(name="sts-redirect.test", mx=mx1("good"), sts=sts(http="redirect"),
         expect=ok("mx.sts-redirect.test", mta_sts="invalid"),
         what="the policy URL answers 301 to a valid enforce policy on the same host "
              "(a client must not follow it)"),
    dict(name="sts-big.test", mx=mx1("good"), sts=sts(http="big"),
         expect=ok("mx.sts-big.test", mta_sts="invalid"),
         what="the policy is a valid enforce policy padded past 64 KiB (must be refused)"),
    dict(name="sts-badhttps.test", mx=mx1("good"), sts=sts(http="badcert"),
         expect=ok("mx.sts-badhttps.test", mta_sts="invalid"),
         what="the policy host presents a certificate for another name"),
    dict(name="sts-nopolicy.test", mx=mx1("good"), sts=sts(http="404"),
         expect=ok("mx.sts-nopolicy.test", mta_sts="invalid"),
         what="TXT published, the policy URL answers 404"),
    dict(name="sts-notxt.test", mx=mx1("good"), sts=sts(mx=["mail.elsewhere.test"], txt=False),
         expect=ok("mx.sts-notxt.test"),
         what="a (mismatching) policy file but no _mta-sts TXT: no policy applies"),
    # --- DANE ---------------------------------------------------------------------
    dict(name="dane-ee.test", mx=mx1("good"), tlsa={"mx": [EE]}, tlsrpt=True,
         expect=ok("mx.dane-ee.test", dane="pass", tlsrpt=1, policy="pass"),
         what="DANE-EE 3 1 1 matching the MX key; TLS-RPT published"),
    dict(name="dane-ee-sha512.test", mx=mx1("good"), tlsa={"mx": [tlsa(3, 1, 2, "spki:good")]},
         expect=ok("mx.dane-ee-sha512.test", dane="pass", policy="pass"),
         what="DANE-EE 3 1 2 (SHA-512 of the key)"),
    dict(name="dane-ee-full.test", mx=mx1("good"), tlsa={"mx": [tlsa(3, 0, 0, "cert:good")]},
         expect=ok("mx.dane-ee-full.test", dane="pass", policy="pass"),
         what="DANE-EE 3 0 0 (the whole certificate)"),
    dict(name="dane-ee-anyname.test", mx=mx1("badname"), tlsa={"mx": [tlsa(3, 0, 1, "cert:badname")]},
         expect=ok("mx.dane-ee-anyname.test", dane="pass", policy="pass"),
         what="DANE-EE 3 0 1 on a certificate for another name (DANE-EE checks no name)"),
    dict(name="dane-ee-selfsigned.test", mx=mx1("selfsigned"), tlsa={"mx": [tlsa(3, 1, 1, "spki:selfsigned")]},
         expect=ok("mx.dane-ee-selfsigned.test", dane="pass", policy="pass"),
         what="DANE-EE 3 1 1 on a self-signed certificate (DANE-EE checks no chain)"),
    dict(name="dane-ee-expired.test", mx=mx1("expired"), tlsa={"mx": [tlsa(3, 1, 1, "spki:expired")]},
         expect=ok("mx.dane-ee-expired.test", dane="pass", policy="pass"),
         what="DANE-EE 3 1 1 on an expired certificate (DANE-EE checks no dates)"),
    dict(name="dane-roll.test", mx=mx1("good"), tlsa={"mx": [STALE, EE]},
         expect=ok("mx.dane-roll.test", dane="pass", policy="pass"),
         what="DANE-EE during a key roll: the old key's and the current key's 3 1 1"),
    dict(name="dane-ta.test", mx=mx1("ta"), tlsa={"mx": [tlsa(2, 0, 1, "cert:taca")]},
         expect=ok("mx.dane-ta.test", dane="pass", policy="pass"),
         what="DANE-TA 2 0 1 of a private CA (not the test CA) that issued the MX "
              "certificate, valid for the MX name; the server sends the chain"),
    dict(name="dane-ta-spki.test", mx=mx1("ta"), tlsa={"mx": [tlsa(2, 1, 2, "spki:taca")]},
         expect=ok("mx.dane-ta-spki.test", dane="pass", policy="pass"),
         what="DANE-TA 2 1 2 (SHA-512 of the private CA's key)"),
    dict(name="dane-ta-badname.test", mx=mx1("tabadname"), tlsa={"mx": [tlsa(2, 0, 1, "cert:taca")]},
         expect=failed(tried=1, dane="fail"),
         what="DANE-TA matches the chain, but the leaf names another host"),
    dict(name="dane-stale.test", mx=mx1("good"), tlsa={"mx": [STALE]},
         expect=failed(tried=1, dane="fail"),
         what="DANE-EE TLSA left behind after a key roll (the certificate itself is valid "
              "for the name: PKIX would pass, DANE must fail)"),
    dict(name="dane-pkix.test", mx=mx1("good"),
         tlsa={"mx": [tlsa(0, 0, 1, "cert:ca"), tlsa(1, 1, 1, "spki:good")]},
         expect=ok("mx.dane-pkix.test", dane="unusable"),
         what="only PKIX-TA(0) and PKIX-EE(1) records (both would match): unusable"),
    dict(name="dane-notls.test", mx=mx1("notls"), tlsa={"mx": [EE]},
         expect=failed(tried=1, dane="fail"),
         what="DANE TLSA published, the MX offers no STARTTLS"),
    dict(name="dane-walk.test", mx=[(10, "mx1", "good"), (20, "mx2", "good")],
         tlsa={"mx1": [STALE], "mx2": [EE]},
         expect=ok("mx2.dane-walk.test", tried=2, dane="pass", policy="pass"),
         what="DANE per host: 10 has a stale TLSA (fails), 20 matches"),
    dict(name="dane-sts.test", mx=mx1("good"), tlsa={"mx": [EE]}, sts=sts(mx=["mail.elsewhere.test"]),
         expect=ok("mx.dane-sts.test", mta_sts="enforce", dane="pass", policy="pass"),
         what="DANE passes; MTA-STS enforce would match no host: DANE takes precedence"),
    # --- DNSSEC outcomes ----------------------------------------------------------
    dict(name="insecure.test", kind="insecure", mx=mx1("good"), tlsa={"mx": [STALE]},
         expect=ok("mx.insecure.test"),
         what="unsigned delegation (no DS) with a stale TLSA that must not be used"),
    dict(name="bogus-mx.test", mx=mx1("good"), tlsa={"mx": [EE]}, bogus=[("@", "MX")],
         expect=failed(tried=0, dane="bogus"),
         what="the MX RRset's signature is broken (SERVFAIL from a validator)"),
    dict(name="bogus-tlsa.test", mx=mx1("good"), tlsa={"mx": [EE]}, bogus=[("_25._tcp.mx", "TLSA")],
         expect=failed(dane="bogus"),
         what="the TLSA RRset's signature is broken"),
    dict(name="bogus-a.test", mx=mx1("good"), bogus=[("mx", "A")],
         expect=failed(tried=0, dane="bogus"),
         what="the MX host's A RRset's signature is broken"),
    dict(name="bogus-sts.test", mx=mx1("good"), sts=sts(), bogus=[("_mta-sts", "TXT")],
         expect=ok("mx.bogus-sts.test", mta_sts="invalid"),
         what="the _mta-sts TXT signature is broken (the policy file itself is fine)"),
]

# DNSBL zones (SPEC section 13): kind, listed?, error wildcard?, bogus?
# "expect": what SPEC section 13 makes of a lookup of a listed address there
# (listed; not: NXDOMAIN/NODATA or an error code; failed: a W! line).
DNSBLS = [
    dict(name="bl-listed.test", kind="signed", listed=True, expect="listed",
         what=f"lists {LISTED4}, {LISTED6} and {TESTPOINT} (A 127.0.0.2/127.0.0.3, TXT)"),
    dict(name="bl-empty.test", kind="signed", expect="not", what="lists nothing (NXDOMAIN, validated)"),
    dict(name="bl-error.test", kind="signed", error=True, expect="not",
         what="answers 127.255.255.254 (an error code, not a listing) for every name"),
    dict(name="bl-insecure.test", kind="insecure", listed=True, expect="listed",
         what="unsigned delegation listing the same addresses (insecure answers count)"),
    dict(name="bl-bogus.test", kind="signed", listed=True, bogus=True, expect="failed",
         what="the listing A/TXT records have broken signatures (a failed lookup; "
              "unlisted addresses get a valid NXDOMAIN)"),
    dict(name="bl-dead.test", kind="dead", expect="failed",
         what="delegated to an address where nothing listens (the resolver gives up "
              "only after its own timeouts: a slow failure)"),
]

# Infrastructure names in the test. zone.
INFRA = {"ns.test": "nsd", "imap.mxworld.test": "imap", "resolver.mxworld.test": "unbound"}


def addr(net, role):
    return f"{net}.{ADDR[role]}"


def mx_hosts(sc):
    """[(pref, fqdn, role)] of a scenario; implicit: the apex itself."""
    if sc["mx"] == "null":
        return []
    if sc["mx"] is None:
        return [(0, sc["name"], sc["apex"])]
    return [(p, f"{label}.{sc['name']}", role) for p, label, role in sc["mx"]]


def cert_names(net):
    """Certificate role -> names it must be valid for ("IP:" an address)."""
    names = {r: [] for r in ("good", "ta", "selfsigned", "expired")}
    for sc in SCENARIOS:
        for _, host, role in mx_hosts(sc):
            c = CERT_OF.get(role)
            if c in names and host not in names[c]:
                names[c].append(host)
    names["badname"] = [WRONG_NAME]
    names["tabadname"] = [WRONG_NAME]
    names["https"] = [f"mta-sts.{sc['name']}" for sc in SCENARIOS
                      if sc.get("sts") and sc["sts"]["http"] != "badcert"]
    names["httpswrong"] = [WRONG_POLICY_HOST]
    names["imap"] = ["imap.mxworld.test", "IP:" + addr(net, "imap")]
    return names


def reverse4(ip):
    return ".".join(reversed(ip.split(".")))


def reverse6(ip):
    import ipaddress
    return ".".join(reversed(ipaddress.IPv6Address(ip).exploded.replace(":", "")))


# --- rendering -------------------------------------------------------------------

def soa(origin):
    return (f"$ORIGIN {origin}\n$TTL 60\n"
            f"@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 60\n@ IN NS ns.test.\n")


def _tlv(b, i):
    """(start of the element, start of its content, end) of the DER TLV at i."""
    n = b[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[j:j + k], "big")
        j += k
    return i, j, j + n


def cert_der(path):
    import base64
    with open(path) as f:
        pem = f.read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()))


def spki_der(cert):
    """The SubjectPublicKeyInfo of a DER certificate: the 6th element of
    tbsCertificate after the optional [0] version (RFC 5280 4.1)."""
    _, c, _ = _tlv(cert, 0)          # Certificate
    _, i, end = _tlv(cert, c)        # tbsCertificate
    elems = []
    while i < end:
        s, _, e = _tlv(cert, i)
        elems.append((s, e))
        i = e
    if cert[elems[0][0]] == 0xA0:
        elems = elems[1:]
    s, e = elems[5]
    return cert[s:e]


def tlsa_data(tls_dir, src, m):
    kind, role = src.split(":")
    if role == "old":     # a key only: its SubjectPublicKeyInfo, made by openssl pkey
        with open(os.path.join(tls_dir, "old.spki.der"), "rb") as f:
            data = f.read()
    else:
        data = cert_der(os.path.join(tls_dir, f"{role}.pem"))
        if kind == "spki":
            data = spki_der(data)
    if m == 1:
        return hashlib.sha256(data).hexdigest()
    if m == 2:
        return hashlib.sha512(data).hexdigest()
    return data.hex()


def policy_text(sc):
    pats = sc["sts"]["mx"] or [h for _, h, _ in mx_hosts(sc)]
    return ("version: STSv1\n" f"mode: {sc['sts']['mode']}\n"
            + "".join(f"mx: {p}\n" for p in pats) + f"max_age: {STS_MAX_AGE}\n")


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def render_scenario(d, net, sc):
    name, z = sc["name"], [soa(sc["name"] + ".")]
    if sc["mx"] == "null":
        z.append("@ IN MX 0 .\n")
    elif sc["mx"] is None:
        z.append(f"@ IN A {addr(net, sc['apex'])}\n")
    else:
        seen = set()
        for pref, label, role in sc["mx"]:
            z.append(f"@ IN MX {pref} {label}.{name}.\n")
            if label not in seen:
                seen.add(label)
                z.append(f"{label} IN A {addr(net, role)}\n")
    for label, recs in sc.get("tlsa", {}).items():
        for u, s, m, src in recs:
            z.append(f"_25._tcp.{label} IN TLSA {u} {s} {m} {tlsa_data(d + '/tls', src, m)}\n")
    if sc.get("tlsrpt"):
        z.append(f'_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@{name}"\n')
    st = sc.get("sts")
    if st:
        z.append(f"mta-sts IN A {addr(net, 'https')}\n")
        if st["txt"]:
            z.append(f'_mta-sts {sc.get("txt_ttl", 60)} IN TXT "v=STSv1; id={st["id"]}"\n')
        render_policy(d, sc)
    write(f"{d}/dns/src/{name}.zone", "".join(z))


def render_policy(d, sc):
    host, st = f"mta-sts.{sc['name']}", sc["sts"]
    www = f"{d}/sts/www/{host}/.well-known"
    text = policy_text(sc)
    if st["http"] == "404":
        os.makedirs(www, exist_ok=True)
        return
    if st["http"] == "redirect":
        write(f"{www}/mta-sts.txt.redirect", f"https://{host}/policy-after-redirect.txt\n")
        write(f"{d}/sts/www/{host}/policy-after-redirect.txt", text)
        return
    if st["http"] == "big":
        pad, i = [], 0
        while sum(map(len, pad)) <= 70 * 1024:
            pad.append(f"mx: pad{i:05d}.{sc['name']}\n")
            i += 1
        text += "".join(pad)
    if st["http"] == "badcert":
        write(f"{d}/sts/sni/{host}", "httpswrong\n")
    write(f"{www}/mta-sts.txt", text)


def render_dnsbl(d, net, bl):
    z = [soa(bl["name"] + ".")]
    if bl.get("listed"):
        for ip, code in ((LISTED4, "127.0.0.2"), (TESTPOINT, "127.0.0.2")):
            z.append(f"{reverse4(ip)} IN A {code}\n"
                     f'{reverse4(ip)} IN TXT "listed in {bl["name"]}: test entry for {ip}"\n')
        z.append(f"{reverse6(LISTED6)} IN A 127.0.0.3\n"
                 f'{reverse6(LISTED6)} IN TXT "listed in {bl["name"]}: test entry for {LISTED6}"\n')
    if bl.get("error"):
        z.append("* IN A 127.255.255.254\n"
                 '* IN TXT "error: this test zone answers an error code for every query"\n')
    write(f"{d}/dns/src/{bl['name']}.zone", "".join(z))


def render_parents(d, net, zones):
    """test. (delegations; DS records are appended by mxworld.sh) and the root."""
    z = [soa("test.")]
    for host, role in INFRA.items():
        z.append(f"{host}. IN A {addr(net, role)}\n")
    for name, kind in zones:
        if kind == "dead":
            z.append(f"{name}. IN NS ns.{name}.\nns.{name}. IN A {addr(net, 'dead')}\n")
        else:
            z.append(f"{name}. IN NS ns.test.\n")
    write(f"{d}/dns/src/test.zone", "".join(z))
    write(f"{d}/dns/src/root.zone", soa(".") + f"test. IN NS ns.test.\nns.test. IN A {addr(net, 'nsd')}\n")


def dane_verifies(sc, label):
    """Does the TLSA set at _25._tcp.<label> authenticate the certificate
    its host presents (DANE-EE by the match alone, DANE-TA by the match and
    a leaf valid for the name)?  PKIX usages never count (unusable)."""
    role = next(r for _, lbl, r in sc["mx"] if lbl == label)
    cert = CERT_OF.get(role) if role != "notls" else None
    for u, _, _, src in sc["tlsa"][label]:
        srole = src.split(":")[1]
        if cert and u == 3 and srole == cert:
            return True
        if cert == "ta" and u == 2 and srole == "taca":
            return True
    return False


def scenario_json(net):
    out = []
    for sc in SCENARIOS:
        e = dict(sc["expect"])
        if isinstance(e.get("mx"), str) and "|" in e["mx"]:
            e["mx"] = e["mx"].split("|")
        st = sc.get("sts")
        out.append({
            "domain": sc["name"], "what": sc["what"], "signed": sc.get("kind", "signed") == "signed",
            "bogus": [f"{(lbl + '.') if lbl != '@' else ''}{sc['name']} {t}" for lbl, t in sc.get("bogus", [])],
            "mx": [{"pref": p, "host": h, "addr": addr(net, r), "role": r} for p, h, r in mx_hosts(sc)],
            "implicit_mx": sc["mx"] is None, "null_mx": sc["mx"] == "null",
            "tlsa": {f"_25._tcp.{lbl}.{sc['name']}": [f"{u} {s} {m} ({src})" for u, s, m, src in recs]
                     for lbl, recs in sc.get("tlsa", {}).items()},
            "tlsa_verifies": {f"_25._tcp.{lbl}.{sc['name']}": dane_verifies(sc, lbl)
                              for lbl in sc.get("tlsa", {})},
            "mta_sts": None if not st else {"mode": st["mode"], "mx": st["mx"] or
                                            [h for _, h, _ in mx_hosts(sc)], "http": st["http"],
                                            "txt": st["txt"], "id": st["id"]},
            "tlsrpt": bool(sc.get("tlsrpt")), "expect": e})
    return out


def env_lines(net):
    lines = []
    for sc in SCENARIOS:
        key = sc["name"][:-len(".test")].upper().replace("-", "_")
        lines.append(f"MX_D_{key}={sc['name']}")
    for bl in DNSBLS:
        key = bl["name"][:-len(".test")].upper().replace("-", "_")
        lines.append(f"MX_{key}={bl['name']}")
    for role in MX_ROLES + ("dead",):
        lines.append(f"MX_HOST_{role.upper()}={addr(net, role)}")
    return "".join(line + "\n" for line in lines)


def render(d, net):
    for sc in SCENARIOS:
        render_scenario(d, net, sc)
    for bl in DNSBLS:
        if bl["kind"] != "dead":
            render_dnsbl(d, net, bl)
    zones = [(sc["name"], sc.get("kind", "signed")) for sc in SCENARIOS] + \
            [(bl["name"], bl["kind"]) for bl in DNSBLS]
    render_parents(d, net, zones)
    bogus = {sc["name"]: [f"{(lbl + '.') if lbl != '@' else ''}{sc['name']}. {t}" for lbl, t in sc["bogus"]]
             for sc in SCENARIOS if sc.get("bogus")}
    for bl in DNSBLS:
        if bl.get("bogus"):
            bogus[bl["name"]] = [f"{n}.{bl['name']}. {t}" for n in
                                 (reverse4(LISTED4), reverse4(TESTPOINT), reverse6(LISTED6)) for t in ("A", "TXT")]
    with open(f"{d}/dns/zones.txt", "w") as f:
        # zone kind [owner type]... ; parents last, in signing order
        for name, kind in zones:
            if kind != "dead":
                f.write(" ".join([name, kind] + [x.replace(" ", "/") for x in bogus.get(name, [])]) + "\n")
    with open(f"{d}/scenarios.json", "w") as f:
        json.dump({"net": net, "scenarios": scenario_json(net), "dnsbl": [
            {"zone": bl["name"], "what": bl["what"], "kind": bl["kind"], "expect": bl["expect"]}
            for bl in DNSBLS],
            "dnsbl_listed": {LISTED4: reverse4(LISTED4), LISTED6: reverse6(LISTED6),
                             TESTPOINT: reverse4(TESTPOINT)},
            "dnsbl_unlisted": {UNLISTED4: reverse4(UNLISTED4)}}, f, indent=1)
    write(f"{d}/env.world", env_lines(net) + "".join([
        f"MX_DNSBL_LISTED_IP4={LISTED4}\n", f"MX_DNSBL_LISTED_IP6={LISTED6}\n",
        f"MX_DNSBL_UNLISTED_IP4={UNLISTED4}\n", f"MX_DNSBL_TESTPOINT={TESTPOINT}\n",
        f"MX_POLICY_MAX_AGE={STS_MAX_AGE}\n", f"MX_WRONG_NAME={WRONG_NAME}\n"]))


def publish(d, zones):
    """Break the signatures zones.txt lists for each of zones (the bogus
    ones), then move DIR/dns/signed/ZONE.zone.new to ZONE.zone."""
    with open(f"{d}/dns/zones.txt") as f:
        spec = {p[0]: p[2:] for p in (line.split() for line in f) if len(p) > 2}
    for z in zones:
        new = f"{d}/dns/signed/{z}.zone.new"
        if spec.get(z):
            corrupt(new, spec[z])
        os.replace(new, new[:-len(".new")])


def corrupt(path, pairs):
    """Flip one base64 character in the signature of each OWNER/TYPE RRSIG."""
    want = {tuple(p.split("/")) for p in pairs}
    out, hit = [], set()
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) > 5 and p[3] == "RRSIG" and (p[0], p[4]) in want:
                sig = p[-1]
                i = len(sig) // 2
                p[-1] = sig[:i] + ("A" if sig[i] != "A" else "B") + sig[i + 1:]
                hit.add((p[0], p[4]))
                line = "\t".join(p) + "\n"
            out.append(line)
    if hit != want:
        sys.exit(f"corrupt: no RRSIG for {sorted(want - hit)} in {path}")
    with open(path, "w") as f:
        f.writelines(out)


def bump_serial(path):
    with open(path) as f:
        lines = f.readlines()
    for i, line in enumerate(lines):
        p = line.split()
        if len(p) >= 8 and p[2] == "SOA":
            p[5] = str(int(p[5]) + 1)
            lines[i] = " ".join(p) + "\n"
            break
    with open(path, "w") as f:
        f.writelines(lines)


def main(argv):
    if len(argv) == 3 and argv[1] == "sans":
        for role, names in cert_names(argv[2]).items():
            print(role, " ".join(names))
    elif len(argv) == 4 and argv[1] == "render":
        render(argv[2], argv[3])
    elif len(argv) >= 3 and argv[1] == "publish":
        publish(argv[2], argv[3:])
    elif len(argv) == 3 and argv[1] == "serial":
        bump_serial(argv[2])
    else:
        sys.exit("usage: mxworld_zones.py sans NET | render DIR NET | publish DIR ZONE... | serial FILE")


if __name__ == "__main__":
    main(sys.argv)
