# Shared by the server scripts: sourced, not run.

# Prints a TCP port on 127.0.0.1 that nothing listens on now. The ports are below Linux's
# ephemeral range (32768-60999): a port from that range can be taken by any outgoing connection
# (the tests open thousands) between this check and the server's bind.
free_port() {
  local port
  for _ in $(seq 200); do
    port=$((16000 + RANDOM % 16000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "$(basename "$0"): no free port found" >&2
  return 1
}

# Waits until something accepts connections on 127.0.0.1:$1, for at most $2 seconds.
wait_for_port() {
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$(basename "$0"): nothing listens on 127.0.0.1:$1 after $2 s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# Installs Debian packages that are missing (as root, or through sudo where it is there).
apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "$(basename "$0"): installing Debian's $*" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}

# Stops the process whose id is in file $1 (and only that one), waiting up to 10 s for it to go.
stop_pid_file() {
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}
