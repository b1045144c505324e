#!/usr/bin/env bash
# Checks that a libKMTalk.so exports exactly the functions declared in include/kmtalk.h
# (every global dynamic symbol is a kmt_* function of the header, and every header
# function is exported) and that it does not link Foundation. Usage: scripts/check-symbols.sh [path/to/libKMTalk.so]
set -euo pipefail
cd "$(dirname "$0")/.."
lib="${1:-.build/debug/libKMTalk.so}"
[ -f "$lib" ] || { echo "FAIL check-symbols: $lib not found (build first)"; exit 1; }

declared=$(cc -E -P -x c include/kmtalk.h | grep -oE '\bkmt_[a-z0-9_]+ *\(' | sed -E 's/ *\($//' | sort -u)
# Global (upper-case type letter) defined dynamic symbols; local ones are not exported.
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[A-Z]$/ {print $3}' | sed 's/@.*//' | sort -u)

extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
status=0
if [ -n "$extra" ]; then
  echo "FAIL check-symbols: $lib exports symbols not in kmtalk.h:"; echo "$extra" | sed 's/^/  /'; status=1
fi
if [ -n "$missing" ]; then
  echo "FAIL check-symbols: kmtalk.h functions missing from $lib:"; echo "$missing" | sed 's/^/  /'; status=1
fi
# The library must not link Foundation (Glibc only).
if readelf -d "$lib" | grep NEEDED | grep -qi foundation; then
  echo "FAIL check-symbols: $lib links Foundation:"; readelf -d "$lib" | grep NEEDED | grep -i foundation; status=1
fi
[ $status -eq 0 ] && echo "PASS check-symbols: $lib exports exactly the $(echo "$declared" | wc -l) functions of kmtalk.h"
exit $status
