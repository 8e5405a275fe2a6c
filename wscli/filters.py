"""Selecting messages and fields: ``--type``, ``--sensor``, ``--location``, ``--field``.

Pure functions over decoded envelopes; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MISSING: Any = object()

# A list index: ASCII digits with an optional minus. ``str.isdigit`` also accepts "²"
# and "--1" after lstrip, which int() then refuses with a garbled message.
_INDEX = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class MessageFilter:
    """Repeatable options OR within one option and AND across options, like ``grep -e``."""

    types: frozenset[str] = frozenset()
    sensors: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()

    @classmethod
    def from_options(
        cls, types: Sequence[str], sensors: Sequence[str], locations: Sequence[str]
    ) -> MessageFilter:
        return cls(frozenset(types), frozenset(str(s) for s in sensors), frozenset(locations))

    @property
    def active(self) -> bool:
        return bool(self.types or self.sensors or self.locations)

    def matches(self, message: Any) -> bool:
        if not isinstance(message, dict):
            return False
        if self.types and message.get("type") not in self.types:
            return False
        if not (self.sensors or self.locations):
            return True
        data = message.get("data")
        if not isinstance(data, dict):
            return False
        if self.sensors and str(data.get("sensor_id")) not in self.sensors:
            return False
        return not (self.locations and data.get("location") not in self.locations)


def parse_field_path(path: str) -> tuple[str | int, ...]:
    """``data.value`` or ``data.readings.0`` (jq's ``.data.value`` also accepted)."""
    parts: list[str | int] = []
    for piece in path.strip().lstrip(".").split("."):
        if piece == "":
            raise ValueError(f"empty segment in field path {path!r}")
        parts.append(int(piece) if _INDEX.fullmatch(piece) else piece)
    return tuple(parts)


def get_field(message: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path``, or :data:`MISSING` when any step is absent."""
    value = message
    for step in path:
        if isinstance(step, int) and isinstance(value, list):
            if -len(value) <= step < len(value):
                value = value[step]
                continue
            return MISSING
        if isinstance(value, dict):
            key = str(step)
            if key in value:
                value = value[key]
                continue
        return MISSING
    return value
