"""Pins for wscli.checks.schema's plain-words explanations: exact sentences, in-process, fast.

Every reason a user reads is compared whole, so a changed word, separator, case or
argument shows up as a failure (mutation testing found these sentences unpinned).
"""

from __future__ import annotations

# -- _reason: one sentence per failed keyword --------------------------------------------
import io
import json
import math
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

import wscli.checks.schema as schema_mod
from wscli.checks.schema import (
    SCHEMA_FILE,
    LocalRetriever,
    Problem,
    Validator,
    _build_fast,
    _build_slow,
    _describe,
    _explain,
    _first_line,
    _got,
    _json_type,
    _missing_field,
    _pointer,
    _reason,
    _show,
    builtin_schema_path,
    check_schema,
    compile_schema,
    load_schema,
    read_schema_text,
)
from wscli.errors import BadUsage


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


# -- loading and building schemas: exact errors, limits, both engines --------------------

MIB = 1024 * 1024
REF_HINT = "save referenced schemas beside the schema file and use relative $refs"


class RecordingHandle(io.BytesIO):
    """A binary file that remembers the size of every read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int | None] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.sizes.append(size)
        return super().read(size)


class FakeSource:
    """A schema source whose ``open("rb")`` hands out one :class:`RecordingHandle`."""

    def __init__(self, data: bytes) -> None:
        self.handle = RecordingHandle(data)

    def open(self, mode: str) -> RecordingHandle:
        assert mode == "rb"
        return self.handle


def read_fake(data: bytes) -> tuple[str, list[int | None]]:
    source = FakeSource(data)
    text = read_schema_text(cast("Path", source))
    return text, source.handle.sizes


class Boom(LocalRetriever):
    """A retriever that fails without recording a refusal (as a foreign error would)."""

    def __call__(self, uri: str) -> Any:
        raise ValueError(f"boom {uri}")


# -- builtin_schema_path ----------------------------------------------------------------


def test_builtin_schema_prefers_the_packaged_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wheel's ``wscli/schemas/<file>`` is used when it exists (the folder name is exact)."""
    packaged = tmp_path / "pkg" / "schemas" / SCHEMA_FILE
    packaged.parent.mkdir(parents=True)
    packaged.write_text("{}", encoding="utf-8")
    asked: list[str] = []

    def files(name: str) -> Path:
        asked.append(name)
        return tmp_path / "pkg"

    monkeypatch.setattr(schema_mod, "resources", SimpleNamespace(files=files))
    assert builtin_schema_path() == packaged
    assert asked == ["wscli"]


def test_builtin_schema_falls_back_to_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No packaged copy: the repository's ``schemas/`` beside the package."""
    monkeypatch.setattr(schema_mod, "resources", SimpleNamespace(files=lambda _name: tmp_path))
    expected = Path(schema_mod.__file__).resolve().parents[2] / "schemas" / SCHEMA_FILE
    assert builtin_schema_path() == expected


# -- read_schema_text: bounded reads --------------------------------------------------------


def test_read_asks_for_one_byte_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """One read of exactly limit + 1 bytes: never an unbounded read (``/dev/zero``)."""
    monkeypatch.setattr(schema_mod, "MAX_SCHEMA_BYTES", 8)
    text, sizes = read_fake(b'{"a": 1}')
    assert text == '{"a": 1}'
    assert sizes == [9]


def test_read_accepts_exactly_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file of exactly MAX_SCHEMA_BYTES is read whole, not cut and not refused."""
    monkeypatch.setattr(schema_mod, "MAX_SCHEMA_BYTES", 3 * MIB)
    text, sizes = read_fake(b"a" * (3 * MIB))
    assert len(text) == 3 * MIB
    assert sizes == [3 * MIB + 1]


def test_read_refuses_one_byte_over_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """One byte more: refused, the limit said in whole MiB."""
    monkeypatch.setattr(schema_mod, "MAX_SCHEMA_BYTES", 3 * MIB)
    source = FakeSource(b"a" * (3 * MIB + 1))
    with pytest.raises(ValueError) as caught:
        read_schema_text(cast("Path", source))
    assert str(caught.value) == "larger than 3 MiB, not a schema"
    assert source.handle.sizes == [3 * MIB + 1]


def test_read_refusal_with_the_default_limit() -> None:
    """The real limit is 16 MiB, and the message says so."""
    assert schema_mod.MAX_SCHEMA_BYTES == 16 * MIB
    source = FakeSource(b" " * (16 * MIB + 1))
    with pytest.raises(ValueError) as caught:
        read_schema_text(cast("Path", source))
    assert str(caught.value) == "larger than 16 MiB, not a schema"


# -- load_schema: the errors a user reads -----------------------------------------------------


def test_load_schema_too_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An oversized file: a usage error quoting the path as given and the limit's reason."""
    monkeypatch.setattr(schema_mod, "MAX_SCHEMA_BYTES", 8)
    path = tmp_path / "big.json"
    path.write_text('{"a": 12}', encoding="utf-8")
    with pytest.raises(BadUsage) as caught:
        load_schema(path)
    assert caught.value.message == f"cannot read schema {path}: larger than 0 MiB, not a schema"
    (tmp_path / "fits.json").write_text('{"a": 1}', encoding="utf-8")
    assert load_schema(tmp_path / "fits.json") == {"a": 1}


def test_load_schema_missing_file_says_strerror(tmp_path: Path) -> None:
    """An OSError reads as its strerror, not ``[Errno 2] ...: 'path'``."""
    path = tmp_path / "nope.json"
    with pytest.raises(BadUsage) as caught:
        load_schema(path)
    assert caught.value.message == f"cannot read schema {path}: No such file or directory"


def test_load_schema_directory_says_strerror(tmp_path: Path) -> None:
    """A folder given as the schema: ``Is a directory``."""
    with pytest.raises(BadUsage) as caught:
        load_schema(tmp_path)
    assert caught.value.message == f"cannot read schema {tmp_path}: Is a directory"


def test_load_schema_oserror_without_strerror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError with no strerror falls back to its text."""

    def fail(_source: object) -> str:
        raise OSError("the disk said no")

    monkeypatch.setattr(schema_mod, "read_schema_text", fail)
    with pytest.raises(BadUsage) as caught:
        load_schema(tmp_path / "s.json")
    assert caught.value.message == f"cannot read schema {tmp_path / 's.json'}: the disk said no"


def test_load_schema_not_utf8(tmp_path: Path) -> None:
    """Bytes that are not UTF-8: the decoder's own sentence."""
    path = tmp_path / "latin1.json"
    path.write_bytes(b"\xff{}")
    with pytest.raises(BadUsage) as caught:
        load_schema(path)
    assert caught.value.message == (
        f"cannot read schema {path}: 'utf-8' codec can't decode byte 0xff in position 0:"
        " invalid start byte"
    )


def test_load_schema_quotes_the_path_as_given(tmp_path: Path) -> None:
    """``where`` is the path as typed (``./`` kept), not a normalised Path."""
    (tmp_path / "bad.json").write_text("{oops", encoding="utf-8")
    typed = f"{tmp_path}/./bad.json"
    with pytest.raises(BadUsage) as caught:
        load_schema(typed)
    assert caught.value.message == (
        f"schema {typed} is not valid JSON: Expecting property name enclosed in double quotes"
        " at line 1 column 2"
    )


def test_load_schema_too_deep_to_read(tmp_path: Path) -> None:
    """JSON nested past the parser's limit: one plain sentence naming the file."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(BadUsage) as caught:
        load_schema(str(path))
    assert caught.value.message == f"schema {path} is nested too deeply to read"


def test_load_builtin_schema_names_its_real_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no path, errors name the built-in schema's file, never ``None``."""
    broken = tmp_path / "builtin.json"
    broken.write_text("[1]", encoding="utf-8")
    monkeypatch.setattr(schema_mod, "builtin_schema_path", lambda: broken)
    with pytest.raises(BadUsage) as caught:
        load_schema()
    assert caught.value.message == f"schema {broken} must be a JSON object, got array"


def test_load_builtin_schema_reads_the_shipped_file() -> None:
    """The built-in schema loads as the shipped file's JSON object."""
    shipped = builtin_schema_path()
    assert load_schema(None) == json.loads(shipped.read_text(encoding="utf-8"))


# -- relative $ref, both engines ---------------------------------------------------------------


def test_relative_ref_resolves_beside_the_schema(tmp_path: Path) -> None:
    """No ``$id``: ``$ref`` finds ``defs.json`` beside the file, in the fast and slow engines."""
    (tmp_path / "defs.json").write_text('{"type": "integer", "minimum": 3}', encoding="utf-8")
    main = tmp_path / "main.json"
    main.write_text('{"$ref": "defs.json"}', encoding="utf-8")
    validator = compile_schema(main)
    assert validator.engine == "jsonschema_rs"
    assert validator.is_valid(4) is True
    assert validator.is_valid(2) is False
    assert validator.problems(4) == []
    assert [(p.path, p.reason) for p in validator.problems(2)] == [
        ("", "must be at least 3, got 2")
    ]
    assert validator._slow.is_valid(4) is True
    assert validator._slow.is_valid("x") is False


# -- _build_slow: finite numbers, the default draft ---------------------------------------------


def test_slow_engine_rejects_non_finite_numbers() -> None:
    """NaN and Infinity are not JSON numbers to the slow engine either."""
    slow = _build_slow({"type": "number"}, LocalRetriever(None))
    assert slow.is_valid(1.5) is True
    assert slow.is_valid(7) is True
    assert slow.is_valid(math.nan) is False
    assert slow.is_valid(-math.inf) is False
    integer = _build_slow({"type": "integer"}, LocalRetriever(None))
    assert integer.is_valid(2) is True
    assert integer.is_valid(math.inf) is False


def test_slow_engine_unknown_draft_defaults_quietly() -> None:
    """An unknown ``$schema`` means 2020-12 without jsonschema's deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        slow = _build_slow({"$schema": "https://example.invalid/s"}, LocalRetriever(None))
    assert type(slow).META_SCHEMA["$schema"] == schema_mod.DRAFT_2020_12


# -- _build_fast: base URI and the errors it turns into usage errors ----------------------------


def test_fast_engine_bases_refs_on_the_schema_folder(tmp_path: Path) -> None:
    """No ``$id``: references resolve under ``file://<folder>/`` (shown in the error)."""
    with pytest.raises(BadUsage) as caught:
        _build_fast({"$ref": "a.json"}, Boom(tmp_path), tmp_path)
    uri = f"{tmp_path.resolve().as_uri()}/a.json"
    assert caught.value.message == (
        f"cannot resolve a $ref in the schema: Resource '{uri}' is not present in a registry"
        f" and retrieving it failed: ValueError: boom {uri}"
    )
    assert caught.value.hint is None


def test_fast_engine_leaves_a_schema_with_id_alone(tmp_path: Path) -> None:
    """A schema with ``$id`` gets no folder base URI: its references stay relative."""
    with pytest.raises(BadUsage) as caught:
        _build_fast({"$id": "main.json", "$ref": "a.json"}, Boom(tmp_path), tmp_path)
    assert caught.value.message == (
        "cannot resolve a $ref in the schema: Resource 'a.json' is not present in a registry"
        " and retrieving it failed: No base URI is available"
    )


def test_fast_engine_bad_ref_value_is_a_usage_error(tmp_path: Path) -> None:
    """An error that mentions ``$ref`` (not retrieval) is a usage error, first line only."""
    with pytest.raises(BadUsage) as caught:
        _build_fast({"$ref": 5}, LocalRetriever(tmp_path), tmp_path)
    assert caught.value.message == 'cannot resolve a $ref in the schema: 5 is not of type "string"'


def test_fast_engine_refusal_keeps_the_retrievers_reason(tmp_path: Path) -> None:
    """A refused reference reads as the retriever's own reason, with the hint."""
    with pytest.raises(BadUsage) as caught:
        _build_fast({"$ref": "missing.json"}, LocalRetriever(tmp_path), tmp_path)
    missing = tmp_path.resolve() / "missing.json"
    assert caught.value.message == (
        f"cannot load $ref missing.json ({missing}): No such file or directory"
    )
    assert caught.value.hint == REF_HINT


def test_fast_engine_gives_up_quietly_on_what_it_cannot_compile() -> None:
    """Anything else it cannot compile: ``None``, and jsonschema answers alone."""
    assert _build_fast({"pattern": "("}, LocalRetriever(None), None) is None


def test_slow_engine_checks_date_times_like_the_fast_one() -> None:
    """Leap seconds and year 0000 pass in both engines (jsonschema alone would refuse them)."""
    slow = _build_slow({"type": "string", "format": "date-time"}, LocalRetriever(None))
    assert slow.is_valid("2016-12-31T23:59:60Z") is True
    assert slow.is_valid("0000-01-01T00:00:00Z") is True
    assert slow.is_valid("2020-01-01T00:00:00Z") is True
    assert slow.is_valid("2020-01-01T24:00:00Z") is False
    assert slow.is_valid("2020-01-01 00:00:00Z") is False


# -- check_schema ------------------------------------------------------------------------------


def test_check_schema_checks_formats_in_the_schema() -> None:
    """The metaschema's formats are checked: a broken regex is a problem, exactly worded."""
    assert check_schema({"pattern": "("}) == [Problem("/pattern", 'not a valid regex: "("', None)]
    assert check_schema({"pattern": "^a+$"}) == []


def test_check_schema_unknown_draft_defaults_quietly() -> None:
    """An unknown ``$schema`` is checked as 2020-12, without a deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_schema({"$schema": "https://example.invalid/s", "type": "string"}) == []


def test_check_schema_too_deep_to_check() -> None:
    """Thousands of nested levels: one problem at the root instead of a crash."""
    schema: dict[str, Any] = {}
    inner = schema
    for _ in range(3000):
        inner["not"] = {}
        inner = inner["not"]
    assert check_schema(schema) == [
        Problem("", "nested too deeply to check (hundreds of levels)", None)
    ]


CYCLE = (
    "$ref cycle that never reaches the data ({0} -> {0}): validation would never end;"
    " make each round descend into a property or item"
)


def test_check_schema_reports_ref_cycles() -> None:
    """A metaschema-valid schema whose ``$ref`` loops: one problem per cycle, at its path."""
    assert check_schema({"$defs": {"a": {"$ref": "#/$defs/a"}}}) == [
        Problem("/$defs/a", CYCLE.format("/$defs/a"), None)
    ]


# -- Validator.__init__ --------------------------------------------------------------------------


def test_invalid_schema_at_the_root_says_slash_and_hints() -> None:
    """A problem at the root shows ``/``, and the hint counts the problems."""
    with pytest.raises(BadUsage) as caught:
        Validator({"$ref": "#"})
    assert caught.value.message == f"invalid schema: /: {CYCLE.format('#')}"
    assert caught.value.hint == ("1 problem(s); `wscli validate --check-schema FILE` lists all")


def test_validator_keeps_its_settings() -> None:
    """``strict`` is kept as given; the schema is kept as given unless strict."""
    schema: dict[str, Any] = {"properties": {"a": {}}}
    plain = Validator(schema)
    assert plain.strict is False
    assert plain.schema is schema
    strict = Validator(schema, strict=True)
    assert strict.strict is True
    assert strict.schema == {"properties": {"a": {}}, "unevaluatedProperties": False}


def test_validator_bases_the_fast_engine_on_its_folder(tmp_path: Path) -> None:
    """The Rust engine resolves ``../x.json`` against the folder, so it is refused as outside."""
    folder = tmp_path / "schemas"
    folder.mkdir()
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    (folder / "x.json").write_text("{}", encoding="utf-8")
    with pytest.raises(BadUsage) as caught:
        Validator({"$ref": "../x.json"}, base_path=folder)
    outside = tmp_path.resolve() / "x.json"
    assert caught.value.message == (
        f"refusing $ref {outside.as_uri()}: {outside} is outside {folder.resolve()}"
    )
    assert caught.value.hint == REF_HINT


def test_is_valid_never_asks_the_slow_engine() -> None:
    """With the Rust engine built, ``is_valid`` answers without touching jsonschema."""
    validator = Validator({"type": "integer"})
    assert validator.engine == "jsonschema_rs"

    def refuse(_message: object) -> bool:
        raise AssertionError("the slow engine was asked")

    validator._slow = SimpleNamespace(is_valid=refuse)
    assert validator.is_valid(3) is True
    assert validator.is_valid("3") is False


# -- _explain: which errors become problems --------------------------------------------------------


def test_explain_descends_to_the_best_match() -> None:
    """An ``anyOf`` whose object branch fits best is explained by that branch's deeper error."""
    validator = Validator(
        {
            "properties": {
                "a": {
                    "anyOf": [
                        {"type": "object", "properties": {"x": {"type": "integer"}}},
                        {"type": "string"},
                    ]
                }
            }
        }
    )
    assert validator.problems({"a": {"x": "s"}}) == [
        Problem("/a/x", 'expected integer, got string "s"', None)
    ]


def test_explain_drops_noise_but_keeps_later_fields() -> None:
    """The enum noise under a wrong type is dropped, and the fields after it still count."""
    validator = Validator(
        {
            "properties": {
                "a": {"type": "string", "enum": [1, 2]},
                "b": {"type": "string"},
            }
        }
    )
    assert validator.problems({"a": 3, "b": 1}) == [
        Problem("/a", "expected string, got integer 3", None),
        Problem("/b", "expected string, got integer 1", None),
    ]


def test_explain_says_each_problem_once() -> None:
    """The same sentence at the same place, found twice, is listed once."""
    validator = Validator({"allOf": [{"required": ["x"]}, {"required": ["x"]}]})
    assert validator.problems({}) == [Problem("", 'missing required field "x"', None)]
