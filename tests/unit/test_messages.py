"""Payload decoding: orjson's speed, the standard library's verdicts."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wscli.messages import Malformed, parse_json, unfit_value


def test_plain_json() -> None:
    """An envelope decodes to the same object json.loads gives."""
    raw = b'{"type": "error", "data": {"message": "x"}}'
    assert parse_json(raw) == json.loads(raw)


def test_what_orjson_refuses_the_stdlib_accepts() -> None:
    """Big integers are accepted; NaN, which json.loads accepts, is not JSON (issue #6)."""
    assert parse_json(b"123456789012345678901234567890") == float(123456789012345678901234567890)
    with pytest.raises(Malformed, match="NaN is not a JSON number"):
        parse_json(b'{"v": NaN}')


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
    """For any bytes, parse_json accepts what utf-8 + json.loads accepts, less what is
    no message: NaN/Infinity, lone surrogates, deep nesting (issue #6)."""
    try:
        expected = json.loads(payload.decode("utf-8"))
        ok = unfit_value(expected) is None
    except (UnicodeDecodeError, ValueError, RecursionError):
        ok = False
    if ok:
        got = parse_json(payload)
        if not isinstance(expected, int) or abs(expected) < 2**63:
            assert json.dumps(got) == json.dumps(expected)
    else:
        with pytest.raises(Malformed):
            parse_json(payload)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"v": 1e999}',
        b'{"v": -1E+999}',
        b'{"v": 1e999, "s": "\\u00e9"}',  # a neighbour that used to decide the verdict
        b'{"v": 1' + b"0" * 309 + b".5}",
        b"[1e999]",
    ],
)
def test_a_number_no_double_holds_is_malformed_whatever_is_beside_it(payload: bytes) -> None:
    """1e999 is JSON text, but json reads it as Infinity: out of range, every time."""
    with pytest.raises(Malformed) as info:
        parse_json(payload)
    assert info.value.reason == (
        "number out of range: it overflows a double (it would read as Infinity)"
    )


def test_large_but_finite_numbers_and_literal_infinity_keep_their_verdicts() -> None:
    assert parse_json(b'{"v": 1e308, "w": 1e-999, "s": "\\u00e9"}') == {
        "v": 1e308,
        "w": 0.0,
        "s": "\u00e9",
    }
    with pytest.raises(Malformed, match="^not JSON: Infinity is not a JSON number$"):
        parse_json(b'{"v": Infinity}')
