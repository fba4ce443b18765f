#!/usr/bin/env python3
"""Write the third-party notices of everything linked into pidone's binaries.

`make notices` runs this; `make lint` runs it into a temporary directory and
fails when the committed files differ. It writes two files:

- THIRD-PARTY-NOTICES: every component linked into the release binaries (the
  stable and the tiny build, for every release target), its declared license
  and the license texts the component ships.
- src/notices.txt: the short form `pidone -l` prints (it is embedded in the
  binary, so it is kept small): pidone's own license, then each component with
  its copyright lines and the license it is used under.

Sources, all read from this machine, nothing from the network:
- the crates: `cargo metadata` (from Cargo.lock) for the dependency graph, and
  each crate's own license files from cargo's registry source directory;
- Rust's standard library: the MIT text the toolchain ships
  (`rustc --print sysroot`/share/doc/rust/licenses/MIT.txt);
- musl: the copyright file of Debian's musl package of the version linked
  (the Makefile downloads the package, it does not install it), given with
  --musl-copyright; that version (the one Rust's musl targets bundle, and the
  one Debian's musl-dev gives the cross targets) with --musl-version.

Usage: notices.py --musl-copyright FILE --musl-version V [--out-dir DIR]
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = "x86_64-unknown-linux-musl"  # every release target links the same crates
FLAVOURS = {"stable": [], "tiny": ["--features", "tlsf"]}
LICENSE_FILES = ("LICENSE", "LICENSE-MIT", "LICENSE-APACHE", "LICENSE.md", "LICENSE.txt", "COPYING", "NOTICE")
RULE = "=" * 78


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def linked_crates():
    """{package id: package} for the crates linked into pidone, with the
    flavours that link each: normal dependencies only (no build scripts'
    dependencies, no proc macros, which run in the compiler)."""
    found = {}
    for flavour, features in FLAVOURS.items():
        meta = json.loads(
            sh("cargo", "metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", TARGET, *features)
        )
        packages = {p["id"]: p for p in meta["packages"]}
        nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
        root = next(p["id"] for p in meta["packages"] if p["name"] == "pidone" and p["source"] is None)
        todo, seen = [root], set()
        while todo:
            node = nodes[todo.pop()]
            for dep in node["deps"]:
                normal = any(k["kind"] is None for k in dep["dep_kinds"])
                pkg = packages[dep["pkg"]]
                macro = any("proc-macro" in t["kind"] for t in pkg["targets"])
                if normal and not macro and dep["pkg"] not in seen:
                    seen.add(dep["pkg"])
                    todo.append(dep["pkg"])
        for pid in seen:
            found.setdefault(pid, (packages[pid], []))[1].append(flavour)
    return sorted(found.values(), key=lambda e: e[0]["name"])


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read().rstrip() + "\n"


def mit_text(holder):
    """The toolchain's MIT text with HOLDER as the copyright line."""
    text = read(os.path.join(sh("rustc", "--print", "sysroot").strip(), "share/doc/rust/licenses/MIT.txt"))
    return text.replace("Copyright (c) <year> <copyright holders>", f"Copyright (c) {holder}")


def crate_texts(pkg):
    """[(file name, text)] of the license files a crate ships."""
    base = os.path.dirname(pkg["manifest_path"])
    return [(n, read(os.path.join(base, n))) for n in LICENSE_FILES if os.path.isfile(os.path.join(base, n))]


def mit_of(texts):
    """The crate's own MIT text: LICENSE-MIT, or a LICENSE that is MIT."""
    for name, text in texts:
        if name == "LICENSE-MIT" or "Permission is hereby granted, free of charge" in text:
            return text
    return None


def copyright_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip().lower().startswith("copyright")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--musl-copyright", required=True)
    ap.add_argument("--musl-version", required=True)
    ap.add_argument("--out-dir", default=ROOT)
    args = ap.parse_args()

    crates = linked_crates()
    musl = read(args.musl_copyright)
    std_mit = mit_text("The Rust Project Developers")
    own = read(os.path.join(ROOT, "LICENSE"))

    full = [
        "Third-party notices for pidone's binaries",
        "",
        "pidone itself is under the MIT license (the file LICENSE). Its static binaries",
        "(the stable and the tiny build, for every release target) also contain the",
        "components below. Each is listed with the license it declares; where that is",
        "a choice (`A OR B`), pidone uses it under MIT. This file is generated from",
        "Cargo.lock by tools/notices.py (`make notices`); do not edit it by hand.",
        "",
    ]
    short = [own, RULE, "Third-party components linked into this binary (full texts: THIRD-PARTY-NOTICES", "in the source, beside the release binaries, and /licenses/ in the image)", ""]

    def section(title, declared, note, texts):
        full.extend([RULE, title, f"License: {declared}"])
        if note:
            full.append(note)
        full.append(RULE)
        for name, text in texts:
            full.extend(["", f"--- {name}", "", text.rstrip()])
        full.append("")

    # The standard library first: every Rust binary links it.
    section(
        "Rust standard library (std, core, alloc and the crates they bundle)",
        "MIT OR Apache-2.0 (used under MIT)",
        "Bundled crates (compiler_builtins, hashbrown, memchr, adler2, miniz_oxide, gimli,\n"
        "addr2line, object, rustc-demangle, std_detect, libunwind where linked) are under\n"
        "licenses that offer MIT or need no notice in binary form; the toolchain's\n"
        "share/doc/rust/COPYRIGHT-library.html lists each.",
        [("MIT (share/doc/rust/licenses/MIT.txt of the Rust toolchain)", std_mit)],
    )
    short.append("Rust standard library: MIT OR Apache-2.0, used under MIT; Copyright (c) The Rust Project Developers")

    section(
        f"musl {args.musl_version} (the C library, linked statically)",
        "MIT (some files public domain or under other permissive terms, listed below)",
        f"Text: Debian's musl {args.musl_version} package, /usr/share/doc/musl/copyright (musl's\n"
        "COPYRIGHT in machine-readable form).",
        [("copyright", musl)],
    )
    short.append(f"musl {args.musl_version}: MIT; Copyright (c) 2005-2020 Rich Felker, et al. (per-file notices: THIRD-PARTY-NOTICES)")

    for pkg, flavours in crates:
        texts = crate_texts(pkg)
        where = "both builds" if len(flavours) == len(FLAVOURS) else f"the {flavours[0]} build only"
        note = f"Linked into {where}. Source: crates.io, {pkg['name']} {pkg['version']}."
        if not texts:
            holder = ", ".join(pkg.get("authors") or [pkg["name"] + " authors"])
            note += (
                "\nThe crate ships no license file: the MIT text below is the standard one\n"
                "with the crate's authors (its Cargo.toml) as the holder."
            )
            texts = [("MIT (standard text)", mit_text(holder))]
        section(f"{pkg['name']} {pkg['version']}", pkg["license"], note, texts)
        mit = mit_of(texts)
        lines = copyright_lines(mit) if mit else []
        choice = ", used under MIT" if ("OR" in pkg["license"] or "/" in pkg["license"]) else ""
        short.append(f"{pkg['name']} {pkg['version']}: {pkg['license']}{choice}; " + "; ".join(lines))

    short.extend(
        [
            "",
            "Each component above is used under the MIT license, whose permission notice",
            "is the second paragraph of pidone's license at the top of this text.",
        ]
    )
    for name, lines in (("THIRD-PARTY-NOTICES", full), (os.path.join("src", "notices.txt"), short)):
        path = os.path.join(args.out_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines).rstrip() + "\n")


if __name__ == "__main__":
    sys.exit(main())
