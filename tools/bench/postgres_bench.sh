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
source "$root/tools/bench/private_servers.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/asidekv-pgbench.XXXXXX")
PG_PID=
cleanup() {
  stop_server "$PG_PID" INT  # Fast shutdown.
  [ "${KEEP_PG_LOG:-0}" = 1 ] && [ -f "$tmp/pg/server.log" ] && cat "$tmp/pg/server.log" >&2
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_start "$tmp/pg"

backends=(--backends=aside-postgres,postgres)
for arg in "$@"; do
  case "$arg" in --backends=* | --backends | --compare) backends=() ;; esac
done
echo "postgres_bench.sh: PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}') in" \
  "$tmp/pg, port $PG_PORT, PID $PG_PID" >&2
status=0
"$bench" ycsb "${backends[@]}" --postgres="$PG_CONNINFO" "$@" || status=$?
exit "$status"
