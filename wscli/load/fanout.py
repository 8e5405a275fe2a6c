"""The fan-out check: did every user get every broadcast message? Pure values, no I/O.

Within the common window in which all users were connected, every user must have
received the same set of message ids. The window is the intersection of every
user's connected intervals, shrunk by ``grace`` seconds at each end so that a
message in flight when the last user connected (or the first one left) is not
blamed on anyone. The expected set is every id that some user received inside the
window (judged by the earliest arrival of that id, anywhere); a user missed each
expected id it never received, at any time. Wall clocks are compared, so across
machines they must be in sync (NTP), as Locust's own statistics assume.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_GRACE = 1.0


@dataclass
class FanoutResult:
    """How many ids were checked and who missed how many of them."""

    checked: int = 0
    missed: int = 0
    per_user: dict[str, int] = field(default_factory=dict)  # only users that missed some
    window: float = 0.0  # seconds of common window checked
    complete: bool = True  # False when the id budget ran out
    note: str = ""


def intersect(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> list[list[float]]:
    """The intersection of two sorted lists of ``[start, end]`` intervals."""
    out: list[list[float]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append([start, end])
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def common_window(
    intervals: Iterable[Sequence[Sequence[float]]], grace: float, end: float
) -> list[list[float]]:
    """Where every user was connected, shrunk by ``grace``; open ends close at ``end``."""
    window: list[list[float]] | None = None
    for user in intervals:
        closed = sorted([start, min(stop, end)] for start, stop in user)
        window = closed if window is None else intersect(window, closed)
        if not window:
            return []
    shrunk = [[s + grace, e - grace] for s, e in window or []]
    return [w for w in shrunk if w[0] < w[1]]


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def check(
    users: Sequence[Any], *, grace: float = DEFAULT_GRACE, end: float | None = None
) -> FanoutResult:
    """Run the check over user records (``label``, ``intervals``, ``ids``, ``times``).

    Users that never connected are left out (they are reported as connection
    failures); with fewer than two connected users there is nothing to compare.
    """
    connected = [u for u in users if u.intervals]
    if len(connected) < 2:
        return FanoutResult(note="fewer than two users were connected")
    stop = end if end is not None else max(u.intervals[-1][0] for u in connected)
    if not math.isfinite(stop):
        stop = max(t for u in connected for t in (u.times or [0.0]))
    window = common_window((u.intervals for u in connected), grace, stop)
    if not window:
        return FanoutResult(note="the users were never all connected at once")
    first_seen: dict[Any, float] = {}
    for user in connected:
        for value, at in zip(user.ids, user.times, strict=False):
            key = _hashable(value)
            seen = first_seen.get(key)
            if seen is None or at < seen:
                first_seen[key] = at
    if not first_seen:
        return FanoutResult(note="no message carried an id (see --id-field)")
    expected = {key for key, at in first_seen.items() if any(s <= at <= e for s, e in window)}
    result = FanoutResult(checked=len(expected), window=sum(e - s for s, e in window))
    for user in connected:
        got = {_hashable(v) for v in user.ids}
        missed = len(expected - got)
        if missed:
            result.per_user[user.label] = missed
            result.missed += missed
    return result
