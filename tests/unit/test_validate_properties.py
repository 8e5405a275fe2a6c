"""Property-based checks of validate's pipeline (sources -> tally) with the built-in schema.

Everything the simulator (the engine behind ``wscli serve``) emits validates for any
seed; a valid message with exactly one field broken is reported invalid at exactly
that field's JSON path.
"""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wscli.checks.schema import Validator, compile_schema, load_schema
from wscli.frames import OP_TEXT
from wscli.recording import frame_record
from wscli.server.simulator import INVALID_KINDS, Simulator
from wscli.validate.sources import FileSource
from wscli.validate.tally import INVALID, UNKNOWN_TYPE, Tally

SCHEMA = load_schema()
DEFS: dict[str, Any] = SCHEMA["$defs"]
BAD_TIMESTAMPS = ("yesterday", "2024-13-45T25:61:00Z", "2024-01-15T12:00:00", "1705320000", "")
WRONG_VALUES: tuple[Any, ...] = ("text", 12345, 1.5, True, None, [1], {"k": 1})
JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


@pytest.fixture(scope="module")
def validator() -> Validator:
    return compile_schema()


def tally_of(lines: list[bytes], validator: Validator) -> Tally:
    """Run validate's pipeline over some JSON Lines (or recording) bytes in memory."""
    tally = Tally(validator)
    tally.check(FileSource("m", stream=io.BytesIO(b"".join(lines)), name="m"))
    return tally


# -- everything the simulator emits validates ---------------------------------------------


@given(seed=st.integers(min_value=0, max_value=2**32), as_recording=st.booleans())
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_every_simulated_message_validates(
    validator: Validator, seed: int, as_recording: bool
) -> None:
    """Any seed: 100 messages, as JSON Lines or as a recording, all valid, none listed."""
    sim = Simulator(seed)
    payloads = [json.dumps(sim.next_message(), ensure_ascii=False) for _ in range(100)]
    if as_recording:
        header = {"wscli": "recording", "version": 1, "url": "ws://x", "started": "t"}
        records = [frame_record(i / 10, "in", OP_TEXT, p.encode()) for i, p in enumerate(payloads)]
        lines = [
            json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in [header, *records]
        ]
    else:
        lines = payloads
    tally = tally_of([line.encode() + b"\n" for line in lines], validator)
    assert (tally.messages, tally.valid, tally.invalid, tally.malformed) == (100, 100, 0, 0)
    assert tally.failures == []
    assert tally.ok


@given(seed=st.integers(min_value=0, max_value=2**32), kind=st.sampled_from(sorted(INVALID_KINDS)))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_simulated_invalid_messages_are_blamed_where_the_simulator_says(
    validator: Validator, seed: int, kind: str
) -> None:
    """Each of the simulator's invalid kinds is reported at the path INVALID_KINDS names."""
    message = Simulator(seed).invalid(kind)
    tally = tally_of([json.dumps(message).encode() + b"\n"], validator)
    (failure,) = tally.failures
    assert {p.path for p in failure.problems} == {INVALID_KINDS[kind]}
    assert failure.kind == (UNKNOWN_TYPE if kind == "unknown_type" else INVALID)


# -- one field broken, blamed at exactly that path ----------------------------------------


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``#/$defs/...`` reference in the built-in schema."""
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return resolve(DEFS[ref.removeprefix("#/$defs/")])
    return node


def fields(message: dict[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every field present in the message, with the schema that describes it."""
    payload_def = DEFS[message["type"]]
    found: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        (("type",), resolve(SCHEMA["properties"]["type"])),
        (("data",), {"type": "object"}),
    ]
    for name, node in payload_def["properties"].items():
        if name not in message["data"]:
            continue
        spec = resolve(node)
        found.append((("data", name), spec))
        value = message["data"][name]
        if isinstance(value, dict) and "properties" in spec:
            for inner, inner_node in spec["properties"].items():
                if inner in value:
                    found.append((("data", name, inner), resolve(inner_node)))
    return found


def allowed_types(spec: dict[str, Any]) -> set[str]:
    kinds = spec.get("type", [])
    return {kinds} if isinstance(kinds, str) else set(kinds)


def json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return JSON_TYPES[type(value)]


def is_allowed(value: Any, allowed: set[str]) -> bool:
    kind = json_type(value)
    return kind in allowed or (kind == "integer" and "number" in allowed)


def pointer(parts: tuple[str, ...]) -> str:
    return "".join(f"/{part}" for part in parts)


def set_at(message: dict[str, Any], parts: tuple[str, ...], value: Any) -> None:
    target = message
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = value


@st.composite
def mutated(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """A valid simulated message with one field broken, and the path that must be blamed."""
    sim = Simulator(draw(st.integers(min_value=0, max_value=2**32)))
    message = sim.next_message()
    for _ in range(draw(st.integers(0, 30))):
        message = sim.next_message()
    message = copy.deepcopy(message)
    candidates = fields(message)
    how = draw(st.sampled_from(["wrong_type", "missing", "out_of_range", "bad_timestamp"]))
    if how == "missing":
        where = draw(st.sampled_from([(), ("data",)]))
        required = SCHEMA["required"] if not where else DEFS[message["type"]]["required"]
        name = draw(st.sampled_from(required))
        container = message if not where else message["data"]
        del container[name]
        return message, pointer(where), f"missing {name}"
    if how == "bad_timestamp":
        stamps = [p for p, spec in candidates if spec.get("format") == "date-time"]
        parts = draw(st.sampled_from(stamps))
        set_at(message, parts, draw(st.sampled_from(BAD_TIMESTAMPS)))
        return message, pointer(parts), "bad timestamp"
    if how == "out_of_range":
        bounded = [(p, s) for p, s in candidates if "minimum" in s or "maximum" in s]
        parts, spec = draw(st.sampled_from(bounded))
        integer = allowed_types(spec) == {"integer"}
        step = draw(st.integers(1, 1000)) if integer else draw(st.floats(0.001, 1000))
        side = draw(st.sampled_from([k for k in ("minimum", "maximum") if k in spec]))
        value = spec[side] - step if side == "minimum" else spec[side] + step
        set_at(message, parts, value)
        return message, pointer(parts), f"{side} broken"
    parts, spec = draw(st.sampled_from([(p, s) for p, s in candidates if "type" in s]))
    wrong = [v for v in WRONG_VALUES if not is_allowed(v, allowed_types(spec))]
    set_at(message, parts, draw(st.sampled_from(wrong)))
    return message, pointer(parts), "wrong type"


@pytest.mark.slow
@given(case=mutated())
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_one_broken_field_is_blamed_at_exactly_its_path(
    validator: Validator, case: tuple[dict[str, Any], str, str]
) -> None:
    """Wrong type, missing required field, out-of-range value, bad timestamp: one path."""
    message, path, how = case
    good = Simulator(1).next_message()
    lines = [json.dumps(m).encode() + b"\n" for m in (good, message, good)]
    tally = tally_of(lines, validator)
    assert (tally.valid, tally.invalid, tally.malformed) == (2, 1, 0), how
    (failure,) = tally.failures
    assert failure.place == "m:2"
    assert {p.path for p in failure.problems} == {path}, (how, failure.problems)
