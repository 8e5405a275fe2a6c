"""Checking replies: ``connect --expect/--expect-json`` and ``replay --expect-same``.

Pure values in, findings out. :class:`CheckedSource` wraps any
:class:`~wscli.session.tailing.FrameSource` so the checks see each reply as ``TailRun``
shows it, without a second loop over the frames.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wscli.filters import MISSING, get_field, parse_field_path
from wscli.frames import OP_TEXT, escape, hex_preview

if TYPE_CHECKING:
    from wscli.session.tailing import FrameSource, SourceInfo

MAX_FINDINGS = 20  # differences kept for the report; the rest are counted
Path = tuple[str | int, ...]


def decode_json(opcode: int, payload: bytes) -> Any:
    """The JSON value of a text frame, or :data:`MISSING` when it has none."""
    if opcode != OP_TEXT:
        return MISSING
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        return MISSING


def preview(opcode: int, payload: bytes, width: int = 80) -> str:
    if opcode != OP_TEXT:
        return f"(binary {len(payload)} B) {hex_preview(payload, 16)}"
    text = escape(payload.decode("utf-8", "replace"))
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class Expectation:
    """One ``--expect REGEX`` or ``--expect-json PATH=VALUE``; every reply must pass."""

    label: str
    pattern: re.Pattern[str] | None = None
    path: Path = ()
    value: Any = None

    @classmethod
    def regex(cls, text: str) -> Expectation:
        """Raises ValueError for a pattern ``re`` cannot compile."""
        try:
            return cls(f"--expect {text}", pattern=re.compile(text))
        except re.error as exc:
            raise ValueError(f"--expect {text!r} is not a regular expression: {exc}") from None

    @classmethod
    def json_field(cls, text: str) -> Expectation:
        """``data.ok=true``: the value is JSON when it parses, a string otherwise."""
        raw_path, sep, raw_value = text.partition("=")
        if not sep or not raw_path.strip():
            raise ValueError(f"--expect-json {text!r}: write PATH=VALUE, e.g. data.ok=true")
        try:
            value = json.loads(raw_value)
        except ValueError:
            value = raw_value
        return cls(f"--expect-json {text}", path=parse_field_path(raw_path.strip()), value=value)

    def failure(self, opcode: int, payload: bytes) -> str | None:
        """Why this reply does not pass, or ``None``."""
        if self.pattern is not None:
            text = payload.decode("utf-8", "replace")
            return None if self.pattern.search(text) else f"does not match {self.label[9:]!r}"
        obj = decode_json(opcode, payload)
        if obj is MISSING:
            return "is not JSON"
        found = get_field(obj, self.path)
        pointer = pointer_of(self.path)
        if found is MISSING:
            return f"has no {pointer}"
        if found != self.value or isinstance(found, bool) != isinstance(self.value, bool):
            return f"has {pointer} = {_show(found)}, expected {_show(self.value)}"
        return None


def pointer_of(path: Path) -> str:
    """``("data", "value")`` as the JSON Pointer ``/data/value`` (RFC 6901)."""
    if not path:
        return "/"
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _show(value: Any) -> str:
    if value is MISSING:
        return "(missing)"
    return escape(json.dumps(value, ensure_ascii=False))


def json_differences(
    expected: Any, actual: Any, ignore: tuple[Path, ...] = (), at: Path = ()
) -> Iterator[tuple[Path, Any, Any]]:
    """Yield ``(path, expected, actual)`` for every leaf that differs.

    Paths under an ``ignore`` prefix are skipped. Objects compare key by key,
    arrays index by index; a missing side is :data:`MISSING`.
    """
    if any(at[: len(prefix)] == prefix for prefix in ignore):
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in list(expected) + [k for k in actual if k not in expected]:
            yield from json_differences(
                expected.get(key, MISSING), actual.get(key, MISSING), ignore, (*at, key)
            )
        return
    if isinstance(expected, list) and isinstance(actual, list):
        for index in range(max(len(expected), len(actual))):
            left = expected[index] if index < len(expected) else MISSING
            right = actual[index] if index < len(actual) else MISSING
            yield from json_differences(left, right, ignore, (*at, index))
        return
    if expected is MISSING and actual is MISSING:
        return
    if type(expected) is not type(actual) and not (
        isinstance(expected, (int, float))
        and isinstance(actual, (int, float))
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        yield at, expected, actual
    elif expected != actual:
        yield at, expected, actual


def frame_differences(
    number: int,
    expected: tuple[int, bytes] | None,
    actual: tuple[int, bytes] | None,
    ignore: tuple[Path, ...] = (),
) -> list[str]:
    """Lines like ``#3 /data/value: 75.5 → 80.1`` for one recorded/actual reply pair."""
    if expected is None and actual is not None:
        return [f"#{number} unexpected reply: {preview(*actual)}"]
    if actual is None and expected is not None:
        return [f"#{number} missing reply (recorded: {preview(*expected)})"]
    assert expected is not None and actual is not None
    left, right = decode_json(*expected), decode_json(*actual)
    if left is not MISSING and right is not MISSING:
        return [
            f"#{number} {pointer_of(path)}: {_show(old)} → {_show(new)}"
            for path, old, new in json_differences(left, right, ignore)
        ]
    if expected != actual:
        return [f"#{number} reply: {preview(*expected)} → {preview(*actual)}"]
    return []


class CheckedSource:
    """A frame source whose replies are also handed to ``check(number, opcode, payload)``."""

    def __init__(self, source: FrameSource, check: Callable[[int, int, bytes], None]) -> None:
        self.source = source
        self.check = check

    @property
    def options(self) -> SourceInfo:
        return self.source.options

    def connect(self) -> None:
        self.source.connect()

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        check = self.check
        for number, (opcode, payload) in enumerate(self.source, start=1):
            check(number, opcode, payload)
            yield opcode, payload


class Findings:
    """Failed checks, kept up to :data:`MAX_FINDINGS` with a count of the rest."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.total = 0

    def add(self, line: str) -> None:
        self.total += 1
        if len(self.lines) < MAX_FINDINGS:
            self.lines.append(line)

    def extend(self, lines: list[str]) -> None:
        for line in lines:
            self.add(line)

    def summary(self) -> list[str]:
        more = self.total - len(self.lines)
        return self.lines + ([f"... and {more} more"] if more > 0 else [])
