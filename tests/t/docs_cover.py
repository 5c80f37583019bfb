#!/usr/bin/env python3
# variants: release
"""Every configuration key the program accepts, every result it can write
and every name in its output is documented: in sample.conf, README.md and
mail-e2e.conf(5) / mail-e2e(1).  Read from the sources (the key table in
config_keys.c, result_classes.h, auth_methods.h, what output.c and
output_rep.c write) and from SPEC's names (tests/lib/e2e.py SPEC_NAMES),
so nothing new can go undocumented.

mail-e2e(1) OUTPUT: every tag, field and JSON key output.c writes, every
name of SPEC §5, §7, §8, §9, and every name of §11-§13; those the program
does not write yet are listed under "Not yet written", and only those (a
name the program starts writing must leave that list; the section goes
with the last one).  EXAMPLES: the
commands are the program's options, the line-protocol examples parse
strictly.  mail-e2e.conf(5) EXAMPLES and README's configuration
templates pass --check-config as written (password files made, the
variable set)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, ROOT, SPEC_NAMES, result_classes, run, tmpdir, write_file, secret  # noqa: E402
import lineproto  # noqa: E402

read = lambda p: open(os.path.join(ROOT, p)).read()
config_c = read("plugin/config_keys.c")
sample, readme = read("sample.conf"), read("README.md")
man5, man1 = read("man/mail-e2e.conf.5"), read("man/mail-e2e.1")

# --- keys and results -------------------------------------------------------------
route_keys = re.findall(r'^\t\{ "([a-z_0-9]+)", K_', config_c, re.M)
process_keys = re.findall(r'"([a-z_]+)"', re.search(r"process_keys\[\] = \{([^}]*)\}", config_c).group(1))
T.ok(len(route_keys) >= 25 and len(process_keys) >= 5, f"{len(route_keys)} route keys, {len(process_keys)} process keys read from config_keys.c")
for key in route_keys + process_keys:
    T.ok(re.search(rf"^#? ?{key} = ", sample, re.M), f"sample.conf documents {key}")
    T.ok(f"`{key}`" in readme, f"README.md names {key}")
    T.ok(re.search(rf"\b{key}\b", man5), f"mail-e2e.conf(5) names {key}")
results = [name for name, _, _ in result_classes()]
T.ok(len(results) >= 16, f"{len(results)} results read from result_classes.h")
for i, name in enumerate(results):
    T.ok(re.search(rf"^\| `{name}` \| {i} \|", readme, re.M), f"README.md result table: {name} = {i}")
    T.ok(f"{name} ({i})" in man1, f"mail-e2e(1) lists {name} ({i})")


# --- the output's names -------------------------------------------------------------
def section(text, start, stop=r"^\.SH "):
    """The roff text from the line matching start to the next stop."""
    m = re.search(start, text, re.M)
    if not m:
        return ""
    rest = text[m.end():]
    n = re.search(stop, rest, re.M)
    return rest[:n.start()] if n else rest


output_c = read("plugin/output.c")
auth_h = read("plugin/auth_methods.h")
written = set(re.findall(r'\blp_(?:tag|int|float|word)\(o, (?:&first, )?"([a-z_0-9]+)"', output_c))
written |= set(re.findall(r'putf\(o, ",([a-z_0-9]+)=', output_c))
written |= set(re.findall(r'^\tX\(\w+,\s*"([a-z]+)"', auth_h, re.M))   # verdict tags and keys
json_keys = set(re.findall(r'\bjson_(?:str|int|num|span|time)\(o, "([a-z_0-9]+)"', output_c))
json_keys |= set(re.findall(r'\{\\"([a-z_]+)\\":', output_c)) | {"success"}
json_keys |= set(re.findall(r'^\tX\(\w+,\s*"([a-z]+)"', auth_h, re.M))
# SPEC §13's fields: output_rep.c writes them in both formats.
rep = set(re.findall(r'\b(?:num|str|integer)\(&w, "([a-z_0-9]+)"', read("plugin/output_rep.c")))
T.ok(len(rep) == 8, "the eight fields of SPEC §13 are read from output_rep.c", sorted(rep))
written |= rep
json_keys |= rep
# SPEC §12's fields: output_mx.c writes them, output.c calls it.
output_mx_c = read("plugin/output_mx.c")
written |= set(re.findall(r'\blp_word\(&f, "([a-z_0-9]+)"', output_mx_c))
written |= set(re.findall(r'\badd\(&f, ",([a-z_0-9]+)=', output_mx_c))
json_keys |= set(re.findall(r'\bjson_word\(&f, "([a-z_0-9]+)"', output_mx_c))
json_keys |= set(re.findall(r'\badd\(&f, ",\\"([a-z_0-9]+)\\":', output_mx_c))
T.ok({"mx", "mx_tried", "tls_policy"} <= written and {"mx", "tlsrpt"} <= json_keys,
     "SPEC §12's names are read from output_mx.c", sorted(written))
# The step times: one table in result.h feeds both formats.
steps = set(re.findall(r'^\tX\(STEP_\w+,\s*"([a-z_]+)"\)', read("plugin/result.h"), re.M))
T.eq(len(steps), 9, "the nine step fields of SPEC §11 are read from result.h's STEP_FIELDS")
written |= steps
json_keys |= steps
T.ok(len(written) >= 30 and {"probe", "result", "success", "error", "spf"} <= written,
     f"{len(written)} tags and fields read from output.c (line protocol)", sorted(written))
T.ok(len(json_keys) >= 35 and {"probe", "hash", "total_duration", "dkim"} <= json_keys,
     f"{len(json_keys)} keys read from output.c (JSON)", sorted(json_keys))

out1 = section(man1, r"^\.SH OUTPUT")
not_yet = section(out1, r'^\.SS "?Not yet written"?', r"^\.S[SH] ")
T.ok(out1, "mail-e2e(1) has OUTPUT")
words = lambda text: set(re.findall(r"[a-z][a-z_0-9]*", text))
listed = words(out1.replace(not_yet, "") if not_yet else out1)
# The names under 'Not yet written' (a section only while there are such
# names) are the bold ones of its .BR lines.
unwritten = {w for l in re.findall(r"^\.BR? (.*)$", not_yet, re.M) for w in re.sub(r'"[^"]*"', " ", l).split()} \
    if not_yet else set()
for name in sorted(written | json_keys):
    T.ok(name in listed, f"mail-e2e(1) OUTPUT lists {name} (written by the program)")
    T.ok(name not in unwritten, f"mail-e2e(1): {name} is not under 'Not yet written' (the program writes it)")
for sec, names in SPEC_NAMES.items():
    for name in names.split():
        if name in written:
            continue
        if sec in ("§5", "§7", "§8", "§9"):
            T.ok(False, f"SPEC {sec} {name}: the program writes it (output.c)")
        else:
            T.ok(name in unwritten, f"mail-e2e(1) lists SPEC {sec} {name} under 'Not yet written'")
T.ok(bool(not_yet) == bool(unwritten), "a 'Not yet written' section exactly while some SPEC name is not written",
     sorted(unwritten))

# --- EXAMPLES -------------------------------------------------------------------------
def unroff(text):
    return (text.replace("\\-", "-").replace("\\(dq", '"').replace("\\e", "\\")
            .replace("\\&", ""))


def examples(text):
    """The .EX ... .EE blocks of the EXAMPLES section, as plain text."""
    ex = section(text, r"^\.SH EXAMPLES")
    return [unroff(b) for b in re.findall(r"^\.EX\n(.*?)^\.EE$", ex, re.M | re.S)]


ex1 = examples(man1)
T.ok(len(ex1) >= 4, f"mail-e2e(1) EXAMPLES: {len(ex1)} examples")
options = set(re.findall(r"(--[a-z0-9-]+)", read("plugin/main.c")))
used = {o for b in ex1 for o in re.findall(r"(?<![\w-])(--[a-z0-9-]+)", b)}
T.ok({"--check-config", "--once"} <= used, "mail-e2e(1) EXAMPLES: --check-config and --once shown", sorted(used))
for o in sorted(used):
    T.ok(o in options, f"mail-e2e(1) EXAMPLES: {o} is an option of the program")
lines = []
for b in examples(man1) + [unroff(b) for b in re.findall(r"^\.EX\n(.*?)^\.EE$", out1, re.M | re.S)]:
    joined = re.sub(r"\\\n", "", b)
    lines += [l for l in joined.split("\n") if re.match(r"^mail_e2e,probe=", l)]
T.ok(len(lines) >= 2, f"mail-e2e(1): {len(lines)} line-protocol examples")
for l in lines:
    try:
        m, tags, fields, ts = lineproto.parse(l)
        T.ok(m == "mail_e2e" and set(tags) | set(fields) <= written,
             f"example line parses, every name one the program writes: {l[:60]}...",
             sorted((set(tags) | set(fields)) - written))
    except ValueError as e:
        T.ok(False, f"example line parses: {l[:60]}...", str(e))

ex5 = examples(man5)
T.ok(len(ex5) >= 3, f"mail-e2e.conf(5) EXAMPLES: {len(ex5)} example files")
d = tmpdir()
pw = secret("docs-Cover-pw-3317")
text = "\n".join(ex5)
for path in sorted(set(re.findall(r"/etc/mail-e2e/[\w.-]+\.pass", text))):
    text = text.replace(path, write_file(os.path.join(d, os.path.basename(path)), pw + "\n"))
env = dict(os.environ, **{v: pw for v in re.findall(r"\$\{(\w+)\}", text)})
r = run(["--check-config", "-c", write_file(os.path.join(d, "example.conf"), text)], what="mail-e2e.conf(5) EXAMPLES",
        env=env)
T.eq(r.rc, 0, "mail-e2e.conf(5) EXAMPLES pass --check-config")
routes = re.findall(r"^\[([\w.-]+)\]", text, re.M)
T.ok(all(f"[{n}]" in r.out for n in routes if n != "defaults"), f"every example route listed: {routes}", r)
T.ok("subject_prefix = [e2e #1]\n" in r.out and "timeout = 1m30s\n" in r.out,
     "the examples' comments and quotes read as documented", r.out)

# README's first-config templates (```ini blocks): each a whole file that
# passes --check-config once its password files exist.
blocks = re.findall(r"^```ini\n(.*?)^```$", readme, re.M | re.S)
T.ok(len(blocks) >= 3, f"README: {len(blocks)} configuration templates")
for i, text in enumerate(blocks, 1):
    for path in sorted(set(re.findall(r"/etc/mail-e2e/[\w.-]+\.pass", text))):
        text = text.replace(path, write_file(os.path.join(d, f"t{i}-" + os.path.basename(path)), pw + "\n"))
    name = (re.findall(r"^\[([\w.-]+)\]", text, re.M) or ["?"])[-1]
    r = run(["--check-config", "-c", write_file(os.path.join(d, f"readme-{i}.conf"), text)],
            what=f"README template [{name}]")
    T.ok(r.rc == 0 and f"[{name}]" in r.out, f"README template [{name}] passes --check-config", r)
T.done()
