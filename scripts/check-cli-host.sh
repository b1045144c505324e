#!/usr/bin/env bash
# Checks that the kmtalk CLI is a host of include/kmtalk.h like any other program
# (issue 12): its sources import no engine module, the binary carries no engine code (no
# KMTalkEngine symbols, only the weak kmt_* forwarders of Sources/CKMTalkHost), and at run
# time it uses the libKMTalk.so it finds ($KMTALK_LIBRARY, beside it, ../lib) and says
# clearly when there is none. Usage: scripts/check-cli-host.sh [path/to/kmtalk]
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:-.build/debug/kmtalk}"
[ -x "$cli" ] || { echo "FAIL check-cli-host: $cli not found (build first)"; exit 1; }
status=0
fail() { echo "FAIL check-cli-host: $*"; status=1; }

# 1. Imports: the C module, its loader, zlib (PNG), ArgumentParser and the system only.
bad=$(grep -rhoE '^\s*(@testable\s+)?import\s+\w+' Sources/kmtalk | awk '{print $NF}' | sort -u \
  | grep -vxE 'ArgumentParser|CKMTalk|CKMTalkHost|CZlib|Foundation|Glibc|Dispatch|Synchronization' || true)
[ -z "$bad" ] || fail "Sources/kmtalk imports $(echo $bad)"

# 2. The binary: no engine code, and every kmt_* it defines is a weak forwarder.
engine=$(nm "$cli" 2>/dev/null | grep -c '12KMTalkEngine' || true)
[ "$engine" = 0 ] || fail "$cli carries $engine KMTalkEngine symbols"
strong=$(nm --defined-only "$cli" | awk '$3 ~ /^kmt_/ && $2 != "W" {print $3}')
[ -z "$strong" ] || fail "$cli defines kmt_* functions of its own: $(echo $strong | head -c 200)"
if readelf -d "$cli" | grep NEEDED | grep -qi kmtalk; then fail "$cli links libKMTalk at build time (it loads it at run time)"; fi

# 3. At run time: the library it loads, and a clear error without one.
library=$(readlink -f "$(dirname "$cli")/libKMTalk.so")
info=$("$cli" info models/kmtalk-tiny-random.safetensors)
echo "$info" | grep -q "^library: *$library " || fail "kmtalk info does not name $library: $(echo "$info" | grep '^library' || true)"
set +e
message=$(KMTALK_LIBRARY=/nonexistent/libKMTalk.so "$cli" info 2>&1); code=$?
set -e
[ $code = 70 ] || fail "with no library the CLI exits $code, not 70"
echo "$message" | grep -q "KMTALK_LIBRARY" || fail "with no library the message does not say what to do: $message"
forwarders=$(nm --defined-only "$cli" | awk '$3 ~ /^kmt_/' | wc -l)
[ $status = 0 ] && echo "PASS check-cli-host: $cli imports only the C module, carries no engine, forwards $forwarders functions to the libKMTalk.so it loads"
exit $status
