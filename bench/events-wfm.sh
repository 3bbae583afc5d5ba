#!/usr/bin/env bash
# Aggregation benchmark: runs jobs/events-wfm.yaml (spans split across 30-minute intervals
# per agent, plus counts) over a generated Events API stream of 1,000,000 events (or the
# given count) read with --input, using the release binary; reports wall time, events/s,
# peak RSS and the report's line count. Not a test: figures go in notes.
#
#   bench/events-wfm.sh            # 1000000 events
#   bench/events-wfm.sh 200000
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}
cargo build --release --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_events.py --count "$count" --start 2026-11-20T00:00:00Z -o "$work/events.jsonl"
cp jobs/events-wfm.yaml "$work/"
/usr/bin/time -v ./target/release/runner -q apply "$work/events-wfm.yaml" \
    --input "$work/events.jsonl" --set startAt=2026-11-20T00:00:00Z \
    --set endAt=2026-11-21T00:00:00Z > "$work/out.txt" 2> "$work/time.txt"
wall=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}')
rss=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{print $NF}')
secs=$(python3 -c "p='$wall'.split(':'); print(sum(float(x)*60**i for i,x in enumerate(reversed(p))))")
lines=$(($(wc -l < "$work/reports/events-wfm.csv") - 1))
echo "events=$count input_mb=$(( $(stat -c %s "$work/events.jsonl") / 1000000 )) wall=${secs}s" \
     "events_per_sec=$(python3 -c "print(round($count / $secs))")" \
     "peak_rss_mb=$((rss / 1024)) report_lines=$lines"
