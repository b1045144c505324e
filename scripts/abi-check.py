#!/usr/bin/env python3
"""The ABI check: compares what include/kmtalk.h promises a compiled host (function
prototypes, the callback type, enum values, and the size and field offsets of every public
struct as the C compiler lays them out) with the committed baseline include/kmtalk.abi, so
a change that would break a host built against an earlier header fails CI.

    scripts/abi-check.py            # compare; exit 1 on any difference
    scripts/abi-check.py --update   # rewrite the baseline (after a deliberate ABI change)

Breaking: a function, constant or field of the baseline gone or changed, a struct smaller
than before, and a struct that grows while a baseline function returns it by value (the
caller reserves the return space with its own, older sizeof, so a newer library would
write past it). Compatible: new functions, constants and structs, and a struct that grows
at its end with every old field in place (the structs carry `struct_size`). Both fail until
the baseline is updated, so every ABI change is a reviewed line in a commit; the message
says which kind it is. The exported symbols themselves are checked by check-symbols.sh.
Needs a C compiler (cc).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include", "kmtalk.h")
BASELINE = os.path.join(ROOT, "include", "kmtalk.abi")


def preprocessed(header: str) -> str:
    """The header after the C preprocessor (comments, the include guard and the deprecation
    attributes gone: deprecating a function does not change its ABI)."""
    command = ["cc", "-E", "-P", "-DKMT_NO_DEPRECATION_WARNINGS", "-x", "c", header]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def normal_type(text: str) -> str:
    """`const char *` -> `const char*`: one space between words, none before stars."""
    text = re.sub(r"\s+", " ", text.strip())
    return re.sub(r"\s*\*\s*", "*", text).replace("*const", "* const")


def parameter_types(params: str) -> list:
    """The types of a C parameter list, names dropped."""
    params = params.strip()
    if params in ("", "void"):
        return []
    out = []
    for param in params.split(","):
        param = param.strip()
        match = re.match(r"^(.*?[\s\*])([A-Za-z_]\w*)$", param)
        out.append(normal_type(match.group(1) if match else param))
    return out


def declarations(text: str) -> tuple:
    """(lines, structs): the baseline lines of functions, callback types and enum constants,
    and {struct: [field names]} of the structs with a public body."""
    lines = []
    structs = {}
    for name, body in re.findall(r"typedef\s+enum\s+(\w+)\s*\{([^}]*)\}\s*\w+\s*;", text):
        value = -1
        for item in filter(None, (i.strip() for i in body.split(","))):
            constant, _, expression = item.partition("=")
            value = int(expression.strip(), 0) if expression.strip() else value + 1
            lines.append(f"enum {name} {constant.strip()} = {value}")
    for name, body in re.findall(r"typedef\s+struct\s+(\w+)\s*\{([^}]*)\}\s*\w+\s*;", text):
        fields = []
        for field in filter(None, (f.strip() for f in body.split(";"))):
            match = re.match(r"^(.*?[\s\*])([A-Za-z_]\w*)(\[\d+\])?$", field)
            if not match:
                raise SystemExit(f"abi-check: cannot read field '{field}' of {name}")
            fields.append((match.group(2), normal_type(match.group(1)) + (match.group(3) or "")))
        structs[name] = fields
    for result, name, params in re.findall(r"typedef\s+([\w\s\*]+?)\(\s*\*\s*(\w+)\s*\)\s*\(([^()]*)\)\s*;", text):
        lines.append(f"callback {name}: {normal_type(result)}({', '.join(parameter_types(params))})")
    body = re.sub(r"typedef[^;]*;", "", re.sub(r"typedef\s+(enum|struct)\s+\w+\s*\{[^}]*\}\s*\w+\s*;", "", text))
    for result, name, params in re.findall(r"([A-Za-z_][\w\s\*]*?)\b(kmt_\w+)\s*\(([^()]*)\)\s*;", body):
        lines.append(f"function {name}: {normal_type(result)}({', '.join(parameter_types(params))})")
    return lines, structs


def layouts(structs: dict) -> list:
    """`struct S size N` and `field S.f offset O size N type T` lines, as cc lays them out."""
    probe = ["#include <stddef.h>", "#include <stdio.h>", f'#include "{HEADER}"', "int main(void) {"]
    for name, fields in structs.items():
        probe.append(f'    printf("struct {name} size %zu\\n", sizeof({name}));')
        for field, c_type in fields:
            probe.append(f'    printf("field {name}.{field} offset %zu size %zu type {c_type}\\n", '
                         f'offsetof({name}, {field}), sizeof((({name}*)0)->{field}));')
    probe += ["    return 0;", "}"]
    with tempfile.TemporaryDirectory() as scratch:
        source, binary = os.path.join(scratch, "probe.c"), os.path.join(scratch, "probe")
        with open(source, "w") as f:
            f.write("\n".join(probe) + "\n")
        subprocess.run(["cc", "-std=c11", "-o", binary, source], check=True)
        return subprocess.run([binary], check=True, capture_output=True, text=True).stdout.splitlines()


def current_abi() -> list:
    lines, structs = declarations(preprocessed(HEADER))
    return sorted(set(lines + layouts(structs)))


def compare(baseline: list, current: list) -> tuple:
    """(breaking, compatible) differences, as messages."""
    old, new = set(baseline), set(current)
    breaking, compatible = [], []
    sizes = lambda lines: {l.split()[1]: int(l.split()[3]) for l in lines if l.startswith("struct ")}  # noqa: E731
    old_sizes, new_sizes = sizes(old), sizes(new)
    # The baseline's functions that return a struct by value: struct -> function names.
    returned = {}
    for line in old:
        match = re.match(r"^function (\w+): (\w+)\(", line)
        if match and match.group(2) in old_sizes:
            returned.setdefault(match.group(2), []).append(match.group(1))
    for line in sorted(old - new):
        if line.startswith("struct "):
            name = line.split()[1]
            if name not in new_sizes:
                breaking.append(f"struct {name} removed")
            elif new_sizes[name] < old_sizes[name]:
                breaking.append(f"struct {name} shrank from {old_sizes[name]} to {new_sizes[name]} bytes")
        else:
            breaking.append(f"gone or changed: {line}")
    for line in sorted(new - old):
        if line.startswith("struct "):
            name = line.split()[1]
            if name in old_sizes and new_sizes[name] > old_sizes[name] and name in returned:
                breaking.append(f"struct {name} grew from {old_sizes[name]} to {new_sizes[name]} bytes but "
                                f"{' and '.join(sorted(returned[name]))} returns it by value: hosts built "
                                f"against the old header would be overrun")
            elif name in old_sizes and new_sizes[name] > old_sizes[name]:
                compatible.append(f"struct {name} grew from {old_sizes[name]} to {new_sizes[name]} bytes")
            elif name not in old_sizes:
                compatible.append(f"new: {line}")
        elif line.startswith("field "):
            struct, field = line.split()[1].split(".")
            if struct in old_sizes:
                offset = int(line.split()[3])
                if offset < old_sizes[struct]:
                    breaking.append(f"new field inside the old size of {struct}: {line}")
                else:
                    compatible.append(f"new field at the end: {line}")
        else:
            # A changed line also appears as gone (breaking) above.
            key = line.split(":")[0].split(" = ")[0]
            if not any(o.split(":")[0].split(" = ")[0] == key for o in old):
                compatible.append(f"new: {line}")
    return breaking, compatible


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="write the current ABI as the baseline")
    parser.add_argument("--baseline", default=BASELINE)
    args = parser.parse_args(argv)
    current = current_abi()
    if args.update:
        with open(args.baseline, "w") as f:
            f.write("# The ABI of include/kmtalk.h (scripts/abi-check.py --update; do not edit by hand).\n")
            f.write("\n".join(current) + "\n")
        print(f"abi-check: wrote {len(current)} lines to {os.path.relpath(args.baseline, ROOT)}")
        return 0
    if not os.path.isfile(args.baseline):
        print(f"FAIL abi-check: no baseline at {args.baseline} (scripts/abi-check.py --update)")
        return 1
    with open(args.baseline) as f:
        baseline = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    breaking, compatible = compare(baseline, current)
    for message in breaking:
        print(f"FAIL abi-check: breaking: {message}")
    for message in compatible:
        print(f"FAIL abi-check: compatible, not in the baseline: {message}")
    if breaking or compatible:
        print("abi-check: a deliberate change records itself with scripts/abi-check.py --update "
              "(breaking changes also need a new major version and SONAME)")
        return 1
    functions = sum(l.startswith("function ") for l in current)
    structs = sum(l.startswith("struct ") for l in current)
    print(f"PASS abi-check: {functions} functions, {structs} structs and every enum value as in the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
