"""Property-based checks of validate's inputs when they are hostile (issue #6).

Extends ``test_validate_properties.py`` to lone surrogates, deep nesting, NaN, files
without newlines and arbitrary bytes, in every file kind validate reads. Examples and
sizes are bounded and every example has a deadline, so a regression to unbounded
reads or recursion shows up as a failure, not a hang.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wscli.checks.schema import Validator, compile_schema
from wscli.frames import OP_TEXT
from wscli.messages import MAX_DEPTH
from wscli.recording import frame_record
from wscli.server.simulator import Simulator
from wscli.validate.lines import LineReader
from wscli.validate.reports import failure_lines, failure_records
from wscli.validate.sources import FileSource
from wscli.validate.tally import MALFORMED, Malformed, Tally

KINDS = ("jsonl", "recording", "array", "documents")
BOUNDED = settings(
    max_examples=60,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def validator() -> Validator:
    return compile_schema()


def as_file(payloads: list[str], kind: str) -> bytes:
    """The payloads (JSON texts) laid out as one of the file kinds validate reads."""
    if kind == "jsonl":
        return "".join(p + "\n" for p in payloads).encode()
    if kind == "recording":
        header = {"wscli": "recording", "version": 1, "url": "ws://x", "started": "t"}
        records = [
            frame_record(i / 10, "in", OP_TEXT, p.encode("utf-8")) for i, p in enumerate(payloads)
        ]
        return "".join(json.dumps(r) + "\n" for r in [header, *records]).encode()
    if kind == "array":
        return ("[\n" + ",\n".join(payloads) + "\n]\n").encode()
    return "".join("{\n" + p.strip()[1:] + "\n" for p in payloads).encode()


def checked(data: bytes, validator: Validator, limit: int | None = None) -> Tally:
    """validate's pipeline over bytes, every failure rendered as each report would."""
    tally = Tally(validator)
    source = FileSource("m", stream=io.BytesIO(data), name="m")
    if limit is not None:
        source.limit = limit
    tally.check(source)
    for failure in tally.failures:
        "\n".join(failure_lines(failure)).encode("utf-8")  # writable as text reports
        json.dumps(failure_records(failure), ensure_ascii=False).encode("utf-8")
    return tally


@st.composite
def message_text(draw: st.DrawFn) -> str:
    sim = Simulator(draw(st.integers(0, 2**32)))
    return json.dumps(sim.next_message())


# -- lone surrogates -------------------------------------------------------------------------


@given(
    message=message_text(),
    code=st.integers(0xD800, 0xDFFF),
    kind=st.sampled_from(KINDS),
    where=st.sampled_from(["key", "value"]),
)
@BOUNDED
def test_a_lone_surrogate_is_malformed_in_every_kind(
    validator: Validator, message: str, code: int, kind: str, where: str
) -> None:
    """One message with a lone surrogate among valid ones: exactly it is malformed."""
    obj = json.loads(message)
    if where == "key":
        obj["data"][f"k{chr(code)}"] = 1
    else:
        obj["data"]["message" if obj["type"] == "error" else "location"] = f"x{chr(code)}"
    odd = json.dumps(obj)  # ensure_ascii: the surrogate is written as a \\uXXXX escape
    tally = checked(as_file([message, odd, message], kind), validator)
    assert (tally.valid, tally.invalid, tally.malformed) == (2, 0, 1)
    (failure,) = tally.failures
    assert failure.kind == MALFORMED and f"\\u{code:04x}" in failure.reason


# -- deep nesting ----------------------------------------------------------------------------


@given(depth=st.integers(1, 400), kind=st.sampled_from(KINDS), arrays=st.booleans())
@BOUNDED
def test_nesting_past_the_limit_is_malformed_never_a_crash(
    validator: Validator, depth: int, kind: str, arrays: bool
) -> None:
    """Data nested ``depth`` levels under the envelope is malformed past MAX_DEPTH levels."""
    inner = "[" * depth + "]" * depth if arrays else '{"a":' * depth + "1" + "}" * depth
    payload = '{"type":"error","data":{"message":"m","code":' + inner + "}}"
    tally = checked(as_file([payload], kind), validator)
    levels = 2 + depth  # the envelope, "data", then depth arrays or objects
    if levels > MAX_DEPTH:
        assert tally.malformed == 1
        assert "nested too deep" in tally.failures[0].reason
    else:
        assert tally.malformed == 0 and tally.messages == 1


@given(value=st.sampled_from(["NaN", "Infinity", "-Infinity"]), kind=st.sampled_from(KINDS))
@settings(max_examples=20, deadline=2000)
def test_non_finite_numbers_are_malformed(value: str, kind: str) -> None:
    """NaN and Infinity are not JSON: malformed in every kind of file."""
    payload = '{"type":"error","data":{"message":"m","code":' + value + "}}"
    tally = checked(as_file([payload], kind), compile_schema())
    assert tally.malformed == 1
    assert tally.failures[0].reason.endswith(f"{value} is not a JSON number")


# -- files without newlines and arbitrary bytes ----------------------------------------------


@given(
    head=st.sampled_from([b"", b"[", b"{", b'{"a": "', b'"', b"< ", b"x"]),
    body=st.sampled_from([b"\0", b"x", b" ", b"[", b"{", b"\xff", b"]"]),
    size=st.integers(0, 300_000),
)
@BOUNDED
def test_input_without_newlines_is_bounded(
    validator: Validator, head: bytes, body: bytes, size: int
) -> None:
    """No newline at all, up to 300 KB, a 4 KiB limit: a few items, never an exception."""
    data = head + body * (size // len(body))
    tally = checked(data, validator, limit=4096)
    assert tally.messages <= 2 + size // 4096
    for failure in tally.failures:
        assert failure.reason or failure.problems


@given(data=st.binary(max_size=2000), limit=st.integers(16, 4096))
@BOUNDED
def test_arbitrary_bytes_never_raise(validator: Validator, data: bytes, limit: int) -> None:
    """Any bytes become messages or malformed items; nothing escapes as an exception."""
    checked(data, validator, limit=limit)


# -- the line reader against splitlines ------------------------------------------------------


def chunked(data: bytes, seed: int) -> Callable[[int], bytes]:
    """``read(n)`` that returns random short reads, as pipes do."""
    rng = random.Random(seed)
    view = memoryview(data)
    position = 0

    def read(size: int) -> bytes:
        nonlocal position
        take = min(size, rng.randint(1, 64))
        chunk = bytes(view[position : position + take])
        position += len(chunk)
        return chunk

    return read


@given(
    lines=st.lists(st.binary(max_size=80).map(lambda b: b.replace(b"\n", b"").replace(b"\0", b""))),
    last_newline=st.booleans(),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=200, deadline=2000)
def test_line_reader_matches_splitlines(lines: list[bytes], last_newline: bool, seed: int) -> None:
    """Whatever the chunking, lines within the limit come out exactly, numbered from 1."""
    data = b"\n".join(lines) + (b"\n" if last_newline and lines else b"")
    got = list(LineReader(chunked(data, seed), limit=100))
    expected = data.split(b"\n")
    expected = [line + b"\n" for line in expected[:-1]] + ([expected[-1]] if expected[-1] else [])
    assert got == list(enumerate(expected, start=1))


@given(prefix=st.integers(0, 5), size=st.integers(101, 1000), seed=st.integers(0, 2**16))
@settings(max_examples=50, deadline=2000)
def test_line_reader_stops_past_the_limit(prefix: int, size: int, seed: int) -> None:
    """A line longer than the limit is malformed and ends the input, at the right line."""
    data = b"ok\n" * prefix + b"y" * size + b"\nmore\n"
    got = list(LineReader(chunked(data, seed), limit=100))
    assert [line for _, line in got[:prefix]] == [b"ok\n"] * prefix
    number, last = got[-1]
    assert number == prefix + 1 and len(got) == prefix + 1
    assert isinstance(last, Malformed) and "the rest of the input was not read" in last.reason


def test_line_numbers_stay_exact_across_many_chunks(validator: Validator) -> None:
    """In a file of many 64 KiB chunks, every malformed line is named at its number."""
    good = json.dumps(Simulator(3).next_message()).encode() + b"\n"
    lines = [b"oops\n" if n % 997 == 0 else good for n in range(1, 20_001)]
    tally = checked(b"".join(lines), validator)
    assert [f.position for f in tally.failures] == [n for n in range(1, 20_001) if n % 997 == 0]
    assert tally.valid == 20_000 - len(tally.failures)
