"""A message whose JSON is ``null`` is a message, not "nothing here" (issue #12).

The property test ``test_recording_fast_path_matches_the_general_path`` found it:
the recording reader used ``None`` both for a ``null`` payload and for "this line
holds no message", so a ``null`` frame read by the general path vanished.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.support.cli import run_cli
from wscli.frames import OP_TEXT
from wscli.recording import RecordingWriter, frame_record
from wscli.validate import sources
from wscli.validate.sources import FileSource, recording_items


def _line(record: dict[str, object]) -> bytes:
    return json.dumps(record).encode() + b"\n"


def test_found_example_null_payload_is_the_same_on_both_paths() -> None:
    """The example Hypothesis found: text ``null``, both paths yield one ``None`` message."""
    line = _line(frame_record(0.0, "in", OP_TEXT, b"null"))
    assert list(recording_items([(1, line)], "r")) == [(1, None)]
    assert sources._recording_line(line, "r") is None  # the value null, not "skip"


def test_a_null_frame_stored_as_b64_is_still_a_message() -> None:
    """The general path (a ``b64`` text frame) yields ``null`` too, not nothing."""
    b64 = {"t": 0.1, "dir": "in", "op": "text", "len": 4}
    b64["b64"] = base64.b64encode(b"null").decode()
    lines = [(1, _line(frame_record(0.0, "in", OP_TEXT, b"null"))), (2, _line(b64))]
    assert list(recording_items(lines, "r")) == [(1, None), (2, None)]


def test_lines_without_a_message_are_still_skipped() -> None:
    """Events, sent frames and control frames stay out of the messages."""
    lines = [
        (1, _line({"t": 0.0, "event": "connect", "url": "ws://x/"})),
        (2, _line(frame_record(0.0, "out", OP_TEXT, b"null"))),
        (3, _line({"t": 0.0, "dir": "in", "op": "ping", "len": 0})),
        (4, b"   \n"),
    ]
    assert list(recording_items(lines, "r")) == []
    for _, raw in lines:
        assert sources._recording_line(raw, "r") is sources.NOT_A_MESSAGE


def test_validate_counts_every_null_frame(tmp_path: Path) -> None:
    """Two ``null`` frames, one as text and one as ``b64``: two messages, both invalid."""
    path = tmp_path / "nulls.rec"
    writer = RecordingWriter(path, "ws://example/")
    writer.frame("in", OP_TEXT, b"null")
    writer.close()
    b64 = {"t": 0.2, "dir": "in", "op": "text", "len": 4, "b64": base64.b64encode(b"null").decode()}
    path.write_bytes(path.read_bytes() + _line(b64))
    assert [v for _, v in FileSource(str(path)).items()] == [None, None]
    result = run_cli("validate", "-o", "json", str(path), expect=1)
    report = json.loads(result.stdout)
    assert report["summary"]["messages"] == 2, report["summary"]
    assert report["summary"]["invalid"] == 2
