#!/usr/bin/env python3
"""Folder dependency graph of the engine (Sources/KMTalkEngine), read from type references.

Every top-level declaration (type, function, global) belongs to the folder of its file; a
file that names a declaration of another folder makes its folder depend on that one. The
layers run one way, as ../shared/docs/architecture.md draws them:

    API -> Session, Export, Import -> Rig -> Model -> Motion -> Audio -> Container, Tensor, Support

A folder may use any folder below it (and Support); siblings on one level do not use each
other, except that Container may use Tensor and Support, and Tensor Support. The C module
(`import CKMTalk`, its `kmt_*` types and `KMT_*` constants) appears only in API: the layers
below throw `KMTError` with an `ErrorKind` that API maps to `kmt_status`. Prints the graph;
with --check exits 1 on any edge that runs upward or any C API name below API.

    python3 scripts/layer-deps.py [--check] [--dot]
"""
import argparse
import collections
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Sources" / "KMTalkEngine"
LEVELS = [["API"], ["Session", "Export", "Import"], ["Rig"], ["Model"], ["Motion"], ["Audio"],
          ["Container", "Tensor", "Support"]]
LEVEL = {folder: i for i, names in enumerate(LEVELS) for folder in names}
# No C API name below API (the engine's errors carry an ErrorKind; API maps it).
C_TYPES_ALLOWED: set = set()
SIBLINGS_ALLOWED = {("Container", "Support"), ("Container", "Tensor"), ("Tensor", "Support")}

DECLARATION = re.compile(
    r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|internal|package|private|fileprivate|final|indirect)\s+)*"
    r"(?:struct|class|enum|protocol|typealias|func|actor|let|var)\s+`?(\w+)")
IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")


def strip(source: str) -> str:
    """Source without comments and string literals (so prose does not count as a use)."""
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.S)
    source = re.sub(r'"""(?:.|\n)*?"""', '""', source)
    source = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', source)
    return re.sub(r"//[^\n]*", " ", source)


def scan():
    files = {path: strip(path.read_text()) for path in sorted(ROOT.rglob("*.swift"))}
    owner = {}
    for path, text in files.items():
        folder = path.relative_to(ROOT).parts[0]
        for line in text.splitlines():
            match = DECLARATION.match(line)  # top level only: no indentation
            if match and not re.match(r"^(?:@\w+\s+)*(?:private|fileprivate)\b", line):
                owner.setdefault(match.group(1), set()).add(folder)
    edges = collections.defaultdict(lambda: collections.defaultdict(set))
    ctypes = collections.defaultdict(set)
    for path, text in files.items():
        folder = path.relative_to(ROOT).parts[0]
        local = {m.group(1) for line in text.splitlines() if (m := DECLARATION.match(line))}
        for name in set(IDENTIFIER.findall(text)):
            if (name.startswith(("kmt_", "KMT_")) or name == "CKMTalk") and folder != "API" and name not in C_TYPES_ALLOWED:
                ctypes[folder].add(name)
            if name in local or name not in owner:
                continue
            for other in owner[name]:
                if other != folder:
                    edges[folder][other].add(name)
    return edges, ctypes


def upward(source: str, target: str) -> bool:
    if source not in LEVEL or target not in LEVEL:
        return True
    if LEVEL[target] > LEVEL[source]:
        return False
    return not (LEVEL[target] == LEVEL[source] and (source, target) in SIBLINGS_ALLOWED)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a dependency runs upward")
    parser.add_argument("--dot", action="store_true", help="print the graph in Graphviz dot")
    args = parser.parse_args()
    edges, ctypes = scan()
    bad = []
    if args.dot:
        print("digraph layers {")
    for source in sorted(edges, key=lambda f: (LEVEL.get(f, -1), f)):
        for target in sorted(edges[source], key=lambda f: (LEVEL.get(f, -1), f)):
            names = sorted(edges[source][target])
            wrong = upward(source, target)
            if wrong:
                bad.append((source, target, names))
            if args.dot:
                print(f'  "{source}" -> "{target}"{" [color=red]" if wrong else ""};')
            else:
                shown = ", ".join(names[:6]) + (f", ... ({len(names)})" if len(names) > 6 else "")
                print(f"{'UPWARD ' if wrong else ''}{source} -> {target}: {shown}")
    if args.dot:
        print("}")
    unknown = sorted({f for f in edges} - set(LEVEL))
    for folder in unknown:
        print(f"folder {folder} is not in the layer list", file=sys.stderr)
    for folder, names in sorted(ctypes.items()):
        print(f"C types outside API in {folder}: {', '.join(sorted(names))}", file=sys.stderr)
    for source, target, names in bad:
        print(f"upward: {source} -> {target} ({', '.join(names)})", file=sys.stderr)
    if args.check and (bad or ctypes or unknown):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
