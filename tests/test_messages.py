"""Payload decoding: orjson's speed, the standard library's verdicts."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wscli.messages import Malformed, parse_json


def test_plain_json() -> None:
    """An envelope decodes to the same object json.loads gives."""
    raw = b'{"type": "error", "data": {"message": "x"}}'
    assert parse_json(raw) == json.loads(raw)


def test_what_orjson_refuses_the_stdlib_accepts() -> None:
    """NaN and big integers are accepted, as json.loads accepts them."""
    assert parse_json(b"123456789012345678901234567890") == float(123456789012345678901234567890)
    value = parse_json(b'{"v": NaN}')["v"]
    assert value != value


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "invalid UTF-8 at byte 0"),
        (b'{"a": ', "not JSON: Expecting value: line 1 column 7 (char 6)"),
        (b"", "not JSON: Expecting value: line 1 column 1 (char 0)"),
    ],
)
def test_malformed_reasons(payload: bytes, reason: str) -> None:
    """Malformed payloads say why, in the standard library's words."""
    with pytest.raises(Malformed) as caught:
        parse_json(payload)
    assert caught.value.reason == reason


@given(st.binary(max_size=64))
def test_verdict_matches_stdlib(payload: bytes) -> None:
    """For any bytes, parse_json accepts exactly what utf-8 + json.loads accepts."""
    try:
        expected = json.loads(payload.decode("utf-8"))
        ok = True
    except (UnicodeDecodeError, ValueError):
        ok = False
    if ok:
        got = parse_json(payload)
        if not isinstance(expected, int) or abs(expected) < 2**63:
            assert json.dumps(got) == json.dumps(expected)
    else:
        with pytest.raises(Malformed):
            parse_json(payload)
