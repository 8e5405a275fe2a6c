"""The schema module: the built-in schema, fast and slow engines, plain-words problems."""

from __future__ import annotations

import copy
import errno
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wscli.checks import schema as schema_module
from wscli.checks.schema import (
    DRAFT_2020_12,
    LocalRetriever,
    Problem,
    Validator,
    builtin_schema_path,
    check_schema,
    compile_schema,
    load_schema,
    make_strict,
)
from wscli.errors import BadUsage
from wscli.server.simulator import INVALID_KINDS, Simulator

READING: dict[str, Any] = {
    "type": "sensor_reading",
    "data": {
        "id": 123,
        "sensor_id": 1,
        "type": "moisture_level",
        "location": "basement_wall",
        "value": 75.5,
        "unit": "%",
        "confidence": 0.95,
        "calibration_json": {"calibrated_at": "2024-01-15T10:00:00Z", "offset": 0.0},
        "extras_json": {"battery_level": 90, "signal_strength": 85},
        "timestamp": "2024-01-15T12:00:00Z",
        "created_at": "2024-01-15T12:00:01Z",
    },
}


@pytest.fixture(scope="module")
def validator() -> Validator:
    return compile_schema()


@pytest.fixture
def slow_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend jsonschema_rs is missing: jsonschema answers is_valid too."""
    monkeypatch.setattr(schema_module, "_build_fast", lambda *args: None)


def reading(**changes: Any) -> dict[str, Any]:
    message = copy.deepcopy(READING)
    message["data"].update(changes)
    return message


# -- the built-in schema ------------------------------------------------------------------


def test_builtin_schema_is_a_valid_2020_12_schema() -> None:
    """The shipped schema passes its metaschema and is the one in schemas/."""
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("https://wscli.invalid/")
    assert check_schema(schema) == []
    assert Path(str(builtin_schema_path())).name == "sensor_stream.schema.json"


def test_every_def_has_a_title_and_description() -> None:
    """Each $def documents itself (the schema is the format's documentation)."""
    for name, definition in load_schema()["$defs"].items():
        assert definition.get("title"), name
        assert definition.get("description"), name


def test_spec_example_is_valid(validator: Validator) -> None:
    """SPEC's sensor_reading example validates in both engines."""
    assert validator.engine == "jsonschema_rs"
    assert validator.is_valid(READING)
    assert validator.problems(READING) == []


@pytest.mark.parametrize(
    "message",
    [
        {"type": "sensor_status", "data": {"sensor_id": 4, "state": "low_battery",
                                           "timestamp": "2024-01-15T12:00:00Z"}},
        {"type": "error", "data": {"message": "sensor 4 timed out"}},
        {"type": "error", "data": {"message": "boom", "code": 503, "sensor_id": 4,
                                   "timestamp": "2024-01-15T12:00:00+01:00"}},
        reading(calibration_json=None),
        reading(extras_json={"battery_level": 0, "firmware": "1.2.3"}),
    ],
)  # fmt: skip
def test_other_valid_messages(validator: Validator, message: dict[str, Any]) -> None:
    """Status, error, null calibration and extra telemetry fields are all fine."""
    assert validator.is_valid(message)
    assert validator.problems(message) == []


# -- simulator output validates -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 42, 2024])
def test_thousands_of_simulated_messages_validate(validator: Validator, seed: int) -> None:
    """Every message the simulator makes is valid, in both engines (4 x 1,500 messages)."""
    sim = Simulator(seed=seed)
    messages = [sim.next_message() for _ in range(1500)]
    assert all(validator.is_valid(m) for m in messages)
    bad = [(m, p) for m in messages if (p := validator.problems(m))]
    assert bad == []
    assert {m["type"] for m in messages} == {"sensor_reading", "sensor_status", "error"}


@pytest.mark.parametrize("kind", sorted(INVALID_KINDS))
def test_each_invalid_variant_is_caught_at_its_path(validator: Validator, kind: str) -> None:
    """Simulator.invalid() breaks one thing, and problems() blames exactly that place."""
    sim = Simulator(seed=5)
    for _ in range(20):
        message = sim.invalid(kind)
        assert not validator.is_valid(message)
        problems = validator.problems(message)
        assert [p.path for p in problems] == [INVALID_KINDS[kind]], problems


# -- plain-words problems -----------------------------------------------------------------


def test_wrong_type_is_reported_at_the_field(validator: Validator) -> None:
    """A string value is blamed at /data/value, not 'not valid under any of the schemas'."""
    problems = validator.problems(reading(value="75.5"))
    assert problems == [
        Problem("/data/value", 'expected number, got string "75.5"', "sensor_reading")
    ]


def test_missing_field_names_the_field(validator: Validator) -> None:
    """A missing required field is named, at the object that lacks it."""
    message = reading()
    del message["data"]["sensor_id"]
    assert validator.problems(message) == [
        Problem("/data", 'missing required field "sensor_id"', "sensor_reading")
    ]


def test_unknown_type_is_one_clear_problem(validator: Validator) -> None:
    """An unknown envelope type is its own error, listing the known types."""
    problems = validator.problems({"type": "foo", "data": {}})
    assert problems == [
        Problem(
            "/type",
            'unknown message type "foo" (expected one of: error, sensor_reading, sensor_status)',
            "foo",
        )
    ]


def test_non_string_type_is_a_type_error_only(validator: Validator) -> None:
    """type: 5 reports 'expected string' without the enum noise; msg_type is None."""
    assert validator.problems({"type": 5, "data": {}}) == [
        Problem("/type", "expected string, got integer 5", None)
    ]


@pytest.mark.parametrize("engine", ["fast", "slow"])
def test_yesterday_is_not_a_timestamp(
    engine: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Format checking is on in both engines: 'yesterday' is not RFC 3339."""
    if engine == "slow":
        request.getfixturevalue("slow_only")
    v = compile_schema()
    assert v.engine == ("jsonschema_rs" if engine == "fast" else "jsonschema")
    message = reading(timestamp="yesterday")
    assert not v.is_valid(message)
    assert v.problems(message) == [
        Problem("/data/timestamp", 'not a valid RFC 3339 date-time: "yesterday"', "sensor_reading")
    ]


@pytest.mark.parametrize(
    "stamp, ok",
    [
        ("2016-12-31T23:59:60Z", True),  # leap second: RFC 3339 section 5.7
        ("2024-01-15T12:00:00.123456+05:30", True),
        ("2024-01-15T12:00:00", False),  # no zone
        ("2024-01-15 12:00:00Z", False),
        ("2024-02-30T00:00:00Z", False),
    ],
)
def test_engines_agree_on_timestamps(validator: Validator, stamp: str, ok: bool) -> None:
    """The slow path uses the fast path's date-time check, edge cases included."""
    message = reading(created_at=stamp)
    assert validator.is_valid(message) is ok
    assert (validator.problems(message) == []) is ok


def test_nan_is_not_a_number(validator: Validator) -> None:
    """NaN (which json.loads accepts) is not a JSON number, in both engines."""
    message = reading(value=float("nan"))
    assert not validator.is_valid(message)
    [problem] = validator.problems(message)
    assert problem.path == "/data/value"
    assert "NaN" in problem.reason


def test_problems_are_sorted_and_deduplicated(validator: Validator) -> None:
    """Several faults: envelope-level first, each once."""
    message = reading(value="x", confidence=3)
    message["extra"] = 1
    del message["data"]["unit"]
    problems = validator.problems(message)
    assert [p.path for p in problems] == ["/data", "/data/confidence", "/data/value"]
    assert len(set(problems)) == len(problems)


def test_not_an_object_at_all(validator: Validator) -> None:
    """A JSON array is reported at the root."""
    assert validator.problems([1, 2]) == [Problem("", "expected object, got array", None)]


# -- fast and slow agree ------------------------------------------------------------------

JUNK = [None, True, 0, -1, 1.5, 101, 1e30, "", "x", "75.5", "yesterday", [], {}, {"a": 1},
        "2024-01-15T12:00:00Z", float("nan"), float("inf"), 2**70]  # fmt: skip


def mutate(message: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Replace, delete or add one value somewhere in the message."""
    message = copy.deepcopy(message)
    targets: list[tuple[Any, Any]] = [(message, key) for key in list(message)]
    if isinstance(message.get("data"), dict):
        data = message["data"]
        targets += [(data, key) for key in list(data)]
        for key in ("extras_json", "calibration_json"):
            if isinstance(data.get(key), dict):
                targets += [(data[key], k) for k in list(data[key])]
    parent, key = rng.choice(targets)
    action = rng.random()
    if action < 0.2:
        del parent[key]
    elif action < 0.3:
        parent[rng.choice(["state", "message", "zzz", "code", "sensor_id"])] = rng.choice(JUNK)
    else:
        parent[key] = rng.choice(JUNK)
    return message


@pytest.mark.slow
def test_fast_and_slow_agree_on_mutated_messages(validator: Validator) -> None:
    """is_valid(m) == (problems(m) == []) on 3,000 valid and mutated messages."""
    rng = random.Random(1234)
    sim = Simulator(seed=99)
    disagreements = []
    for i in range(3000):
        message = sim.next_message()
        for _ in range(i % 3):
            message = mutate(message, rng)
        if validator.is_valid(message) != (validator.problems(message) == []):
            disagreements.append(message)
    assert disagreements == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    where=st.sampled_from(["", "data", "extras_json", "calibration_json"]),
    key=st.sampled_from(["type", "value", "timestamp", "state", "message", "battery_level",
                         "offset", "calibrated_at", "sensor_id", "code", "new"]),
    value=json_values,
)  # fmt: skip
def test_fast_and_slow_agree_on_arbitrary_values(
    validator: Validator, seed: int, where: str, key: str, value: Any
) -> None:
    """Any JSON value anywhere: both engines give the same verdict."""
    message = Simulator(seed=seed).next_message()
    target: Any = message
    if where:
        target = message["data"] if where == "data" else message["data"].get(where)
    if isinstance(target, dict):
        target[key] = value
    assert validator.is_valid(message) == (validator.problems(message) == [])


# -- checking schemas ---------------------------------------------------------------------


def test_check_schema_reports_where_the_schema_is_broken() -> None:
    """{"type": 12} is not a schema: the problem points at /type."""
    problems = check_schema({"type": 12})
    assert problems
    assert problems[0].path == "/type"
    assert "12" in problems[0].reason


def test_check_schema_draft_07() -> None:
    """Draft-07 schemas are checked against draft-07's metaschema."""
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "properties": {"a": {"minimum": "x"}},
    }
    [problem] = check_schema(schema)
    assert problem.path == "/properties/a/minimum"
    assert check_schema({"$schema": "http://json-schema.org/draft-07/schema#"}) == []


def test_validator_refuses_an_invalid_schema() -> None:
    """Compiling a broken schema is a usage error with the place."""
    with pytest.raises(BadUsage, match="invalid schema: /type"):
        Validator({"type": 12})


def test_draft_07_schema_validates_with_formats() -> None:
    """A draft-07 schema works, date-time checked."""
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "required": ["t"],
        "properties": {"t": {"type": "string", "format": "date-time"}},
    }
    v = Validator(schema)
    assert v.is_valid({"t": "2024-01-15T12:00:00Z"})
    assert not v.is_valid({"t": "yesterday"})
    assert [p.path for p in v.problems({"t": "yesterday"})] == ["/t"]


# -- loading ------------------------------------------------------------------------------


def test_load_schema_errors_are_one_line(tmp_path: Path) -> None:
    """Missing file, bad JSON, not an object: BadUsage naming the file."""
    with pytest.raises(BadUsage, match="cannot read schema .*nope.json"):
        load_schema(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": ')
    with pytest.raises(BadUsage, match=r"bad.json is not valid JSON: .* line 1"):
        load_schema(bad)
    array = tmp_path / "array.json"
    array.write_text("[]")
    with pytest.raises(BadUsage, match="must be a JSON object, got array"):
        load_schema(array)


def test_schema_module_imports_no_validator_or_network_library() -> None:
    """Importing wscli.checks.schema loads neither jsonschema nor rich nor a socket library."""
    code = (
        "import sys, wscli.checks.schema\n"
        "bad = [m for m in ('jsonschema', 'jsonschema_rs', 'rich', 'websockets', 'websocket')"
        " if m in sys.modules]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- $ref: local files only ---------------------------------------------------------------


@pytest.fixture
def ref_folder(tmp_path: Path) -> Path:
    (tmp_path / "common.json").write_text(
        json.dumps({"$defs": {"positive": {"type": "integer", "minimum": 1}}})
    )
    (tmp_path / "main.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"n": {"$ref": "common.json#/$defs/positive"}},
            }
        )
    )
    return tmp_path


@pytest.mark.parametrize("engine", ["fast", "slow"])
def test_ref_to_a_sibling_file_resolves(
    ref_folder: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    """A relative $ref loads the file beside the schema, in both engines."""
    if engine == "slow":
        request.getfixturevalue("slow_only")
    v = compile_schema(ref_folder / "main.json")
    assert v.is_valid({"n": 3})
    assert not v.is_valid({"n": 0})
    assert v.problems({"n": 0}) == [Problem("/n", "must be at least 1, got 0", None)]


def test_ref_relative_to_an_https_id_maps_to_the_folder(ref_folder: Path) -> None:
    """With $id https://host/dir/main.json, a relative $ref is still read from disk."""
    schema = json.loads((ref_folder / "main.json").read_text())
    schema["$id"] = "https://schemas.invalid/dir/main.json"
    v = Validator(schema, base_path=ref_folder)
    assert not v.is_valid({"n": 0})
    assert v.problems({"n": 0})[0].path == "/n"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any Python-level connection attempt fails the test."""
    import socket

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.usefixtures("no_network")
def test_http_ref_is_never_fetched(tmp_path: Path) -> None:
    """An http:// $ref is refused up front with a clear message, not fetched."""
    schema = {"properties": {"a": {"$ref": "http://schemas.invalid/x.json"}}}
    with pytest.raises(BadUsage, match="refusing to fetch http://schemas.invalid/x.json") as info:
        Validator(schema, base_path=tmp_path)
    assert "network" in info.value.one_line()


@pytest.mark.usefixtures("no_network", "slow_only")
def test_http_ref_is_never_fetched_by_jsonschema(tmp_path: Path) -> None:
    """Without the Rust engine, the refusal comes at validation time, as BadUsage."""
    schema = {"properties": {"a": {"$ref": "http://schemas.invalid/x.json"}}}
    v = Validator(schema, base_path=tmp_path)
    with pytest.raises(BadUsage, match="refusing to fetch"):
        v.problems({"a": 1})
    with pytest.raises(BadUsage, match="refusing to fetch"):
        v.is_valid({"a": 1})


def test_ref_outside_the_folder_is_refused(ref_folder: Path) -> None:
    """A $ref cannot climb out of the schema's folder."""
    schema = {"properties": {"a": {"$ref": "../elsewhere.json"}}}
    with pytest.raises(BadUsage, match="outside"):
        Validator(schema, base_path=ref_folder)


def test_missing_ref_file_is_a_usage_error(tmp_path: Path) -> None:
    """A $ref to a file that is not there names it."""
    schema = {"properties": {"a": {"$ref": "missing.json"}}}
    with pytest.raises(BadUsage, match="cannot load \\$ref missing.json"):
        Validator(schema, base_path=tmp_path)


# -- strict -------------------------------------------------------------------------------


def test_strict_rejects_unknown_fields_but_not_extras_json() -> None:
    """--strict: unknown fields are named; extras_json stays open; caller's dict untouched."""
    schema = load_schema()
    before = copy.deepcopy(schema)
    strict = Validator(schema, strict=True)
    assert schema == before
    assert strict.is_valid(READING)
    message = reading(colour="red", extras_json={"battery_level": 5, "firmware": "1.2"})
    message["seq"] = 7
    assert not strict.is_valid(message)
    assert strict.problems(message) == [
        Problem("/seq", 'unexpected field "seq" (not in the schema)', "sensor_reading"),
        Problem("/data/colour", 'unexpected field "colour" (not in the schema)', "sensor_reading"),
    ]
    assert compile_schema().is_valid(message)


def test_strict_status_and_calibration() -> None:
    """Strict reaches sensor_status payloads and nested calibration objects."""
    strict = compile_schema(strict=True)
    stamp = "2024-01-15T12:00:00Z"
    status_data = {"sensor_id": 1, "state": "online", "timestamp": stamp, "x": 1}
    status = {"type": "sensor_status", "data": status_data}
    assert [p.path for p in strict.problems(status)] == ["/data/x"]
    calibrated = reading(calibration_json={"calibrated_at": stamp, "offset": 0, "by": "me"})
    assert [p.path for p in strict.problems(calibrated)] == ["/data/calibration_json/by"]
    assert strict.is_valid(status) == (strict.problems(status) == [])


def test_make_strict_uses_additional_properties_before_2019() -> None:
    """Draft-07 has no unevaluatedProperties: additionalProperties: false instead."""
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "properties": {"a": {}},
        "definitions": {
            "d": {"properties": {"b": {}}},
            "open": {"properties": {}, "additionalProperties": True},
        },
    }
    strict = make_strict(schema)
    assert strict["additionalProperties"] is False
    assert strict["definitions"]["d"]["additionalProperties"] is False
    assert strict["definitions"]["open"]["additionalProperties"] is True
    assert "additionalProperties" not in schema


# -- pinned: strict keyword per draft -----------------------------------------------------


@pytest.mark.parametrize(
    "draft, keyword",
    [
        (None, "unevaluatedProperties"),  # no $schema: 2020-12, the default draft
        (DRAFT_2020_12, "unevaluatedProperties"),
        ("https://json-schema.org/draft/2019-09/schema", "unevaluatedProperties"),
        ("http://json-schema.org/draft-07/schema#", "additionalProperties"),
        ("http://json-schema.org/draft-04/schema#", "additionalProperties"),
    ],
)
def test_make_strict_picks_the_keyword_the_draft_knows(draft: str | None, keyword: str) -> None:
    """2019-09 and later (or no $schema at all) close with unevaluatedProperties, which
    sees through allOf and $ref; older drafts only know additionalProperties."""
    schema: dict[str, Any] = {"properties": {"a": {}}, "$defs": {"d": {"properties": {}}}}
    if draft is not None:
        schema["$schema"] = draft
    strict = make_strict(schema)
    other = ({"additionalProperties", "unevaluatedProperties"} - {keyword}).pop()
    assert strict[keyword] is False
    assert strict["$defs"]["d"][keyword] is False
    assert other not in strict
    assert other not in strict["$defs"]["d"]


def test_strict_without_schema_keyword_sees_through_all_of() -> None:
    """No $schema means 2020-12: a property named only inside allOf is still allowed,
    which additionalProperties: false would wrongly reject."""
    schema = {"properties": {"a": {}}, "allOf": [{"properties": {"b": {}}}]}
    strict = Validator(schema, strict=True)
    assert strict.is_valid({"a": 1, "b": 2})
    assert strict.problems({"a": 1, "b": 2}) == []
    assert strict.problems({"a": 1, "c": 3}) == [
        Problem("/c", 'unexpected field "c" (not in the schema)', None)
    ]


def test_unexpected_field_without_a_name_is_a_question_mark() -> None:
    """With patternProperties jsonschema words the error differently ("does not match any
    of the regexes"): the field cannot be named, so it shows as "?", never a crash."""
    schema = {
        "properties": {"a": {}},
        "patternProperties": {"^p": {}},
        "additionalProperties": False,
    }
    v = Validator(schema)
    assert v.problems({"zz": 1, "p1": 2}) == [
        Problem("/?", 'unexpected field "?" (not in the schema)', None)
    ]


# -- pinned: $ref errors, word for word ---------------------------------------------------

REF_HINT = "save referenced schemas beside the schema file and use relative $refs"


def test_missing_ref_file_message_and_hint(tmp_path: Path) -> None:
    """The error names the $ref as written, the full path, the OS reason, and what to do."""
    schema = {"properties": {"a": {"$ref": "missing.json"}}}
    with pytest.raises(BadUsage) as info:
        Validator(schema, base_path=tmp_path)
    where = tmp_path.resolve() / "missing.json"
    assert info.value.message == (
        f"cannot load $ref missing.json ({where}): {os.strerror(errno.ENOENT)}"
    )
    assert info.value.hint == REF_HINT


def test_ref_file_that_is_not_json_says_why(tmp_path: Path) -> None:
    """A referenced file that is not JSON gets the parser's reason (not an OS errno)."""
    (tmp_path / "bad.json").write_text("not json")
    schema = {"properties": {"a": {"$ref": "bad.json"}}}
    with pytest.raises(BadUsage) as info:
        Validator(schema, base_path=tmp_path)
    where = tmp_path.resolve() / "bad.json"
    assert info.value.message == (
        f"cannot load $ref bad.json ({where}): Expecting value: line 1 column 1 (char 0)"
    )
    assert info.value.hint == REF_HINT


def test_ref_without_a_schema_folder_is_refused() -> None:
    """A schema given as a dict with no folder has nowhere to look: said so, with the
    $ref as the user wrote it (not the engine's json-schema:/// placeholder)."""
    schema = {"properties": {"a": {"$ref": "other.json"}}}
    with pytest.raises(BadUsage) as info:
        Validator(schema)
    assert info.value.message == "cannot resolve $ref other.json: no schema folder to look in"
    assert info.value.hint == REF_HINT


def test_ref_with_another_scheme_is_refused(tmp_path: Path) -> None:
    """ftp:// (or any scheme but http(s), file and relative) is refused by name."""
    schema = {"properties": {"a": {"$ref": "ftp://host.invalid/a.json"}}}
    with pytest.raises(BadUsage) as info:
        Validator(schema, base_path=tmp_path)
    assert info.value.message == (
        "refusing to resolve $ref ftp://host.invalid/a.json: only local files are allowed"
    )
    assert info.value.hint == REF_HINT


@pytest.mark.usefixtures("no_network")
def test_http_ref_message_and_hint(tmp_path: Path) -> None:
    """The network refusal, word for word, with the hint."""
    schema = {"properties": {"a": {"$ref": "http://schemas.invalid/x.json"}}}
    with pytest.raises(BadUsage) as info:
        Validator(schema, base_path=tmp_path)
    assert info.value.message == (
        "refusing to fetch http://schemas.invalid/x.json:"
        " wscli never fetches schemas from the network"
    )
    assert info.value.hint == REF_HINT


@pytest.mark.usefixtures("slow_only")
def test_dangling_pointer_is_explained_by_the_slow_engine(tmp_path: Path) -> None:
    """A $ref to a $def that does not exist (nothing refused by the retriever): both
    problems() and is_valid() raise BadUsage quoting the resolver's own first line."""
    schema = {"properties": {"a": {"$ref": "#/$defs/nope"}}}
    v = Validator(schema, base_path=tmp_path)
    for call in (v.problems, v.is_valid):
        with pytest.raises(BadUsage) as info:
            call({"a": 1})
        assert info.value.message.startswith("cannot resolve a $ref in the schema: ")
        assert "'/$defs/nope' does not exist" in info.value.message
        assert info.value.hint == REF_HINT


@pytest.mark.usefixtures("slow_only")
def test_too_deep_message_is_invalid_in_the_slow_engine() -> None:
    """When jsonschema runs out of stack, is_valid() says False (never True, never a
    crash) and problems() says why, so the two still agree."""
    schema = {
        "$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}},
        "$ref": "#/$defs/n",
    }
    v = Validator(schema)
    assert v.engine == "jsonschema"
    message: list[Any] = []
    for _ in range(3000):
        message = [message]
    assert v.is_valid(message) is False
    assert v.problems(message) == [Problem("", "nested too deep for the schema to explain", None)]


# -- pinned: LocalRetriever, called as the engines call it --------------------------------

COMMON = {"$defs": {"positive": {"type": "integer", "minimum": 1}}}


@pytest.fixture
def common_folder(tmp_path: Path) -> Path:
    (tmp_path / "common.json").write_text(json.dumps(COMMON))
    return tmp_path


@pytest.mark.parametrize(
    "uri",
    [
        "https://schemas.invalid/dir/common.json",
        "https://schemas.invalid/dir/common.json#/$defs/positive",
        "https://schemas.invalid/dir/common.json#/a#b",  # a second # stays in the fragment
    ],
)
def test_retriever_drops_the_fragment_under_the_root_id(common_folder: Path, uri: str) -> None:
    """Under the root $id the URI maps to a file by plain prefix removal, so the
    retriever itself must cut everything from the first # (the engines may not)."""
    retriever = LocalRetriever(common_folder, "https://schemas.invalid/dir/main.json")
    assert retriever(uri) == COMMON
    assert retriever.refused is None


def test_schema_with_a_relative_id_resolves_refs_in_its_folder(common_folder: Path) -> None:
    """A relative $id ("main.json") makes the Rust engine ask for json-schema:///common.json:
    that placeholder scheme maps to the schema's folder like a relative path."""
    schema = {"$id": "main.json", "properties": {"n": {"$ref": "common.json#/$defs/positive"}}}
    v = Validator(schema, base_path=common_folder)
    assert v.engine == "jsonschema_rs"
    assert v.is_valid({"n": 3})
    assert not v.is_valid({"n": 0})
    assert v.problems({"n": 0}) == [Problem("/n", "must be at least 1, got 0", None)]


@pytest.mark.parametrize("name", ["common.json", "Xcommon.json", "sub/common.json"])
def test_retriever_maps_json_schema_uris_into_the_folder(tmp_path: Path, name: str) -> None:
    """json-schema:///NAME is NAME in the folder: only the leading slashes go, every
    other character of the name stays (a name starting with X included)."""
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(json.dumps(COMMON))
    assert LocalRetriever(tmp_path)(f"json-schema:///{name}") == COMMON


def test_retriever_takes_an_absolute_path_as_is(common_folder: Path) -> None:
    """A scheme-less absolute path is not re-rooted under the folder: inside it loads,
    outside it is refused as outside (not looked for under the folder)."""
    retriever = LocalRetriever(common_folder)
    assert retriever(str(common_folder.resolve() / "common.json")) == COMMON
    with pytest.raises(ValueError, match="is outside"):
        retriever("/etc/hostname")


def test_retriever_raises_with_the_reason_it_records(tmp_path: Path) -> None:
    """The ValueError the engines see carries the same text as ``refused``, so whichever
    message surfaces tells the user the real reason."""
    retriever = LocalRetriever(tmp_path)
    reason = (
        "refusing to fetch https://schemas.invalid/x.json:"
        " wscli never fetches schemas from the network"
    )
    with pytest.raises(ValueError) as info:
        retriever("https://schemas.invalid/x.json#/a")
    assert str(info.value) == reason
    assert retriever.refused == reason
    assert retriever.error_for(info.value).message == reason
    assert retriever.error_for(info.value).hint == REF_HINT
