#!/usr/bin/env bash
# Builds the self-contained release into dist/:
#   dist/lib/libKMTalk.so   the C-ABI library, Swift runtime linked in statically
#   dist/include/kmtalk.h   the public header
#   dist/bin/kmtalk         the command-line tool (Swift runtime linked in statically)
#   dist/models/            the shipped models (the CLI finds them next to bin/)
# The library then needs only libc, libm, libstdc++, OpenBLAS, libsndfile and libsoxr
# from the system; no Swift toolchain. Usage: scripts/dist.sh [DIST_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${1:-dist}"
scratch=.build-dist
export KMTALK_STATIC_STDLIB=1

start=$(date +%s)
swift build -c release --scratch-path "$scratch" --product KMTalk
swift build -c release --scratch-path "$scratch" --product kmtalk --static-swift-stdlib
end=$(date +%s)

rm -rf "$dist"
mkdir -p "$dist/lib" "$dist/include" "$dist/bin" "$dist/models"
bin="$scratch/release"
cp "$bin/libKMTalk.so" "$dist/lib/"
strip --strip-unneeded "$dist/lib/libKMTalk.so"
cp include/kmtalk.h "$dist/include/"
cp "$bin/kmtalk" "$dist/bin/"
strip "$dist/bin/kmtalk"
cp models/*.safetensors "$dist/models/"
[ -f models/README.md ] && cp models/README.md "$dist/models/"

echo "built in $((end - start)) s"
echo "dist contents:"
ls -l "$dist/lib" "$dist/include" "$dist/bin" "$dist/models" | sed 's/^/  /'
echo "libKMTalk.so needs:"
ldd "$dist/lib/libKMTalk.so" | sed 's/^/  /'
if ldd "$dist/lib/libKMTalk.so" | grep -q swift; then
  echo "error: libKMTalk.so still depends on a Swift runtime library" >&2
  exit 1
fi
