#!/usr/bin/env bash
# One entry point for building, testing and running asidekv on a Debian 12 machine.
#
#   tools/run.sh demo            install what is missing, build (Release), run the benchmark demo
#   tools/run.sh test [PRESET]   install what is missing, build PRESET, run the whole test suite
#   tools/run.sh build [PRESET]  install what is missing, build PRESET
#   tools/run.sh deps [PRESET]   install what is missing only
#
# PRESET: release (default; g++, Release), asan (g++, ASan+UBSan), tsan (clang, TSan and the
# -Wthread-safety analysis). Build trees go to build/<preset>. Needs root (or sudo) only when a
# package is missing. Environment: JOBS (parallel jobs, default: nproc), CMAKE_ARGS (extra flags).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmd=${1:-}
preset=${2:-release}
jobs=${JOBS:-$(nproc)}

# postgresql: the server the PostgreSQL tests start privately (tests/testing/postgres_server.h);
# libpq-dev: the client library of db/postgres/; libmicrohttpd-dev: the HTTP metrics endpoint's
# server; prometheus: promtool and the real server the metrics tests scrape with; redis-server,
# redis-tools: the server (and redis-cli) the Redis tests start privately
# (tests/testing/redis_server.h); libhiredis-dev: the client library of remote/.
packages=(cmake ninja-build g++ pkg-config ccache librocksdb-dev libabsl-dev libgtest-dev
          libgmock-dev libbenchmark-dev zlib1g-dev postgresql libpq-dev libmicrohttpd-dev
          prometheus redis-server redis-tools libhiredis-dev)

die() { echo "run.sh: $*" >&2; exit 2; }

deps() {
  local want=("${packages[@]}")
  [ "$preset" = tsan ] && want+=(clang libclang-rt-14-dev)
  local missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "run.sh: installing ${missing[*]}" >&2
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "packages missing (${missing[*]}) and not root"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

configure_args() {
  case "$preset" in
    release) echo "-DCMAKE_BUILD_TYPE=Release" ;;
    # Sanitizer builds: -O1 for speed, -g1 (line tables only) for stack traces at less build cost.
    asan) echo "-DCMAKE_BUILD_TYPE=Debug -DASIDEKV_SANITIZE=address -DCMAKE_CXX_FLAGS=-O1" \
               "-DCMAKE_CXX_FLAGS_DEBUG=-g1" ;;
    tsan) echo "-DCMAKE_BUILD_TYPE=Debug -DASIDEKV_SANITIZE=thread -DCMAKE_CXX_FLAGS=-O1" \
               "-DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_CXX_COMPILER=clang++" ;;
    *) die "unknown preset '$preset' (release, asan, tsan)" ;;
  esac
}

build() {
  local dir="$root/build/$preset"
  local launcher=()
  # ccache, with paths taken relative to the checkout, so rebuilds in another clone on the same
  # machine (CI's) reuse earlier objects.
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
  fi
  # shellcheck disable=SC2046
  cmake -S "$root" -B "$dir" -G Ninja $(configure_args) "${launcher[@]}" ${CMAKE_ARGS:-} >/dev/null
  cmake --build "$dir" -j "$jobs"
}

case "$cmd" in
  deps) deps ;;
  build) deps; build ;;
  test)
    deps; build
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp ${TSAN_OPTIONS:-}"
    export ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}"
    export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"
    ctest --test-dir "$root/build/$preset" --output-on-failure --no-tests=error -j "$jobs"
    ;;
  demo)
    preset=release; deps; build
    # The main job: a YCSB A-F comparison of asidekv with RocksDB (5 interleaved rounds, about two
    # minutes), in build/demo-store.
    rm -rf "$root/build/demo-store"
    "$root/build/release/tools/bench/asidekv-bench" demo --db="$root/build/demo-store" \
      --json="$root/build/demo.json" --svg="$root/build/demo.svg"
    ;;
  *) sed -n '2,13p' "${BASH_SOURCE[0]}"; [ -z "$cmd" ] || die "unknown command '$cmd'"; exit 2 ;;
esac
