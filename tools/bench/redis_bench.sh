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
bindir=${PG_BINDIR:-}
if [ -z "$bindir" ] && command -v pg_config >/dev/null; then bindir=$(pg_config --bindir); fi
if [ ! -x "$bindir/postgres" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -x "$bindir/postgres" ] && [ -x "$bindir/initdb" ] ||
  die "PostgreSQL's server binaries are missing: install the Debian package postgresql"
redis_server=${REDIS_SERVER:-$(command -v redis-server || true)}
[ -n "$redis_server" ] && [ -x "$redis_server" ] ||
  die "redis-server is missing: install the Debian package redis-server"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/asidekv-redisbench.XXXXXX")
pg_pid=
redis_pid=
# stop PID SIGNAL: signals the server and waits up to 30 s for it to exit, then kills it.
stop() {
  local pid=$1 signal=$2
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "-$signal" "$pid"
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  return 0
}
cleanup() {
  stop "$redis_pid" TERM
  stop "$pg_pid" INT  # Fast shutdown.
  if [ "${KEEP_LOGS:-0}" = 1 ]; then
    for log in "$tmp/pg/server.log" "$tmp/redis/server.log"; do
      [ -f "$log" ] && { echo "== $log" >&2; cat "$log" >&2; }
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port AVOID: a port nothing listens on, never AVOID.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    [ "$p" -eq "$1" ] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# PostgreSQL refuses to run as root: run the server as `postgres` then.
mkdir "$tmp/pg" "$tmp/redis"
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root and there is no postgres user"
  chmod 755 "$tmp"
  chown postgres: "$tmp/pg"
  as_server=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi
pg_port=$(free_port 5432) || die "no free port"
settings=()
for s in ${PG_SETTINGS:-}; do settings+=(-c "$s"); done
"${as_server[@]}" "$bindir/initdb" -D "$tmp/pg/data" -U postgres --no-locale -E UTF8 \
  --auth=trust >"$tmp/pg/initdb.log" 2>&1 || { cat "$tmp/pg/initdb.log" >&2; die "initdb failed"; }
"${as_server[@]}" "$bindir/postgres" -D "$tmp/pg/data" -k "$tmp/pg" -p "$pg_port" \
  -c listen_addresses= "${settings[@]}" >"$tmp/pg/server.log" 2>&1 &
pg_pid=$!  # The postmaster (setpriv execs it).

redis_port=$(free_port 6379) || die "no free port"
"$redis_server" --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$tmp/redis" --unixsocket "$tmp/redis/redis.sock" --unixsocketperm 700 \
  --logfile "$tmp/redis/server.log" --daemonize no >/dev/null 2>&1 &
redis_pid=$!

# Ready: PostgreSQL once postmaster.pid's 8th line says so; Redis once its socket answers PING.
pg_ready() { sed -n 8p "$tmp/pg/data/postmaster.pid" 2>/dev/null | grep -q '^ready'; }
redis_ready() {
  [ -S "$tmp/redis/redis.sock" ] || return 1
  command -v redis-cli >/dev/null || return 0
  [ "$(redis-cli -s "$tmp/redis/redis.sock" ping 2>/dev/null)" = PONG ]
}
for _ in $(seq 600); do
  kill -0 "$pg_pid" 2>/dev/null || { cat "$tmp/pg/server.log" >&2; die "PostgreSQL exited"; }
  kill -0 "$redis_pid" 2>/dev/null || { cat "$tmp/redis/server.log" >&2; die "redis-server exited"; }
  pg_ready && redis_ready && break
  sleep 0.1
done
pg_ready || die "PostgreSQL did not start"
redis_ready || die "redis-server did not start"

repetitions=(--benchmark_repetitions=3 --benchmark_enable_random_interleaving=true)
for arg in "$@"; do
  case "$arg" in --benchmark_repetitions=*) repetitions=() ;; esac
done
echo "redis_bench.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') (port" \
  "$pg_port, PID $pg_pid), Redis $("$redis_server" --version | awk '{print $3}') (127.0.0.1:$redis_port" \
  "and $tmp/redis/redis.sock, PID $redis_pid)" >&2
status=0
"$bench" --postgres="host=$tmp/pg port=$pg_port user=postgres dbname=postgres" \
  --redis_unix="$tmp/redis/redis.sock" --redis_tcp="127.0.0.1:$redis_port" \
  "${repetitions[@]}" "$@" || status=$?
# Where the Redis side of a near miss goes: the server's own time per GET and per script call.
if command -v redis-cli >/dev/null; then
  echo "redis-server's time per call (INFO commandstats):"
  redis-cli -s "$tmp/redis/redis.sock" info commandstats |
    grep -E '^cmdstat_(get|evalsha|unlink|ping):' | sed 's/^/  /' || true
fi
exit "$status"
