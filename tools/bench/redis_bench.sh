#!/usr/bin/env bash
# Runs remote_benchmark (tools/bench_remote: the Redis tier against its baselines) against a
# private PostgreSQL and a private redis-server, with interleaved repetitions; the benchmark
# prints the medians and each cell's ratio to its baseline at the end.
#
#   tools/bench/redis_bench.sh [remote_benchmark flags ...]
#   e.g. tools/bench/redis_bench.sh --benchmark_filter='near_hit' --benchmark_repetitions=5
#
# Defaults to --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true (a
# --benchmark_repetitions flag overrides both). The servers, in one fresh temp folder, stopped
# by their PIDs and the folder removed when the bench ends, however it ends:
#   PostgreSQL: as postgres_bench.sh starts it (initdb, a free port other than 5432, a Unix
#     socket only, the server's default settings, fsync included; as `postgres` under root);
#   redis-server: a free port other than 6379 on 127.0.0.1 and a Unix socket, no persistence
#     (save "", appendonly no, as Store::Open requires).
# The benchmark gets --postgres, --redis_unix and --redis_tcp. Afterwards the server's own time
# per GET, EVALSHA (the tier's scripts), UNLINK and PING is printed (INFO commandstats).
# Environment: REMOTE_BENCHMARK (default build/release/tools/bench_remote/remote_benchmark),
# PG_BINDIR (as postgres_bench.sh), REDIS_SERVER (default: redis-server on the PATH),
# PG_SETTINGS (extra server settings, e.g. "synchronous_commit=off", space-separated),
# KEEP_LOGS=1 (print both servers' logs at the end).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench=${REMOTE_BENCHMARK:-$root/build/release/tools/bench_remote/remote_benchmark}
die() { echo "redis_bench.sh: $*" >&2; exit 2; }

[ -x "$bench" ] || die "no $bench (build it: cmake --build build/release --target remote_benchmark)"
source "$root/tools/bench/private_servers.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/asidekv-redisbench.XXXXXX")
PG_PID=
REDIS_PID=
cleanup() { stop_servers "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

settings=()
for s in ${PG_SETTINGS:-}; do settings+=(-c "$s"); done
pg_start "$tmp/pg" "${settings[@]}"
redis_start "$tmp/redis"

repetitions=(--benchmark_repetitions=3 --benchmark_enable_random_interleaving=true)
for arg in "$@"; do
  case "$arg" in --benchmark_repetitions=*) repetitions=() ;; esac
done
echo "redis_bench.sh: PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}') (port" \
  "$PG_PORT, PID $PG_PID), Redis $("$REDIS_SERVER" --version | awk '{print $3}') (127.0.0.1:$REDIS_PORT" \
  "and $REDIS_SOCKET, PID $REDIS_PID)" >&2
status=0
"$bench" --postgres="$PG_CONNINFO" \
  --redis_unix="$REDIS_SOCKET" --redis_tcp="127.0.0.1:$REDIS_PORT" \
  "${repetitions[@]}" "$@" || status=$?
# Where the Redis side of a near miss goes: the server's own time per GET and per script call.
if command -v redis-cli >/dev/null; then
  echo "redis-server's time per call (INFO commandstats):"
  redis-cli -s "$REDIS_SOCKET" info commandstats |
    grep -E '^cmdstat_(get|evalsha|unlink|ping):' | sed 's/^/  /' || true
fi
exit "$status"
