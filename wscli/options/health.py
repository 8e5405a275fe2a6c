"""The ``--health`` options, defined once for every command that judges a stream.

``--health`` turns every automatic check on with its default thresholds; any of
the other flags implies it and overrides one threshold. Imported by ``wscli --help``
(the options are part of each command), so the engine itself is imported only when
a config is built.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from wscli.durations import POSITIVE_SECONDS, FiniteFloatRange

if TYPE_CHECKING:
    from wscli.checks.health import HealthConfig

F = TypeVar("F", bound=Callable[..., Any])

# The flags' names, as the command receives them (and load's users, as plain values).
HEALTH_KEYS = (
    "health",
    "expect_sensors",
    "max_staleness",
    "max_skew",
    "max_error_rate",
    "rules_file",
    "source_key",
)


def health_options(*, expect_sensors: bool = True) -> Callable[[F], F]:
    """Add the health flags; the command receives them as one ``health_values`` dict.

    ``expect_sensors=False`` leaves ``--expect-sensors`` out (a command that defines
    its own).
    """
    params = [
        click.option(
            "--health",
            is_flag=True,
            help="Judge the stream, not only each message: every source reporting, fresh,"
            " in order, without duplicates, plausible (staleness 60s, skew 5m by default).",
        ),
        *(
            [
                click.option(
                    "--expect-sensors",
                    metavar="N|ID,ID,...",
                    help="Health: fail unless N sources (or each listed one) report.",
                )
            ]
            if expect_sensors
            else []
        ),
        click.option(
            "--max-staleness",
            type=POSITIVE_SECONDS,
            metavar="DURATION",
            help="Health: fail when a source is silent longer (default 60s).",
        ),
        click.option(
            "--max-skew",
            type=POSITIVE_SECONDS,
            metavar="DURATION",
            help="Health: fail when receive time and data.timestamp differ more (default 5m).",
        ),
        click.option(
            "--max-error-rate",
            type=FiniteFloatRange(0.0, 1.0),
            metavar="P",
            help="Health: fail when the share of error messages is above P.",
        ),
        click.option(
            "--rules",
            "rules_file",
            type=click.Path(dir_okay=False),
            metavar="FILE",
            help="Health: plausibility rules (TOML) over the built-in ones.",
        ),
        click.option(
            "--source-key",
            metavar="PATH",
            help="Health: the field naming a source (default data.sensor_id).",
        ),
    ]

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {key: kwargs.pop(key, None) for key in HEALTH_KEYS}
            return function(*args, health_values=values, **kwargs)

        for param in reversed(params):
            wrapper = param(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate


def health_config(values: dict[str, Any], *, strict: bool = False) -> HealthConfig | None:
    """The run's :class:`~wscli.checks.health.HealthConfig` from the flags' values, or
    ``None`` when health is off (:func:`wscli.checks.health.config_from_values`).

    Raises:
        BadUsage: a bad ``--expect-sensors``, ``--source-key`` or rules file (exit 2).
    """
    from wscli.checks.health import config_from_values

    return config_from_values(values, strict=strict)
