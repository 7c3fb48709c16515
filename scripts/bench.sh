#!/usr/bin/env bash
# The benchmarks behind BENCHMARKS.md.
#   scripts/bench.sh load [LOADGEN ARGS...]   hydrant serve + PostgreSQL side-by-side, then paced latency runs (ack and receipt-to-alert)
#   scripts/bench.sh micro [FILTER]          BenchmarkDotNet kernels (parsing, keys, detection, analytics loaders), e.g. '*PostgresLoad*'
#   scripts/bench.sh enrichment [EVENTS]      ingest alone, without enrichment, with it for sourceIP (MaxMind's test City
#                                             and ASN databases, the corpus's four FireHOL lists), and with one address field
#                                             more (destinationIP); three runs of each, in turn
#   scripts/bench.sh scaleout [EVENTS]        each scale-out backend (dynalite, PostgreSQL, Redis) against the embedded ones:
#                                             ingest acks and the time until every consumer has caught up
# Everything runs on 127.0.0.1; only the processes started here are stopped, by their id.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-load}
shift || true
dotnet build Hydrant.slnx -c Release -v quiet -nologo >/dev/null

case "$what" in
  micro)
    # The PostgreSQL loader benchmark needs a server: a throwaway one, stopped on exit.
    micro_work=$(mktemp -d)
    chmod 755 "$micro_work"
    trap 'bash scripts/postgres.sh stop "$micro_work/pg" || true; rm -rf "$micro_work"' EXIT
    HYDRANT_BENCH_POSTGRES="Host=127.0.0.1;Port=$(bash scripts/postgres.sh start "$micro_work/pg" | sed -n 's/^PGPORT=//p');Username=postgres;Database=postgres"
    export HYDRANT_BENCH_POSTGRES
    dotnet bench/Hydrant.Benchmarks/bin/Release/net10.0/Hydrant.Benchmarks.dll --filter "${1:-*}" --memory
    exit 0
    ;;
  load|scaleout|enrichment) ;;
  *) echo "usage: scripts/bench.sh load|micro|scaleout|enrichment [ARGS...]" >&2; exit 2 ;;
esac

work=$(mktemp -d)
chmod 755 "$work" # PostgreSQL runs as its own user under here
hydrant_pid=""
cleanup() {
  [ -n "$hydrant_pid" ] && kill "$hydrant_pid" 2>/dev/null && wait "$hydrant_pid" 2>/dev/null || true
  bash scripts/postgres.sh stop "$work/pg" || true
  bash scripts/redis.sh stop "$work/redis" || true
  bash scripts/dynalite.sh stop "$work/dynalite" || true
  rm -rf "$work"
}
trap cleanup EXIT

start_hydrant() {
  rm -rf "$work/data"
  # Let the page cache write back what earlier runs left dirty, or their writeback stalls this run's fsyncs.
  sync
  # shellcheck disable=SC2086 # HYDRANT_ARGS holds extra server flags, split on purpose
  dotnet src/Hydrant.Cli/bin/Release/net10.0/hydrant.dll serve --data "$work/data" --urls http://127.0.0.1:0 ${HYDRANT_ARGS:-} >"$work/hydrant.log" 2>&1 &
  hydrant_pid=$!
  for _ in $(seq 600); do
    url=$(sed -n 's/^hydrant: listening on //p' "$work/hydrant.log" | head -n 1)
    [ -n "$url" ] && return 0
    kill -0 "$hydrant_pid" 2>/dev/null || { cat "$work/hydrant.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench.sh: hydrant did not start" >&2
  exit 1
}

stop_hydrant() {
  kill "$hydrant_pid" && wait "$hydrant_pid" 2>/dev/null || true
  hydrant_pid=""
}

pg_port=$(bash scripts/postgres.sh start "$work/pg" | sed -n 's/^PGPORT=//p')
loadgen="dotnet bench/Hydrant.LoadGen/bin/Release/net10.0/Hydrant.LoadGen.dll"

# After a load: for each spool consumer of the server at $url, the milliseconds from $1 (ms since
# the epoch) until it had caught up, and the events per second that makes for $2 events.
report_drain() {
  python3 - "$url" "$1" "$2" <<'PY'
import json, sys, time, urllib.request
url, start, events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
done = {}
while True:
    stats = json.load(urllib.request.urlopen(url + "/v1/stats"))
    now = time.time_ns() // 1_000_000
    for c in stats["consumers"]:
        if c["lagEvents"] == 0 and c["name"] not in done:
            done[c["name"]] = now - start
    if len(done) == len(stats["consumers"]):
        break
    time.sleep(0.2)
for name, ms in sorted(done.items(), key=lambda p: p[1]):
    print(f"consumer {name}: caught up {ms} ms after the first request = {events * 1000 // ms:,} events/s")
keys = stats.get("storeKeys")
if keys:
    print(f"store keys: peak {keys['peakUnitsPerSecond']} write units/s on one partition key (cap {keys['unitsPerKeyPerSecondCap']})")
PY
}

# The write amplification of the server at $url so far: memtable inserts and WAL bytes per stored event.
report_storage() {
  python3 - "$url" <<'PY'
import json, sys, urllib.request
storage = json.load(urllib.request.urlopen(sys.argv[1] + "/v1/stats")).get("storage")
if storage:
    print(f"storage: {storage['memtableInsertsPerEvent']} memtable inserts and {storage['walBytesPerEvent']:,.0f} WAL bytes per stored event ({storage['batches']:,} write batches)")
PY
}

if [ "$what" = enrichment ]; then
  events=${1:-300000}
  corpus=$(cd .. && pwd)/shared/corpus
  geoip="$corpus/geoip/maxmind-test-data/test-data"
  firehol="$corpus/threat-intel/firehol"
  enriched="--Hydrant:Enrichment:GeoIp:City=$geoip/GeoIP2-City-Test.mmdb --Hydrant:Enrichment:GeoIp:Asn=$geoip/GeoLite2-ASN-Test.mmdb"
  n=0
  for list in firehol_level1.netset spamhaus_drop.netset feodo.ipset dshield.netset; do
    enriched="$enriched --Hydrant:Enrichment:Intel:Lists:$n:Name=${list%.*} --Hydrant:Enrichment:Intel:Lists:$n:Path=$firehol/$list"
    n=$((n + 1))
  done
  echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(date -u +%F)"
  for run in 1 2 3; do
    for config in plain enriched enriched+field; do
      echo "== run $run, $config"
      extra=""
      [ "$config" = enriched ] && extra="$enriched"
      [ "$config" = enriched+field ] && extra="$enriched --Hydrant:Enrichment:Fields:0=destinationIP"
      HYDRANT_ARGS="--Hydrant:Detection:Enabled=false --Hydrant:Analytics:Load=false $extra" start_hydrant
      $loadgen --url "$url" --pid "$hydrant_pid" --events "$events" --warmup 100000
      python3 - "$url" <<'PY'
import json, sys, urllib.request
lists = json.load(urllib.request.urlopen(sys.argv[1] + "/v1/stats"))["enrichment"]["lists"]
if lists:
    print("intel hits: " + ", ".join(f"{l['name']} {l['hits']:,}" for l in lists))
PY
      stop_hydrant
    done
  done
  exit 0
fi

if [ "$what" = scaleout ]; then
  events=${1:-200000}
  redis_port=$(bash scripts/redis.sh start "$work/redis" | sed -n 's/^REDIS_PORT=//p')
  dynalite_port=$(bash scripts/dynalite.sh start "$work/dynalite" | sed -n 's/^DYNALITE_PORT=//p')
  pg="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
  echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(date -u +%F)"
  run=0
  for backends in \
      "" \
      "--Hydrant:Store:Kind=dynamodb --Hydrant:DynamoDb:ServiceUrl=http://127.0.0.1:$dynalite_port" \
      "--Hydrant:Analytics:Kind=postgres --Hydrant:Postgres:ConnectionString=$pg" \
      "--Hydrant:Cache:Kind=redis --Hydrant:Redis:Configuration=127.0.0.1:$redis_port" \
      "--Hydrant:Store:Kind=dynamodb --Hydrant:DynamoDb:ServiceUrl=http://127.0.0.1:$dynalite_port --Hydrant:Analytics:Kind=postgres --Hydrant:Postgres:ConnectionString=$pg --Hydrant:Cache:Kind=redis --Hydrant:Redis:Configuration=127.0.0.1:$redis_port"; do
    run=$((run + 1))
    echo "== backends: ${backends:-embedded (rocksdb, duckdb, memory)}"
    HYDRANT_ARGS="$backends --Hydrant:DynamoDb:TableName=bench-$run --Hydrant:Redis:Prefix=bench$run:" start_hydrant
    begin=$(( $(date +%s%N) / 1000000 ))
    $loadgen --url "$url" --pid "$hydrant_pid" --events "$events" --batch 1000 --connections 8 --warmup 0
    report_drain "$begin" "$events"
    report_storage
    stop_hydrant
  done
  echo "== hot key: one source sending 5,000 events/s of 5 KB to the DynamoDB store (25,000 events)"
  HYDRANT_ARGS="--Hydrant:Store:Kind=dynamodb --Hydrant:DynamoDb:ServiceUrl=http://127.0.0.1:$dynalite_port --Hydrant:DynamoDb:TableName=bench-hot" start_hydrant
  begin=$(( $(date +%s%N) / 1000000 ))
  $loadgen --url "$url" --pid "$hydrant_pid" --events 25000 --batch 500 --connections 4 --warmup 0 --size 5120 --sources 1 --rate 5000
  report_drain "$begin" 25000
  stop_hydrant
  exit 0
fi

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(date -u +%F)"
echo "== throughput: hydrant vs postgresql"
start_hydrant
$loadgen --url "$url" --pid "$hydrant_pid" --postgres "Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres" "$@"
report_storage
stop_hydrant
# PostgreSQL's checkpointer would otherwise write back its load during the next runs.
bash scripts/postgres.sh stop "$work/pg"

echo "== ingest alone: detection and analytics loading off (fresh server)"
HYDRANT_ARGS="--Hydrant:Detection:Enabled=false --Hydrant:Analytics:Load=false" start_hydrant
$loadgen --url "$url" --pid "$hydrant_pid" "$@"
report_storage
stop_hydrant

echo "== this disk's synced-write limit: 1 GiB in writes of 1 MiB, each fsync'd (the spool's group commits are of that size)"
sync
dd if=/dev/zero of="$work/dd.bin" bs=1M count=1024 oflag=dsync 2>&1 | tail -n 1
rm -f "$work/dd.bin"

echo "== ack and receipt-to-alert latency at a paced 1,000 events/s (fresh server)"
start_hydrant
$loadgen --url "$url" --pid "$hydrant_pid" --rate 1000 --batch 100 --events 30000 --connections 4 --warmup 5000 --alert-latency --probe-every 1
stop_hydrant

echo "== receipt-to-alert latency asked for 100,000 events/s of ~256 B (fresh server)"
start_hydrant
$loadgen --url "$url" --pid "$hydrant_pid" --rate 100000 --batch 1000 --size 256 --events 2000000 --connections 16 --warmup 200000 --alert-latency --probe-every 10
stop_hydrant
