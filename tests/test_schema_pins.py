"""Pins for wscli.schema's plain-words explanations: exact sentences, in-process, fast.

Every reason a user reads is compared whole, so a changed word, separator, case or
argument shows up as a failure (mutation testing found these sentences unpinned).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from wscli.errors import BadUsage
from wscli.schema import (
    Problem,
    Validator,
    _describe,
    _explain,
    _first_line,
    _got,
    _json_type,
    _missing_field,
    _pointer,
    _reason,
    _show,
    load_schema,
)

# -- _reason: one sentence per failed keyword --------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "expected", "value", "reason"),
    [
        ("type", "integer", True, "expected integer, got boolean true"),
        ("type", "boolean", 1, "expected boolean, got integer 1"),
        ("type", "number", "75.5", 'expected number, got string "75.5"'),
        ("type", "string", None, "expected string, got null"),
        ("type", "object", [1], "expected object, got array"),
        ("type", "boolean", (1, 2), "expected boolean, got array"),
        ("type", "array", {"a": 1}, "expected array, got object"),
        ("type", "integer", 1.5, "expected integer, got number 1.5"),
        ("type", "string", 3, "expected string, got integer 3"),
        ("type", "number", math.nan, "expected number, got NaN (not a JSON number)"),
        ("type", "number", -math.inf, "expected number, got -Infinity (not a JSON number)"),
        ("type", ["string", "null"], 1, "expected string or null, got integer 1"),
        ("enum", ["a", 1, None], "b", 'expected one of: "a", 1, null; got string "b"'),
        ("enum", ["a"], None, 'expected one of: "a"; got null'),
        ("const", "x", 5, 'expected "x", got integer 5'),
        ("const", False, True, "expected false, got boolean true"),
        ("const", {"a": 1}, {}, 'expected {"a": 1}, got object'),
        ("minimum", 0, -1, "must be at least 0, got -1"),
        ("maximum", 100, 100.5, "must be at most 100, got 100.5"),
        ("exclusiveMinimum", 0, 0, "must be greater than 0, got 0"),
        ("exclusiveMaximum", 1, 1.0, "must be less than 1, got 1.0"),
        ("format", "date-time", "yesterday", 'not a valid RFC 3339 date-time: "yesterday"'),
        ("format", "email", "bob", 'not a valid email: "bob"'),
        ("minLength", 1, "", "must not be empty"),
        ("minLength", 2, "a", "must be at least 2 characters long, got 1"),
        ("minLength", 3, "ab", "must be at least 3 characters long, got 2"),
        ("maxLength", 1, "ab", "must be at most 1 characters long, got 2"),
        ("maxLength", 2, "abc", "must be at most 2 characters long, got 3"),
        ("pattern", "^[a-z]+$", "A1", 'does not match the pattern ^[a-z]+$: "A1"'),
    ],
)
def test_reason_sentence_for_each_keyword(
    keyword: str, expected: Any, value: Any, reason: str
) -> None:
    """Each failed keyword reads as one exact sentence (words, separators, JSON values)."""
    assert _reason(keyword, expected, value, ("data", "x"), True) == reason


def test_reason_is_none_for_keywords_it_does_not_word() -> None:
    """Keywords without a sentence keep jsonschema's own message (``None``)."""
    assert _reason("multipleOf", 2, 3, ()) is None
    assert _reason("uniqueItems", True, [1, 1], ()) is None


def test_reason_names_an_unknown_message_type_by_default() -> None:
    """By default (a message) a bad string at ``/type`` is an unknown message type."""
    assert _reason("enum", ["b", "a"], "x", ("type",)) == (
        'unknown message type "x" (expected one of: a, b)'
    )


def test_reason_at_type_in_a_schema_or_deeper_is_a_plain_enum() -> None:
    """Explaining a schema (message=False), a nested type or a non-string keeps the enum form."""
    assert _reason("enum", ["b", "a"], "x", ("type",), False) == (
        'expected one of: "b", "a"; got string "x"'
    )
    assert _reason("enum", ["b", "a"], "x", ("data", "type"), True) == (
        'expected one of: "b", "a"; got string "x"'
    )
    assert _reason("enum", ["b", "a"], 5, ("type",), True) == (
        'expected one of: "b", "a"; got integer 5'
    )


# -- _describe and _explain: anyOf, oneOf, closed objects, required ---------------------


@pytest.fixture(scope="module")
def forms() -> Validator:
    """A schema with anyOf, oneOf, an enum-or-const envelope type and a const false."""
    return Validator(
        {
            "properties": {
                "a": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "b": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "type": {"anyOf": [{"enum": ["x", "y"]}, {"const": "z"}]},
                "c": {"const": False},
                "a/b~c": {"type": "integer"},
            }
        }
    )


def test_any_of_and_one_of_list_every_allowed_form(forms: Validator) -> None:
    """anyOf/oneOf failures list the sub-reasons, sorted, joined by `` | ``."""
    assert forms.problems({"a": 1.5, "b": 2.5, "type": "q", "c": True, "a/b~c": True}) == [
        Problem(
            "/a",
            "matches none of the allowed forms"
            " (expected integer, got number 1.5 | expected string, got number 1.5)",
            "q",
        ),
        Problem("/a~1b~0c", "expected integer, got boolean true", "q"),
        Problem(
            "/b",
            "matches none of the allowed forms"
            " (expected integer, got number 2.5 | expected string, got number 2.5)",
            "q",
        ),
        Problem("/c", "expected false, got boolean true", "q"),
        Problem(
            "/type",
            "matches none of the allowed forms"
            ' (expected "z", got string "q" | unknown message type "q" (expected one of: x, y))',
            "q",
        ),
    ]


def test_describe_words_a_failed_enum_at_type_as_an_unknown_message_type(
    forms: Validator,
) -> None:
    """``_describe``'s default explains a message; ``_explain(..., None)`` explains a schema."""
    errors = list(forms._slow.iter_errors({"type": "q"}))
    [error] = errors
    [(parts, reason)] = list(_describe(error.context[0]))
    assert parts == ("type",)
    assert reason == 'unknown message type "q" (expected one of: x, y)'
    [(_, as_schema)] = list(_describe(error.context[0], False))
    assert as_schema == 'expected one of: "x", "y"; got string "q"'


def test_explaining_a_schema_keeps_the_enum_form_at_type() -> None:
    """With no message type (schema checking) a top-level enum at /type is a plain enum."""
    validator = Validator({"properties": {"type": {"enum": ["x", "y"]}}})
    errors = validator._slow.iter_errors({"type": "q"})
    assert _explain(errors, None) == [
        Problem("/type", 'expected one of: "x", "y"; got string "q"', None)
    ]
    assert validator.problems({"type": "q"}) == [
        Problem("/type", 'unknown message type "q" (expected one of: x, y)', "q")
    ]


def test_a_draft3_schema_type_with_context_is_worded_as_a_type() -> None:
    """Only anyOf/oneOf become "matches none"; a draft-3 schema-typed ``type`` stays a type."""
    validator = Validator(
        {
            "$schema": "http://json-schema.org/draft-03/schema#",
            "properties": {"a": {"type": [{"type": "string"}, {"type": "integer"}]}},
        }
    )
    [error] = list(validator._slow.iter_errors({"a": 1.5}))
    assert error.context  # the case: a context on a keyword other than anyOf/oneOf
    assert list(_describe(error, True)) == [
        (("a",), 'expected {"type": "string"} or {"type": "integer"}, got number 1.5')
    ]
    # jsonschema's best_match raised TypeError (it hashes each "type") and validate crashed.
    assert validator.problems({"a": 1.5}) == [
        Problem("/a", 'expected {"type": "string"} or {"type": "integer"}, got number 1.5', None)
    ]


def test_unexpected_fields_are_named_one_by_one() -> None:
    """additionalProperties false names each extra field at its own path."""
    validator = Validator({"properties": {"a": {}}, "additionalProperties": False})
    assert validator.problems({"a": 1, "b": 2, "c": 3}) == [
        Problem("/b", 'unexpected field "b" (not in the schema)', None),
        Problem("/c", 'unexpected field "c" (not in the schema)', None),
    ]


def test_each_missing_required_field_is_named() -> None:
    """Each missing field gets its own sentence at the root, quotes in names kept."""
    validator = Validator({"required": ["a", "b", "c'"]})
    assert validator.problems({"b": 1, "type": "t"}) == [
        Problem("", 'missing required field "a"', "t"),
        Problem("", 'missing required field "c\'"', "t"),
    ]
    assert validator.problems({}) == [
        Problem("", 'missing required field "a"', None),
        Problem("", 'missing required field "b"', None),
        Problem("", 'missing required field "c\'"', None),
    ]


def test_nested_paths_and_bool_versus_integer() -> None:
    """A nested wrong type is reported at its JSON pointer; true is not an integer."""
    validator = Validator(
        {
            "properties": {
                "data": {
                    "properties": {
                        "id": {"type": "integer"},
                        "tags": {"items": {"type": "string", "minLength": 1}},
                    }
                }
            }
        }
    )
    assert validator.problems({"type": "r", "data": {"id": True, "tags": ["ok", "", 7]}}) == [
        Problem("/data/id", "expected integer, got boolean true", "r"),
        Problem("/data/tags/1", "must not be empty", "r"),
        Problem("/data/tags/2", "expected string, got integer 7", "r"),
    ]


def test_missing_field_from_real_and_odd_errors() -> None:
    """The missing name comes from the schema's list; the message is only a fallback."""
    quoted = '"a\'" is a required property'
    absent = SimpleNamespace(instance=["a'"], validator_value=["a'"], message=quoted)
    assert _missing_field(absent) == "a'"  # a non-object instance holds no field
    present = SimpleNamespace(instance={"a'": 1}, validator_value=["a'"], message=quoted)
    assert _missing_field(present) == "a"  # listed but present: read from the message
    unlisted = SimpleNamespace(
        instance={}, validator_value=[], message="'Xa b' is a required property"
    )
    assert _missing_field(unlisted) == "Xa b"
    second = SimpleNamespace(
        instance={}, validator_value=["a", "b"], message="'b' is a required property"
    )
    assert _missing_field(second) == "b"


def test_recursion_while_explaining_keeps_the_message_type() -> None:
    """A schema too deep to explain says so, with the envelope type still attached."""

    class Deep:
        def iter_errors(self, message: object) -> Any:
            raise RecursionError

    validator = Validator({"type": "object"})
    validator._slow = Deep()
    assert validator.problems({"type": "ping"}) == [
        Problem("", "nested too deep for the schema to explain", "ping")
    ]


# -- small helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "boolean"),
        (False, "boolean"),
        (0, "integer"),
        (1.5, "number"),
        (math.nan, "non-finite number"),
        (math.inf, "non-finite number"),
        ("", "string"),
        ([], "array"),
        ((), "array"),
        ({}, "object"),
        (b"x", "bytes"),
        ({1}, "set"),
    ],
)
def test_json_type_names(value: object, name: str) -> None:
    """Every JSON type has its JSON name; bool is not integer; others their Python name."""
    assert _json_type(value) == name


def test_a_schema_that_is_not_an_object_names_its_type(tmp_path: Path) -> None:
    """``load_schema`` names what it found instead of an object."""
    for text, kind in (("[1]", "array"), ("null", "null"), ("1.5", "number"), ("{}", None)):
        path = tmp_path / "s.json"
        path.write_text(text, encoding="utf-8")
        if kind is None:
            assert load_schema(path) == {}
            continue
        with pytest.raises(BadUsage) as caught:
            load_schema(path)
        assert caught.value.message == f"schema {path} must be a JSON object, got {kind}"


def test_show_renders_json_unescaped_and_cuts_at_forty() -> None:
    """``_show`` is JSON, keeps non-ASCII, and cuts past 40 characters with an ellipsis."""
    assert _show("é") == '"é"'
    assert _show(None) == "null"
    assert _show([1, "a"]) == '[1, "a"]'
    forty = "x" * 38  # 40 characters with its quotes
    assert _show(forty) == f'"{forty}"'
    assert _show("x" * 39) == '"' + "x" * 38 + "…"
    assert _show("y" * 100) == '"' + "y" * 38 + "…"
    assert len(_show("y" * 100)) == 40
    assert _show("abcdef", limit=4) == '"ab…'
    assert _show("ab", limit=4) == '"ab"'


def test_show_falls_back_to_repr() -> None:
    """Values JSON cannot render (bytes, circular lists) are shown with ``repr``."""
    assert _show(b"ab") == "b'ab'"
    circular: list[object] = []
    circular.append(circular)
    assert _show(circular) == "[[...]]"


def test_got_names_type_and_value() -> None:
    """``_got``: type and value; bare type for null and containers; NaN flagged."""
    assert _got(1.5) == "number 1.5"
    assert _got(math.nan) == "NaN (not a JSON number)"
    assert _got(math.inf) == "Infinity (not a JSON number)"
    assert _got(None) == "null"
    assert _got({"a": 1}) == "object"
    assert _got([1]) == "array"
    assert _got("s") == 'string "s"'
    assert _got(False) == "boolean false"


def test_pointer_escapes_tilde_and_slash() -> None:
    """RFC 6901: ``~`` becomes ``~0`` and ``/`` becomes ``~1``; the root is empty."""
    assert _pointer(()) == ""
    assert _pointer(("a/b~c", "0")) == "/a~1b~0c/0"
    assert _pointer(("~1",)) == "/~01"


def test_first_line_of_an_exception() -> None:
    """First non-blank line of the message, else the exception's class name."""
    assert _first_line(ValueError("  first\nsecond ")) == "first"
    assert _first_line(ValueError()) == "ValueError"
    assert _first_line(KeyError("")) == "''"
    assert _first_line(OSError("   ")) == "OSError"


def test_reason_values_are_shown_as_json() -> None:
    """Values in sentences are JSON (``null``, ``true``), not Python reprs."""
    assert json.loads(_show({"k": None, "t": True})) == {"k": None, "t": True}
    assert _reason("pattern", "^a", None, ()) == "does not match the pattern ^a: null"
