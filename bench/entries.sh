#!/usr/bin/env bash
# Entries benchmarks on a release build, the server as its own process, each figure beside a bare
# baseline (examples/entries_baseline.rs) run in the same script on the same database kind:
#   1. submits/s, each iteration uploading a fresh attachment (1 MiB) then submitting,
#   2. text-only draft saves/s,
#   on SQLite and PostgreSQL; and
#   3. the server's peak memory while 50 uploads of 10 MiB and of 50 MiB stream at once.
# Also, for diagnosis: the bare save handler with 13 statements, the bare upload handler with
# socket reads capped at 64 KiB, and the receipt-mail backlog after the submit runs.
# Every measurement runs under `flock /tmp/dxbench.lock` so benchmarks by others do not overlap.
# The whole of `bench/entries.sh 3 20` takes about 30 minutes (more while waiting for the lock).
#
# Usage: bench/entries.sh [RUNS, default 3] [SECONDS per case, default 20]
# Environment: PG_URL (default postgres://postgres@127.0.0.1:5432; SKIP_PG=1 to skip),
#   TEAMS (default 400), MEMBERS (3), SUBMIT_CONC (32), SAVE_CONC (32), SIZE (bytes, 1 MiB),
#   MEM_SIZES (MiB, default "10 50"), MEM_UPLOADS (50), SKIP_MEM=1, SKIP_RATES=1, ONLY (saves|submits),
#   RESULTS_OUT (a file to keep the raw results, one JSON object a line), NO_BUILD=1 (use the
#   binaries already built).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
secs="${2:-20}"
pg_url="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
teams="${TEAMS:-400}"
members="${MEMBERS:-3}"
submit_conc="${SUBMIT_CONC:-32}"
save_conc="${SAVE_CONC:-32}"
size="${SIZE:-1048576}"
mem_sizes="${MEM_SIZES:-10 50}"
mem_uploads="${MEM_UPLOADS:-50}"
only="${ONLY:-all}"
lock=/tmp/dxbench.lock

if [[ -z "${NO_BUILD:-}" ]]; then
  cargo build --release --quiet --bin dxcontest --example entries_load --example entries_baseline
fi
load=./target/release/examples/entries_load
# On the repository's disk (not tmpfs), like data/uploads.
work="$(mktemp -d "${TMPDIR:-/tmp}/dxentries.XXXXXX")"
results="$work/results.jsonl"
: >"$results"
pg_dbs=()
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  for db in "${pg_dbs[@]}"; do psql -q "$pg_url/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port=18290
base="http://127.0.0.1:$port"
# The contest is open for the whole run: drafts and submits accepted.
export DXCONTEST_LOG__FILTER=warn
export DXCONTEST_SERVER__LISTEN="127.0.0.1:$port"
export DXCONTEST_TIMELINE__REGISTRATION_OPENS=2020-01-01T00:00:00+07:00
export DXCONTEST_TIMELINE__REGISTRATION_CLOSES=2099-06-01T00:00:00+07:00
export DXCONTEST_TIMELINE__SUBMISSION_OPENS=2020-01-02T00:00:00+07:00
export DXCONTEST_TIMELINE__SUBMISSION_DEADLINE=2099-12-31T00:00:00+07:00

new_db() { # backend name -> url
  if [[ "$1" == sqlite ]]; then
    echo "sqlite://$work/$2.db"
  else
    psql -q "$pg_url/postgres" -c "CREATE DATABASE $2" >/dev/null
    pg_dbs+=("$2")
    echo "$pg_url/$2"
  fi
}

drop_db() { # backend name
  rm -f "$work/$2".db*
  if [[ "$1" == postgres ]]; then psql -q "$pg_url/postgres" -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null; fi
}

wait_ready() {
  for _ in $(seq 1 300); do
    curl -fs "$base/ready" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || { echo "server died:" >&2; cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "server not ready" >&2; exit 1
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  local errors; errors="$(grep -c ERROR "$work/server.log" || true)"
  if [[ "$errors" != 0 ]]; then
    echo "!! the server logged $errors errors; the first:" >&2
    grep -m3 ERROR "$work/server.log" | cut -c1-400 >&2
  fi
  rm -rf "$work/files" "$work/mail"
}

# Starts dxcontest on a fresh database with `n` seeded teams; writes $work/entries.
start_dx() { # backend dbname teams
  local url; url="$(new_db "$1" "$2")"
  export DXCONTEST_DATABASE__URL="$url"
  export DXCONTEST_ENTRIES__STORAGE_DIR="$work/files"
  export DXCONTEST_MAIL__FILE_DIR="$work/mail"
  # Seeding migrates; the server then imports the problems at its first start.
  "$load" seed --teams "$3" --members "$members" --out "$work/tokens"
  ./target/release/dxcontest serve >"$work/server.log" 2>&1 &
  server_pid=$!
  wait_ready
  "$load" prepare --base "$base" --tokens "$work/tokens" --out "$work/entries"
}

start_base() { # backend dbname teams
  local url; url="$(new_db "$1" "$2")"
  ./target/release/examples/entries_baseline "127.0.0.1:$port" "$url" "$work/files" >"$work/server.log" 2>&1 &
  server_pid=$!
  wait_ready
  "$load" prepare --base "$base" --count "$3" --out "$work/entries"
}

record() { # server backend run -> reads RESULT lines on stdin
  grep '^RESULT ' | sed 's/^RESULT //' | python3 -c '
import json, sys
extra = {"server": sys.argv[1], "backend": sys.argv[2], "run": int(sys.argv[3])}
for line in sys.stdin:
    d = json.loads(line); d.update(extra); print(json.dumps(d))
' "$1" "$2" "$3" | tee -a "$results" >&2
}

measure() { # server backend run
  local common=(--base "$base" --entries "$work/entries" --secs "$secs" --warmup 3)
  if [[ "$only" == all || "$only" == saves ]]; then
    flock "$lock" "$load" saves "${common[@]}" --concurrency "$save_conc" | record "$1" "$2" "$3"
    if [[ "$1" == baseline ]]; then
      # The same handler with 12 one-row SELECTs before its UPDATE: what 13 statements cost.
      flock "$lock" "$load" saves "${common[@]}" --concurrency "$save_conc" --query reads=12 \
        | record baseline_13_statements "$2" "$3"
    fi
  fi
  if [[ "$only" == all || "$only" == submits ]]; then
    flock "$lock" "$load" submits "${common[@]}" --concurrency "$submit_conc" --size "$size" | record "$1" "$2" "$3"
    # The receipt mails the submits queued, how many the dispatcher wrote meanwhile, and how
    # fast it writes them once the load stops.
    if [[ "$1" == dxcontest ]]; then
      flock "$lock" "$load" outbox --watch 10 | record "$1" "$2" "$3"
    fi
  fi
}

echo "load before: $(uptime)" >&2
backends=(sqlite)
[[ -z "${SKIP_PG:-}" ]] && backends+=(postgres)
[[ -n "${SKIP_RATES:-}" ]] && backends=()
for run in $(seq 1 "$runs"); do
  for backend in "${backends[@]}"; do
    echo "== run $run, $backend: bare baseline" >&2
    start_base "$backend" "dxbench_${$}_${run}_base" "$teams"
    measure baseline "$backend" "$run"
    stop_server; drop_db "$backend" "dxbench_${$}_${run}_base"
    echo "== run $run, $backend: dxcontest" >&2
    start_dx "$backend" "dxbench_${$}_${run}_dx" "$teams"
    measure dxcontest "$backend" "$run"
    stop_server; drop_db "$backend" "dxbench_${$}_${run}_dx"
  done
done

if [[ -z "${SKIP_MEM:-}" ]]; then
  for run in $(seq 1 "$runs"); do
    for mib in $mem_sizes; do
      # baseline_read_cap: the baseline with socket reads capped at 64 KiB (see its docs).
      for server in baseline baseline_read_cap dxcontest; do
        echo "== memory run $run, $server, $mem_uploads x $mib MiB" >&2
        name="dxbench_${$}_m${run}_${mib}_${server}"
        case "$server" in
          baseline) start_base sqlite "$name" "$mem_uploads" ;;
          baseline_read_cap) BASELINE_READ_CAP=65536 start_base sqlite "$name" "$mem_uploads" ;;
          *) start_dx sqlite "$name" "$mem_uploads" ;;
        esac
        flock "$lock" "$load" memory --base "$base" --entries "$work/entries" --pid "$server_pid" \
          --uploads "$mem_uploads" --size $((mib << 20)) | record "$server" sqlite "$run"
        stop_server; drop_db sqlite "$name"
      done
    done
  done
fi
echo "load after: $(uptime)" >&2
[[ -n "${RESULTS_OUT:-}" ]] && cp "$results" "$RESULTS_OUT"

python3 - "$results" "$size" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
size_mib = int(sys.argv[2]) / (1 << 20)
def med(xs): return statistics.median(xs) if xs else float("nan")
def pick(kind, server, backend):
    return [r for r in rows if r["kind"] == kind and r["server"] == server and r["backend"] == backend]
print()
print("| case | backend | server | per second (median) | runs | p50 | p99 | errors | vs baseline |")
print("|---|---|---|---|---|---|---|---|---|")
for kind, name in (("submits", "upload %g MiB + submit" % size_mib), ("saves", "draft save (PUT)")):
    for backend in ("sqlite", "postgres"):
        base = [r["per_sec"] for r in pick(kind, "baseline", backend)]
        for server in ("baseline", "baseline_13_statements", "dxcontest"):
            rs = pick(kind, server, backend)
            if not rs: continue
            rate = med([r["per_sec"] for r in rs])
            ratio = "%.0f%%" % (100 * rate / med(base)) if server == "dxcontest" and base else ""
            each = ", ".join("%.0f" % r["per_sec"] for r in rs)
            p50 = med([r["p50_ms"] for r in rs])
            p99 = med([r["p99_ms"] for r in rs])
            errors = sum(r["errors"] for r in rs)
            print("| %s | %s | %s | %.0f | %s | %.1f ms | %.1f ms | %d | %s |"
                  % (name, backend, server, rate, each, p50, p99, errors, ratio))
for backend in ("sqlite", "postgres"):
    ob = [r for r in rows if r["kind"] == "outbox" and r["backend"] == backend]
    if ob:
        print("\n%s: receipt mails right after the submit runs: %s; then sent per second with no load: %s" % (
            backend,
            "; ".join(", ".join("%s %d" % (k, r[k]) for k in ("queued", "sending", "sent", "failed") if k in r) for r in ob),
            ", ".join("%.0f" % r.get("sent_per_sec_after", 0) for r in ob)))
mem = [r for r in rows if r["kind"] == "memory"]
if mem:
    print()
    print("| server | uploads at once | size each | idle RSS | peak RSS | peak - idle (median) | runs (MiB) | MB/s |")
    print("|---|---|---|---|---|---|---|---|")
    for server in ("baseline", "baseline_read_cap", "dxcontest"):
        for sz in sorted({r["size"] for r in mem}):
            rs = [r for r in mem if r["server"] == server and r["size"] == sz]
            if not rs: continue
            each = ", ".join("%.1f" % (r["peak_over_idle_kib"] / 1024) for r in rs)
            print("| %s | %d | %d MiB | %.1f MiB | %.1f MiB | %.1f MiB | %s | %.0f |" % (
                server, rs[0]["uploads"], sz >> 20, med([r["idle_rss_kib"] for r in rs]) / 1024,
                med([r["peak_kib"] for r in rs]) / 1024, med([r["peak_over_idle_kib"] for r in rs]) / 1024,
                each, med([r["mb_per_sec"] for r in rs])))
PY
