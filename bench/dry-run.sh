#!/usr/bin/env bash
# Dry-run benchmark: generates customers CSVs of 100k and 1M rows and dry-runs
# jobs/create-customers.yaml over each with the release binary, reporting wall time,
# rows/second and peak RSS (from /usr/bin/time -v). Not a test: figures go in notes.
#
#   bench/dry-run.sh            # 100000 and 1000000 rows
#   bench/dry-run.sh 50000      # custom sizes
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
cargo build --release --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in "${sizes[@]}"; do
  python3 bench/gen_customers.py "$n" > "$work/customers-$n.csv"
  /usr/bin/time -v ./target/release/runner apply jobs/create-customers.yaml --dry-run \
      --input "$work/customers-$n.csv" --results "$work/results-$n.csv" \
      > "$work/out-$n.txt" 2> "$work/time-$n.txt" || true
  wall=$(grep 'Elapsed (wall clock)' "$work/time-$n.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$work/time-$n.txt" | awk '{print $NF}')
  secs=$(python3 -c "import sys; p='$wall'.split(':'); print(sum(float(x)*60**i for i,x in enumerate(reversed(p))))")
  rate=$(python3 -c "print(round($n / $secs))")
  lines=$(($(wc -l < "$work/results-$n.plan.csv") - 1))
  echo "rows=$n wall=${secs}s rows_per_sec=$rate peak_rss_mb=$((rss / 1024)) plan_lines=$lines plan_mb=$(( $(stat -c %s "$work/results-$n.plan.jsonl") / 1048576 ))"
done
