#!/usr/bin/env bash
# Runner vs DuckDB: runs three local jobs with the runner and the same work as SQL in
# DuckDB's CLI (bench/duckdb/p3.sql, p4.sql, p5.sql) on the same generated inputs, checks
# that the outputs are byte-identical, and prints per job the wall time and peak RSS of
# each side (from /usr/bin/time -v) and their ratios. Not a test: figures go in notes.
#
#   P3  jobs/create-customers.yaml --dry-run over a customers CSV (bench/gen_customers.py):
#       results.plan.csv and results.plan.jsonl (the dry run writes no results.csv)
#   P4  jobs/export-file.yaml --sandbox over conversation_items.jsonl (bench/gen_items.py):
#       exports/export-conversation_items.csv
#   P5  jobs/events-wfm.yaml over an events stream (bench/gen_events.py), window
#       2026-11-20T00:00:00Z..2026-11-21T00:00:00Z: reports/events-wfm.csv
#
#   bench/vs-duckdb.sh                  # all three: 1,000,000 rows, 300 MB, 1,000,000 events
#   bench/vs-duckdb.sh p5               # only P5 (any of p3 p4 p5)
#   BENCH_SIZE=small bench/vs-duckdb.sh # 100,000 rows, 30 MB, 100,000 events (RSS stays flat?)
#   P3_ROWS=50000 P4_MB=50 P5_EVENTS=200000 bench/vs-duckdb.sh   # custom sizes
#
# Environment: RUNNER (the binary; default ./target/release/runner, built first with
# `cargo build --release --locked --quiet` unless BENCH_NO_BUILD=1 or RUNNER is set),
# DUCKDB (a duckdb binary; default `duckdb` from PATH, installed with
# `pip install duckdb-cli==1.5.6` when missing), BENCH_RUNS (timed runs per side, default 1),
# BENCH_KEEP=1 (keep the work directory and print where it is).
#
# Hot cache: every side runs once untimed first (which also warms the page cache with its
# input), then BENCH_RUNS timed runs; the best wall time is reported with that run's peak
# RSS, and the outputs of the last run are compared. DuckDB runs with its defaults
# (in-memory database, threads = cores). The pip package's `duckdb` is a Python wrapper that
# starts the real binary; the script runs that binary directly so the figures hold no
# Python start-up (the wrapper's only other work is adding pip's extension folder; json
# and icu are built in).
#
# Output: one line per job: job, runner s, duckdb s, runner/duckdb time, runner and duckdb
# peak RSS MB, runner/duckdb RSS, outputs=identical|DIFFER. On DIFFER the first differing
# line of each file is printed and the script exits 1 (after the other jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
DUCKDB_VERSION=1.5.6

jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(p3 p4 p5)
for j in "${jobs[@]}"; do
  case $j in p3 | p4 | p5) ;; *) echo "unknown job '$j' (p3, p4 or p5)" >&2; exit 2 ;; esac
done

case ${BENCH_SIZE:-full} in
  full) p3_rows=1000000 p4_mb=300 p5_events=1000000 ;;
  small) p3_rows=100000 p4_mb=30 p5_events=100000 ;;
  *) echo "BENCH_SIZE is full or small" >&2; exit 2 ;;
esac
p3_rows=${P3_ROWS:-$p3_rows}
p4_mb=${P4_MB:-$p4_mb}
p5_events=${P5_EVENTS:-$p5_events}
runs=${BENCH_RUNS:-1}

# The runner.
if [ -z "${RUNNER:-}" ]; then
  RUNNER=./target/release/runner
  [ "${BENCH_NO_BUILD:-}" = 1 ] || cargo build --release --locked --quiet
fi
runner=$(realpath "$RUNNER")
[ -x "$runner" ] || { echo "no runner binary at $RUNNER" >&2; exit 2; }

# DuckDB's CLI: the real binary behind pip's wrapper when that is what PATH has.
if [ -n "${DUCKDB:-}" ]; then
  duck=$(realpath "$DUCKDB")
else
  if ! command -v duckdb > /dev/null; then
    echo "duckdb not on PATH: installing it with pip install duckdb-cli==$DUCKDB_VERSION" >&2
    python3 -m pip install --quiet "duckdb-cli==$DUCKDB_VERSION" >&2
    hash -r
    command -v duckdb > /dev/null || { echo "duckdb still not on PATH after pip install" >&2; exit 2; }
  fi
  duck=$(command -v duckdb)
  if [ "$(head -c 4 "$duck" | od -An -c | tr -d ' ')" != 177ELF ]; then
    real=$(python3 -c 'import duckdb_cli.__main__ as m; print(m._find_binary())' 2> /dev/null || true)
    if [ -n "$real" ] && [ -x "$real" ]; then
      duck=$real
    else
      echo "note: $duck is not an executable binary; its figures include the wrapper" >&2
    fi
  fi
fi
duck_version=$("$duck" -version | awk '{print $1}')
[ "$duck_version" = "v$DUCKDB_VERSION" ] ||
  echo "note: duckdb is $duck_version; these figures were first taken with v$DUCKDB_VERSION" >&2

work=$(mktemp -d /tmp/vs-duckdb.XXXXXX)
if [ "${BENCH_KEEP:-}" = 1 ]; then
  echo "work directory: $work" >&2
else
  trap 'rm -rf "$work"' EXIT
fi

# Inputs, once.
for j in "${jobs[@]}"; do
  case $j in
    p3) python3 bench/gen_customers.py "$p3_rows" > "$work/customers.csv" ;;
    p4) python3 bench/gen_items.py --size-mb "$p4_mb" -o "$work/conversation_items.jsonl" 2> /dev/null ;;
    p5) python3 bench/gen_events.py --count "$p5_events" --start 2026-11-20T00:00:00Z \
          -o "$work/events.jsonl" 2> /dev/null ;;
  esac
done

start_at=2026-11-20T00:00:00Z
end_at=2026-11-21T00:00:00Z
zone=America/Los_Angeles

# A side's working directory, empty but for its input(s) and output folders.
fresh() { # dir
  rm -rf "$1"
  mkdir -p "$1/exports" "$1/reports"
}

# Sets cmd (and stdin) for one side, after putting its input(s) in its directory.
prepare() { # job side dir
  local job=$1 side=$2 dir=$3
  stdin=/dev/null
  case $side/$job in
    runner/p3) cmd=("$runner" apply "$repo/jobs/create-customers.yaml" --dry-run
                    --input "$work/customers.csv" --results "$dir/results.csv") ;;
    runner/p4) cp "$repo/jobs/export-file.yaml" "$dir/"
               cmd=("$runner" -q apply "$dir/export-file.yaml" --sandbox
                    --input "$work/conversation_items.jsonl") ;;
    runner/p5) cp "$repo/jobs/events-wfm.yaml" "$dir/"
               cmd=("$runner" -q apply "$dir/events-wfm.yaml" --input "$work/events.jsonl"
                    --set "startAt=$start_at" --set "endAt=$end_at") ;;
    duckdb/p3) ln -s "$work/customers.csv" "$dir/"
               cmd=("$duck" -no-init -bail) stdin="$repo/bench/duckdb/p3.sql" ;;
    duckdb/p4) ln -s "$work/conversation_items.jsonl" "$dir/"
               cmd=("$duck" -no-init -bail) stdin="$repo/bench/duckdb/p4.sql" ;;
    duckdb/p5) ln -s "$work/events.jsonl" "$dir/"
               cmd=("$duck" -no-init -bail
                    -cmd "SET VARIABLE end_at = '$end_at'; SET VARIABLE tz = '$zone';")
               stdin="$repo/bench/duckdb/p5.sql" ;;
  esac
}

# Seconds from /usr/bin/time's "Elapsed (wall clock)" (h:mm:ss or m:ss.ss).
elapsed() {
  grep 'Elapsed (wall clock)' "$1" | awk '{n = split($NF, p, ":"); s = 0
    for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f\n", s}'
}
peak_mb() {
  grep 'Maximum resident set size' "$1" | awk '{printf "%.0f\n", $NF / 1024}'
}

# Runs one side: once untimed, then $runs timed; sets best_s and best_mb.
measure() { # job side
  local job=$1 side=$2 dir="$work/$1/$2" i s
  best_s='' best_mb=''
  for ((i = 0; i <= runs; i++)); do
    fresh "$dir"
    prepare "$job" "$side" "$dir"
    if ! (cd "$dir" && /usr/bin/time -v -o "$work/time.txt" "${cmd[@]}" < "$stdin" \
            > "$work/out.txt" 2> "$work/err.txt"); then
      echo "$job: $side failed:" >&2
      tail -20 "$work/err.txt" >&2
      exit 1
    fi
    [ "$i" -gt 0 ] || continue
    s=$(elapsed "$work/time.txt")
    if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
      best_s=$s best_mb=$(peak_mb "$work/time.txt")
    fi
  done
}

# The files a job's sides must agree on.
outputs() {
  case $1 in
    p3) echo results.plan.csv results.plan.jsonl ;;
    p4) echo exports/export-conversation_items.csv ;;
    p5) echo reports/events-wfm.csv ;;
  esac
}

# Compares the two sides' files; prints where the first difference is.
compare() { # job
  local job=$1 f a b at line same=identical
  for f in $(outputs "$job"); do
    a="$work/$job/runner/$f" b="$work/$job/duckdb/$f"
    if [ ! -f "$a" ] || [ ! -f "$b" ]; then
      echo "$job: $f missing ($([ -f "$a" ] || echo runner) $([ -f "$b" ] || echo duckdb))" >&2
      same=DIFFER
      continue
    fi
    if ! at=$(cmp "$a" "$b" 2>&1); then
      same=DIFFER
      echo "$job: $f: $at" >&2
      line=$(printf '%s\n' "$at" | sed -n 's/.*line \([0-9]*\).*/\1/p')
      if [ -n "$line" ]; then
        echo "  runner line $line: $(sed -n "${line}{p;q}" "$a" | cut -c1-400)" >&2
        echo "  duckdb line $line: $(sed -n "${line}{p;q}" "$b" | cut -c1-400)" >&2
      fi
    fi
  done
  if [ "$job" = p3 ] && [ -f "$work/p3/runner/results.csv" ]; then
    echo "p3: the runner also wrote results.csv, which p3.sql does not reproduce" >&2
  fi
  echo $same
}

sizes=""
for j in "${jobs[@]}"; do
  case $j in
    p3) sizes+=" p3_rows=$p3_rows" ;;
    p4) sizes+=" p4_mb=$p4_mb" ;;
    p5) sizes+=" p5_events=$p5_events" ;;
  esac
done
echo "runner=$runner duckdb=$duck ($duck_version) cores=$(nproc)$sizes" \
     "runs: 1 untimed + $runs timed, best"
printf '%-4s %9s %9s %8s %10s %10s %8s  %s\n' job runner_s duckdb_s time_x \
       runner_mb duckdb_mb rss_x outputs
load=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$load" 'BEGIN { exit !(l > 0.5) }' &&
  echo "note: load average $load before the runs: other work is running, figures are noisy" >&2
status=0
for job in "${jobs[@]}"; do
  measure "$job" runner
  r_s=$best_s r_mb=$best_mb
  measure "$job" duckdb
  d_s=$best_s d_mb=$best_mb
  same=$(compare "$job")
  [ "$same" = identical ] || status=1
  printf '%-4s %9s %9s %8s %10s %10s %8s  outputs=%s\n' "$job" "$r_s" "$d_s" \
    "$(awk -v a="$r_s" -v b="$d_s" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" "$r_mb" "$d_mb" \
    "$(awk -v a="$r_mb" -v b="$d_mb" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" "$same"
done
exit $status
