"""One message judged once: JSON or not, its type label, valid or not, the first problem.

``tail --validate``, ``probe``, ``load`` and ``validate`` all ask these two functions,
so they cannot disagree about a message (issue #18). :func:`judge` takes a frame as
it came off the wire; :func:`judge_value` takes a value a source already decoded
(``validate`` reads files, where a line may be malformed before it is a message).
Pure: no sockets, no terminals, no counters; each command keeps its own tallies.

Labels are shared too: a JSON message whose envelope has no string ``type`` is
:data:`NO_TYPE` everywhere (``tail --stats``, ``probe``, ``load``, ``validate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from wscli.frames import OP_TEXT
from wscli.messages import Malformed, parse_json

if TYPE_CHECKING:
    from wscli.checks.schema import Problem

# The verdicts on one message.
VALID = "valid"  # JSON, and the schema accepts it
INVALID = "invalid"  # JSON the schema rejects
MALFORMED = "malformed"  # a text frame (or a line) that is not a JSON message
BINARY = "binary"  # a binary frame: never a JSON message
UNCHECKED = "unchecked"  # JSON, and no schema was asked for

# The type labels of messages without a type of their own.
NO_TYPE = "(no type)"  # JSON whose envelope has no string "type"
MALFORMED_LABEL = "(malformed)"
BINARY_LABEL = "(binary)"


@dataclass(frozen=True, slots=True)
class MalformedInput:
    """Input a source read that is not a JSON message at all: not JSON, not UTF-8, a
    binary frame, ... (``wscli.validate.tally.Malformed`` is this class)."""

    reason: str


class Checker(Protocol):
    """What a judgement needs from :class:`wscli.checks.schema.Validator`."""

    def is_valid(self, message: object) -> bool: ...

    def problems(self, message: object) -> list[Problem]: ...


@dataclass(slots=True)
class Judgement:
    """What one message is (one per message on every hot path: not frozen, since a
    frozen dataclass costs four times as much to build).

    Attributes:
        verdict: :data:`VALID`, :data:`INVALID`, :data:`MALFORMED`, :data:`BINARY`
            or :data:`UNCHECKED`.
        label: the envelope ``type``, or :data:`NO_TYPE`, :data:`MALFORMED_LABEL`,
            :data:`BINARY_LABEL`.
        value: the decoded JSON value (``None`` for malformed and binary input).
        problems: what the schema finds wrong, when explained (see ``explain``).
        reason: why malformed input is not a message; ``binary frame (N bytes)``.
    """

    verdict: str
    label: str
    value: Any = None
    problems: tuple[Problem, ...] = ()
    reason: str = ""

    @property
    def is_json(self) -> bool:
        return self.verdict in (VALID, INVALID, UNCHECKED)

    @property
    def failed(self) -> bool:
        """Not a valid message when a schema was asked for (invalid, malformed, binary)."""
        return self.verdict in (INVALID, MALFORMED, BINARY)

    @property
    def problem(self) -> str:
        """The first problem in one phrase: ``/data/value: expected number, ...``."""
        if self.problems:
            first = self.problems[0]
            return f"{first.path or '/'}: {first.reason}"
        if self.reason:
            return self.reason
        return "invalid" if self.verdict == INVALID else ""


def type_label(value: object) -> str:
    """The envelope ``type`` of a JSON value, or :data:`NO_TYPE`."""
    kind = value.get("type") if value.__class__ is dict else None
    return kind if kind.__class__ is str else NO_TYPE


def judge(
    opcode: int, payload: bytes, checker: Checker | None, *, explain: bool = True
) -> Judgement:
    """Judge one data frame; ``checker`` ``None``: JSON is :data:`UNCHECKED`.

    ``explain`` asks the (slow) explainer for the problems of an invalid message;
    without it an invalid message's ``problems`` stay empty.
    """
    if opcode != OP_TEXT:
        return Judgement(BINARY, BINARY_LABEL, reason=f"binary frame ({len(payload)} bytes)")
    try:
        value = parse_json(payload)
    except Malformed as exc:
        return Judgement(MALFORMED, MALFORMED_LABEL, reason=exc.reason)
    return judge_value(value, checker, explain=explain)


def judge_value(value: object, checker: Checker | None, *, explain: bool = True) -> Judgement:
    """Judge a decoded value; a :class:`MalformedInput` item is malformed."""
    if value.__class__ is MalformedInput:
        return Judgement(MALFORMED, MALFORMED_LABEL, reason=value.reason)
    kind = value.get("type") if value.__class__ is dict else None  # type_label, inlined
    label: str = kind if kind.__class__ is str else NO_TYPE
    if checker is None:
        return Judgement(UNCHECKED, label, value)
    if checker.is_valid(value):
        return Judgement(VALID, label, value)
    problems = tuple(checker.problems(value)) if explain else ()
    return Judgement(INVALID, label, value, problems)
