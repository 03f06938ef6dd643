#!/usr/bin/env bash
# Where a benchmark's threads stop running: records every context switch of one `asidekv-bench`
# run (perf, sched:sched_switch with call stacks) and prints the switches grouped by the first
# user-space frames of the thread that left the CPU, most frequent first, apart:
#   S (it blocked: a futex, a poll, a disk sync) and
#   R (it was still runnable: it yielded, e.g. sched_yield in a spin-wait, or was preempted).
# CPU profiles miss this time; on a 2-core machine it is often where two threads lose to one.
#
#   tools/bench/offcpu.sh [asidekv-bench ycsb flags ...]
#   e.g. tools/bench/offcpu.sh --workloads=A --backends=aside --records=100000 --threads=2 \
#          --duration=3s --warmup=1s
#
# Environment: ASIDEKV_BENCH (default build/release/tools/bench/asidekv-bench), TOP (lines per
# state, default 15), FRAMES (user frames per stack, default 3). Needs perf and the right to
# trace scheduler events (root, or kernel.perf_event_paranoid <= 1).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench=${ASIDEKV_BENCH:-$root/build/release/tools/bench/asidekv-bench}
top=${TOP:-15}
frames=${FRAMES:-3}
die() { echo "offcpu.sh: $*" >&2; exit 2; }

[ -x "$bench" ] || die "no $bench (build it: tools/run.sh build release)"
command -v perf >/dev/null || die "perf is not installed (apt-get install linux-perf)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/asidekv-offcpu.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
perf record -q -e sched:sched_switch -g -o "$tmp/perf.data" -- \
  "$bench" ycsb --progress=false --db="$tmp/db" "$@" >&2 || die "the benchmark failed"

# One line per switch: its state (S or R) and the first $frames user-space frames, innermost
# first; kernel frames and unresolved addresses are skipped.
perf script -i "$tmp/perf.data" 2>/dev/null | awk -v frames="$frames" '
  /sched:sched_switch/ {
    if (key != "") print state "\t" key
    state = ($0 ~ /prev_state=R/) ? "R" : "S"; key = ""; n = 0; next
  }
  NF >= 2 && n < frames && $0 !~ /kallsyms/ && $2 !~ /^0x|^\[unknown\]/ {
    sub(/\+0x[0-9a-f]+$/, "", $2); key = key (n ? " <- " : "") $2; n++
  }
  END { if (key != "") print state "\t" key }' >"$tmp/switches"

for s in S R; do
  total=$(awk -F'\t' -v s="$s" '$1 == s' "$tmp/switches" | wc -l)
  echo "== $s: $total switches ($([ "$s" = S ] && echo blocked || echo runnable: yielded or preempted))"
  awk -F'\t' -v s="$s" '$1 == s { print $2 }' "$tmp/switches" | sort | uniq -c | sort -rn |
    head -n "$top"
done
