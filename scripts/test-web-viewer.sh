#!/usr/bin/env bash
# Tests `kmtalk view`'s web page in headless Chromium (scripts/web_viewer_check.py): builds
# the page from examples/audio/hello.wav, seeks it to several times and compares the morph
# weights it reports with `kmtalk animate --format json`, checks screenshots of the head
# (not blank, the mouth region changes between a closed and an open mouth) and the CLI's
# errors. Skips (exit 0) when Chromium is not installed (`apt-get install chromium`, or
# KMTALK_TEST_TOOLS=1 scripts/install-deps.sh). About 20-30 s.
#
#   scripts/test-web-viewer.sh [--keep DIR]     # DIR: keep the page and screenshots
#
# Environment: KMTALK_CLI (default .build/debug/kmtalk), CHROMIUM (default chromium, else
# chromium-browser).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CLI="$(realpath -m "${KMTALK_CLI:-.build/debug/kmtalk}")"
CHROMIUM="${CHROMIUM:-}"
if [[ -z "$CHROMIUM" ]]; then
    for candidate in chromium chromium-browser; do
        if command -v "$candidate" >/dev/null; then CHROMIUM="$candidate"; break; fi
    done
fi
if [[ -z "$CHROMIUM" ]] || ! command -v "$CHROMIUM" >/dev/null; then
    echo "SKIP test-web-viewer: chromium not installed"
    exit 0
fi
[[ -x "$CLI" ]] || { echo "FAIL test-web-viewer: $CLI not built (swift build)"; exit 1; }
exec python3 scripts/web_viewer_check.py "$CLI" "$(command -v "$CHROMIUM")" "$@"
