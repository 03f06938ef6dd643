#!/usr/bin/env bash
# install_test.sh BUILD_DIR CONSUMER_SRC: cmake --install BUILD_DIR into a scratch prefix, then
# configure, build and run the consumer project against that prefix, with CMake and with
# pkg-config.
set -euo pipefail
build_dir=$1
consumer_src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/asidekv/asidekv.h"
cmake -S "$consumer_src" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" -j 2 >/dev/null
"$work/build/consumer" "$work/store"

# The same consumer through pkg-config (static libraries, so --static for their dependencies).
test -f "$work/prefix/lib/pkgconfig/asidekv.pc" || test -f "$work/prefix/lib/x86_64-linux-gnu/pkgconfig/asidekv.pc"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/x86_64-linux-gnu/pkgconfig"
test "$(pkg-config --modversion asidekv)" = "$(sed -n 's/^#define ASIDEKV_VERSION_STRING "\(.*\)"$/\1/p' "$work/prefix/include/asidekv/version.h")"
# shellcheck disable=SC2046
${CXX:-c++} -std=c++17 -o "$work/consumer-pc" "$consumer_src/main.cc" $(pkg-config --cflags --libs --static asidekv)
rm -rf "$work/store"
"$work/consumer-pc" "$work/store"
