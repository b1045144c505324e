#!/usr/bin/env bash
# Installs the system packages KMTalk builds and tests with (Debian/Ubuntu, needs root
# or sudo). The Swift 6 toolchain itself must already be on PATH (swift.org).
#   KMTALK_TEST_TOOLS=1  also valgrind (the C example's memory check), Blender with
#                        NumPy (scripts/check-blender.sh imports the CLI's GLB; about 40 s;
#                        scripts/test-blender-addon.sh tests the add-on; about 10 s),
#                        CMake and g++ (the release's CMake package and the C++ examples),
#                        mono's C# compiler and runtime (scripts/test-csharp.sh),
#                        Chromium (scripts/test-web-viewer.sh loads `kmtalk view`'s page
#                        headless)
#   KMTALK_CORPUS=1      also the speech engines, voices, texts and recorded prompts the
#                        training corpus is built from (training/README.md)
set -euo pipefail
packages=(libopenblas-dev libsndfile1-dev libsoxr-dev zlib1g-dev pkg-config python3-venv)
[ "${KMTALK_TEST_TOOLS:-0}" = 1 ] && packages+=(valgrind blender python3-numpy cmake g++ mono-mcs mono-runtime chromium)
if [ "${KMTALK_CORPUS:-0}" = 1 ]; then
  packages+=(
    espeak-ng libespeak-ng1 flite festival
    festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts festvox-ru festvox-italp16k festvox-itapc16k
    fortune-mod fortunes fortunes-min fortunes-de fortunes-es fortunes-it fortunes-ru fortunes-br fortunes-zh
    libc-l10n gnupg-l10n libgtk2.0-common
    asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav
    asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav asterisk-core-sounds-es asterisk-core-sounds-fr
    asterisk-prompt-it-menardi-wav
  )
  # asterisk-prompt-es-co and -fr-armelle conflict with asterisk-core-sounds-es/-fr (both
  # provide asterisk-prompt-es/-fr), whose transcripts the corpus needs: not installed.
fi
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
