#!/usr/bin/env bash
# Load benchmark of the public catalog API on a release build with SQLite, beside a bare poem
# handler that returns the same bytes from memory, in the same run, at concurrency 64.
# Also measures /health (a plain handler behind the same middleware) against the bare handler, to
# tell the middleware's share from the catalog's.
# Needs wrk (apt-get install wrk). Usage: bench/catalog.sh [duration, default 15s]
# On a shared machine, serialize runs: flock /tmp/dxbench.lock bash bench/catalog.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-15s}"
command -v wrk >/dev/null || { echo "install wrk: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --bin dxcontest --example bare_server
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

DXCONTEST_DATABASE__URL="sqlite://$work/bench.db" DXCONTEST_SERVER__LISTEN=127.0.0.1:18080 \
  DXCONTEST_LOG__FILTER=warn ./target/release/dxcontest serve >"$work/server.log" 2>&1 &
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18080/ready >/dev/null && break; sleep 0.1; done

list="/api/v1/problems"
one="/api/v1/problems/BT-01"
health="/health"
curl -fs "http://127.0.0.1:18080$list" >"$work/list.json"
curl -fs "http://127.0.0.1:18080$one" >"$work/one.json"
curl -fs "http://127.0.0.1:18080$health" >"$work/health.json"
./target/release/examples/bare_server 127.0.0.1:18081 \
  "$list=$work/list.json" "$one=$work/one.json" "$health=$work/health.json" &
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:18081$one" >/dev/null && break; sleep 0.1; done

declare -A rps
run() { # key name url
  local out
  out="$(wrk -t2 -c64 -d"$duration" --latency "$3")"
  rps[$1]="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  printf '| %s | %s | %s |\n' "$2" "${rps[$1]}" "$(awk '$1=="99%" {print $2}' <<<"$out")"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100 * a / b}'; }

echo "load before: $(uptime | sed 's/.*load average: //')"
echo "| case | requests/s | p99 |"
echo "|---|---|---|"
run bare_list "bare handler, list bytes ($(wc -c <"$work/list.json") B)" "http://127.0.0.1:18081$list"
run dx_list "dxcontest GET $list" "http://127.0.0.1:18080$list"
run bare_one "bare handler, detail bytes ($(wc -c <"$work/one.json") B)" "http://127.0.0.1:18081$one"
run dx_one "dxcontest GET $one" "http://127.0.0.1:18080$one"
run bare_health "bare handler, health bytes ($(wc -c <"$work/health.json") B)" "http://127.0.0.1:18081$health"
run dx_health "dxcontest GET $health" "http://127.0.0.1:18080$health"
echo "load after: $(uptime | sed 's/.*load average: //')"
echo
echo "list: dxcontest reaches $(ratio "${rps[dx_list]}" "${rps[bare_list]}") of the bare handler (target >= 60%)"
echo "detail: $(ratio "${rps[dx_one]}" "${rps[bare_one]}")"
echo "health: $(ratio "${rps[dx_health]}" "${rps[bare_health]}")"
