"""Batched output (issue #21): stdout and ``--record`` written in batches, the recording first.

``tail --record`` no longer flushes the recording line by line; the promise kept is
the one that matters after ``kill -9``: every message printed is already in the
recording. Here a stream going as fast as the server can send is killed mid-flow.
"""

from __future__ import annotations

import io
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, unit, wscli_executable
from wscli.frames import OP_TEXT
from wscli.output.terminal import STDOUT_BUFFER, Output
from wscli.recording import RecordingWriter


def recorded_texts(path: Path) -> set[str]:
    """The text frames of a recording, ignoring a last line cut off by the kill."""
    texts = set()
    for line in path.read_bytes().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("op") == "text":
            texts.add(record["text"])
    return texts


@pytest.mark.slow
def test_sigkill_at_full_speed_leaves_every_printed_message_in_the_recording(
    serve: Any, tmp_path: Path
) -> None:
    """Killed mid-stream while batches fly: each complete line printed is in the recording."""
    server = serve(rate=0)  # as fast as it can send
    record = tmp_path / "rec.jsonl"
    proc = subprocess.Popen(
        [wscli_executable(), "tail", server.url, "-o", "jsonl", "--record", str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
    )
    assert proc.stdout is not None
    chunks: list[bytes] = []
    seen = 0
    deadline = time.monotonic() + unit(20)
    try:
        while seen < 3000 and time.monotonic() < deadline:
            chunk = proc.stdout.read1(65536)
            if not chunk:
                break
            chunks.append(chunk)
            seen += chunk.count(b"\n")
    finally:
        proc.kill()
        proc.wait(timeout=unit(10))
    chunks.append(proc.stdout.read())  # what it wrote before dying was printed too
    proc.stdout.close()
    assert seen >= 3000, "the stream did not flow"
    printed = b"".join(chunks).split(b"\n")[:-1]  # complete lines only
    texts = recorded_texts(record)
    missing = [line for line in printed if line.decode() not in texts]
    assert not missing, f"{len(missing)} of {len(printed)} printed messages not recorded"


class Watched(io.RawIOBase):
    """stdout that notes, at each write reaching it, how many frames the recording holds."""

    def __init__(self, record: Path) -> None:
        super().__init__()
        self.record = record
        self.data = bytearray()
        self.held_then: list[tuple[int, int]] = []  # (lines printed, frames recorded)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.data += data
        recorded = sum(1 for line in self.record.read_bytes().splitlines() if b'"op"' in line)
        self.held_then.append((self.data.count(b"\n"), recorded))
        return len(data)


def test_stdout_never_reaches_the_kernel_before_the_recording(tmp_path: Path) -> None:
    """Whether the buffer fills or a flush is asked for, the recording is flushed first."""
    path = tmp_path / "rec.jsonl"
    recorder = RecordingWriter(path, "ws://h/", batched=True)
    watched = Watched(path)
    output = Output(stdout=watched, is_tty=False, err_is_tty=False)  # type: ignore[arg-type]
    output.batch(recorder.flush)
    line = b'{"n":%d,"pad":"' + b"x" * 300 + b'"}'
    count = 3 * STDOUT_BUFFER // 300  # the stdout buffer fills several times
    for n in range(count):
        recorder.frame("in", OP_TEXT, line % n)
        output.write(line % n + b"\n")
    assert len(watched.held_then) >= 3  # the full buffer was written out on its own
    output.flush()
    recorder.close()
    assert watched.data.count(b"\n") == count
    for printed, recorded in watched.held_then:
        assert recorded >= printed


def test_a_batched_recording_holds_lines_until_flushed(tmp_path: Path) -> None:
    """batched: lines wait for flush() (the batch boundary); the header is there at once."""
    path = tmp_path / "rec.jsonl"
    recorder = RecordingWriter(path, "ws://h/", batched=True)
    assert path.read_bytes().count(b"\n") == 1  # the header
    recorder.frame("in", OP_TEXT, b'{"a":1}')
    assert path.read_bytes().count(b"\n") == 1
    recorder.flush()
    assert path.read_bytes().count(b"\n") == 2
    recorder.close()
    recorder.flush()  # closed: nothing to do, no error


def test_the_fast_text_line_is_what_json_dumps_writes(tmp_path: Path) -> None:
    """Text frames take one orjson call: the general path's line, byte for byte."""
    from wscli.recording import frame_record

    path = tmp_path / "rec.jsonl"
    recorder = RecordingWriter(path, "ws://h/")
    payloads = ['{"v":"é\\n\\"q\\""}', "\x00\x1f\x7f\u2028\U0001f600", "", "plain\n"]
    for text in payloads:
        recorder.frame("in", OP_TEXT, text.encode())
        recorder.frame("out", OP_TEXT, text.encode())
    recorder.frame("in", OP_TEXT, b"\xff not utf-8")
    recorder.close()
    lines = path.read_bytes().splitlines()[1:]
    for line in lines:
        record = json.loads(line)
        payload = record["text"].encode() if "text" in record else b"\xff not utf-8"
        again = frame_record(record["t"], record["dir"], OP_TEXT, payload)
        expected = json.dumps(again, ensure_ascii=False, separators=(",", ":")).encode()
        # the same record; the same bytes after the time, which this early is below 0.1 ms
        assert json.loads(line) == json.loads(expected)
        assert line.partition(b',"dir"')[2] == expected.partition(b',"dir"')[2]
    assert [json.loads(line).get("text") for line in lines[:-1:2]] == payloads
    assert "b64" in json.loads(lines[-1])


def test_orjson_writes_times_and_text_as_json_dumps_does() -> None:
    """The two facts the fast line rests on: every code point quoted alike, and times
    (whole microseconds) printed alike from 0.1 ms on (below, 6e-06 is 6e-6: the same number).
    """
    import random

    import orjson

    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert orjson.dumps(text) == json.dumps(text, ensure_ascii=False).encode()
    rng = random.Random(21)
    for _ in range(20000):
        t = int(rng.uniform(0.0001, 10 ** rng.randint(-3, 7)) * 1_000_000) / 1_000_000
        assert orjson.dumps(t) == json.dumps(t).encode(), t
        assert t == round(t, 6)


class SlowSource:
    """A FrameSource from memory that never waits on a network (so nothing flushes at a
    wait): one message every 20 ms, and at each one, what the reader of stdout sees."""

    network = False
    url = "ws://memory/"
    where = "memory"

    def __init__(self, printed: Path, count: int) -> None:
        self.printed = printed
        self.count = count
        self.seen: list[int] = []  # lines on stdout when each message is handed over

    @property
    def options(self) -> Any:
        return self

    def connect(self) -> None:
        pass

    def __iter__(self) -> Any:
        for n in range(self.count):
            self.seen.append(self.printed.read_bytes().count(b"\n"))
            yield 1, b'{"type":"sensor_reading","n":%d}' % n
            time.sleep(0.02)


def test_a_stream_that_never_pauses_is_flushed_every_50_ms(tmp_path: Path) -> None:
    """Batched stdout still shows lines within about 50 ms when the network never waits."""
    from wscli.filters import MessageFilter
    from wscli.session.render import MessageRenderer
    from wscli.session.tailing import FLUSH_EVERY, TailRun

    assert FLUSH_EVERY == 0.05
    printed = tmp_path / "out.jsonl"
    with open(printed, "wb") as out:
        output = Output(stdout=out, is_tty=False, err_is_tty=False)
        output.batch()
        run = TailRun(
            output=output,
            renderer=MessageRenderer(output, "jsonl"),
            message_filter=MessageFilter.from_options((), (), ()),
            validator=None,
            fail_on_invalid=False,
            count=None,
            show_stats=False,
        )
        source = SlowSource(printed, 12)
        run.execute(source, duration=None)  # type: ignore[arg-type]
    # Message 10 comes ~200 ms in: lines from before the last 50-ms flush are out by then.
    assert source.seen[10] >= 5, source.seen
    assert printed.read_bytes().count(b"\n") == 12
