#!/usr/bin/env python3
"""Fails when the docs name a test that does not exist.

Every `path.rs::name` in the Markdown files (and `…::name`, the same file as the one before
it) must be a `fn name` in that file. `pallets/…/` stands for `pallets/consensus-machine/src/`,
and a bare `file.rs::name` for a file of the pallet's tests (`pallets/consensus-machine/src/tests/`).
Run from the repository root; prints each missing test and exits non-zero if there is one.
"""
import glob
import re
import sys

DOCS = ["README.md", "SECURITY.md", *sorted(glob.glob("docs/*.md")),
        *sorted(glob.glob("pallets/*/README.md"))]
PALLET = "pallets/consensus-machine/src/"
REFERENCE = re.compile(r"`((?:[\w./-]|…)+?\.rs|…)::(\w+)`")


def resolve(path):
    if path.startswith("pallets/…/"):
        return PALLET + path[len("pallets/…/"):]
    if "/" not in path:
        return PALLET + "tests/" + path
    return path


def main():
    missing, checked, sources = [], 0, {}
    for doc in DOCS:
        last = None
        for number, line in enumerate(open(doc, encoding="utf-8"), 1):
            for path, name in REFERENCE.findall(line):
                if path == "…":
                    if last is None:
                        missing.append(f"{doc}:{number}: `…::{name}` with no file before it")
                        continue
                    path = last
                else:
                    path = resolve(path)
                    last = path
                try:
                    source = sources.setdefault(path, open(path, encoding="utf-8").read())
                except FileNotFoundError:
                    missing.append(f"{doc}:{number}: {path} does not exist (for `{name}`)")
                    continue
                checked += 1
                if not re.search(rf"\bfn\s+{name}\s*[<(]", source):
                    missing.append(f"{doc}:{number}: no test `{name}` in {path}")
    for line in missing:
        print(line)
    print(f"docs: {checked} named tests checked, {len(missing)} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
