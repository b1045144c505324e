#!/usr/bin/env python3
"""The C# binding's layout check: what the C compiler makes of include/kmtalk.h against
what the .NET runtime makes of the binding (bindings/csharp/tests/LayoutDump.cs prints it).

    layout.py --c-only [--header H]          # print the C side
    layout.py --csharp DUMP [--header H]     # compare with LayoutDump.exe's output; exit 1 on a difference

The C side comes from a probe program generated from the header and compiled with cc:
- `struct S size N` and `field S.f offset O size N` for every public struct (sizeof, offsetof);
- `enum E size N` and `const E.NAME = V` for every enum and enumerator (the values as C
  evaluates them);
- `define NAME = V` for every object-like KMT_ macro with an integer or string value.
These must equal the C# side's lines (Marshal.SizeOf, Marshal.OffsetOf, the underlying size
and values of the C# enums, the constants of Native) exactly, in both directions: a struct,
field, enumerator or #define that one side has and the other lacks is a failure too.

Functions: every function of the header must have a DllImport in Native (Cdecl, the C name)
with as many parameters, each of a C# type that marshals as the C type does (TYPE_RULES),
and the return type likewise; callback typedefs against Native's delegates. Deprecated
functions (KMT_DEPRECATED) may be left unbound; they are listed.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HEADER = os.path.join(ROOT, "include", "kmtalk.h")


def preprocessed(header: str) -> str:
    command = ["cc", "-E", "-P", "-DKMT_NO_DEPRECATION_WARNINGS", "-x", "c", header]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def macros(header: str) -> list:
    """Object-like KMT_ macros of the header (names), without the function-like ones."""
    command = ["cc", "-dM", "-E", "-x", "c", header]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        match = re.match(r"^#define (KMT_\w+) (.+)$", line)
        if match:
            names.append((match.group(1), match.group(2).strip()))
    return names


def normal_type(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip())
    return re.sub(r"\s*\*\s*", "*", text)


def parameters(params: str) -> list:
    params = params.strip()
    if params in ("", "void"):
        return []
    out = []
    for param in params.split(","):
        match = re.match(r"^(.*?[\s\*])([A-Za-z_]\w*)$", param.strip())
        out.append(normal_type(match.group(1) if match else param))
    return out


def parse(text: str, raw: str) -> dict:
    enums, structs, callbacks, functions, handles = {}, {}, {}, {}, set()
    for name, body in re.findall(r"typedef\s+enum\s+(\w+)\s*\{([^}]*)\}\s*\w+\s*;", text):
        enums[name] = [item.partition("=")[0].strip() for item in body.split(",") if item.strip()]
    for name, body in re.findall(r"typedef\s+struct\s+(\w+)\s*\{([^}]*)\}\s*\w+\s*;", text):
        fields = []
        for field in filter(None, (f.strip() for f in body.split(";"))):
            match = re.match(r"^(.*?[\s\*])([A-Za-z_]\w*)$", field)
            if not match:
                raise SystemExit(f"layout.py: cannot read field '{field}' of {name}")
            fields.append(match.group(2))
        structs[name] = fields
    for name in re.findall(r"typedef\s+struct\s+(\w+)\s+\1\s*;", text):
        handles.add(name)
    for result, name, params in re.findall(r"typedef\s+([\w\s\*]+?)\(\s*\*\s*(\w+)\s*\)\s*\(([^()]*)\)\s*;", text):
        callbacks[name] = (normal_type(result), parameters(params))
    body = re.sub(r"typedef[^;]*;", "", re.sub(r"typedef\s+(enum|struct)\s+\w+\s*\{[^}]*\}\s*\w+\s*;", "", text))
    for result, name, params in re.findall(r"([A-Za-z_][\w\s\*]*?)\b(kmt_\w+)\s*\(([^()]*)\)\s*;", body):
        functions[name] = (normal_type(result), parameters(params))
    deprecated = set(re.findall(r"^KMT_DEPRECATED\(\w+\)[^;(]*\b(kmt_\w+)\s*\(", raw, re.M))
    return {"enums": enums, "structs": structs, "callbacks": callbacks, "functions": functions,
            "handles": handles, "deprecated": deprecated}


def c_side(header: str) -> tuple:
    """(lines of the probe's output, parsed header)."""
    with open(header) as f:
        raw = f.read()
    info = parse(preprocessed(header), raw)
    probe = ["#include <stddef.h>", "#include <stdio.h>", f'#include "{os.path.abspath(header)}"', "int main(void) {"]
    for name, fields in info["structs"].items():
        probe.append(f'    printf("struct {name} size %zu\\n", sizeof({name}));')
        for field in fields:
            probe.append(f'    printf("field {name}.{field} offset %zu size %zu\\n", '
                         f'offsetof({name}, {field}), sizeof((({name}*)0)->{field}));')
    for name, constants in info["enums"].items():
        probe.append(f'    printf("enum {name} size %zu\\n", sizeof({name}));')
        for constant in constants:
            probe.append(f'    printf("const {name}.{constant} = %lld\\n", (long long){constant});')
    for name, value in macros(header):
        if name in ("KMT_DEPRECATED",) or "(" in name:
            continue
        if value.startswith('"'):
            probe.append(f'    printf("define {name} = \\"%s\\"\\n", {name});')
        elif re.fullmatch(r"[\w\s()*+\-/<>|&~]+", value):
            probe.append(f'    printf("define {name} = %lld\\n", (long long)({name}));')
    probe += ["    return 0;", "}"]
    with tempfile.TemporaryDirectory() as scratch:
        source, binary = os.path.join(scratch, "probe.c"), os.path.join(scratch, "probe")
        with open(source, "w") as f:
            f.write("\n".join(probe) + "\n")
        subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", "-DKMT_NO_DEPRECATION_WARNINGS", "-o", binary, source], check=True)
        lines = subprocess.run([binary], check=True, capture_output=True, text=True).stdout.splitlines()
    return lines, info


SCALARS = {
    "void": "System.Void", "size_t": "System.UIntPtr", "int": "System.Int32", "int32_t": "System.Int32",
    "uint32_t": "System.UInt32", "uint64_t": "System.UInt64", "int16_t": "System.Int16",
    "float": "System.Single", "double": "System.Double", "char": "System.Byte",
}
HANDLE_CLASSES = {"kmt_model": "KMTalk.ModelHandle", "kmt_session": "KMTalk.SessionHandle",
                  "kmt_animation": "KMTalk.AnimationHandle", "kmt_rig": "KMTalk.RigHandle",
                  "kmt_audio": "KMTalk.AudioHandle"}
# How each kind of C type may be declared in C# (the .NET type names reflection prints; `&`
# is ref/out): TYPE_RULES is documentation of allowed(), which implements it.
TYPE_RULES = """
scalar T (size_t, int32_t, float, ...)   the same-size .NET primitive (size_t: UIntPtr)
enum kmt_E                               the C# enum printed as `enummap kmt_E CSharpType`
kmt_E* (statuses out)                    the enum by ref/out, an array of it, or IntPtr
T* of a scalar                           T& (ref/out, pinned), T[] or IntPtr
const char* parameter                    byte[] (NUL-terminated UTF-8) or IntPtr; return: IntPtr
char* (a buffer)                         byte[] or IntPtr
void* / const void*                      byte& (a span's first byte), byte[] or IntPtr; user data: IntPtr
kmt_H* / const kmt_H* (opaque handle)    the H's SafeHandle class, or IntPtr (the free functions)
kmt_H** (out-parameter)                  the SafeHandle class by ref/out
kmt_H *const * (a list of handles)       IntPtr[] (each a handle the caller keeps alive) or IntPtr
kmt_S* (a parameter struct)              Native+kmt_S by ref
kmt_S* (a caller's buffer of structs)    Native+kmt_S[]
const char *const * (a list of names)    IntPtr[] (each a NUL-terminated UTF-8 string) or IntPtr
const T *const * (a list of buffers)     IntPtr[] (each a pinned buffer) or IntPtr
const char ** / const T ** (out-param)   IntPtr by ref/out (a string or array the object owns)
kmt_S returned by value                  Native+kmt_S
a callback typedef                       Native+<typedef> (a delegate)
"""


def allowed(c_type: str, info: dict, enum_map: dict, where: str) -> set:
    t = re.sub(r"\s+", " ", re.sub(r"\bconst\b", "", c_type)).strip()
    stars = t.count("*")
    base = t.replace("*", "").strip()
    if base in info["callbacks"] and stars == 0:
        return {f"KMTalk.Native+{base}"}
    if base in enum_map and stars == 0:
        return {enum_map[base]}
    if base in enum_map and stars == 1 and where == "param":
        # A caller's buffer of enum values (kmt_sessions_push_f32's out_statuses).
        return {enum_map[base] + "&", enum_map[base] + "[]", "System.IntPtr"}
    list_of_pointers = stars == 2 and where == "param" and re.sub(r"\s+", "", c_type).endswith("*const*")
    if base in info["handles"] and list_of_pointers:
        # A list of handles (kmt_session *const *sessions): raw pointers the caller keeps alive.
        return {"System.IntPtr[]", "System.IntPtr"}
    if base in info["handles"]:
        cls = HANDLE_CLASSES.get(base, f"<no SafeHandle class for {base}>")
        return {cls, "System.IntPtr"} if stars == 1 else {cls + "&"}
    if base in info["structs"]:
        # A struct pointer: one struct by ref, or an array of them (a caller's buffer).
        return {f"KMTalk.Native+{base}"} if stars == 0 else {f"KMTalk.Native+{base}&", f"KMTalk.Native+{base}[]"}
    if base == "void" and stars == 1:
        return {"System.IntPtr"} if where == "user_data" else {"System.Byte&", "System.Byte[]", "System.IntPtr"}
    if base == "char" and stars == 1:
        return {"System.IntPtr"} if where in ("return", "callback") else {"System.Byte[]", "System.IntPtr"}
    if base == "char" and stars == 2 and where == "param" and re.sub(r"\s+", "", c_type).endswith("*const*"):
        # A list of C strings: an array of pointers to NUL-terminated UTF-8.
        return {"System.IntPtr[]", "System.IntPtr"}
    if base in SCALARS and list_of_pointers:
        # A list of buffers (const float *const *pcm): an array of pinned pointers.
        return {"System.IntPtr[]", "System.IntPtr"}
    if (base == "char" or base in SCALARS) and stars == 2 and where == "param":
        # A getter's pointer out-parameter (const char **out_name, const float **out_samples).
        return {"System.IntPtr&"}
    if base in SCALARS:
        net = SCALARS[base]
        if stars == 0:
            return {net}
        if stars == 1:
            return {net + "&", net + "[]", "System.IntPtr"}
    return {f"<unmapped C type {c_type}>"}


def compare_functions(info: dict, cs_functions: dict, cs_callbacks: dict, enum_map: dict) -> tuple:
    failures, notes = [], []
    for name, (result, params) in sorted(info["functions"].items()):
        if name not in cs_functions:
            if name in info["deprecated"]:
                notes.append(f"not bound (deprecated in the header): {name}")
            else:
                failures.append(f"function {name} of the header has no DllImport in Native")
            continue
        conv, cs_result, cs_params = cs_functions[name]
        if conv != "Cdecl":
            failures.append(f"function {name}: calling convention {conv}, the header's is Cdecl")
        if cs_result not in allowed(result, info, enum_map, "return"):
            failures.append(f"function {name}: returns {cs_result}, C returns {result} "
                            f"(allowed: {', '.join(sorted(allowed(result, info, enum_map, 'return')))})")
        if len(cs_params) != len(params):
            failures.append(f"function {name}: {len(cs_params)} parameters in C#, {len(params)} in C")
            continue
        for index, (c_type, cs_type) in enumerate(zip(params, cs_params)):
            where = "user_data" if (c_type.replace(" ", "") == "void*" and index == len(params) - 1
                                    and name == "kmt_log_set") else "param"
            ok = allowed(c_type, info, enum_map, where)
            if cs_type not in ok:
                failures.append(f"function {name} parameter {index}: {cs_type} in C#, {c_type} in C "
                                f"(allowed: {', '.join(sorted(ok))})")
    for name in sorted(set(cs_functions) - set(info["functions"])):
        failures.append(f"Native declares {name}, which the header does not have")
    for name, (result, params) in sorted(info["callbacks"].items()):
        if name not in cs_callbacks:
            failures.append(f"callback {name} has no delegate in Native")
            continue
        cs_result, cs_params = cs_callbacks[name]
        types = [result] + params
        cs_types = [cs_result] + cs_params
        if len(types) != len(cs_types):
            failures.append(f"callback {name}: {len(cs_params)} parameters in C#, {len(params)} in C")
            continue
        for index, (c_type, cs_type) in enumerate(zip(types, cs_types)):
            where = "return" if index == 0 else ("user_data" if index == len(types) - 1 else "callback")
            if cs_type not in allowed(c_type, info, enum_map, where):
                failures.append(f"callback {name} {'result' if index == 0 else f'parameter {index - 1}'}: "
                                f"{cs_type} in C#, {c_type} in C")
    return failures, notes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--header", default=HEADER)
    parser.add_argument("--csharp", help="LayoutDump.exe's output")
    parser.add_argument("--c-only", action="store_true", help="print the C side and stop")
    args = parser.parse_args(argv)
    c_lines, info = c_side(args.header)
    if args.c_only or not args.csharp:
        print("\n".join(c_lines))
        return 0
    with open(args.csharp) as f:
        cs_all = [line.rstrip("\n") for line in f if line.strip()]
    enum_map, cs_functions, cs_callbacks, cs_lines = {}, {}, {}, []
    for line in cs_all:
        if line.startswith("enummap "):
            _, c_name, cs_name = line.split()
            enum_map[c_name] = cs_name
        elif line.startswith("function "):
            match = re.match(r"^function (\w+) \[(\w+)\]: (\S+)\((.*)\)$", line)
            cs_functions[match.group(1)] = (match.group(2), match.group(3),
                                            [p.strip() for p in match.group(4).split(",") if p.strip()])
        elif line.startswith("callback "):
            match = re.match(r"^callback (\w+): (\S+)\((.*)\)$", line)
            cs_callbacks[match.group(1)] = (match.group(2), [p.strip() for p in match.group(3).split(",") if p.strip()])
        else:
            cs_lines.append(line)
    failures = []
    c_set, cs_set = set(c_lines), set(cs_lines)
    for line in sorted(c_set - cs_set):
        failures.append(f"C has, C# lacks or differs: {line}")
    for line in sorted(cs_set - c_set):
        failures.append(f"C# has, C lacks or differs: {line}")
    for name in sorted(info["enums"]):
        if name not in enum_map:
            failures.append(f"enum {name} has no C# enum (LayoutDump.cs's enum table)")
    function_failures, notes = compare_functions(info, cs_functions, cs_callbacks, enum_map)
    failures += function_failures
    for note in notes:
        print(f"note: {note}")
    for failure in failures:
        print(f"FAIL layout: {failure}")
    if failures:
        return 1
    count = lambda prefix: sum(line.startswith(prefix) for line in c_lines)  # noqa: E731
    print(f"PASS layout: {count('struct ')} structs ({count('field ')} fields: sizes and offsets), "
          f"{count('enum ')} enums ({count('const ')} values), {count('define ')} #defines equal in C and C#; "
          f"{len(cs_functions)} DllImports and {len(cs_callbacks)} callback delegates match the header's "
          f"prototypes ({len(notes)} deprecated functions not bound)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
