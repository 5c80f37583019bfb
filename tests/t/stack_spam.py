#!/usr/bin/env python3
# needs: spamworld
"""Spam verdicts from real filters (issue 24, SPEC §13): mail-e2e against
the spam-filter world (tests/mailstack/spamworld.sh: rspamd 3.4 as a
milter, SpamAssassin 4.0 through spamc, chosen by recipient), one route per
recipient, through the submission port.

Checked, per recipient, the fields the real filters' headers give:
rspamd_ham (rspamd -2 of 15, ham), rspamd_spam (10 of 15, spam: a delivered
spam says False in X-Spamd-Result, the X-Spam: Yes at the bottom makes it
spam), sa_ham (SpamAssassin -3.0 of 5.0, ham), sa_spam (9.0 of 5.0, spam),
both (SpamAssassin's ham on top decides; spam_filter_from = rspamd picks
rspamd's spam at the bottom, = spamassassin the top one, = microsoft none),
plain (no field); in both output formats.  max_spam_score = 5 makes the two
spam recipients spam_flagged (15) with the filter and why in error, and the
probe is deleted from the mailbox; the ham ones stay success; a max below
rspamd's ham score flags it by the score alone.  require_auth (nothing in
this world writes Authentication-Results) comes before spam_flagged.
--check-config shows the keys."""
import imaplib
import json
import os
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, stack, password, fatal, write_config, config_text, run, by_probe, result_codes  # noqa: E402

env = stack("SPAMWORLD_ENV", "spam-filter world", "SW_")
NEEDED = ("SW_HOST", "SW_DOMAIN", "SW_CA", "SW_SUBMISSION_PORT", "SW_IMAP_HOST", "SW_IMAP_PORT", "SW_SENDER",
          "SW_SENDER_USER", "SW_RSPAMD_REJECT", "SW_SA_REQUIRED", "SW_RSPAMD_SPAM_SCORE",
          "SW_RSPAMD_HAM_SCORE", "SW_SA_SPAM_SCORE", "SW_SA_HAM_SCORE")
missing = [k for k in NEEDED if k not in env]
if missing:
    fatal(f"the env file lacks {', '.join(missing)}")
CODES = result_codes()
REJECT, REQUIRED = float(env["SW_RSPAMD_REJECT"]), float(env["SW_SA_REQUIRED"])
# SpamAssassin adds ALL_TRUSTED (-1.0) to its rule's score: every hop is on
# loopback (spamworld.notes.md); rspamd's own rules score 0 here.
ALL_TRUSTED = -1.0
RS_SPAM, RS_HAM = float(env["SW_RSPAMD_SPAM_SCORE"]), float(env["SW_RSPAMD_HAM_SCORE"])
SA_SPAM, SA_HAM = float(env["SW_SA_SPAM_SCORE"]) + ALL_TRUSTED, float(env["SW_SA_HAM_SCORE"]) + ALL_TRUSTED

# recipient: (spam_filter, spam, spam_score, spam_threshold); None: no field.
WANT = {
    "rspamd_ham": ("rspamd", "ham", RS_HAM, REJECT),
    "rspamd_spam": ("rspamd", "spam", RS_SPAM, REJECT),
    "sa_ham": ("spamassassin", "ham", SA_HAM, REQUIRED),
    "sa_spam": ("spamassassin", "spam", SA_SPAM, REQUIRED),
    "both": ("spamassassin", "ham", SA_HAM, REQUIRED),
    "plain": (None, None, None, None),
}


def route(user, name=None, **extra):
    keys = {
        "from": env["SW_SENDER"], "to": f"{user}@{env['SW_DOMAIN']}",
        "smtp_host": env["SW_HOST"], "smtp_port": env["SW_SUBMISSION_PORT"], "smtp_tls": "starttls",
        "smtp_username": env["SW_SENDER_USER"], "smtp_password": password(env, env["SW_SENDER_USER"]),
        "imap_host": env["SW_IMAP_HOST"], "imap_port": env["SW_IMAP_PORT"], "imap_tls": "starttls",
        "imap_username": user, "imap_password": password(env, user), "tls_ca": env["SW_CA"],
        "timeout": "30s", "poll_interval": "200ms", "check_junk": "false",
    }
    keys.update(extra)
    return f"[{name or user}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"


def probes_in(user):
    """UIDs of probe messages in user's INBOX."""
    c = imaplib.IMAP4(env["SW_IMAP_HOST"], int(env["SW_IMAP_PORT"]), timeout=30)
    try:
        c.starttls(ssl.create_default_context(cafile=env["SW_CA"]))
        c.login(user, password(env, user))
        c.select("INBOX")
        typ, data = c.uid("SEARCH", None, "HEADER", "X-Mail-E2E-Probe", '""')
        return [int(x) for x in (data[0] or b"").split()]
    finally:
        c.logout()


def close(a, b):
    return a is not None and b is not None and abs(a - b) < 1e-6


def check_fields(what, f, want, json_nulls=False):
    filt, spam, score, thr = want
    got = (f.get("spam_filter"), f.get("spam"), f.get("spam_score"), f.get("spam_threshold"))
    ok = got[0] == filt and got[1] == spam and ((score is None and got[2] is None) or close(got[2], score)) and \
        ((thr is None and got[3] is None) or close(got[3], thr))
    T.ok(ok, f"{what}: spam_filter={filt} spam={spam} spam_score={score} spam_threshold={thr}", f"got {got}")
    if json_nulls:
        T.ok("scl" in f and f["scl"] is None, f"{what}: JSON scl null", f.get("scl"))
    else:
        T.ok("scl" not in f, f"{what}: no scl field", f.get("scl"))


USERS = list(WANT)

# 1. Every recipient, line protocol: the fields from the real filters.
cfg = write_config(config_text(*(route(u) for u in USERS)))
r = run(["-c", cfg, "--once"], what="spam world, influx", timeout=90)
T.ok(r.rc == 0, "every route succeeds (verdicts are only reported)", r)
lines = by_probe(r.out)
for u in USERS:
    if u not in lines:
        T.ok(False, f"{u}: a line", r.out)
        continue
    tags, f, _ = lines[u][0]
    T.eq(tags.get("result"), "success", f"{u}: result=success")
    check_fields(u, f, WANT[u])
    if WANT[u][0] is None:
        T.ok(not any(k.startswith("spam") for k in f), f"{u}: no spam field at all", f)

# 2. JSON: the same keys, null where absent.
cfg = write_config(config_text(*(route(u) for u in USERS), defaults={"format": "json"}))
r = run(["-c", cfg, "--once"], what="spam world, json", timeout=90)
objs = {}
for line in r.lines:
    try:
        o = json.loads(line)
        objs[o["probe"]] = o
    except (ValueError, KeyError):
        T.ok(False, "a JSON line", line)
for u in USERS:
    if u in objs:
        check_fields(f"JSON {u}", objs[u], WANT[u], json_nulls=True)
    else:
        T.ok(False, f"JSON {u}: a line", r.out)

# 3. max_spam_score = 5: the spam ones are spam_flagged and deleted.
cfg = write_config(config_text(*(route(u) for u in ("rspamd_ham", "rspamd_spam", "sa_ham", "sa_spam", "both")),
                               defaults={"max_spam_score": "5"}))
r = run(["-c", cfg, "--once"], what="max_spam_score", timeout=90)
T.eq(r.rc, 1, "--once exits 1: some routes are spam_flagged")
lines = by_probe(r.out)
WHY = {"rspamd_spam": f"rspamd: X-Spam: Yes, score {RS_SPAM:g} > max_spam_score 5",
       "sa_spam": f"spamassassin: X-Spam-Status: Yes, score {SA_SPAM:g} > max_spam_score 5"}
for u in ("rspamd_ham", "rspamd_spam", "sa_ham", "sa_spam", "both"):
    if u not in lines:
        T.ok(False, f"max_spam_score {u}: a line", r.out)
        continue
    tags, f, _ = lines[u][0]
    if u in WHY:
        T.eq((tags.get("result"), f.get("result_code"), f.get("success")),
             ("spam_flagged", CODES["spam_flagged"], 0), f"max_spam_score 5, {u}: spam_flagged (15), success=0i")
        T.eq(f.get("error"), WHY[u], f"{u}: error names the filter and why")
    else:
        T.eq(tags.get("result"), "success", f"max_spam_score 5, {u} (ham): success")
time.sleep(0.5)
for u in ("rspamd_spam", "sa_spam"):
    T.eq(probes_in(u), [], f"{u}: the spam_flagged probe was deleted from the mailbox")

# 4. spam_filter_from on both@: SpamAssassin's ham on top, rspamd's spam below.
cfg = write_config(config_text(route("both", "both_rspamd", spam_filter_from="rspamd", max_spam_score="5"),
                               route("both", "both_sa", spam_filter_from="spamassassin", max_spam_score="5"),
                               route("both", "both_ms", spam_filter_from="microsoft", max_spam_score="5")))
r = run(["-c", cfg, "--once"], what="spam_filter_from", timeout=90)
lines = by_probe(r.out)
if all(k in lines for k in ("both_rspamd", "both_sa", "both_ms")):
    tags, f, _ = lines["both_rspamd"][0]
    check_fields("spam_filter_from = rspamd on both@", f, ("rspamd", "spam", RS_SPAM, REJECT))
    T.eq(tags.get("result"), "spam_flagged", "spam_filter_from = rspamd on both@: spam_flagged by rspamd")
    tags, f, _ = lines["both_sa"][0]
    check_fields("spam_filter_from = spamassassin on both@", f, WANT["both"])
    T.eq(tags.get("result"), "success", "spam_filter_from = spamassassin on both@: success")
    tags, f, _ = lines["both_ms"][0]
    check_fields("spam_filter_from = microsoft on both@", f, (None, None, None, None))
else:
    T.ok(False, "spam_filter_from: three lines", r)

# 5. A max below rspamd's ham score: flagged by the score alone; and
# require_auth before spam_flagged (no Authentication-Results here).
cfg = write_config(config_text(route("rspamd_ham", "by_score", max_spam_score="-2.5"),
                               route("rspamd_spam", "auth_first", max_spam_score="5", require_auth="dkim")))
r = run(["-c", cfg, "--once"], what="score and order", timeout=90)
lines = by_probe(r.out)
if "by_score" in lines and "auth_first" in lines:
    tags, f, _ = lines["by_score"][0]
    T.eq((tags.get("result"), f.get("error")), ("spam_flagged", f"rspamd: score {RS_HAM:g} > max_spam_score -2.5"),
         "rspamd ham at -2 with max_spam_score -2.5: spam_flagged by the score")
    tags, f, _ = lines["auth_first"][0]
    T.eq(tags.get("result"), "auth_failed", "require_auth missing and spam over the max: auth_failed first")
    T.eq(f.get("spam"), "spam", "... the spam fields still written")
else:
    T.ok(False, "score and order: two lines", r)

# 6. --check-config shows the keys.
cfg = write_config(config_text(route("both", spam_filter_from="rspamd", max_spam_score="4.5")))
r = run(["-c", cfg, "--check-config"], what="--check-config")
T.ok(r.rc == 0 and "max_spam_score = 4.5" in r.out and "spam_filter_from = rspamd" in r.out,
     "--check-config: max_spam_score = 4.5, spam_filter_from = rspamd", r.out)
T.done()
