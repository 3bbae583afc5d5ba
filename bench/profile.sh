#!/usr/bin/env bash
# Flame graphs of the three local jobs that bench/vs-duckdb.sh times: builds the release
# binary with frame pointers and line tables (in target/profile, so the normal build is
# left alone), samples each job with `perf record`, and draws bench/profiles/JOB.svg with
# inferno (`cargo install inferno`). Not a test: the graphs go with the benchmark's figures.
#
#   P3  jobs/create-customers.yaml --dry-run over 1,000,000 generated customers
#   P4  jobs/export-file.yaml --sandbox over a 300 MB conversation_items.jsonl
#   P5  jobs/events-wfm.yaml over 1,000,000 generated events
#
#   bench/profile.sh              # all three
#   bench/profile.sh p5           # one (any of p3 p4 p5)
#   PROFILE_TAG=before bench/profile.sh   # writes bench/profiles/JOB-before.svg
#   PROFILE_TARGET_DIR=DIR bench/profile.sh   # build elsewhere than target/profile
#
# Needs perf (Debian's linux-perf) with access to user-space samples, and
# inferno-collapse-perf / inferno-flamegraph on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(p3 p4 p5)
for j in "${jobs[@]}"; do
  case $j in p3 | p4 | p5) ;; *) echo "unknown job '$j' (p3, p4 or p5)" >&2; exit 2 ;; esac
done
for tool in perf inferno-collapse-perf inferno-flamegraph; do
  command -v "$tool" > /dev/null || { echo "$tool is not on PATH" >&2; exit 2; }
done
tag=${PROFILE_TAG:+-$PROFILE_TAG}

target=${PROFILE_TARGET_DIR:-$repo/target/profile}
CARGO_TARGET_DIR="$target" CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  RUSTFLAGS="-C force-frame-pointers=yes" cargo build --release --locked --quiet
runner="$target/release/runner"

work=$(mktemp -d /tmp/profile.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/profiles

for job in "${jobs[@]}"; do
  dir="$work/$job"
  mkdir -p "$dir"
  case $job in
    p3) python3 bench/gen_customers.py 1000000 > "$dir/customers.csv"
        cmd=("$runner" -q apply "$repo/jobs/create-customers.yaml" --dry-run
             --input "$dir/customers.csv" --results "$dir/results.csv") ;;
    p4) python3 bench/gen_items.py --size-mb 300 -o "$dir/items.jsonl" 2> /dev/null
        cp jobs/export-file.yaml "$dir/"
        cmd=("$runner" -q apply "$dir/export-file.yaml" --sandbox --input "$dir/items.jsonl") ;;
    p5) python3 bench/gen_events.py --count 1000000 --start 2026-11-20T00:00:00Z \
          -o "$dir/events.jsonl" 2> /dev/null
        cp jobs/events-wfm.yaml "$dir/"
        cmd=("$runner" -q apply "$dir/events-wfm.yaml" --input "$dir/events.jsonl"
             --set startAt=2026-11-20T00:00:00Z --set endAt=2026-11-21T00:00:00Z) ;;
  esac
  # Once to warm the page cache, then sampled.
  (cd "$dir" && "${cmd[@]}" > /dev/null)
  (cd "$dir" && perf record -q -o "$dir/perf.data" -F 999 --call-graph fp -- "${cmd[@]}" > /dev/null)
  perf script -i "$dir/perf.data" 2> /dev/null | inferno-collapse-perf > "$dir/folded"
  inferno-flamegraph --minwidth 0.2 --title "$job$tag $(git rev-parse --short HEAD)" \
    < "$dir/folded" > "bench/profiles/$job$tag.svg"
  echo "bench/profiles/$job$tag.svg: $(wc -l < "$dir/folded") stacks"
done
