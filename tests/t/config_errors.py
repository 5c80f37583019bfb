#!/usr/bin/env python3
"""Configuration errors: each malformed file gives exit 78 and exactly one
E! line naming the file, line, section and key, never a password.  Good
files pass --check-config without showing a secret.  Command-line errors
give 64."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, run, write_config, write_file, tmpdir, secret  # noqa: E402

PW = secret("Sup3r-s3cret-pw")
PW2 = secret("an0ther-s3cret")
D = tmpdir()
CA = write_file(os.path.join(D, "ca.pem"), "not really a CA\n", 0o644)
PWFILE = write_file(os.path.join(D, "pw"), PW2 + "\n", 0o600)
TOKEN = secret("ya29.config-test-token-" + "t" * 40)
TOKFILE = write_file(os.path.join(D, "token"), TOKEN + "\n", 0o600)
TOKFILE_644 = write_file(os.path.join(D, "token644"), TOKEN + "\n", 0o644)
TOKFILE_EMPTY = write_file(os.path.join(D, "token-empty"), "\n", 0o600)
TOKFILE_BLANK = write_file(os.path.join(D, "token-blank"), "ya29 x\n", 0o600)
EMPTYPW = write_file(os.path.join(D, "empty-pw"), "\n", 0o600)
OPENPW = write_file(os.path.join(D, "open-pw"), PW2 + "\n", 0o644)
FIFO = os.path.join(D, "fifo")
os.mkfifo(FIFO, 0o600)   # a "password file" nobody writes to: must not block

GOOD = f"""[r1]
from = alice@a.test
to = bob@b.test
smtp_host = smtp.a.test
imap_host = imap.b.test
imap_username = bob
imap_password = {PW}
"""


def route(**over):
    """GOOD with keys replaced (None: removed) or added."""
    lines = []
    keys = {}
    for l in GOOD.strip().split("\n")[1:]:
        k, v = l.split(" = ", 1)
        keys[k] = v
    for k, v in over.items():
        if v is None:
            keys.pop(k, None)
        else:
            keys[k] = v
    return "[r1]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())


# (name, text, expected substring of the single error line)
BAD = [
    ("unknown key", route(smtp_hots="x"), ":8: [r1] smtp_hots: unknown key (did you mean smtp_host?)"),
    ("unknown key, a unique beginning", route(smtp_user="x"), ":8: [r1] smtp_user: unknown key (did you mean smtp_username?)"),
    ("unknown key near a process key", route(formatt="json"), ":8: [r1] formatt: unknown key (did you mean format?)"),
    ("unknown key in defaults, misspelt", "[defaults]\ntimout = 5s\n" + GOOD,
     ":2: [defaults] timout: unknown key (did you mean timeout?)"),
    ("duplicate key", GOOD + "from = c@a.test\n", ":8: [r1] from: duplicate key (first at line 2)"),
    ("duplicate section", GOOD + "[r1]\nto = x@y.test\n", ":8: [r1] duplicate section"),
    ("bad section name", "[r 1]\n" + GOOD.split("\n", 1)[1], ":1: bad section name [r 1]"),
    ("key before any section", "from = a@b.test\n" + GOOD, ":1: from: key outside any [section]"),
    ("process key in a route", route(format="json"), ":8: [r1] format: allowed only in [defaults]"),
    ("bad duration", route(timeout="10 s"), ":8: [r1] timeout: not a duration"),
    ("zero timeout", route(timeout="0"), ":8: [r1] timeout: too short"),
    ("poll_interval too short", route(poll_interval="50ms"), "[r1] poll_interval: too short: at least 100ms"),
    ("interval below 1s", "[defaults]\ninterval = 500ms\n" + GOOD, ":2: [defaults] interval: at least 1s"),
    ("shutdown_grace above 4s", "[defaults]\nshutdown_grace = 5s\n" + GOOD, ":2: [defaults] shutdown_grace: at most 4s"),
    ("port zero", route(smtp_port="0"), ":8: [r1] smtp_port: not a port (1-65535): \"0\""),
    ("port too big", route(imap_port="70000"), ":8: [r1] imap_port: not a port"),
    ("port not a number", route(smtp_port="smtp"), "[r1] smtp_port: not a port"),
    ("bad tls mode", route(smtp_tls="ssl"), "[r1] smtp_tls: expected starttls, tls or none, got \"ssl\""),
    ("bad boolean", route(delete="maybe"), "[r1] delete: expected true/false"),
    ("bad idle", route(idle="always"), "[r1] idle: expected auto or off"),
    ("bad smtp_auth", route(smtp_username="alice", smtp_password=PW, smtp_auth="GSSAPI"),
     "[r1] smtp_auth: expected auto, PLAIN, LOGIN, CRAM-MD5, XOAUTH2 or OAUTHBEARER, got \"GSSAPI\""),
    ("imap_auth XOAUTH2 without a token file", route(imap_auth="xoauth2"),
     "[r1] imap_auth: XOAUTH2 needs imap_oauth2_token_file"),
    ("token file and password together", route(imap_oauth2_token_file=TOKFILE),
     "[r1] imap_oauth2_token_file: set together with imap_password: keep one"),
    ("PLAIN with a token file", route(imap_password=None, imap_oauth2_token_file=TOKFILE, imap_auth="PLAIN"),
     "[r1] imap_auth: PLAIN cannot use a token"),
    ("smtp token without a username", route(smtp_oauth2_token_file=TOKFILE),
     "[r1] smtp_username: a token file is set but no smtp_username"),
    ("smtp_auth without a username", route(smtp_auth="PLAIN"),
     "[r1] smtp_username: smtp_auth is set but no smtp_username"),
    ("missing token file", route(imap_password=None, imap_oauth2_token_file=D + "/no-such-token"),
     "[r1] imap_oauth2_token_file: cannot read"),
    ("token file readable by others", route(imap_password=None, imap_oauth2_token_file=TOKFILE_644),
     "holds a token and is accessible by others (mode 0644): chmod 600 it"),
    ("empty token file", route(imap_password=None, imap_oauth2_token_file=TOKFILE_EMPTY),
     "the token (first line) is empty"),
    ("token with a blank", route(imap_password=None, imap_oauth2_token_file=TOKFILE_BLANK),
     "the token contains a blank or control character"),
    ("token file is a directory", route(imap_password=None, imap_oauth2_token_file=D),
     "is not a regular file"),
    ("bad sweep_after", route(sweep_after="soon"), ":8: [r1] sweep_after: not a duration"),
    ("sweep_after above a week", route(sweep_after="200h"), "[r1] sweep_after: not a duration"),
    ("bad check_junk", route(check_junk="sometimes"), "[r1] check_junk: expected true/false"),
    ("bad junk_is_failure", route(junk_is_failure="2"), "[r1] junk_is_failure: expected true/false"),
    ("empty imap_junk_mailbox", route(imap_junk_mailbox=""), "[r1] imap_junk_mailbox: empty"),
    ("junk mailbox is the inbox", route(imap_junk_mailbox="inbox"),
     "[r1] imap_junk_mailbox: the same as imap_mailbox (INBOX)"),
    ("CR in imap_junk_mailbox", route(imap_junk_mailbox="Ju\rnk"), "[r1] imap_junk_mailbox"),
    ("bad format", "[defaults]\nformat = xml\n" + GOOD, ":2: [defaults] format: expected influx or json"),
    ("missing from", route(**{"from": None}), ":1: [r1] from: required"),
    ("missing to", route(to=None), "[r1] to: required"),
    ("missing smtp_host", route(smtp_host=None), "[r1] smtp_host: required"),
    ("missing imap_host", route(imap_host=None), "[r1] imap_host: required"),
    ("missing imap_username", route(imap_username=None), "[r1] imap_username: required"),
    ("missing imap password", route(imap_password=None), "[r1] imap_password: required"),
    ("smtp_username without password", route(smtp_username="alice"), "[r1] smtp_password: smtp_username is set"),
    ("smtp password without username", route(smtp_password=PW), "[r1] smtp_username: a password is set but no smtp_username"),
    ("password and password_file together", route(imap_password_file=PWFILE), "[r1] imap_password_file: set together with imap_password"),
    ("password file missing", route(imap_password=None, imap_password_file=D + "/nope"), "[r1] imap_password_file: cannot read"),
    ("password file empty", route(imap_password=None, imap_password_file=EMPTYPW), "the password (first line) is empty"),
    ("password file open to others", route(imap_password=None, imap_password_file=OPENPW), "accessible by others (mode 0644)"),
    ("unset variable", route(smtp_host="${MAIL_E2E_TEST_UNSET_VAR}"), "[r1] smtp_host: environment variable MAIL_E2E_TEST_UNSET_VAR is not set"),
    ("unterminated variable", route(smtp_host="${HOME"), "[r1] smtp_host: unterminated or empty ${...}"),
    ("bad address", route(to="bob at b.test"), "[r1] to: not an e-mail address"),
    ("address with brackets", route(to="<bob@b.test>"), "[r1] to: not an e-mail address"),
    ("bad host", route(smtp_host="smtp a.test"), "[r1] smtp_host: not a host name"),
    ("tls_ca unreadable", route(tls_ca=D + "/no-ca.pem"), "[r1] tls_ca: cannot read"),
    ("line too long", route(subject_prefix="x" * 200), ":8: [r1] line too long"),
    ("syntax error", GOOD + "this line has no equals sign\n", ":8: syntax error"),
    ("section without ]", "[r1\n" + GOOD.split("\n", 1)[1], ":1: section header without ']'"),
    ("no route", "[defaults]\ntimeout = 5s\n", "no route defined"),
    ("empty file", "", "no route defined"),
    ("non-ASCII subject_prefix", route(subject_prefix="[pr\u00fcfung]"), "[r1] subject_prefix: only printable ASCII"),
    ("empty value", route(imap_mailbox=""), "[r1] imap_mailbox: empty"),
    ("unknown key in defaults", "[defaults]\ncolour = blue\n" + GOOD, ":2: [defaults] colour: unknown key"),
    ("bad default even if overridden", "[defaults]\ntimeout = soon\n" + route(timeout="5s"), ":2: [defaults] timeout: not a duration"),
    # issue 21: one rule for comments; a value starting with '"' ends with '"'
    ("unterminated quote", route(subject_prefix='"[e2e monitoring]'),
     ":8: [r1] subject_prefix: unterminated quote"),
    ("text after the closing quote", route(subject_prefix='"[e2e]" monitoring'),
     ":8: [r1] subject_prefix: unterminated quote"),
    ("comment right after the closing quote", route(subject_prefix='"[e2e]"# no blank'),
     ":8: [r1] subject_prefix: unterminated quote"),
    ("a value without a key", GOOD + "= 5s\n", ":8: [r1] a value without a key"),
    ("a comment makes a value empty", route(imap_mailbox="# Archive"), ":8: [r1] imap_mailbox: empty"),
    ("a comment makes a duration", route(timeout="5 s # five seconds"), ":8: [r1] timeout: not a duration"),
    ("a comment cuts a key line", GOOD + "timeout # = 5s\n", ":8: syntax error"),
    ("NUL byte in a value", GOOD + "subject_prefix = abc\0def\n", ":8: [r1] line contains a NUL byte"),
    ("mailbox not UTF-8", route(imap_mailbox="Entw\udcfcrfe"), "[r1] imap_mailbox: not UTF-8"),
    ("password file is a FIFO", route(imap_password=None, imap_password_file=FIFO), "fifo is not a regular file"),
    ("token file is a FIFO", route(imap_password=None, imap_oauth2_token_file=FIFO), "fifo is not a regular file"),
    ("password file is a directory", route(imap_password=None, imap_password_file=D), "is not a regular file"),
    # the table of authentication methods (auth_methods.h) names the choices
    ("require_auth unknown method", route(require_auth="spf, sender-id"),
     '[r1] require_auth: expected a list of spf, dkim, dmarc, arc; got "sender-id"'),
    ("require_auth method twice", route(require_auth="dkim, DKIM"), "[r1] require_auth: dkim named twice"),
    # SPEC §12: direct delivery to the MX
    ("smtp_via unknown", route(smtp_via="direct"), '[r1] smtp_via: expected submission or mx, got "direct"'),
    ("mx with smtp_host", route(smtp_via="mx"),
     ":4: [r1] smtp_host: must be absent with smtp_via = mx (the message goes to the MX hosts of b.test, without AUTH)"),
    ("mx with smtp_host from [defaults]", "[defaults]\nsmtp_host = smtp.a.test\n" + route(smtp_host=None, smtp_via="mx"),
     ":2: [defaults] smtp_host: must be absent: route [r1] has smtp_via = mx"),
    ("mx with smtp_username", route(smtp_host=None, smtp_via="mx", smtp_username="alice", smtp_password=PW),
     "[r1] smtp_username: must be absent with smtp_via = mx"),
    ("mx with a password file", route(smtp_host=None, smtp_via="mx", smtp_password_file=PWFILE),
     "[r1] smtp_password_file: must be absent with smtp_via = mx"),
    ("mx with a token file", route(smtp_host=None, smtp_via="mx", smtp_oauth2_token_file=TOKFILE),
     "[r1] smtp_oauth2_token_file: must be absent with smtp_via = mx"),
    ("mx with smtp_port", route(smtp_host=None, smtp_via="mx", smtp_port="25"),
     "[r1] smtp_port: has no meaning with smtp_via = mx (mx_port sets the port"),
    ("mx with smtp_tls", route(smtp_host=None, smtp_via="mx", smtp_tls="none"), "[r1] smtp_tls: has no meaning"),
    ("mx_port on a submission route", route(mx_port="2525"), "[r1] mx_port: only with smtp_via = mx"),
    ("mx_port not a port", route(smtp_host=None, smtp_via="mx", mx_port="0"), '[r1] mx_port: not a port (1-65535): "0"'),
    ("require_tls_policy unknown", route(smtp_host=None, smtp_via="mx", require_tls_policy="dane, sts"),
     '[r1] require_tls_policy: expected a list of mta-sts, dane; got "sts"'),
    ("require_tls_policy twice", route(smtp_host=None, smtp_via="mx", require_tls_policy="dane,DANE"),
     "[r1] require_tls_policy: dane named twice"),
    ("require_tls_policy on a submission route", route(require_tls_policy="dane"),
     "[r1] require_tls_policy: only with smtp_via = mx"),
    ("resolver not an address", "[defaults]\nresolver = dns.example\n" + GOOD,
     ':2: [defaults] resolver: expected an IP address, IP:port or [IPv6]:port, got "dns.example"'),
    ("resolver port out of range", "[defaults]\nresolver = [::1]:65536\n" + GOOD, ":2: [defaults] resolver: expected"),
    ("resolver in a route", route(resolver="127.0.0.1"), "[r1] resolver: allowed only in [defaults]"),
    ("trust anchor missing", "[defaults]\ndnssec_trust_anchor = /nonexistent/root.key\n" + GOOD,
     ":2: [defaults] dnssec_trust_anchor: cannot read /nonexistent/root.key: No such file or directory"),
    ("trust anchor without a DS or DNSKEY record", f"[defaults]\ndnssec_trust_anchor = {CA}\n" + GOOD,
     "[defaults] dnssec_trust_anchor: " + CA + " holds no DS or DNSKEY record"),
    ("helo_name not a name", "[defaults]\nhelo_name = bad..name\n" + GOOD,
     '[defaults] helo_name: not a host name or address literal ([192.0.2.1]): "bad..name"'),
    ("helo_name in a route", route(helo_name="probe.a.test"), "[r1] helo_name: allowed only in [defaults]"),
]

for name, text, want in BAD:
    path = write_config(text)
    r = run(["--check-config", "-c", path], what=f"bad config: {name}")
    lines = [l for l in r.err.split("\n") if l]
    T.eq(r.rc, 78, f"{name}: exit 78")
    ok = len(lines) == 1 and lines[0].startswith("E! " + path) and want in lines[0]
    T.ok(ok, f"{name}: one E! line with file and '{want}'", r.err)
    T.eq(r.out, "", f"{name}: nothing on stdout")

# SPEC §12: a good mx route and the process keys, as --check-config shows them.
ANCHOR = write_file(os.path.join(D, "root.ds"), ". 3600 IN DS 20326 8 2 "
                    "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D ; the root KSK\n", 0o644)
r = run(["--check-config", "-c", write_config(
    f"[defaults]\nresolver = [::1]:5353\ndnssec_trust_anchor = {ANCHOR}\nhelo_name = [IPv6:2001:db8::25]\n\n"
    + route(smtp_host=None, smtp_via="mx", mx_port="2525", require_tls_policy="DANE, mta-sts"))],
        what="an mx route")
T.ok(r.rc == 0 and "resolver = [::1]:5353\n" in r.out and f"dnssec_trust_anchor = {ANCHOR}\n" in r.out
     and "helo_name = [IPv6:2001:db8::25]\n" in r.out and "  smtp_via = mx\n" in r.out
     and "the MX hosts of b.test, port 2525" in r.out and "require_tls_policy = mta-sts, dane\n" in r.out
     and "smtp_username" not in r.out, "good config: an mx route, its keys and the process keys shown", r)
r = run(["--check-config", "-c", write_config(route(smtp_host=None, smtp_via="mx"))], what="an mx route, defaults")
T.ok(r.rc == 0 and "resolver = (the system's: /etc/resolv.conf)\n" in r.out
     and "dnssec_trust_anchor = (the system's root key: /usr/share/dns/root.key)\n" in r.out
     and re.search(r"^helo_name = \S+ \(the host's FQDN", r.out, re.M) and "port 25 " in r.out
     and "require_tls_policy = (none)\n" in r.out, "good config: an mx route's defaults shown", r)
r = run(["--check-config", "-c", write_config(route())], what="a submission route, helo_name unset")
T.ok(r.rc == 0 and "helo_name = (libcurl's: the host name)\n" in r.out and "smtp_via" not in r.out,
     "good config: a submission route keeps libcurl's EHLO name", r)

# A word that is no slip of the finger gets no suggestion.
r = run(["--check-config", "-c", write_config("[defaults]\ncolour = blue\n" + GOOD)], what="colour")
T.ok(r.rc == 78 and r.err.rstrip("\n").endswith("[defaults] colour: unknown key"), "unknown key far from any: no suggestion", r)

# A CR can only come from the environment: header injection is refused.
env = dict(os.environ, MAIL_E2E_TEST_CR="evil\r\nBcc: x@y.test")
r = run(["--check-config", "-c", write_config(route(subject_prefix="${MAIL_E2E_TEST_CR}"))],
        what="CR from ${VAR}", env=env)
T.ok(r.rc == 78 and "control character" in r.err, "CR/LF from ${VAR}: refused (78)", r)

# Permissions of the config file itself when it holds a password.
p = write_config(GOOD, mode=0o604)
r = run(["--check-config", "-c", p], what="config readable by others")
T.ok(r.rc == 78 and "accessible by others (mode 0604)" in r.err, "config with a password, mode 0604: refused", r)
p = write_config(GOOD, mode=0o640)
r = run(["--check-config", "-c", p], what="config readable by group")
T.ok(r.rc == 0 and r.err.startswith("W! ") and "group" in r.err, "config with a password, mode 0640: W! line, accepted", r)
p = write_config(route(imap_password=None, imap_password_file=PWFILE), mode=0o644)
r = run(["--check-config", "-c", p], what="no inline password, mode 0644")
T.eq(r.rc, 0, "config without an inline password may be world-readable (0644)")

r = run(["--check-config", "-c", D + "/does-not-exist.conf"], what="missing file")
T.ok(r.rc == 78 and "does-not-exist.conf: cannot open" in r.err, "missing config file: 78 naming it", r)
for args, what in ((["--check-config", "-c", D], "--check-config -c DIR"), (["--once", "-c", D + "/"], "--once -c DIR/"),
                   (["-c", D], "streaming -c DIR")):
    r = run(args, what=what)
    lines = [l for l in r.err.split("\n") if l]
    T.ok(r.rc == 78 and len(lines) == 1 and lines[0].startswith(f"E! {args[-1]}: is a directory: -c takes the "
                                                                 f"configuration file itself, e.g. {D}/mail-e2e.conf"),
         f"{what}: 78, one E! line says it is a directory and what to give", r)
r = run(["--once", "-c", write_config(route(smtp_port="0"))], what="--once with bad config")
T.eq(r.rc, 78, "--once with a bad config: 78 before any probe")

# Good files: accepted, every route listed, secrets only as (set) / (from FILE).
GOOD2 = f"""[defaults]
; comment
# another comment
format = json
timeout = 30s
from = alice@a.test
smtp_host = smtp.a.test
smtp_username = alice
smtp_password_file = {PWFILE}
    imap_host = imap.b.test

[outbound]
to = bob@b.test
imap_username = bob
imap_password = "{PW}"
smtp_tls = tls

[inbound.2]
to = carol@b.test
imap_username = carol
imap_password_file = {PWFILE}
imap_tls = tls
imap_port = 10993
"""
r = run(["--check-config", "-c", write_config(GOOD2)], what="good config")
T.eq(r.rc, 0, "good config: exit 0")
T.ok("[outbound]" in r.out and "[inbound.2]" in r.out, "good config: both routes listed", r.out)
T.ok("smtp = smtp.a.test:465 (tls)" in r.out, "good config: port default follows smtp_tls = tls", r.out)
T.ok("imap = imap.b.test:143 (starttls)" in r.out and "imap = imap.b.test:10993 (tls)" in r.out,
     "good config: indented key inherited, explicit port kept", r.out)
T.ok("imap_password = (set)" in r.out and f"(from {PWFILE})" in r.out, "good config: secrets shown as (set) / (from FILE)", r.out)
T.ok("format = json" in r.out and "timeout = 30s\n" in r.out, "good config: process keys and defaults applied", r.out)
T.ok("sweep_after = 1h\n" in r.out and "check_junk = true" in r.out and
     "imap_junk_mailbox = (\\Junk from LIST)" in r.out and "junk_is_failure = false" in r.out,
     "good config: issue 5 defaults (sweep_after 1h, check_junk on, junk found by LIST)", r.out)
r = run(["--check-config", "-c", write_config(route(sweep_after="0", check_junk="no",
                                                   imap_junk_mailbox="Spam", junk_is_failure="yes"))],
        what="issue 5 keys set")
T.ok(r.rc == 0 and "sweep_after = 0s (off)\n" in r.out and "check_junk = false" in r.out and
     "imap_junk_mailbox = Spam" in r.out and "junk_is_failure = true" in r.out,
     "good config: sweep_after = 0 turns the sweep off; junk keys accepted", r)
r = run(["--check-config", "-c", write_config(route(imap_password=None, imap_oauth2_token_file=TOKFILE,
                                                   smtp_username="alice", smtp_oauth2_token_file=TOKFILE,
                                                   smtp_auth="oauthbearer"))],
        what="OAuth2 token files")
T.ok(r.rc == 0 and f"imap_oauth2_token_file = {TOKFILE}" in r.out and "imap_auth = AUTO" in r.out and
     "smtp_auth = OAUTHBEARER" in r.out, "good config: token files on both legs, mechanism in upper case", r)
r = run(["--check-config", "-c", write_config(
    f"[defaults]\nimap_password = {PW}\n\n" + route(imap_password=None, imap_oauth2_token_file=TOKFILE))],
        what="route token file over a default password")
T.ok(r.rc == 0 and f"imap_oauth2_token_file = {TOKFILE}" in r.out and "imap_password =" not in r.out,
     "good config: a route's own token file wins over [defaults] imap_password", r)
r = run(["--check-config", "-c", write_config(
    f"[defaults]\nimap_oauth2_token_file = {TOKFILE}\n\n" + route())],
        what="route password over a default token file")
T.ok(r.rc == 0 and "imap_password = (set)" in r.out and "imap_oauth2_token_file" not in r.out,
     "good config: a route's own password wins over a [defaults] token file", r)
r = run(["--check-config", "-c", write_config(route(require_auth="arc,DMARC  spf"))], what="require_auth")
T.ok(r.rc == 0 and "require_auth = spf, dmarc, arc\n" in r.out,
     "good config: require_auth listed in the table's order, lower case", r)
r = run(["--check-config", "-c", write_config(route())], what="require_auth unset")
T.ok(r.rc == 0 and "require_auth = (none)\n" in r.out, "good config: require_auth unset is (none)", r)
env = dict(os.environ, MAIL_E2E_TEST_HOST="imap.example.test")
r = run(["--check-config", "-c", write_config(route(imap_host="${MAIL_E2E_TEST_HOST}", subject_prefix="cost $$5"))],
        what="env expansion", env=env)
T.ok(r.rc == 0 and "imap = imap.example.test:143" in r.out and "subject_prefix = cost $5" in r.out,
     "good config: ${VAR} expanded, $$ is a literal $", r)

# One rule for comments (issue 21, README "Configuration"): ';' or '#'
# after a blank starts a comment anywhere; a quoted value keeps both.
COMMENTS = f"""\ufeff# a byte order mark, then a comment
[defaults]   # the section line may have one too
timeout = 30s # half a minute
connect_timeout = 5s ; five seconds
\t# an indented comment line
    ; and another

[r1]   ; the route
from = alice@a.test   # who sends
to = bob@b.test;x # ';' right after text is text: refused as an address
"""
r = run(["--check-config", "-c", write_config(COMMENTS)], what="comments: ';' right after text")
T.ok(r.rc == 78 and ':10: [r1] to: not an e-mail address: "bob@b.test;x"' in r.err,
     "comments: a ';' right after text belongs to the value", r)
COMMENTS = COMMENTS.replace("to = bob@b.test;x # ';' right after text is text: refused as an address\n", f"""\
to = bob@b.test\t#\tafter a tab
smtp_host = smtp.a.test ;
imap_host = imap.b.test #
imap_username = bob # the IMAP user
imap_password = "{PW}" # quoted, then a comment
subject_prefix = "[probe #1; e2e]"   ; quoted: '#' and ';' kept
imap_mailbox = Archive#2020
""")
r = run(["--check-config", "-c", write_config(COMMENTS)], what="comments")
T.eq(r.rc, 0, "comments: a file with comments everywhere is accepted", )
for want in ("timeout = 30s\n", "connect_timeout = 5s\n", "  from = alice@a.test\n",
             "  to = bob@b.test\n", "smtp = smtp.a.test:587", "imap = imap.b.test:143",
             "imap_username = bob\n", "imap_password = (set)", "subject_prefix = [probe #1; e2e]\n",
             "imap_mailbox = Archive#2020\n"):
    T.ok(want in r.out, f"comments: {want.strip()}", r)

# --check-config shows each duration in the unit it was written in (issue 21).
r = run(["--check-config", "-c", write_config("[defaults]\ninterval = 90\nconnect_timeout = 2500ms\n\n" +
                                               route(timeout="1m30s", poll_interval="1.5s", sweep_after="2h30m"))],
        what="durations as written")
for want in ("interval = 90s\n", "shutdown_grace = 3s\n", "  timeout = 1m30s\n", "  connect_timeout = 2500ms\n",
             "  poll_interval = 1.5s\n", "  sweep_after = 2h30m\n"):
    T.ok(r.rc == 0 and want in r.out, f"durations as written: {want.strip()}", r)
r = run(["--check-config", "-c", write_config(route())], what="durations by default")
for want in ("interval = (none)\n", "shutdown_grace = 3s\n", "  timeout = 60s\n", "  connect_timeout = 10s\n",
             "  poll_interval = 2s\n", "  sweep_after = 1h\n"):
    T.ok(r.rc == 0 and want in r.out, f"durations by default: {want.strip()}", r)
r = run(["--check-config", "-c", write_config("[defaults]\ninterval = 0\n\n" + route())], what="interval 0")
T.ok(r.rc == 0 and "interval = 0s (off)\n" in r.out, "interval = 0: shown as off", r)

# The command line.
for args, what in ((["--format", "xml"], "--format xml"), (["--bogus"], "unknown option"),
                   (["-c"], "-c without a value"), (["stray"], "stray argument")):
    r = run(args, what=what)
    T.ok(r.rc == 64 and r.err.startswith("E! "), f"command line {what}: exit 64 with an E! line", r)
r = run(["--help"], what="--help")
T.ok(r.rc == 0 and "usage: mail-e2e" in r.out and "--check-config" in r.out, "--help: usage on stdout, exit 0", r)
r = run(["--version"], what="--version")
T.ok(r.rc == 0 and r.out.startswith("mail-e2e "), "--version: exit 0", r)
T.done()
