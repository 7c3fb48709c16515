#!/usr/bin/env bash
# Hydrant's one entry point for building, testing and benchmarking.
#   ./build.sh test    restore, build (warnings are errors), check formatting, run every test
#   ./build.sh bench   BenchmarkDotNet micro-benchmarks and the end-to-end load test (see BENCHMARKS.md)
# Whatever the tests need is installed and started here, and stopped again on exit.
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

configuration=${CONFIGURATION:-Release}
command=${1:-test}

require_dotnet() {
  if ! command -v dotnet >/dev/null; then
    echo "build.sh: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH" >&2
    exit 2
  fi
}

# Prints the plain closing line 'N passed, N failed, N skipped' summed over every test assembly.
summarize() {
  awk '
    /(Passed|Failed)! +- +Failed:/ {
      gsub(",", ""); for (i = 1; i <= NF; i++) {
        if ($i == "Failed:") f += $(i + 1); if ($i == "Passed:") p += $(i + 1); if ($i == "Skipped:") s += $(i + 1)
      }
      runs++
    }
    END { if (runs == 0) { print "no test assembly reported results"; exit 1 } printf "%d passed, %d failed, %d skipped\n", p, f, s }
  ' "$1"
}

# The scale-out backends' tests run against real servers on 127.0.0.1, started here (installed
# first where missing) and given to the tests in HYDRANT_TEST_* variables.
start_servers() {
  local pg redis dynamo
  # The postgres user must reach its folder.
  chmod 755 "$servers"
  pg=$(bash scripts/postgres.sh start "$servers/postgres")
  redis=$(bash scripts/redis.sh start "$servers/redis")
  dynamo=$(bash scripts/dynalite.sh start "$servers/dynalite")
  export HYDRANT_TEST_POSTGRES="Host=127.0.0.1;Port=${pg#PGPORT=};Username=postgres;Database=postgres"
  export HYDRANT_TEST_REDIS="127.0.0.1:${redis#REDIS_PORT=}"
  export HYDRANT_TEST_DYNAMODB="http://127.0.0.1:${dynamo#DYNALITE_PORT=}"
  export HYDRANT_TEST_SERVERS="$servers"
  # The console is tested in a real browser: Debian's chromium, driven by Playwright for .NET.
  command -v chromium >/dev/null || (source scripts/lib.sh && apt_install chromium)
  export HYDRANT_TEST_CHROMIUM="$(command -v chromium)"
  echo "build.sh: PostgreSQL, Redis and dynalite on 127.0.0.1 ($HYDRANT_TEST_POSTGRES; $HYDRANT_TEST_REDIS; $HYDRANT_TEST_DYNAMODB)"
}

stop_servers() {
  [ -n "${servers:-}" ] || return 0
  bash scripts/dynalite.sh stop "$servers/dynalite" || true
  bash scripts/redis.sh stop "$servers/redis" || true
  bash scripts/postgres.sh stop "$servers/postgres" || true
}

case "$command" in
  test)
    require_dotnet
    dotnet restore Hydrant.slnx
    dotnet build Hydrant.slnx -c "$configuration" --no-restore
    dotnet format Hydrant.slnx --verify-no-changes --no-restore
    log=$(mktemp)
    servers=$(mktemp -d)
    trap 'stop_servers; rm -rf "$log" "$servers"' EXIT
    start_servers
    status=0
    dotnet test Hydrant.slnx -c "$configuration" --no-build 2>&1 | tee "$log" || status=$?
    summarize "$log" || status=1
    exit "$status"
    ;;
  bench)
    require_dotnet
    shift
    exec bash scripts/bench.sh "$@"
    ;;
  *)
    echo "usage: ./build.sh test | bench" >&2
    exit 2
    ;;
esac
