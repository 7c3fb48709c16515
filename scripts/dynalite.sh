#!/usr/bin/env bash
# Starts or stops a throwaway dynalite (a DynamoDB-compatible server) on 127.0.0.1.
#   scripts/dynalite.sh start DIR   -> prints DYNALITE_PORT=<port> ; pid file and log under DIR
#   scripts/dynalite.sh stop DIR
# dynalite's version is pinned in scripts/dynalite/package.json and package-lock.json; npm ci
# installs exactly that on first use. Its tables live in DIR/data (LevelDB), so a restart of the
# same DIR keeps them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

case "$cmd" in
  start)
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
      apt_install nodejs npm
    fi
    if [ ! -f "$here/dynalite/node_modules/dynalite/cli.js" ]; then
      echo "dynalite.sh: npm ci (dynalite, pinned)" >&2
      (cd "$here/dynalite" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # A folder started before is started again on its own port with its tables (a restart).
    if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else port=$(free_port); fi
    nohup node "$here/dynalite/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$port" --path "$dir/data" \
      >"$dir/dynalite.log" 2>&1 </dev/null &
    echo $! >"$dir/dynalite.pid"
    wait_for_port "$port" 30 || { tail -n 20 "$dir/dynalite.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "DYNALITE_PORT=$port"
    ;;
  stop)
    stop_pid_file "$dir/dynalite.pid"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
