#!/usr/bin/env python3
"""Spam verdicts against the fake server (issue 24, SPEC §13): the header
block the "delivery" writes decides the fields, so the forms no test world
has can be checked exactly -- Microsoft 365's (X-MS-Exchange-Organization-SCL,
X-Forefront-Antispam-Report with SFV, SCL, CAT; samples shaped like
Microsoft's documentation of the antispam message headers) -- and the order
of the verdicts on a found probe: auth_failed (require_auth), then
spam_flagged (max_spam_score), then junk (junk_is_failure).  The real
rspamd and SpamAssassin are tests/t/stack_spam.py.

Checked: Microsoft spam (SFV:SPM) with max_spam_score is spam_flagged (15)
with the filter and why in error, scl and spam written, no spam_score, the
probe deleted; Microsoft ham from the report's SCL alone; no SFV and SCL 6 is
spam; SCL -1 (SFV:SKN) is ham; spam_filter_from = microsoft picks the
Microsoft headers below SpamAssassin's; without max_spam_score a spam verdict
is only reported; the order with require_auth and junk_is_failure; a header
block that cannot be read: success with a W! line that max_spam_score was not
checked; JSON keys (null where absent)."""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import result_codes, T, Stream, write_config, secret, parse_line, fake_route, check_no_leak, run as run_bin  # noqa: E402
from fakemail import FakeMail  # noqa: E402

PW = secret("spamverdict-Pw-3107")
USERS = f"user alice {PW}\nuser bob {PW}\n"
CODES = result_codes()

MS_SPAM = ["X-MS-Exchange-Organization-SCL: 9",
           "X-Forefront-Antispam-Report: CIP:192.0.2.1;CTRY:US;LANG:en;SCL:9;SRV:;IPV:NLI;SFV:SPM;"
           "H:mail.fake.test;PTR:mail.fake.test;CAT:SPM;SFS:(13230031)(4636009)(376002);DIR:INB;"]
MS_HAM_REPORT_ONLY = ["X-Forefront-Antispam-Report: CIP:192.0.2.1;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;"
                      "SFV:NSPM;H:mail.fake.test;PTR:mail.fake.test;CAT:NONE;SFS:(13230031);DIR:INB;"]
MS_NO_SFV = ["X-MS-Exchange-Organization-SCL: 6"]
MS_SKIPPED = ["X-MS-Exchange-Organization-SCL: -1",
              "X-Forefront-Antispam-Report: CIP:192.0.2.1;CTRY:;LANG:en;SCL:-1;SRV:;IPV:NLI;SFV:SKN;"
              "H:mail.fake.test;PTR:;CAT:NONE;SFS:;DIR:INB;"]
SA_HAM = ["X-Spam-Checker-Version: SpamAssassin 4.0.1 (2024-03-25) on mx.fake.test",
          "X-Spam-Level: ",
          "X-Spam-Status: No, score=-0.1 required=5.0 tests=DKIM_SIGNED,DKIM_VALID\\r\\n\tautolearn=ham version=4.0.1"]
SA_SPAM = ["X-Spam-Flag: YES",
           "X-Spam-Status: Yes, score=7.3 required=5.0 tests=FAKE_RULE autolearn=no version=4.0.1",
           "X-Spam-Score: 7.3"]
AR_DKIM_FAIL = "Authentication-Results: mx.fake.test; dkim=fail header.d=fake.test; spf=pass"


def headers(*lines):
    return "".join(f"deliver-header {line}\n" for line in lines)


def left(fake):
    """Probes still in any mailbox (not deleted)."""
    out = []
    for box in fake.boxes.values():
        with box.lock:
            out += [m[0] for m in box.msgs if not m[2] and "X-Mail-E2E-Probe" in m[1]]
    return out


def run(script, as_json=False, **route):
    """One --once run; returns (tags, fields, stderr, fake)."""
    fake = FakeMail(USERS + script, tempfile.mkdtemp(prefix="me2e-fake."))
    cfg = write_config(fake_route(fake, "sv", PW, **route))
    s = Stream(cfg, ["--once"] + (["--format", "json"] if as_json else []))
    s.wait_exit(20)
    if not s.lines:
        T.ok(False, "a line", s.err[-1500:])
        return {}, {}, s.err, fake
    check_no_leak("spam_verdicts", "\n".join(s.lines), s.err)
    try:
        _, tags, fields, _ = parse_line(s.lines[0])
    except ValueError:
        tags, fields = {}, json.loads(s.lines[0])
    return tags, fields, s.err, fake


def gone(fake, what):
    """The probe is deleted (the leg deletes before logging out; the line may come first)."""
    end = time.monotonic() + 3
    while left(fake) and time.monotonic() < end:
        time.sleep(0.05)
    T.eq(left(fake), [], f"{what}: the probe is deleted like any found one")


# 1. Microsoft spam over max_spam_score: spam_flagged, deleted.
tags, f, err, fake = run(headers(*MS_SPAM), max_spam_score="5")
T.eq((tags.get("result"), f.get("result_code"), f.get("success")), ("spam_flagged", CODES["spam_flagged"], 0),
     "Microsoft SFV:SPM with max_spam_score: result=spam_flagged, its code, success=0i")
T.eq(f.get("error"), "microsoft: SFV:SPM CAT:SPM", "error names the filter and why")
T.eq((f.get("spam"), f.get("spam_filter"), f.get("scl")), ("spam", "microsoft", 9),
     "spam=spam, spam_filter=microsoft, scl=9i (X-MS-Exchange-Organization-SCL)")
T.ok("spam_score" not in f and "spam_threshold" not in f, "Microsoft gives no spam_score or spam_threshold", f)
gone(fake, "spam_flagged")

# 2. Microsoft ham: SCL from the report when there is no SCL header.
tags, f, err, fake = run(headers(*MS_HAM_REPORT_ONLY), max_spam_score="5")
T.eq((tags.get("result"), f.get("spam"), f.get("scl"), f.get("spam_filter")), ("success", "ham", 1, "microsoft"),
     "SFV:NSPM, SCL:1 in X-Forefront-Antispam-Report only: success, spam=ham, scl=1i")

# 3. No SFV: SCL >= 5 is spam.
tags, f, err, fake = run(headers(*MS_NO_SFV), max_spam_score="5")
T.eq((tags.get("result"), f.get("error"), f.get("scl")), ("spam_flagged", "microsoft: SCL:6", 6),
     "X-MS-Exchange-Organization-SCL: 6 without SFV: spam, spam_flagged, error 'microsoft: SCL:6'")

# 4. SCL -1 (the tenant skipped filtering): ham.
tags, f, err, fake = run(headers(*MS_SKIPPED), max_spam_score="5")
T.eq((tags.get("result"), f.get("spam"), f.get("scl")), ("success", "ham", -1), "SCL -1, SFV:SKN: ham, scl=-1i")

# 5. spam_filter_from: the topmost header decides unless a filter is named.
tags, f, err, fake = run(headers(*SA_HAM, *MS_SPAM))
T.eq((f.get("spam_filter"), f.get("spam"), f.get("spam_score"), f.get("spam_threshold")),
     ("spamassassin", "ham", -0.1, 5.0), "any: the topmost (SpamAssassin's ham, score -0.1 of 5) decides")
tags, f, err, fake = run(headers(*SA_HAM, *MS_SPAM), spam_filter_from="microsoft")
T.eq((f.get("spam_filter"), f.get("spam"), f.get("scl")), ("microsoft", "spam", 9),
     "spam_filter_from = microsoft: Microsoft's headers below SpamAssassin's")
T.eq(tags.get("result"), "success", "without max_spam_score a spam verdict is only reported: success")
tags, f, err, fake = run(headers(*SA_HAM), spam_filter_from="rspamd", max_spam_score="-5")
T.ok(not any(k in f for k in ("spam", "spam_filter", "spam_score", "scl")) and tags.get("result") == "success",
     "spam_filter_from = rspamd with only SpamAssassin's headers: no spam field, nothing flagged", f)

# 6. The order: auth_failed, then spam_flagged, then junk.
tags, f, err, fake = run(headers(AR_DKIM_FAIL, *SA_SPAM), require_auth="dkim", max_spam_score="5")
T.eq(tags.get("result"), "auth_failed", "require_auth failed and spam over max_spam_score: auth_failed comes first")
T.eq((f.get("spam"), f.get("spam_score")), ("spam", 7.3), "... and the spam fields are still written")
tags, f, err, fake = run("imap junk\ndeliver junk\n" + headers(*SA_SPAM), check_junk="true",
                         junk_is_failure="true", max_spam_score="5")
T.eq((tags.get("result"), tags.get("mailbox")), ("spam_flagged", "junk"),
     "in the junk mailbox with junk_is_failure and spam: spam_flagged (the cause), mailbox=junk")
T.eq(f.get("error"), "spamassassin: X-Spam-Status: Yes, score 7.3 > max_spam_score 5", "its error")
gone(fake, "spam_flagged in the junk mailbox")
tags, f, err, fake = run("imap junk\ndeliver junk\n" + headers(*SA_HAM), check_junk="true",
                         junk_is_failure="true", max_spam_score="5")
T.eq(tags.get("result"), "junk", "in the junk mailbox with a ham verdict: junk")
tags, f, err, fake = run(headers(*SA_HAM), max_spam_score="-0.2")
T.eq((tags.get("result"), f.get("error")), ("spam_flagged", "spamassassin: score -0.1 > max_spam_score -0.2"),
     "ham, but its score above max_spam_score: spam_flagged by the score")
tags, f, err, fake = run(headers(*SA_HAM), max_spam_score="-0.1")
T.eq(tags.get("result"), "success", "a score equal to max_spam_score is not above it: success")

# 7. A header block that cannot be read: found is found, one warning.
tags, f, err, fake = run(headers(*SA_SPAM) + "imap on HEADER reply NO [SERVERBUG] not now\n", max_spam_score="5")
T.ok(tags.get("result") == "success" and "max_spam_score not checked" in err,
     "header FETCH refused with max_spam_score: success, a warning that it was not checked",
     (tags.get("result"), err[-600:]))
T.ok("spam" not in f, "... and no spam field", f)

# 8. JSON: the same names as keys, null where absent.
tags, j, err, fake = run(headers(*MS_SPAM), as_json=True, max_spam_score="5")
T.eq((j.get("result"), j.get("spam"), j.get("spam_filter"), j.get("scl")), ("spam_flagged", "spam", "microsoft", 9),
     "JSON: result, spam, spam_filter, scl")
T.ok(all(k in j and j[k] is None for k in ("spam_score", "spam_threshold", "dnsbl_ip", "dnsbl_listed",
                                         "dnsbl_zones")), "JSON: absent ones are null", j)
tags, j, err, fake = run("", as_json=True)
T.ok(all(k in j and j[k] is None for k in ("spam_score", "spam_threshold", "spam", "spam_filter", "scl")),
     "JSON: no filter header: every spam key null", j)

# 9. --check-config: the keys shown; the process keys of the lookups set
# before measurement (a measurement once freed them: under ASan a double
# free at exit).
cfg = write_config("[defaults]\nresolver = 127.0.0.1:5353\ndnssec_trust_anchor = /usr/share/dns/root.key\n"
                   "measurement = spam\n\n" + fake_route(FakeMail(USERS, tempfile.mkdtemp(prefix="me2e-fake.")), "sv", PW,
                   max_spam_score="4.5", spam_filter_from="microsoft", dnsbl="zen.spamhaus.org, bl.spamcop.net"))
r = run_bin(["-c", cfg, "--check-config"], what="--check-config")
T.ok(r.rc == 0 and "max_spam_score = 4.5" in r.out and "spam_filter_from = microsoft" in r.out and
     "dnsbl = zen.spamhaus.org, bl.spamcop.net" in r.out and "resolver = 127.0.0.1:5353" in r.out and
     "measurement = spam" in r.out, "--check-config shows max_spam_score, spam_filter_from, dnsbl, resolver", r)
T.done()
