#!/usr/bin/env bash
# Export benchmark: converts a generated conversation_items.jsonl (default 1100 MB) to CSV
# with jobs/export-file.yaml (the portal's columns and its contact/phrase filter template,
# evaluated for every item) using the release binary, and reports MB/s and peak RSS.
# The file is read with --input; the job's lookups come from the in-process sandbox.
# Not a test: figures go in notes.
#
#   bench/export-file.sh          # 1100 MB
#   bench/export-file.sh 200      # another size, in MB
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-1100}
cargo build --release --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_items.py --size-mb "$mb" -o "$work/conversation_items.jsonl"
cp jobs/export-file.yaml "$work/"
bytes=$(stat -c %s "$work/conversation_items.jsonl")
/usr/bin/time -v ./target/release/runner -q apply "$work/export-file.yaml" --sandbox \
    --input "$work/conversation_items.jsonl" > "$work/out.txt" 2> "$work/time.txt"
wall=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}')
rss=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{print $NF}')
secs=$(python3 -c "p='$wall'.split(':'); print(sum(float(x)*60**i for i,x in enumerate(reversed(p))))")
csv="$work/exports/export-conversation_items.csv"
records=$(grep -o 'export-conversation_items.csv ([0-9]* records)' "$work/out.txt" | grep -o '[0-9]* records' | cut -d' ' -f1)
echo "input_mb=$((bytes / 1000000)) records=$records wall=${secs}s" \
     "mb_per_sec=$(python3 -c "print(round($bytes / 1e6 / $secs, 1))")" \
     "peak_rss_mb=$((rss / 1024)) csv_mb=$(( $(stat -c %s "$csv") / 1000000 ))"
