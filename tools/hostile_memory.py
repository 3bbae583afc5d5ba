#!/usr/bin/env python3
"""Peak memory and time of every case of tests/fixtures/hostile/, with the release binary.

    cargo build --release --locked
    python3 tools/hostile_memory.py [--limit-mb 256] [--timeout 60]

Each case is laid out in a temporary folder as the integration test lays it out (its files,
then its `make` directives), run once, and measured with wait4 (the child's own peak
resident set). Prints one line per case, heaviest first, and exits 1 when a case goes over
the memory limit, runs past the timeout, or dies of a signal.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(REPO, "tests/fixtures/hostile")
BINARY = os.path.join(REPO, "target/release/runner")


def lay_out(case, folder):
    for name in os.listdir(case):
        if name not in ("args", "make", "expect"):
            shutil.copy(os.path.join(case, name), os.path.join(folder, name))
    make = os.path.join(case, "make")
    if not os.path.exists(make):
        return
    for line in open(make).read().splitlines():
        if not line:
            continue
        parts = line.split(" ", 3)
        what, a = parts[0], os.path.join(folder, parts[1])
        if what == "fifo":
            os.mkfifo(a)
        elif what == "dir":
            os.makedirs(a, exist_ok=True)
        elif what == "hardlink":
            os.link(a, os.path.join(folder, parts[2]))
        elif what == "symlink":
            os.symlink(parts[1], os.path.join(folder, parts[2]))
        elif what in ("repeat", "repeat-append"):
            text = (parts[3] if len(parts) > 3 else "").replace("\\n", "\n")
            with open(a, "ab" if what == "repeat-append" else "wb") as f:
                f.write(text.encode() * int(parts[2]))
        else:
            raise SystemExit(f"unknown make directive {what}")


def run(case, timeout):
    args = open(os.path.join(case, "args")).read().splitlines()
    with tempfile.TemporaryDirectory() as folder:
        lay_out(case, folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLADLY_")}
        started = time.monotonic()
        child = subprocess.Popen([BINARY, *args], cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                return None, usage.ru_maxrss / 1024, time.monotonic() - started
            time.sleep(0.005)
        seconds = time.monotonic() - started
        code = os.waitstatus_to_exitcode(status)
        return code, usage.ru_maxrss / 1024, seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit-mb", type=float, default=256)
    parser.add_argument("--timeout", type=float, default=60)
    options = parser.parse_args()
    if not os.path.exists(BINARY):
        raise SystemExit("build first: cargo build --release --locked")
    rows, bad = [], 0
    for name in sorted(os.listdir(CORPUS)):
        case = os.path.join(CORPUS, name)
        if not os.path.isdir(case):
            continue
        code, mb, seconds = run(case, options.timeout)
        problem = ""
        if code is None:
            problem = "HANG"
        elif code < 0:
            problem = f"SIGNAL {signal.Signals(-code).name}"
        elif mb > options.limit_mb:
            problem = "OVER LIMIT"
        bad += bool(problem)
        rows.append((mb, seconds, name, code, problem))
    rows.sort(reverse=True)
    print(f"{'case':44} {'exit':>4} {'peak MB':>8} {'seconds':>8}")
    for mb, seconds, name, code, problem in rows:
        print(f"{name:44} {str(code):>4} {mb:8.1f} {seconds:8.2f} {problem}")
    print(f"\n{len(rows)} cases; heaviest {rows[0][0]:.1f} MB ({rows[0][2]}); "
          f"slowest {max(r[1] for r in rows):.2f} s; {bad} over the limits")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
