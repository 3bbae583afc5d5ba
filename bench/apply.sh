#!/usr/bin/env bash
# Apply benchmark (issue 4, "Done means"): runs jobs/create-customers.yaml for real with the
# release binary against the release sandbox on 127.0.0.1 and reports, per scenario, how
# much of the rate limit the run used, the 429s it got, the rows that failed and its peak
# RSS. Not a test: the figures go in notes.
#
#   scenario 10/s+100ms   sandbox at 10 req/s, 100 ms latency;    600 rows, the manifest as is
#   scenario 200/s+50ms   sandbox at 200 req/s, 50 ms latency; 10,000 rows, a copy of the
#                         manifest with `per_second: 200` and `concurrency: 32`
#
#   bench/apply.sh                 # both scenarios (about a minute each)
#   bench/apply.sh 10 200 10 200   # chosen scenarios, in order (repeat to run twice)
#   BENCH_NO_BUILD=1 bench/apply.sh    # skip `cargo build --release --locked`
#   BENCH_KEEP=1 bench/apply.sh        # keep the work dir (request logs, results, time -v)
#
# Figures, all from the sandbox's request log (`GET /__sandbox/requests`) unless noted:
#   requests    requests the sandbox received (its /api/v1 log)
#   429s        of those, answered 429
#   failed      rows with `result` == failed in the results CSV
#   achieved    (admitted requests − 1) / (last admitted arrival − first, in seconds), where
#               admitted = not answered 429; ratio = achieved / limit
#   wall        the runner process's wall time (from /usr/bin/time -v, start-up included);
#               wall_ratio = requests the runner says it sent / wall / limit
#   peak_rss_mb the runner's maximum resident set size (from /usr/bin/time -v)
# A second line per scenario gives details: the most admitted requests in any sliding
# second (must not exceed the limit), the largest gaps between admitted arrivals (and
# where, in ms since the sandbox started), and the runner's wall time outside the span
# from first to last admitted request (start-up, the last response, exit).
#
# Every process it starts is killed on exit; the runs are bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
runner="$repo/target/release/runner"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(10 200)
for s in "${scenarios[@]}"; do
  case "$s" in
    10 | 200) ;;
    *) echo "unknown scenario '$s' (10 or 200)" >&2; exit 2 ;;
  esac
done
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release --locked --quiet

work=$(mktemp -d)
sandbox_pid=""
apply_pid=""
cleanup() {
  local pid
  for pid in "$apply_pid" "$sandbox_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ -n "${BENCH_KEEP:-}" ]; then
    echo "work dir kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts the sandbox at $1 req/s and $2 ms latency; sets sandbox_pid and GLADLY_*.
start_sandbox() {
  local out="$work/sandbox.out"
  : > "$out"
  # Under its own argv[0]: a neighbour that clears stray sandboxes by pattern
  # (`pkill -f 'runner sandbox'` and the like) must not take this one down mid-run.
  ( exec -a gladly-bench-sandbox "$runner" sandbox --port 0 --rate-limit "$1" \
      --latency "$2" --seed 1 > "$out" 2> "$work/sandbox.err" ) &
  sandbox_pid=$!
  local i
  for i in $(seq 100); do
    [ "$(grep -c '^export GLADLY_' "$out" || true)" -ge 3 ] && break
    kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sandbox.err" >&2; exit 1; }
    sleep 0.1
  done
  [ "$(grep -c '^export GLADLY_' "$out" || true)" -ge 3 ] || { echo "sandbox did not start" >&2; exit 1; }
  GLADLY_HOST=$(sed -n 's/^export GLADLY_HOST=//p' "$out")
  GLADLY_USERNAME=$(sed -n 's/^export GLADLY_USERNAME=//p' "$out")
  GLADLY_API_TOKEN=$(sed -n 's/^export GLADLY_API_TOKEN=//p' "$out")
  case "$GLADLY_HOST" in
    http://127.0.0.1:*) ;;
    *) echo "sandbox is not on 127.0.0.1: $GLADLY_HOST" >&2; exit 1 ;;
  esac
  export GLADLY_HOST GLADLY_USERNAME GLADLY_API_TOKEN
}

stop_sandbox() {
  kill "$sandbox_pid" 2>/dev/null || true
  wait "$sandbox_pid" 2>/dev/null || true
  sandbox_pid=""
}

run_scenario() {
  local limit=$1 latency rows manifest label dir
  case "$limit" in
    10) latency=100 rows=600 ;;
    200) latency=50 rows=10000 ;;
  esac
  label="$limit/s+${latency}ms"
  dir="$work/run-$limit-$RANDOM"
  mkdir -p "$dir"
  if [ "$limit" = 10 ]; then
    manifest="$repo/jobs/create-customers.yaml"
  else
    manifest="$dir/create-customers.yaml"
    sed -e 's/^rate_limit: { per_second: 10 }$/rate_limit: { per_second: 200 }/' \
        -e 's/^concurrency: 4$/concurrency: 32/' \
        "$repo/jobs/create-customers.yaml" > "$manifest"
    grep -q '^rate_limit: { per_second: 200 }$' "$manifest" && grep -q '^concurrency: 32$' "$manifest" \
      || { echo "could not rewrite the manifest's rate_limit/concurrency" >&2; exit 1; }
  fi
  python3 bench/gen_customers.py "$rows" > "$dir/input.csv"
  start_sandbox "$limit" "$latency"
  local rc=0
  # timeout runs in its own process group and passes a TERM on to all of it, so killing
  # $apply_pid (the cleanup trap) takes /usr/bin/time and the runner down with it.
  timeout 600 /usr/bin/time -v "$runner" apply "$manifest" --input "$dir/input.csv" \
      --results "$dir/results.csv" -q > "$dir/apply.out" 2> "$dir/time.txt" &
  apply_pid=$!
  wait "$apply_pid" || rc=$?
  apply_pid=""
  python3 - "$GLADLY_HOST/__sandbox/requests" > "$dir/requests.json" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=30) as r:
    sys.stdout.write(r.read().decode())
EOF
  stop_sandbox
  if [ "$rc" -ne 0 ]; then
    echo "scenario=$label: runner exited $rc" >&2
    sed -n '1,40p' "$dir/apply.out" >&2
    grep -v '^\s' "$dir/time.txt" | tail -n 20 >&2 || true
  fi
  python3 - "$label" "$limit" "$rows" "$rc" "$dir" <<'EOF'
import csv, json, re, sys

label, limit, rows, rc, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
log = [e for e in json.load(open(f"{d}/requests.json")) if e["path"].startswith("/api/")]
requests = len(log)
throttled = sum(1 for e in log if e["status"] == 429)
admitted = sorted(e["at_ms"] for e in log if e["status"] != 429)
span = (admitted[-1] - admitted[0]) / 1000 if len(admitted) > 1 else 0.0
achieved = (len(admitted) - 1) / span if span > 0 else 0.0

with open(f"{d}/results.csv", newline="") as f:
    results = list(csv.DictReader(f))
failed = sum(1 for r in results if r["result"] == "failed")

time_v = open(f"{d}/time.txt").read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_v).group(1))
clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", time_v).group(1)
wall = sum(float(x) * 60**i for i, x in enumerate(reversed(clock.split(":"))))

summary = open(f"{d}/apply.out").read()
m = re.search(r"requests: (\d+) sent, (\d+) retried, (\d+) answered 429", summary)
sent, retried, said_429 = (int(g) for g in m.groups()) if m else (requests, -1, -1)
m = re.search(r"ran \d+ rows in (.+?) —", summary)
runner_wall = m.group(1).replace(" ", "") if m else "?"

# Most admitted requests in any sliding second (the sandbox's own window is 1 s).
most, j = 0, 0
for i, t in enumerate(admitted):
    while t - admitted[j] >= 1000:
        j += 1
    most = max(most, i - j + 1)
gaps = [b - a for a, b in zip(admitted, admitted[1:])]
max_gap = max(gaps) if gaps else 0
big = sorted(range(len(gaps)), key=lambda i: -gaps[i])[:3]
big_gaps = ",".join(f"{gaps[i]}ms@{admitted[i]}" for i in sorted(big))

print(f"scenario={label} rows={rows} requests={requests} 429s={throttled} failed={failed} "
      f"achieved={achieved:.2f}/s ratio={achieved / limit:.3f} wall={wall:.1f}s "
      f"wall_ratio={sent / wall / limit:.3f} peak_rss_mb={round(rss_kb / 1024)}"
      + ("" if rc == 0 else f" exit={rc}"))
print(f"  detail: results_rows={len(results)} runner_sent={sent} runner_retried={retried} "
      f"runner_429s={said_429} runner_wall={runner_wall} span={span:.2f}s "
      f"max_in_1s={most} max_gap_ms={max_gap} biggest_gaps={big_gaps} "
      f"outside_span_ms={round((wall - span) * 1000)}")
EOF
}

for s in "${scenarios[@]}"; do
  run_scenario "$s"
done
