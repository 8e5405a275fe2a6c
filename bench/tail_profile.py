"""Where ``wscli tail`` spends its time per message, stage by stage.

Usage::

    python bench/tail_profile.py [--messages 20000] [--repeat 15] [--json FILE]
                                 [--cprofile [--cprofile-messages 200000]]

Two views of the same work, on the messages ``tail_throughput.py`` sends (SPEC-shaped
``sensor_reading`` JSON, 368-390 bytes):

1. **Stages, in process, no profiler** (the numbers bench/README.md quotes). Each stage
   of the per-message path runs alone over all the messages, best of ``--repeat``:
   frame parsing (wscli's fast lane over 256 KiB reads, and websocket-client's
   ``frame_buffer`` for comparison), the JSON check (``parse_json``: orjson plus the
   depth check), formatting and writing one JSON Lines line (``MessageRenderer`` into
   a batched ``Output`` on /dev/null), one recording line (``RecordingWriter``,
   batched, on /dev/null), ``--validate``'s check (``Validator.is_valid``,
   jsonschema-rs); then the whole ``TailRun`` loop fed from memory in four modes
   (jsonl, --validate, --record, both). The whole loop minus its stages is the
   loop's own bookkeeping (counters, type counts, the flush clock).
2. ``--cprofile``: a real ``wscli tail -o jsonl`` subprocess against the loopback
   sender of ``tail_throughput.py`` under cProfile, its own time grouped into the
   same stages. A profiler inflates every Python call, so the shares differ from
   view 1; it shows what view 1 cannot (socket reads, generator hand-offs).
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchlib import clean_env, find_wscli
from tail_throughput import OneShotSender, encode_frames, make_messages

CHUNK = 256 * 1024  # wscli.net.transport.READ_CHUNK


class MemorySource:
    """A FrameSource for TailRun: the messages, from memory, then the end."""

    network = False

    def __init__(self, messages: list[bytes]) -> None:
        self.messages = messages

    @property
    def options(self) -> Any:
        return self

    url = "ws://memory/"
    where = "memory"

    def connect(self) -> None:
        pass

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        for payload in self.messages:
            yield 1, payload


def stage_costs(messages: list[bytes], repeat: int) -> dict[str, float]:
    """Seconds per message of each stage, measured alone, no profiler."""
    from websocket._abnf import frame_buffer

    from wscli.messages import parse_json
    from wscli.net.fastframes import NO_LIMIT, parse_data_frames
    from wscli.output.terminal import Output
    from wscli.recording import RecordingWriter
    from wscli.session.render import MessageRenderer
    from wscli.session.tailing import load_validator

    n = len(messages)
    stream = encode_frames(messages)
    chunks = [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]

    def fast_lane() -> None:
        # As BufferedWebSocket.next_frames does: parse a read, carry a cut frame over.
        rest = b""
        count = 0
        for chunk in chunks:
            buf = rest + chunk if rest else chunk
            out: list[tuple[int, bytes]] = []
            end = parse_data_frames(buf, 0, NO_LIMIT, out)
            count += len(out)
            rest = buf[end:]
        assert count == n, count

    def library() -> None:
        pos = 0

        def recv(size: int) -> bytes:
            nonlocal pos
            start, pos = pos, pos + size
            return stream[start:pos]

        reader = frame_buffer(recv, True)
        for _ in range(n):
            reader.recv_frame()

    def json_check() -> None:
        for payload in messages:
            parse_json(payload)

    objs = [parse_json(m) for m in messages[:2000]]
    validator = load_validator(None)
    is_valid = validator.is_valid

    def validate() -> None:
        for obj in objs:
            is_valid(obj)

    devnull = open(os.devnull, "wb")  # noqa: SIM115
    output = Output(stdout=devnull, is_tty=False, err_is_tty=False)
    output.batch()
    renderer = MessageRenderer(output, "jsonl")

    def render() -> None:
        emit = renderer.message
        for payload in messages:
            emit(payload, None, None)
        output.flush()

    with tempfile.TemporaryDirectory() as tmp:
        recorder = RecordingWriter(Path(tmp) / "r.jsonl", "ws://memory/", batched=True)
        recorder._file = open(os.devnull, "wb", buffering=256 * 1024)  # noqa: SIM115

        def record() -> None:
            frame = recorder.frame
            for payload in messages:
                frame("in", 1, payload)
            recorder.flush()

        stages: dict[str, tuple[Callable[[], object], int]] = {
            "frames: wscli fast lane": (fast_lane, n),
            "frames: websocket-client frame_buffer": (library, n),
            "JSON check (parse_json)": (json_check, n),
            "format + write a jsonl line": (render, n),
            "--record: one recording line": (record, n),
            "--validate: is_valid (jsonschema-rs)": (validate, len(objs)),
        }
        for mode, extra in (
            ("loop: jsonl", []),
            ("loop: jsonl --validate", ["--validate"]),
            ("loop: jsonl --record", ["--record"]),
            ("loop: jsonl --record --validate", ["--record", "--validate"]),
        ):
            stages[mode] = (lambda e=extra: run_loop(messages, e, tmp, validator), n)  # type: ignore[misc]
        # Round-robin, best of each: on a shared machine noise only ever adds time, and
        # alternating spreads a busy spell over every stage instead of one.
        costs = {name: float("inf") for name in stages}
        for _ in range(repeat):
            for name, (work, count) in stages.items():
                started = time.perf_counter()
                work()
                costs[name] = min(costs[name], (time.perf_counter() - started) / count)
    devnull.close()
    return costs


def run_loop(messages: list[bytes], extra: list[str], tmp: str, validator: Any) -> None:
    """TailRun over the messages from memory, stdout on /dev/null, as `tail -o jsonl` wires it.

    The schema is compiled once outside (tail compiles it before connecting).
    """
    from wscli.filters import MessageFilter
    from wscli.output.terminal import Output
    from wscli.recording import RecordingWriter
    from wscli.session.render import MessageRenderer
    from wscli.session.tailing import TailRun

    with open(os.devnull, "wb") as devnull:
        output = Output(stdout=devnull, is_tty=False, err_is_tty=False)
        run = TailRun(
            output=output,
            renderer=MessageRenderer(output, "jsonl"),
            message_filter=MessageFilter.from_options((), (), ()),
            validator=validator if "--validate" in extra else None,
            fail_on_invalid=False,
            count=None,
            show_stats=False,
        )
        if "--record" in extra:
            run.recorder = RecordingWriter(Path(tmp) / "loop.jsonl", "ws://memory/", batched=True)
        output.batch(run.recorder.flush if run.recorder is not None else None)
        run.execute(MemorySource(messages), duration=None)  # type: ignore[arg-type]
        if run.recorder is not None:
            run.recorder.close()
        assert run.stats.shown == len(messages)


STAGES = [
    ("frame read", ("fastframes.py", "transport.py", "stream.py", "/websocket/", "recv")),
    ("JSON check", ("messages.py", "orjson.loads", "method 'count'")),
    ("validate", ("schema.py", "jsonschema_rs", "is_valid")),
    ("filters", ("filters.py",)),
    ("format", ("render.py",)),
    ("write", ("output.py", "write' of", "flush' of", "FileIO")),
    ("record", ("recording.py", "orjson.dumps", "decode' of")),
    ("loop bookkeeping", ("tailing.py", "time.time", "method 'get' of 'dict'")),
]


def profile_run(n: int, extra: list[str]) -> dict[str, float]:
    """cProfile a real tail subprocess against the loopback sender; seconds per stage."""
    messages = make_messages(n)
    stream = encode_frames(messages)
    sender = OneShotSender(stream, 300.0)
    with tempfile.TemporaryDirectory() as tmp:
        prof = Path(tmp) / "tail.prof"
        wscli = find_wscli()
        argv = [sys.executable, "-m", "cProfile", "-o", str(prof), wscli[-1]]
        if wscli[0] == sys.executable:  # `python -m wscli`
            argv = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "wscli"]
        argv += ["tail", sender.url, "-o", "jsonl", "--no-reconnect", *extra]
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env(),
            cwd=tmp, timeout=600, check=False,
        )  # fmt: skip
        sender.wait()
        stats = pstats.Stats(str(prof))
    grouped: dict[str, float] = {name: 0.0 for name, _ in STAGES}
    grouped["start-up and the rest"] = 0.0
    for (filename, _line, func), row in stats.stats.items():  # type: ignore[attr-defined]
        tottime = row[2]
        where = f"{filename}:{func}"
        for name, marks in STAGES:
            if any(mark in where for mark in marks):
                grouped[name] += tottime
                break
        else:
            grouped["start-up and the rest"] += tottime
    return grouped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cprofile", action="store_true", help="also profile real tail runs")
    parser.add_argument("--cprofile-messages", type=int, default=200_000)
    parser.add_argument("--json", dest="json_file")
    args = parser.parse_args(argv)

    messages = make_messages(args.messages)
    print(f"{len(messages):,} messages; stages alone, best of {args.repeat}, no profiler")
    costs = stage_costs(messages, args.repeat)
    for name, seconds in costs.items():
        print(f"  {name:<42} {seconds * 1e9:7.0f} ns/msg")
    base = costs["loop: jsonl"]
    parts = costs["JSON check (parse_json)"] + costs["format + write a jsonl line"]
    print(f"  {'loop bookkeeping (loop - JSON - write)':<42} {(base - parts) * 1e9:7.0f} ns/msg")
    modes = ("loop: jsonl --validate", "loop: jsonl --record", "loop: jsonl --record --validate")
    for mode in modes:
        print(f"  {mode + ' / loop: jsonl':<42} {costs[mode] / base:7.2f}x")
    stages_ns = {name: seconds * 1e9 for name, seconds in costs.items()}
    report: dict[str, Any] = {"messages": len(messages), "stages_ns": stages_ns}
    if args.cprofile:
        for extra in ([], ["--validate"], ["--record", "rec.jsonl"]):
            label = " ".join(["tail -o jsonl", *extra])
            grouped = profile_run(args.cprofile_messages, extra)
            total = sum(grouped.values())
            print(f"\ncProfile of `{label}`, {args.cprofile_messages:,} messages over loopback "
                  f"(own time, profiler overhead included): {total:.2f} s")  # fmt: skip
            for name, seconds in grouped.items():
                print(f"  {name:<24} {seconds:6.2f} s  {seconds / total:6.1%}"
                      f"  {seconds / args.cprofile_messages * 1e9:7.0f} ns/msg")  # fmt: skip
            report[f"cprofile {label}"] = grouped
    if args.json_file:
        Path(args.json_file).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_file).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
