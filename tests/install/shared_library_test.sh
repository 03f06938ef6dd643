#!/usr/bin/env bash
# shared_library_test.sh SOURCE_DIR CONSUMER_SRC: builds asidekv as a shared library
# (-DASIDEKV_BUILD_SHARED=ON), installs it into a scratch prefix, checks its SONAME and that it
# exports only the public API (names marked ASIDEKV_EXPORT), then builds and runs the consumer
# project against it.
set -euo pipefail
src=$1
consumer_src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src" -B "$work/lib" -DCMAKE_BUILD_TYPE=Release -DASIDEKV_BUILD_SHARED=ON \
      -DASIDEKV_BUILD_TESTS=OFF -DASIDEKV_BUILD_TOOLS=OFF -DASIDEKV_BUILD_BENCHMARKS=OFF \
      "${launcher[@]}" >/dev/null
cmake --build "$work/lib" -j 2 >/dev/null
cmake --install "$work/lib" --prefix "$work/prefix" >/dev/null
so=$(find "$work/prefix" -name 'libasidekv.so' | head -1)
test -n "$so"
version=$(sed -n 's/^#define ASIDEKV_VERSION_STRING "\(.*\)"$/\1/p' "$src/core/include/asidekv/version.h")
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
test "$soname" = "libasidekv.so.${version%.*}" || { echo "unexpected SONAME $soname"; exit 1; }
# Internal namespaces stay hidden. (The symbol list is read once: `nm | grep -q` would fail
# under pipefail when grep stops reading early.)
symbols=$(nm -DC --defined-only "$so")
if grep -E 'asidekv::(cache|db|core|util)::' <<<"$symbols"; then
  echo "internal symbols exported"; exit 1
fi
grep -q 'asidekv::Store::Open' <<<"$symbols"
grep -q 'asidekv::Database::~Database' <<<"$symbols"
cmake -S "$consumer_src" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" -j 2 >/dev/null
ldd "$work/build/consumer" | grep "$soname" >/dev/null
"$work/build/consumer" "$work/store"
echo "shared library: ok ($soname)"
