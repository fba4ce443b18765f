#!/usr/bin/env python3
"""The crate's structure rules, checked by `make lint`.

1. No import cycle between the modules of src/ (a module is a file; `use`
   statements and inline `crate::`/`super::`/`child::` paths are edges, test
   code excluded). `--graph` prints the edges: the structure drawing.
2. `unsafe` only at the syscall edge: src/sys/, src/heap.rs, src/main.rs.

Reads the sources as text; a rough parser is enough for this crate's style
(one `use` per statement, groups in braces).
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
EDGE_FILES = ("sys/", "heap.rs", "main.rs")


def modules(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".rs"):
                path = os.path.join(dirpath, f)
                parts = os.path.relpath(path, root)[:-3].split("/")
                if parts[-1] in ("mod", "lib", "main"):
                    parts = parts[:-1]
                out["::".join(parts)] = path
    return out


def without_tests_and_comments(src):
    cut = src.find("#[cfg(test)]")
    if cut >= 0:
        src = src[:cut]
    return re.sub(r"//[^\n]*", "", src)


def expand(prefix, text):
    """`a::{b, c::{d}}` -> ['a::b', 'a::c::d']."""
    text = text.strip()
    m = re.match(r"^([\w:]*)\{(.*)\}$", text, re.S)
    if not m:
        return [prefix + text.split(" as ")[0].strip()]
    items, depth, cur = [], 0, ""
    for ch in m.group(2):
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return [p for it in items if it.strip() for p in expand(prefix + m.group(1), it)]


def resolve(mods, cur, path):
    segs = path.split("::")
    base = cur.split("::") if cur else []
    if segs[0] == "crate":
        base, segs = [], segs[1:]
    elif segs[0] == "super":
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
    elif segs[0] == "self":
        segs = segs[1:]
    best = None
    for i in range(1, len(segs) + 1):
        cand = "::".join(base + segs[:i])
        if cand in mods:
            best = cand
    return best


def graph(mods):
    edges = {m: set() for m in mods}
    for m, path in mods.items():
        src = without_tests_and_comments(open(path).read())
        paths = [p for u in re.finditer(r"\buse\s+([^;]+);", src) for p in expand("", u.group(1).replace("\n", " "))]
        paths += re.findall(r"(?<![\w:])((?:crate|super)(?:::\w+)+)", src)
        children = [c for c in mods if c and c.rsplit("::", 1)[0] == m and c != m] if m else [c for c in mods if c and "::" not in c]
        paths += [c.split("::")[-1] + "::x" for c in children if re.search(r"(?<![\w:])" + c.split("::")[-1] + r"::\w", src)]
        for p in paths:
            target = resolve(mods, m, p.removesuffix("::self"))
            if target is not None and target != m:
                edges[m].add(target)
    return edges


def cycles(edges):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def unsafe_outside_edge(root):
    bad = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            if not f.endswith(".rs") or rel.startswith(EDGE_FILES):
                continue
            src = without_tests_and_comments(open(path).read())
            for n, line in enumerate(src.split("\n"), 1):
                if re.search(r"\bunsafe\s*(\{|fn\b|impl\b|extern\b)", line):
                    bad.append(f"src/{rel}:{n}: {line.strip()}")
    return bad


def main():
    mods = modules(SRC)
    edges = graph(mods)
    if "--graph" in sys.argv:
        for m in sorted(edges):
            print(f"{m or 'lib'} -> {', '.join(sorted(edges[m])) or '-'}")
    failed = False
    for comp in cycles(edges):
        print("layers: import cycle: " + " <-> ".join(c or "lib" for c in comp))
        failed = True
    for line in unsafe_outside_edge(SRC):
        print("layers: unsafe outside src/sys/, heap.rs and main.rs: " + line)
        failed = True
    if not failed:
        print(f"layers: {len(mods)} modules, no import cycle, unsafe only in src/sys/, heap.rs and main.rs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
