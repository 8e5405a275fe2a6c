"""The pure core of ``wscli validate``: check items, count them, keep what failed.

Sources hand over ``(position, value)`` pairs; this module asks the fast checker
whether each value is valid and only asks for an explanation when one will be
shown. Counts are always exact; ``--max-errors`` only cuts how many failures are
*listed*. No files, sockets, terminals or Click here: the command wires those in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from wscli.checks import judgement
from wscli.checks.judgement import VALID, MalformedInput, judge_value
from wscli.checks.judgement import Checker as Checker  # re-exported: validate names it

if TYPE_CHECKING:
    from wscli.checks.schema import Problem

INVALID = judgement.INVALID
UNKNOWN_TYPE = "unknown_type"
MALFORMED = judgement.MALFORMED

NO_TYPE = judgement.NO_TYPE  # valid JSON whose envelope has no string "type"
MALFORMED_ROW = judgement.MALFORMED_LABEL  # malformed input has no type at all
OTHER_TYPES = "(other types)"  # rows past MAX_TYPE_ROWS, so a hostile stream cannot flood reports
MAX_TYPE_ROWS = 50
_MAX_KIND_CACHE = 1000


Malformed = MalformedInput  # input that is not a JSON message at all (a source's item)


class Source(Protocol):
    """Something that yields messages with positions (see :mod:`wscli.validate.sources`)."""

    name: str

    @property
    def kind(self) -> str: ...

    @property
    def unit(self) -> str:
        """What a position counts: ``line``, ``index`` (JSON array) or ``message`` (live)."""
        ...

    def place(self, position: int) -> str: ...

    def items(self) -> Iterator[tuple[int, object]]: ...


@dataclass(frozen=True)
class Failure:
    """One message that failed, with everything a report says about it.

    Attributes:
        source: the source's display name (file, ``<stdin>`` or URL).
        place: ``file:line``, ``file[index]``, ``<stdin>:line`` or ``URL#n``.
        position: the line, array index or message number inside the source.
        unit: what ``position`` counts: ``line``, ``index`` or ``message``.
        kind: ``invalid``, ``unknown_type`` or ``malformed``.
        msg_type: the envelope ``type`` when it is a string.
        problems: what is wrong, for invalid messages (empty for malformed input).
        reason: why malformed input is not a message (empty for invalid ones).
    """

    source: str
    place: str
    position: int
    unit: str
    kind: str
    msg_type: str | None
    problems: tuple[Problem, ...] = ()
    reason: str = ""

    @property
    def row(self) -> str:
        """The summary row this failure belongs to."""
        if self.kind == MALFORMED:
            return MALFORMED_ROW
        return self.msg_type if self.msg_type is not None else NO_TYPE


@dataclass
class SourceSummary:
    """What one source held."""

    name: str
    kind: str
    valid: int = 0
    invalid: int = 0
    malformed: int = 0

    @property
    def messages(self) -> int:
        return self.valid + self.invalid + self.malformed


@dataclass(frozen=True)
class Row:
    """One line of the summary table: a message type and its counts."""

    label: str
    valid: int
    invalid: int
    malformed: int
    unknown: bool  # a type the schema does not know

    @property
    def messages(self) -> int:
        return self.valid + self.invalid + self.malformed


@dataclass
class Tally:
    """Runs the checker over sources and keeps exact counts plus a bounded listing.

    Args:
        checker: the compiled schema (``is_valid`` fast, ``problems`` explains).
        listing: whether failures are shown at all (text report, JSON, JUnit);
            without it nothing is explained beyond what the counts need.
        limit: list at most this many failing messages (``--max-errors``); ``None``
            lists all. Counts stay exact either way.
        keep: keep listed failures in :attr:`failures` (JSON and JUnit need them
            at the end; a text report streams them through ``on_failure``).
        on_failure: called with each listed failure as soon as it is found.
    """

    checker: Checker
    listing: bool = True
    limit: int | None = None
    keep: bool = True
    on_failure: Callable[[Failure], None] | None = None
    valid_by_type: dict[str, int] = field(default_factory=dict)
    invalid_by_type: dict[str, int] = field(default_factory=dict)
    unknown_types: set[str] = field(default_factory=set)
    unknown_type: int = 0
    malformed: int = 0
    listed: int = 0
    not_listed: int = 0
    failures: list[Failure] = field(default_factory=list)
    sources: list[SourceSummary] = field(default_factory=list)
    # type string -> whether the schema blames "/type" for it (an unknown type); lets
    # unlisted failures be classified without running the slow explainer each time.
    _blames_type: dict[str, bool] = field(default_factory=dict)

    # -- totals ----------------------------------------------------------------------------

    @property
    def valid(self) -> int:
        return sum(self.valid_by_type.values())

    @property
    def invalid(self) -> int:
        return sum(self.invalid_by_type.values())

    @property
    def messages(self) -> int:
        return self.valid + self.invalid + self.malformed

    @property
    def ok(self) -> bool:
        """All valid, and at least one message: a check that saw nothing did not pass."""
        return self.messages > 0 and self.invalid == 0 and self.malformed == 0

    def rows(self) -> list[Row]:
        """Summary rows: types by message count, then ``(no type)``, then malformed input."""
        labels = set(self.valid_by_type) | set(self.invalid_by_type)
        rows = [
            Row(
                label,
                self.valid_by_type.get(label, 0),
                self.invalid_by_type.get(label, 0),
                0,
                label in self.unknown_types,
            )
            for label in labels
        ]
        special = {NO_TYPE: 1, OTHER_TYPES: 2}
        rows.sort(key=lambda r: (special.get(r.label, 0), -r.messages, r.label))
        if self.malformed:
            rows.append(Row(MALFORMED_ROW, 0, 0, self.malformed, False))
        return rows

    # -- checking --------------------------------------------------------------------------

    def check(self, source: Source) -> SourceSummary:
        """Validate every item of one source; counts are updated as it goes (Ctrl-C safe)."""
        before = (self.valid, self.invalid, self.malformed)
        summary = SourceSummary(source.name, source.kind)
        self.sources.append(summary)
        checker, judge, valid_verdict, malformed = self.checker, judge_value, VALID, MALFORMED
        valid = self.valid_by_type
        try:
            # The hot path: one shared judgement (the fast check only), one dict update.
            for position, value in source.items():
                verdict = judge(value, checker, explain=False)
                if verdict.verdict is valid_verdict:
                    kind = verdict.label
                    count = valid.get(kind)
                    if count is None:
                        row = self._row_for(kind)
                        valid[row] = valid.get(row, 0) + 1
                    else:
                        valid[kind] = count + 1
                elif verdict.verdict is malformed:
                    self._malformed(source, position, verdict.reason)
                else:
                    self._invalid(source, position, verdict.value)
        finally:
            summary.kind = source.kind
            summary.valid = self.valid - before[0]
            summary.invalid = self.invalid - before[1]
            summary.malformed = self.malformed - before[2]
        return summary

    def _row_for(self, kind: str) -> str:
        """The row for a type seen for the first time, lumping types past the cap."""
        if kind in self.valid_by_type or kind in self.invalid_by_type:
            return kind
        if len(set(self.valid_by_type) | set(self.invalid_by_type)) >= MAX_TYPE_ROWS:
            return OTHER_TYPES
        return kind

    def _wants_listing(self) -> bool:
        return self.listing and (self.limit is None or self.listed < self.limit)

    def _invalid(self, source: Source, position: int, value: object) -> None:
        msg_type = _message_type(value)
        listed = self._wants_listing()
        cached = self._blames_type.get(msg_type) if msg_type is not None else False
        problems: tuple[Problem, ...] = ()
        if listed or cached is None:
            problems = tuple(self.checker.problems(value)) or (_unexplained(msg_type),)
            unknown = msg_type is not None and any(p.path == "/type" for p in problems)
            if msg_type is not None and len(self._blames_type) < _MAX_KIND_CACHE:
                self._blames_type[msg_type] = unknown
        else:
            unknown = bool(cached)
        row = self._row_for(msg_type if msg_type is not None else NO_TYPE)
        self.invalid_by_type[row] = self.invalid_by_type.get(row, 0) + 1
        if unknown:
            self.unknown_type += 1
            self.unknown_types.add(row)
        if listed:
            kind = UNKNOWN_TYPE if unknown else INVALID
            place = source.place(position)
            self._list(Failure(source.name, place, position, source.unit, kind, msg_type, problems))
        else:
            self.not_listed += 1

    def _malformed(self, source: Source, position: int, reason: str) -> None:
        self.malformed += 1
        if self._wants_listing():
            place = source.place(position)
            failure = Failure(
                source.name, place, position, source.unit, MALFORMED, None, reason=reason
            )
            self._list(failure)
        else:
            self.not_listed += 1

    def _list(self, failure: Failure) -> None:
        self.listed += 1
        if self.keep:
            self.failures.append(failure)
        if self.on_failure is not None:
            self.on_failure(failure)


def _message_type(message: object) -> str | None:
    if isinstance(message, dict):
        kind = message.get("type")
        if isinstance(kind, str):
            return kind
    return None


def _unexplained(msg_type: str | None) -> Problem:
    """The engines disagree (a bug): say so rather than list nothing."""
    from wscli.checks.schema import Problem

    return Problem(
        "", "rejected by the fast check, but jsonschema names no problem (a wscli bug)", msg_type
    )
