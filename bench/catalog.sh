#!/usr/bin/env bash
# Load benchmark of the public catalog API on a release build with SQLite, beside a bare poem
# handler that returns the same bytes from memory, in the same run, at concurrency 64.
# Needs wrk (apt-get install wrk). Usage: bench/catalog.sh [duration, default 15s]
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
curl -fs "http://127.0.0.1:18080$list" >"$work/list.json"
curl -fs "http://127.0.0.1:18080$one" >"$work/one.json"
./target/release/examples/bare_server 127.0.0.1:18081 "$list=$work/list.json" "$one=$work/one.json" &
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:18081$one" >/dev/null && break; sleep 0.1; done

run() { # name url
  local out rps p99
  out="$(wrk -t2 -c64 -d"$duration" --latency "$2")"
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  printf '| %s | %s | %s |\n' "$1" "$rps" "$p99"
  echo "$rps" >"$work/$(echo "$1" | tr -c 'a-z0-9' '_')"
}
echo "| case | requests/s | p99 |"
echo "|---|---|---|"
run "bare handler, list bytes ($(wc -c <"$work/list.json") B)" "http://127.0.0.1:18081$list"
run "dxcontest GET $list" "http://127.0.0.1:18080$list"
run "bare handler, detail bytes ($(wc -c <"$work/one.json") B)" "http://127.0.0.1:18081$one"
run "dxcontest GET $one" "http://127.0.0.1:18080$one"
python3 - "$work" <<'PY'
import sys, os, glob
w = sys.argv[1]
vals = {os.path.basename(f): float(open(f).read()) for f in glob.glob(w + "/*") if os.path.basename(f).startswith(("bare", "dxcontest"))}
bl = [v for k, v in vals.items() if k.startswith("bare") and "list" in k]
dl = [v for k, v in vals.items() if k.startswith("dxcontest") and "problems_" in k and "bt" not in k]
bd = [v for k, v in vals.items() if k.startswith("bare") and "detail" in k]
dd = [v for k, v in vals.items() if k.startswith("dxcontest") and "bt_01" in k]
if bl and dl: print(f"\nlist: dxcontest reaches {100*dl[0]/bl[0]:.0f}% of the bare handler (target >= 60%)")
if bd and dd: print(f"detail: dxcontest reaches {100*dd[0]/bd[0]:.0f}% of the bare handler")
PY
