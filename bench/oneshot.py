"""``wscli tail -n 1`` end to end next to a bare websocket-client one-shot.

Usage::

    python bench/oneshot.py [--repeat 15] [--json FILE]

Each run is a whole process against a fresh loopback sender (``tail_throughput.py``'s,
one message then a close): start the interpreter, import, connect, upgrade, read the
first message, print it, close, exit. Contenders, round-robin (forward, reversed,
...) after one warm-up each:

- ``bare``: ``python -c`` with ``websocket.create_connection(url)``, ``recv()``,
  ``print``, ``close()``: what any Python one-shot costs;
- ``wscli``: ``wscli tail URL -n 1 -o jsonl``.

Printed: median and minimum wall time and CPU time (user + system) of each, and
the ratio. Target (issue #21): wscli <= 1.3x bare. Then the modules wscli has
loaded when its first message arrives that the bare one-shot never loads: the
candidates for a lazy import.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import clean_env, find_wscli
from tail_throughput import OneShotSender, encode_frames, make_messages

TARGET = 1.3
BARE = "import websocket\nws = websocket.create_connection({url!r})\nprint(ws.recv())\nws.close()\n"
# Which modules are loaded when the first message is printed (the process then exits).
LOADED = (
    "import sys, runpy\n"
    "import wscli.output as output\n"
    "original = output.Output.write\n"
    "def spy(self, *args, **kwargs):\n"
    "    print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    "    output.Output.write = original\n"
    "    return original(self, *args, **kwargs)\n"
    "output.Output.write = spy\n"
    "sys.argv = ['wscli', 'tail', {url!r}, '-n', '1', '-o', 'jsonl']\n"
    "runpy.run_module('wscli', run_name='__main__')\n"
)
BARE_LOADED = BARE + "import sys\nprint(' '.join(sorted(sys.modules)), file=sys.stderr)\n"


def timed(argv: list[str], stream: bytes) -> tuple[float, float, str]:
    """Wall and CPU seconds of one process against a fresh sender; its stderr."""
    sender = OneShotSender(stream, 30.0)
    argv = [arg.replace("{url}", sender.url) for arg in argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=clean_env(), timeout=60, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sender.wait()
    if proc.returncode != 0 or b"sensor_reading" not in proc.stdout:
        raise RuntimeError(f"{argv[:3]} failed: {proc.stderr.decode(errors='replace')[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stderr.decode(errors="replace")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", dest="json_file")
    args = parser.parse_args(argv)
    stream = encode_frames(make_messages(1))
    py = sys.executable
    contenders = {
        "bare": [py, "-c", BARE.replace("{url!r}", "'{url}'")],
        "wscli": [*find_wscli(), "tail", "{url}", "-n", "1", "-o", "jsonl"],
    }
    walls: dict[str, list[float]] = {name: [] for name in contenders}
    cpus: dict[str, list[float]] = {name: [] for name in contenders}
    for command in contenders.values():
        timed(command, stream)  # warm-up: page cache, __pycache__
    for rnd in range(args.repeat):
        order = list(contenders.items())
        for name, command in order if rnd % 2 == 0 else order[::-1]:
            wall, cpu, _ = timed(command, stream)
            walls[name].append(wall)
            cpus[name].append(cpu)
    print(f"median of {args.repeat} rounds (round-robin), one message each")
    print(f"{'contender':<8} {'wall ms':>8} {'min':>7} {'cpu ms':>8} {'min':>7}")
    for name in contenders:
        print(
            f"{name:<8} {statistics.median(walls[name]) * 1000:8.1f} {min(walls[name]) * 1000:7.1f}"
            f" {statistics.median(cpus[name]) * 1000:8.1f} {min(cpus[name]) * 1000:7.1f}"
        )
    wall_ratio = statistics.median(walls["wscli"]) / statistics.median(walls["bare"])
    cpu_ratio = statistics.median(cpus["wscli"]) / statistics.median(cpus["bare"])
    verdict = "PASS" if wall_ratio <= TARGET else "FAIL"
    print(f"{verdict}  tail -n 1 <= {TARGET}x a bare one-shot: {wall_ratio:.2f}x wall"
          f" ({cpu_ratio:.2f}x CPU)")  # fmt: skip

    _, _, bare_seen = timed([py, "-c", BARE_LOADED.replace("{url!r}", "'{url}'")], stream)
    _, _, wscli_seen = timed([py, "-c", LOADED.replace("{url!r}", "'{url}'")], stream)
    bare_modules = set(bare_seen.split())
    extra = sorted(
        m for m in set(wscli_seen.split()) - bare_modules if not m.startswith(("wscli", "_"))
    )
    print(f"\nloaded by wscli at its first message, never by the bare one-shot ({len(extra)}):")
    print("  " + " ".join(extra))
    if args.json_file:
        report = {"walls_s": walls, "cpus_s": cpus, "wall_ratio": wall_ratio,
                  "cpu_ratio": cpu_ratio, "extra_modules": extra}  # fmt: skip
        Path(args.json_file).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
