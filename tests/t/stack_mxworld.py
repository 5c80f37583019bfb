#!/usr/bin/env python3
# needs: mxworld
# variants: release
"""The MX world itself (tests/mailstack/mxworld.sh), checked the way the
program will use it, with dig, openssl s_client and Python's ssl / smtplib
/ imaplib, not with mail-e2e: every scenario's MX/A/TXT/TLSA answers from
the validating resolver (AD where signed, SERVFAIL where bogus, no AD where
insecure), every TLSA set against the certificate the MX host really
presents (OpenSSL's DANE verifier), the MTA-STS policy files over HTTPS with
the test CA (redirect, oversized, wrong certificate, 404), each MX host's
banner, STARTTLS and certificate, the DNSBL zones, a run-time policy id
change (bin/set-sts-id), and one message delivered over SMTP to an MX host
and read back over IMAP.  Leaves the mailbox and the policies as it found
them."""
import email
import email.policy
import email.utils
import http.client
import imaplib
import json
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, stack, password, fatal  # noqa: E402

env = stack("MXWORLD_ENV", "MX world", "MX_")
for k in ("MX_RESOLVER_HOST", "MX_RESOLVER_PORT", "MX_TRUST_ANCHOR", "MX_CA", "MX_HTTPS_HOST",
          "MX_HTTPS_PORT", "MX_HTTPS_LOG", "MX_IMAP_HOST", "MX_IMAP_PORT", "MX_IMAPS_PORT",
          "MX_USER", "MX_SCENARIOS", "MX_SET_STS_ID", "MX_SMTP_PORT", "MX_FROM"):
    if k not in env:
        fatal(f"the env file lacks {k}")
with open(env["MX_SCENARIOS"]) as f:
    WORLD = json.load(f)
SC = {s["domain"]: s for s in WORLD["scenarios"]}
CA = env["MX_CA"]
PORT = int(env["MX_SMTP_PORT"])
RUN = os.urandom(4).hex()


# --- DNS through the world's resolver, with dig ----------------------------------

def dig(name, qtype, timeout=3):
    """(status, ad, [rdata]) from the resolver; status 'TIMEOUT' when silent."""
    p = subprocess.run(["dig", f"+time={timeout}", "+tries=1", "+dnssec", "+noall", "+comments",
                        "+answer", "-p", env["MX_RESOLVER_PORT"], f"@{env['MX_RESOLVER_HOST']}",
                        name, qtype], capture_output=True, text=True, timeout=timeout + 10)
    status, ad, rdata = "TIMEOUT", False, []
    for line in p.stdout.splitlines():
        if "status:" in line:
            status = line.split("status:")[1].split(",")[0].strip()
        elif line.startswith(";; flags:"):
            ad = " ad" in line.split(";")[2]
        elif line and not line.startswith(";"):
            f = line.split()
            if len(f) > 4 and f[3] == qtype:
                rdata.append(" ".join(f[4:]))
    return status, ad, rdata


def tlsa_rr(rd):
    """'3 1 1 AB CD' (dig splits long hex) -> '3 1 1 abcd'."""
    f = rd.split()
    return " ".join(f[:3]) + " " + "".join(f[3:]).lower()


def check_dns(sc):
    """Every RRset of a scenario as intended; returns the list of problems."""
    d, bad = sc["domain"], []
    signed, bogus = sc["signed"], {b for b in sc["bogus"]}

    def want(name, qtype, expect=None, nodata=False):
        st, ad, rd = dig(name, qtype)
        if f"{name} {qtype}" in bogus:
            if st != "SERVFAIL":
                bad.append(f"{name} {qtype}: {st}, want SERVFAIL (bogus)")
            return rd
        if st != "NOERROR" and not (nodata and st == "NXDOMAIN"):
            bad.append(f"{name} {qtype}: {st}")
        if ad != signed:
            bad.append(f"{name} {qtype}: AD={ad}, want {signed}")
        if expect is not None and sorted(rd) != sorted(expect):
            bad.append(f"{name} {qtype}: {rd}, want {expect}")
        if nodata and rd:
            bad.append(f"{name} {qtype}: {rd}, want none")
        return rd

    if sc["null_mx"]:
        want(d, "MX", ["0 ."])
    elif sc["implicit_mx"]:
        want(d, "MX", nodata=True)
        want(d, "A", [sc["mx"][0]["addr"]])
    else:
        want(d, "MX", [f"{m['pref']} {m['host']}." for m in sc["mx"]])
        for m in {m["host"]: m for m in sc["mx"]}.values():
            want(m["host"], "A", [m["addr"]])
    for owner, recs in sc["tlsa"].items():
        rd = want(owner, "TLSA")
        if f"{owner} TLSA" not in bogus and \
                sorted(r.split()[:3] for r in rd) != sorted(r.split()[:3] for r in recs):
            bad.append(f"{owner} TLSA: {rd}, want {recs}")
    sts = sc["mta_sts"]
    if sts and sts["txt"]:
        want(f"_mta-sts.{d}", "TXT", [f'"v=STSv1; id={sts["id"]}"'])
    else:
        want(f"_mta-sts.{d}", "TXT", nodata=True)
    if sts:
        want(f"mta-sts.{d}", "A", [env["MX_HTTPS_HOST"]])
    if sc["tlsrpt"]:
        want(f"_smtp._tls.{d}", "TXT", [f'"v=TLSRPTv1; rua=mailto:tlsrpt@{d}"'])
    return bad


# --- TLS on the MX hosts ----------------------------------------------------------

def smtp_greeting(addr, timeout=5):
    """(banner code, STARTTLS offered?) or (None, error) when refused."""
    try:
        s = smtplib.SMTP(addr, PORT, timeout=timeout, local_hostname="client.mxworld.test")
    except smtplib.SMTPConnectError as e:
        return e.smtp_code, None
    except OSError as e:
        return None, type(e).__name__
    try:
        s.ehlo()
        return 220, s.has_extn("starttls")
    finally:
        s.close()


def tls_verify(addr, name, cafile=CA):
    """'ok' or the reason Python's ssl refuses the MX certificate for name."""
    ctx = ssl.create_default_context(cafile=cafile)
    s = smtplib.SMTP(addr, PORT, timeout=10, local_hostname="client.mxworld.test")
    s._host = name   # smtplib takes the name to verify (and SNI) from here
    try:
        s.starttls(context=ctx)
        return "ok"
    except ssl.SSLCertVerificationError as e:
        return e.verify_message
    finally:
        s.close()


def dane_verify(addr, host, rrs, cafile=None):
    """OpenSSL's DANE verdict for one MX host and TLSA set: 'ok' or the error
    (DANE-EE without name checks, RFC 7672 3.1.1; PKIX usages need cafile)."""
    args = ["openssl", "s_client", "-brief", "-starttls", "smtp", "-connect", f"{addr}:{PORT}",
            "-dane_tlsa_domain", host, "-dane_ee_no_namechecks"] + (["-CAfile", cafile] if cafile else [])
    for rr in rrs:
        args += ["-dane_tlsa_rrdata", rr]
    p = subprocess.run(args, input="", capture_output=True, text=True, timeout=20)
    out = p.stdout + p.stderr
    if "Verification: OK" in out and "matched" in out:
        return "ok"
    for line in out.splitlines():
        if line.startswith("Verification error:"):
            return line.split(":", 1)[1].strip()
    return "no TLS" if "Didn't find STARTTLS" in out else out.strip()[-200:]


# --- HTTPS policy fetch -----------------------------------------------------------

def fetch_policy(domain, path="/.well-known/mta-sts.txt"):
    host = f"mta-sts.{domain}"
    ctx = ssl.create_default_context(cafile=CA)
    sock = socket.create_connection((env["MX_HTTPS_HOST"], int(env["MX_HTTPS_PORT"])), timeout=10)
    try:
        tls = ctx.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as e:
        sock.close()
        return "cert", e.verify_message, b""
    c = http.client.HTTPConnection(host, timeout=10)
    c.sock = tls
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.getheader("Location"), r.read()
    finally:
        c.close()


def log_lines():
    try:
        with open(env["MX_HTTPS_LOG"]) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


# === the checks ===================================================================

T.ok(os.path.getsize(env["MX_TRUST_ANCHOR"]) > 0 and " DS " in open(env["MX_TRUST_ANCHOR"]).read()
     .replace("\t", " "), "the trust anchor file holds the root's DS")

# 1. DNS of every scenario, through the validating resolver.
for d, sc in SC.items():
    bad = check_dns(sc)
    T.ok(not bad, f"DNS {d}: {'signed' if sc['signed'] else 'insecure'}"
         f"{', bogus ' + ','.join(sc['bogus']) if sc['bogus'] else ''} as intended", "\n".join(bad))
st, ad, rd = dig(env.get("MX_NXDOMAIN", "nosuch.test"), "MX")
T.ok(st == "NXDOMAIN" and ad, "an unknown .test domain: NXDOMAIN, validated", (st, ad))
st, ad, rd = dig("example.com", "A")
T.ok(st == "NXDOMAIN" and ad, "a name outside the world: NXDOMAIN from the private root "
     "(the resolver knows no other server)", (st, ad, rd))

# 2. Every TLSA set against the certificate its MX host presents.
for d, sc in SC.items():
    if not sc["tlsa"]:
        continue
    expect = sc["expect"]
    for m in sc["mx"]:
        owner = f"_25._tcp.{m['host']}"
        if owner not in sc["tlsa"] or f"{owner} TLSA" in sc["bogus"]:
            continue
        rrs = [tlsa_rr(r) for r in dig(owner, "TLSA")[2]]
        usages = {r.split()[0] for r in rrs}
        if usages <= {"0", "1"}:
            verdict = dane_verify(m["addr"], m["host"], rrs, CA)
            T.ok(expect.get("dane") == "unusable" and verdict == "ok",
                 f"DANE {m['host']}: only PKIX usages ({','.join(sorted(usages))}), which would "
                 "match: unusable", (verdict, expect.get("dane")))
            continue
        verdict = dane_verify(m["addr"], m["host"], rrs)
        want = "ok" if sc["tlsa_verifies"][owner] else "fail"
        got = "ok" if verdict == "ok" else "fail"
        T.ok(got == want, f"DANE {m['host']} ({m['role']}) with {len(rrs)} TLSA: "
             f"{'matches' if want == 'ok' else 'does not verify'}", verdict)

# 3. The MX hosts: banner, STARTTLS, certificate.
ROLE_TLS = {   # role -> (banner, STARTTLS offered, Python ssl verdict for its MX name)
    "good": (220, True, "ok"), "badname": (220, True, "Hostname mismatch"),
    "notls": (220, False, None), "rcpt4xx": (220, True, "ok"), "connect4xx": (421, None, None),
    "ta": (220, True, "self-signed certificate in certificate chain"),   # the DANE-TA root is sent
    "tabadname": (220, True, "self-signed certificate in certificate chain"),
    "selfsigned": (220, True, "self-signed certificate"), "expired": (220, True, "certificate has expired"),
}
for role, (banner, starttls, verdict) in ROLE_TLS.items():
    addr = env[f"MX_HOST_{role.upper()}"]
    name = next((m["host"] for s in SC.values() for m in s["mx"] if m["role"] == role), None)
    code, tls = smtp_greeting(addr)
    T.ok(code == banner and tls == starttls, f"MX host {role} ({addr}): banner {banner}, "
         f"STARTTLS {'offered' if starttls else 'not offered' if starttls is False else '-'}", (code, tls))
    if verdict:
        got = tls_verify(addr, name)
        T.ok(verdict in got, f"MX host {role}: certificate for {name}: {verdict}", got)
s = smtplib.SMTP(env["MX_HOST_RCPT4XX"], PORT, timeout=10, local_hostname="client.mxworld.test")
try:
    s.ehlo()
    s.mail(env["MX_FROM"])
    code, text = s.rcpt(f"{env['MX_USER']}@{env['MX_D_WALK']}")
    T.ok(code == 450 and text.startswith(b"4.3.2"), "MX host rcpt4xx: 450 4.3.2 to RCPT", (code, text))
finally:
    s.close()
code, err = smtp_greeting(env["MX_HOST_DEAD"])
T.ok(code is None and err == "ConnectionRefusedError", "MX host dead: connection refused", (code, err))

# 4. MTA-STS policy files over HTTPS with the test CA.
for d, sc in SC.items():
    sts = sc["mta_sts"]
    if not sts:
        continue
    before = len(log_lines())
    status, loc, body = fetch_policy(d)
    text = body.decode(errors="replace")
    head = f"version: STSv1\nmode: {sts['mode']}\n" + "".join(f"mx: {p}\n" for p in sts["mx"])
    if sts["http"] == "ok":
        T.ok(status == 200 and text.startswith(head) and len(body) < 65536,
             f"policy {d}: 200, mode {sts['mode']}, mx {','.join(sts['mx'])}", (status, text))
    elif sts["http"] == "big":
        T.ok(status == 200 and text.startswith(head) and len(body) > 65536,
             f"policy {d}: 200 with a valid policy of {len(body)} bytes (> 64 KiB)", (status, len(body)))
    elif sts["http"] == "redirect":
        s2, _, b2 = fetch_policy(d, "/" + loc.split("/", 3)[3]) if loc else (None, None, b"")
        T.ok(status == 301 and loc == f"https://mta-sts.{d}/policy-after-redirect.txt" and s2 == 200
             and b2.decode().startswith(head), f"policy {d}: 301 to a valid policy on the same host", (status, loc, s2))
    elif sts["http"] == "404":
        T.ok(status == 404, f"policy {d}: 404", status)
    elif sts["http"] == "badcert":
        T.ok(status == "cert" and "mismatch" in loc.lower(),
             f"policy {d}: the certificate is refused (another name)", (status, loc))
    want_lines, end = (2 if sts["http"] == "redirect" else 1), time.monotonic() + 3
    while len(log_lines()) - before < want_lines and time.monotonic() < end:
        time.sleep(0.02)   # a refused handshake is logged when the server notices
    after = log_lines()[before:]
    T.ok(len(after) == want_lines, f"policy {d}: logged in MX_HTTPS_LOG", after)

# 5. The DNSBL zones.
L4, L6, U4, TP = (env["MX_DNSBL_LISTED_IP4"], env["MX_DNSBL_LISTED_IP6"], env["MX_DNSBL_UNLISTED_IP4"],
                  env["MX_DNSBL_TESTPOINT"])
REV = WORLD["dnsbl_listed"]
RU4 = WORLD["dnsbl_unlisted"][U4]
BL = {   # zone -> [(query, want status, want AD, want A)]
    env["MX_BL_LISTED"]: [(REV[L4], "NOERROR", True, ["127.0.0.2"]), (REV[L6], "NOERROR", True, ["127.0.0.3"]),
                          (REV[TP], "NOERROR", True, ["127.0.0.2"]), (RU4, "NXDOMAIN", True, [])],
    env["MX_BL_EMPTY"]: [(REV[L4], "NXDOMAIN", True, []), (REV[L6], "NXDOMAIN", True, [])],
    env["MX_BL_ERROR"]: [(REV[L4], "NOERROR", True, ["127.255.255.254"]),
                         (RU4, "NOERROR", True, ["127.255.255.254"])],
    env["MX_BL_INSECURE"]: [(REV[L4], "NOERROR", False, ["127.0.0.2"]), (RU4, "NXDOMAIN", False, [])],
    env["MX_BL_BOGUS"]: [(REV[L4], "SERVFAIL", False, []), (REV[L6], "SERVFAIL", False, []),
                         (RU4, "NXDOMAIN", True, [])],
}
for zone, cases in BL.items():
    for q, wst, wad, wa in cases:
        st, ad, rd = dig(f"{q}.{zone}", "A")
        T.ok((st, ad, rd) == (wst, wad, wa), f"DNSBL {zone}: {q} -> {wst}{' AD' if wad else ''} {wa}",
             (st, ad, rd))
st, ad, rd = dig(f"{REV[L4]}.{env['MX_BL_DEAD']}", "A", timeout=2)
T.ok(st in ("TIMEOUT", "SERVFAIL") and not rd, f"DNSBL {env['MX_BL_DEAD']}: no answer (server down)", st)

# 6. A policy change at run time.
dom = env["MX_D_STS_ROTATE"]
old = SC[dom]["mta_sts"]
new_id = "rot" + RUN
with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    f.write(f"version: STSv1\nmode: testing\nmx: mx.{dom}\nmax_age: 600\n")
    polfile = f.name
try:
    t0 = time.monotonic()
    p = subprocess.run([env["MX_SET_STS_ID"], dom, new_id, polfile], capture_output=True, text=True, timeout=60)
    took = time.monotonic() - t0
    st, ad, rd = dig(f"_mta-sts.{dom}", "TXT")
    T.ok(p.returncode == 0 and rd == [f'"v=STSv1; id={new_id}"'] and ad,
         f"set-sts-id: the resolver answers the new id at once, validated ({took:.2f} s)", (p.stderr, st, ad, rd))
    status, _, body = fetch_policy(dom)
    T.ok(status == 200 and b"mode: testing" in body, "set-sts-id: the new policy is served", (status, body))
finally:
    os.unlink(polfile)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(f"version: STSv1\nmode: {old['mode']}\n" + "".join(f"mx: {m}\n" for m in old["mx"])
                + f"max_age: {env['MX_POLICY_MAX_AGE']}\n")
        polfile = f.name
    p = subprocess.run([env["MX_SET_STS_ID"], dom, old["id"], polfile], capture_output=True, text=True, timeout=60)
    os.unlink(polfile)
    st, ad, rd = dig(f"_mta-sts.{dom}", "TXT")
    T.ok(p.returncode == 0 and rd == [f'"v=STSv1; id={old["id"]}"'], "set-sts-id: the original id is back",
         (p.stderr, rd))
p = subprocess.run([env["MX_SET_STS_ID"], env["MX_D_PLAIN"], "x1"], capture_output=True, text=True, timeout=60)
T.ok(p.returncode != 0 and "no _mta-sts" in p.stderr, "set-sts-id refuses a domain without MTA-STS", p.stderr)

# 7. One message to an MX host, read back over IMAP.
dom = env["MX_D_PLAIN"]
rcpt = f"{env.get('MX_RCPT_LOCALPART', env['MX_USER'])}@{dom}"
mx = SC[dom]["mx"][0]
mid = f"<{RUN}.{os.urandom(4).hex()}@client.mxworld.test>"
msg = (f"From: {env['MX_FROM']}\r\nTo: {rcpt}\r\nSubject: stack_mxworld {RUN}\r\nMessage-ID: {mid}\r\n"
       f"Date: {email.utils.formatdate()}\r\n\r\nhello from stack_mxworld.py\r\n")
s = smtplib.SMTP(mx["addr"], PORT, timeout=20, local_hostname="client.mxworld.test")
try:
    s._host = mx["host"]   # the name the certificate must be valid for
    s.starttls(context=ssl.create_default_context(cafile=CA))
    s.ehlo("client.mxworld.test")
    refused = s.sendmail(env["MX_FROM"], [rcpt], msg)
    sent = time.monotonic()
    s.mail(env["MX_FROM"])
    code, text = s.rcpt("nouser@" + dom)
    T.ok(not refused and code == 550, f"SMTP to {mx['host']} ({mx['addr']}): {rcpt} accepted with "
         "verified STARTTLS, an unknown user 550", (refused, code, text))
    s.rset()
    s.mail(env["MX_FROM"])
    code, text = s.rcpt("someone@example.com")
    T.ok(code == 554 and b"Relay access denied" in text, "SMTP: no relaying to other domains", (code, text))
finally:
    s.quit()
c = imaplib.IMAP4(env["MX_IMAP_HOST"], int(env["MX_IMAP_PORT"]), timeout=20)
try:
    c.starttls(ssl_context=ssl.create_default_context(cafile=CA))
    c.login(env["MX_USER"], password(env, env["MX_USER"]))
    c.select("INBOX")
    uids, end = [], time.monotonic() + 15
    while not uids and time.monotonic() < end:
        c.noop()
        typ, data = c.uid("SEARCH", None, "HEADER", "Message-ID", mid)
        uids = (data[0] or b"").split() if typ == "OK" else []
        if not uids:
            time.sleep(0.05)
    seen = time.monotonic() - sent
    T.ok(len(uids) == 1, f"the message is in {env['MX_USER']}'s INBOX over IMAP STARTTLS ({seen * 1000:.0f} ms)", uids)
    if uids:
        typ, data = c.uid("FETCH", uids[0], "(BODY.PEEK[HEADER])")
        hdr = email.message_from_bytes(next(x[1] for x in data if isinstance(x, tuple)),
                                       policy=email.policy.compat32)
        rec = " ".join(" ".join(h.split()) for h in hdr.get_all("Received", []))
        T.ok(f"by {mx['role']}.mxworld.test (Postfix) with ESMTPS" in rec and f"for <{rcpt}>" in rec,
             "its Received header names the MX host that took it, with TLS", rec)
        c.uid("STORE", uids[0], "+FLAGS.SILENT", r"(\Deleted)")
        c.expunge()
    typ, data = c.uid("SEARCH", None, "HEADER", "Message-ID", mid)
    T.ok(typ == "OK" and not (data[0] or b"").split(), "the message is gone again", data)
finally:
    c.logout()
c = imaplib.IMAP4_SSL(env["MX_IMAP_HOST"], int(env["MX_IMAPS_PORT"]), timeout=20,
                      ssl_context=ssl.create_default_context(cafile=CA))
try:
    typ, _ = c.login(env["MX_USER"], password(env, env["MX_USER"]))
    T.ok(typ == "OK", f"IMAPS {env['MX_IMAP_HOST']}:{env['MX_IMAPS_PORT']}: login with the CA verified", typ)
finally:
    c.logout()

T.done()
