"""What does ``wscli probe`` cost next to the same connection made by ``wscli tail -n 1``?

Usage::

    python bench/probe_overhead.py [--repeat N] [--json FILE]

Starts ``wscli serve --port 0`` once, then times, round-robin so drift on the machine
hits both alike, ``wscli probe URL -q`` (resolve, TCP, upgrade, first message, ping,
then a clean close) and ``wscli tail URL -n 1 -o jsonl`` (connect, upgrade, first
message, close): whole process wall time, interpreter start and imports included, as
a user or a CI job sees it. Prints the medians and the ratio. Target: probe <= 1.3x
tail. A run that exits non-zero or times out fails the benchmark, never a number.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import clean_env, find_wscli

DEFAULT_REPEAT = 15
TIMEOUT = 30.0
TARGET_RATIO = 1.3


def start_server(wscli: list[str]) -> tuple[subprocess.Popen[str], str]:
    """``wscli serve --port 0``; the URL is read from its ready line on stderr."""
    proc = subprocess.Popen(
        [*wscli, "serve", "--port", "0", "--rate", "50", "--quiet"],
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + TIMEOUT
    line = ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith("serving "):
            return proc, line.split()[1]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"wscli serve did not start: {line.strip() or 'no output'}")


def run_timed(argv: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=clean_env(), stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {tail[0]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    wscli = find_wscli()
    server, url = start_server(wscli)
    contenders = {
        "probe": [*wscli, "probe", url, "-q"],
        "tail -n 1": [*wscli, "tail", url, "-n", "1", "-o", "jsonl"],
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for argv in contenders.values():  # warm-up: page cache, .pyc files
            run_timed(argv)
        for round_no in range(args.repeat):
            order = list(contenders.items())
            if round_no % 2:
                order.reverse()
            for name, argv in order:
                times[name].append(run_timed(argv))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["probe"] / medians["tail -n 1"]
    print(f"wscli probe overhead: {args.repeat} rounds, {platform.python_version()}")
    print(f"{'contender':<12} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, values in times.items():
        print(f"{name:<12} {medians[name]:>9.3f} {min(values):>7.3f} {max(values):>7.3f}")
    verdict = "OK" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(f"probe / tail -n 1 = {ratio:.2f}x (target <= {TARGET_RATIO}x): {verdict}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {"repeat": args.repeat, "medians_s": medians, "ratio": ratio, "times": times}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
