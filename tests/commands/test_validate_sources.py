"""Reading validate's inputs: kinds told by content, places, malformed input, fast paths."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wscli.errors import BadUsage
from wscli.frames import OP_BINARY, OP_CLOSE, OP_TEXT
from wscli.recording import RecordingWriter, frame_record
from wscli.validate import jsonstream, sources
from wscli.validate.sources import FileSource, loads, recording_items, sniff
from wscli.validate.tally import Malformed

READING = {"type": "error", "data": {"message": "sensor 1 timed out"}}

json_values = st.recursive(
    st.none()
    | st.booleans()
    # orjson reads integers beyond 64 bits as floats (see wscli.messages)
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def read(data: bytes, name: str = "f") -> tuple[str, list[tuple[int, object]]]:
    """Kind and items of some bytes, read the way validate reads a file."""
    source = FileSource(name, stream=io.BytesIO(data), name=name)
    items = list(source.items())
    return source.kind, items


def reasons(items: list[tuple[int, object]]) -> list[tuple[int, str]]:
    return [(pos, value.reason) for pos, value in items if isinstance(value, Malformed)]


# -- kinds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "kind"),
    [
        (b'{"wscli": "recording", "version": 1, "url": "ws://x", "started": "t"}\n', "recording"),
        (b'{"type": "error", "data": {}}\n', "jsonl"),
        (b"[\n", "json-array"),
        (b"  [{}]\n", "json-array"),
        (b"{\n", "json"),
        (b'{"type": "error",\n', "json"),
        (b'{"type": "err\n', "jsonl"),
        (b"not json at all\n", "jsonl"),
        (b"\xff\xfe\n", "jsonl"),
    ],
)
def test_kind_is_told_by_the_first_line(first: bytes, kind: str) -> None:
    """Recording header, JSON Lines, array and pretty-printed documents are recognised."""
    assert sniff(first) == kind


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_input_is_one_malformed_item(tmp_path: Path, data: bytes) -> None:
    """An empty (or blank) file is reported once, at the file itself."""
    path = tmp_path / "e.jsonl"
    path.write_bytes(data)
    source = FileSource(str(path))
    items = list(source.items())
    assert source.kind == "empty"
    assert reasons(items) == [(0, "empty file")]
    assert source.place(0) == str(path)
    assert read(data)[1] == [(0, Malformed("empty input"))]


def test_byte_order_mark_is_ignored() -> None:
    """A UTF-8 BOM before the first line does not make the file malformed."""
    kind, items = read(b"\xef\xbb\xbf" + json.dumps(READING).encode() + b"\n")
    assert kind == "jsonl"
    assert items == [(1, READING)]


# -- JSON Lines ---------------------------------------------------------------------------


def test_json_lines_places_and_malformed_lines() -> None:
    """Lines keep their numbers; blank lines are skipped; bad ones say why."""
    good = json.dumps(READING).encode()
    data = b"\n".join([good, b"", b"nope", b'{"a": \xff}', good, b'{"type": "sensor_re'])
    kind, items = read(data)
    assert kind == "jsonl"
    assert [pos for pos, _ in items] == [1, 3, 4, 5, 6]
    assert items[0] == (1, READING) and items[3] == (5, READING)
    found = dict(reasons(items))
    assert found[3].startswith("not JSON: Expecting value")
    assert found[4].startswith("invalid UTF-8")
    assert found[6].startswith("truncated last line")


def test_crlf_lines_and_surrounding_whitespace() -> None:
    """Windows line endings and indentation are fine in JSON Lines."""
    good = json.dumps(READING).encode()
    _, items = read(good + b"\r\n  " + good + b"  \r\n")
    assert items == [(1, READING), (2, READING)]


# -- recordings ---------------------------------------------------------------------------


def write_recording(path: Path, frames: list[tuple[str, int, bytes]]) -> None:
    writer = RecordingWriter(path, "ws://example/")
    writer.event("connect", url="ws://example/")
    for direction, opcode, payload in frames:
        writer.frame(direction, opcode, payload)
    writer.event("disconnect", reason="bye")
    writer.close()


def test_recording_messages_are_received_text_frames(tmp_path: Path) -> None:
    """Only dir=in text frames are messages; received binary frames are malformed."""
    path = tmp_path / "r.jsonl"
    message = json.dumps(READING).encode()
    write_recording(
        path,
        [
            ("in", OP_TEXT, message),
            ("out", OP_TEXT, b"hello"),
            ("in", OP_BINARY, b"\x00\x01\x02"),
            ("in", OP_TEXT, b"\xff not utf-8"),
            ("in", OP_CLOSE, b"\x03\xe8"),
            ("in", OP_TEXT, b"not json"),
        ],
    )
    source = FileSource(str(path))
    items = list(source.items())
    assert source.kind == "recording"
    assert items[0] == (3, READING)
    assert reasons(items) == [
        (5, "binary frame (3 bytes)"),
        (6, "text frame is not valid UTF-8"),
        (8, "not JSON: Expecting value (column 1)"),
    ]
    assert source.place(3) == f"{path}:3"


def test_recording_truncated_last_line_is_malformed(tmp_path: Path) -> None:
    """A recording cut by SIGKILL mid-line reports the cut, keeps what came before."""
    path = tmp_path / "r.jsonl"
    write_recording(path, [("in", OP_TEXT, json.dumps(READING).encode())] * 2)
    data = path.read_bytes()
    path.write_bytes(data + b'{"t":1.5,"dir":"in","op":"text","len":40,"text":"{\\"ty')
    items = list(FileSource(str(path)).items())
    assert [v for _, v in items[:2]] == [READING, READING]
    ((_, reason),) = reasons(items)
    assert reason.startswith("truncated last line")


def test_unsupported_recording_version_is_a_usage_error(tmp_path: Path) -> None:
    """A recording from a future wscli is refused clearly (exit 2), not misread."""
    path = tmp_path / "r.jsonl"
    path.write_text('{"wscli": "recording", "version": 9}\n')
    with pytest.raises(BadUsage, match="unsupported recording version 9"):
        list(FileSource(str(path)).items())


def test_concatenated_recordings_are_read_as_one(tmp_path: Path) -> None:
    """`cat a.rec b.rec`: the second header is skipped, both recordings' messages count."""
    a, b = tmp_path / "a", tmp_path / "b"
    write_recording(a, [("in", OP_TEXT, json.dumps(READING).encode())])
    write_recording(b, [("in", OP_TEXT, json.dumps(READING).encode())])
    both = tmp_path / "both"
    both.write_bytes(a.read_bytes() + b.read_bytes())
    items = list(FileSource(str(both)).items())
    assert [v for _, v in items] == [READING, READING]


@given(
    text=st.text(max_size=60),
    t=st.floats(0, 1e6),
    spaced=st.booleans(),
    end=st.sampled_from(["\n", "", "\r\n", " \n", "\x0b\n", "x\n"]),
)
@settings(max_examples=300, deadline=None)
def test_recording_fast_path_matches_the_general_path(
    text: str, t: float, spaced: bool, end: str
) -> None:
    """The orjson fast path yields exactly what the standard library's path would."""
    payload = json.dumps({"type": "error", "data": {"message": text}}, ensure_ascii=False)
    for body in (payload, text):
        record = frame_record(t, "in", OP_TEXT, body.encode("utf-8", "surrogatepass"))
        separators = (", ", ": ") if spaced else (",", ":")
        line = json.dumps(record, ensure_ascii=False, separators=separators) + end
        fast = list(recording_items([(1, line.encode("utf-8", "surrogatepass"))], "r"))
        general = sources._recording_line(line.encode("utf-8", "surrogatepass"), "r")
        assert fast == ([(1, general)] if general is not sources.NOT_A_MESSAGE else [])


# -- JSON arrays and documents ------------------------------------------------------------


def test_json_array_elements_are_indexed() -> None:
    """Each element of a top-level array is a message at file[index]."""
    data = json.dumps([READING, 12, READING], indent=2).encode()
    source = FileSource("a.json", stream=io.BytesIO(data), name="a.json")
    items = list(source.items())
    assert source.kind == "json-array"
    assert items == [(0, READING), (1, 12), (2, READING)]
    assert source.place(1) == "a.json[1]"


@pytest.mark.parametrize(
    ("data", "position", "start"),
    [
        (b'[{"a": 1}, {"a": ', 1, "truncated"),
        (b'[{"a": 1}', 1, "truncated: the array is not closed"),
        (b'[{"a": 1},]', 1, "not JSON: trailing comma"),
        (b'[{"a": 1} {"a": 2}]', 1, "not JSON: expected , or ]"),
        (b'[{"a": 1}] [2]', 1, "not JSON: data after the array"),
        (b'[{"a": 1}, {"a": x}]', 1, "not JSON: Expecting value"),
        (b'[{"a": 1}, "\xff"]', 1, "invalid UTF-8"),
    ],
)
def test_broken_json_arrays(data: bytes, position: int, start: str) -> None:
    """A broken array keeps the elements before the break and names the break's place."""
    _, items = read(data)
    assert items[0] == (0, {"a": 1})
    ((found_at, reason),) = reasons(items)
    assert found_at == position
    assert reason.startswith(start), reason


def test_empty_array_holds_no_messages() -> None:
    """`[]` is well-formed and holds nothing (the command then fails on "no messages")."""
    assert read(b"[ ]\n") == ("json-array", [])


@contextmanager
def chunk_size(size: int) -> Iterator[None]:
    """Shrink the read size so that every chunk boundary gets exercised."""
    original = jsonstream.CHUNK
    jsonstream.CHUNK = size
    try:
        yield
    finally:
        jsonstream.CHUNK = original


@pytest.mark.slow
@given(values=st.lists(json_values, max_size=12), chunk=st.integers(1, 9), indent=st.booleans())
@settings(max_examples=150, deadline=None)
def test_array_streaming_survives_any_chunk_boundary(
    values: list[Any], chunk: int, indent: bool
) -> None:
    """Streaming in tiny chunks yields exactly the elements json.loads sees in the whole."""
    data = json.dumps(values, indent=2 if indent else None).encode()
    with chunk_size(chunk):
        kind, items = read(data)
    assert kind == "json-array"
    assert [v for _, v in items] == values
    assert [p for p, _ in items] == list(range(len(values)))


@given(values=st.lists(json_values, min_size=1, max_size=6), chunk=st.integers(1, 9))
@settings(max_examples=100, deadline=None)
def test_document_streaming_survives_any_chunk_boundary(values: list[Any], chunk: int) -> None:
    """Pretty-printed documents read in tiny chunks keep their values and first lines."""
    docs = [json.dumps({"v": v}, indent=2) for v in values]
    data = "\n".join(docs).encode() + b"\n"
    with chunk_size(chunk):
        kind, items = read(data)
    assert kind == "json"
    assert [v for _, v in items] == [{"v": v} for v in values]
    starts = [1]
    for doc in docs[:-1]:
        starts.append(starts[-1] + doc.count("\n") + 1)
    assert [p for p, _ in items] == starts


def test_pretty_printed_documents_are_placed_at_their_first_line() -> None:
    """Several indented JSON documents: each is a message at the line where it starts."""
    first = json.dumps(READING, indent=2)
    data = f"{first}\n{first}\n".encode()
    kind, items = read(data)
    assert kind == "json"
    assert items == [(1, READING), (first.count("\n") + 2, READING)]


def test_documents_resume_after_a_broken_one() -> None:
    """After a syntax error, reading resumes at the next line starting a document."""
    good = json.dumps(READING, indent=2)
    broken = '{\n  "type": "error",\n  "data": nope\n}'
    data = f"{good}\n{broken}\n{good}\n".encode()
    _, items = read(data)
    lines = good.count("\n") + 1
    assert items[0] == (1, READING)
    assert items[-1] == (lines + broken.count("\n") + 2, READING)
    assert [v for _, v in items if not isinstance(v, Malformed)] == [READING, READING]
    ((at, reason),) = reasons(items)
    assert at == lines + 1
    assert reason.startswith("not JSON: Expecting value (line")


# -- the fast loads -----------------------------------------------------------------------


@pytest.mark.slow
@given(
    value=json_values,
    before=st.sampled_from(["", " ", "\n"]),
    after=st.sampled_from(["", "\n", " ", "\r\n", "x", " 1", "\x0b"]),
)
@settings(max_examples=300, deadline=None)
def test_fast_loads_is_exactly_json_loads(value: Any, before: str, after: str) -> None:
    """Same value, or the same error message, as json.loads for any text."""
    text = before + json.dumps(value) + after
    try:
        expected: Any = json.loads(text)
    except ValueError as exc:
        with pytest.raises(ValueError) as caught:
            loads(text)
        assert str(caught.value) == str(exc)
    else:
        assert loads(text) == expected


@pytest.mark.parametrize("text", ["\ufeff{}", "", "NaN", "[1, 2", '"\\ud800"', "1 2"])
def test_fast_loads_edge_cases(text: str) -> None:
    """BOM, empty text, NaN, truncation, lone surrogates and extra data agree too."""
    try:
        expected: Any = json.loads(text)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc).replace("(", r"\(").replace(")", r"\)")):
            loads(text)
    else:
        result = loads(text)
        assert result == expected or (result != result and expected != expected)


def test_deep_nesting_is_malformed_not_a_crash() -> None:
    """JSON nested beyond Python's recursion limit is reported, never a traceback."""
    deep = b"[" * 100_000 + b"]" * 100_000
    _, items = read(b'{"x": ' + deep + b"}\n")
    assert reasons(items) == [(1, "nested too deeply to decode")]


def test_max_size_holds_for_pretty_printed_documents_read_in_one_chunk(tmp_path: Path) -> None:
    """Two 200-byte documents with --max-size 100: both malformed, each at its first line."""
    from tests.support.cli import run_cli

    doc = {"type": "sensor_reading", "data": {"id": 1, "value": 55.5, "unit": "%", "pad": "x" * 80}}
    text = json.dumps(doc, indent=2) + "\n"
    assert len(text) > 150
    path = tmp_path / "two.json"
    path.write_text(text * 2)
    result = run_cli("validate", str(path), "--max-size", "100", expect=1)
    second = 1 + text.count("\n")
    assert f"{path}:1: malformed: a JSON value larger than 100 B (--max-size)" in result.stdout
    assert f"{path}:{second}: malformed: a JSON value larger than 100 B (--max-size)" in (
        result.stdout
    )
    assert "2 messages: 0 valid, 0 invalid, 2 malformed" in result.stdout


# -- pins: what each odd line of a recording, a transcript or tail's output becomes -------------

HEADER = b'{"wscli": "recording", "version": 1, "url": "ws://x", "started": "t"}\n'


def test_transcript_lines_with_and_without_the_space() -> None:
    """wscat writes ``< {...}``; a hand-trimmed ``<{...}`` is the same message."""
    kind, items = read(b'< {"type": "a"}\n<{"type": "b"}\n> {"type": "sent"}\n')
    assert kind == "transcript"
    assert items == [(1, {"type": "a"}), (2, {"type": "b"})]


def test_a_transcript_lines_column_counts_from_the_message() -> None:
    """The marker and its one space are not part of the message: column 2 is its 2nd byte."""
    _, items = read(b'< {"type": "a"}\n< {oops\n<{oops\n')
    column_2 = "not JSON: Expecting property name enclosed in double quotes (column 2)"
    assert reasons(items) == [(2, column_2), (3, column_2)]


def test_tail_binary_line_without_a_numeric_length() -> None:
    _, items = read(
        b'{"binary": true, "len": "x", "b64": ""}\n{"binary": true, "len": 3, "b64": ""}\n'
    )
    assert reasons(items) == [(1, "binary frame"), (2, "binary frame (3 bytes)")]


def test_a_message_shaped_like_tails_malformed_line_but_not_of_its_types_stays_a_message() -> None:
    """Only tail's exact shape (two strings) is read as a malformed frame."""
    _, items = read(b'{"malformed": 5, "text": "{}"}\n{"malformed": "x", "text": 7}\n')
    assert items == [(1, {"malformed": 5, "text": "{}"}), (2, {"malformed": "x", "text": 7})]


def test_recording_lines_orjson_refuses_are_named_by_the_standard_library(tmp_path: Path) -> None:
    """Invalid UTF-8, not JSON, nesting: each reason exact, each at its line."""
    path = tmp_path / "r.jsonl"
    path.write_bytes(
        HEADER
        + b'{"t":0,"dir":"in","op":"text","text":"\xff"}\n'
        + b"{oops\n"
        + b"[" * 5000
        + b"\n"
        + b'{"t":0,"dir":"in","op":"text","text":"{}"}\n'
    )
    items = list(FileSource(str(path)).items())
    assert reasons(items) == [
        (2, "invalid UTF-8 in the recording (byte 39)"),
        (
            3,
            "not a JSON recording line: Expecting property name enclosed in double quotes"
            " (column 2)",
        ),
        (4, "nested too deeply to decode"),
    ]
    assert items[-1] == (5, {})


def test_a_second_header_orjson_refuses_is_still_version_checked(tmp_path: Path) -> None:
    """``NaN`` sends the line to the standard library's path; the version check holds there."""
    path = tmp_path / "r.jsonl"
    path.write_bytes(HEADER + b'{"wscli": "recording", "version": 2, "x": NaN}\n')
    with pytest.raises(BadUsage) as info:
        list(FileSource(str(path), name="r.jsonl").items())
    assert info.value.message == "r.jsonl: unsupported recording version 2"
    assert info.value.hint == "this wscli reads version 1 recordings"


def test_a_recording_line_over_the_limit_ends_the_source_as_malformed(tmp_path: Path) -> None:
    """The line reader's verdict passes through the recording reader unchanged."""
    path = tmp_path / "r.jsonl"
    big = b'{"t":0,"dir":"in","op":"text","text":"' + b"x" * 500 + b'"}\n'
    path.write_bytes(HEADER + big + b'{"t":0,"dir":"in","op":"text","text":"{}"}\n')
    items = list(FileSource(str(path), limit=200).items())
    assert reasons(items) == [
        (
            2,
            "line longer than 200 B; no line end within 200 B (--max-size),"
            " the rest of the input was not read",
        )
    ]
    assert len(items) == 1


def test_recording_odd_lines_on_the_fast_path(tmp_path: Path) -> None:
    """Lines orjson reads: a non-object, brackets that are only text, a later header."""
    brackets = json.dumps({"type": "x", "data": {"s": "[" * 200}})
    path = tmp_path / "r.jsonl"
    path.write_bytes(
        HEADER
        + b"[1]\n"
        + json.dumps({"t": 0, "dir": "in", "op": "text", "text": brackets}).encode()
        + b"\n"
    )
    items = list(FileSource(str(path)).items())
    assert items == [(2, Malformed("not a recording frame or event")), (3, json.loads(brackets))]
    path.write_bytes(HEADER + b'{"wscli": "recording", "version": 3}\n')
    with pytest.raises(BadUsage) as info:
        list(FileSource(str(path), name="r.jsonl").items())
    assert info.value.message == "r.jsonl: unsupported recording version 3"
