"""Load, check and compile JSON Schemas, then validate messages fast and explain failures.

Two engines, one answer. ``jsonschema_rs`` (Rust) answers "is this valid?" about a
hundred times faster than ``jsonschema``, which matters when ``tail --validate`` keeps
up with a fast stream; ``jsonschema`` then explains the rare invalid message in plain
words. The two must agree, so the slow path borrows the fast path's ``date-time``
check (they differ on leap seconds and year 0000) and both treat NaN and Infinity as
"not a JSON number".

Schemas never come from the network: ``$ref`` resolves to local files under the
schema's folder and an ``http(s)://`` reference is refused with a clear error.

This module imports neither rich nor a network library, and imports the validators
inside functions so that ``wscli --help`` stays fast.
"""

from __future__ import annotations

import ast
import copy
import json
import math
import os
import pathlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from wscli.errors import BadUsage

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

# jsonschema ships no type hints (types-jsonschema is not a dependency): its objects are Any.
ValidationError = Any
JsonschemaValidator = Any

SCHEMA_FILE = "sensor_stream.schema.json"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_NEW_DRAFTS = ("2019-09", "2020-12")  # the drafts that know unevaluatedProperties
_CLOSED_KEYWORDS = ("additionalProperties", "unevaluatedProperties")


@dataclass(frozen=True)
class Problem:
    """One reason a message (or a schema) is invalid.

    Attributes:
        path: JSON pointer inside the message, e.g. ``/data/value`` (``""`` is the root).
        reason: plain words, e.g. ``expected number, got string "75.5"``.
        msg_type: the envelope ``type`` when it is a string, else ``None``.
    """

    path: str
    reason: str
    msg_type: str | None


# -- loading ------------------------------------------------------------------------------


def builtin_schema_path() -> Traversable | pathlib.Path:
    """Where the built-in schema lives: inside the wheel, or in a source checkout.

    A wheel ships ``schemas/`` as package data (``wscli/schemas/``); an editable install
    or a checkout has it at the repository root, which stays the source of truth.
    """
    packaged = resources.files("wscli") / "schemas" / SCHEMA_FILE
    if packaged.is_file():
        return packaged
    return pathlib.Path(__file__).resolve().parents[2] / "schemas" / SCHEMA_FILE


def load_schema(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read a schema file (``None``: the built-in one) into a dict.

    Raises:
        BadUsage: the file cannot be read, is not JSON, or is not a JSON object.
    """
    source = builtin_schema_path() if path is None else pathlib.Path(path)
    where = str(source) if path is None else os.fspath(path)
    try:
        text = read_schema_text(source)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BadUsage(f"cannot read schema {where}: {reason}") from exc
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadUsage(
            f"schema {where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise BadUsage(f"schema {where} is nested too deeply to read") from exc
    if not isinstance(schema, dict):
        raise BadUsage(f"schema {where} must be a JSON object, got {_json_type(schema)}")
    return schema


MAX_SCHEMA_BYTES = 16 * 1024 * 1024  # far beyond any real schema; /dev/zero is not one


def read_schema_text(source: Traversable | pathlib.Path) -> str:
    """A schema file's text, read at most :data:`MAX_SCHEMA_BYTES` (issue #6: bounded
    memory whatever the input, ``--schema /dev/zero`` included).

    Raises:
        OSError, UnicodeDecodeError: unreadable or not UTF-8.
        ValueError: larger than the limit.
    """
    with source.open("rb") as handle:
        data = handle.read(MAX_SCHEMA_BYTES + 1)
    if len(data) > MAX_SCHEMA_BYTES:
        raise ValueError(f"larger than {MAX_SCHEMA_BYTES // (1024 * 1024)} MiB, not a schema")
    return data.decode("utf-8")


def check_schema(schema: dict[str, Any]) -> list[Problem]:
    """Validate a schema against its metaschema (draft from ``$schema``; 2020-12 by default).

    Returns:
        The problems, each with ``path`` a JSON pointer inside the *schema*; ``[]`` if fine.
    """
    from jsonschema import validators  # type: ignore[import-untyped, unused-ignore]

    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    meta_cls = validators.validator_for(cls.META_SCHEMA, default=cls)
    meta = meta_cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)
    try:
        problems = _explain(meta.iter_errors(schema), msg_type=None)
    except RecursionError:
        return [Problem("", "nested too deeply to check (hundreds of levels)", None)]
    if not problems:
        from wscli.checks.schemacycles import ref_cycles

        problems = [Problem(path, reason, None) for path, reason in ref_cycles(schema)]
    return problems


def compile_schema(
    path: str | os.PathLike[str] | None = None, *, strict: bool = False
) -> Validator:
    """Load a schema file (``None``: built-in) and compile it, resolving ``$ref`` beside it."""
    base = None if path is None else pathlib.Path(path).resolve().parent
    return Validator(load_schema(path), strict=strict, base_path=base)


# -- validating ---------------------------------------------------------------------------


class Validator:
    """A schema compiled once: ``is_valid`` is the fast path, ``problems`` explains.

    Args:
        schema: the schema; never mutated.
        strict: reject properties the schema does not name (see ``make_strict``).
        base_path: folder for relative ``$ref`` to local files; nothing is fetched.

    Raises:
        BadUsage: the schema is invalid, or one of its ``$ref`` cannot be resolved locally.
    """

    def __init__(
        self,
        schema: dict[str, Any],
        *,
        strict: bool = False,
        base_path: pathlib.Path | None = None,
    ) -> None:
        self.strict = strict
        self.schema = make_strict(schema) if strict else schema
        problems = check_schema(schema)
        if problems:
            first = problems[0]
            raise BadUsage(
                f"invalid schema: {first.path or '/'}: {first.reason}",
                hint=f"{len(problems)} problem(s); `wscli validate --check-schema FILE` lists all",
            )
        self._retriever = LocalRetriever(base_path, schema.get("$id"))
        self._slow = _build_slow(self.schema, self._retriever)
        self._fast = _build_fast(self.schema, self._retriever, base_path)
        self._fast_is_valid: Callable[[Any], bool] = (
            self._fast.is_valid if self._fast is not None else self._slow_is_valid
        )

    @property
    def engine(self) -> str:
        """Which engine answers ``is_valid``: ``jsonschema_rs`` or ``jsonschema``."""
        return "jsonschema" if self._fast is None else "jsonschema_rs"

    def is_valid(self, message: object) -> bool:
        """Whether the message is valid; the fast path (no explanation)."""
        return self._fast_is_valid(message)

    def problems(self, message: object) -> list[Problem]:
        """Every problem with the message, most useful first; ``[]`` when it is valid.

        Raises:
            BadUsage: a ``$ref`` met during validation cannot be resolved locally.
        """
        from referencing.exceptions import Unresolvable

        msg_type = _message_type(message)
        try:
            return _explain(self._slow.iter_errors(message), msg_type)
        except Unresolvable as exc:
            raise self._retriever.error_for(exc) from exc
        except RecursionError:
            # Messages are at most MAX_DEPTH deep (wscli.messages), but a schema with
            # many steps per level can still outrun the stack: say so, never crash.
            return [Problem("", "nested too deep for the schema to explain", msg_type)]

    def _slow_is_valid(self, message: object) -> bool:
        from referencing.exceptions import Unresolvable

        try:
            return bool(self._slow.is_valid(message))
        except Unresolvable as exc:
            raise self._retriever.error_for(exc) from exc
        except RecursionError:
            return False  # problems() then says it is nested too deep


def make_strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A deep copy that rejects unknown properties in the root and in each object ``$def``.

    Only schemas that list ``properties`` and say nothing about extra properties are
    closed, so a deliberately open one (``"additionalProperties": true``) stays open and
    an ``if`` or a bare ``{"type": "object"}`` is left alone. 2019-09 and later get
    ``unevaluatedProperties: false`` (sees through ``allOf``/``$ref``); older drafts get
    ``additionalProperties: false``.
    """
    strict = copy.deepcopy(schema)
    draft = str(strict.get("$schema", DRAFT_2020_12))
    keyword = (
        "unevaluatedProperties"
        if "$schema" not in strict or any(d in draft for d in _NEW_DRAFTS)
        else "additionalProperties"
    )
    targets = [strict]
    for container in ("$defs", "definitions"):
        defs = strict.get(container)
        if isinstance(defs, dict):
            targets.extend(d for d in defs.values() if isinstance(d, dict))
    for target in targets:
        if "properties" in target and not any(k in target for k in _CLOSED_KEYWORDS):
            target[keyword] = False
    return strict


# -- engines ------------------------------------------------------------------------------


def _build_slow(schema: dict[str, Any], retriever: LocalRetriever) -> JsonschemaValidator:
    """jsonschema with format checking on, finite numbers only, and a local-only registry."""
    from jsonschema import (  # type: ignore[import-untyped, unused-ignore]
        FormatChecker,
        validators,
    )
    from referencing import Registry, Resource
    from referencing.jsonschema import specification_with

    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    spec = specification_with(cls.META_SCHEMA["$schema"])

    def retrieve(uri: str) -> Resource[Any]:
        return Resource.from_contents(retriever(uri), default_specification=spec)

    base = cls.TYPE_CHECKER
    type_checker = base.redefine_many(
        {
            "number": lambda _c, x: base.is_type(x, "number") and _is_finite(x),
            "integer": lambda _c, x: base.is_type(x, "integer") and _is_finite(x),
        }
    )
    extended = validators.extend(cls, type_checker=type_checker)
    checker = FormatChecker(formats=())
    checker.checkers = dict(cls.FORMAT_CHECKER.checkers)
    date_time = _fast_date_time()
    if date_time is not None:
        checker.checks("date-time")(date_time)
    registry: Registry[Any] = Registry(retrieve=retrieve)  # type: ignore[call-arg]
    validator: JsonschemaValidator = extended(schema, format_checker=checker, registry=registry)
    return validator


def _fast_date_time() -> Callable[[object], bool] | None:
    """The Rust engine's RFC 3339 check, so both engines agree on every timestamp."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - jsonschema-rs is a dependency
        return None
    one = jsonschema_rs.validator_for(
        {"type": "string", "format": "date-time"}, validate_formats=True
    )

    def check(value: object) -> bool:
        return not isinstance(value, str) or bool(one.is_valid(value))

    return check


def _build_fast(
    schema: dict[str, Any], retriever: LocalRetriever, base_path: pathlib.Path | None
) -> Any:
    """jsonschema_rs with formats on and our retriever; ``None`` falls back to jsonschema."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - jsonschema-rs is a dependency
        return None
    kwargs: dict[str, Any] = {}
    if "$id" not in schema and base_path is not None:
        kwargs["base_uri"] = base_path.resolve().as_uri() + "/"
    try:
        return jsonschema_rs.validator_for(
            schema, validate_formats=True, retriever=retriever, **kwargs
        )
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        if retriever.refused:
            raise retriever.error_for(exc) from exc
        if "retriev" in str(exc) or "$ref" in str(exc):
            raise BadUsage(f"cannot resolve a $ref in the schema: {_first_line(exc)}") from exc
        return None  # something the Rust engine cannot compile: jsonschema answers alone


class LocalRetriever:
    """Resolve ``$ref`` URIs to JSON files under one folder; refuse everything else.

    Relative references resolve against the schema's folder, ``file://`` URIs must stay
    inside it, and a reference relative to the root ``$id`` (``https://x/schemas/a.json``
    when ``$id`` is ``https://x/schemas/main.json``) maps to ``a.json`` beside the schema.
    Anything else, ``http(s)://`` above all, is refused: validation never touches the
    network.
    """

    def __init__(self, base_path: pathlib.Path | None, root_id: object = None) -> None:
        self.base_path = base_path.resolve() if base_path is not None else None
        self.id_prefix = root_id.rsplit("/", 1)[0] + "/" if isinstance(root_id, str) else None
        self.refused: str | None = None

    def __call__(self, uri: str) -> Any:
        path = self._local_path(uri.split("#", 1)[0])
        try:
            return json.loads(read_schema_text(path))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            shown = path.relative_to(self.base_path) if self.base_path else path
            self._refuse(f"cannot load $ref {shown} ({path}): {reason}")

    def error_for(self, exc: BaseException) -> BadUsage:
        """The one-line usage error for a reference that could not be resolved."""
        reason = self.refused or f"cannot resolve a $ref in the schema: {_first_line(exc)}"
        return BadUsage(
            reason,
            hint="save referenced schemas beside the schema file and use relative $refs",
        )

    def _local_path(self, uri: str) -> pathlib.Path:
        parts = urlsplit(uri)
        if parts.scheme in ("http", "https") and not self._under_root_id(uri):
            self._refuse(f"refusing to fetch {uri}: wscli never fetches schemas from the network")
        if self.base_path is None:
            self._refuse(f"cannot resolve $ref {_shown_uri(uri)}: no schema folder to look in")
        if self.id_prefix and uri.startswith(self.id_prefix):
            relative = unquote(uri[len(self.id_prefix) :])
        elif parts.scheme == "file":
            relative = url2pathname(parts.path)
        elif parts.scheme in ("", "json-schema"):
            relative = unquote(parts.path.lstrip("/") if parts.scheme else parts.path)
        else:
            self._refuse(f"refusing to resolve $ref {uri}: only local files are allowed")
        path = (self.base_path / relative).resolve()
        if not path.is_relative_to(self.base_path):
            self._refuse(f"refusing $ref {uri}: {path} is outside {self.base_path}")
        return path

    def _under_root_id(self, uri: str) -> bool:
        return bool(self.id_prefix and self.base_path and uri.startswith(self.id_prefix))

    def _refuse(self, reason: str) -> NoReturn:
        self.refused = reason
        raise ValueError(reason)


def _shown_uri(uri: str) -> str:
    """The reference as the user wrote it, without the Rust engine's placeholder base."""
    return uri.removeprefix("json-schema:///")


# -- explaining ---------------------------------------------------------------------------


def _explain(errors: Iterable[ValidationError], msg_type: str | None) -> list[Problem]:
    """Turn jsonschema errors into sorted, de-duplicated plain-words problems."""
    from jsonschema.exceptions import (  # type: ignore[import-untyped, unused-ignore]
        best_match,
    )

    found: list[tuple[tuple[str, ...], str, bool]] = []
    for error in errors:
        try:
            leaf = best_match([error]) or error
        except TypeError:  # jsonschema's ranking hashes draft 3's schema-valued "type"
            leaf = error
        for parts, reason in _describe(leaf, msg_type is not None):
            found.append((parts, reason, leaf.validator == "type"))
    typed = {parts for parts, _, is_type in found if is_type}
    seen: set[tuple[tuple[str, ...], str]] = set()
    problems: list[tuple[tuple[int, tuple[str, ...], str], Problem]] = []
    for parts, reason, is_type in found:
        if (parts in typed and not is_type) or (parts, reason) in seen:
            continue  # a wrong type makes enum/format/range noise at the same place
        seen.add((parts, reason))
        problems.append(((len(parts), parts, reason), Problem(_pointer(parts), reason, msg_type)))
    return [problem for _, problem in sorted(problems, key=lambda item: item[0])]


def _describe(
    error: ValidationError, message: bool = True
) -> Iterator[tuple[tuple[str, ...], str]]:
    """One error in plain words, with the path it is about (may yield several)."""
    parts = tuple(str(p) for p in error.absolute_path)
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword in _CLOSED_KEYWORDS and expected is False:
        for name in _unexpected_names(error.message):
            yield (*parts, name), f'unexpected field "{name}" (not in the schema)'
        return
    if keyword == "required":
        yield parts, f'missing required field "{_missing_field(error)}"'
        return
    if keyword in ("anyOf", "oneOf") and error.context:
        options = sorted(
            {
                _reason(str(e.validator), e.validator_value, e.instance, parts, message)
                or e.message
                for e in error.context
            }
        )
        yield parts, f"matches none of the allowed forms ({' | '.join(options)})"
        return
    yield parts, _reason(str(keyword), expected, value, parts, message) or error.message


def _reason(
    keyword: str, expected: Any, value: Any, parts: tuple[str, ...], message: bool = True
) -> str | None:
    """The sentence for one failed keyword, or ``None`` to keep jsonschema's own.

    ``message`` is False when explaining a schema (``check_schema``): its ``/type`` is a
    keyword there, not the envelope's message type.
    """
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "greater than",
        "exclusiveMaximum": "less than",
    }
    if keyword == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        # Type names; draft 3 also allows whole schemas, shown as JSON.
        shown = " or ".join(w if isinstance(w, str) else _show(w) for w in wanted)
        return f"expected {shown}, got {_got(value)}"
    if keyword == "enum" and parts == ("type",) and isinstance(value, str) and message:
        names = ", ".join(sorted(map(str, expected)))
        return f"unknown message type {_show(value)} (expected one of: {names})"
    if keyword == "enum":
        return f"expected one of: {', '.join(map(_show, expected))}; got {_got(value)}"
    if keyword == "const":
        return f"expected {_show(expected)}, got {_got(value)}"
    if keyword in bounds:
        return f"must be {bounds[keyword]} {_show(expected)}, got {_show(value)}"
    if keyword == "format":
        name = "RFC 3339 date-time" if expected == "date-time" else str(expected)
        return f"not a valid {name}: {_show(value)}"
    if keyword == "minLength" and expected == 1:
        return "must not be empty"
    if keyword in ("minLength", "maxLength"):
        side = "at least" if keyword == "minLength" else "at most"
        return f"must be {side} {expected} characters long, got {len(value)}"
    if keyword == "pattern":
        return f"does not match the pattern {expected}: {_show(value)}"
    return None


def _unexpected_names(message: str) -> list[str]:
    """Field names out of jsonschema's "('a', 'b' were unexpected)" sentence."""
    found = re.search(r"\((.*) (?:was|were) unexpected\)", message)
    if found:
        try:
            names = ast.literal_eval(f"({found.group(1)},)")
            return [str(name) for name in names]
        except (SyntaxError, ValueError):
            pass
    return ["?"]


def _missing_field(error: ValidationError) -> str:
    instance = error.instance if isinstance(error.instance, dict) else {}
    for name in error.validator_value:
        if name not in instance and error.message.startswith(repr(name)):
            return str(name)
    return str(error.message).split(" is a required property")[0].strip("'\"")


def _message_type(message: object) -> str | None:
    if isinstance(message, dict):
        value = message.get("type")
        if isinstance(value, str):
            return value
    return None


def _pointer(parts: tuple[str, ...]) -> str:
    """RFC 6901 JSON pointer: ``~`` and ``/`` escaped."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _is_finite(value: object) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number" if math.isfinite(value) else "non-finite number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: object, limit: int = 40) -> str:
    """A short JSON rendering of a value for a reason sentence."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _got(value: object) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{_show(value)} (not a JSON number)"
    kind = _json_type(value)
    if value is None or isinstance(value, (dict, list, tuple)):
        return kind
    return f"{kind} {_show(value)}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
