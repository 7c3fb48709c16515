#!/usr/bin/env bash
# Starts or stops a throwaway Redis on 127.0.0.1 for tests and benchmarks.
#   scripts/redis.sh start DIR   -> prints REDIS_PORT=<port> ; pid file, log and data under DIR
#   scripts/redis.sh stop DIR
# No snapshots (--save ""); the append-only file keeps what was written across a restart of the
# same DIR (start again after stop), as a Redis with persistence would.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

case "$cmd" in
  start)
    command -v redis-server >/dev/null || apt_install redis-server
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # A folder started before is started again on its own port with its data (a restart).
    if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else port=$(free_port); fi
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly yes
    wait_for_port "$port" 30 || { tail -n 20 "$dir/redis.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "REDIS_PORT=$port"
    ;;
  stop)
    stop_pid_file "$dir/redis.pid"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
