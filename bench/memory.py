"""Peak memory of long runs: 1M messages through ``tail``, ``tail --record --validate``
and ``validate``, each under 60 MB of peak RSS (issue #21).

Usage::

    python bench/memory.py [--messages 1000000] [--small 100000] [--limit-mb 60] [--json FILE]

Each command runs twice, on ``--small`` messages and on ``--messages``, so flat
memory shows as the same peak for both sizes, not only as a number under the limit.
``tail`` reads a loopback sender (``tail_throughput.py``'s) that sends a block of
10,000 distinct messages over and over, stdout to a file; ``validate`` checks a
JSON Lines file holding the same messages. Peak RSS is each process's own
``ru_maxrss`` from ``wait4``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import clean_env, find_wscli
from tail_throughput import OneShotSender, encode_frames, make_messages

BLOCK = 10_000


# A small process between the bench and the measured one: Linux counts in a child's
# peak RSS the pages of the process it was forked from (this bench holds the
# messages), so the measured command is spawned from this near-empty interpreter,
# which writes the command's exit status and its own peak (wait4) to argv[1].
WRAPPER = """
import json, os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss}, out)
"""


def run(argv: list[str], cwd: Path, stdout: Path, timeout: float) -> dict[str, Any]:
    """Run one process to its end: exit status, wall time, peak RSS (MiB)."""
    report = cwd / "rusage.json"
    started = time.perf_counter()
    with open(stdout, "wb") as out:
        proc = subprocess.run(
            [sys.executable, "-c", WRAPPER, str(report), *argv], stdout=out,
            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=clean_env(), cwd=cwd,
            timeout=timeout, check=False,
        )  # fmt: skip
    measured = json.loads(report.read_text())
    return {
        "rc": measured["rc"],
        "seconds": round(time.perf_counter() - started, 2),
        "peak_mib": round(measured["maxrss_kib"] / 1024, 1),  # KiB on Linux
        "stderr": proc.stderr.decode(errors="replace")[-300:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--limit-mb", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--json", dest="json_file")
    args = parser.parse_args(argv)
    if args.messages % BLOCK or args.small % BLOCK:
        parser.error(f"--messages and --small must be multiples of {BLOCK:,}")
    block = make_messages(BLOCK)
    frames = encode_frames(block)
    wscli = find_wscli()
    results: dict[str, dict[str, Any]] = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="wscli-memory-") as tmpdir:
        tmp = Path(tmpdir)
        for n in (args.small, args.messages):
            lines = tmp / f"messages-{n}.jsonl"
            with open(lines, "wb") as handle:
                chunk = b"".join(m + b"\n" for m in block)
                for _ in range(n // BLOCK):
                    handle.write(chunk)
            commands = {
                "tail": ["tail", "{url}", "-o", "jsonl", "--no-reconnect"],
                "tail --record --validate": [
                    "tail", "{url}", "-o", "jsonl", "--no-reconnect", "--validate",
                    "--record", "rec.jsonl",
                ],
                "validate": ["validate", str(lines), "-q"],
            }  # fmt: skip
            for name, command in commands.items():
                sender = None
                if "{url}" in command:
                    sender = OneShotSender(frames, args.timeout, repeat=n // BLOCK)
                    command = [arg.replace("{url}", sender.url) for arg in command]
                result = run([*wscli, *command], tmp, tmp / "stdout", args.timeout)
                if sender is not None:
                    sender.wait()
                printed = (tmp / "stdout").stat().st_size
                (tmp / "stdout").unlink()
                (tmp / "rec.jsonl").unlink(missing_ok=True)
                ok = result["rc"] == 0 and (name == "validate" or printed == lines.stat().st_size)
                result["ok"] = ok
                results[f"{name} ({n:,})"] = result
                verdict = "ok" if ok else f"FAILED (exit {result['rc']}): {result['stderr']}"
                print(f"  {name:<26} {n:>9,} messages  peak {result['peak_mib']:6.1f} MiB"
                      f"  {result['seconds']:6.1f} s  {verdict}", flush=True)  # fmt: skip
                failed = failed or not ok
            lines.unlink()
    print()
    for name in ("tail", "tail --record --validate", "validate"):
        small = results[f"{name} ({args.small:,})"]["peak_mib"]
        big = results[f"{name} ({args.messages:,})"]["peak_mib"]
        within = big <= args.limit_mb * 1e6 / 2**20
        verdict = "PASS" if within else "FAIL"
        print(f"{verdict}  {name}: {big:.1f} MiB peak for {args.messages:,} messages"
              f" ({small:.1f} MiB for {args.small:,}); limit {args.limit_mb:g} MB")  # fmt: skip
        failed = failed or not within
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
