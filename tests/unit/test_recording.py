"""The recording format: header, frames, events, flushed line by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wscli.errors import BadUsage
from wscli.frames import OP_BINARY, OP_CLOSE, OP_TEXT
from wscli.recording import RecordingWriter, decode_frame, read_recording


def test_round_trip(tmp_path: Path) -> None:
    """Text, binary, close frames and events come back as written."""
    path = tmp_path / "rec.jsonl"
    writer = RecordingWriter(path, "ws://example.test/x")
    writer.frame("in", OP_TEXT, b'{"a": 1}')
    writer.frame("in", OP_BINARY, b"\x00\x01")
    writer.frame("out", OP_CLOSE, b"\x03\xe8bye")
    writer.event("reconnect", attempt=2)
    # Flushed per line: readable before close.
    lines = path.read_text().splitlines()
    assert len(lines) == 5
    writer.close()
    recording = read_recording(path)
    assert recording.url == "ws://example.test/x"
    items = [obj for _, obj in recording.lines]
    assert items[0]["text"] == '{"a": 1}' and items[0]["dir"] == "in"
    assert decode_frame(2, items[1]).payload == b"\x00\x01" and items[1]["op"] == "binary"
    assert items[2]["code"] == 1000 and items[2]["reason"] == "bye"
    assert items[3]["event"] == "reconnect"
    assert all(isinstance(obj["t"], float) for obj in items)
    header = json.loads(lines[0])
    assert header["wscli"] == "recording" and header["version"] == 1


def test_invalid_utf8_text_is_kept_as_b64(tmp_path: Path) -> None:
    """A text frame that is not UTF-8 is stored losslessly as b64."""
    path = tmp_path / "rec.jsonl"
    writer = RecordingWriter(path, "ws://x")
    writer.frame("in", OP_TEXT, b"\xff")
    writer.close()
    ((_, obj),) = list(read_recording(path).lines)
    assert decode_frame(1, obj).payload == b"\xff"


def test_not_a_recording(tmp_path: Path) -> None:
    """A file without the header is refused with a clear error."""
    path = tmp_path / "plain.jsonl"
    path.write_text('{"type": "error"}\n')
    with pytest.raises(BadUsage):
        read_recording(path)


def test_unwritable_path_is_a_usage_error(tmp_path: Path) -> None:
    """A recording that cannot be created is reported, not a traceback."""
    path = tmp_path / "missing" / "rec.jsonl"
    with pytest.raises(BadUsage) as info:
        RecordingWriter(path, "ws://x")
    assert info.value.message == f"cannot write to recording {path}: no such file or directory"
    assert info.value.hint == "create the folder first"


def test_times_are_seconds_since_the_start_to_the_microsecond(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    writer = RecordingWriter(path, "ws://x")
    writer.frame("in", OP_TEXT, b"{}")
    writer.event("reconnect", attempt=1, url="ws://user:pw@h/x?token=s3cret")
    writer.close()
    header, frame, event = (json.loads(line) for line in path.read_text().splitlines())
    for obj in (frame, event):
        assert 0 <= obj["t"] < 60
        assert obj["t"] == round(obj["t"], 6)
    assert "pw" not in event["url"] and "s3cret" not in event["url"]
    assert event["url"].startswith("ws://") and event["url"].endswith("/x?token=[redacted]")


def test_close_after_a_failed_write_stays_quiet(tmp_path: Path) -> None:
    """The full disk is reported once, at the write; closing does not report it again."""
    from wscli.errors import WriteFailed

    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("no /dev/full here")
    with pytest.raises(WriteFailed, match="cannot write to recording /dev/full"):
        RecordingWriter(full, "ws://x")  # the header line fails; the file is closed
    writer = RecordingWriter(tmp_path / "rec.jsonl", "ws://x")
    writer._file.close()
    writer._file = full.open("wb", buffering=0)  # the disk fills up
    with pytest.raises(WriteFailed) as info:
        writer.frame("in", OP_TEXT, b"x" * 1000)
    assert info.value.hint == "free some space or record somewhere else; lines so far are kept"
    writer.close()
    writer.close()


def test_lines_are_compact_utf8_and_the_start_is_utc_rfc3339(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One compact line per record, text as UTF-8 (not \\u escapes), started in UTC."""
    import re
    import time
    from datetime import datetime, timedelta, timezone

    monkeypatch.setenv("TZ", "Asia/Kolkata")  # local time is not UTC here
    time.tzset()
    try:
        before = datetime.now(timezone.utc) - timedelta(seconds=1)
        path = tmp_path / "rec.jsonl"
        writer = RecordingWriter(path, "ws://x")
        writer.frame("in", OP_TEXT, '{"v": "é"}'.encode())
        writer.close()
        after = datetime.now(timezone.utc) + timedelta(seconds=1)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    raw = path.read_bytes().decode("utf-8")
    header, frame = raw.splitlines()
    assert re.fullmatch(
        r"\{\"wscli\":\"recording\",\"version\":1,\"url\":\"ws://x\",\"started\":\"[^\"]+\"\}",
        header,
    )
    started = json.loads(header)["started"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", started)
    assert (
        before
        <= datetime.strptime(started, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        <= after
    )
    assert frame.endswith(',"dir":"in","op":"text","len":11,"text":"{\\"v\\": \\"é\\"}"}')
