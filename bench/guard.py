"""CI's speed guard: fail when ``tail`` got slower next to a bare websocket-client loop.

Usage::

    python bench/guard.py [--messages 50000] [--rounds 3] [--baseline bench/baseline.json]
                          [--tolerance 0.2] [--json FILE] [--update]

A short run of ``tail_throughput.py``'s contenders (about 25 s on 2 cores): the bare
loop (``bare-skiputf8``, websocket-client's ``recv_data`` with no UTF-8 check, the
floor of any client built on its frame parser) and ``wscli tail -o jsonl``, with
``--validate`` and with ``--record``, each against the same loopback sender.
``--rounds`` alternating rounds (forward, reversed, ...). Each contender's measure
is its **CPU time per message** (user + system, from ``getrusage``), start-up taken
out by a 1-message run just before: on a machine other jobs share, wall-clock rates
swing by 2x from run to run while CPU per message moves by a few percent. Each
wscli contender's **ratio** is the bare loop's median CPU per message over its own
(higher is better, like a ratio of rates), both measured in this run. Rates are
printed beside them for reference.

The guard fails (exit 1) when a ratio is more than ``--tolerance`` (20 %) below the
value recorded in ``bench/baseline.json``. A miss is measured once more before it
counts (noise on a shared machine comes in spells), and a run that failed outright
(a contender delivered the wrong count, exited non-zero, timed out) fails at once.
Ratios above the baseline pass: a deliberate speed-up is recorded with ``--update``
in the commit that explains it, so the guard keeps what was won.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tail_throughput import build_contenders, encode_frames, make_messages, run_one

BENCH = Path(__file__).resolve().parent
BASELINE = BENCH / "baseline.json"
BARE = "bare-skiputf8"
GUARDED = {  # baseline key: contender
    "tail_jsonl": "wscli-jsonl",
    "tail_validate": "wscli-validate",
    "tail_record": "wscli-record",
}


def measure(n: int, rounds: int, timeout: float) -> tuple[dict[str, float], list[str]]:
    """One guard run: each guarded ratio (bare's CPU per message over the contender's)."""
    messages = make_messages(n)
    stream = encode_frames(messages)
    expected = b"".join(m + b"\n" for m in messages)
    tiny, tiny_expected = encode_frames(messages[:1]), messages[0] + b"\n"
    wanted = {BARE, *GUARDED.values()}
    contenders = [c for c in build_contenders(install=False)[0] if c.name in wanted]
    net: dict[str, list[float]] = {c.name: [] for c in contenders}
    rates: dict[str, list[float]] = {c.name: [] for c in contenders}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wscli-guard-") as tmp:
        for rnd in range(rounds):
            order = contenders if rnd % 2 == 0 else contenders[::-1]
            for contender in order:
                one = run_one(contender, tiny, 1, rnd + 1, timeout, Path(tmp), tiny_expected)
                result = run_one(contender, stream, n, rnd + 1, timeout, Path(tmp), expected)
                for run in (one, result):
                    if not run.ok:
                        failures.append(f"{contender.name} round {rnd + 1}: {run.reason}")
                    elif run.exact is False:
                        failures.append(
                            f"{contender.name} round {rnd + 1}: output is not the stream"
                        )
                if failures:
                    return {}, failures
                result.startup_cpu_s = one.cpu_s
                if result.net_cpu_us is not None:
                    net[contender.name].append(result.net_cpu_us)
                if result.rate is not None:
                    rates[contender.name].append(result.rate)
    cpu = {name: statistics.median(values) for name, values in net.items() if values}
    rate = {name: statistics.median(values) for name, values in rates.items() if values}
    if BARE not in cpu:
        return {}, [f"{BARE}: no CPU measurement"]
    print(f"  {BARE:<16} {cpu[BARE]:6.2f} CPU us/msg {rate.get(BARE, 0):>10,.0f} msg/s")
    ratios = {}
    for key, name in GUARDED.items():
        if name in cpu and cpu[name] > 0:
            ratios[key] = cpu[BARE] / cpu[name]
            by_rate = rate[name] / rate[BARE] if name in rate and BARE in rate else float("nan")
            print(
                f"  {name:<16} {cpu[name]:6.2f} CPU us/msg {rate.get(name, 0):>10,.0f} msg/s"
                f"  {ratios[key]:.2f}x bare by CPU ({by_rate:.2f}x by rate)"
            )
    return ratios, failures


def misses(ratios: dict[str, float], baseline: dict[str, float], tolerance: float) -> list[str]:
    """The guarded ratios more than ``tolerance`` below their baseline (or not measured)."""
    found = []
    for key in GUARDED:
        if key not in baseline:
            continue
        floor = baseline[key] * (1 - tolerance)
        got = ratios.get(key)
        if got is None or got < floor:
            shown = "not measured" if got is None else f"{got:.2f}x"
            found.append(f"{key}: {shown} < {floor:.2f}x (baseline {baseline[key]:.2f}x - "
                         f"{tolerance:.0%})")  # fmt: skip
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000, help="per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--tolerance", type=float, default=0.2, help="fraction below baseline")
    parser.add_argument("--timeout", type=float, default=60.0, help="per run, seconds")
    parser.add_argument("--json", dest="json_file", help="write the measured ratios here")
    parser.add_argument(
        "--update", action="store_true", help="record this run's ratios as the new baseline"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    baseline: dict[str, Any] = {}
    if args.baseline.exists():
        baseline = json.loads(args.baseline.read_text())
    recorded = {k: float(v) for k, v in baseline.get("ratios", {}).items()}

    attempts: list[dict[str, float]] = []
    missed: list[str] = []
    for attempt in (1, 2):
        print(f"guard run {attempt}: {args.rounds} alternating rounds, {args.messages:,} messages")
        ratios, failures = measure(args.messages, args.rounds, args.timeout)
        attempts.append(ratios)
        if failures:
            for failure in failures:
                print(f"FAIL  {failure}")
            return 1
        if args.update:
            break
        missed = misses(ratios, recorded, args.tolerance)
        if not missed:
            break
        for miss in missed:
            print(f"miss  {miss}")
        if attempt == 1:
            print("measuring once more before that counts")
    elapsed = time.monotonic() - started
    if args.json_file:
        Path(args.json_file).write_text(json.dumps({"attempts": attempts}, indent=2) + "\n")
    if args.update:
        baseline["ratios"] = {k: round(v, 3) for k, v in attempts[-1].items()}
        baseline["measured"] = time.strftime("%Y-%m-%d", time.gmtime())
        baseline["messages"] = args.messages
        args.baseline.write_text(json.dumps(baseline, indent=2) + "\n")
        print(f"wrote {args.baseline} ({elapsed:.0f} s)")
        return 0
    if missed:
        for miss in missed:
            print(f"FAIL  {miss}")
        return 1
    within = f"within {args.tolerance:.0%} of {args.baseline.name}"
    print(f"PASS  every ratio {within} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
