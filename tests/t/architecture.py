#!/usr/bin/env python3
# variants: release
"""The architecture, checked from what the compiler made (issue 18): every
arrow between the plugin's files points down, no file is long, no
function is long.

1. Who calls whom: the objects of build/release (all of them, also in
   subdirectories: build/release/imap/x.o is plugin/imap/x.c; a node is
   named by its source) are read with `nm`; a file that uses a symbol
   another file defines has an arrow to it.  Every strongly connected
   component of two or more files is a circle: one "not ok" line each,
   naming the files and, per arrow inside it, one symbol that makes it.
   A self-check first builds two tiny objects that call each other (and a
   third that only calls down) and requires the same code to find exactly
   that circle, so the check cannot pass by seeing nothing.
2. Every plugin/**/*.c has at most 600 lines.
3. Every function in them has at most 80 lines, from its name to its
   closing brace (Universal Ctags' end lines).
Each failing check names the offenders."""
import glob
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from e2e import T, ROOT, fatal, tmpdir  # noqa: E402

MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80


# --- the who-calls-whom graph ---------------------------------------------------

def nm_symbols(obj):
    """(defined, undefined) external symbol names of one object file."""
    r = subprocess.run(["nm", "-P", "-g", obj], capture_output=True, text=True)
    if r.returncode != 0:
        fatal(f"nm {obj}: {r.stderr.strip()}")
    defined, undefined = set(), set()
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind in ("U", "w", "v"):
            undefined.add(name)
        else:
            defined.add(name)
    return defined, undefined


def objects(build, src):
    """{source path relative to src's parent: object} for every object under
    build whose source exists; objects of removed sources are stale and
    left out."""
    found, stale = {}, []
    base = os.path.dirname(os.path.abspath(src))
    for obj in sorted(glob.glob(os.path.join(build, "**", "*.o"), recursive=True)):
        rel = os.path.relpath(obj, build)[:-2] + ".c"
        source = os.path.join(src, rel)
        if os.path.isfile(source):
            found[os.path.relpath(source, base)] = obj
        else:
            stale.append(obj)
    return found, stale


def call_graph(nodes):
    """nodes: {name: object}.  -> {a: {b: example symbol}} for each arrow a -> b."""
    syms = {n: nm_symbols(o) for n, o in nodes.items()}
    owner = {}
    for n, (defined, _) in syms.items():
        for s in defined:
            owner.setdefault(s, []).append(n)
    edges = {n: {} for n in nodes}
    for a, (_, undefined) in syms.items():
        for s in sorted(undefined):
            for b in owner.get(s, []):
                if b != a:
                    edges[a].setdefault(b, s)
    return edges


def circles(edges):
    """Strongly connected components of two or more nodes (Tarjan), each a
    sorted list, sorted."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def describe(comp, edges):
    """'a.c, b.c (a.c -> b.c: sym; b.c -> a.c: sym)'"""
    arrows = [f"{a} -> {b}: {edges[a][b]}" for a in comp for b in sorted(edges[a]) if b in comp]
    return ", ".join(comp) + " (" + "; ".join(arrows) + ")"


# --- 0. the self-check: a circle that must be found ---------------------------

def self_check():
    d = tmpdir()
    src, build = os.path.join(d, "plugin"), os.path.join(d, "build")
    files = {
        "a.c": "int b_fn(void);\nint a_fn(void);\nint a_fn(void) { return b_fn() + 1; }\n",
        "sub/b.c": "int a_fn(void);\nint b_fn(void);\nint b_fn(void) { return a_fn() * 2; }\n",
        "c.c": "int a_fn(void);\nint c_fn(void);\nint c_fn(void) { return a_fn(); }\n",
    }
    for rel, text in files.items():
        path = os.path.join(src, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        obj = os.path.join(build, rel[:-2] + ".o")
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        r = subprocess.run(["cc", "-c", "-o", obj, path], capture_output=True, text=True)
        if r.returncode != 0:
            fatal(f"self-check: cc {rel}: {r.stderr.strip()}")
    with open(os.path.join(build, "gone.o"), "wb") as f:
        f.write(b"")   # an object whose source is gone: left out, not read
    nodes, stale = objects(build, src)
    edges = call_graph(nodes)
    found = circles(edges)
    want = [["plugin/a.c", "plugin/sub/b.c"]]
    T.ok(found == want and stale == [os.path.join(build, "gone.o")],
         "self-check: two objects that call each other are found as a circle, "
         "a third that only calls down is not in it, a stale object is left out",
         f"found {found}, stale {stale}")
    T.ok(found and describe(found[0], edges) ==
         "plugin/a.c, plugin/sub/b.c (plugin/a.c -> plugin/sub/b.c: b_fn; plugin/sub/b.c -> plugin/a.c: a_fn)",
         "self-check: the circle is named with a symbol per arrow",
         describe(found[0], edges) if found else "nothing found")


# --- 1. no circle among the plugin's files ------------------------------------

def check_graph():
    build, src = os.path.join(ROOT, "build", "release"), os.path.join(ROOT, "plugin")
    sources = sorted(os.path.relpath(p, ROOT)
                     for p in glob.glob(os.path.join(src, "**", "*.c"), recursive=True))
    nodes, stale = objects(build, src)
    missing = [s for s in sources if s not in nodes]
    if missing:
        fatal(f"no object in build/release for {', '.join(missing)}: run make")
    old = [s for s in sources if os.path.getmtime(nodes[s]) < os.path.getmtime(os.path.join(ROOT, s))]
    if old:
        fatal(f"build/release is older than {', '.join(old)}: run make")
    for obj in stale:
        print(f"# left out, its source is gone: {os.path.relpath(obj, ROOT)}")
    edges = call_graph(nodes)
    n_edges = sum(len(v) for v in edges.values())
    T.ok(len(nodes) >= 20 and n_edges >= 40,
         f"the graph was read: {len(nodes)} plugin files, {n_edges} arrows")
    found = circles(edges)
    for comp in found:
        T.ok(False, f"circle among {len(comp)} plugin files: {describe(comp, edges)}")
    if not found:
        T.ok(True, f"no circle among the {len(nodes)} plugin files: every arrow points down")
    return sources


# --- 2. and 3. short files, short functions -----------------------------------

def check_file_lengths(sources):
    long_files = []
    for s in sources:
        with open(os.path.join(ROOT, s), "rb") as f:
            n = f.read().count(b"\n")
        if n > MAX_FILE_LINES:
            long_files.append(f"{s} ({n} lines)")
    T.ok(not long_files, f"every plugin/**/*.c has at most {MAX_FILE_LINES} lines"
         + (": not " + ", ".join(long_files) if long_files else f" ({len(sources)} files)"))


def ctags_program():
    for prog in ("ctags-universal", "ctags"):
        path = shutil.which(prog)
        if path:
            r = subprocess.run([path, "--version"], capture_output=True, text=True)
            if "Universal Ctags" in r.stdout:
                return path
    fatal("Universal Ctags is not installed (Debian package universal-ctags): "
          "function end lines come from it")


def check_function_lengths(sources):
    r = subprocess.run([ctags_program(), "--fields=+ne", "--excmd=number", "--kinds-C=f",
                        "--language-force=C", "-o", "-"] + sources,
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        fatal(f"ctags: {r.stderr.strip()}")
    functions, long_functions = 0, []
    for line in r.stdout.splitlines():
        cols = line.split("\t")
        fields = dict(c.split(":", 1) for c in cols[3:] if ":" in c)
        if "line" not in fields or "end" not in fields:
            fatal(f"ctags gave no line/end for: {line}")
        functions += 1
        n = int(fields["end"]) - int(fields["line"]) + 1
        if n > MAX_FUNCTION_LINES:
            long_functions.append(f"{cols[1]}:{fields['line']} {cols[0]} ({n} lines)")
    T.ok(functions >= 100, f"ctags found {functions} functions in {len(sources)} files")
    T.ok(not long_functions, f"every function has at most {MAX_FUNCTION_LINES} lines"
         + (": not " + ", ".join(sorted(long_functions)) if long_functions else ""))


self_check()
sources = check_graph()
check_file_lengths(sources)
check_function_lengths(sources)
T.done()
