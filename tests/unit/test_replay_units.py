"""Pure parts of replay and connect: the streaming reader, pacing, comparisons (#9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from wscli.errors import BadUsage
from wscli.frames import OP_BINARY, OP_CLOSE, OP_TEXT
from wscli.playback import ReplayPlan, check_recording
from wscli.recording import RecordingDamaged, RecordingProblem, RecordingWriter, read_recording
from wscli.session.expect import Expectation, frame_differences, json_differences, pointer_of


def write(path: Path, *lines: Any, version: int = 1, tail: str = "") -> Path:
    header = {"wscli": "recording", "version": version, "url": "ws://x/", "started": "now"}
    body = [json.dumps(header)] + [
        line if isinstance(line, str) else json.dumps(line) for line in lines
    ]
    path.write_text("\n".join(body) + "\n" + tail)
    return path


def frame(t: float, text: str, direction: str = "in") -> dict[str, Any]:
    return {"t": t, "dir": direction, "op": "text", "len": len(text), "text": text}


# -- the reader -------------------------------------------------------------------------------


def test_frames_stream_in_order_with_line_numbers(tmp_path: Path) -> None:
    """Frames come back decoded, events skipped, each with its line number."""
    path = tmp_path / "rec.jsonl"
    writer = RecordingWriter(path, "ws://x/")
    writer.frame("in", OP_TEXT, b"a")
    writer.event("reconnect", attempt=1)
    writer.frame("out", OP_BINARY, b"\x00")
    writer.frame("in", OP_CLOSE, b"\x0f\xa1bye")
    writer.close()
    frames = list(read_recording(path).frames())
    assert [(f.line, f.direction, f.opcode, f.payload) for f in frames] == [
        (2, "in", OP_TEXT, b"a"),
        (4, "out", OP_BINARY, b"\x00"),
        (5, "in", OP_CLOSE, b""),
    ]
    assert (frames[2].code, frames[2].reason) == (4001, "bye")


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("{oops", "not a JSON object"),
        ('["a list"]', "not a JSON object"),
        ({"t": -1, "dir": "in", "op": "text", "text": "x"}, "valid time"),
        ({"t": 1, "dir": "sideways", "op": "text", "text": "x"}, "'dir'"),
        ({"t": 1, "dir": "in", "op": "shout", "text": "x"}, "unknown frame 'op'"),
        ({"t": 1, "dir": "in", "op": "binary", "b64": "!!"}, "not base64"),
        ({"t": 1, "dir": "in", "op": "text", "text": 5}, "must be a string"),
        ('{"t": 1e300, "dir": "in", "op": "text", "text": "x"}', "'t' 1e+300 is out of range"),
        ('{"t": 1e999, "dir": "in", "op": "text", "text": "x"}', "'t' inf is out of range"),
        ('{"t": 1' + "0" * 400 + ', "dir": "in", "op": "close"}', "(401 digits) is out of"),
    ],
)
def test_a_bad_line_is_named(tmp_path: Path, bad: Any, words: str) -> None:
    """Each kind of damage raises with the file, the line number and what is wrong."""
    path = write(tmp_path / "rec.jsonl", frame(0, "ok"), bad, frame(1, "after"))
    with pytest.raises(RecordingDamaged) as caught:
        list(read_recording(path).frames())
    assert "line 3" in caught.value.message and words in caught.value.message
    assert caught.value.exit_code == 2


def test_a_cut_off_last_line_is_told_apart(tmp_path: Path) -> None:
    """A last line without its newline reads as cut off, not as corrupt."""
    path = write(tmp_path / "rec.jsonl", frame(0, "ok"), tail='{"t": 0.5, "dir": "in", "op": "te')
    problems: list[RecordingProblem] = []
    frames = list(read_recording(path, on_problem=problems.append).frames(problems.append))
    assert [f.payload for f in frames] == [b"ok"]
    assert [p.line for p in problems] == [3] and "cut off" in problems[0].message


def test_versions(tmp_path: Path) -> None:
    """A newer version is a line-1 problem (lenient goes on); a nonsense one is refused."""
    newer = write(tmp_path / "new.jsonl", frame(0, "x"), version=3)
    with pytest.raises(RecordingDamaged, match="line 1.*version 3"):
        read_recording(newer)
    problems: list[RecordingProblem] = []
    assert [f.payload for f in read_recording(newer, on_problem=problems.append).frames()] == [b"x"]
    assert problems[0].line == 1
    broken = write(tmp_path / "bad.jsonl", version=0)
    with pytest.raises(BadUsage):
        read_recording(broken)


def test_check_recording_keeps_memory_flat(tmp_path: Path) -> None:
    """--lenient keeps the first few problems and counts the rest."""
    path = write(tmp_path / "rec.jsonl", *(["{bad"] * 50))
    problems = check_recording(str(path), lenient=True)
    assert len(problems) == 11 and "40 more" in problems[-1].message
    with pytest.raises(RecordingDamaged, match="line 2"):
        check_recording(str(path), lenient=False)


# -- pacing -----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, deadline: float) -> None:
        self.waits.append(round(deadline - 100.0, 6))
        self.now = deadline


def test_frames_are_due_on_a_fixed_schedule(tmp_path: Path) -> None:
    """Deadlines come from the first frame's time and --speed, never from the last wait."""
    path = write(tmp_path / "rec.jsonl", *(frame(t, str(t)) for t in (5.0, 5.1, 5.4, 6.0)))
    clock = FakeClock()
    plan = ReplayPlan(str(path), speed=2.0)
    played = [f.payload for f in plan.timed(wait=clock.wait, clock=clock)]
    assert played == [b"5.0", b"5.1", b"5.4", b"6.0"]
    assert clock.waits == [0.05, 0.2, 0.5]


def test_window_direction_and_no_delay(tmp_path: Path) -> None:
    """--from/--until select by recorded time; --no-delay never waits; out frames are apart."""
    path = write(
        tmp_path / "rec.jsonl",
        *(frame(t, f"in{t}") for t in (0.0, 1.0, 2.0, 3.0)),
        frame(1.5, "sent", direction="out"),
    )
    clock = FakeClock()
    plan = ReplayPlan(str(path), start=1.0, until=2.0, no_delay=True)
    assert [f.payload for f in plan.timed(wait=clock.wait, clock=clock)] == [b"in1.0", b"in2.0"]
    assert clock.waits == []
    out = ReplayPlan(str(path), direction="out")
    assert [f.payload for f in out.frames()] == [b"sent"]


def test_close_frame_prefers_the_servers(tmp_path: Path) -> None:
    """The recorded close is the one that came in; otherwise the one sent; else none."""
    close_out = {"t": 1, "dir": "out", "op": "close", "len": 2, "code": 1000, "reason": ""}
    close_in = {"t": 2, "dir": "in", "op": "close", "len": 5, "code": 4001, "reason": "bye"}
    both = write(tmp_path / "a.jsonl", close_out, close_in)
    assert ReplayPlan(str(both)).close_frame() == (4001, "bye")
    only_out = write(tmp_path / "b.jsonl", close_out)
    assert ReplayPlan(str(only_out)).close_frame() == (1000, "")
    assert ReplayPlan(str(write(tmp_path / "c.jsonl", frame(0, "x")))).close_frame() is None


# -- comparing --------------------------------------------------------------------------------


def test_json_differences_by_path_with_ignores() -> None:
    """Leaves that differ are named by JSON Pointer; ignored prefixes drop out."""
    old = {"type": "r", "data": {"value": 75.5, "ts": "a", "list": [1, 2]}}
    new = {"type": "r", "data": {"value": 80.1, "ts": "b", "list": [1], "extra": True}}
    found = {pointer_of(p): (a, b) for p, a, b in json_differences(old, new)}
    assert found["/data/value"] == (75.5, 80.1)
    assert set(found) == {"/data/value", "/data/ts", "/data/list/1", "/data/extra"}
    ignored = list(
        json_differences(old, new, (("data", "ts"), ("data", "list"), ("data", "extra")))
    )
    assert [pointer_of(p) for p, _, _ in ignored] == ["/data/value"]
    assert list(json_differences({"v": 1}, {"v": 1.0})) == []
    assert list(json_differences({"v": True}, {"v": 1})) != []


def test_frame_differences_read_like_the_issue() -> None:
    """`#3 /data/value: 75.5 → 80.1`, and plain lines for missing or non-JSON replies."""
    old = (OP_TEXT, json.dumps({"data": {"value": 75.5}}).encode())
    new = (OP_TEXT, json.dumps({"data": {"value": 80.1}}).encode())
    assert frame_differences(3, old, new) == ["#3 /data/value: 75.5 → 80.1"]
    assert frame_differences(4, old, None)[0].startswith("#4 missing reply")
    assert frame_differences(5, None, new)[0].startswith("#5 unexpected reply")
    assert frame_differences(6, (OP_TEXT, b"a"), (OP_TEXT, b"b")) == ["#6 reply: a → b"]
    assert frame_differences(7, (OP_BINARY, b"\x01"), (OP_BINARY, b"\x01")) == []


def test_expectations() -> None:
    """--expect searches the text; --expect-json compares a field, JSON-typed."""
    reply = (OP_TEXT, b'{"type": "echo", "data": {"ok": true, "n": 1}}')
    assert Expectation.regex("echo").failure(*reply) is None
    assert Expectation.regex("^nope").failure(*reply) is not None
    assert Expectation.json_field("data.ok=true").failure(*reply) is None
    assert Expectation.json_field("type=echo").failure(*reply) is None
    assert "has /data/n = 1, expected true" in (
        Expectation.json_field("data.n=true").failure(*reply) or ""
    )
    assert "has no /data/x" in (Expectation.json_field("data.x=1").failure(*reply) or "")
    assert Expectation.json_field("a=1").failure(OP_TEXT, b"plain") == "is not JSON"
    with pytest.raises(ValueError):
        Expectation.json_field("no-value")
    with pytest.raises(ValueError):
        Expectation.regex("(")


def test_listen_addresses() -> None:
    """--serve takes PORT, :PORT, HOST:PORT and [IPv6]:PORT."""
    from wscli.commands.replay import parse_listen

    assert parse_listen("8000") == ("127.0.0.1", 8000)
    assert parse_listen(":0") == ("127.0.0.1", 0)
    assert parse_listen("0.0.0.0:9") == ("0.0.0.0", 9)
    assert parse_listen("[::1]:9") == ("::1", 9)
    with pytest.raises(BadUsage):
        parse_listen("host:99999")


def test_a_line_longer_than_the_limit_is_damaged_not_buffered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An over-long line is skipped to its end and reported; the next line still plays."""
    import wscli.recording

    monkeypatch.setattr(wscli.recording, "MAX_LINE", 100)  # the header and "ok" fit
    monkeypatch.setattr(wscli.recording, "SKIP_CHUNK", 7)
    path = write(tmp_path / "rec.jsonl", frame(0.0, "x" * 300), frame(0.1, "ok"))
    with pytest.raises(RecordingDamaged, match=r"line 2: line longer than 0 MiB"):
        list(read_recording(path).frames())
    problems: list[RecordingProblem] = []
    frames = list(read_recording(path, on_problem=problems.append).frames(problems.append))
    assert [(f.line, f.payload) for f in frames] == [(3, b"ok")]
    assert [(p.line, p.message) for p in problems] == [(2, "line longer than 0 MiB")]


def test_a_line_of_exactly_the_limit_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wscli.recording

    path = write(tmp_path / "rec.jsonl", frame(0.0, "x" * 300))
    longest = max(len(line) for line in path.read_text().splitlines(keepends=True))
    monkeypatch.setattr(wscli.recording, "MAX_LINE", longest)
    assert [f.payload for f in read_recording(path).frames()] == [b"x" * 300]
    monkeypatch.setattr(wscli.recording, "MAX_LINE", longest - 1)
    with pytest.raises(RecordingDamaged, match="line longer than"):
        list(read_recording(path).frames())


def test_a_named_pipe_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    """replay reads a recording twice; a FIFO would block, then lose its first pass."""
    import os

    fifo = tmp_path / "rec.fifo"
    os.mkfifo(fifo)
    with pytest.raises(BadUsage, match="is not a regular file") as info:
        check_recording(str(fifo), lenient=False)
    assert "save it to a file first" in (info.value.hint or "")


# -- the reader, pinned: every message a damaged recording gets ---------------------------------


def _raw(path: Path, *lines: str) -> Path:
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
    return path


HEADER = (
    '{"wscli": "recording", "version": 1, "url": "ws://h/x", "started": "2026-12-01T00:00:00Z"}'
)


def test_the_header_fields_are_read(tmp_path: Path) -> None:
    recording = read_recording(_raw(tmp_path / "r.jsonl", HEADER))
    assert (recording.url, recording.started, recording.version) == (
        "ws://h/x",
        "2026-12-01T00:00:00Z",
        1,
    )
    assert recording.path == str(tmp_path / "r.jsonl")
    bare = read_recording(_raw(tmp_path / "b.jsonl", '{"wscli": "recording", "version": 1}'))
    assert (bare.url, bare.started) == ("", "")


def test_what_is_not_a_recording_is_named(tmp_path: Path) -> None:
    for name, body in (("empty.jsonl", b""), ("plain.jsonl", b'{"type": "error"}\n')):
        path = tmp_path / name
        path.write_bytes(body)
        with pytest.raises(BadUsage) as info:
            read_recording(path)
        assert info.value.message == f"{path} is not a wscli recording"
        assert info.value.hint == 'the first line must be {"wscli": "recording", "version": 1, ...}'
    with pytest.raises(BadUsage) as info:
        read_recording(tmp_path)  # a folder: open() fails
    assert info.value.message == f"cannot read recording {tmp_path}: Is a directory"


@pytest.mark.parametrize("version", ["0", "true", '"1"', "1.0"])
def test_a_bad_version_is_damage_on_line_1(tmp_path: Path, version: str) -> None:
    path = _raw(tmp_path / "r.jsonl", '{"wscli": "recording", "version": ' + version + "}")
    with pytest.raises(RecordingDamaged) as info:
        read_recording(path)
    shown = repr(json.loads(version))
    assert info.value.message == f"{path} line 1: bad recording version {shown}"


def test_a_newer_version_names_the_file_and_the_way_out(tmp_path: Path) -> None:
    path = _raw(tmp_path / "r.jsonl", '{"wscli": "recording", "version": 2}')
    with pytest.raises(RecordingDamaged) as info:
        read_recording(path)
    assert info.value.message == (
        f"{path} line 1: recording format version 2 is newer than this wscli reads (1)"
    )
    assert info.value.hint == "upgrade wscli, or --lenient to play the lines it understands"


def test_damaged_lines_are_named_with_the_file_and_the_default_hint(tmp_path: Path) -> None:
    good = json.dumps(frame(0.0, "a"))
    cases = {
        "[1, 2]": "not a JSON object",
        "{oops": "not a JSON object",
        '{"t": 0, "dir": "in", "op": "text", "text": 5}': "frame 'text' must be a string",
    }
    for line, message in cases.items():
        path = _raw(tmp_path / "r.jsonl", HEADER, line, good)
        with pytest.raises(RecordingDamaged) as info:
            list(read_recording(path).frames())
        assert info.value.message == f"{path} line 2: {message}"
        assert info.value.hint == "--lenient plays the lines that can be read"
    cut = tmp_path / "cut.jsonl"
    cut.write_text(HEADER + "\n" + good + "\n" + good[:10])
    with pytest.raises(RecordingDamaged) as info:
        list(read_recording(cut).frames())
    assert info.value.message == (
        f"{cut} line 3: cut off mid-line (the recorder was probably killed while writing)"
    )


def test_a_given_hint_wins_over_the_default() -> None:
    from wscli.recording import _problem

    with pytest.raises(RecordingDamaged) as info:
        _problem("r.jsonl", RecordingProblem(4, "x"), None, hint="do this")
    assert (info.value.message, info.value.hint) == ("r.jsonl line 4: x", "do this")


def test_lenient_frames_collect_bad_frames_and_play_the_rest(tmp_path: Path) -> None:
    path = _raw(
        tmp_path / "r.jsonl",
        HEADER,
        '{"t": -1, "dir": "in", "op": "text", "text": "x"}',
        json.dumps(frame(0.5, "ok")),
    )
    problems: list[RecordingProblem] = []
    frames = list(read_recording(path, on_problem=problems.append).frames(problems.append))
    assert [f.payload for f in frames] == [b"ok"]
    assert problems == [RecordingProblem(2, "frame without a valid time 't' (-1)")]


def test_blank_lines_and_a_second_header_are_passed_over(tmp_path: Path) -> None:
    """Two recordings concatenated (cat a b) play as one; blank lines are nothing."""
    path = _raw(
        tmp_path / "r.jsonl",
        HEADER,
        json.dumps(frame(0.1, "a")),
        "",
        "   ",
        HEADER,
        json.dumps(frame(0.2, "b")),
    )
    assert [(f.line, f.payload) for f in read_recording(path).frames()] == [
        (2, b"a"),
        (6, b"b"),
    ]


def test_bytes_that_are_not_utf8_come_back_as_they_were(tmp_path: Path) -> None:
    """A hand-edited or foreign recording with raw bytes in a text frame: kept, not refused."""
    path = _raw(
        tmp_path / "r.jsonl", HEADER, '{"t": 0, "dir": "in", "op": "text", "text": "a\udcffb"}'
    )
    assert [f.payload for f in read_recording(path).frames()] == [b"a\xffb"]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"t": True, "dir": "in", "op": "text"}, "frame without a valid time 't' (True)"),
        ({"t": 0, "dir": "in", "op": ["text"]}, "unknown frame 'op' ['text']"),
        (
            {"t": 0, "dir": "in", "op": "close", "code": True},
            "close 'code' must be a number, got True",
        ),
        (
            {"t": 0, "dir": "in", "op": "close", "code": "1000"},
            "close 'code' must be a number, got '1000'",
        ),
        ({"t": 0, "dir": "in", "op": "binary", "b64": "!!"}, "frame 'b64' is not base64"),
        (
            {"t": 0, "dir": "in", "op": "text", "text": "\ud800"},
            "frame 'text' holds an unpaired surrogate",
        ),
    ],
)
def test_decode_frame_names_what_is_wrong(record: dict[str, Any], message: str) -> None:
    from wscli.recording import decode_frame

    with pytest.raises(ValueError) as info:
        decode_frame(7, record)
    assert str(info.value) == message


def test_decode_frame_defaults() -> None:
    from wscli.recording import decode_frame

    close = decode_frame(3, {"t": 1, "dir": "out", "op": "close"})
    assert (close.line, close.t, close.direction, close.opcode) == (3, 1.0, "out", OP_CLOSE)
    assert isinstance(close.t, float)
    assert (close.code, close.reason, close.payload) == (None, "", b"")
    odd = decode_frame(3, {"t": 1.5, "dir": "in", "op": "close", "code": 1001, "reason": 5})
    assert (odd.t, odd.code, odd.reason) == (1.5, 1001, "")
    assert decode_frame(4, {"t": 0, "dir": "in", "op": "text"}).payload == b""


def test_the_limit_is_named_in_mib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import wscli.recording

    monkeypatch.setattr(wscli.recording, "MAX_LINE", 2 * 1024 * 1024)
    path = write(tmp_path / "rec.jsonl", frame(0.0, "x" * (2 * 1024 * 1024)))
    with pytest.raises(RecordingDamaged, match=r"line 2: line longer than 2 MiB$"):
        list(read_recording(path).frames())


def test_frame_record_rounds_time_to_microseconds_and_names_unknown_opcodes() -> None:
    from wscli.recording import frame_record

    record = frame_record(1.23456789, "in", 0x3, b"")
    assert record["t"] == 1.234568
    assert record["op"] == "3"


@pytest.mark.parametrize("t", ["1e300", "1e999", "1" + "0" * 400])
def test_a_frame_time_out_of_range_is_exit_2_naming_the_line(tmp_path: Path, t: str) -> None:
    """A frame time no sleep can reach is found by the up-front check: exit 2, not a crash."""
    path = write(tmp_path / "rec.jsonl", frame(0, "ok"), f'{{"t": {t}, "dir": "in", "op": "text"}}')
    result = run_cli("replay", str(path), expect=2)
    assert "line 3: frame time 't'" in result.stderr and "out of range" in result.stderr
    assert result.stdout == "" and "bug in wscli" not in result.stderr


def test_a_tiny_speed_never_asks_for_a_wait_longer_than_the_largest_frame_time(
    tmp_path: Path,
) -> None:
    """--speed 1e-300 makes a 1 s gap 1e300 s: the wait is bounded, so no sleep overflows."""
    from wscli.recording import MAX_FRAME_TIME

    path = write(tmp_path / "rec.jsonl", frame(0, "a"), frame(1, "b"))
    deadlines: list[float] = []
    plan = ReplayPlan(str(path), speed=1e-300)
    frames = list(plan.timed(wait=deadlines.append, clock=lambda: 100.0))
    assert [f.payload for f in frames] == [b"a", b"b"]
    assert deadlines == [100.0 + MAX_FRAME_TIME]
