"""The one judgement of a message (wscli.checks.judgement): every verdict, label and problem."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wscli.checks.judgement import (
    BINARY,
    BINARY_LABEL,
    INVALID,
    MALFORMED,
    MALFORMED_LABEL,
    NO_TYPE,
    UNCHECKED,
    VALID,
    Judgement,
    MalformedInput,
    judge,
    judge_value,
    type_label,
)
from wscli.checks.schema import Problem, Validator
from wscli.frames import OP_BINARY, OP_TEXT
from wscli.session.tailing import load_validator
from wscli.validate.tally import NO_TYPE as VALIDATE_NO_TYPE
from wscli.validate.tally import Malformed

READING: dict[str, Any] = {
    "type": "sensor_reading",
    "data": {
        "id": 1,
        "sensor_id": 3,
        "type": "temperature",
        "location": "kitchen",
        "value": 21.5,
        "unit": "°C",
        "timestamp": "2024-01-15T12:00:00.000Z",
    },
}


@pytest.fixture(scope="module")
def validator() -> Validator:
    return load_validator(None)


def _text(value: object) -> bytes:
    return json.dumps(value).encode()


def test_each_kind_of_message_has_one_verdict_and_label(validator: Validator) -> None:
    """valid, invalid, unknown type, untyped, malformed, binary: verdict and label."""
    bad = {**READING, "data": {**READING["data"], "value": "21.5"}}
    cases = [
        (OP_TEXT, _text(READING), VALID, "sensor_reading"),
        (OP_TEXT, _text(bad), INVALID, "sensor_reading"),
        (OP_TEXT, _text({**READING, "type": "mystery"}), INVALID, "mystery"),
        (OP_TEXT, _text([1, 2]), INVALID, NO_TYPE),
        (OP_TEXT, _text({"type": 7}), INVALID, NO_TYPE),
        (OP_TEXT, b"{oops", MALFORMED, MALFORMED_LABEL),
        (OP_TEXT, b"\xff\xfe", MALFORMED, MALFORMED_LABEL),
        (OP_BINARY, b"\x00\x01\x02", BINARY, BINARY_LABEL),
    ]
    for opcode, payload, verdict, label in cases:
        judged = judge(opcode, payload, validator)
        assert (judged.verdict, judged.label) == (verdict, label), payload
        assert judged.failed is (verdict != VALID)
        assert judged.is_json is (verdict in (VALID, INVALID))


def test_problems_only_when_explained(validator: Validator) -> None:
    """The slow explainer runs only when asked; the first problem reads as one phrase."""
    bad = _text({**READING, "data": {**READING["data"], "value": "21.5"}})
    quick = judge(OP_TEXT, bad, validator, explain=False)
    assert quick.verdict == INVALID and quick.problems == () and quick.problem == "invalid"
    full = judge(OP_TEXT, bad, validator)
    assert full.problem.startswith("/data/value: ")
    binary = judge(OP_BINARY, b"abc", validator)
    assert binary.problem == binary.reason == "binary frame (3 bytes)"
    assert judge(OP_TEXT, b"{", None).reason.startswith("not JSON")


def test_without_a_schema_json_is_unchecked() -> None:
    judged = judge(OP_TEXT, _text(READING), None)
    assert judged.verdict == UNCHECKED and not judged.failed and judged.value == READING
    assert judge(OP_BINARY, b"", None).failed  # never a message, schema or not
    assert Judgement(VALID, "x").problem == ""
    assert Judgement(INVALID, "x", problems=(Problem("", "no", None),)).problem == "/: no"


def test_values_a_source_decoded_are_judged_alike(validator: Validator) -> None:
    """validate's sources hand over values: a MalformedInput item is malformed."""
    assert Malformed is MalformedInput
    item = judge_value(MalformedInput("empty file"), validator)
    assert (item.verdict, item.label, item.reason) == (MALFORMED, MALFORMED_LABEL, "empty file")
    assert judge_value(READING, validator).verdict == VALID
    assert judge_value(None, None).label == NO_TYPE


def test_one_label_for_an_untyped_message() -> None:
    """``(no type)`` everywhere: validate's rows use the judgement's label."""
    assert VALIDATE_NO_TYPE == NO_TYPE == "(no type)"
    assert type_label({"type": "a"}) == "a"
    assert type_label({"type": None}) == type_label("s") == type_label(3) == NO_TYPE
