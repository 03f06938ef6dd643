# Sourced by the bench scripts (postgres_bench.sh, redis_bench.sh, fleet_bench.sh): private
# servers on localhost for one run, each in its own folder, never on the default ports, stopped
# by PID.
#
#   free_port AVOID            prints a port nothing listens on, never AVOID
#   pg_start DIR [-c k=v ...]  initdb into DIR/data and start PostgreSQL on a Unix socket in DIR
#                              only (no TCP), as the `postgres` user when run as root; sets
#                              PG_BINDIR, PG_PORT, PG_PID, PG_CONNINFO; waits until it is ready
#   redis_start DIR            start redis-server on 127.0.0.1 (a free port other than 6379) and
#                              a Unix socket DIR/redis.sock, no persistence (save "", appendonly
#                              no, as Store::Open requires), its log in DIR/server.log; sets
#                              REDIS_SERVER, REDIS_PORT, REDIS_PID, REDIS_SOCKET; waits until it
#                              answers PING
#   stop_server PID SIGNAL     signals the server, waits up to 30 s, then kills it
#   stop_servers DIR           stops the servers pg_start and redis_start started (by PG_PID and
#                              REDIS_PID, if set), prints their logs (DIR/pg/server.log,
#                              DIR/redis/server.log) when KEEP_LOGS=1, and removes DIR
#
# The caller defines die() and removes the folders itself. Environment: PG_BINDIR (the server
# binaries; default `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin),
# REDIS_SERVER (default: redis-server on the PATH).

free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    [ "$p" -eq "$1" ] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

stop_server() {
  local pid=$1 signal=$2
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "-$signal" "$pid"
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  return 0
}

stop_servers() {
  local dir=$1 log
  stop_server "${REDIS_PID:-}" TERM
  stop_server "${PG_PID:-}" INT  # Fast shutdown.
  if [ "${KEEP_LOGS:-0}" = 1 ]; then
    for log in "$dir/pg/server.log" "$dir/redis/server.log"; do
      [ -f "$log" ] && { echo "== $log" >&2; cat "$log" >&2; }
    done
  fi
  rm -rf "$dir"
}

pg_start() {
  local dir=$1
  shift
  PG_BINDIR=${PG_BINDIR:-}
  if [ -z "$PG_BINDIR" ] && command -v pg_config >/dev/null; then PG_BINDIR=$(pg_config --bindir); fi
  if [ ! -x "$PG_BINDIR/postgres" ]; then
    PG_BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  [ -x "$PG_BINDIR/postgres" ] && [ -x "$PG_BINDIR/initdb" ] ||
    die "PostgreSQL's server binaries are missing: install the Debian package postgresql"
  mkdir -p "$dir"
  # PostgreSQL refuses to run as root: run the server as `postgres` then.
  local as_server=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root and there is no postgres user"
    chmod 755 "$(dirname "$dir")"
    chown postgres: "$dir"
    as_server=(setpriv --reuid=postgres --regid=postgres --init-groups)
  fi
  PG_PORT=$(free_port 5432) || die "no free port"
  "${as_server[@]}" "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --no-locale -E UTF8 \
    --auth=trust >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  "${as_server[@]}" "$PG_BINDIR/postgres" -D "$dir/data" -k "$dir" -p "$PG_PORT" \
    -c listen_addresses= "$@" >"$dir/server.log" 2>&1 &
  PG_PID=$!  # The postmaster (setpriv execs it).
  PG_CONNINFO="host=$dir port=$PG_PORT user=postgres dbname=postgres"
  # Ready once postmaster.pid's 8th line (space-padded) says so.
  for _ in $(seq 600); do
    kill -0 "$PG_PID" 2>/dev/null || { cat "$dir/server.log" >&2; die "PostgreSQL exited"; }
    sed -n 8p "$dir/data/postmaster.pid" 2>/dev/null | grep -q '^ready' && return 0
    sleep 0.1
  done
  die "PostgreSQL did not start"
}

redis_start() {
  local dir=$1
  REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
  [ -n "$REDIS_SERVER" ] && [ -x "$REDIS_SERVER" ] ||
    die "redis-server is missing: install the Debian package redis-server"
  mkdir -p "$dir"
  REDIS_PORT=$(free_port 6379) || die "no free port"
  REDIS_SOCKET=$dir/redis.sock
  "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$dir" --unixsocket "$REDIS_SOCKET" --unixsocketperm 700 \
    --logfile "$dir/server.log" --daemonize no >/dev/null 2>&1 &
  REDIS_PID=$!
  local _
  for _ in $(seq 600); do
    kill -0 "$REDIS_PID" 2>/dev/null || { cat "$dir/server.log" >&2; die "redis-server exited"; }
    redis_ready && return 0
    sleep 0.1
  done
  die "redis-server did not start"
}

# Ready once its socket answers PING (once the socket exists, without redis-cli).
redis_ready() {
  [ -S "$REDIS_SOCKET" ] || return 1
  command -v redis-cli >/dev/null || return 0
  [ "$(redis-cli -s "$REDIS_SOCKET" ping 2>/dev/null)" = PONG ]
}
