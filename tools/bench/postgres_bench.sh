#!/usr/bin/env bash
# Runs `asidekv-bench ycsb` against a private PostgreSQL server, for the PostgreSQL backends
# (aside-postgres: asidekv over PostgreSQL; postgres: PostgreSQL read and written directly).
#
#   tools/bench/postgres_bench.sh [asidekv-bench ycsb flags ...]
#   e.g. tools/bench/postgres_bench.sh --workloads=C,B,A --records=100000 --threads=2 \
#          --cache-fraction=0.1 --duration=10s --rounds=3
#
# Defaults to --backends=aside-postgres,postgres (a --backends flag overrides it). The server:
# initdb into a fresh temp folder, started on a free port other than 5432, listening on a Unix
# socket in that folder only (no TCP), server settings at their defaults (fsync included); as the
# `postgres` user when run as root. It is stopped by its PID (fast shutdown) and its folder
# removed when the bench ends, however it ends.
# Environment: ASIDEKV_BENCH (default build/release/tools/bench/asidekv-bench), PG_BINDIR (the
# server binaries; default `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin),
# KEEP_PG_LOG=1 (print the server's log at the end).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench=${ASIDEKV_BENCH:-$root/build/release/tools/bench/asidekv-bench}
die() { echo "postgres_bench.sh: $*" >&2; exit 2; }

[ -x "$bench" ] || die "no $bench (build it: tools/run.sh build release)"
bindir=${PG_BINDIR:-}
if [ -z "$bindir" ] && command -v pg_config >/dev/null; then bindir=$(pg_config --bindir); fi
if [ ! -x "$bindir/postgres" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -x "$bindir/postgres" ] && [ -x "$bindir/initdb" ] ||
  die "PostgreSQL's server binaries are missing: install the Debian package postgresql"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/asidekv-pgbench.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid"
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  [ "${KEEP_PG_LOG:-0}" = 1 ] && [ -f "$tmp/server.log" ] && cat "$tmp/server.log" >&2
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL refuses to run as root: run the server as `postgres` then.
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root and there is no postgres user"
  chown postgres: "$tmp"
  as_server=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi

# A port nothing listens on (only the socket file's name depends on it), never 5432.
port=
for _ in $(seq 50); do
  p=$((20000 + RANDOM % 40000))
  [ "$p" -eq 5432 ] && continue
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || die "no free port"

"${as_server[@]}" "$bindir/initdb" -D "$tmp/data" -U postgres --no-locale -E UTF8 \
  --auth=trust >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
"${as_server[@]}" "$bindir/postgres" -D "$tmp/data" -k "$tmp" -p "$port" \
  -c listen_addresses= >"$tmp/server.log" 2>&1 &
# The postmaster (setpriv execs it, so this is its PID).
pid=$!
# Ready once postmaster.pid's 8th line (space-padded) says so.
ready() { sed -n 8p "$tmp/data/postmaster.pid" 2>/dev/null | grep -q '^ready'; }
for _ in $(seq 600); do
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/server.log" >&2; die "the server exited"; }
  ready && break
  sleep 0.1
done
ready || die "the server did not start"

backends=(--backends=aside-postgres,postgres)
for arg in "$@"; do
  case "$arg" in --backends=* | --backends | --compare) backends=() ;; esac
done
echo "postgres_bench.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') in $tmp," \
  "port $port, PID $pid" >&2
status=0
"$bench" ycsb "${backends[@]}" --postgres="host=$tmp port=$port user=postgres dbname=postgres" \
  "$@" || status=$?
exit "$status"
