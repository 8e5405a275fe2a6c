"""Durations as users write them: ``30``, ``1.5``, ``500ms``, ``30s``, ``5m``, ``1h``.

The one converter behind every duration option of every command and every
duration in a profile. click's ``FloatRange`` let ``nan`` and ``inf`` through:
``--connect-timeout inf`` failed a healthy server ("timestamp out of range"),
``nan`` became "invalid URL", ``connect --wait nan`` never ended. A duration
here is a finite number, never negative, and for most options more than zero.

Pure (``re``, ``math``, ``click``): imported by option declarations at startup.
"""

from __future__ import annotations

import math
import re
from typing import Any

import click

# Seconds per unit. A plain number is in the option's own unit (seconds, or
# milliseconds for the few ``MS`` options).
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# Past this, timers overflow (threading and sockets take at most ~2**63 ns) and no
# run lasts that long anyway.
LONGEST = 1e9
_DURATION = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_duration(value: Any, *, unit: str = "s", positive: bool = False) -> float:
    """``value`` (a number or text like ``500ms``) as a number of ``unit``.

    Raises:
        ValueError: not a duration, NaN or infinite, negative, or zero when
            ``positive``; the message says which, for one line.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value)
        match = _DURATION.match(text)
        if match is None and text.strip().lstrip("+-").lower() in ("nan", "inf", "infinity"):
            raise ValueError(f"{text!r} is not a finite duration")
        if match is None:
            raise ValueError(f"{text!r} is not a duration like 30, 1.5, 500ms, 30s or 5m")
        suffix = match.group(2).lower()
        if suffix and suffix not in UNITS:
            raise ValueError(f"{text!r}: unknown unit {match.group(2)!r} (use ms, s, m or h)")
        number = float(match.group(1))
        if suffix:
            number = number * UNITS[suffix] / UNITS[unit]
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{value!r} is not a finite duration")
    if number * UNITS[unit] > LONGEST:
        raise ValueError(f"{value!r} is too long (at most {LONGEST:.0f} s, about 31 years)")
    if number < 0:
        raise ValueError(f"{value!r} is negative: a duration is 0 or more")
    if positive and number == 0:
        raise ValueError(f"{value!r} must be more than 0")
    return number


class Duration(click.ParamType):  # type: ignore[type-arg]
    """A click parameter type for :func:`parse_duration`: ``--connect-timeout 500ms``."""

    name = "duration"

    def __init__(self, *, positive: bool = False, unit: str = "s") -> None:
        self.positive = positive
        self.unit = unit

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            return parse_duration(value, unit=self.unit, positive=self.positive)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

    def __repr__(self) -> str:
        return f"Duration(positive={self.positive}, unit={self.unit!r})"


class FiniteFloatRange(click.FloatRange):
    """``FloatRange`` without NaN and infinity, for rates and ratios (``--spawn-rate``)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if isinstance(number, float) and not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


SECONDS = Duration()  # 0 or more: a delay, a backoff, "0 disables"
POSITIVE_SECONDS = Duration(positive=True)  # a timeout, a window
POSITIVE_MS = Duration(positive=True, unit="ms")  # the few options counted in milliseconds
MILLISECONDS = Duration(unit="ms")
