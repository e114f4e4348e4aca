#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the tests. The cluster lives in a temp folder
# (initdb), listens on 127.0.0.1 on a free port and on a unix socket in that
# folder, and trusts local connections as the role "argus". STATE is a
# folder of ours that remembers where it is:
#
#   tools/pg.sh start STATE    init (first time) and start; prints the DSN
#   tools/pg.sh stop STATE     stop (fast), keeping the data for a later start
#   tools/pg.sh destroy STATE  stop and remove the cluster
#   tools/pg.sh env STATE      prints `export ARGUS_TEST_PG_DSN=...`
#   tools/pg.sh acquire STATE  start for a ctest run (the "postgres" fixture);
#                              several runs may share the cluster
#   tools/pg.sh release STATE  the run is done; the last one destroys it
#
# With ARGUS_TEST_PG_DSN already set, acquire/release only record that DSN:
# the tests then use that server, and nothing is started or stopped.
#
# Durability: fsync stays on, so the tests see what a real deployment
# commits. Only initdb runs with --no-sync (the template files of a
# throwaway cluster need not survive a power cut).
#
# PostgreSQL refuses to run as root; as root the server runs as the
# "postgres" OS user (created when missing).
set -euo pipefail

usage() {
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
cmd=$1
state=$2

find_bindir() {
  if [[ -n "${PG_BINDIR:-}" ]]; then
    echo "$PG_BINDIR"
    return
  fi
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [[ -x "$d/pg_ctl" ]]; then
      echo "$d"
      return
    fi
  done
  if command -v pg_ctl >/dev/null; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  echo "pg.sh: PostgreSQL server binaries not found (run make deps)" >&2
  exit 1
}

# Runs a server command as the user that owns the cluster.
as_owner() {
  # From /, which the server's user can always read (it may not be
  # allowed into the caller's folder).
  # Without the lock's descriptor: the server would hold the lock forever.
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@" 9>&-)
  else
    (cd / && "$@" 9>&-)
  fi
}

ensure_owner() {
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
}

home() { cat "$state/home" 2>/dev/null || true; }

running() {
  local h
  h=$(home)
  [[ -n "$h" && -d "$h/data" ]] || return 1
  as_owner "$bindir/pg_ctl" -D "$h/data" status >/dev/null 2>&1
}

dsn_of() {
  local h port
  h=$(home)
  port=$(cat "$state/port")
  echo "host=127.0.0.1 port=$port dbname=argus user=argus connect_timeout=5"
}

init_cluster() {
  local h
  h=$(mktemp -d /tmp/argus-pg.XXXXXX)
  chmod 755 "$h"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$h"
  fi
  echo "$h" >"$state/home"
  if ! as_owner "$bindir/initdb" -D "$h/data" -U argus -A trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$h/initdb.log" 2>&1; then
    cat "$h/initdb.log" >&2
    echo "pg.sh: initdb failed" >&2
    exit 1
  fi
}

start_server() {
  local h port tries
  h=$(home)
  # Ports below Linux's ephemeral range, so that no port picked by
  # binding to 0 (as the tests do) can take ours.
  for tries in 1 2 3 4 5 6 7 8 9 10; do
    if [[ -f "$state/port" && $tries -eq 1 ]]; then
      port=$(cat "$state/port")
    else
      port=$((20000 + RANDOM % 12000))
    fi
    rm -f "$h/server.log"
    if as_owner "$bindir/pg_ctl" -D "$h/data" -l "$h/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$h -c max_connections=200" \
      start >/dev/null 2>&1; then
      echo "$port" >"$state/port"
      break
    fi
    if ! grep -qi "could not bind\|address already in use" "$h/server.log" 2>/dev/null; then
      tail -n 20 "$h/server.log" >&2 || true
      echo "pg.sh: the server did not start" >&2
      exit 1
    fi
  done
  running || {
    tail -n 20 "$h/server.log" >&2 || true
    echo "pg.sh: no free port found" >&2
    exit 1
  }
  if ! as_owner "$bindir/psql" -h "$h" -p "$port" -U argus -d postgres -qAt \
    -c "SELECT 1 FROM pg_database WHERE datname = 'argus'" | grep -q 1; then
    as_owner "$bindir/createdb" -h "$h" -p "$port" -U argus argus
  fi
  dsn_of >"$state/dsn"
}

do_start() {
  mkdir -p "$state"
  ensure_owner
  if running; then
    dsn_of
    return
  fi
  local h
  h=$(home)
  if [[ -z "$h" || ! -d "$h/data" ]]; then
    rm -f "$state/port"
    init_cluster
  fi
  start_server
  dsn_of
}

do_stop() {
  if running; then
    as_owner "$bindir/pg_ctl" -D "$(home)/data" -m fast -w stop >/dev/null
  fi
}

do_destroy() {
  # No shutdown checkpoint: the files are about to go.
  if running; then
    as_owner "$bindir/pg_ctl" -D "$(home)/data" -m immediate -w stop >/dev/null
  fi
  local h
  h=$(home)
  if [[ -n "$h" && "$h" == /tmp/argus-pg.* ]]; then
    rm -rf "$h"
  fi
  rm -f "$state/home" "$state/port" "$state/dsn"
}

# A ctest run is known by its pid (our parent); runs that died without
# releasing are forgotten the next time the list is read.
live_users() {
  local f
  for f in "$state"/users/*; do
    [[ -e "$f" ]] || continue
    if kill -0 "$(basename "$f")" 2>/dev/null; then
      echo "$(basename "$f")"
    else
      rm -f "$f"
    fi
  done
}

locked() {
  mkdir -p "$state/users"
  exec 9>"$state/lock"
  flock 9
  "$@"
}

do_acquire() {
  if [[ -n "${ARGUS_TEST_PG_DSN:-}" ]]; then
    mkdir -p "$state"
    echo "$ARGUS_TEST_PG_DSN" >"$state/dsn"
    echo "external" >"$state/external"
    echo "$ARGUS_TEST_PG_DSN"
    return
  fi
  rm -f "$state/external"
  live_users >/dev/null
  touch "$state/users/$PPID"
  do_start
}

do_release() {
  [[ -f "$state/external" ]] && return
  rm -f "$state/users/$PPID"
  if [[ -z "$(live_users)" ]]; then
    do_destroy
  fi
}

bindir=$(find_bindir)
case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
  destroy) do_destroy ;;
  env)
    [[ -f "$state/dsn" ]] || { echo "pg.sh: not started" >&2; exit 1; }
    printf "export ARGUS_TEST_PG_DSN='%s'\n" "$(cat "$state/dsn")"
    ;;
  acquire) locked do_acquire ;;
  release) locked do_release ;;
  *) usage ;;
esac
