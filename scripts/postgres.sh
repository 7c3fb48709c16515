#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL on 127.0.0.1 for tests and benchmarks.
#   scripts/postgres.sh start DIR   -> prints PGPORT=<port> ; data, socket and log live under DIR
#                                      (a DIR started before restarts with its data and port)
#   scripts/postgres.sh stop DIR
# initdb and pg_ctl refuse to run as root, so they run as the postgres user (runuser).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

case "$cmd" in
  start)
    bin=$(find_bin)
    if [ -z "$bin" ]; then
      apt_install postgresql
      bin=$(find_bin)
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      chown postgres: "$dir"
    fi
    if ! as_postgres test -w "$dir"; then
      echo "postgres.sh: the postgres user cannot write $dir (is every parent folder searchable?)" >&2
      exit 1
    fi
    # A folder started before is started again on its own port with its data (a restart).
    fresh=no
    if [ -f "$dir/port" ]; then
      port=$(cat "$dir/port")
    else
      fresh=yes
      port=$(free_port)
      as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
    fi
    # A fresh folder whose port was taken between free_port and the bind tries another port.
    for attempt in 1 2 3; do
      if as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c shared_buffers=256MB -c max_wal_size=2GB" start >&2; then
        break
      fi
      if [ "$fresh" = yes ] && [ "$attempt" -lt 3 ] && grep -q "Address already in use" "$dir/server.log"; then
        port=$(free_port)
        continue
      fi
      echo "postgres.sh: PostgreSQL did not start; the end of $dir/server.log:" >&2
      tail -n 20 "$dir/server.log" >&2 || true
      exit 1
    done
    echo "$port" >"$dir/port"
    echo "PGPORT=$port"
    ;;
  stop)
    bin=$(find_bin)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
