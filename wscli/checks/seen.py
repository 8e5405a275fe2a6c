"""What a stream actually carried, so a filter or expectation that matched nothing says so.

``tail --location Attic`` over a stream of ``attic`` readings is silent otherwise: the
user waits for output that can never come. Here the values seen per option are kept
(bounded: a stream of unique ids must not grow memory) and a miss is told with what
was seen and, via :mod:`difflib`, the likely intended value. Pure; no I/O.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

SEEN_LIMIT = 256  # distinct values kept per option; the rest only counted
SHOWN = 10  # values named in one line
VALUE_LIMIT = 60  # characters kept of one value
TAIL_PATIENCE = 1000  # messages without a match before an open-ended tail says so


class SeenValues:
    """Distinct values in arrival order, at most ``limit`` kept; later new ones only counted."""

    def __init__(self, limit: int = SEEN_LIMIT) -> None:
        self.limit = limit
        self.values: dict[str, None] = {}
        self.more = False  # distinct values beyond the limit were met

    def add(self, value: str) -> None:
        if len(value) > VALUE_LIMIT:  # a hostile "location" of a megabyte stays short here
            value = value[: VALUE_LIMIT - 1] + "…"
        if value in self.values:
            return
        if len(self.values) < self.limit:
            self.values[value] = None
        else:
            self.more = True

    def __len__(self) -> int:
        return len(self.values)

    def listing(self, shown: int = SHOWN) -> str:
        """``attic, basement, kitchen`` sorted; ``…`` and a count when there are more."""
        names = sorted(self.values)
        text = ", ".join(names[:shown])
        if len(names) > shown or self.more:
            total = f"{len(names)}+" if self.more else str(len(names))
            text += f", … ({total} distinct)"
        return text


def suggestion(wanted: Iterable[str], seen: Iterable[str]) -> str:
    """``case differs: attic?`` or ``did you mean sensor_reading?``; empty when nothing is close."""
    candidates = list(seen)
    for value in wanted:
        folded = value.casefold()
        same = [c for c in candidates if c.casefold() == folded and c != value]
        if same:
            return f"case differs: {same[0]}?"
    for value in wanted:
        close = difflib.get_close_matches(value, candidates, n=1, cutoff=0.6)
        if close:
            return f"did you mean {close[0]}?"
    return ""


def describe_seen(wanted: Iterable[str], seen: SeenValues) -> str:
    """``seen: attic, kitchen (case differs: attic?)``, or ``none seen``."""
    if not len(seen):
        return "none seen"
    text = f"seen: {seen.listing()}"
    hint = suggestion(wanted, seen.values)
    return f"{text} ({hint})" if hint else text


def _type(message: dict[str, Any]) -> Any:
    kind = message.get("type")
    return kind if isinstance(kind, str) else None


def _data_field(key: str, as_text: Callable[[Any], str]) -> Callable[[dict[str, Any]], Any]:
    def read(message: dict[str, Any]) -> Any:
        data = message.get("data")
        if not isinstance(data, dict) or key not in data:
            return None
        return as_text(data[key])

    return read


def _location(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


class FilterWatch:
    """Per filter option: the values seen and whether any message matched that option.

    Fed only until the first message passes the whole filter; after that there is
    nothing to explain, so a matching stream pays one boolean check per message.
    """

    def __init__(self, types: Iterable[str], sensors: Iterable[str], locations: Iterable[str]):
        readers = (
            ("--type", frozenset(types), _type),
            ("--sensor", frozenset(sensors), _data_field("sensor_id", str)),
            ("--location", frozenset(locations), _data_field("location", _location)),
        )
        self.options = [
            (flag, wanted, read, SeenValues()) for flag, wanted, read in readers if wanted
        ]
        self.hit = {flag: False for flag, *_ in self.options}
        self.matched = False
        self.messages = 0  # JSON messages looked at
        self.told = False  # the patience note was given

    def observe(self, message: Any) -> None:
        self.messages += 1
        if not isinstance(message, dict):
            return
        for flag, wanted, read, seen in self.options:
            value = read(message)
            if value is None:
                continue
            seen.add(value)
            if value in wanted:
                self.hit[flag] = True

    def report(self) -> str | None:
        """One line on what matched nothing and what was seen; None once anything matched."""
        if self.matched:
            return None
        missed = [opt for opt in self.options if not self.hit[opt[0]]]
        if not missed:  # each option matched some message, never all of them together
            asked = " ".join(f"{flag} {' / '.join(sorted(w))}" for flag, w, _, _ in self.options)
            return f"no message matched {asked} together"
        parts = []
        for flag, wanted, _, seen in missed:
            parts.append(f"no message matched {flag} {' / '.join(sorted(wanted))}")
            parts[-1] += f"; {describe_seen(sorted(wanted), seen)}"
        return "; ".join(parts)
