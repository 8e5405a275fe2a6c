"""How faithfully does ``wscli replay --serve`` keep a recording's timing?

Usage::

    python bench/replay_timing.py [--messages 1000] [--max-gap-ms 50] [--seed 9]
                                  [--speed 1] [--clients 1] [--json FILE]

Writes a recording of N sensor_reading frames whose gaps are drawn uniformly
between 0 and ``--max-gap-ms`` (seeded), starts ``wscli replay REC --serve 0 -q``
as a subprocess, and connects ``--clients`` websocket-client readers at once.
Each reader stamps every frame with ``time.monotonic()`` as ``recv()`` returns it;
the error of gap i is (actual gap - recorded gap / speed). Printed: p50 and p99 of
that error and of its absolute value, the worst one, and the drift of the whole
run (actual span - recorded span / speed). Target: p99 of the error <= 5 ms.

A run that did not deliver exactly N frames in order is FAILED, never a number.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchlib import clean_env, find_wscli

TARGET_P99_MS = 5.0


def write_recording(path: Path, messages: int, max_gap: float, seed: int) -> list[float]:
    """A recording with random gaps; returns the recorded times."""
    rng = random.Random(seed)
    t = 0.05
    times = []
    with path.open("w") as out:
        header = {"wscli": "recording", "version": 1, "url": "ws://bench/", "started": "now"}
        out.write(json.dumps(header) + "\n")
        for n in range(messages):
            text = json.dumps(
                {
                    "type": "sensor_reading",
                    "data": {"id": n, "sensor_id": n % 8, "value": round(rng.uniform(0, 100), 2)},
                }
            )
            frame = {"t": round(t, 6), "dir": "in", "op": "text", "len": len(text), "text": text}
            out.write(json.dumps(frame) + "\n")
            times.append(round(t, 6))
            t += rng.uniform(0, max_gap)
    return times


def start_server(recording: Path, speed: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*find_wscli(), "replay", str(recording), "--serve", "0", "-q", "--speed", str(speed)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert proc.stderr is not None
    ready, _, _ = select.select([proc.stderr], [], [], 30)
    if not ready:
        proc.kill()
        raise SystemExit("replay --serve did not start within 30 s")
    line = proc.stderr.readline()
    return proc, line.split(" at ")[1].split(" ")[0]


def read_all(url: str, expected: int, out: list[Any]) -> None:
    import websocket

    ws = websocket.create_connection(url, timeout=30, skip_utf8_validation=True)
    stamps: list[float] = []
    ids: list[int] = []
    try:
        while True:
            opcode, data = ws.recv_data()
            now = time.monotonic()
            if opcode != 1:
                break
            stamps.append(now)
            ids.append(json.loads(data)["data"]["id"])
    except websocket.WebSocketConnectionClosedException:
        pass
    finally:
        ws.close()
    out.append((stamps, ids == list(range(expected))))


def sleep_lateness(max_gap: float, seed: int, waits: int = 300) -> list[float]:
    """The floor: how late a bare ``time.sleep`` loop wakes on this machine right now (ms)."""
    rng = random.Random(seed)
    late = []
    start = time.monotonic()
    t = 0.0
    for _ in range(waits):
        t += rng.uniform(0, max_gap)
        due = start + t
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        late.append((time.monotonic() - due) * 1000)
    return late


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--max-gap-ms", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--json", dest="json_file")
    args = parser.parse_args()

    floor = sleep_lateness(args.max_gap_ms / 1000, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        recording = Path(folder) / "bench.jsonl"
        recorded = write_recording(recording, args.messages, args.max_gap_ms / 1000, args.seed)
        proc, url = start_server(recording, args.speed)
        try:
            results: list[Any] = []
            readers = [
                threading.Thread(target=read_all, args=(url, args.messages, results))
                for _ in range(args.clients)
            ]
            for reader in readers:
                reader.start()
            for reader in readers:
                reader.join(args.messages * args.max_gap_ms / 1000 / args.speed + 60)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    wanted = [r - recorded[0] for r in recorded]
    errors_ms: list[float] = []
    drifts_ms: list[float] = []
    for stamps, in_order in results:
        if len(stamps) != args.messages or not in_order:
            print(
                f"FAILED: a client got {len(stamps)} of {args.messages} frames"
                f" (in order: {in_order})"
            )
            return 1
        for i in range(1, args.messages):
            actual = stamps[i] - stamps[i - 1]
            target = (wanted[i] - wanted[i - 1]) / args.speed
            errors_ms.append((actual - target) * 1000)
        drifts_ms.append(((stamps[-1] - stamps[0]) - wanted[-1] / args.speed) * 1000)
    if len(results) != args.clients:
        print(f"FAILED: {len(results)} of {args.clients} clients finished")
        return 1
    absolute = [abs(e) for e in errors_ms]
    report = {
        "messages": args.messages,
        "clients": args.clients,
        "speed": args.speed,
        "max_gap_ms": args.max_gap_ms,
        "python": sys.version.split()[0],
        "gap_error_ms": {
            "p50": round(percentile(errors_ms, 50), 3),
            "p99": round(percentile(errors_ms, 99), 3),
            "worst": round(max(errors_ms, key=abs), 3),
        },
        "abs_gap_error_ms": {
            "p50": round(percentile(absolute, 50), 3),
            "p99": round(percentile(absolute, 99), 3),
        },
        "gaps_off_by_over_5ms": sum(1 for e in absolute if e > 5.0),
        "drift_ms": [round(d, 2) for d in drifts_ms],
        "sleep_lateness_ms": {
            "p50": round(percentile(floor, 50), 3),
            "p99": round(percentile(floor, 99), 3),
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(report, indent=2))
    p99 = report["gap_error_ms"]["p99"]
    verdict = "PASS" if p99 <= TARGET_P99_MS else "FAIL"
    print(
        f"{verdict}: p99 of (actual gap - recorded gap) = {p99:.2f} ms"
        f" (target <= {TARGET_P99_MS} ms)"
    )
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(report, indent=2) + "\n")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
