"""Decoding message payloads: fast JSON, with the standard library for the verdicts.

orjson parses (and checks UTF-8) several times faster than ``json``, which is
most of the per-message cost once frames are read efficiently. When orjson
refuses a payload, the standard library decides and explains: it accepts what
orjson does not (``NaN``, ``Infinity``), and its error messages give line and
column, so verdicts and reasons are exactly the stdlib's.

Known difference: orjson reads integers beyond 64 bits as floats. Output in
JSON Lines and raw modes is the received bytes, so nothing printed changes;
``--field`` re-reads such a message exactly, only the pretty view shows it rounded.

Some text ``json.loads`` accepts is still not a message (issue #6): ``NaN`` and
``Infinity`` are not JSON, a lone surrogate (``"\\ud800"``) is not Unicode and
cannot be written out again, and data nested deeper than :data:`MAX_DEPTH` levels
would exhaust the recursion of whatever reads it next (the schema explainer, the
renderer). :func:`unfit_reason` says which, checking the value only when a cheap
look at its text shows it could be one of them.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from typing import Any

import orjson

MAX_DEPTH = 128  # levels of arrays and objects; real messages have a handful
TOO_DEEP = f"nested too deep (more than {MAX_DEPTH} levels of arrays and objects)"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# A literal that may overflow a double: an exponent of three digits or more, or 309
# digits in a row. json reads such a number as Infinity without any "Infinity" text.
_MAY_OVERFLOW = re.compile(r"[eE][+]?\d{3}|\d{309}")
_MAY_OVERFLOW_BYTES = re.compile(rb"[eE][+]?\d{3}|\d{309}")
OUT_OF_RANGE = "number out of range: it overflows a double (it would read as Infinity)"


class Malformed(ValueError):
    """A payload that is not UTF-8 or not JSON; ``reason`` says which, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_json(payload: bytes) -> Any:
    """Decode a UTF-8 JSON payload.

    Raises:
        Malformed: the payload is not valid UTF-8, or not JSON.
    """
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    else:
        if payload.count(b"[") + payload.count(b"{") <= MAX_DEPTH:
            return obj  # what unfit_reason(..., fast=True) finds fit, without the call
        reason = unfit_reason(payload, obj, fast=True)
        if reason is not None:
            raise Malformed(reason)
        return obj
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        obj = json.loads(text)
    except ValueError as exc:
        problem = f"not JSON: {exc}"
    except RecursionError:
        problem = TOO_DEEP
    else:
        reason = unfit_reason(text, obj, fast=False)
        if reason is not None:
            raise Malformed(reason)
        return obj
    # Raised here, not in the handler: the decoder's error (which holds the whole text)
    # and this frame's copy of a huge payload must not live on with the Malformed.
    del text
    raise Malformed(problem)


def unfit_reason(text: str | bytes, value: object, *, fast: bool) -> str | None:
    """Why a value a JSON decoder accepted is still not a message, or ``None``.

    Args:
        text: the text it was decoded from: cheap counts decide whether to look at all.
        value: the decoded value.
        fast: decoded by orjson, which already refuses NaN and lone surrogates.
    """
    if isinstance(text, bytes):
        deep = text.count(b"[") + text.count(b"{") > MAX_DEPTH
        infinity = b"Infinity" in text
        odd = not fast and (
            b"\\u" in text
            or b"NaN" in text
            or infinity
            or _MAY_OVERFLOW_BYTES.search(text) is not None
        )
        if not deep and not odd:
            return None
        return _named(unfit_value(value), infinity=infinity)
    if not fast and not text.isascii() and _LONE_SURROGATE.search(text) is not None:
        return _named(unfit_value(value), infinity="Infinity" in text)
    if fast:
        if text.count("[") + text.count("{") <= MAX_DEPTH:
            return None
        return _named(unfit_value(value), infinity="Infinity" in text)
    return unfit_span(text, 0, len(text), value)


def unfit_span(text: str, start: int, end: int, value: object) -> str | None:
    """:func:`unfit_reason` for a value decoded from ``text[start:end]``, without the copy.

    jsonstream decodes many values from one buffer; both readers share these triggers
    so that a value gets the same verdict from a file as from a frame.
    """
    deep = text.count("[", start, end) + text.count("{", start, end) > MAX_DEPTH
    infinity = text.find("Infinity", start, end) >= 0
    odd = (
        infinity
        or text.find("\\u", start, end) >= 0
        or text.find("NaN", start, end) >= 0
        or _MAY_OVERFLOW.search(text, start, end) is not None
    )
    if not deep and not odd:
        return None
    return _named(unfit_value(value), infinity=infinity)


def _named(reason: str | None, *, infinity: bool) -> str | None:
    """An Infinity the text never spelled out came from a literal no double holds."""
    if reason is not None and reason.endswith("Infinity is not a JSON number") and not infinity:
        return OUT_OF_RANGE  # 1e999: valid JSON text, but no double holds it
    return reason


def unfit_value(value: object) -> str | None:
    """The first thing in ``value`` that a message cannot hold (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            found = _LONE_SURROGATE.search(item)
            if found:
                return (
                    f"not Unicode text: a lone surrogate \\u{ord(found.group()):04x}"
                    " in a string (JSON text must be Unicode)"
                )
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"not JSON: {json.dumps(item)} is not a JSON number"
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                return TOO_DEEP
            # pushed in reverse so that the first problem in document order is named
            if isinstance(item, dict):
                for key, v in reversed(item.items()):
                    stack.append((v, depth + 1))
                    stack.append((key, depth))
            else:
                stack.extend((v, depth + 1) for v in reversed(item))
    return None


def parse_timestamp(value: object) -> float | None:
    """An RFC 3339 timestamp (a message's ``data.timestamp``) as epoch seconds, else ``None``.

    ``Z`` is accepted on every Python version; a timestamp without an offset (not
    RFC 3339, but common) is read as UTC rather than the local machine's time, so a
    delivery delay or a clock skew does not shift by the reader's time zone.
    """
    if type(value) is not str:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
