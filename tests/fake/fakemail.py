#!/usr/bin/env python3
"""fakemail.py - a small scriptable SMTP + IMAP server for fault tests.

Real servers cannot be made to stall, drop, or talk garbage on demand; this
one can.  One process (or one in-process object) serves SMTP and IMAP on
127.0.0.1, plain and implicit-TLS ports, with STARTTLS, and a shared
mailbox: a message accepted over SMTP is "delivered" (optionally late,
twice, or never) into the mailbox the IMAP side serves.  It records every
line it sees so tests can assert on the dialogue.

Script lines (blank lines and '#' comments ignored):

    user NAME PASSWORD                 credentials accepted (default bob / secret)
    smtp greeting TEXT|none|close|garbage|delay SECONDS [TEXT]
    imap greeting TEXT|none|close|garbage|delay SECONDS [TEXT]
    smtp omit STARTTLS|AUTH|DSN|SMTPUTF8  leave a capability out of EHLO (DSN and
                                       SMTPUTF8 are offered by default; FakeMail.envelope
                                       keeps the last MAIL and RCPT lines as sent)
    imap omit IDLE|STARTTLS|UIDPLUS    ... out of CAPABILITY
    smtp mechs MECH...                 AUTH mechanisms offered (default PLAIN LOGIN)
    imap mechs MECH...                 AUTH= capabilities offered (default PLAIN)
    oauth TOKEN                        an OAuth2 bearer token XOAUTH2 / OAUTHBEARER accept
                                       (for any configured user); every SASL exchange is
                                       kept in FakeMail.sasl as (proto, mech, decoded bytes)
    smtp on VERB[#N] ACTION            VERB: EHLO STARTTLS AUTH MAIL RCPT DATA BODY QUIT
    imap on VERB[#N] ACTION            VERB: CAPABILITY STARTTLS LOGIN AUTHENTICATE
                                       LIST SELECT NOOP SEARCH FETCH IDLE DONE STORE EXPUNGE
                                       MOVE COPY STATUS NOTIFY LOGOUT, and HEADER (a FETCH of
                                       BODY.PEEK[HEADER]: whole header blocks) and REPORT
                                       (BODY.PEEK[]); a FETCH rule covers those two as
                                       well where no rule of their own matches
    imap huge-line BYTES               an untagged line of BYTES before each SEARCH result
    imap literal                       an untagged response carrying a {n} literal
                                       before each SEARCH result
    imap junk                          LIST shows a mailbox "Junk" marked \\Junk
    imap notify                        offer NOTIFY (RFC 5465): after a NOTIFY SET naming
                                       Junk, every NOOP, FETCH, SEARCH and IDLE also says
                                       '* STATUS "Junk" (...)' when mail came there
    imap gmail                         behave like Gmail: X-GM-EXT-1 and MOVE offered, LIST shows
                                       [Gmail]/Trash (\\Trash) and [Gmail]/All Mail (\\All); mail
                                       lands in INBOX and All Mail; EXPUNGE in INBOX only archives
                                       (the copy in All Mail stays); MOVE to Trash takes it out of
                                       All Mail; EXPUNGE in Trash removes it for good
    imap trailing-blank                every line the IMAP side sends ends in a blank (Yahoo, AOL)
    imap repeat-exists                 every NOOP, and IDLE every 20 ms, repeats "* n EXISTS"
                                       even when n did not change
    imap exists-before-continuation    IDLE waits for new mail, then sends its EXISTS before "+"
    deliver delay SECONDS | never | twice | twice-apart SECONDS | bounce | reply | junk
            | junk-first               (bounce: a DSN quoting the message is delivered
                                       instead; reply: a reply with the token in its
                                       Subject and the quoted headers in its body;
                                       junk: into the Junk mailbox; junk-first: into
                                       Junk before the 250 to the data goes out, as a
                                       fast filter on a loaded machine does)
    deliver-header TEXT                a header line the delivery adds on top (several
                                       allowed, the first topmost; "\\r\\n" in TEXT folds it)
    deliver-header-times N TEXT        the same line N times
    dsn failed|delayed [RCPT [PAD]]    besides the delivery: an RFC 3464 report about the
                                       message (Final-Recipient RCPT, default the envelope
                                       recipient; its headers returned, then PAD bytes of
                                       returned body) lands in INBOX when the delivery would
    dsn-envid-only                     that report returns no headers: only its
                                       Original-Envelope-Id (the MAIL FROM's ENVID) says what it is about
    dsn-noise N                        N reports about probes of nobody's (tokens that prove
                                       nothing) land in INBOX just before that report
    preload-reports N [SIZE]           N such reports of SIZE bytes are in INBOX from the start
    (FETCH of BODY.PEEK[] or BODY.PEEK[]<start.len> answers with the message, or its part;
     rules see it as the verb REPORT; FakeMail.report_bytes counts what it sent)
    tls-cert valid|expired|wronghost [smtp|imap]   (default: both protocols)

ACTION is one of: `reply TEXT` (SMTP: the whole reply line; IMAP: the text
after the command's tag, or a line starting with '*' or '+' sent as is),
`stall` (read, never answer), `close` (drop the connection), `garbage`,
(in a reply TEXT, \\xNN stands for that raw byte, to send text that is not UTF-8)
`partial` (half a reply line, then stall), `delay SECONDS` (then behave
normally), `delay SECONDS then ACTION`, or `reply TEXT then ACTION`.  `#N` restricts a rule to the N-th
time the verb is seen (counting over the whole run).  BODY is the end of the
message data (the "." line).

Run standalone:  fakemail.py --script FILE --state DIR   (writes DIR/ports,
DIR/ca.pem, DIR/dialogue.log; stops on SIGTERM).  Tests import it and use
FakeMail(script_text, state_dir) directly.
"""
import argparse
import base64
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

CERT_LOCK = threading.Lock()


def make_certs(d):
    """A throwaway CA and three server certificates signed by it: valid for
    localhost/127.0.0.1, expired, and for another host name."""
    with CERT_LOCK:
        if os.path.exists(os.path.join(d, "wronghost.pem")):
            return
        os.makedirs(d, exist_ok=True)

        def ossl(*args, stdin=None):
            subprocess.run(["openssl"] + list(args), cwd=d, check=True, input=stdin,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3", "-subj", "/CN=fakemail CA",
             "-keyout", "ca.key", "-out", "ca.pem")
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key",
             "-out", "server.csr")
        with open(os.path.join(d, "valid.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        with open(os.path.join(d, "wrong.ext"), "w") as f:
            f.write("subjectAltName=DNS:wrong.example\n")
        ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "valid.ext", "-out", "valid.pem")
        ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "wrong.ext", "-out", "wronghost.pem.tmp")
        # An expired certificate needs explicit dates: `openssl ca` has them.
        os.makedirs(os.path.join(d, "ca-db"), exist_ok=True)
        open(os.path.join(d, "ca-db", "index.txt"), "w").close()
        with open(os.path.join(d, "ca-db", "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(f"""[ca]
default_ca = me
[me]
dir = {d}/ca-db
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = ext
[any]
commonName = supplied
[ext]
subjectAltName = DNS:localhost,IP:127.0.0.1
""")
        ossl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
             "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
             "-in", "server.csr", "-out", "expired.pem")
        os.rename(os.path.join(d, "wronghost.pem.tmp"), os.path.join(d, "wronghost.pem"))


def dsn_report(action, rcpt, token, message_id, returned, pad=0, envid=""):
    """An RFC 3464 delivery status notification (multipart/report) about a
    message whose header block `returned` (plus X-Mail-E2E-Probe `token`
    and `message_id`, where given) comes back, followed by `pad` bytes of
    returned body."""
    status = "5.1.1" if action == "failed" else "4.4.1"
    diag = "550 5.1.1 <%s>: Recipient address rejected" % rcpt if action == "failed" \
        else "451 4.4.1 no answer from the host"
    head = returned
    if token and "X-Mail-E2E-Probe:" not in head:
        head += "\r\nX-Mail-E2E-Probe: " + token
    if message_id and "Message-ID:" not in head:
        head += "\r\nMessage-ID: " + message_id
    body = ("x" * 76 + "\r\n") * (pad // 78) if pad else ""
    return ("From: MAILER-DAEMON@fake.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="BND"\r\n\r\n'
            "--BND\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n\r\n"
            "--BND\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; fake.test\r\n" + (f"Original-Envelope-Id: {envid}\r\n" if envid else "") +
            f"\r\nFinal-Recipient: rfc822; {rcpt}\r\nAction: {action}\r\nStatus: {status}\r\n"
            f"Diagnostic-Code: smtp; {diag}\r\n\r\n"
            "--BND\r\nContent-Type: message/rfc822\r\n\r\n" + head + "\r\n\r\n" + body +
            "--BND--\r\n")


class Rule:
    def __init__(self, verb, nth, action):
        self.verb, self.nth, self.action = verb, nth, action


class Script:
    def __init__(self, text):
        self.users = {}
        self.greeting = {"smtp": None, "imap": None}
        self.omit = {"smtp": set(), "imap": set()}
        self.mechs = ["PLAIN", "LOGIN"]
        self.imap_mechs = ["PLAIN"]
        self.tokens = set()
        self.rules = {"smtp": [], "imap": []}
        self.huge_line = 0
        self.literal = False
        self.junk = False
        self.notify = False
        self.gmail = False
        self.trailing_blank = False
        self.repeat_exists = False
        self.exists_first = False
        self.deliver = ("delay", 0.0)
        self.add_headers = []   # header lines the "delivery" puts on top
        self.dsn = None         # (action, rcpt or None, pad)
        self.dsn_noise = 0
        self.dsn_envid_only = False
        self.preload_reports = (0, 0)
        self.cert = {"smtp": "valid", "imap": "valid"}
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            w = line.split()
            if w[0] == "user":
                self.users[w[1]] = w[2]
            elif w[0] in ("smtp", "imap") and w[1] == "greeting":
                self.greeting[w[0]] = line.split(None, 2)[2]
            elif w[0] in ("smtp", "imap") and w[1] == "omit":
                self.omit[w[0]].update(x.upper() for x in w[2:])
            elif w[0] == "smtp" and w[1] == "mechs":
                self.mechs = [x.upper() for x in w[2:]]
            elif w[0] == "imap" and w[1] == "mechs":
                self.imap_mechs = [x.upper() for x in w[2:]]
            elif w[0] == "oauth":
                self.tokens.add(w[1])
            elif w[0] in ("smtp", "imap") and w[1] == "on":
                verb, _, nth = w[2].upper().partition("#")
                self.rules[w[0]].append(Rule(verb, int(nth) if nth else 0, line.split(None, 3)[3]))
            elif w[0] == "imap" and w[1] == "huge-line":
                self.huge_line = int(w[2])
            elif w[0] == "imap" and w[1] == "literal":
                self.literal = True
            elif w[0] == "imap" and w[1] == "junk":
                self.junk = True
            elif w[0] == "imap" and w[1] == "notify":
                self.notify = True
            elif w[0] == "imap" and w[1] == "gmail":
                self.gmail = True
            elif w[0] == "imap" and w[1] == "trailing-blank":
                self.trailing_blank = True
            elif w[0] == "imap" and w[1] == "repeat-exists":
                self.repeat_exists = True
            elif w[0] == "imap" and w[1] == "exists-before-continuation":
                self.exists_first = True
            elif w[0] == "deliver-header":
                self.add_headers.append(line.split(None, 1)[1] if len(w) > 1 else "")
            elif w[0] == "deliver-header-times":
                self.add_headers += [line.split(None, 2)[2]] * int(w[1])
            elif w[0] == "dsn":
                self.dsn = (w[1], w[2] if len(w) > 2 else None, int(w[3]) if len(w) > 3 else 0)
            elif w[0] == "dsn-envid-only":
                self.dsn_envid_only = True
            elif w[0] == "dsn-noise":
                self.dsn_noise = int(w[1])
            elif w[0] == "preload-reports":
                self.preload_reports = (int(w[1]), int(w[2]) if len(w) > 2 else 2000)
            elif w[0] == "deliver":
                self.deliver = (w[1], float(w[2]) if len(w) > 2 else 0.0)
            elif w[0] == "tls-cert":
                for proto in (w[2:] or ["smtp", "imap"]):
                    self.cert[proto] = w[1]
            else:
                raise ValueError(f"bad script line: {raw}")
        if not self.users:
            self.users = {"bob": "secret", "alice": "secret"}


class Mailbox:
    """Messages as [uid, text, deleted, arrival time]; UIDs only grow."""

    def __init__(self):
        self.lock = threading.Condition()
        self.msgs = []
        self.next_uid = 1

    def add(self, text, when=None, deleted=False):
        """when: the arrival time (INTERNALDATE) to report, default now."""
        with self.lock:
            self.msgs.append([self.next_uid, text, deleted, time.time() if when is None else when])
            self.next_uid += 1
            self.lock.notify_all()

    def count(self):
        with self.lock:
            return len(self.msgs)


class Conn:
    """Line I/O on a socket that may be upgraded to TLS; records dialogue."""

    def __init__(self, server, sock, proto, n):
        self.server, self.sock, self.proto, self.n = server, sock, proto, n
        self.buf = b""
        self.last_verb = ""

    def log(self, direction, text):
        self.server.log(f"{self.proto}{self.n}{direction} {text}")

    def send(self, text, raw=False):
        if not raw and self.proto == "imap" and self.server.script.trailing_blank:
            text += " "
        if raw:
            data = text
        elif "\\x" in text:
            data = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)),
                          text).encode("latin-1", errors="replace") + b"\r\n"
        else:
            data = (text + "\r\n").encode()
        self.sock.sendall(data)
        if not raw:
            self.log(">", text)

    def readline(self, timeout=None):
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise EOFError
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        text = line.rstrip(b"\r").decode(errors="replace")
        self.log("<", text)
        return text

    def starttls(self, ctx):
        self.sock.settimeout(10)
        self.sock = ctx.wrap_socket(self.sock, server_side=True)


class Stop(Exception):
    """The script says this connection ends (close or stall)."""


class FakeMail:
    def __init__(self, script_text, state_dir, certs_dir=None):
        self.state = state_dir
        os.makedirs(state_dir, exist_ok=True)
        self.certs = certs_dir or os.path.join(state_dir, "certs")
        make_certs(self.certs)
        self.script = Script(script_text)
        self.mailbox = Mailbox()
        self.sasl = []       # (proto, mechanism, decoded initial response)
        self.boxes = {"INBOX": self.mailbox, "JUNK": Mailbox(),
                      "[GMAIL]/TRASH": Mailbox(), "[GMAIL]/ALL MAIL": Mailbox()}
        self.counts = {}
        self.count_lock = threading.Lock()
        self.report_bytes = 0
        self.envelope = []
        for i in range(self.script.preload_reports[0]):
            self.mailbox.add(dsn_report("failed", "someone@elsewhere.test", "f" * 32,
                                        f"<1.{i}.mail-e2e@elsewhere.test>", "Subject: x",
                                        self.script.preload_reports[1]))
        self.logf = open(os.path.join(state_dir, "dialogue.log"), "a")
        self.log_lock = threading.Lock()
        self.conn_n = 0
        self.stopping = False
        self.socks = []
        self.ports = {}
        for name, proto, tls in (("SMTP_PORT", "smtp", False), ("SMTPS_PORT", "smtp", True),
                                 ("IMAP_PORT", "imap", False), ("IMAPS_PORT", "imap", True)):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            s.listen(64)
            self.socks.append(s)
            self.ports[name] = s.getsockname()[1]
            threading.Thread(target=self._accept, args=(s, proto, tls), daemon=True).start()
        self.ca = os.path.join(self.certs, "ca.pem")

    def reset(self, script_text=""):
        """Swap the script (e.g. back to normal behaviour) for later connections.
        Being Gmail is the server's nature, not a fault: it stays."""
        gmail = self.script.gmail
        self.script = Script(script_text)
        self.script.gmail = gmail

    def ctx(self, proto):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.certs, self.script.cert[proto] + ".pem"),
                            os.path.join(self.certs, "server.key"))
        return ctx

    def log(self, text):
        with self.log_lock:
            self.logf.write(text[:2000] + "\n")
            self.logf.flush()

    def dialogue(self):
        with open(os.path.join(self.state, "dialogue.log")) as f:
            return f.read()

    def close(self):
        self.stopping = True
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass

    # --- rules ---------------------------------------------------------------

    def rule_for(self, proto, verb):
        with self.count_lock:
            key = (proto, verb)
            self.counts[key] = self.counts.get(key, 0) + 1
            n = self.counts[key]
        for r in self.script.rules[proto]:
            if r.verb == verb and (r.nth == 0 or r.nth == n):
                return r.action
        return None

    def act(self, c, action, tag=None):
        """Carry out a scripted action.  Returns True if the action answered
        the command, False if normal handling should go on."""
        while action and action.startswith("delay "):
            _, secs, *rest = action.split(None, 2)
            time.sleep(float(secs))
            action = rest[0][len("then "):] if rest and rest[0].startswith("then ") else None
        if not action:
            return False
        if action.startswith("reply "):
            text, _, then = action[len("reply "):].partition(" then ")
            if tag and not text.startswith(("*", "+")):
                text = f"{tag} {text}"
            c.send(text)
            if then:
                self.act(c, then, tag)
            return True
        if action == "stall":
            while not self.stopping:
                time.sleep(0.2)
            raise Stop
        if action == "close":
            raise Stop
        if action == "garbage":
            c.send("\x01\x02 garbage \xff%%%")
            return True
        if action == "partial":
            c.send(b"* 1 FETCH (UID 1" if c.last_verb == "FETCH" else b"* SEARCH 1", raw=True)
            while not self.stopping:
                time.sleep(0.2)
            raise Stop
        raise ValueError(f"unknown action {action}")

    # --- connections -----------------------------------------------------------

    def _accept(self, lsock, proto, tls):
        while not self.stopping:
            try:
                sock, _ = lsock.accept()
            except OSError:
                return
            self.conn_n += 1
            threading.Thread(target=self._serve, args=(sock, proto, tls, self.conn_n), daemon=True).start()

    def _serve(self, sock, proto, tls, n):
        c = Conn(self, sock, proto, n)
        try:
            if tls:
                c.starttls(self.ctx(proto))
            (self._smtp if proto == "smtp" else self._imap)(c, tls)
        except (Stop, EOFError):
            pass
        except Exception as e:  # a fault test must never take the fake down
            self.log(f"{proto}{n}! {type(e).__name__}: {e}")
        finally:
            try:
                c.sock.close()
            except OSError:
                pass

    def _greet(self, c, proto, default):
        g = self.script.greeting[proto]
        if g and g.startswith("delay "):
            # A greet pause (Postfix's postscreen, a tarpit), then the usual.
            _, secs, *rest = g.split(None, 2)
            time.sleep(float(secs))
            g = rest[0] if rest else None
        if g == "none":
            while not self.stopping:
                time.sleep(0.2)
            raise Stop
        if g == "close":
            raise Stop
        c.send("\x16\x03\x01 garbage greeting" if g == "garbage" else (g or default))

    def _check_login(self, user, password):
        return self.script.users.get(user) == password

    # --- SMTP ------------------------------------------------------------------

    def _smtp(self, c, tls):
        s = self.script
        self._greet(c, "smtp", "220 fakemail ESMTP")
        while True:
            line = c.readline()
            verb = line.split(" ", 1)[0].upper()
            if self.act(c, self.rule_for("smtp", verb)):
                continue
            if verb in ("EHLO", "HELO"):
                caps = ["250-fakemail", "250-PIPELINING", "250-8BITMIME", "250-SIZE 10240000"]
                if "DSN" not in s.omit["smtp"]:
                    caps.append("250-DSN")
                if "SMTPUTF8" not in s.omit["smtp"]:
                    caps.append("250-SMTPUTF8")
                if not tls and "STARTTLS" not in s.omit["smtp"]:
                    caps.append("250-STARTTLS")
                if "AUTH" not in s.omit["smtp"] and s.mechs:
                    caps.append("250-AUTH " + " ".join(s.mechs))
                caps[-1] = "250 " + caps[-1][4:]
                for cap in caps:
                    c.send(cap)
            elif verb == "STARTTLS":
                c.send("220 2.0.0 go ahead")
                c.starttls(self.ctx("smtp"))
                tls = True
            elif verb == "AUTH":
                self._smtp_auth(c, line)
            elif verb == "MAIL":
                self.envelope = [line]
                c.send("250 2.1.0 ok")
            elif verb == "RCPT":
                self.envelope.append(line)
                c.send("250 2.1.5 ok")
            elif verb == "DATA":
                c.send("354 go ahead")
                body = []
                while True:
                    l = c.readline()
                    if l == ".":
                        break
                    body.append(l[1:] if l.startswith("..") else l)
                if self.act(c, self.rule_for("smtp", "BODY")):
                    continue
                if self.script.deliver[0] == "junk-first":
                    self.boxes["JUNK"].add(self._with_headers("\r\n".join(body)))
                    c.send("250 2.0.0 queued")
                    continue
                c.send("250 2.0.0 queued")
                self._deliver("\r\n".join(body))
            elif verb == "QUIT":
                c.send("221 2.0.0 bye")
                raise Stop
            elif verb in ("RSET", "NOOP"):
                c.send("250 ok")
            else:
                c.send("502 5.5.2 unknown command")

    def _smtp_auth(self, c, line):
        w = line.split()
        mech = w[1].upper() if len(w) > 1 else ""
        if mech not in self.script.mechs:
            c.send("504 5.5.4 mechanism not offered")
            return
        if mech in ("XOAUTH2", "OAUTHBEARER"):
            resp = w[2] if len(w) > 2 else None
            if resp is None:
                c.send("334 ")
                resp = c.readline()
            if self._oauth_ok("smtp", mech, resp):
                c.send("235 2.7.0 ok")
            else:
                # RFC 7628 / Google: an error challenge, the client answers
                # with an empty (XOAUTH2) or ^A (OAUTHBEARER) line, then 535.
                c.send("334 " + base64.b64encode(b'{"status":"401","schemes":"bearer"}').decode())
                c.readline()
                c.send("535 5.7.8 token refused")
            return
        if mech == "PLAIN":
            resp = w[2] if len(w) > 2 else None
            if resp is None:
                c.send("334 ")
                resp = c.readline()
            try:
                _, user, pw = base64.b64decode(resp).decode().split("\0")
            except Exception:
                c.send("501 5.5.2 bad AUTH PLAIN")
                return
            self.sasl.append(("smtp", mech, base64.b64decode(resp)))
        elif mech == "LOGIN":
            if len(w) > 2:      # SASL-IR: the user name came with AUTH
                user = base64.b64decode(w[2]).decode(errors="replace")
            else:
                c.send("334 VXNlcm5hbWU6")
                user = base64.b64decode(c.readline()).decode(errors="replace")
            c.send("334 UGFzc3dvcmQ6")
            pw = base64.b64decode(c.readline()).decode(errors="replace")
        else:
            c.send("504 5.5.4 mechanism not supported")
            return
        c.send("235 2.7.0 ok" if self._check_login(user, pw) else "535 5.7.8 authentication failed")

    def _oauth_ok(self, proto, mech, resp):
        """Check an XOAUTH2 (user=U^Aauth=Bearer T^A^A) or OAUTHBEARER
        (n,a=U,^Ahost=H^Aport=P^Aauth=Bearer T^A^A) initial response."""
        try:
            raw = base64.b64decode(resp, validate=True)
        except Exception:
            return False
        self.sasl.append((proto, mech, raw))
        text = raw.decode(errors="replace")
        if mech == "XOAUTH2":
            m = re.fullmatch(r"user=([^\x01]+)\x01auth=Bearer ([^\x01]+)\x01\x01", text)
        else:
            m = re.fullmatch(r"n,a=([^,]+),\x01(?:host=[^\x01]*\x01port=\d+\x01)?auth=Bearer ([^\x01]+)\x01\x01", text)
        return bool(m) and m.group(1) in self.script.users and m.group(2) in self.script.tokens

    def _with_headers(self, text):
        for h in reversed(self.script.add_headers):
            text = h.replace("\\r\\n", "\r\n") + "\r\n" + text
        return text

    def _deliver(self, text):
        how, secs = self.script.deliver
        text = self._with_headers(text)
        if how in ("bounce", "reply"):
            token = re.search(r"^X-Mail-E2E-Probe:\s*(\S+)", text, re.M | re.I)
            token = token.group(1) if token else "?"
            quoted = "\r\n".join("> " + l for l in text.split("\r\n"))
            if how == "bounce":
                text = ("From: MAILER-DAEMON@fake.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
                        "Auto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n\r\n"
                        "This is the mail system.\r\n\r\n" + text)
            else:
                text = (f"From: bob@fake.test\r\nSubject: Re: [e2e email monitoring] {token}\r\n"
                        f"In-Reply-To: <{token}.mail-e2e@fake.test>\r\n\r\n" + quoted)
        copies = 0 if how == "never" else 2 if how == "twice" else 1
        report = None
        if self.script.dsn:
            action, rcpt, pad = self.script.dsn
            head = text.split("\r\n\r\n", 1)[0]
            to = re.search(r"^To:\s*(\S+)", head, re.M | re.I)
            envid = re.search(r"\bENVID=(\S+)", self.envelope[0] if self.envelope else "")
            report = dsn_report(action, rcpt or (to.group(1).strip("<>") if to else "bob@fake.test"),
                                "", "", "Subject: (no headers returned)" if self.script.dsn_envid_only else head,
                                pad, envid.group(1) if envid else "")

        def later():
            if how == "twice-apart":
                # One copy at once, a duplicate SECONDS later (after the
                # probe was found and deleted).
                self.mailbox.add(text)
            time.sleep(secs)
            if report:
                for i in range(self.script.dsn_noise):
                    self.mailbox.add(dsn_report("failed", "someone@elsewhere.test", "e" * 32,
                                                f"<2.{i}.mail-e2e@elsewhere.test>", "Subject: y"))
                self.mailbox.add(report)
            for _ in range(copies):
                self.boxes["JUNK" if how == "junk" else "INBOX"].add(text)
                if self.script.gmail and how != "junk":
                    self.boxes["[GMAIL]/ALL MAIL"].add(text)
        threading.Thread(target=later, daemon=True).start()

    # --- IMAP ------------------------------------------------------------------

    def _imap_caps(self, tls, authed):
        omit = self.script.omit["imap"]
        caps = ["IMAP4rev1", "SASL-IR", "LITERAL+"]
        if not tls and not authed and "STARTTLS" not in omit:
            caps.append("STARTTLS")
        if not authed:
            caps += ["AUTH=" + m for m in self.script.imap_mechs]
        for cap in ("IDLE", "UIDPLUS"):
            if cap not in omit:
                caps.append(cap)
        if self.script.gmail:
            caps += ["X-GM-EXT-1", "MOVE"]
        if self.script.notify and authed:
            caps.append("NOTIFY")
        return " ".join(caps)

    def _imap(self, c, tls):
        self._greet(c, "imap", "* OK fakemail IMAP ready")
        authed = False
        box = self.mailbox  # the selected mailbox
        seen = 0            # messages announced to this session
        while True:
            line = c.readline()
            parts = line.split(" ")
            tag = parts[0]
            cmd = parts[1].upper() if len(parts) > 1 else ""
            args = parts[2:]
            if cmd == "UID" and args:
                cmd, args = args[0].upper(), args[1:]
            c.last_verb = cmd
            # A FETCH of whole header blocks (the look that finds the probe,
            # or its own) and of reports have rule names of their own, so
            # their faults do not depend on how many checks ran; a FETCH rule
            # applies to them too, where none of their own does.
            verb = ("HEADER" if cmd == "FETCH" and "BODY.PEEK[HEADER]" in line.upper() else
                    "REPORT" if cmd == "FETCH" and "BODY.PEEK[]" in line.upper() else cmd)
            rule = self.rule_for("imap", verb)
            if verb != cmd:
                rule = rule or self.rule_for("imap", cmd)
            if self.act(c, rule, tag):
                continue
            if cmd == "CAPABILITY":
                c.send("* CAPABILITY " + self._imap_caps(tls, authed))
                c.send(f"{tag} OK done")
            elif cmd == "STARTTLS":
                c.send(f"{tag} OK begin TLS")
                c.starttls(self.ctx("imap"))
                tls = True
            elif cmd == "LOGIN":
                user, pw = (a.strip('"') for a in (args + ["", ""])[:2])
                authed = self._check_login(user, pw)
                c.send(f"{tag} OK logged in" if authed else f"{tag} NO [AUTHENTICATIONFAILED] failed")
            elif cmd == "AUTHENTICATE":
                mech = args[0].upper() if args else ""
                resp = args[1] if len(args) > 1 else None
                if mech not in self.script.imap_mechs:
                    c.send(f"{tag} NO [CANNOT] mechanism not offered")
                    continue
                if resp is None:
                    c.send("+ ")
                    resp = c.readline()
                if mech in ("XOAUTH2", "OAUTHBEARER"):
                    authed = self._oauth_ok("imap", mech, resp)
                    if not authed:
                        c.send("+ " + base64.b64encode(b'{"status":"401","schemes":"bearer"}').decode())
                        c.readline()
                    c.send(f"{tag} OK logged in" if authed else f"{tag} NO [AUTHENTICATIONFAILED] token refused")
                    continue
                try:
                    _, user, pw = base64.b64decode(resp).decode().split("\0")
                    authed = self._check_login(user, pw)
                except Exception:
                    authed = False
                c.send(f"{tag} OK logged in" if authed else f"{tag} NO [AUTHENTICATIONFAILED] failed")
            elif cmd in ("SELECT", "EXAMINE"):
                mbox = " ".join(args).strip('"').upper()
                if mbox not in self.boxes or (mbox == "JUNK" and not self.script.junk):
                    c.send(f"{tag} NO [NONEXISTENT] Mailbox doesn't exist")
                    continue
                box = self.boxes[mbox]
                seen = box.count()
                c.send("* FLAGS (\\Deleted \\Seen)")
                c.send(f"* {seen} EXISTS")
                c.send("* OK [UIDVALIDITY 1] ok")
                c.send(f"* OK [UIDNEXT {box.next_uid}] ok")
                c.send(f"{tag} OK [READ-WRITE] selected")
            elif cmd == "STATUS":
                name = " ".join(args).rsplit("(", 1)[0].strip().strip('"')
                mbox = name.upper()
                if mbox not in self.boxes or (mbox == "JUNK" and not self.script.junk):
                    c.send(f"{tag} NO [NONEXISTENT] Mailbox doesn't exist")
                    continue
                other = self.boxes[mbox]
                c.send(f'* STATUS "{name}" (UIDNEXT {other.next_uid} MESSAGES {other.count()})')
                c.send(f"{tag} OK status done")
            elif cmd == "LIST":
                c.send('* LIST (\\HasNoChildren) "/" INBOX')
                if self.script.junk:
                    c.send('* LIST (\\HasNoChildren \\Junk) "/" Junk')
                if self.script.gmail:
                    c.send('* LIST (\\HasNoChildren \\Trash) "/" "[Gmail]/Trash"')
                    c.send('* LIST (\\All \\HasNoChildren) "/" "[Gmail]/All Mail"')
                c.send(f"{tag} OK list done")
            elif cmd == "FETCH":
                self._before_results(c)
                self._fetch(c, box, args)
                seen = self._announce(c, box, seen)
                c.send(f"{tag} OK fetch done")
            elif cmd == "NOOP":
                seen = self._announce(c, box, seen)
                c.send(f"{tag} OK noop")
            elif cmd == "NOTIFY" and self.script.notify:
                # Only what the probe asks: the junk mailbox's news.
                if "JUNK" in line.upper() and "MESSAGENEW" in line.upper():
                    junk = self.boxes["JUNK"]
                    c.notify_junk = junk.next_uid
                    if args and args[0].upper() == "SET" and len(args) > 1 and args[1].upper() == "STATUS":
                        # RFC 5465 3.1: the STATUS indicator asks for each
                        # mailbox's state at once.
                        c.send(f'* STATUS "Junk" (MESSAGES {junk.count()} UIDNEXT {junk.next_uid})')
                c.send(f"{tag} OK notify set")
            elif cmd in ("MOVE", "COPY"):
                seen = self._move(c, box, cmd, args, seen)
                c.send(f"{tag} OK {cmd.lower()} done")
            elif cmd == "SEARCH":
                self._search(c, box, args)
                seen = self._announce(c, box, seen)
                c.send(f"{tag} OK search done")
            elif cmd == "IDLE":
                seen = self._idle(c, box, tag, seen)
            elif cmd == "STORE":
                uids = {int(x) for x in args[0].split(",")}
                with box.lock:
                    for m in box.msgs:
                        if m[0] in uids and "\\Deleted" in " ".join(args):
                            m[2] = True
                c.send(f"{tag} OK stored")
            elif cmd == "EXPUNGE":
                uids = {int(x) for x in args[0].split(",")} if args else None
                with box.lock:
                    keep, removed = [], 0
                    for i, m in enumerate(box.msgs):
                        if m[2] and (uids is None or m[0] in uids):
                            c.send(f"* {i + 1 - removed} EXPUNGE")
                            removed += 1
                        else:
                            keep.append(m)
                    seen -= removed
                    box.msgs = keep
                c.send(f"{tag} OK expunged")
            elif cmd == "LOGOUT":
                c.send("* BYE bye")
                c.send(f"{tag} OK logout")
                raise Stop
            else:
                c.send(f"{tag} BAD unknown command")

    def _announce(self, c, box, seen):
        junk = self.boxes["JUNK"]
        if getattr(c, "notify_junk", None) is not None and junk.next_uid > c.notify_junk:
            c.notify_junk = junk.next_uid
            c.send(f'* STATUS "Junk" (MESSAGES {junk.count()} UIDNEXT {junk.next_uid})')
        n = box.count()
        if n > seen or self.script.repeat_exists:
            c.send(f"* {max(n, seen)} EXISTS")
        return max(n, seen)

    def _move(self, c, box, cmd, args, seen):
        """UID MOVE / UID COPY set mailbox (Gmail: into Trash takes a message
        out of All Mail)."""
        uids = self._uid_set(args[0] if args else "", box)
        dest = self.boxes.get(" ".join(args[1:]).strip('"').upper())
        if dest is None:
            return seen
        allmail = self.boxes["[GMAIL]/ALL MAIL"]
        src, dst = [], []
        with box.lock:
            picked = [m for m in box.msgs if m[0] in uids]
        for m in picked:
            dest.add(m[1])
            src.append(str(m[0]))
            dst.append(str(dest.next_uid - 1))
            if self.script.gmail and dest is self.boxes["[GMAIL]/TRASH"]:
                # One message, two labels: in Trash it is in neither.
                for other in (self.boxes["INBOX"], allmail):
                    if other is box:
                        continue
                    with other.lock:
                        for a in other.msgs:
                            if a[1] == m[1]:
                                other.msgs.remove(a)
                                break
        if src:
            c.send(f"* OK [COPYUID 1 {','.join(src)} {','.join(dst)}] copied")
        if cmd == "MOVE":
            with box.lock:
                keep, removed = [], 0
                for i, m in enumerate(box.msgs):
                    if m[0] in uids:
                        c.send(f"* {i + 1 - removed} EXPUNGE")
                        removed += 1
                    else:
                        keep.append(m)
                box.msgs = keep
                seen -= removed
        return seen

    @staticmethod
    def _uid_set(text, box):
        """'4,7:9,12:*' -> the UIDs it names (* = the highest in box)."""
        with box.lock:
            top = max([m[0] for m in box.msgs] or [0])
        out = set()
        for part in text.split(","):
            lo, _, hi = part.partition(":")
            try:
                a = top if lo == "*" else int(lo)
                b = a if not hi else (top if hi == "*" else int(hi))
            except ValueError:
                continue
            a, b = min(a, b), max(a, b)
            out.update(range(a, min(b, a + 100000) + 1))
        return out

    def _before_results(self, c):
        if self.script.huge_line:
            c.send("* OK [ALERT] " + "x" * self.script.huge_line)
        if self.script.literal:
            body = b"Subject: a literal\r\n\r\n"
            c.send(b"* 1 FETCH (BODY[HEADER] {%d}\r\n" % len(body) + body + b")\r\n", raw=True)

    def _search(self, c, box, args):
        text = " ".join(args)
        undeleted = re.search(r"\bUNDELETED\b", text, re.I) is not None
        m = (re.search(r"UID (\d+):(\d+|\*) (?:UNDELETED )?HEADER (\S+) (\S+)", text, re.I) or
             re.search(r"()()HEADER (\S+) (\S+)", text, re.I))
        lo, hi, header, token = ((int(m.group(1) or 1), m.group(2) or "*", m.group(3), m.group(4)) if m
                                 else (1, "*", "", ""))
        hi = 2**32 if hi == "*" else int(hi)
        # The header's text contains the string (RFC 3501 6.4.4); an empty
        # string matches every message that has the header.
        value = r"\S.*" if token == '""' else ".*" + re.escape(token.strip('"')) + ".*"
        self._before_results(c)
        # SEARCH HEADER looks at the message's own header section only (RFC
        # 3501), not at headers quoted in a body or an attached message.
        with box.lock:
            # Like a real server, SEARCH finds messages flagged \Deleted
            # too, unless asked for UNDELETED ones.
            hits = [str(u) for u, t, d, _ in box.msgs
                    if not (d and undeleted) and lo <= u <= hi and re.search(rf"^{re.escape(header)}:\s*{value}\s*$",
                                                             t.split("\r\n\r\n", 1)[0], re.I | re.M)]
        c.send("* SEARCH" + "".join(" " + h for h in hits))

    def _fetch(self, c, box, args):
        """UID FETCH set (UID [INTERNALDATE] BODY.PEEK[HEADER.FIELDS (...)])."""
        uids = self._uid_set(args[0] if args else "", box)
        want = " ".join(args[1:]).upper()
        names = re.search(r"HEADER\.FIELDS \(([^)]*)\)", " ".join(args), re.I)
        names = [n.lower() for n in names.group(1).split()] if names else []
        with box.lock:
            for i, (u, t, d, when) in enumerate(box.msgs):
                if u not in uids:
                    continue
                head = t.split("\r\n\r\n", 1)[0].split("\r\n")
                date = time.strftime("%d-%b-%Y %H:%M:%S +0000", time.gmtime(when))
                items = b"UID %d " % u
                if "INTERNALDATE" in want:
                    items += b'INTERNALDATE "%s" ' % date.encode()
                whole = re.search(r"BODY\.PEEK\[\](?:<(\d+)\.(\d+)>)?", want)
                if whole:
                    # The whole message, or the part asked for (RFC 3501 6.4.5).
                    data = t.encode()
                    name = b"BODY[]"
                    if whole.group(1):
                        start, count = int(whole.group(1)), int(whole.group(2))
                        data = data[start:start + count]
                        name = b"BODY[]<%d>" % start
                    self.report_bytes += len(data)
                    c.send(b"* %d FETCH (%s%s {%d}\r\n" % (i + 1, items, name, len(data))
                           + data + b")\r\n", raw=True)
                    continue
                if not names and "BODY.PEEK[HEADER]" in want:
                    # The whole header block, as the evidence read asks.
                    body = ("\r\n".join(head) + "\r\n\r\n").encode()
                    c.send(b"* %d FETCH (%sBODY[HEADER] {%d}\r\n" % (i + 1, items, len(body))
                           + body + b")\r\n", raw=True)
                    continue
                picked = "".join(l + "\r\n" for l in head if l.split(":", 1)[0].lower() in names) + "\r\n"
                body = picked.encode()
                c.send(b'* %d FETCH (%sBODY[HEADER.FIELDS (%s)] {%d}\r\n'
                       % (i + 1, items, " ".join(names).upper().encode(), len(body))
                       + body + b")\r\n", raw=True)

    def _idle(self, c, box, tag, seen):
        if self.script.exists_first:
            # New mail is announced before the continuation (RFC 3501 5.3
            # allows untagged data at any time); after "+" nothing more.
            end = time.monotonic() + 10
            while box.count() <= seen and time.monotonic() < end and not self.stopping:
                time.sleep(0.01)
            seen = self._announce(c, box, seen)
            c.send("+ idling")
            line = c.readline()
            self.act(c, self.rule_for("imap", "DONE"), tag)
            c.send(f"{tag} OK idle done" if line.upper() == "DONE" else f"{tag} BAD expected DONE")
            return seen
        c.send("+ idling")
        while not self.stopping:
            seen = self._announce(c, box, seen)
            line = c.readline(timeout=0.02)
            if line is None:
                continue
            if line.upper() == "DONE":
                if self.act(c, self.rule_for("imap", "DONE"), tag):
                    return seen
                c.send(f"{tag} OK idle done")
                return seen
            c.send(f"{tag} BAD expected DONE")
            return seen
        raise Stop


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--script", required=True)
    ap.add_argument("--state", required=True)
    a = ap.parse_args()
    with open(a.script) as f:
        fake = FakeMail(f.read(), a.state)
    tmp = os.path.join(a.state, "ports.tmp")
    with open(tmp, "w") as f:
        for k, v in fake.ports.items():
            f.write(f"{k}={v}\n")
        f.write(f"CA={fake.ca}\n")
    os.rename(tmp, os.path.join(a.state, "ports"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
