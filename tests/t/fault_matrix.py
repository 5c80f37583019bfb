#!/usr/bin/env python3
"""The fault matrix: every tests/fake/cases/*.case scripts the fake SMTP +
IMAP server (tests/fake/fakemail.py) and states what mail-e2e must report.
For each case, in streaming mode: the first signal must give exactly one
line with the expected result, success flag, code and error, within
timeout + 1 s; then the fake goes back to normal and the next signal in the
same process must give a correct line (success, or the same result when the
fault is in the route itself); then end of stdin ends the process with 0.

Case header lines: `# expect: RESULT`, `# error: TEXT` (substring of the
error field), `# smtp_code: N`, `# route: key = value` (extra route keys),
`# mailbox-empty` (no probe left in the fake mailbox), `# delivery-at-least: S`,
`# fault-persists` (the fault is in the route: the next cycle fails the same way),
`# mailbox: inbox|junk` (the mailbox tag), `# pause: S` (wait S seconds before
the next signal), `# tries-at-most: N`, `# dialogue-lacks: REGEX` (no line of
the fake's dialogue log of the faulty cycle may match), `# gmail-clean` (no copy of the probe in
INBOX, [Gmail]/All Mail or [Gmail]/Trash).  A case's own `timeout` route key
moves the "line within timeout + 1 s" bound with it.  Routes run with check_junk = false
unless a case turns it on: a second IMAP session per probe would shift the
`#N` counts the other cases script.
"""
import glob
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fake"))
from e2e import (result_codes, T, Stream, write_config, secret, parse_line, tmpdir, check_no_leak,  # noqa: E402
                 check_stderr_prefixes, fake_route)
from fakemail import FakeMail, make_certs  # noqa: E402

PW = secret("fake-Pw-7391")
TIMEOUT = 4.0
CODES = result_codes()
CERTS = os.path.join(tmpdir(), "certs")
make_certs(CERTS)


def load_case(path):
    meta = {"route": [], "script": [f"user alice {PW}", f"user bob {PW}"]}
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("# "):
            key, _, val = line[2:].partition(":")
            if key == "route":
                meta["route"].append(val.strip())
            elif val or key in ("mailbox-empty", "fault-persists", "gmail-clean"):
                meta[key] = val.strip()
        elif line.strip():
            meta["script"].append(line)
    return meta


def config_for(fake, meta):
    keys = {"timeout": f"{TIMEOUT:g}s"}
    for kv in meta["route"]:
        k, v = (x.strip() for x in kv.split("=", 1))
        keys[k] = v
    return fake_route(fake, "fault", PW, **keys)


def case_timeout(meta):
    for kv in meta["route"]:
        k, v = (x.strip() for x in kv.split("=", 1))
        if k == "timeout" and v.endswith("s"):
            return float(v[:-1])
    return TIMEOUT


def probes_in(box):
    with box.lock:
        return [m[0] for m in box.msgs if not m[2] and "X-Mail-E2E-Probe" in m[1]]


def run_case(path):
    """Runs one case; returns a list of (ok, description, detail)."""
    name = os.path.basename(path)[:-5]
    meta = load_case(path)
    timeout = case_timeout(meta)
    out = []
    check = lambda ok, desc, detail=None: out.append((bool(ok), f"{name}: {desc}", detail))
    fake = FakeMail("\n".join(meta["script"]), tempfile.mkdtemp(prefix="me2e-fake."), certs_dir=CERTS)
    # --trace on: the whole dialogue goes to stderr, where no password may appear.
    s = Stream(write_config(config_for(fake, meta)), ["--trace"])
    try:
        check(s.wait_ready(), "process ready")
        t0 = time.monotonic()
        s.signal("\n")
        got = s.wait_lines(1, timeout + 10)
        elapsed = time.monotonic() - t0
        check(got, "one line for the faulty cycle", s.err[-2000:])
        if not got:
            return out
        try:
            _, tags, f, _ = parse_line(s.lines[0])
        except ValueError as e:
            check(False, "line parses", f"{e}: {s.lines[0]}")
            return out
        want = meta["expect"]
        check(tags.get("result") == want, f"result={want}", s.lines[0])
        check(f.get("result_code") == CODES[want] and f.get("success") == (want == "success"),
              f"result_code={CODES[want]}, success={int(want == 'success')}i", s.lines[0])
        if "error" in meta:
            check(meta["error"] in f.get("error", ""), f"error mentions {meta['error']!r}", f.get("error"))
        if "smtp_code" in meta:
            check(f.get("smtp_code") == int(meta["smtp_code"]), f"smtp_code={meta['smtp_code']}", s.lines[0])
        if "mailbox" in meta:
            check(tags.get("mailbox") == meta["mailbox"], f"mailbox={meta['mailbox']}", s.lines[0])
        if "delivery-at-least" in meta:
            check(f.get("delivery_time", 0) >= float(meta["delivery-at-least"]),
                  f"delivery_time >= {meta['delivery-at-least']}s", f)
        if "tries-at-most" in meta:
            check(f.get("tries", 99) <= int(meta["tries-at-most"]),
                  f"tries <= {meta['tries-at-most']}", f.get("tries"))
        check(elapsed <= timeout + 1.0, f"line within timeout + 1 s ({elapsed:.2f}s)", elapsed)
        first_dialogue = fake.dialogue()
        # Resilience: the same process, next signal, healthy server.
        fake.reset(f"user alice {PW}\nuser bob {PW}\n")
        time.sleep(float(meta.get("pause", 0)))
        s.signal("\n")
        check(s.wait_lines(2, timeout + 10), "the next signal gives a line too", s.err[-2000:])
        if len(s.lines) >= 2:
            again = "result=" + (want if "fault-persists" in meta else "success")
            check(again + " " in s.lines[1] or again + "," in s.lines[1],
                  f"next cycle in the same process: {again}", s.lines[1])
        if "mailbox-empty" in meta:
            time.sleep(0.3)
            left = probes_in(fake.mailbox)
            check(not left, "every copy of the probe deleted", left)
        if "gmail-clean" in meta:
            time.sleep(0.3)
            left = {b: probes_in(fake.boxes[b]) for b in ("INBOX", "[GMAIL]/ALL MAIL", "[GMAIL]/TRASH")}
            check(not any(left.values()), "no copy left in INBOX, All Mail or Trash", left)
            check("MOVE" in fake.dialogue() and "[Gmail]/Trash" in fake.dialogue(),
                  "the probe was moved to [Gmail]/Trash", fake.dialogue()[-1500:])
        if "dialogue-lacks" in meta:
            bad = [l for l in first_dialogue.splitlines() if re.search(meta["dialogue-lacks"], l)]
            check(not bad, f"the server saw no line matching {meta['dialogue-lacks']!r}", bad[:5])
        s.close_stdin()
        check(s.wait_exit(10) == 0, "exit 0 at end of stdin", s.err[-2000:])
        check("D! fault/" in s.err, "--trace shows the dialogue", s.err[-500:])
        out.append((True, None, ("leak", s)))
    finally:
        s.kill()
        fake.close()
    return out


cases = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "fake", "cases", "*.case")))
T.ok(len(cases) >= 40, f"{len(cases)} fault cases found")
# FAULT_CASES="51 53": only cases whose file name starts with one of these (for development).
only = os.environ.get("FAULT_CASES", "").split()
if only:
    cases = [c for c in cases if any(os.path.basename(c).startswith(p) for p in only)]
with ThreadPoolExecutor(max_workers=6) as pool:
    results = list(pool.map(run_case, cases))
for case_results in results:
    for ok, desc, detail in case_results:
        if desc is None:
            _, s = detail
            check_no_leak(f"fault case stream", "\n".join(s.lines), s.err)
            check_stderr_prefixes("fault case stream", s.err)
        else:
            T.ok(ok, desc, detail)
T.done()
