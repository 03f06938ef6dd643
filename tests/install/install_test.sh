#!/usr/bin/env bash
# install_test.sh BUILD_DIR CONSUMER_SRC: cmake --install BUILD_DIR into a scratch prefix, then
# configure, build and run the consumer project against that prefix.
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
