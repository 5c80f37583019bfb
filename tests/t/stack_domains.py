#!/usr/bin/env python3
# needs: domains
"""The two-domain mail world itself (tests/mailstack/domains.sh), checked
with Python's own smtplib / imaplib / ssl and a tiny DNS client, not with
mail-e2e: its DNS answers, a.test's signed mail verified by b.test (one
Authentication-Results header, spf/dkim/dmarc pass, an ESMTPS hop),
mallory@c.test's mail failing all three, real delivery status notifications
from Postfix A for a refused (5.1.1) and a deferred (451) recipient, a
DMARC p=reject refusal at DATA, and a hop without TLS.  Leaves every
mailbox and Postfix A's queue as it found them."""
import email
import email.policy
import imaplib
import json
import os
import random
import re
import smtplib
import socket
import ssl
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, stack, password  # noqa: E402

env = stack("DOMAINS_ENV", "two-domain mail world", "DM_")
for k in ("DM_DIR", "DM_CA", "DM_DNS_ADDR", "DM_A_SUBMISSION_HOST", "DM_A_SUBMISSION_PORT",
          "DM_A_IMAP_HOST", "DM_A_IMAP_PORT", "DM_B_SMTP_HOST", "DM_B_SMTP_PORT",
          "DM_B_IMAP_HOST", "DM_B_IMAP_PORT", "DM_AUTHSERV_ID", "DM_A_POSTFIX_CONF"):
    if k not in env:
        T.ok(False, f"the env file lacks {k}")
        T.done()
AUTHSERV = env["DM_AUTHSERV_ID"]
SEL = env.get("DM_DKIM_SELECTOR", "s1")
CTX = ssl.create_default_context(cafile=env["DM_CA"])
RUN = os.urandom(4).hex()          # marks every message this test sends
timings = {}


def pw(user):
    return password(env, user)


# --- a tiny DNS client (UDP, one question) -------------------------------------

QTYPES = {"A": 1, "NS": 2, "PTR": 12, "MX": 15, "TXT": 16}


def dns(name, qtype, server=None, timeout=2.0):
    """(rcode, authoritative?, [answers]) for one query to the stack's DNS."""
    t = QTYPES[qtype]
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", t, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, (server or env["DM_DNS_ADDR"], int(env.get("DM_DNS_PORT", "53"))))
        data = s.recv(65535)
    finally:
        s.close()
    rid, flags, qd, an = struct.unpack(">HHHH", data[:8])
    if rid != qid:
        raise RuntimeError("DNS answer id mismatch")

    def name_at(off):
        labels, end = [], None
        while True:
            n = data[off]
            if n & 0xC0 == 0xC0:
                end = off + 2 if end is None else end
                off = ((n & 0x3F) << 8) | data[off + 1]
                continue
            off += 1
            if n == 0:
                return ".".join(labels), (end if end is not None else off)
            labels.append(data[off:off + n].decode())
            off += n

    off = 12
    for _ in range(qd):
        off = name_at(off)[1] + 4
    out = []
    for _ in range(an):
        off = name_at(off)[1]
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[off:off + 10])
        off += 10
        rd = data[off:off + rdlen]
        if rtype == t:
            if t == 1:
                out.append(socket.inet_ntoa(rd))
            elif t == 16:
                parts, i = [], 0
                while i < len(rd):
                    parts.append(rd[i + 1:i + 1 + rd[i]].decode())
                    i += 1 + rd[i]
                out.append("".join(parts))
            elif t == 15:
                out.append((struct.unpack(">H", rd[:2])[0], name_at(off + 2)[0]))
            else:
                out.append(name_at(off)[0])
        off += rdlen
    return flags & 0xF, bool(flags & 0x0400), out


def dkim_p(txts):
    for t in txts:
        m = re.search(r"(?:^|;)\s*p=([A-Za-z0-9+/=]+)", t)
        if t.startswith("v=DKIM1") and m:
            return m.group(1)
    return None


def pubkey_b64(keyfile):
    der = subprocess.run(["openssl", "pkey", "-in", keyfile, "-pubout", "-outform", "DER"],
                         capture_output=True, timeout=20).stdout
    import base64
    return base64.b64encode(der).decode() if der else None


# --- SMTP / IMAP helpers ------------------------------------------------------------


def submit(user, sender, rcpts, subject, mail_options=(), rcpt_options=(), from_hdr=None):
    """Submit one message to Postfix A (587, STARTTLS + AUTH); returns the
    Message-ID and the time the transaction ended."""
    mid = f"<{RUN}.{os.urandom(6).hex()}@test.a.test>"
    msg = (f"From: {from_hdr or sender}\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
           f"Message-ID: {mid}\r\nDate: {email.utils.formatdate()}\r\n"
           f"X-Domains-Run: {RUN}\r\n\r\nhello from stack_domains.py\r\n")
    s = smtplib.SMTP(env["DM_A_SUBMISSION_HOST"], int(env["DM_A_SUBMISSION_PORT"]), timeout=20)
    try:
        s.ehlo("client.test")
        s.starttls(context=CTX)
        s.ehlo("client.test")
        s.login(user, pw(user))
        refused = s.sendmail(sender, rcpts, msg, mail_options=list(mail_options),
                             rcpt_options=list(rcpt_options))
        end = time.monotonic()
    finally:
        try:
            s.quit()
        except Exception:
            pass
    return mid, end, refused


def imap(side, user):
    """A logged-in imaplib connection to side 'A' or 'B' over STARTTLS, INBOX selected."""
    c = imaplib.IMAP4(env[f"DM_{side}_IMAP_HOST"], int(env[f"DM_{side}_IMAP_PORT"]), timeout=20)
    c.starttls(ssl_context=CTX)
    c.login(user, pw(user))
    c.select("INBOX")
    return c


def wait_for(c, criteria, timeout):
    """UIDs matching criteria (a list of SEARCH terms) once there are any,
    polling with NOOP first (Dovecot reports new mail at the end of a SEARCH)."""
    end = time.monotonic() + timeout
    while True:
        c.noop()
        typ, data = c.uid("SEARCH", None, *criteria)
        uids = (data[0] or b"").split() if typ == "OK" else []
        if uids or time.monotonic() > end:
            return uids
        time.sleep(0.05)


def fetch(c, uid):
    typ, data = c.uid("FETCH", uid, "(BODY.PEEK[])")
    raw = next(x[1] for x in data if isinstance(x, tuple))
    return email.message_from_bytes(raw, policy=email.policy.compat32), raw


def cleanup(c):
    """Delete every message of this run (by its run mark) and expunge."""
    typ, data = c.uid("SEARCH", None, "TEXT", RUN)
    uids = (data[0] or b"").split() if typ == "OK" else []
    if uids:
        c.uid("STORE", b",".join(uids).decode(), "+FLAGS.SILENT", r"(\Deleted)")
        c.expunge()
    return len(uids)


def auth_results(msg):
    """The Authentication-Results headers as (authserv-id, {method: result})."""
    out = []
    for h in msg.get_all("Authentication-Results", []):
        v = re.sub(r"\s+", " ", h).strip()
        ident = v.split(";", 1)[0].strip().split()[0] if v else ""
        res = {}
        for part in v.split(";")[1:]:
            m = re.match(r"\s*([a-z]+)=([a-z]+)", part)
            if m:
                res.setdefault(m.group(1), m.group(2))
        out.append((ident, res, v))
    return out


def received(msg):
    return [re.sub(r"\s+", " ", h) for h in msg.get_all("Received", [])]


# --- 1. DNS -----------------------------------------------------------------------------

A_ADDR = env.get("DM_A_OUTGOING_ADDR", env["DM_A_SUBMISSION_HOST"])
try:
    rc, aa, mx = dns("a.test", "MX")
    T.ok(rc == 0 and aa and mx == [(10, "mx.a.test")], "DNS: a.test MX 10 mx.a.test (authoritative)", (rc, aa, mx))
    rc, aa, mx = dns("b.test", "MX")
    T.ok(rc == 0 and mx == [(10, "mx.b.test")], "DNS: b.test MX 10 mx.b.test", (rc, mx))
    T.eq(dns("mx.a.test", "A")[2], [A_ADDR], "DNS: mx.a.test A is A's address")
    T.eq(dns("mx.b.test", "A")[2], [env["DM_B_SMTP_HOST"]], "DNS: mx.b.test A is B's address")
    T.eq(dns("a.test", "TXT")[2], [f"v=spf1 ip4:{A_ADDR} -all"], "DNS: a.test SPF names A's outgoing address, -all")
    spf_c = dns("c.test", "TXT")[2]
    T.ok(len(spf_c) == 1 and spf_c[0].startswith("v=spf1") and A_ADDR not in spf_c[0] and spf_c[0].endswith("-all"),
         "DNS: c.test SPF is -all without A's address", spf_c)
    T.eq(dns("d.test", "TXT")[2], ["v=spf1 -all"], "DNS: d.test SPF -all")
    for d, p in (("a.test", "none"), ("c.test", "none"), ("d.test", "reject")):
        txt = dns(f"_dmarc.{d}", "TXT")[2]
        T.ok(len(txt) == 1 and txt[0].startswith("v=DMARC1") and f"p={p}" in txt[0],
             f"DNS: _dmarc.{d} TXT is a DMARC record with p={p}", txt)
    key_a = dkim_p(dns(f"{SEL}._domainkey.a.test", "TXT")[2])
    key_c = dkim_p(dns(f"{SEL}._domainkey.c.test", "TXT")[2])
    T.ok(key_a and len(key_a) > 300, f"DNS: {SEL}._domainkey.a.test TXT carries an RSA-2048 DKIM key", key_a)
    okd = os.path.join(env["DM_DIR"], "a", "opendkim")
    if os.path.exists(os.path.join(okd, "a.key")):
        T.eq(key_a, pubkey_b64(os.path.join(okd, "a.key")), "DNS: a.test's DKIM record is the key OpenDKIM signs with")
        T.ok(key_c and key_c != pubkey_b64(os.path.join(okd, "c.key")),
             "DNS: c.test's DKIM record is NOT the key OpenDKIM signs c.test with")
    T.eq(dns(f"{int(A_ADDR.split('.')[-1])}.0.0.127.in-addr.arpa", "PTR")[2], ["mx.a.test"],
         "DNS: A's address has PTR mx.a.test (iprev)")
    T.eq(dns("nonexistent.a.test", "A")[0], 3, "DNS: an unknown name is NXDOMAIN")
except (OSError, RuntimeError) as e:
    T.ok(False, "DNS: the stack's DNS server answers", repr(e))

# --- 2. the servers' front doors ---------------------------------------------------------

s = smtplib.SMTP(env["DM_A_SUBMISSION_HOST"], int(env["DM_A_SUBMISSION_PORT"]), timeout=20)
s.ehlo("client.test")
T.ok(s.has_extn("starttls") and not s.has_extn("auth"),
     "A submission: STARTTLS offered, AUTH not before it", s.esmtp_features)
s.starttls(context=CTX)
s.ehlo("client.test")
T.ok(s.has_extn("auth") and s.has_extn("dsn"), "A submission: AUTH and DSN after STARTTLS (certificate verified)",
     s.esmtp_features)
s.quit()

s = smtplib.SMTP(env["DM_B_SMTP_HOST"], int(env["DM_B_SMTP_PORT"]), timeout=20)
code, banner = s.ehlo("client.test")
T.ok(code == 250 and s.has_extn("starttls"), "B port 25: STARTTLS offered (not required)", s.esmtp_features)
T.ok(not s.has_extn("enhancedstatuscodes"),
     "B port 25: Exim does not advertise ENHANCEDSTATUSCODES (its ACL replies carry codes anyway)")
T.eq(s.mail("probe@b.test")[0], 250, "B port 25: MAIL without TLS accepted")
code, text = s.rcpt("nouser@b.test")
T.ok(code == 550 and text.startswith(b"5.1.1"), "B: nouser@b.test refused at RCPT with 550 5.1.1", (code, text))
code, text = s.rcpt("defer@b.test")
T.ok(code == 451 and re.match(rb"4\.\d\.\d", text), "B: defer@b.test answered 451 4.x.x at RCPT", (code, text))
code, text = s.rcpt("someone@c.test")
T.ok(code == 550 and text.startswith(b"5.7.1"), "B: other domains refused (no relay)", (code, text))
s.quit()

for side, user in (("A", "alice"), ("B", "bob")):
    c = imaplib.IMAP4(env[f"DM_{side}_IMAP_HOST"], int(env[f"DM_{side}_IMAP_PORT"]), timeout=20)
    caps = c.capabilities
    T.ok("LOGINDISABLED" in caps and "STARTTLS" in caps, f"{side} IMAP: STARTTLS offered, LOGIN disabled before it", caps)
    c.starttls(ssl_context=CTX)
    typ, _ = c.login(user, pw(user))
    T.eq(typ, "OK", f"{side} IMAP: {user} logs in after STARTTLS (certificate verified with DM_CA)")
    c.logout()

bob = imap("B", "bob")
alice = imap("A", "alice")

# --- 3. alice@a.test -> bob@b.test: signed, relayed over TLS, verified -------------------

mid, t_end, refused = submit("alice", "alice@a.test", ["bob@b.test"], f"stack_domains {RUN} good")
uids = wait_for(bob, ["HEADER", "Message-ID", mid], 20)
timings["a_to_b"] = time.monotonic() - t_end
T.eq(len(uids), 1, "alice -> bob: arrives in bob's INBOX at B's IMAP")
if uids:
    msg, raw = fetch(bob, uids[-1])
    ars = auth_results(msg)
    ours = [a for a in ars if a[0].lower() == AUTHSERV.lower()]
    T.eq(len(ours), 1, f"alice -> bob: exactly one Authentication-Results from {AUTHSERV}")
    T.eq(len(ars), 1, "alice -> bob: and no other Authentication-Results at all")
    if ours:
        r = ours[0][1]
        T.eq((r.get("spf"), r.get("dkim"), r.get("dmarc")), ("pass", "pass", "pass"),
             "alice -> bob: spf=pass dkim=pass dmarc=pass", )
        T.ok("header.d=a.test" in ours[0][2] and "smtp.mailfrom=a.test" in ours[0][2]
             and "header.from=a.test" in ours[0][2], "alice -> bob: the verdicts name a.test", ours[0][2])
        T.eq(r.get("iprev"), "pass", "alice -> bob: iprev=pass (PTR mx.a.test)")
    rcv = received(msg)
    hop = [h for h in rcv if re.search(r"from mx\.a\.test .*by mx\.b\.test with esmtps", h, re.I)]
    T.ok(len(hop) == 1, "alice -> bob: a Received header shows the A -> B hop with ESMTPS", "\n".join(rcv))
    T.ok(any(re.search(r"by mx\.a\.test \(Postfix\) with ESMTPSA", h) for h in rcv),
         "alice -> bob: a Received header shows the submission hop (ESMTPSA)", "\n".join(rcv))
    T.ok(not any(re.search(r"with (E?SMTP|UTF8SMTP)A?\b(?!S)", h) for h in rcv),
         "alice -> bob: no hop without TLS", "\n".join(rcv))
    sig = re.sub(r"\s+", " ", msg.get("DKIM-Signature", ""))
    T.ok(re.search(r"\bd=a\.test;", sig) and re.search(rf"\bs={SEL};", sig),
         "alice -> bob: DKIM-Signature d=a.test s=" + SEL, sig)

# --- 4. mallory@c.test -> bob: delivered, failing everything --------------------------

mid, t_end, refused = submit("mallory", "mallory@c.test", ["bob@b.test"], f"stack_domains {RUN} c.test")
uids = wait_for(bob, ["HEADER", "Message-ID", mid], 20)
T.eq(len(uids), 1, "mallory@c.test -> bob: delivered (DMARC p=none)")
if uids:
    msg, raw = fetch(bob, uids[-1])
    ours = [a for a in auth_results(msg) if a[0].lower() == AUTHSERV.lower()]
    T.eq(len(ours), 1, f"mallory@c.test -> bob: exactly one Authentication-Results from {AUTHSERV}")
    if ours:
        r = ours[0][1]
        T.eq((r.get("spf"), r.get("dkim"), r.get("dmarc")), ("fail", "fail", "fail"),
             "mallory@c.test -> bob: spf=fail dkim=fail dmarc=fail", )
        T.ok("header.d=c.test" in ours[0][2] and "header.from=c.test" in ours[0][2],
             "mallory@c.test -> bob: the verdicts name c.test", ours[0][2])
    T.ok(re.search(r"\bd=c\.test;", re.sub(r"\s+", " ", msg.get("DKIM-Signature", ""))),
         "mallory@c.test -> bob: it was signed (d=c.test), just with the wrong key")

# --- 5. alice -> nouser@b.test: a real bounce (DSN) in alice's mailbox at A ---------------

envid = f"xyz{RUN}"
mid, t_end, refused = submit("alice", "alice@a.test", ["nouser@b.test"], f"stack_domains {RUN} nouser",
                             mail_options=["RET=HDRS", f"ENVID={envid}"],
                             rcpt_options=["NOTIFY=FAILURE,DELAY"])
T.eq(refused, {}, "alice -> nouser@b.test: Postfix A accepts it (B refuses it later)")
uids = wait_for(alice, ["BODY", envid], 20)
timings["bounce"] = time.monotonic() - t_end
T.eq(len(uids), 1, "nouser: one DSN in alice's INBOX at A")
if uids:
    msg, raw = fetch(alice, uids[-1])
    ct = msg.get("Content-Type", "")
    T.ok(re.search(r"multipart/report", ct, re.I) and re.search(r"report-type=\"?delivery-status", ct, re.I),
         "nouser DSN: multipart/report; report-type=delivery-status", ct)
    text = raw.decode(errors="replace")
    T.ok(re.search(r"^Action: failed\s*$", text, re.M), "nouser DSN: Action: failed")
    T.ok(re.search(r"^Status: 5\.1\.1\s*$", text, re.M), "nouser DSN: Status: 5.1.1")
    T.ok(re.search(rf"^Original-Envelope-Id: {envid}\s*$", text, re.M), f"nouser DSN: Original-Envelope-Id: {envid}")
    T.ok(re.search(r"^Diagnostic-Code: smtp; 550 5\.1\.1 ", text, re.M), "nouser DSN: Diagnostic-Code has B's 550 5.1.1 reply")
    parts = [p.get_content_type() for p in msg.walk()]
    T.ok("text/rfc822-headers" in parts and mid in text,
         "nouser DSN: RET=HDRS returns the headers (with the Message-ID), not the whole message", parts)
    T.eq(msg.get("From", "").lower().count("mailer-daemon@a.test"), 1, "nouser DSN: from MAILER-DAEMON@a.test")

# --- 6. alice -> defer@b.test: a "delayed" DSN, quickly --------------------------------

envid2 = f"dly{RUN}"
mid, t_end, refused = submit("alice", "alice@a.test", ["defer@b.test"], f"stack_domains {RUN} defer",
                             mail_options=["RET=HDRS", f"ENVID={envid2}"],
                             rcpt_options=["NOTIFY=FAILURE,DELAY"])
uids = wait_for(alice, ["BODY", envid2], 30)
timings["delay_dsn"] = time.monotonic() - t_end
T.eq(len(uids), 1, "defer: a DSN in alice's INBOX at A")
T.ok(timings["delay_dsn"] < 10, f"defer: the delayed DSN came within 10 s ({timings['delay_dsn']:.2f} s)")
if uids:
    msg, raw = fetch(alice, uids[-1])
    text = raw.decode(errors="replace")
    T.ok(re.search(r"multipart/report", msg.get("Content-Type", ""), re.I), "defer DSN: multipart/report")
    T.ok(re.search(r"^Action: delayed\s*$", text, re.M), "defer DSN: Action: delayed")
    T.ok(re.search(r"^Status: 4\.\d\.\d\s*$", text, re.M), "defer DSN: Status: 4.x.x")
    T.ok(re.search(rf"^Original-Envelope-Id: {envid2}\s*$", text, re.M), "defer DSN: Original-Envelope-Id")
    T.ok(re.search(r"^Will-Retry-Until: ", text, re.M), "defer DSN: Will-Retry-Until (Postfix keeps trying)")
# Drop it from Postfix A's queue (else it is retried, quietly, for an hour).
conf = env["DM_A_POSTFIX_CONF"]
q = subprocess.run(["postqueue", "-c", conf, "-j"], capture_output=True, text=True, timeout=20)
qids = [j["queue_id"] for j in map(json.loads, filter(None, q.stdout.splitlines()))
        if any(r.get("address") == "defer@b.test" for r in j.get("recipients", []))]
T.ok(qids, "defer: the message waits in Postfix A's queue", q.stdout[-1000:] + q.stderr[-500:])
for qid in qids:
    subprocess.run(["postsuper", "-c", conf, "-d", qid], capture_output=True, timeout=20)

# --- 7. straight to B: d.test's p=reject, and a hop without TLS -------------------------

s = smtplib.SMTP(env["DM_B_SMTP_HOST"], int(env["DM_B_SMTP_PORT"]), timeout=20)
s.ehlo("client.d.test")
s.mail("someone@d.test")
s.rcpt("bob@b.test")
try:
    code, text = s.data(f"From: someone@d.test\r\nTo: bob@b.test\r\nSubject: stack_domains {RUN} d.test\r\n\r\nx\r\n")
except smtplib.SMTPDataError as e:
    code, text = e.smtp_code, e.smtp_error
T.ok(code == 550 and re.match(rb"5\.7\.\d ", text), "d.test -> B: refused at DATA with 550 5.7.x (DMARC p=reject)",
     (code, text))
T.ok(b"DMARC" in text, "d.test -> B: the reply says DMARC", text)
s.quit()

plain_mid = f"<{RUN}.plain@test.a.test>"
s = smtplib.SMTP(env["DM_B_SMTP_HOST"], int(env["DM_B_SMTP_PORT"]), timeout=20)
s.ehlo("client.test")
s.sendmail("carol@a.test", ["bob@b.test"],
           f"From: carol@a.test\r\nTo: bob@b.test\r\nSubject: stack_domains {RUN} plain\r\n"
           f"Message-ID: {plain_mid}\r\nX-Domains-Run: {RUN}\r\n\r\nno TLS\r\n")
s.quit()
uids = wait_for(bob, ["HEADER", "Message-ID", plain_mid], 20)
T.eq(len(uids), 1, "plain hop: B's port 25 accepts mail for b.test without TLS")
if uids:
    msg, _ = fetch(bob, uids[-1])
    rcv = received(msg)
    T.ok(any(re.search(r"by mx\.b\.test with esmtp (?!s)", h + " ") for h in rcv),
         "plain hop: its Received header says 'with esmtp' (no TLS)", "\n".join(rcv))
    ours = [a for a in auth_results(msg) if a[0].lower() == AUTHSERV.lower()]
    T.ok(ours and ours[0][1].get("spf") == "fail" and ours[0][1].get("dmarc") == "fail",
         "plain hop: unsigned a.test mail from a foreign address: spf=fail dmarc=fail (p=none: delivered)",
         ours and ours[0][2])

# --- 8. leave it clean ---------------------------------------------------------------------

n_b = cleanup(bob)
n_a = cleanup(alice)
T.eq((n_b, n_a), (3, 2), "cleanup: this run's 3 messages at B and 2 DSNs at A deleted")
T.eq(wait_for(bob, ["TEXT", RUN], 0) + wait_for(alice, ["TEXT", RUN], 0), [], "cleanup: nothing of this run is left")
bob.logout()
alice.logout()
print("# timings: " + ", ".join(f"{k}={v:.3f}s" for k, v in timings.items()), flush=True)
T.done()
