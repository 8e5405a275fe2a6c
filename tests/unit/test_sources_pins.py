"""Pins for wscli.validate.sources: the exact item each odd line becomes, and unreadable sources.

In-process and fast: the line readers are fed ``(number, bytes)`` pairs directly, live
streams get a stand-in ``Stream``, and unreadable paths are checked without opening them.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from wscli.errors import BadUsage, CheckFailed, TimedOut
from wscli.frames import OP_BINARY, OP_TEXT
from wscli.net import stream as stream_module
from wscli.net.stream import ServerClosed, StreamPolicy
from wscli.net.target import ConnectOptions
from wscli.validate.jsonstream import NESTED
from wscli.validate.sources import (
    NOT_A_MESSAGE,
    FileSource,
    UrlSource,
    _check_readable,
    _loads_payload,
    _not_json,
    _recording_record,
    is_url,
    json_lines_items,
    loads,
    open_sources,
    recording_items,
    sniff,
    transcript_items,
)
from wscli.validate.tally import Malformed

BIG = b"123456789012345678901234567890"  # beyond 64 bits: orjson reads it as a float
WIDE = b"[" + b"[]," * 130 + b"[]]"  # 132 brackets, two levels deep: a message


def lines(*raw: bytes) -> list[tuple[int, bytes]]:
    """Numbered input lines, each with its newline, as a LineReader yields them."""
    return [(number, line + b"\n") for number, line in enumerate(raw, start=1)]


def records(*frames: dict[str, Any]) -> list[tuple[int, object]]:
    """The items of recording lines (no header) holding these records."""
    return list(recording_items(lines(*(json.dumps(f).encode() for f in frames)), "r.rec"))


# -- loads ----------------------------------------------------------------------------------


def test_loads_reads_big_integers_as_orjson_does() -> None:
    """orjson decides first: an integer past 64 bits is a float (the documented difference)."""
    value = loads(BIG.decode())
    assert type(value) is float
    assert value == 1.2345678901234568e29


def test_loads_hands_bytes_orjson_refuses_to_the_standard_library() -> None:
    """``NaN`` in bytes: orjson refuses, ``json.loads`` reads the decoded text."""
    value = loads(b"NaN")
    assert isinstance(value, float)
    assert math.isnan(value)
    assert loads(b'["\xc3\xa9", Infinity]') == ["é", math.inf]


# -- JSON Lines -----------------------------------------------------------------------------


def test_json_lines_take_orjsons_value() -> None:
    """A JSON Lines line orjson accepts is orjson's value (a big integer is a float)."""
    [(number, value)] = list(json_lines_items(lines(BIG)))
    assert number == 1
    assert type(value) is float
    assert value == 1.2345678901234568e29


def test_json_lines_wide_is_a_message_deep_is_malformed() -> None:
    """Many brackets side by side stay a message; more than 128 levels do not."""
    deep = b"[" * 200 + b"]" * 200
    assert list(json_lines_items(lines(WIDE, deep))) == [
        (1, json.loads(WIDE)),
        (2, Malformed("nested too deep (more than 128 levels of arrays and objects)")),
    ]


def test_json_lines_bad_lines_exact_reasons() -> None:
    """Invalid UTF-8 names its byte; a ``< ``/``> `` line says it looks like a transcript."""
    hint = " like a transcript from wscat or wsdump (read as one when its first line does)"
    assert list(
        json_lines_items(lines(b'{"a": "\xff"}', b"> hello", b"< {oops", b"{oops", b"   "))
    ) == [
        (1, Malformed("invalid UTF-8 (byte 8 of the line)")),
        (2, Malformed("not JSON: Expecting value (column 1); the line starts with '>'" + hint)),
        (
            3,
            Malformed("not JSON: Expecting value (column 1); the line starts with '<'" + hint),
        ),
        (4, Malformed("not JSON: Expecting property name enclosed in double quotes (column 2)")),
    ]


# -- transcripts and tail's wrapper lines ---------------------------------------------------


def test_transcript_values_and_tail_wrappers() -> None:
    """Received values of any JSON type; only tail's exact wrapper shapes become frames."""
    assert list(
        transcript_items(
            lines(
                b"< 5",
                b'< ["binary"]',
                b'< {"binary": true, "len": 3, "b64": "AAAA"}',
                b'< {"malformed": "bad", "text": "{"}',
                b'< {"malformed": "bad", "text": "{}"}',
                b'< {"binary": 1}',
                b'< {"x": NaN}',
                b"> 7",
            )
        )
    ) == [
        (1, 5),
        (2, ["binary"]),
        (3, Malformed("binary frame (3 bytes)")),
        (
            4,
            Malformed(
                "truncated message (not JSON): Expecting property name enclosed in"
                " double quotes (column 2)"
            ),
        ),
        (5, Malformed("bad")),
        (6, {"binary": 1}),
        (7, Malformed("not JSON: NaN is not a JSON number")),
    ]


# -- recordings -----------------------------------------------------------------------------


def test_recording_binary_frame_length_comes_from_orjson() -> None:
    """A binary frame's huge ``len`` is orjson's float, so no byte count is claimed."""
    line = b'{"dir": "in", "op": "binary", "len": ' + BIG + b"}"
    assert list(recording_items(lines(line), "r.rec")) == [(1, Malformed("binary frame"))]


def test_recording_keys_and_values_are_case_sensitive() -> None:
    """``OP``, ``DIR``, ``TEXT``, ``IN`` are not the recording's ``op``/``dir``/``text``/``in``."""
    assert records(
        {"OP": "text", "op": "ping", "dir": "in", "text": "1"},
        {"op": "TEXT", "dir": "in", "text": "2"},
        {"op": "text", "dir": "out", "DIR": "in", "text": "3"},
        {"op": "text", "dir": "IN", "text": "4"},
        {"op": "text", "dir": "in", "text": "5", "TEXT": "6"},
    ) == [(5, 5)]


def test_recording_frames_that_are_not_plain_text() -> None:
    """Binary frames, events, base64 and text-less frames each get their exact item."""
    assert records(
        {"op": "binary", "dir": "in", "text": "1", "len": 1},
        {"event": "x", "dir": "in", "op": "binary"},
        {"dir": "in", "op": "binary", "len": "3"},
        {"dir": "in", "op": "binary"},
        {"dir": "in", "op": "text", "b64": "MQ==!"},
        {"dir": "in", "op": "text", "b64": "MQ=="},
        {"dir": "in", "op": "text", "b64": "/w=="},
        {"dir": "in", "op": "text"},
        {"dir": "in", "op": "text", "text": 5},
        {"dir": "in", "op": "text", "text": WIDE.decode()},
        {"dir": "out", "op": "text", "text": "9"},
        {"dir": "in", "op": "ping"},
    ) == [
        (1, Malformed("binary frame (1 bytes)")),
        (3, Malformed("binary frame")),
        (4, Malformed("binary frame")),
        (5, Malformed("text frame's b64 is not valid base64")),
        (6, 1),
        (7, Malformed("text frame is not valid UTF-8")),
        (8, Malformed('text frame without "text" in the recording')),
        (9, Malformed('text frame without "text" in the recording')),
        (10, json.loads(WIDE)),
    ]


def test_recording_record_event_is_not_a_message() -> None:
    """An event line is never a message, whatever else it carries."""
    assert (
        _recording_record({"event": "open", "dir": "in", "op": "text", "text": "1"}, "r")
        is NOT_A_MESSAGE
    )
    assert _recording_record([1], "r") == Malformed("not a recording frame or event")
    # The fast path agrees: it counted this line as the message 1.
    assert records({"event": "open", "dir": "in", "op": "text", "text": "1"}) == []


# -- payloads and reasons -------------------------------------------------------------------


def test_payload_nested_past_the_stack_is_malformed() -> None:
    """A payload deep enough to exhaust the decoder's recursion is ``NESTED``, not a crash."""
    assert _loads_payload("[" * 100000) == Malformed(NESTED)
    assert _loads_payload("[1,") == Malformed(
        "truncated message (not JSON): Expecting value (column 4)"
    )


def test_not_json_with_a_plain_value_error() -> None:
    """A ValueError without ``msg``/``pos`` (not a JSONDecodeError) is worded by its text."""
    assert _not_json(ValueError("boom"), "x") == Malformed("not JSON: boom")
    assert _not_json(ValueError("boom"), "x", what="recording line") == Malformed(
        "not a JSON recording line: boom"
    )


def test_not_json_cut_text_with_and_without_a_newline() -> None:
    """Text that ends early is truncated only when it has no newline at its end."""

    def error(text: str) -> ValueError:
        try:
            json.loads(text)
        except ValueError as exc:
            return exc
        raise AssertionError(text)  # pragma: no cover

    assert _not_json(error("[1,\n"), "[1,\n") == Malformed("not JSON: Expecting value (column 5)")
    assert _not_json(error("[1,"), "[1,") == Malformed(
        "truncated last line (no newline at the end): Expecting value (column 4)"
    )
    assert _not_json(error("[1,"), "[1,", line=False) == Malformed(
        "truncated message (not JSON): Expecting value (column 4)"
    )


# -- unreadable sources ---------------------------------------------------------------------


def test_a_directory_is_refused_with_its_hint(tmp_path: Path) -> None:
    """A folder: exit 2, "is a directory", and the hint to give files."""
    with pytest.raises(BadUsage) as caught:
        _check_readable(str(tmp_path))
    assert caught.value.message == f"cannot read {tmp_path}: is a directory"
    assert caught.value.hint == "give files, not folders"
    assert caught.value.exit_code == 2
    assert caught.value.one_line() == (
        f"wscli: error: cannot read {tmp_path}: is a directory: give files, not folders"
    )


def test_a_missing_file_is_refused_with_its_hint(tmp_path: Path) -> None:
    """A missing file: the system's words, not the exception's repr, and the path hint."""
    missing = str(tmp_path / "nope.jsonl")
    with pytest.raises(BadUsage) as caught:
        _check_readable(missing)
    assert caught.value.message == f"cannot read {missing}: No such file or directory"
    assert caught.value.hint == "check the path; use - for stdin"
    assert caught.value.exit_code == 2
    cause = caught.value.__cause__
    assert isinstance(cause, FileNotFoundError)


def test_an_unreadable_file_is_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No read permission (faked: tests may run as root): EACCES with the path."""
    path = tmp_path / "secret.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    with pytest.raises(BadUsage) as caught:
        _check_readable(str(path))
    monkeypatch.undo()
    assert caught.value.message == f"cannot read {path}: Permission denied"
    assert caught.value.hint == "check the path; use - for stdin"
    cause = caught.value.__cause__
    assert isinstance(cause, PermissionError)
    assert cause.errno == errno.EACCES
    assert cause.strerror == "Permission denied"
    assert cause.filename == str(path)


def test_a_fifo_and_a_file_pass_without_being_opened(tmp_path: Path) -> None:
    """A named pipe is checked, not opened (opening would block without a writer)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    plain = tmp_path / "a.jsonl"
    plain.write_text("{}\n", encoding="utf-8")
    _check_readable(str(fifo))
    sources = open_sources([str(fifo), str(plain)], stdin=cast(Any, None), live=cast(Any, None))
    assert [source.name for source in sources] == [str(fifo), str(plain)]


# -- live streams (a stand-in Stream) -------------------------------------------------------


class FakeStream:
    """Records how UrlSource builds its Stream; yields scripted frames, then maybe closes."""

    made: list[FakeStream] = []
    frames: list[tuple[int, bytes]] = []
    close_with: ServerClosed | None = None

    def __init__(self, options: Any, policy: StreamPolicy, **kwargs: Any) -> None:
        self.options = options
        self.policy = policy
        self.kwargs = kwargs
        self.closed = False
        FakeStream.made.append(self)

    def connect(self) -> None:
        """Nothing to connect to."""

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        yield from FakeStream.frames
        if FakeStream.close_with is not None:
            raise FakeStream.close_with

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_stream(monkeypatch: pytest.MonkeyPatch) -> type[FakeStream]:
    """Replace wscli.net.stream.Stream (imported by UrlSource.items) with FakeStream."""
    FakeStream.made = []
    FakeStream.frames = []
    FakeStream.close_with = None
    monkeypatch.setattr(stream_module, "Stream", FakeStream)
    return FakeStream


TAP: Any = SimpleNamespace(redactor=SimpleNamespace(url=lambda url: url + "#redacted"))


def url_source(count: int | None = None, duration: float | None = None) -> UrlSource:
    """A UrlSource for ws://example.test:9/feed with a marking redactor."""
    options = ConnectOptions(url="ws://example.test:9/feed")
    return UrlSource(options, TAP, count=count, duration=duration)


def test_url_source_frames_and_its_stream(fake_stream: type[FakeStream]) -> None:
    """One connection with the tap and no reconnect; text, bad UTF-8 and binary frames."""
    fake_stream.frames = [(OP_TEXT, b'{"a": 1}'), (OP_TEXT, b"\xff"), (OP_BINARY, b"abc")]
    source = url_source()
    assert source.closed is None
    assert source.name == "ws://example.test:9/feed#redacted"
    assert list(source.items()) == [
        (1, {"a": 1}),
        (2, Malformed("text frame is not valid UTF-8")),
        (3, Malformed("binary frame (3 bytes)")),
    ]
    [made] = fake_stream.made
    assert made.kwargs == {"tap": TAP}
    assert source.tap is TAP
    assert made.policy.reconnect is False
    assert made.policy.end_at == math.inf
    assert made.closed
    assert source.received == 3
    assert source.place(3) == "ws://example.test:9/feed#redacted#3"


def test_url_source_server_closed_early(fake_stream: type[FakeStream]) -> None:
    """A normal close before ``-n``: exit 1, the close code and reason, and where."""
    fake_stream.frames = [(OP_TEXT, b"1")]
    fake_stream.close_with = ServerClosed(1000, "bye")
    source = url_source(count=3)
    got: list[tuple[int, object]] = []
    with pytest.raises(CheckFailed) as caught:
        got.extend(source.items())
    assert got == [(1, 1)]
    assert caught.value.message == (
        "server closed the stream (1000 (normal closure) bye) after 1 of 3 messages"
    )
    assert caught.value.where == "example.test:9"
    assert source.closed is fake_stream.close_with


def test_url_source_closed_without_a_count_ends_quietly(fake_stream: type[FakeStream]) -> None:
    """Without ``-n`` a normal close just ends the source, remembering the close."""
    fake_stream.close_with = ServerClosed(1000, "")
    source = url_source()
    assert list(source.items()) == []
    assert source.closed is fake_stream.close_with


def test_url_source_stops_at_the_count(fake_stream: type[FakeStream]) -> None:
    """``-n 2`` stops after two messages even if more would come."""
    fake_stream.frames = [(OP_TEXT, b"1"), (OP_TEXT, b"2"), (OP_TEXT, b"3")]
    fake_stream.close_with = ServerClosed(1000, "")
    source = url_source(count=2)
    assert list(source.items()) == [(1, 1), (2, 2)]
    assert source.closed is None


def test_url_source_count_not_reached(fake_stream: type[FakeStream]) -> None:
    """The stream ends (deadline) before ``-n``: exit 7 with got, count and duration."""
    fake_stream.frames = [(OP_TEXT, b"1")]
    source = url_source(count=4, duration=2.5)
    with pytest.raises(TimedOut) as caught:
        list(source.items())
    assert (
        caught.value.message == "too few messages: only 1 of 4 messages within 2.5 s (--duration)"
    )
    assert caught.value.where == "example.test:9"
    assert math.isfinite(fake_stream.made[0].policy.end_at)


# -- choosing sources and telling kinds -----------------------------------------------------


def test_is_url_takes_ws_and_wss_in_any_case() -> None:
    """Both schemes, any letter case; nothing else is a stream."""
    assert is_url("ws://h") and is_url("wss://h") and is_url("WSS://H") and is_url("Ws://h")
    assert not is_url("http://h") and not is_url("wss:/h")


def test_open_sources_stdin_once_and_unknown_schemes(tmp_path: Path) -> None:
    """``-`` is stdin (named ``<stdin>``) once only; any other scheme, any case, is refused."""
    [source] = open_sources(["-"], stdin=cast(Any, None), live=cast(Any, None))
    assert isinstance(source, FileSource)
    assert (source.path, source.name) == ("<stdin>", "<stdin>")
    with pytest.raises(BadUsage) as twice:
        open_sources(["-", "-"], stdin=cast(Any, None), live=cast(Any, None))
    assert twice.value.message == "stdin (-) can be read only once"
    for spec in ("http://h/x", "HTTP://h/x", "S3+X.y-z://b"):
        with pytest.raises(BadUsage) as caught:
            open_sources([spec], stdin=cast(Any, None), live=cast(Any, None))
        assert caught.value.message == (
            f"cannot validate {spec}: only ws:// and wss:// URLs are streams"
        )
        assert caught.value.hint == "give a file, - for stdin, or a ws:// or wss:// URL"


def test_sniff_edge_lines() -> None:
    """Indented transcript markers, a line cut at its very end, and an over-long integer."""
    assert sniff(b"  < {}\n") == "transcript"
    assert sniff(b'{"a": 1,') == "json"
    assert sniff(b'{"a": ' + b"1" * 5000 + b"}\n") == "jsonl"  # int() refuses: no pos


def test_file_source_kind_before_reading_and_unsniffable_first_lines() -> None:
    """``unknown`` before reading; a binary first line is told by its first byte."""
    assert FileSource("x").kind == "unknown"
    for data, kind in (
        (b'{"a": 1}\0', "json"),
        (b'"a"\0', "jsonl"),
        (b"[1]\0", "json-array"),
        (b"[1, 2]\n", "json-array"),
    ):
        source = FileSource("f", stream=io.BytesIO(data))
        list(source.items())
        assert source.kind == kind, data


def test_a_first_line_past_the_sniff_limit_starting_with_a_brace_is_documents() -> None:
    """Past 1 MiB the first line is not sniffed: ``{`` starts pretty-printed documents."""
    size = (1 << 20) + (1 << 17)  # past the limit by more than one 64 KiB read
    data = b'{"a": "' + b"x" * size + b'"}\n'
    source = FileSource("f", stream=io.BytesIO(data))
    [(position, value)] = list(source.items())
    assert source.kind == "json"
    assert position == 1
    assert value == {"a": "x" * size}


def test_documents_are_placed_at_their_line_after_blank_lines() -> None:
    """Line numbers of documents count the blank lines skipped before the first one."""
    source = FileSource("f", stream=io.BytesIO(b'\n\n{\n  "a": 1\n}\n{\n"b": 2}\n'))
    assert list(source.items()) == [(3, {"a": 1}), (6, {"b": 2})]
    assert source.kind == "json"
    assert source.place(3) == "f:3"


def test_opening_a_directory_as_a_file_source(tmp_path: Path) -> None:
    """The open itself fails: the system's words after the source's name."""
    with pytest.raises(BadUsage) as caught:
        list(FileSource(str(tmp_path)).items())
    assert caught.value.message == f"cannot read {tmp_path}: Is a directory"
