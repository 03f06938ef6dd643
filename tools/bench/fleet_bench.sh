#!/usr/bin/env bash
# Runs `asidekv-bench ycsb --nodes` against a private PostgreSQL and a private redis-server: N
# processes sharing one table and one Redis, as N instances of a service would, through asidekv
# with its Redis tier (aside-postgres), Redis as a plain cache-aside written by hand
# (redis-aside), and PostgreSQL alone (postgres).
#
#   tools/bench/fleet_bench.sh [asidekv-bench ycsb flags ...]
#   e.g. tools/bench/fleet_bench.sh --records=100000 --duration=10s --rounds=3
#
# Defaults (each overridden by the same flag given): --workloads=C --nodes=3 --threads=2
# --backends=aside-postgres,redis-aside,postgres --rounds=3 --records=100000
# --cache-fraction=0.1 --max-staleness=60s --redis-ttl=60s --duration=10s --warmup=2s
# (zipfian requests, YCSB's default for C). Both caches keep a value at most 60 s.
# The servers, in one fresh temp folder, stopped by their PIDs and the folder removed when the
# bench ends, however it ends (tools/bench/private_servers.sh):
#   PostgreSQL: initdb, a free port other than 5432, a Unix socket only, the server's default
#     settings (fsync included; as `postgres` under root);
#   redis-server: a free port other than 6379 on 127.0.0.1 and a Unix socket (used), no
#     persistence.
# Environment: ASIDEKV_BENCH (default build/release/tools/bench/asidekv-bench), PG_BINDIR,
# REDIS_SERVER (see private_servers.sh), KEEP_LOGS=1 (print both servers' logs at the end).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench=${ASIDEKV_BENCH:-$root/build/release/tools/bench/asidekv-bench}
die() { echo "fleet_bench.sh: $*" >&2; exit 2; }

[ -x "$bench" ] || die "no $bench (build it: tools/run.sh build release)"
source "$root/tools/bench/private_servers.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/asidekv-fleetbench.XXXXXX")
PG_PID=
REDIS_PID=
cleanup() { stop_servers "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_start "$tmp/pg"
redis_start "$tmp/redis"

# The defaults whose flag the caller did not give.
defaults=(--workloads=C --nodes=3 --threads=2 --backends=aside-postgres,redis-aside,postgres
          --rounds=3 --records=100000 --cache-fraction=0.1 --max-staleness=60s --redis-ttl=60s
          --duration=10s --warmup=2s)
flags=()
for d in "${defaults[@]}"; do
  name=${d%%=*}
  given=0
  for arg in "$@"; do
    case "$arg" in "$name" | "$name="*) given=1 ;; esac
    # --cache-mb and --cache-fraction exclude each other; --operations and --duration too.
    [ "$name" = --cache-fraction ] && case "$arg" in --cache-mb | --cache-mb=*) given=1 ;; esac
    [ "$name" = --duration ] && case "$arg" in --operations | --operations=*) given=1 ;; esac
  done
  [ "$given" = 1 ] || flags+=("$d")
done
echo "fleet_bench.sh: PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}') (port" \
  "$PG_PORT, PID $PG_PID), Redis $("$REDIS_SERVER" --version | awk '{print $3}')" \
  "($REDIS_SOCKET, PID $REDIS_PID)" >&2
status=0
"$bench" ycsb --postgres="$PG_CONNINFO" --redis="unix:$REDIS_SOCKET" "${flags[@]}" "$@" ||
  status=$?
exit "$status"
