#!/usr/bin/env bash
# Builds the self-contained release into dist/:
#   dist/lib/libKMTalk.so.X.Y.Z  the C-ABI library, Swift runtime linked in statically,
#                           SONAME libKMTalk.so.X (X = the ABI major, KMT_VERSION_MAJOR),
#                           with the symlinks libKMTalk.so.X and libKMTalk.so
#   dist/lib/pkgconfig/kmtalk.pc, dist/lib/cmake/KMTalk/  pkg-config and CMake package
#                           files (relocatable: they find the library from their own place)
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
version_part() { sed -n "s/^#define KMT_VERSION_$1 \([0-9]*\)$/\1/p" include/kmtalk.h; }
major=$(version_part MAJOR); version="$major.$(version_part MINOR).$(version_part PATCH)"
export KMTALK_SONAME="libKMTalk.so.$major"

start=$(date +%s)
swift build -c release --scratch-path "$scratch" --product KMTalk
swift build -c release --scratch-path "$scratch" --product kmtalk --static-swift-stdlib
end=$(date +%s)

rm -rf "$dist"
mkdir -p "$dist/lib" "$dist/include" "$dist/bin" "$dist/models"
bin="$scratch/release"
cp "$bin/libKMTalk.so" "$dist/lib/libKMTalk.so.$version"
strip --strip-unneeded "$dist/lib/libKMTalk.so.$version"
ln -s "libKMTalk.so.$version" "$dist/lib/libKMTalk.so.$major"
ln -s "libKMTalk.so.$major" "$dist/lib/libKMTalk.so"
mkdir -p "$dist/lib/pkgconfig" "$dist/lib/cmake/KMTalk"
cat > "$dist/lib/pkgconfig/kmtalk.pc" <<PC
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: kmtalk
Description: KMTalk: speech-driven 3D facial animation (C API)
Version: $version
Libs: -L\${libdir} -lKMTalk
Cflags: -I\${includedir}
PC
cat > "$dist/lib/cmake/KMTalk/KMTalkConfig.cmake" <<CMAKE
# KMTalk $version: find_package(KMTalk) gives the imported target KMTalk::KMTalk
# (the library and include/kmtalk.h). Relocatable: paths are found from this file.
get_filename_component(_kmtalk_prefix "\${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET KMTalk::KMTalk)
  add_library(KMTalk::KMTalk SHARED IMPORTED)
  set_target_properties(KMTalk::KMTalk PROPERTIES
    IMPORTED_LOCATION "\${_kmtalk_prefix}/lib/libKMTalk.so.$version"
    IMPORTED_SONAME "libKMTalk.so.$major"
    INTERFACE_INCLUDE_DIRECTORIES "\${_kmtalk_prefix}/include")
endif()
set(KMTalk_INCLUDE_DIRS "\${_kmtalk_prefix}/include")
set(KMTalk_LIBRARIES KMTalk::KMTalk)
unset(_kmtalk_prefix)
CMAKE
cat > "$dist/lib/cmake/KMTalk/KMTalkConfigVersion.cmake" <<CMAKE
# Compatible with requests for the same ABI major version and no newer release.
set(PACKAGE_VERSION "$version")
if(PACKAGE_FIND_VERSION_MAJOR STREQUAL "$major" AND NOT PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
else()
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
endif()
CMAKE
cp include/kmtalk.h bindings/cpp/kmtalk.hpp "$dist/include/"
cp "$bin/kmtalk" "$dist/bin/"
strip "$dist/bin/kmtalk"
cp models/*.safetensors "$dist/models/"
[ -f models/README.md ] && cp models/README.md "$dist/models/"
[ -f models/CARDS.md ] && cp models/CARDS.md "$dist/models/"   # licences and attributions travel with the weights
cp LICENSE "$dist/"   # the MIT notice goes with every copy

echo "built in $((end - start)) s"
echo "dist contents:"
ls -l "$dist/lib" "$dist/include" "$dist/bin" "$dist/models" | sed 's/^/  /'
echo "libKMTalk.so needs:"
ldd "$dist/lib/libKMTalk.so" | sed 's/^/  /'
if ldd "$dist/lib/libKMTalk.so" | grep -q swift; then
  echo "error: libKMTalk.so still depends on a Swift runtime library" >&2
  exit 1
fi
