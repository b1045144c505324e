#!/usr/bin/env bash
# Builds the Blender add-on zip: dist/kmtalk_blender-<version>.zip, installable with
# Edit > Preferences > Add-ons > Install... It holds bindings/blender/kmtalk_blender and,
# vendored inside it as kmtalk_blender/kmtalk, the pure-Python `kmtalk` package from
# bindings/python (Blender has its own Python, where pip installs are awkward). The
# native library is not in the zip: the add-on finds it through its preferences
# (Library), $KMTALK_LIBRARY or the package's usual search (bindings/blender/README.md).
#
#   scripts/build-blender-addon.sh [OUTPUT_DIR]     (default: dist)
#
# Prints the zip's path on its last line.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${1:-dist}"
mkdir -p "$OUT"
python3 - "$OUT" <<'PY'
import ast
import os
import sys
import zipfile
from pathlib import Path

out = Path(sys.argv[1])
addon = Path("bindings/blender/kmtalk_blender")
binding = Path("bindings/python/kmtalk")
tree = ast.parse((addon / "__init__.py").read_text(encoding="utf-8"))
bl_info = next(ast.literal_eval(node.value) for node in tree.body
               if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "bl_info" for t in node.targets))
version = ".".join(str(part) for part in bl_info["version"])
path = out / f"kmtalk_blender-{version}.zip"
tmp = path.with_name(path.name + ".tmp")


def add(archive, source, name):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # reproducible
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, source.read_bytes())


with zipfile.ZipFile(tmp, "w") as archive:
    for source in sorted(addon.glob("*.py")):
        add(archive, source, f"kmtalk_blender/{source.name}")
    for source in sorted(list(binding.glob("*.py")) + [binding / "py.typed"]):
        add(archive, source, f"kmtalk_blender/kmtalk/{source.name}")
    add(archive, Path("LICENSE"), "kmtalk_blender/LICENSE")
    add(archive, Path("bindings/blender/README.md"), "kmtalk_blender/README.md")
os.replace(tmp, path)
print(path)
PY
