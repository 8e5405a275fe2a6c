"""What ``wscli tap`` adds per frame on loopback: round trips with and without it.

A plain ``websockets`` echo server runs as its own process; ``wscli tap -q`` runs in
front of it as another. The benchmark (a third process) does N sequential round
trips (send one message, wait for its echo) straight to the server, then N through
the tap, alternating rounds. Each round trip crosses the tap twice (client to
server, server to client), so the tap's cost per frame is half the difference of
the round-trip times at the same percentile. The target (issue #20): at most 1 ms
per frame at p99. Every process has a timeout; a round that loses a message fails.

    python bench/tap_latency.py [--messages 2000] [--rounds 3] [--size 300] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import clean_env, find_wscli  # noqa: E402

ECHO_SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve
async def echo(ws):
    async for message in ws:
        await ws.send(message)
async def main():
    async with serve(echo, "127.0.0.1", int(sys.argv[1]), compression=None):
        await asyncio.sleep(float(sys.argv[2]))
asyncio.run(main())
"""

TARGET_MS = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port} after {timeout} s")


def round_trips(url: str, messages: int, size: int) -> list[float]:
    """Seconds per round trip, each message distinct so a lost or reordered one fails."""
    from websockets.sync.client import connect

    times: list[float] = []
    with connect(url, compression=None, open_timeout=10) as ws:
        for i in range(50):  # warm up both hops
            ws.send(f"warm {i}")
            ws.recv(timeout=10)
        for i in range(messages):
            payload = f"{i:08d}" + "x" * max(0, size - 8)
            began = time.perf_counter()
            ws.send(payload)
            echoed = ws.recv(timeout=10)
            times.append(time.perf_counter() - began)
            if echoed != payload:
                raise SystemExit(f"round trip {i}: got a different message back")
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    server_port = free_port()
    lifetime = 60 + args.rounds * args.messages * 0.01
    server = subprocess.Popen(
        [sys.executable, "-c", ECHO_SERVER, str(server_port), str(lifetime)], env=clean_env()
    )
    with tempfile.TemporaryDirectory() as folder:
        port_file = Path(folder) / "tap.port"
        tap = subprocess.Popen(
            [
                *find_wscli(),
                "tap",
                "-q",
                "--listen",
                "127.0.0.1:0",
                "--port-file",
                str(port_file),
                "--to",
                f"ws://127.0.0.1:{server_port}",
                "--duration",
                str(lifetime),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=clean_env(),
        )
        try:
            wait_for_port(server_port)
            deadline = time.monotonic() + 15
            while not port_file.exists() or not port_file.read_text().strip():
                if time.monotonic() > deadline or tap.poll() is not None:
                    raise SystemExit("wscli tap did not start")
                time.sleep(0.05)
            tap_port = int(port_file.read_text())
            direct: list[float] = []
            through: list[float] = []
            for r in range(args.rounds):
                order = [("direct", server_port), ("tap", tap_port)]
                for name, port in order if r % 2 == 0 else order[::-1]:
                    got = round_trips(f"ws://127.0.0.1:{port}/bench", args.messages, args.size)
                    (direct if name == "direct" else through).extend(got)
        finally:
            for proc in (tap, server):
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    rows = {}
    for q, label in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
        d, t = percentile(direct, q) * 1000, percentile(through, q) * 1000
        rows[label] = {"direct_rtt_ms": d, "tap_rtt_ms": t, "per_frame_ms": (t - d) / 2}
    print(f"{args.rounds} rounds x {args.messages} round trips of {args.size} B each way")
    print(f"{'':5} {'direct RTT':>11} {'tap RTT':>9} {'tap per frame':>14}")
    for label, row in rows.items():
        print(
            f"{label:5} {row['direct_rtt_ms']:9.3f} ms {row['tap_rtt_ms']:6.3f} ms"
            f" {row['per_frame_ms']:11.3f} ms"
        )
    mean_added = (statistics.mean(through) - statistics.mean(direct)) / 2 * 1000
    ok = rows["p99"]["per_frame_ms"] <= TARGET_MS
    verdict = "OK" if ok else "FAILED"
    print(f"{verdict}: tap adds {rows['p99']['per_frame_ms']:.3f} ms per frame at p99")
    print(f"(target <= {TARGET_MS} ms; mean {mean_added:.3f} ms)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": rows, "ok": ok, "mean_added_ms": mean_added}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
