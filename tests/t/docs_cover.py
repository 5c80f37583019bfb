#!/usr/bin/env python3
# variants: release
"""Every configuration key the program accepts, and every result it can
write, is documented: in sample.conf, README.md and mail-e2e.conf(5) /
mail-e2e(1).  Read from the sources, so a new key cannot go undocumented."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, result_classes  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
read = lambda p: open(os.path.join(ROOT, p)).read()
config_c = read("plugin/config_keys.c")
sample, readme = read("sample.conf"), read("README.md")
man5, man1 = read("man/mail-e2e.conf.5"), read("man/mail-e2e.1")

route_keys = re.findall(r'^\t\{ "([a-z_]+)", K_', config_c, re.M)
process_keys = re.findall(r'"([a-z_]+)"', re.search(r"process_keys\[\] = \{([^}]*)\}", config_c).group(1))
T.ok(len(route_keys) >= 25 and len(process_keys) == 5, f"{len(route_keys)} route keys, {len(process_keys)} process keys read from config_keys.c")
for key in route_keys + process_keys:
    T.ok(re.search(rf"^#? ?{key} = ", sample, re.M), f"sample.conf documents {key}")
    T.ok(f"`{key}`" in readme, f"README.md names {key}")
    T.ok(re.search(rf"\b{key}\b", man5), f"mail-e2e.conf(5) names {key}")
results = [name for name, _, _ in result_classes()]
T.ok(len(results) >= 16, f"{len(results)} results read from result_classes.h")
for i, name in enumerate(results):
    T.ok(re.search(rf"^\| `{name}` \| {i} \|", readme, re.M), f"README.md result table: {name} = {i}")
    T.ok(f"{name} ({i})" in man1, f"mail-e2e(1) lists {name} ({i})")
T.done()
