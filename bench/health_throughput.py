"""What does ``--health`` cost ``wscli validate``, and how much memory do many sources take?

Usage::

    python bench/health_throughput.py [--messages N] [--sources-messages N]
                                      [--sources K] [--rounds R] [--json FILE]

Generates, in a temporary folder and with a fixed seed:

- a wscli recording of N messages (default 1,000,000) from ``wscli.server.simulator`` on a
  simulated clock, 10 messages a second, received 50 ms after stamping (receive times
  in the recording, so every health check runs, clock skew included);
- JSON Lines of M readings (default 1,000,000) spread over K sources (default
  100,000), each source reporting every K messages, 10,000 messages a second.

Then, in one run, each as a subprocess of the installed entry point under a wrapper
that reports the child's peak RSS (``ru_maxrss``):

- ``wscli validate REC -q`` and ``wscli validate REC -q --health``, alternating,
  ``--rounds`` times; throughput is messages per CPU second of the process (user +
  system, interpreter start included), the median of the rounds: on a shared
  machine wall time swings with the neighbours, CPU time much less (wall is shown
  too); goal: health >= 0.75x plain throughput;
- ``wscli validate SOURCES.jsonl -q --health``: peak RSS; goal: < 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchlib import clean_env, find_wscli

SEED = 20240115
RATIO_GOAL = 0.75
RSS_GOAL_MB = 200.0

WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": proc.returncode, "elapsed": elapsed, "maxrss_kib": usage.ru_maxrss,
                  "cpu": usage.ru_utime + usage.ru_stime,
                  "stdout": proc.stdout.decode("utf-8", "replace")[-2000:],
                  "stderr": proc.stderr.decode("utf-8", "replace")[-2000:]}))
"""


def write_recording(path: Path, messages: int) -> None:
    from wscli.server.simulator import Simulator

    start = datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)
    clock = [start]
    sim = Simulator(SEED, now=lambda: clock[0])
    step = timedelta(seconds=0.1)
    with path.open("w", encoding="utf-8") as out:
        header = {
            "wscli": "recording",
            "version": 1,
            "url": "ws://bench/",
            "started": "2024-01-15T12:00:00.000Z",
        }
        out.write(json.dumps(header) + "\n")
        for i in range(messages):
            text = json.dumps(sim.next_message(), ensure_ascii=False)
            record = {
                "t": round(i * 0.1 + 0.05, 6),
                "dir": "in",
                "op": "text",
                "len": len(text),
                "text": text,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            clock[0] += step


def write_many_sources(path: Path, messages: int, sources: int) -> None:
    """Readings from ``sources`` sensors in turn, 10,000 a second, plausible and in order.

    At 100,000 sources each reports every 10 s: fresh under the 60 s staleness default.
    """
    base = datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)
    with path.open("w", encoding="utf-8") as out:
        for i in range(messages):
            moment = base + timedelta(microseconds=100 * i)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            sensor = i % sources + 1
            value = 20.0 + (i // sources) % 7 * 0.1
            data = {
                "id": i + 1,
                "sensor_id": sensor,
                "type": "temperature",
                "location": f"room_{sensor % 50}",
                "value": round(value, 1),
                "unit": "°C",
                "confidence": 0.9,
                "timestamp": stamp,
                "created_at": stamp,
            }
            out.write(json.dumps({"type": "sensor_reading", "data": data}) + "\n")


def run(command: list[str], timeout: float) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(),
    )
    return dict(json.loads(proc.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--sources-messages", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--json", dest="json_file")
    args = parser.parse_args()
    wscli = find_wscli()
    results: dict[str, Any] = {"messages": args.messages, "sources": args.sources}
    with tempfile.TemporaryDirectory(prefix="wscli-health-bench-") as tmp:
        folder = Path(tmp)
        rec = folder / "stream.rec"
        many = folder / "sources.jsonl"
        began = time.perf_counter()
        write_recording(rec, args.messages)
        write_many_sources(many, args.sources_messages, args.sources)
        print(
            f"generated {args.messages:,} + {args.sources_messages:,} messages in"
            f" {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        times: dict[str, list[float]] = {"plain": [], "health": []}
        for round_ in range(args.rounds):
            order = ["plain", "health"] if round_ % 2 == 0 else ["health", "plain"]
            for name in order:
                extra = ["--health"] if name == "health" else []
                out = run([*wscli, "validate", str(rec), "-q", *extra], args.timeout)
                if out["rc"] != 0:
                    print(f"FAILED: {name} exited {out['rc']}: {out['stdout']}{out['stderr']}")
                    return 1
                times[name].append(out["cpu"])
                print(
                    f"  {name:<7} {out['cpu']:6.2f} s CPU  {out['elapsed']:6.2f} s wall"
                    f"  {out['maxrss_kib'] / 1024:6.1f} MB",
                    flush=True,
                )
        plain, health = statistics.median(times["plain"]), statistics.median(times["health"])
        ratio = plain / health
        rates = {name: args.messages / statistics.median(t) for name, t in times.items()}
        sources = run([*wscli, "validate", str(many), "-q", "--health"], args.timeout)
        peak_mb = sources["maxrss_kib"] / 1024
        ok_sources = sources["rc"] == 0 and f"{args.sources} sources" in sources["stdout"]
    print(f"validate         {rates['plain']:>10,.0f} msg/s  per CPU s (median of {args.rounds})")
    print(f"validate --health {rates['health']:>9,.0f} msg/s  ratio {ratio:.2f}x")
    said = sources["stdout"].strip().splitlines() or [sources["stderr"].strip()]
    print(
        f"{args.sources_messages:,} messages over {args.sources:,} sources:"
        f" peak RSS {peak_mb:.0f} MB ({said[-1]})"
    )
    verdicts = [
        (f"validate --health >= {RATIO_GOAL}x plain validate", ratio >= RATIO_GOAL),
        (
            f"{args.sources:,} sources under {RSS_GOAL_MB:.0f} MB peak RSS",
            peak_mb < RSS_GOAL_MB and ok_sources,
        ),
    ]
    for text, ok in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")
    results.update(
        plain_s=times["plain"],
        health_s=times["health"],
        ratio=ratio,
        rates=rates,
        sources_peak_mb=peak_mb,
        sources_rc=sources["rc"],
    )
    if args.json_file:
        Path(args.json_file).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_file).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
