#!/usr/bin/env bash
# Installs the system packages KMTalk builds and tests with (Debian/Ubuntu, needs root
# or sudo). The Swift 6 toolchain itself must already be on PATH (swift.org).
set -euo pipefail
packages=(libopenblas-dev libsndfile1-dev libsoxr-dev pkg-config python3-venv)
[ "${KMTALK_TEST_TOOLS:-0}" = 1 ] && packages+=(valgrind)
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
command -v swift >/dev/null || { echo "swift not found: install a Swift 6 toolchain from swift.org" >&2; exit 1; }
echo "dependencies ready: ${packages[*]}"
