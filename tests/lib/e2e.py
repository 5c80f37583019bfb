"""e2e.py - shared helpers for mail-e2e's scenario tests.

Every scenario test is a small Python script under tests/t/ that imports this
module, runs the real binary ($MAIL_E2E, set by tests/run.sh) and reports TAP
lines.  Rules the helpers enforce for every test:

- every run of the binary is checked for leaked secrets: each password a test
  registers with `secret()` must never appear in stdout or stderr;
- a test that needs the private Postfix + Dovecot and does not get it fails
  loudly (never skips);
- every process started is stopped, also when the test fails.
"""
import atexit
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineproto  # noqa: E402  (strict line-protocol parser)

ROOT = os.environ.get("TESTS_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))


class Tap:
    """TAP output: ok/not ok lines and the closing 'N passed, N failed'."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, detail=None):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {desc}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {desc}", flush=True)
            if detail is not None:
                for line in str(detail).splitlines()[:40]:
                    print(f"#   {line}", flush=True)
        return bool(cond)

    def eq(self, got, want, desc):
        return self.ok(got == want, desc, f"got: {got!r}\nwant: {want!r}")

    def done(self):
        print(f"{self.n - self.failed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed or self.n == 0 else 0)


T = Tap()
SECRETS = set()
_cleanups = []
_tmpdirs = []


def secret(value):
    """Register a password: no run of the binary may ever print it."""
    if value:
        SECRETS.add(value)
    return value


def fatal(msg):
    """The test cannot run: say so as a failure and stop."""
    T.ok(False, f"test could not run: {msg}")
    T.done()


def binary():
    b = os.environ.get("MAIL_E2E")
    if not b or not os.access(b, os.X_OK):
        fatal("MAIL_E2E is not set to an executable (run through tests/run.sh)")
    return b


_RESULT_ENTRY = re.compile(r'^\s*X\((\w+),\s*"([a-z_]+)",\s*(\d+),\s*"([^"]*)"\)', re.M)


def result_classes():
    """The result classes of SPEC §5 as plugin/result_classes.h lists them:
    [(name, code, meaning), ...] in code order.  Read from the header, so
    no test keeps its own copy of the table."""
    try:
        with open(os.path.join(ROOT, "plugin", "result_classes.h")) as f:
            text = f.read()
    except OSError as e:
        fatal(f"cannot read plugin/result_classes.h: {e}")
    rows = [(name, int(code), meaning) for _, name, code, meaning in _RESULT_ENTRY.findall(text)]
    if not rows or [code for _, code, _ in rows] != list(range(len(rows))):
        fatal("plugin/result_classes.h: no table, or codes not 0, 1, 2, ... in order")
    return rows


# Every tag and field SPEC.md names for the output, by section: the program
# writes them or will.  One copy for every test (contrib_influxdb.py,
# docs_cover.py); names only README knows (mailbox, late, *_cert_expiry,
# *_tls_version) are not here.
SPEC_NAMES = {
    "§5": "probe from to smtp_server imap_server result success result_code total_time smtp_time "
          "delivery_time tries smtp_code error",
    "§7": "spf dkim dmarc arc hops plain_hops transit_time smtp_status",
    "§8": "dsn_status delayed",
    "§9": "queue_time",
    "§11": "smtp_connect_time smtp_greeting_time smtp_tls_time smtp_auth_time smtp_send_time "
           "imap_connect_time imap_tls_time imap_login_time imap_select_time",
    "§12": "mx mx_tried mx_tls mta_sts dane tlsrpt tls_policy",
    "§13": "spam_score spam_threshold spam spam_filter scl dnsbl_ip dnsbl_listed dnsbl_zones",
}


def result_codes():
    """{name: code} of every result class (result_classes())."""
    return {name: code for name, code, _ in result_classes()}


def tmpdir():
    d = tempfile.mkdtemp(prefix="me2e-t.")
    _tmpdirs.append(d)
    return d


def write_file(path, text, mode=0o600):
    with open(path, "w", errors="surrogateescape") as f:   # "\udcXX": a raw byte
        f.write(text)
    os.chmod(path, mode)
    return path


def write_config(text, name="mail-e2e.conf", mode=0o600):
    return write_file(os.path.join(tmpdir(), name), text, mode)


def check_no_leak(what, out, err):
    leaked = [s for s in SECRETS if s in out or s in err]
    T.ok(not leaked, f"{what}: no password in stdout/stderr",
         f"leaked {len(leaked)} secret(s)")


class Run:
    def __init__(self, rc, out, err, elapsed):
        self.rc, self.out, self.err, self.elapsed = rc, out, err, elapsed

    @property
    def lines(self):
        return [l for l in self.out.split("\n") if l]

    def __repr__(self):
        return f"rc={self.rc} elapsed={self.elapsed:.2f}s\nstdout:\n{self.out}\nstderr:\n{self.err}"


def run(args, stdin="", timeout=120, what=None, env=None):
    """Run the binary to completion; check for leaked secrets."""
    start = time.monotonic()
    try:
        p = subprocess.run([binary()] + list(args), input=stdin.encode(),
                           capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        T.ok(False, f"{what or args}: finished within {timeout}s",
             (e.stderr or b"").decode(errors="replace"))
        return Run(-1, (e.stdout or b"").decode(errors="replace"),
                   (e.stderr or b"").decode(errors="replace"), timeout)
    r = Run(p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace"), time.monotonic() - start)
    check_no_leak(what or " ".join(args), r.out, r.err)
    check_stderr_prefixes(what or " ".join(args), r.err)
    return r


def check_stderr_prefixes(what, err):
    """Telegraf logs unprefixed stderr lines as errors: there must be none."""
    bad = [l for l in err.split("\n") if l and not re.match(r"^[EWID]! ", l)
           and not l.startswith("==")  # sanitizer reports are caught elsewhere
           ]
    T.ok(not bad, f"{what}: every stderr line has an E!/W!/I!/D! prefix", "\n".join(bad[:5]))


def parse_line(line):
    """Parse one influx line strictly; returns (measurement, tags, fields, ts)."""
    return lineproto.parse(line)


def parse_lines(out):
    res = []
    for line in out.split("\n"):
        if line:
            res.append(parse_line(line))
    return res


def by_probe(out):
    """{probe tag: (tags, fields, ts)} for an influx run; asserts parseable."""
    d = {}
    for line in out.split("\n"):
        if not line:
            continue
        try:
            m, tags, fields, ts = parse_line(line)
        except ValueError as e:
            T.ok(False, f"line parses as line protocol: {line[:200]}", str(e))
            continue
        d.setdefault(tags.get("probe"), []).append((tags, fields, ts))
    return d


# --- the private mail stack -------------------------------------------------

def stack(var="MAILSTACK_ENV", what="Postfix + Dovecot", prefix="MS_"):
    """A running private mail stack's env file (tests/run.sh starts it and
    exports var); every PREFIX_PASSWORD_* in it is a registered secret."""
    path = os.environ.get(var)
    if not path or not os.path.exists(path):
        fatal(f"the private {what} is not running ({var} unset)")
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    for k, v in env.items():
        if k.startswith(prefix + "PASSWORD_"):
            secret(v)
    env["_PREFIX"] = prefix
    return env


def password(env, user):
    return env[env.get("_PREFIX", "MS_") + "PASSWORD_" + user]


# How a route reaches a stack, by mode: SMTP (port key, TLS mode, AUTH?) and
# IMAP (host key, port key, TLS mode).  Keys are read with the stack's prefix;
# a host key the stack lacks falls back to HOST.
SMTP_MODES = {
    "submission": ("SUBMISSION_PORT", "starttls", True),   # 587: STARTTLS + AUTH
    "smtps": ("SMTPS_PORT", "tls", True),                  # 465: implicit TLS + AUTH
    "plain": ("SMTP_PORT", "none", False),                 # 25: no TLS, no AUTH
    "mx": ("SMTP_PORT", "starttls", False),                # 25 with STARTTLS, no AUTH
}
IMAP_MODES = {
    "starttls": ("IMAP_HOST", "IMAP_PORT", "starttls"),
    "tls": ("IMAPS_HOST", "IMAPS_PORT", "tls"),
    "none": ("HOST", "IMAP_PLAIN_PORT", "none"),
    "noidle": ("IMAP_NOIDLE_HOST", "IMAP_NOIDLE_PORT", "starttls"),
    "stockidle": ("IMAP_HOST", "IMAP_STOCKIDLE_PORT", "starttls"),
}


def stack_route(env, name="r1", user="bob", sender="alice", smtp="submission",
                imap="starttls", **extra):
    """INI text of one route against a stack (see SMTP_MODES, IMAP_MODES).
    extra: more keys (None removes a key)."""
    P = env.get("_PREFIX", "MS_")
    d = env[P + "DOMAIN"]
    keys = {
        "from": f"{sender}@{d}", "to": f"{user}@{d}",
        "smtp_host": env[P + "HOST"], "tls_ca": env[P + "CA"],
        "imap_username": user, "imap_password": password(env, user),
        "timeout": "20s", "poll_interval": "200ms",
    }
    port, tls, auth = SMTP_MODES[smtp]
    keys.update(smtp_port=env[P + port], smtp_tls=tls)
    if auth:
        keys.update(smtp_username=sender, smtp_password=password(env, sender))
    host, port, tls = IMAP_MODES[imap]
    keys.update(imap_host=env.get(P + host, env[P + "HOST"]), imap_port=env[P + port], imap_tls=tls)
    for k, v in extra.items():
        if v is None:
            keys.pop(k, None)
        else:
            keys[k] = v
    body = "".join(f"{k} = {v}\n" for k, v in keys.items())
    return f"[{name}]\n{body}\n"


def fake_route(fake, name, pw, **over):
    """INI text of one route against the fake server (tests/fake/fakemail.py):
    alice sends to bob, both logging in with pw; over: keys to change."""
    keys = {
        "from": "alice@fake.test", "to": "bob@fake.test",
        "smtp_host": "127.0.0.1", "smtp_port": fake.ports["SMTP_PORT"],
        "smtp_username": "alice", "smtp_password": pw,
        "imap_host": "127.0.0.1", "imap_port": fake.ports["IMAP_PORT"],
        "imap_username": "bob", "imap_password": pw, "tls_ca": fake.ca,
        "timeout": "3s", "connect_timeout": "2s", "poll_interval": "200ms",
        "check_junk": "false",
    }
    keys.update(over)
    return f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"


def provable_probe(pw, route, user, to, stamp, nonce, token=None):
    """A probe message as route would have sent it at stamp (Unix seconds),
    with the token plugin/probe_id.c makes for it (HMAC under the route key
    from the IMAP password, route name, IMAP user and to); token= forges one."""
    import hashlib
    import hmac
    labels = b"".join(x.encode() + b"\0" for x in ("mail-e2e-route-key/v1", route, user, to))
    key = hmac.new(pw.encode(), hashlib.sha256(labels).digest(), hashlib.sha256).digest()
    token = token or hmac.new(key, f"mail-e2e-probe/v1/{stamp}/{nonce}".encode(),
                              hashlib.sha256).hexdigest()[:32]
    return (f"From: alice@fake.test\r\nTo: {to}\r\nSubject: [e2e email monitoring] {token}\r\n"
            f"Message-ID: <{stamp}.{nonce}.mail-e2e@fake.test>\r\nX-Mail-E2E-Probe: {token}\r\n"
            f"\r\nprobe\r\n")


def config_text(*routes, defaults=None):
    head = ""
    if defaults:
        head = "[defaults]\n" + "".join(f"{k} = {v}\n" for k, v in defaults.items()) + "\n"
    return head + "".join(routes)


def imap_inspect(env, user, mailbox="INBOX"):
    """Open an IMAP session (Python's imaplib, implicit TLS) for checking what
    is in a mailbox; returns the logged-in, selected connection."""
    import imaplib
    import ssl
    ctx = ssl.create_default_context(cafile=env["MS_CA"])
    c = imaplib.IMAP4_SSL(env["MS_HOST"], int(env["MS_IMAPS_PORT"]), ssl_context=ctx)
    c.login(user, password(env, user))
    c.select(mailbox)
    return c


def probe_messages(env, user, mailbox="INBOX"):
    """UIDs of messages carrying an X-Mail-E2E-Probe header."""
    c = imap_inspect(env, user, mailbox)
    try:
        typ, data = c.uid("SEARCH", None, "HEADER", "X-Mail-E2E-Probe", '""')
        return [int(x) for x in (data[0] or b"").split()]
    finally:
        c.logout()



def drain_held(env, user="held", timeout=20.0):
    """Release what earlier tests left in Postfix's hold queue, wait until
    the queue is empty (their delivery lands now, not in the middle of the
    next probe), then delete every probe message in user's INBOX.  Returns
    whether the queue drained in time."""
    conf = env["MS_POSTFIX_CONF"]
    subprocess.run(["postsuper", "-c", conf, "-H", "ALL"], capture_output=True, timeout=30)
    subprocess.run(["postqueue", "-c", conf, "-f"], capture_output=True, timeout=30)
    end = time.monotonic() + timeout
    drained = False
    while time.monotonic() < end:
        q = subprocess.run(["postqueue", "-c", conf, "-j"], capture_output=True, text=True, timeout=30)
        if q.returncode == 0 and q.stdout.strip() == "":
            drained = True
            break
        time.sleep(0.05)
    c = imap_inspect(env, user)
    try:
        typ, data = c.uid("SEARCH", None, "HEADER", "X-Mail-E2E-Probe", '""')
        uids = (data[0] or b"").split()
        if uids:
            c.uid("STORE", b",".join(uids).decode(), "+FLAGS.SILENT", r"(\Deleted)")
            c.expunge()
    finally:
        c.logout()
    return drained

# --- streaming mode ---------------------------------------------------------

class Stream:
    """mail-e2e in streaming mode, as Telegraf's execd runs it."""

    def __init__(self, config_path, args=(), env=None, stdin=subprocess.PIPE, preexec_fn=None):
        self.p = subprocess.Popen([binary(), "-config", config_path] + list(args),
                                  stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, preexec_fn=preexec_fn)
        self.out_buf = b""
        self.err_buf = b""
        self.lines = []
        _cleanups.append(self.kill)

    def wait_ready(self, timeout=10):
        """Wait for the start-up I! line: signal handlers are in place."""
        end = time.monotonic() + timeout
        while b"waiting for signals" not in self.err_buf and time.monotonic() < end:
            if not self._pump(end - time.monotonic()) and self.p.poll() is not None:
                break
        return b"waiting for signals" in self.err_buf

    def signal(self, text="\n"):
        self.p.stdin.write(text.encode() if isinstance(text, str) else text)
        self.p.stdin.flush()

    def close_stdin(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass

    def _pump(self, timeout):
        fds = [f for f in (self.p.stdout, self.p.stderr) if f and not f.closed]
        r, _, _ = select.select(fds, [], [], max(timeout, 0))
        got = False
        for f in r:
            chunk = os.read(f.fileno(), 65536)
            if not chunk:
                continue
            got = True
            if f is self.p.stdout:
                self.out_buf += chunk
                *done, self.out_buf = self.out_buf.split(b"\n")
                self.lines += [d.decode(errors="replace") for d in done]
            else:
                self.err_buf += chunk
        return got

    def wait_lines(self, n, timeout):
        """Wait until at least n stdout lines arrived; returns True if so."""
        end = time.monotonic() + timeout
        while len(self.lines) < n and time.monotonic() < end:
            if not self._pump(end - time.monotonic()) and self.p.poll() is not None:
                break
        return len(self.lines) >= n

    def wait_exit(self, timeout):
        """Wait for the process to exit, reading its output; returns rc or None."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._pump(min(0.05, max(end - time.monotonic(), 0)))
            if self.p.poll() is not None:
                while self._pump(0):
                    pass
                return self.p.returncode
        return None

    @property
    def err(self):
        return self.err_buf.decode(errors="replace")

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def finish(self, what):
        """Check stderr hygiene and secrets once the process is done."""
        check_no_leak(what, "\n".join(self.lines), self.err)
        check_stderr_prefixes(what, self.err)


def _cleanup():
    for fn in reversed(_cleanups):
        try:
            fn()
        except Exception:
            pass
    import shutil
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)
