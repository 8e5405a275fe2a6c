"""How fast does ``wscli validate`` check a large recording, next to a bare jsonschema loop?

Usage::

    python bench/validate_throughput.py [--messages N] [--small N] [--rounds R]
                                        [--invalid-rate P] [--json FILE]

Generates, in a temporary folder and with a fixed seed, a wscli recording of N
messages (default 200,000) drawn from ``wscli.server.simulator`` with a small share of
schema-invalid ones, the same messages as plain JSON Lines, and a smaller
recording (default 50,000) to show that memory does not grow with the file. Then,
in one run:

- ``wscli validate FILE -q`` as a subprocess (the installed entry point), on each
  file, ``--rounds`` times, median wall time (interpreter start-up included);
- ``wscli validate FILE > /dev/null``: the full text report, every failure explained;
- the **bare loop**: a subprocess that reads the same recording line by line,
  ``json.loads`` the frame and its payload, and runs the compiled jsonschema
  validator (same schema, ``FormatChecker`` on) with ``iter_errors`` on every
  message. That is what a straightforward validator costs.

Each wscli process runs under a tiny wrapper that reports
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, so each peak RSS belongs to one
process only. The invalid counts of wscli and the bare loop must agree, or the run
is marked FAILED. Targets (issue #3): >= 100,000 msg/s on the big recording, >= 10x
the bare loop, and peak RSS of the big file within 10% (+5 MiB) of the small one's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import clean_env, find_wscli

DEFAULT_MESSAGES = 200_000
DEFAULT_SMALL = 50_000
DEFAULT_ROUNDS = 3
DEFAULT_INVALID_RATE = 0.01
DEFAULT_TIMEOUT = 600.0
SEED = 20240115

# Runs one command and prints its exit status and peak RSS (KiB on Linux) as JSON.
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": proc.returncode, "elapsed": elapsed, "maxrss_kib": usage.ru_maxrss,
                  "stdout": proc.stdout.decode("utf-8", "replace")[-4000:],
                  "stderr": proc.stderr.decode("utf-8", "replace")[-4000:]}))
"""

# The bare loop: what validating with jsonschema alone costs (same file, same schema).
BARE = """
import json, sys, time
from jsonschema import Draft202012Validator, FormatChecker
schema = json.load(open(sys.argv[1], encoding="utf-8"))
validator = Draft202012Validator(schema, format_checker=FormatChecker())
messages = invalid = 0
limit = int(sys.argv[3])
with open(sys.argv[2], encoding="utf-8") as handle:
    for line in handle:
        record = json.loads(line)
        if record.get("dir") != "in" or record.get("op") != "text":
            continue
        message = json.loads(record["text"])
        messages += 1
        errors = list(validator.iter_errors(message))
        if errors:
            invalid += 1
        if messages == limit:
            break
print(json.dumps({"messages": messages, "invalid": invalid}))
"""


def make_files(folder: Path, messages: int, small: int, invalid_rate: float) -> dict[str, Path]:
    """The big recording, the same messages as JSON Lines, and a small recording."""
    from wscli.frames import OP_TEXT
    from wscli.recording import RecordingWriter
    from wscli.server.simulator import Simulator

    def payloads(count: int, seed: int) -> list[bytes]:
        sim = Simulator(seed)
        rng = random.Random(seed)
        out = []
        for _ in range(count):
            message = sim.invalid() if rng.random() < invalid_rate else sim.next_message()
            out.append(json.dumps(message, ensure_ascii=False).encode("utf-8"))
        return out

    files = {
        "big": folder / f"recording-{messages}.jsonl",
        "jsonl": folder / f"messages-{messages}.jsonl",
        "small": folder / f"recording-{small}.jsonl",
    }
    for key, count in (("big", messages), ("small", small)):
        writer = RecordingWriter(files[key], "ws://127.0.0.1:8000/api/ws/sensor/stream")
        data = payloads(count, SEED)
        for payload in data:
            writer.frame("in", OP_TEXT, payload)
        writer.close()
        if key == "big":
            with open(files["jsonl"], "wb") as handle:
                handle.writelines(p + b"\n" for p in data)
    return files


def run_wrapped(argv: list[str], timeout: float) -> dict[str, Any]:
    """One process under the RSS wrapper; returns rc, elapsed, maxrss_kib, stdout, stderr."""
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"wrapper failed: {proc.stderr.strip()}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def parse_summary(text: str) -> dict[str, int]:
    """Counts from wscli's summary line: ``FAILED: 200000 messages: 197975 valid, ...``."""
    counts: dict[str, int] = {}
    found = re.search(r"(\d+) messages?", text)
    if found:
        counts["messages"] = int(found.group(1))
    for key in ("valid", "invalid", "malformed"):
        found = re.search(rf"(\d+) {key}", text)
        if found:
            counts[key] = int(found.group(1))
    if "all valid" in text:
        counts.update(valid=counts.get("messages", 0), invalid=0, malformed=0)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument("--small", type=int, default=DEFAULT_SMALL, help="the memory check file")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--invalid-rate", type=float, default=DEFAULT_INVALID_RATE)
    parser.add_argument(
        "--bare-messages",
        type=int,
        default=0,
        help="time the bare loop on the first N messages only (default: all)",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per run, seconds")
    parser.add_argument("--json", dest="json_file", help="write the results as JSON here")
    args = parser.parse_args(argv)

    wscli = find_wscli()
    from wscli.checks.schema import builtin_schema_path

    schema_path = str(builtin_schema_path())
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"wscli: {' '.join(wscli)}")
    with tempfile.TemporaryDirectory(prefix="wscli-bench-") as tmp:
        started = time.perf_counter()
        files = make_files(Path(tmp), args.messages, args.small, args.invalid_rate)
        sizes = {k: p.stat().st_size for k, p in files.items()}
        print(
            f"generated {args.messages:,} + {args.small:,} messages in"
            f" {time.perf_counter() - started:.1f} s: big recording"
            f" {sizes['big'] / 2**20:.1f} MiB, invalid share {args.invalid_rate:.1%}\n"
        )
        runs: dict[str, list[dict[str, Any]]] = {}
        contenders = [
            ("wscli -q recording", [*wscli, "validate", str(files["big"]), "-q"], args.messages),
            ("wscli -q jsonl", [*wscli, "validate", str(files["jsonl"]), "-q"], args.messages),
            ("wscli -q small", [*wscli, "validate", str(files["small"]), "-q"], args.small),
            ("wscli text report", [*wscli, "validate", str(files["big"])], args.messages),
        ]
        for round_number in range(args.rounds):
            order = contenders if round_number % 2 == 0 else contenders[::-1]
            for name, argv_, _count in order:
                runs.setdefault(name, []).append(run_wrapped(argv_, args.timeout))
        bare_limit = args.bare_messages or args.messages
        bare_argv = [sys.executable, "-c", BARE, schema_path, str(files["big"]), str(bare_limit)]
        bare = run_wrapped(bare_argv, args.timeout)
        bare_counts = json.loads(bare["stdout"]) if bare["rc"] == 0 else {}

    results: dict[str, Any] = {}
    print(f"{'contender':<22}{'messages':>10}{'median s':>10}{'msg/s':>12}{'peak RSS':>11}  check")
    for name, _argv, count in contenders:
        done = runs[name]
        ok = all(r["rc"] in (0, 1) for r in done)
        summary = parse_summary(done[-1]["stdout"])
        counted = summary.get("messages") == count
        elapsed = statistics.median(r["elapsed"] for r in done)
        rss = max(r["maxrss_kib"] for r in done)
        rate = count / elapsed if ok and counted else None
        results[name] = {
            "messages": count,
            "elapsed_s": elapsed,
            "rate": rate,
            "maxrss_kib": rss,
            "summary": summary,
            "ok": ok and counted,
        }
        check = "ok" if ok and counted else f"FAILED {done[-1]['stderr'].strip()[:80]}"
        shown = f"{rate:,.0f}" if rate else "-"
        print(f"{name:<22}{count:>10,}{elapsed:>10.2f}{shown:>12}{rss / 1024:>9.1f} M  {check}")
    bare_rate = bare_counts.get("messages", 0) / bare["elapsed"] if bare_counts else None
    results["bare jsonschema loop"] = {
        "messages": bare_counts.get("messages"),
        "elapsed_s": bare["elapsed"],
        "rate": bare_rate,
        "maxrss_kib": bare["maxrss_kib"],
        "invalid": bare_counts.get("invalid"),
    }
    shown = f"{bare_rate:,.0f}" if bare_rate else "-"
    check = "ok" if bare_counts else f"FAILED {bare['stderr'].strip()[-80:]}"
    print(
        f"{'bare jsonschema loop':<22}{bare_counts.get('messages', 0):>10,}{bare['elapsed']:>10.2f}"
        f"{shown:>12}{bare['maxrss_kib'] / 1024:>9.1f} M  {check}"
    )

    print()
    passed = True

    def target(label: str, ok: bool, detail: str) -> None:
        nonlocal passed
        passed = passed and ok
        print(f"{'PASS' if ok else 'FAIL'}  {label}: {detail}")

    main_run = results["wscli -q recording"]
    rate = main_run["rate"] or 0.0
    target(">= 100,000 msg/s on the big recording", rate >= 100_000, f"{rate:,.0f} msg/s")
    ratio = rate / bare_rate if bare_rate else 0.0
    target(">= 10x the bare jsonschema loop", ratio >= 10, f"{ratio:.1f}x")
    small_rss = results["wscli -q small"]["maxrss_kib"]
    big_rss = main_run["maxrss_kib"]
    flat = big_rss <= small_rss * 1.1 + 5 * 1024
    target(
        "memory flat (big vs small file)",
        flat,
        f"{big_rss / 1024:.1f} MiB for {args.messages:,} vs {small_rss / 1024:.1f} MiB"
        f" for {args.small:,} messages",
    )
    if bare_limit == args.messages and bare_counts:
        agree = main_run["summary"].get("invalid") == bare_counts.get("invalid")
        target(
            "same invalid count as the bare loop",
            agree,
            f"wscli {main_run['summary'].get('invalid')}, jsonschema {bare_counts.get('invalid')}",
        )
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
